//! The data every template sees. Built once from the plan; the same context
//! renders every artifact, so they cannot disagree.

use serde::Serialize;

use crate::config::Options;
use crate::input::Source;
use crate::plan::{Plan, PrincipalPlan, Warning};

/// Version of the plan.json layout; bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    /// File name as given on the command line (`<stdin>` for `-`).
    pub name: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArtifactInfo {
    pub name: String,
    pub sha256: String,
}

/// Counts for headers and summaries.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub principals: usize,
    pub values_added: usize,
    pub values_removed: usize,
    pub values_replaced: usize,
    pub warnings: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Context<'a> {
    pub schema_version: u32,
    pub version: &'static str,
    pub input: InputInfo,
    pub options: &'a Options,
    pub command: String,
    pub principals: &'a [PrincipalPlan],
    pub warnings: &'a [Warning],
    /// Principals whose protocol transition setting changes.
    pub protocol_principals: Vec<&'a PrincipalPlan>,
    /// Principals whose values go in LDIF (all of them: every row has values
    /// or a clearing replace).
    pub totals: Totals,
    /// SHA-256 of the artifacts rendered before the summary.
    pub artifacts: Vec<ArtifactInfo>,
    /// Template names overridden by `--templates`.
    pub overridden_templates: Vec<String>,
}

impl<'a> Context<'a> {
    pub fn new(source: &Source, options: &'a Options, plan: &'a Plan) -> Context<'a> {
        let mut command = format!("kcdplan render {}", shell_word(&source.name));
        if let Some(d) = &options.domain {
            command.push_str(&format!(" --domain {d}"));
        }
        if let Some(c) = &options.container {
            command.push_str(&format!(" --container {}", shell_word(&c.to_string())));
        }
        if options.spn_forms != crate::config::SpnForms::Both {
            command.push_str(&format!(" --spn-forms {}", options.spn_forms.as_str()));
        }
        let totals = Totals {
            principals: plan.principals.len(),
            values_added: plan.principals.iter().map(|p| p.add.len()).sum(),
            values_removed: plan.principals.iter().map(|p| p.remove.len()).sum(),
            values_replaced: plan.principals.iter().map(|p| p.replace.len()).sum(),
            warnings: plan.warnings.len(),
        };
        Context {
            schema_version: SCHEMA_VERSION,
            version: env!("CARGO_PKG_VERSION"),
            input: InputInfo {
                name: file_name(&source.name),
                sha256: source.sha256.clone(),
            },
            options,
            command,
            principals: &plan.principals,
            warnings: &plan.warnings,
            protocol_principals: plan.protocol_principals().collect(),
            totals,
            artifacts: Vec::new(),
            overridden_templates: Vec::new(),
        }
    }

    pub fn value(&self) -> minijinja::Value {
        minijinja::Value::from(minijinja::value::Serde(self))
    }
}

/// The last path component: output must not depend on where the input was.
fn file_name(name: &str) -> String {
    name.rsplit(['/', '\\']).next().unwrap_or(name).to_string()
}

/// Quotes a word for the summary's command line when it needs it.
fn shell_word(s: &str) -> String {
    let s = file_name(s);
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=,".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
