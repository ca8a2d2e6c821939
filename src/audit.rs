//! The offline delegation audit, as data: every delegation an export
//! shows, and the findings of the risk rules ([`crate::rules`]) on them,
//! riskiest first. Records without a sAMAccountName are audited too, by
//! their DN.

use hashbrown::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use crate::directory::{self, descriptor, Account};
use crate::error::{Error, Location, Problem, Result};
use crate::ldif::reader;
use crate::model::{uac, ExportInfo};
use crate::names;
use crate::rules::{Rule, Severity};

/// Version of the audit's JSON layout; bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Unconstrained,
    ConstrainedAnyProtocol,
    ConstrainedKerberosOnly,
    ResourceBased,
    Sensitive,
}

impl Kind {
    pub fn title(self) -> &'static str {
        match self {
            Kind::Unconstrained => "unconstrained delegation",
            Kind::ConstrainedAnyProtocol => "constrained delegation, any authentication protocol",
            Kind::ConstrainedKerberosOnly => "constrained delegation, Kerberos only",
            Kind::ResourceBased => "resource-based constrained delegation",
            Kind::Sensitive => "sensitive, cannot be delegated",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub spn: String,
    /// Whether the target host is a dNSHostName or SPN host in the export.
    pub host_found: bool,
}

/// One ACE of a resource-based descriptor, as written, with who it names.
#[derive(Debug, Clone, Serialize)]
pub struct Ace {
    /// `allowed`, `denied`, `allowed-object`, `allowed-callback`...
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub flags: u8,
    /// The access mask, as `0x` and eight hex digits.
    pub mask: String,
    pub sid: String,
    /// The account of the export with this SID, or the SID's well-known
    /// name; `None` when neither is known.
    pub name: Option<String>,
    pub dn: Option<String>,
    /// Whether this ACE lets the SID act for users toward the account (an
    /// allow ACE that applies to the object, not overruled by an earlier
    /// deny).
    pub allows: bool,
}

/// One delegation setting of one account.
#[derive(Debug, Clone, Serialize)]
pub struct Delegation {
    pub kind: Kind,
    /// `None` for a record without one (then the DN names it).
    pub sam_account_name: Option<String>,
    pub dn: String,
    pub user_account_control: u32,
    /// Constrained: the msDS-AllowedToDelegateTo values.
    pub targets: Vec<Target>,
    /// Resource-based: every ACE of the descriptor.
    pub aces: Vec<Ace>,
    /// The highest severity of the account's findings.
    pub severity: Option<Severity>,
    /// The rules the account's findings are of.
    pub rules: Vec<Rule>,
}

/// A rule the export breaks, for one account.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// The sAMAccountName, or the DN for a record without one.
    pub account: String,
    pub dn: String,
    /// The export's line where the record starts.
    pub line: u64,
    /// What was found.
    pub detail: String,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub schema_version: u32,
    pub export: ExportInfo,
    pub findings: Vec<Finding>,
    pub delegations: Vec<Delegation>,
}

impl Audit {
    /// How many findings are of this severity or higher.
    pub fn at_least(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity >= severity)
            .count()
    }
}

/// What the audit keeps of the whole export besides the flagged accounts.
#[derive(Default)]
struct Directory {
    /// SID -> (sAMAccountName or DN, DN).
    names: HashMap<String, (String, String)>,
    /// Every host name, and those of domain controllers.
    hosts: HashSet<String>,
    dc_hosts: HashSet<String>,
}

/// Reads the export once and audits it.
pub fn audit(path: &Path) -> Result<Audit> {
    let file = path.display().to_string();
    let mut flagged: Vec<Account> = Vec::new();
    let mut dir = Directory::default();
    let mut accounts = 0usize;
    let info = reader::read(path, |e| {
        directory::index_hosts(&mut dir.hosts, &e, None);
        if directory::is_dc_entry(&e) {
            directory::index_hosts(&mut dir.dc_hosts, &e, None);
        }
        let is_account = e.text("samaccountname").is_some()
            || e.text("useraccountcontrol").is_some()
            || e.values("objectsid").next().is_some();
        if !is_account {
            return Ok(());
        }
        accounts += 1;
        let has_rbcd = e
            .values("msds-allowedtoactonbehalfofotheridentity")
            .next()
            .is_some();
        let has_kcd = e.values("msds-allowedtodelegateto").next().is_some();
        let flags = directory::account::uac_of(&file, &e)?;
        let admin = e.text("admincount").is_some_and(|t| t.trim() == "1");
        let interesting = has_rbcd
            || has_kcd
            || admin
            || flags
                & (uac::TRUSTED_FOR_DELEGATION
                    | uac::NOT_DELEGATED
                    | uac::TRUSTED_TO_AUTH_FOR_DELEGATION)
                != 0;
        // Every SID, to name RBCD principals.
        if let Some(sid) = e.values("objectsid").next().and_then(descriptor::sid) {
            let name = e.text("samaccountname").unwrap_or(&e.dn).to_string();
            dir.names.insert(sid, (name, e.dn.to_string()));
        }
        if interesting {
            flagged.push(Account::read(&file, &e)?);
        }
        Ok(())
    })?;
    if accounts == 0 {
        return Err(Error::input(Problem::new(
            Location::file(&file),
            format!(
                "the export holds no account ({} record(s), none with sAMAccountName, userAccountControl or objectSid): nothing to audit; export the accounts (see kcdplan export-script)",
                info.records
            ),
        )));
    }
    let mut findings = Vec::new();
    let mut delegations = Vec::new();
    for a in &flagged {
        let mut own = Vec::new();
        rules(a, &dir, &mut |rule, detail| {
            own.push(Finding {
                rule,
                severity: rule.severity(),
                account: a.sam.clone().unwrap_or_else(|| a.dn.clone()),
                dn: a.dn.clone(),
                line: a.line,
                detail,
                reason: rule.info().reason,
            })
        });
        let severity = own.iter().map(|f| f.severity).max();
        let mut ids: Vec<Rule> = own.iter().map(|f| f.rule).collect();
        ids.sort();
        ids.dedup();
        for kind in kinds(a) {
            delegations.push(Delegation {
                kind,
                sam_account_name: a.sam.clone(),
                dn: a.dn.clone(),
                user_account_control: a.uac.unwrap_or(0),
                targets: match kind {
                    Kind::ConstrainedAnyProtocol | Kind::ConstrainedKerberosOnly => {
                        targets(a, &dir)
                    }
                    _ => Vec::new(),
                },
                aces: match kind {
                    Kind::ResourceBased => aces(a, &dir),
                    _ => Vec::new(),
                },
                severity,
                rules: ids.clone(),
            });
        }
        findings.extend(own);
    }
    findings.sort_by(|a, b| {
        (b.severity.cmp(&a.severity))
            .then(a.rule.cmp(&b.rule))
            .then_with(|| a.dn.to_lowercase().cmp(&b.dn.to_lowercase()))
            .then(a.line.cmp(&b.line))
    });
    delegations.sort_by(|a, b| {
        (b.severity.cmp(&a.severity))
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.dn.to_lowercase().cmp(&b.dn.to_lowercase()))
    });
    Ok(Audit {
        schema_version: SCHEMA_VERSION,
        export: ExportInfo {
            file: info.file.base_name(),
            ..info
        },
        findings,
        delegations,
    })
}

/// The kinds of delegation an account shows.
fn kinds(a: &Account) -> Vec<Kind> {
    let flags = a.uac.unwrap_or(0);
    let mut out = Vec::new();
    if flags & uac::TRUSTED_FOR_DELEGATION != 0 && !a.is_dc() {
        out.push(Kind::Unconstrained);
    }
    if !a.delegate_to.is_empty() || a.protocol_transition() {
        out.push(if a.protocol_transition() {
            Kind::ConstrainedAnyProtocol
        } else {
            Kind::ConstrainedKerberosOnly
        });
    }
    if !a.rbcd.is_empty() {
        out.push(Kind::ResourceBased);
    }
    if flags & uac::NOT_DELEGATED != 0 {
        out.push(Kind::Sensitive);
    }
    out
}

fn targets(a: &Account, dir: &Directory) -> Vec<Target> {
    (a.delegate_to.iter())
        .map(|spn| Target {
            spn: spn.clone(),
            host_found: directory::spn_host(spn)
                .is_some_and(|h| dir.hosts.contains(names::fold(h).as_ref())),
        })
        .collect()
}

fn aces(a: &Account, dir: &Directory) -> Vec<Ace> {
    let allowed = a.rbcd_allowed();
    (a.rbcd.iter())
        .map(|ace| {
            let known = dir.names.get(&ace.sid);
            Ace {
                kind: descriptor::kind_name(ace.kind),
                flags: ace.flags,
                mask: format!("0x{:08X}", ace.mask),
                sid: ace.sid.clone(),
                name: known
                    .map(|k| k.0.clone())
                    .or_else(|| descriptor::well_known(&ace.sid).map(str::to_string)),
                dn: known.map(|k| k.1.clone()),
                allows: descriptor::ALLOW_KINDS.contains(&ace.kind)
                    && ace.flags & descriptor::INHERIT_ONLY == 0
                    && allowed.contains(&ace.sid),
            }
        })
        .collect()
}

/// Up to three values, quoted, and how many more.
fn some(values: &[&str]) -> String {
    let mut s: Vec<String> = values.iter().take(3).map(|v| format!("'{v}'")).collect();
    if values.len() > 3 {
        s.push(format!("and {} more", values.len() - 3));
    }
    s.join(", ")
}

/// The rules one account breaks.
fn rules(a: &Account, dir: &Directory, add: &mut dyn FnMut(Rule, String)) {
    let flags = a.uac.unwrap_or(0);
    let is_dc = a.is_dc();
    let disabled = flags & uac::ACCOUNTDISABLE != 0;
    let unconstrained = flags & uac::TRUSTED_FOR_DELEGATION != 0 && !is_dc;
    let transition = a.protocol_transition();
    let is_krbtgt = a
        .sam
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("krbtgt"))
        || a.sid.as_deref().and_then(descriptor::domain_rid) == Some(502);
    if unconstrained {
        add(
            Rule::Kcd001,
            format!("userAccountControl {flags} has TRUSTED_FOR_DELEGATION"),
        );
    }
    fn host_of(v: &str) -> Option<std::borrow::Cow<'_, str>> {
        directory::spn_host(v).map(names::fold)
    }
    let to_dc: Vec<&str> = (a.delegate_to.iter())
        .filter(|v| host_of(v).is_some_and(|h| dir.dc_hosts.contains(h.as_ref())))
        .map(String::as_str)
        .collect();
    if !to_dc.is_empty() {
        add(
            Rule::Kcd002,
            format!(
                "delegation to a domain controller{}: {}",
                if transition {
                    ", with protocol transition"
                } else {
                    ""
                },
                some(&to_dc)
            ),
        );
    }
    let class_is = |v: &str, c: &str| {
        v.split_once('/')
            .is_some_and(|(x, _)| x.eq_ignore_ascii_case(c))
    };
    let krbtgt: Vec<&str> = (a.delegate_to.iter())
        .filter(|v| {
            class_is(v, "krbtgt")
                || host_of(v).is_some_and(|h| h.split('.').next() == Some("krbtgt"))
        })
        .map(String::as_str)
        .collect();
    if !krbtgt.is_empty() {
        add(
            Rule::Kcd003,
            format!("delegation to krbtgt: {}", some(&krbtgt)),
        );
    }
    let allowed = a.rbcd_allowed();
    if is_krbtgt && !a.rbcd.is_empty() {
        add(
            Rule::Kcd003,
            format!(
                "resource-based delegation on the krbtgt account ({} principal(s) allowed)",
                allowed.len()
            ),
        );
    }
    if is_dc && !a.rbcd.is_empty() {
        add(
            Rule::Kcd004,
            format!(
                "resource-based delegation on a domain controller ({} principal(s) allowed)",
                allowed.len()
            ),
        );
    }
    let broad: Vec<String> = (allowed.iter())
        .filter(|s| descriptor::is_broad(s))
        .map(|s| match descriptor::well_known(s) {
            Some(n) => format!("{n} ({s})"),
            None => s.clone(),
        })
        .collect();
    if !broad.is_empty() {
        add(
            Rule::Kcd005,
            format!("resource-based delegation allowed to {}", broad.join(", ")),
        );
    }
    if transition {
        add(
            Rule::Kcd006,
            format!(
                "protocol transition (userAccountControl {flags} has TRUSTED_TO_AUTH_FOR_DELEGATION), {} target(s)",
                a.delegate_to.len()
            ),
        );
        if flags & uac::NORMAL_ACCOUNT != 0 {
            add(
                Rule::Kcd007,
                "protocol transition on a user account".to_string(),
            );
        }
        if a.delegate_to.is_empty() {
            add(
                Rule::Kcd008,
                "protocol transition with no msDS-AllowedToDelegateTo value".to_string(),
            );
        }
    }
    let host: Vec<&str> = (a.delegate_to.iter())
        .filter(|v| class_is(v, "host"))
        .map(String::as_str)
        .collect();
    if !host.is_empty() {
        add(
            Rule::Kcd009,
            format!("the host service class: {}", some(&host)),
        );
    }
    // A krbtgt value names a realm, not a host: KCD003 says all there is.
    let hosts: Vec<String> = (a.delegate_to.iter())
        .filter(|v| !class_is(v, "krbtgt"))
        .cloned()
        .collect();
    let missing: Vec<&str> = (hosts.iter())
        .filter(|v| host_of(v).is_some_and(|h| !dir.hosts.contains(h.as_ref())))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        add(
            Rule::Kcd010,
            format!(
                "target host on no account of the export: {}",
                some(&missing)
            ),
        );
    }
    let lone = one_form(&hosts);
    if !lone.is_empty() {
        add(Rule::Kcd011, lone);
    }
    let odd: Vec<String> = (a.rbcd.iter())
        .filter_map(|ace| {
            descriptor::odd(ace).map(|why| {
                format!(
                    "{} for {} ({why})",
                    descriptor::kind_name(ace.kind),
                    ace.sid
                )
            })
        })
        .collect();
    if !odd.is_empty() {
        add(Rule::Kcd012, odd.join("; "));
    }
    if disabled && (unconstrained || transition || !a.delegate_to.is_empty()) {
        add(
            Rule::Kcd013,
            format!("the account is disabled (userAccountControl {flags})"),
        );
    }
    let computer = flags & (uac::WORKSTATION_TRUST_ACCOUNT | uac::SERVER_TRUST_ACCOUNT) != 0;
    if a.admin_count && flags & uac::NOT_DELEGATED == 0 && !disabled && !computer && !is_krbtgt {
        add(
            Rule::Kcd014,
            "adminCount=1 without NOT_DELEGATED (account is sensitive and cannot be delegated)"
                .to_string(),
        );
    }
}

/// The values whose other SPN form (short or fully qualified) is missing,
/// and values that differ only in case; empty when there are none.
fn one_form(values: &[String]) -> String {
    let folded: HashSet<String> = values.iter().map(|v| names::fold(v).into_owned()).collect();
    let mut seen: HashMap<String, &str> = HashMap::new();
    let mut case_twins = Vec::new();
    let mut alone = Vec::new();
    for v in values {
        let key = names::fold(v).into_owned();
        if let Some(first) = seen.get(&key) {
            case_twins.push(format!("'{first}' and '{v}'"));
            continue;
        }
        seen.insert(key.clone(), v);
        let Some((class, rest)) = key.split_once('/') else {
            continue;
        };
        let (host, tail) = rest.split_at(rest.find([':', '/']).unwrap_or(rest.len()));
        let has_other = match host.split_once('.') {
            Some((short, _)) => folded.contains(&format!("{class}/{short}{tail}")),
            None => (folded.iter()).any(|f| {
                f.strip_prefix(&format!("{class}/{host}."))
                    .is_some_and(|r| {
                        r.ends_with(tail) && !r[..r.len() - tail.len()].contains([':', '/'])
                    })
            }),
        };
        if !has_other {
            alone.push(v.as_str());
        }
    }
    let mut parts = Vec::new();
    if !alone.is_empty() {
        parts.push(format!("only one SPN form of {}", some(&alone)));
    }
    if !case_twins.is_empty() {
        parts.push(format!(
            "values that differ only in case: {}",
            case_twins.join(", ")
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_form_finds_lone_values_and_case_twins() {
        let v = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(one_form(&v(&["cifs/fs1.contoso.com", "cifs/fs1"])), "");
        assert_eq!(
            one_form(&v(&[
                "MSSQLSvc/sql1.contoso.com:1433",
                "MSSQLSvc/sql1:1433"
            ])),
            ""
        );
        assert_eq!(
            one_form(&v(&["cifs/fs1.contoso.com", "http/fs1"])),
            "only one SPN form of 'cifs/fs1.contoso.com', 'http/fs1'"
        );
        assert_eq!(
            one_form(&v(&["cifs/fs1.contoso.com", "cifs/fs1", "CIFS/FS1"])),
            "values that differ only in case: 'cifs/fs1' and 'CIFS/FS1'"
        );
    }
}
