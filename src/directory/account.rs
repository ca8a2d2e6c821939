//! One account of an export, as the plan and the audit read it.

use super::descriptor;
use crate::dn;
use crate::error::{Error, Location, Problem, Result};
use crate::ldif::reader::{AttrValue, Entry};
use crate::model::uac;
use crate::names;
use crate::sanitize::echo;

/// One account of the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub line: u64,
    pub dn: String,
    /// The DN as AD compares it ([`dn::Dn::key`]).
    pub dn_key: String,
    /// The domain the DN lies in (folded; empty for a DN that does not
    /// parse).
    pub domain: String,
    /// `None` only for a record without one, which the audit reads by DN
    /// (planning never keeps such a record).
    pub sam: Option<String>,
    pub dns_host_name: Option<String>,
    /// `None`: the export does not say.
    pub uac: Option<u32>,
    pub sid: Option<String>,
    /// How many servicePrincipalName values the account holds.
    pub spns: usize,
    pub delegate_to: Vec<String>,
    /// The DACL of msDS-AllowedToActOnBehalfOfOtherIdentity: who may
    /// delegate to this account (resource-based), every ACE as written.
    pub rbcd: Vec<descriptor::Ace>,
    /// The whole descriptor (owner, group, SACL noted) and the value as
    /// exported, when the attribute is set: what a plan merges into and
    /// guards with.
    pub rbcd_descriptor: Option<(descriptor::Descriptor, AttrValue<'static>)>,
    pub primary_group_id: Option<u32>,
    /// adminCount=1: a member, now or once, of a protected group.
    pub admin_count: bool,
}

impl Account {
    /// The account an export entry describes (`None` without sAMAccountName).
    pub fn from_entry(file: &str, e: &Entry) -> Result<Option<Account>> {
        if e.text("samaccountname").is_none() {
            return Ok(None);
        }
        Account::read(file, e).map(Some)
    }

    /// The account an export entry describes, with or without a
    /// sAMAccountName.
    pub fn read(file: &str, e: &Entry) -> Result<Account> {
        let sam = e.text("samaccountname");
        let bad = |what: String| Error::input(Problem::new(Location::line(file, e.line), what));
        let uac = match e.text("useraccountcontrol") {
            None => None,
            Some(_) => Some(uac_of(file, e)?),
        };
        let (dn_key, domain) = match dn::parse(&e.dn) {
            Ok(d) => (d.key(), d.domain().unwrap_or_default()),
            Err(_) => (names::fold(&e.dn).into_owned(), String::new()),
        };
        let sid = match e.values("objectsid").next() {
            None => None,
            Some(v) => Some(
                descriptor::sid(v)
                    .ok_or_else(|| bad(format!("{}: objectSid is not a SID", echo(&e.dn))))?,
            ),
        };
        let mut rbcd = Vec::new();
        let mut rbcd_descriptor = None;
        // The account's domain: the SID its own SID is relative to.
        let domain_sid = (sid.as_deref())
            .filter(|s| descriptor::domain_rid(s).is_some())
            .and_then(|s| s.rsplit_once('-'))
            .map(|(d, _)| d);
        for v in e.values("msds-allowedtoactonbehalfofotheridentity") {
            let mut d = descriptor::parse(v).map_err(|m| {
                bad(format!(
                    "{}: msDS-AllowedToActOnBehalfOfOtherIdentity: {m}",
                    echo(&e.dn)
                ))
            })?;
            for sid in (d.dacl.iter_mut().map(|a| &mut a.sid))
                .chain(d.owner.as_mut())
                .chain(d.group.as_mut())
            {
                *sid = descriptor::resolve(sid, domain_sid);
            }
            rbcd.extend(d.dacl.iter().cloned());
            rbcd_descriptor = Some((d, v.clone().into_owned()));
        }
        Ok(Account {
            line: e.line,
            dn: e.dn.to_string(),
            dn_key,
            domain,
            sam: sam.map(str::to_string),
            dns_host_name: e.text("dnshostname").map(str::to_string),
            uac,
            sid,
            delegate_to: e
                .texts("msds-allowedtodelegateto")
                .map(str::to_string)
                .collect(),
            rbcd,
            rbcd_descriptor,
            spns: e.values("serviceprincipalname").count(),
            primary_group_id: primary_group_of(e),
            admin_count: e.text("admincount").is_some_and(|t| t.trim() == "1"),
        })
    }

    /// The sAMAccountName ("" for a record without one).
    pub fn sam(&self) -> &str {
        self.sam.as_deref().unwrap_or("")
    }

    /// Whether the account is a domain controller (read-only ones too).
    pub fn is_dc(&self) -> bool {
        uac::is_dc(self.uac.unwrap_or(0), self.primary_group_id)
    }

    /// The SIDs the resource-based descriptor lets delegate, in order.
    pub fn rbcd_allowed(&self) -> Vec<String> {
        descriptor::allowed(&self.rbcd)
    }

    /// Whether "use any authentication protocol" is on (unknown: off).
    pub fn protocol_transition(&self) -> bool {
        self.uac.unwrap_or(0) & uac::TRUSTED_TO_AUTH_FOR_DELEGATION != 0
    }
}

/// An entry's primaryGroupID, when it has one that reads as a number.
pub fn primary_group_of(e: &Entry) -> Option<u32> {
    e.text("primarygroupid").and_then(|t| t.trim().parse().ok())
}

/// An entry's userAccountControl (0 when it has none).
pub fn uac_of(file: &str, e: &Entry) -> Result<u32> {
    let Some(t) = e.text("useraccountcontrol") else {
        return Ok(0);
    };
    uac::parse(t).ok_or_else(|| {
        Error::input(Problem::new(
            Location::line(file, e.line),
            format!(
                "{}: userAccountControl '{}' is not a number",
                echo(&e.dn),
                echo(t)
            ),
        ))
    })
}
