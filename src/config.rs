//! What the command line means once checked: the planning options shared by
//! `render` and `check`, independent of how clap spelled them.

use serde::Serialize;

use crate::dn::{self, Dn};
use crate::error::{Error, Result};
use crate::names;

/// Which SPN name forms to write for each target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SpnForms {
    /// `service/host.domain` and `service/host`, as Set-KCD.ps1 writes them.
    Both,
    /// Only `service/host.domain`.
    Fqdn,
    /// Only `service/host`.
    Short,
}

impl SpnForms {
    pub fn as_str(self) -> &'static str {
        match self {
            SpnForms::Both => "both",
            SpnForms::Fqdn => "fqdn",
            SpnForms::Short => "short",
        }
    }
}

/// Planning options, validated.
#[derive(Debug, Clone, Serialize)]
pub struct Options {
    /// DNS domain for short names, lowercase.
    pub domain: Option<String>,
    /// Container for derived DNs (relative to the domain DN), overriding the
    /// per-type default.
    #[serde(serialize_with = "ser_dn")]
    pub container: Option<Dn>,
    pub spn_forms: SpnForms,
    pub deny_warnings: bool,
}

fn ser_dn<S: serde::Serializer>(dn: &Option<Dn>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match dn {
        Some(d) => s.serialize_some(&d.to_string()),
        None => s.serialize_none(),
    }
}

impl Options {
    pub fn new(
        domain: Option<&str>,
        container: Option<&str>,
        spn_forms: SpnForms,
        deny_warnings: bool,
    ) -> Result<Options> {
        let domain = match domain {
            None => None,
            Some(d) => {
                let d = d.trim().trim_end_matches('.');
                names::check_host(d).map_err(|e| Error::Usage(format!("--domain: {e}")))?;
                if !d.contains('.') {
                    return Err(Error::Usage(format!(
                        "--domain: '{d}' is not a DNS domain name (expected e.g. contoso.com)"
                    )));
                }
                Some(d.to_lowercase())
            }
        };
        let container = match container {
            None => None,
            Some(c) => Some(dn::parse(c).map_err(|e| {
                Error::Usage(format!(
                    "--container: '{}' is not a valid DN: {e}",
                    crate::sanitize::show(c)
                ))
            })?),
        };
        Ok(Options {
            domain,
            container,
            spn_forms,
            deny_warnings,
        })
    }
}
