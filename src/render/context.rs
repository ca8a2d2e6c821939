//! The data every template sees. Built once from the plan; the same context
//! renders every artifact, so they cannot disagree.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Serde, Value};
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

/// Everything the templates see. The plan is shared, not copied: the
/// lists of principals and warnings reach the templates as lazy sequences
/// that convert one item at a time, so rendering a forest-sized plan does
/// not hold a second copy of it.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub schema_version: u32,
    pub version: &'static str,
    pub input: InputInfo,
    pub options: &'a Options,
    pub plan: Arc<Plan>,
    pub totals: Totals,
    /// SHA-256 of the artifacts rendered before the summary.
    pub artifacts: Vec<ArtifactInfo>,
    /// Template names overridden by `--templates`.
    pub overridden_templates: Vec<String>,
    /// The export planned against (`--current`).
    pub current: Option<crate::export::ExportInfo>,
}

impl<'a> Context<'a> {
    pub fn new(source: &Source, options: &'a Options, plan: &Arc<Plan>) -> Context<'a> {
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
            plan: plan.clone(),
            totals,
            artifacts: Vec::new(),
            overridden_templates: Vec::new(),
            current: None,
        }
    }

    /// The template context: `schema_version`, `version`, `input`,
    /// `options`, `principals`, `protocol_principals`, `warnings`, `totals`,
    /// `artifacts`, `overridden_templates`.
    pub fn value(&self) -> Value {
        let protocol: Vec<usize> = self
            .plan
            .principals
            .iter()
            .enumerate()
            .filter(|(_, p)| p.protocol.is_some())
            .map(|(i, _)| i)
            .collect();
        let mut m: BTreeMap<&str, Value> = BTreeMap::new();
        m.insert("schema_version", Value::from(self.schema_version));
        m.insert("version", Value::from(self.version));
        m.insert("input", Value::from(Serde(&self.input)));
        m.insert("options", Value::from(Serde(self.options)));
        m.insert(
            "principals",
            Value::from_object(Principals {
                plan: self.plan.clone(),
                only: None,
            }),
        );
        m.insert(
            "protocol_principals",
            Value::from_object(Principals {
                plan: self.plan.clone(),
                only: Some(protocol),
            }),
        );
        m.insert(
            "warnings",
            Value::from_object(Warnings {
                plan: self.plan.clone(),
            }),
        );
        m.insert("totals", Value::from(Serde(&self.totals)));
        let current = self.current.as_ref().map(|c| crate::export::ExportInfo {
            name: file_name(&c.name),
            ..c.clone()
        });
        m.insert("current", Value::from(Serde(&current)));
        let changed = self
            .plan
            .principals
            .iter()
            .filter(|p| p.delta.as_ref().is_none_or(|d| d.changes))
            .count();
        m.insert("changed_principals", Value::from(changed));
        m.insert("artifacts", Value::from(Serde(&self.artifacts)));
        m.insert(
            "overridden_templates",
            Value::from(Serde(&self.overridden_templates)),
        );
        Value::from(m)
    }
}

/// The plan's principals (or a subset, by index) as a lazy sequence.
#[derive(Debug)]
struct Principals {
    plan: Arc<Plan>,
    only: Option<Vec<usize>>,
}

impl Object for Principals {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = key.as_usize()?;
        let i = match &self.only {
            Some(only) => *only.get(i)?,
            None => i,
        };
        let p: &PrincipalPlan = self.plan.principals.get(i)?;
        Some(Value::from(Serde(p)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(match &self.only {
            Some(only) => only.len(),
            None => self.plan.principals.len(),
        })
    }
}

/// The plan's warnings as a lazy sequence.
#[derive(Debug)]
struct Warnings {
    plan: Arc<Plan>,
}

impl Object for Warnings {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let w: &Warning = self.plan.warnings.get(key.as_usize()?)?;
        Some(Value::from(Serde(w)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.plan.warnings.len())
    }
}

/// The last path component: output must not depend on where the input was.
pub fn file_name(name: &str) -> String {
    name.rsplit(['/', '\\']).next().unwrap_or(name).to_string()
}
