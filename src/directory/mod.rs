//! The directory as an export shows it: accounts with their delegation
//! settings, SIDs and security descriptors decoded, host names indexed.
//! Loaded in one streaming pass over the export, keeping only what the
//! plan or the audit needs.

pub mod account;
pub mod descriptor;

use hashbrown::{HashMap, HashSet};
use std::path::Path;

pub use account::Account;

use crate::error::Result;
use crate::ldif::reader::{self, Entry};
use crate::model::{uac, ExportInfo};
use crate::names;

/// What the plan asks of the export: every key is folded
/// ([`crate::names::fold`]).
#[derive(Debug, Default)]
pub struct Wanted {
    /// Each principal's (domain, sAMAccountName).
    pub accounts: HashSet<(String, String)>,
    /// Their sAMAccountNames alone: records of other names are passed
    /// over before their DN is parsed.
    pub sams: HashSet<String>,
    /// The DN keys ([`crate::dn::Dn::key`]) of principals the CSV gives a
    /// DN for, and the values of their first RDNs (a cheap first look).
    pub dns: HashSet<String>,
    pub first_rdns: HashSet<String>,
    /// Computer FQDNs, looked up by dNSHostName.
    pub hosts: HashSet<String>,
    /// Hosts the plan delegates to (as written in the values): the only
    /// host names worth keeping from the export.
    pub targets: HashSet<String>,
    /// Whether to name every SID of the export (a plan with resource-based
    /// delegation names the principals its descriptors allow).
    pub sid_names: bool,
}

/// The part of the directory a plan touches, plus every host name.
#[derive(Debug)]
pub struct Snapshot {
    pub info: ExportInfo,
    pub accounts: Vec<Account>,
    by_account: HashMap<(String, String), Vec<usize>>,
    by_dn: HashMap<String, Vec<usize>>,
    by_host: HashMap<String, Vec<usize>>,
    /// Folded host names (FQDN and first label) from dNSHostName and
    /// every servicePrincipalName, among the plan's target hosts.
    pub hosts: HashSet<String>,
    /// The same names, of domain controllers only.
    pub dc_hosts: HashSet<String>,
    /// SID -> sAMAccountName of every record ([`Wanted::sid_names`]).
    pub sid_names: HashMap<String, String>,
}

impl Snapshot {
    /// Reads the export once, keeping the wanted accounts.
    pub fn load(path: &Path, wanted: &Wanted) -> Result<Snapshot> {
        let file = path.display().to_string();
        let mut accounts = Vec::new();
        let mut hosts = HashSet::new();
        let mut dc_hosts = HashSet::new();
        let mut sid_names = HashMap::new();
        let info = reader::read(path, |e| {
            if wanted.sid_names {
                let sid = e.values("objectsid").next().and_then(descriptor::sid);
                if let (Some(sid), Some(sam)) = (sid, e.text("samaccountname")) {
                    sid_names.insert(sid, sam.to_string());
                }
            }
            index_hosts(&mut hosts, &e, Some(&wanted.targets));
            if is_dc_entry(&e) {
                index_hosts(&mut dc_hosts, &e, Some(&wanted.targets));
            }
            let sam = e.text("samaccountname").map(names::fold);
            let host = e.text("dnshostname").map(names::fold);
            let maybe = sam
                .as_ref()
                .is_some_and(|s| wanted.sams.contains(s.as_ref()))
                || host
                    .as_ref()
                    .is_some_and(|h| wanted.hosts.contains(h.as_ref()))
                || match first_rdn_value(&e.dn) {
                    Some(v) => wanted.first_rdns.contains(&v),
                    // Escaped: only the parsed DN can tell.
                    None => !wanted.dns.is_empty(),
                };
            if !maybe {
                return Ok(());
            }
            let Some(a) = Account::from_entry(&file, &e)? else {
                return Ok(());
            };
            let keep = wanted
                .accounts
                .contains(&(a.domain.clone(), names::fold(a.sam()).into_owned()))
                || host.is_some_and(|h| wanted.hosts.contains(h.as_ref()))
                || wanted.dns.contains(&a.dn_key);
            if keep {
                accounts.push(a);
            }
            Ok(())
        })?;
        let mut snap = Snapshot {
            info,
            accounts,
            by_account: HashMap::new(),
            by_dn: HashMap::new(),
            by_host: HashMap::new(),
            hosts,
            dc_hosts,
            sid_names,
        };
        for (i, a) in snap.accounts.iter().enumerate() {
            let sam = names::fold(a.sam()).into_owned();
            snap.by_account
                .entry((a.domain.clone(), sam))
                .or_default()
                .push(i);
            snap.by_dn.entry(a.dn_key.clone()).or_default().push(i);
            if let Some(h) = &a.dns_host_name {
                snap.by_host
                    .entry(names::fold(h).into_owned())
                    .or_default()
                    .push(i);
            }
        }
        Ok(snap)
    }

    /// The accounts with this DN key.
    pub fn by_dn(&self, key: &str) -> Vec<&Account> {
        self.all(self.by_dn.get(key))
    }

    /// The accounts of `domain` with this sAMAccountName.
    pub fn by_account(&self, domain: &str, sam: &str) -> Vec<&Account> {
        let key = (domain.to_string(), names::fold(sam).into_owned());
        self.all(self.by_account.get(&key))
    }

    /// The accounts with this dNSHostName.
    pub fn by_host(&self, fqdn: &str) -> Vec<&Account> {
        self.all(self.by_host.get(names::fold(fqdn).as_ref()))
    }

    fn all(&self, found: Option<&Vec<usize>>) -> Vec<&Account> {
        found.map_or_else(Vec::new, |v| v.iter().map(|&i| &self.accounts[i]).collect())
    }

    pub fn host_exists(&self, host: &str) -> bool {
        self.hosts.contains(names::fold(host).as_ref())
    }

    /// Whether `host` names a domain controller of the export.
    pub fn is_dc_host(&self, host: &str) -> bool {
        self.dc_hosts.contains(names::fold(host).as_ref())
    }
}

/// Whether an export entry is a domain controller's account (its flags or
/// its primary group say so).
pub fn is_dc_entry(e: &Entry) -> bool {
    let flags = e.text("useraccountcontrol").and_then(uac::parse);
    uac::is_dc(flags.unwrap_or(0), account::primary_group_of(e))
}

/// The value of a DN's first RDN as written, folded; `None` when it holds
/// escapes or several values (then only the parsed DN can tell). For a
/// quick look at each record of an export, before parsing any DN.
pub fn first_rdn_value(dn: &str) -> Option<String> {
    let (_, rest) = dn.split_once('=')?;
    let end = rest.find([',', '+', '\\']).unwrap_or(rest.len());
    match rest.as_bytes().get(end) {
        Some(b'\\') | Some(b'+') => None,
        _ => Some(names::fold(rest[..end].trim()).into_owned()),
    }
}

/// Adds an entry's host names (dNSHostName and every SPN host, each as FQDN
/// and first label, lowercase) to `hosts`; with `only`, just those in it.
pub fn index_hosts(hosts: &mut HashSet<String>, e: &Entry, only: Option<&HashSet<String>>) {
    // Most hosts are already known (a computer's DNS name and SPNs name
    // the same host): look up before allocating.
    let mut keep = |h: &str| {
        if only.is_none_or(|o| o.contains(h)) && !hosts.contains(h) {
            hosts.insert(h.to_string());
        }
    };
    let mut add = |h: &str| {
        let h = names::fold(h);
        if let Some((short, _)) = h.split_once('.') {
            keep(short);
        }
        keep(&h);
    };
    if let Some(d) = e.text("dnshostname") {
        add(d);
    }
    for spn in e.texts("serviceprincipalname") {
        if let Some(h) = spn_host(spn) {
            add(h);
        }
    }
}

/// The host of an SPN `service/host[:port][/name]`.
pub fn spn_host(spn: &str) -> Option<&str> {
    let rest = spn.split_once('/')?.1;
    let host = rest.split('/').next()?;
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spn_hosts() {
        assert_eq!(
            spn_host("MSSQLSvc/sql1.contoso.com:1433"),
            Some("sql1.contoso.com")
        );
        assert_eq!(
            spn_host("HOST/DC1.contoso.com/contoso.com"),
            Some("DC1.contoso.com")
        );
        assert_eq!(spn_host("nonsense"), None);
    }
}
