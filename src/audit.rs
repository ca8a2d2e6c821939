//! The offline delegation audit, as data: every delegation an export
//! shows, riskiest first. Unconstrained delegation on accounts that are
//! not domain controllers, constrained delegation with protocol
//! transition, then Kerberos-only, then resource-based (allowed principals
//! named from the export), then accounts marked sensitive.

use hashbrown::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use crate::directory::{self, descriptor, Account};
use crate::error::Result;
use crate::ldif::reader;
use crate::model::{uac, ExportInfo};

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

#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub sid: String,
    pub sam_account_name: Option<String>,
    pub dn: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub sam_account_name: String,
    pub dn: String,
    pub user_account_control: u32,
    /// Constrained: the msDS-AllowedToDelegateTo values.
    pub targets: Vec<Target>,
    /// Resource-based: who may delegate to this account.
    pub allowed_principals: Vec<Principal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub schema_version: u32,
    pub export: ExportInfo,
    pub findings: Vec<Finding>,
}

/// Reads the export once and audits it.
pub fn audit(path: &Path) -> Result<Audit> {
    let file = path.display().to_string();
    let mut flagged: Vec<Account> = Vec::new();
    let mut names: HashMap<String, (String, String)> = HashMap::new();
    let mut hosts: HashSet<String> = HashSet::new();
    let info = reader::read(path, |e| {
        directory::index_hosts(&mut hosts, &e, None);
        let has_rbcd = e
            .values("msds-allowedtoactonbehalfofotheridentity")
            .next()
            .is_some();
        let has_kcd = e.values("msds-allowedtodelegateto").next().is_some();
        let uac_flags = directory::account::uac_of(&file, &e)?;
        let interesting = has_rbcd
            || has_kcd
            || uac_flags
                & (uac::TRUSTED_FOR_DELEGATION
                    | uac::NOT_DELEGATED
                    | uac::TRUSTED_TO_AUTH_FOR_DELEGATION)
                != 0;
        // Every SID, to name RBCD principals.
        if let (Some(sid), Some(sam)) = (e.values("objectsid").next(), e.text("samaccountname")) {
            if let Some(sid) = descriptor::sid(sid) {
                names.insert(sid, (sam.to_string(), e.dn.to_string()));
            }
        }
        if interesting {
            if let Some(a) = Account::from_entry(&file, &e)? {
                flagged.push(a);
            }
        }
        Ok(())
    })?;
    let mut findings = Vec::new();
    for a in &flagged {
        let uac = a.uac.unwrap_or(0);
        let base = |kind| Finding {
            kind,
            sam_account_name: a.sam.clone(),
            dn: a.dn.clone(),
            user_account_control: uac,
            targets: Vec::new(),
            allowed_principals: Vec::new(),
        };
        if uac & uac::TRUSTED_FOR_DELEGATION != 0 && uac & uac::SERVER_TRUST_ACCOUNT == 0 {
            findings.push(base(Kind::Unconstrained));
        }
        if !a.delegate_to.is_empty() || a.protocol_transition() {
            let kind = if a.protocol_transition() {
                Kind::ConstrainedAnyProtocol
            } else {
                Kind::ConstrainedKerberosOnly
            };
            let mut f = base(kind);
            f.targets = a
                .delegate_to
                .iter()
                .map(|spn| Target {
                    spn: spn.clone(),
                    host_found: directory::spn_host(spn)
                        .is_some_and(|h| hosts.contains(&h.to_lowercase())),
                })
                .collect();
            findings.push(f);
        }
        if !a.rbcd.is_empty() {
            let mut f = base(Kind::ResourceBased);
            f.allowed_principals = a
                .rbcd_allowed()
                .iter()
                .map(|sid| Principal {
                    sid: sid.clone(),
                    sam_account_name: names.get(sid).map(|n| n.0.clone()),
                    dn: names.get(sid).map(|n| n.1.clone()),
                })
                .collect();
            findings.push(f);
        }
        if uac & uac::NOT_DELEGATED != 0 {
            findings.push(base(Kind::Sensitive));
        }
    }
    findings.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then_with(|| a.dn.to_lowercase().cmp(&b.dn.to_lowercase()))
    });
    Ok(Audit {
        schema_version: 1,
        export: ExportInfo {
            file: info.file.base_name(),
            ..info
        },
        findings,
    })
}
