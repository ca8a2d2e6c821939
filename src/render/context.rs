//! The data every template sees. Built once from the plan; the same context
//! renders every artifact, so they cannot disagree.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Serde, Value};
use serde::Serialize;

use crate::config::Options;
use crate::input::Source;
use crate::plan::{Plan, PrincipalPlan, Spn, Spns};

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
    /// SHA-256 of the artifacts written so far (see [`Later`] for how the
    /// summary gets the others').
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
        self.value_with(Value::from(Serde(&self.artifacts)))
    }

    /// As [`Context::value`], with `artifacts` given.
    pub fn value_with(&self, artifacts: Value) -> Value {
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
        m.insert("artifacts", artifacts);
        m.insert(
            "overridden_templates",
            Value::from(Serde(&self.overridden_templates)),
        );
        Value::from(m)
    }
}

/// The other artifacts' names and SHA-256, known once they are written.
/// The summary renders alongside them with this as `artifacts`, and waits
/// only when (and where) its template reads it.
#[derive(Debug, Default)]
pub struct Later {
    done: std::sync::Mutex<Option<Vec<Value>>>,
    ready: std::sync::Condvar,
}

impl Later {
    /// The list; an empty one when the others failed (their error is the
    /// one reported, and nothing is written).
    pub fn fill(&self, artifacts: &[ArtifactInfo]) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        *done = Some(artifacts.iter().map(|a| Value::from(Serde(a))).collect());
        self.ready.notify_all();
    }

    fn wait(&self) -> Vec<Value> {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(list) = &*done {
                return list.clone();
            }
            done = self.ready.wait(done).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Object for Later {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.wait().get(key.as_usize()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.wait().len())
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
            "domain" => some_str(p.domain.as_deref()),
            "dn" => Value::from(p.dn.as_str()),
            "dn_source" => Value::from(p.dn_source.as_str()),
            "mode" => Value::from(p.mode.as_str()),
            "add" => at.list(List::Add),
            "remove" => at.list(List::Remove),
            "replace" => at.list(List::Replace),
            "protocol" => some_str(p.protocol.map(|x| x.as_str())),
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
        let i = key.as_usize()?;
        self.plan.warnings.get(i)?;
        Some(Value::from_object(WarningView {
            plan: self.plan.clone(),
            i,
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.plan.warnings.len())
    }
}

/// One warning, field by field.
#[derive(Debug)]
struct WarningView {
    plan: Arc<Plan>,
    i: usize,
}

impl Object for WarningView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let w = &self.plan.warnings[self.i];
        Some(match key.as_str()? {
            "line" => Value::from(w.line),
            "principal" => Value::from(&*w.principal),
            "message" => Value::from(w.message.text()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["line", "principal", "message"])
    }
}

/// A principal or warning of the plan as JSON, straight from the plan
/// (the same bytes serde writes for it, without converting it to template
/// values first); `None` for any other value.
pub fn plan_item_json(value: &Value) -> Option<serde_json::Result<String>> {
    if let Some(p) = value.downcast_object_ref::<PrincipalView>() {
        return Some(serde_json::to_string(p.0.principal()));
    }
    if let Some(w) = value.downcast_object_ref::<WarningView>() {
        return Some(serde_json::to_string(&w.plan.warnings[w.i]));
    }
    None
}

/// The last path component: output must not depend on where the input was.
pub fn file_name(name: &str) -> String {
    name.rsplit(['/', '\\']).next().unwrap_or(name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SpnForms;
    use std::path::Path;

    /// A template reading `artifacts` from a [`Later`] waits until it is
    /// filled, then sees every file.
    #[test]
    fn later_waits_until_filled() {
        let later = Arc::new(Later::default());
        let seen = Value::from_dyn_object(later.clone());
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
        assert!(
            finished
                .recv_timeout(std::time::Duration::from_millis(200))
                .is_err(),
            "read before it was filled"
        );
        later.fill(&[
            ArtifactInfo {
                name: "a.ldif".into(),
                sha256: "01".into(),
            },
            ArtifactInfo {
                name: "b.ps1".into(),
                sha256: "02".into(),
            },
        ]);
        assert_eq!(finished.recv().unwrap(), "a.ldif=01;b.ps1=02;");
        reader.join().unwrap();
    }

    /// Every principal and warning, read through the templates' lazy
    /// views, is exactly what plan.json writes for it (same fields, same
    /// order, same values): with and without an export, and with warnings.
    #[test]
    fn views_show_what_plan_json_holds() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let export = root.join("hyperv-lab-export.ldif");
        let cases = [
            ("hyperv-lab.csv", None),
            ("hyperv-lab.csv", Some(export.as_path())),
            ("set-kcd-import.csv", None),
            ("hostile.csv", None),
        ];
        let (mut deltas, mut warnings) = (0, 0);
        for (csv, current) in cases {
            let (name, bytes) = crate::input::open(&root.join(csv)).unwrap();
            let options = Options::new(Some("contoso.com"), None, SpnForms::Both, false).unwrap();
            let planned = crate::plan_reader(&name, bytes, options, None, current).unwrap();
            let plan = &planned.plan;
            deltas += plan.principals.iter().filter(|p| p.delta.is_some()).count();
            warnings += plan.warnings.len();
            let ctx = Context::new(&planned.source, &planned.options, plan).value();
            let via_views = |name: &str| -> Vec<String> {
                let seq = ctx.get_attr(name).unwrap();
                seq.try_iter()
                    .unwrap()
                    .map(|item| serde_json::to_string(&item).unwrap())
                    .collect()
            };
            let direct: Vec<String> = plan
                .principals
                .iter()
                .map(|p| serde_json::to_string(p).unwrap())
                .collect();
            assert_eq!(via_views("principals"), direct, "{csv}");
            let direct: Vec<String> = plan
                .warnings
                .iter()
                .map(|w| serde_json::to_string(w).unwrap())
                .collect();
            assert_eq!(via_views("warnings"), direct, "{csv}");
        }
        assert!(
            deltas > 0 && warnings > 0,
            "the cases cover deltas and warnings"
        );
    }
}
