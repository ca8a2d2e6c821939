//! What the command line means once checked: the planning options shared by
//! `render` and `check`, independent of how clap spelled them.

use serde::Serialize;

use crate::cli::{PlanArgs, SpnFormsArg};
use crate::dn::{self, Dn};
use crate::error::{Error, Result};
use crate::model::Keyword;
use crate::names;
use crate::rules::Rule;

/// Which SPN name forms to write for each target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpnForms {
    /// `service/host.domain` and `service/host`, as Set-KCD.ps1 writes them.
    Both,
    /// Only `service/host.domain`.
    Fqdn,
    /// Only `service/host`.
    Short,
}

impl Keyword for SpnForms {
    const WORDS: &'static [(&'static str, SpnForms)] = &[
        ("both", SpnForms::Both),
        ("fqdn", SpnForms::Fqdn),
        ("short", SpnForms::Short),
    ];
}

impl From<SpnFormsArg> for SpnForms {
    fn from(a: SpnFormsArg) -> SpnForms {
        match a {
            SpnFormsArg::Both => SpnForms::Both,
            SpnFormsArg::Fqdn => SpnForms::Fqdn,
            SpnFormsArg::Short => SpnForms::Short,
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
    /// `--accept-risk`, in the order given.
    pub accept_risk: Vec<Acceptance>,
}

/// One `--accept-risk ID[=ACCOUNT]`: findings of the rule (for the account,
/// as the CSV writes it or by its sAMAccountName) are accepted, not errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Acceptance {
    pub rule: Rule,
    pub account: Option<String>,
}

impl Acceptance {
    pub fn parse(text: &str) -> Result<Acceptance> {
        let (id, account) = match text.split_once('=') {
            Some((id, acc)) => (id, Some(acc.trim())),
            None => (text, None),
        };
        let rule = Rule::find(id).ok_or_else(|| {
            Error::Usage(format!(
                "--accept-risk: '{}' is not a rule ID (KCD001 to KCD014, KCD101 to KCD109; see the README's rule table)",
                crate::sanitize::echo(id)
            ))
        })?;
        if account == Some("") {
            return Err(Error::Usage(format!(
                "--accept-risk: '{}' names no account after '='",
                crate::sanitize::echo(text)
            )));
        }
        Ok(Acceptance {
            rule,
            account: account.map(str::to_string),
        })
    }
}

impl std::fmt::Display for Acceptance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.account {
            Some(a) => write!(f, "{}={}", self.rule, crate::sanitize::show(a)),
            None => write!(f, "{}", self.rule),
        }
    }
}

fn ser_dn<S: serde::Serializer>(dn: &Option<Dn>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match dn {
        Some(d) => s.serialize_some(&d.to_string()),
        None => s.serialize_none(),
    }
}

impl Options {
    /// The options `render` and `check` were given.
    pub fn from_args(args: &PlanArgs) -> Result<Options> {
        Options::new(
            args.domain.as_deref(),
            args.container.as_deref(),
            args.spn_forms.into(),
            args.deny_warnings,
        )
        .and_then(|mut o| {
            o.accept_risk = (args.accept_risk.iter())
                .map(|a| Acceptance::parse(a))
                .collect::<Result<_>>()?;
            Ok(o)
        })
    }

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
                    crate::sanitize::echo(c)
                ))
            })?),
        };
        Ok(Options {
            domain,
            container,
            spn_forms,
            deny_warnings,
            accept_risk: Vec::new(),
        })
    }
}
