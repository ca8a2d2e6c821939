//! The data every template sees. Built once from the plan; the same context
//! renders every artifact, so they cannot disagree. The plan is shared, not
//! copied: its principals and warnings reach the templates as lazy views
//! that convert one field at a time, so rendering a forest-sized plan does
//! not hold a second copy of it.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Serde, Value};

use super::report;
use crate::config::Options;
use crate::ldif::reader::AttrValue;
use crate::model::{ExportInfo, FileInfo, Keyword};
use crate::parallel::Gather;
use crate::plan::risks::{self, Transition};
use crate::plan::{Plan, PrincipalPlan, Spn, Spns, Warning};

/// Version of the plan.json layout; bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// Everything the templates see but the list of artifacts.
#[derive(Debug, Clone)]
pub struct Context {
    /// The input, by its base name.
    pub input: FileInfo,
    pub options: Options,
    pub plan: Arc<Plan>,
    /// The export planned against (`--current`), by its base name.
    pub current: Option<ExportInfo>,
    /// Template names overridden by `--templates`.
    pub overridden_templates: Vec<String>,
    /// The order the findings are shown in, worked out once for every
    /// template: risks highest first, lints by line.
    risks: Arc<Vec<(bool, usize)>>,
    lints: Arc<Vec<(bool, usize)>>,
    /// `protocol_transition`, converted once.
    transitions: Value,
    /// `report` (report.html's model), built when a template first asks.
    report: Arc<std::sync::OnceLock<Value>>,
}

impl Context {
    pub fn new(
        input: &FileInfo,
        options: &Options,
        plan: &Arc<Plan>,
        current: Option<&ExportInfo>,
    ) -> Context {
        Context {
            input: input.base_name(),
            options: options.clone(),
            plan: plan.clone(),
            current: current.map(|c| ExportInfo {
                file: c.file.base_name(),
                records: c.records,
                absent: c.absent.clone(),
            }),
            overridden_templates: Vec::new(),
            risks: Arc::new(Findings::order(plan, true)),
            lints: Arc::new(Findings::order(plan, false)),
            transitions: Value::from(Serde(&transitions(plan))),
            report: Arc::default(),
        }
    }

    /// The plan's identity: the SHA-256 of what determines it (kcdplan's
    /// version, the input, the options and the export). apply.ps1 writes
    /// it into its backup and rollback.ps1 refuses a backup of another.
    pub fn plan_id(&self) -> String {
        use sha2::{Digest, Sha256};
        let options = serde_json::to_string(&self.options).expect("options serialise");
        let current = self
            .current
            .as_ref()
            .map_or("-", |c| c.file.sha256.as_str());
        let text = format!(
            "kcdplan {}\ninput {}\noptions {options}\ncurrent {current}\n",
            env!("CARGO_PKG_VERSION"),
            self.input.sha256
        );
        format!("{:x}", Sha256::digest(text.as_bytes()))
    }

    /// The template context: `schema_version`, `plan_id`, `version`, `input`,
    /// `options`, `current`, `principals`, `protocol_principals`,
    /// `changed_principals`, `domains`, `risks`, `warnings`,
    /// `protocol_transition`, `totals`, `overridden_templates` and `artifacts`, given as [`artifacts`] or [`artifacts_later`].
    pub fn value(&self, artifacts: Value) -> Value {
        let protocol: Vec<usize> = (self.plan.principals.iter().enumerate())
            .filter(|(_, p)| p.protocol.is_some() || p.unconstrained_off)
            .map(|(i, _)| i)
            .collect();
        let mut m: BTreeMap<&str, Value> = BTreeMap::new();
        m.insert("schema_version", Value::from(SCHEMA_VERSION));
        m.insert("plan_id", Value::from(self.plan_id()));
        m.insert("version", Value::from(env!("CARGO_PKG_VERSION")));
        m.insert("input", Value::from(Serde(&self.input)));
        m.insert("options", Value::from(Serde(&self.options)));
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
        let findings = |items: &Arc<Vec<(bool, usize)>>| {
            Value::from_object(Findings {
                plan: self.plan.clone(),
                items: items.clone(),
            })
        };
        m.insert("risks", findings(&self.risks));
        m.insert("warnings", findings(&self.lints));
        m.insert("protocol_transition", self.transitions.clone());
        m.insert(
            "report",
            Value::from_object(LazyReport { ctx: self.clone() }),
        );
        m.insert(
            "resources",
            Value::from_object(Resources {
                plan: self.plan.clone(),
            }),
        );
        m.insert(
            "changed_resources",
            Value::from(self.plan.changed_resources()),
        );
        m.insert("totals", Value::from(Serde(&self.plan.totals())));
        // Every domain apply.ps1 looks an account up in: the principals',
        // the resources', and those of the principals a resource allows
        // whose SID the plan does not give.
        let mut domains: std::collections::BTreeSet<&str> = (self.plan.principals.iter())
            .map(|p| p.domain.as_str())
            .collect();
        for r in &self.plan.resources {
            domains.insert(&r.domain);
            for a in r.add.iter().chain(&r.remove).chain(&r.replace) {
                if a.sid.is_none() {
                    domains.insert(&a.domain);
                }
            }
        }
        m.insert("domains", Value::from(Serde(&domains)));
        m.insert("current", Value::from(Serde(&self.current)));
        m.insert(
            "changed_principals",
            Value::from(self.plan.changed_principals()),
        );
        m.insert("artifacts", artifacts);
        m.insert(
            "overridden_templates",
            Value::from(Serde(&self.overridden_templates)),
        );
        Value::from(m)
    }
}

/// `artifacts` as a list known now (every file but the summary sees an
/// empty one: all render at once).
pub fn artifacts(list: &[FileInfo]) -> Value {
    Value::from(Serde(list))
}

/// `artifacts` for the summary, which renders beside the other files: the
/// list of their names and SHA-256, waited for where a template reads it;
/// empty if one of them failed (its error is the one reported).
pub fn artifacts_later(written: Arc<Gather<FileInfo>>) -> Value {
    Value::from_object(Later(written))
}

#[derive(Debug)]
struct Later(Arc<Gather<FileInfo>>);

impl Later {
    fn list(&self) -> Vec<FileInfo> {
        self.0.wait().unwrap_or_default()
    }
}

impl Object for Later {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        (self.list().get(key.as_usize()?)).map(|a| Value::from(Serde(a)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.list().len())
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
        self.plan.principals.get(i)?;
        Some(Value::from_object(PrincipalView(At {
            plan: self.plan.clone(),
            i,
        })))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(match &self.only {
            Some(only) => only.len(),
            None => self.plan.principals.len(),
        })
    }
}

/// A principal of the shared plan, by index: what each view of it holds.
#[derive(Debug, Clone)]
struct At {
    plan: Arc<Plan>,
    i: usize,
}

impl At {
    fn principal(&self) -> &PrincipalPlan {
        &self.plan.principals[self.i]
    }

    fn list(&self, list: List) -> Value {
        Value::from_object(ListView {
            at: self.clone(),
            list,
        })
    }
}

/// One principal, read field by field when a template asks: a template
/// that only needs `p.dn` and `p.add` does not convert the rest.
#[derive(Debug)]
struct PrincipalView(At);

/// The fields of a principal, in plan.json order.
const PRINCIPAL_FIELDS: &[&str] = &[
    "principal",
    "type",
    "sam_account_name",
    "domain",
    "dn",
    "dn_source",
    "mode",
    "add",
    "remove",
    "replace",
    "protocol",
    "unconstrained_off",
    "lines",
    "comments",
    "before",
    "delta",
];

impl Object for PrincipalView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let at = &self.0;
        let p = at.principal();
        let some_str = |s: Option<&str>| s.map(Value::from).unwrap_or(Value::from(()));
        Some(match key.as_str()? {
            "principal" => Value::from(p.principal.as_str()),
            "type" => Value::from(p.kind.as_str()),
            "sam_account_name" => Value::from(p.sam_account_name.as_str()),
            "domain" => Value::from(p.domain.as_str()),
            "dn" => Value::from(p.dn.as_str()),
            "dn_source" => Value::from(p.dn_source.as_str()),
            "mode" => Value::from(p.mode.as_str()),
            "add" => at.list(List::Add),
            "remove" => at.list(List::Remove),
            "replace" => at.list(List::Replace),
            "protocol" => some_str(p.protocol.map(|x| x.as_str())),
            "unconstrained_off" => Value::from(p.unconstrained_off),
            "lines" => at.list(List::Lines),
            "comments" => at.list(List::Comments),
            "before" => match p.before {
                None => Value::from(()),
                Some(_) => Value::from_object(BeforeView(at.clone())),
            },
            "delta" => match p.delta {
                None => Value::from(()),
                Some(_) => Value::from_object(DeltaView(at.clone())),
            },
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(PRINCIPAL_FIELDS)
    }
}

/// A principal's state in the export (`p.before`).
#[derive(Debug)]
struct BeforeView(At);

impl Object for BeforeView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let b = self.0.principal().before.as_ref()?;
        Some(match key.as_str()? {
            "values" => self.0.list(List::BeforeValues),
            "user_account_control" => Value::from(b.user_account_control),
            "protocol" => Value::from(b.protocol.as_str()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["values", "user_account_control", "protocol"])
    }
}

/// A principal's change against the export (`p.delta`).
#[derive(Debug)]
struct DeltaView(At);

impl Object for DeltaView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let d = self.0.principal().delta.as_ref()?;
        Some(match key.as_str()? {
            "delete" => self.0.list(List::DeltaDelete),
            "add" => self.0.list(List::DeltaAdd),
            "after" => self.0.list(List::DeltaAfter),
            "uac" => Value::from(Serde(d.uac)),
            "changes" => Value::from(d.changes),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["delete", "add", "after", "uac", "changes"])
    }
}

/// Which list of a principal a [`ListView`] shows.
#[derive(Debug, Clone, Copy)]
enum List {
    Add,
    Remove,
    Replace,
    Lines,
    Comments,
    BeforeValues,
    DeltaDelete,
    DeltaAdd,
    DeltaAfter,
}

/// One of a principal's lists, item by item.
#[derive(Debug)]
struct ListView {
    at: At,
    list: List,
}

impl ListView {
    /// The planned values this list shows, if it shows planned values.
    fn planned(&self) -> Option<&Spns> {
        let p = self.at.principal();
        match self.list {
            List::Add => Some(&p.add),
            List::Remove => Some(&p.remove),
            List::Replace => Some(&p.replace),
            _ => None,
        }
    }

    /// The values from the export this list shows (empty for the others).
    fn exported(&self) -> &[Spn] {
        let p = self.at.principal();
        let before = p.before.as_ref();
        let delta = p.delta.as_ref();
        match self.list {
            List::BeforeValues => before.map_or(&[], |b| &b.values),
            List::DeltaDelete => delta.map_or(&[], |d| &d.delete),
            List::DeltaAdd => delta.map_or(&[], |d| &d.add),
            List::DeltaAfter => delta.map_or(&[], |d| &d.after),
            _ => &[],
        }
    }
}

impl Object for ListView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let k = key.as_usize()?;
        let p = self.at.principal();
        match self.list {
            List::Lines => p.lines.get(k).map(|&l| Value::from(l)),
            List::Comments => p.comments.get(k).map(|c| Value::from(c.as_str())),
            _ => match self.planned() {
                // Shared with the plan once spelled out (render does).
                Some(values) => (k < values.len()).then(|| Value::from(values.get_shared(k))),
                // Shared with the plan: no copy.
                None => self.exported().get(k).map(|s| Value::from(s.clone())),
            },
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let p = self.at.principal();
        Enumerator::Seq(match self.list {
            List::Lines => p.lines.len(),
            List::Comments => p.comments.len(),
            _ => self
                .planned()
                .map_or_else(|| self.exported().len(), Spns::len),
        })
    }
}

/// report.html's model, built on first use and kept for the other
/// templates that ask (only report.html does, as shipped).
#[derive(Debug)]
struct LazyReport {
    ctx: Context,
}

impl LazyReport {
    fn value(&self) -> &Value {
        self.ctx.report.get_or_init(|| {
            let c = &self.ctx;
            let o = &c.options;
            let mut facts = vec![
                report::Fact {
                    label: "Input file".into(),
                    value: c.input.name.clone(),
                },
                report::Fact {
                    label: "Input SHA-256".into(),
                    value: c.input.sha256.clone(),
                },
                report::Fact {
                    label: "Plan".into(),
                    value: c.plan_id(),
                },
                report::Fact {
                    label: "Generated by".into(),
                    value: format!("kcdplan {}", env!("CARGO_PKG_VERSION")),
                },
                report::Fact {
                    label: "Domain (--domain)".into(),
                    value: o.domain.clone().unwrap_or_else(|| "not given".into()),
                },
                report::Fact {
                    label: "SPN forms (--spn-forms)".into(),
                    value: o.spn_forms.as_str().into(),
                },
            ];
            if !o.accept_risk.is_empty() {
                let accepted: Vec<String> = o.accept_risk.iter().map(|a| a.to_string()).collect();
                facts.push(report::Fact {
                    label: "Risks accepted (--accept-risk)".into(),
                    value: accepted.join(", "),
                });
            }
            if let Some(e) = &c.current {
                facts.push(report::Fact {
                    label: "Planned against export".into(),
                    value: format!("{} ({} records)", e.file.name, e.records),
                });
                facts.push(report::Fact {
                    label: "Export SHA-256".into(),
                    value: e.file.sha256.clone(),
                });
            }
            Value::from(Serde(&report::of_plan(&c.plan, facts, c.current.is_some())))
        })
    }
}

impl Object for LazyReport {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.value()
            .get_item(key)
            .ok()
            .filter(|v| !v.is_undefined())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "title",
            "facts",
            "risks",
            "graphs",
            "sections",
            "against_export",
        ])
    }
}

/// The plan's resources (resource-based delegation) as a sequence.
#[derive(Debug)]
struct Resources {
    plan: Arc<Plan>,
}

impl Object for Resources {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = key.as_usize()?;
        self.plan.resources.get(i)?;
        Some(Value::from_object(ResourceView {
            plan: self.plan.clone(),
            i,
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.plan.resources.len())
    }
}

/// One resource, field by field: plan.json's fields, and for the LDIF the
/// descriptors as bytes (`before.value` as exported, `delta.descriptor`
/// as written).
#[derive(Debug)]
struct ResourceView {
    plan: Arc<Plan>,
    i: usize,
}

const RESOURCE_FIELDS: &[&str] = &[
    "resource",
    "type",
    "sam_account_name",
    "domain",
    "dn",
    "dn_source",
    "mode",
    "add",
    "remove",
    "replace",
    "lines",
    "comments",
    "before",
    "delta",
];

impl Object for ResourceView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let r = &self.plan.resources[self.i];
        Some(match key.as_str()? {
            "resource" => Value::from(r.resource.as_str()),
            "type" => Value::from(r.kind.as_str()),
            "sam_account_name" => Value::from(r.sam_account_name.as_str()),
            "domain" => Value::from(r.domain.as_str()),
            "dn" => Value::from(r.dn.as_str()),
            "dn_source" => Value::from(r.dn_source.as_str()),
            "mode" => Value::from(r.mode.as_str()),
            "add" => Value::from(Serde(&r.add)),
            "remove" => Value::from(Serde(&r.remove)),
            "replace" => Value::from(Serde(&r.replace)),
            "lines" => Value::from(Serde(&r.lines)),
            "comments" => Value::from(Serde(&r.comments)),
            "before" => match &r.before {
                None => Value::from(()),
                Some(b) => {
                    let value = match &b.value {
                        None => Value::from(()),
                        Some(AttrValue::Text(t)) => Value::from(t.as_ref()),
                        Some(AttrValue::Bytes(v)) => Value::from_bytes(v.clone()),
                    };
                    Value::from(BTreeMap::from([
                        ("allowed", Value::from(Serde(&b.allowed))),
                        ("sddl", Value::from(Serde(&b.sddl))),
                        ("value", value),
                    ]))
                }
            },
            "delta" => match &r.delta {
                None => Value::from(()),
                Some(d) => Value::from(BTreeMap::from([
                    ("add", Value::from(Serde(&d.add))),
                    ("remove", Value::from(Serde(&d.remove))),
                    ("after", Value::from(Serde(&d.after))),
                    ("sddl", Value::from(Serde(&d.sddl))),
                    (
                        "descriptor",
                        d.descriptor
                            .clone()
                            .map_or(Value::from(()), Value::from_bytes),
                    ),
                    ("changes", Value::from(d.changes)),
                ])),
            },
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(RESOURCE_FIELDS)
    }
}

/// An account named in review lists: as the CSV writes it, and its
/// identity.
#[derive(Debug, serde::Serialize)]
struct Named<'a> {
    principal: &'a str,
    sam_account_name: &'a str,
    domain: &'a str,
}

/// The accounts whose protocol transition the plan grants: `gained`
/// (against the export, new), `held` (they had it already) and `set`
/// (planned without an export: new or not is unknown).
#[derive(Debug, Default, serde::Serialize)]
struct Transitions<'a> {
    gained: Vec<Named<'a>>,
    held: Vec<Named<'a>>,
    set: Vec<Named<'a>>,
}

fn transitions(plan: &Plan) -> Transitions<'_> {
    let mut t = Transitions::default();
    for p in &plan.principals {
        let named = Named {
            principal: &p.principal,
            sam_account_name: &p.sam_account_name,
            domain: &p.domain,
        };
        match risks::transition(p) {
            Transition::Gained => t.gained.push(named),
            Transition::Held => t.held.push(named),
            Transition::Set => t.set.push(named),
            Transition::Without => {}
        }
    }
    t
}

/// Findings of the plan as a lazy sequence: the risks (KCD0xx) highest
/// severity first, or the lints (KCD1xx) by line; accepted ones included.
#[derive(Debug)]
struct Findings {
    plan: Arc<Plan>,
    /// (accepted, index into `warnings` or `accepted`).
    items: Arc<Vec<(bool, usize)>>,
}

impl Findings {
    /// The risks (`risks`) or the lints, in the order they are shown.
    fn order(plan: &Plan, risks: bool) -> Vec<(bool, usize)> {
        let mut items: Vec<(bool, usize)> = (plan.warnings.iter().enumerate())
            .map(|(i, w)| (false, i, w))
            .chain(plan.accepted.iter().enumerate().map(|(i, w)| (true, i, w)))
            .filter(|(_, _, w)| w.rule().is_risk() == risks)
            .map(|(a, i, _)| (a, i))
            .collect();
        let get = |&(a, i): &(bool, usize)| finding(plan, a, i);
        if risks {
            items.sort_by(|x, y| {
                let (a, b) = (get(x), get(y));
                (b.rule().severity().cmp(&a.rule().severity()))
                    .then_with(|| a.rule().cmp(&b.rule()))
                    .then_with(|| a.cmp(b))
            });
        } else {
            items.sort_by(|x, y| get(x).cmp(get(y)));
        }
        items
    }
}

fn finding(plan: &Plan, accepted: bool, i: usize) -> &Warning {
    if accepted {
        &plan.accepted[i]
    } else {
        &plan.warnings[i]
    }
}

impl Object for Findings {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let &(accepted, i) = self.items.get(key.as_usize()?)?;
        Some(Value::from_object(WarningView {
            plan: self.plan.clone(),
            accepted,
            i,
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.items.len())
    }
}

/// One finding, field by field.
#[derive(Debug)]
struct WarningView {
    plan: Arc<Plan>,
    accepted: bool,
    i: usize,
}

impl WarningView {
    fn warning(&self) -> &Warning {
        finding(&self.plan, self.accepted, self.i)
    }
}

/// A finding as plan.json writes it.
#[derive(serde::Serialize)]
struct FindingJson<'a> {
    #[serde(flatten)]
    warning: &'a Warning,
    accepted: bool,
}

impl Object for WarningView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let w = self.warning();
        let rule = w.rule();
        Some(match key.as_str()? {
            "rule" => Value::from(rule.id()),
            "severity" => Value::from(rule.severity().as_str()),
            "reason" => Value::from(rule.info().reason),
            "line" => Value::from(w.line),
            "principal" => Value::from(&*w.principal),
            "message" => Value::from(w.message.text()),
            "accepted" => Value::from(self.accepted),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "rule",
            "severity",
            "line",
            "principal",
            "message",
            "accepted",
        ])
    }
}

/// A principal or warning of the plan as JSON, straight from the plan
/// (the same bytes serde writes for it, without converting it to template
/// values first); `None` for any other value.
pub fn plan_item_json(value: &Value) -> Option<serde_json::Result<String>> {
    if let Some(p) = value.downcast_object_ref::<PrincipalView>() {
        return Some(crate::escape::json::to_string(p.0.principal()));
    }
    if let Some(r) = value.downcast_object_ref::<ResourceView>() {
        return Some(crate::escape::json::to_string(&r.plan.resources[r.i]));
    }
    if let Some(w) = value.downcast_object_ref::<WarningView>() {
        return Some(crate::escape::json::to_string(&FindingJson {
            warning: w.warning(),
            accepted: w.accepted,
        }));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template reading `artifacts` from [`artifacts_later`] waits
    /// until every file is in, then sees every file.
    #[test]
    fn the_summary_waits_for_the_other_files() {
        let written = Arc::new(Gather::new(2));
        let seen = artifacts_later(written.clone());
        let (done, finished) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let env = minijinja::Environment::new();
            let out = env
                .render_str(
                    "{% for a in artifacts %}{{ a.name }}={{ a.sha256 }};{% endfor %}",
                    minijinja::context! { artifacts => seen },
                )
                .unwrap();
            done.send(out).unwrap();
        });
        let file = |name: &str, sha256: &str| FileInfo {
            name: name.into(),
            sha256: sha256.into(),
        };
        written.put(1, Some(file("b.ps1", "02")));
        assert!(
            finished
                .recv_timeout(std::time::Duration::from_millis(200))
                .is_err(),
            "read before it was filled"
        );
        written.put(0, Some(file("a.ldif", "01")));
        assert_eq!(finished.recv().unwrap(), "a.ldif=01;b.ps1=02;");
        reader.join().unwrap();
    }
}
