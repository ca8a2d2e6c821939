//! Resource-based delegation planned from the CSV: rows grouped by
//! resource (the account whose msDS-AllowedToActOnBehalfOfOtherIdentity
//! changes), each with the principals to add and remove, or the complete
//! list. Principals are named by their own (domain, sAMAccountName), and
//! by SID where the CSV gives one.

use hashbrown::HashMap;
use serde::Serialize;

use super::Allowed;
use crate::csv::header::Field;
use crate::dn::Dn;
use crate::error::{Location, Problem, Problems};
use crate::model::{Action, DnSource, Keyword, Mode, PrincipalType};
use crate::sanitize::echo;
use crate::validate::{Principal, ResourceRow};

/// Everything planned for one resource.
#[derive(Debug, Clone, Serialize)]
pub struct ResourcePlan {
    /// The resource as first written in the CSV.
    pub resource: String,
    #[serde(rename = "type")]
    pub kind: PrincipalType,
    pub sam_account_name: String,
    pub domain: String,
    pub dn: String,
    pub dn_source: DnSource,
    pub mode: Mode,
    pub add: Vec<Allowed>,
    pub remove: Vec<Allowed>,
    /// The complete new list (mode `replace`; empty clears it).
    pub replace: Vec<Allowed>,
    pub lines: Vec<u64>,
    pub comments: Vec<String>,
    /// The resource as the export shows it (with `--current`).
    pub before: Option<super::RbcdBefore>,
    /// The exact change against the export (with `--current`).
    pub delta: Option<super::RbcdDelta>,
}

/// One resource as its rows describe it so far.
struct Acc {
    plan: ResourcePlan,
    /// The name a derived DN is made of (a computer's first label as
    /// written).
    name: String,
    first_update: Option<(u64, Action)>,
    first_replace: Option<u64>,
    mixed: bool,
    dn: Option<(Dn, u64)>,
}

/// Groups resource rows by resource.
#[derive(Default)]
pub struct Resources {
    index: HashMap<String, usize>,
    list: Vec<Acc>,
}

/// An account's grouping key: its domain and lowercase sAMAccountName.
fn key(p: &Principal) -> String {
    let mut k = String::new();
    p.key_into(&mut k);
    k
}

fn allowed(p: &Principal, sid: Option<&str>, line: u64) -> Allowed {
    Allowed {
        principal: p.written.to_string(),
        kind: p.kind,
        sam_account_name: p.sam(),
        domain: p.domain.to_string(),
        sid: sid.map(str::to_string),
        line,
    }
}

impl Resources {
    /// Adds one row; conflicts with earlier rows go to `problems`, at the
    /// cell of `file` in the column the user spelled (`columns`).
    pub fn add(
        &mut self,
        row: ResourceRow,
        at: &dyn Fn(u64, Field) -> Location,
        problems: &mut Problems,
    ) {
        let k = key(&row.resource);
        let i = match self.index.get(&k) {
            Some(&i) => i,
            None => {
                self.list.push(Acc {
                    plan: ResourcePlan {
                        resource: row.resource.written.to_string(),
                        kind: row.resource.kind,
                        sam_account_name: row.resource.sam(),
                        domain: row.resource.domain.to_string(),
                        dn: String::new(),
                        dn_source: DnSource::Derived,
                        mode: Mode::Update,
                        add: Vec::new(),
                        remove: Vec::new(),
                        replace: Vec::new(),
                        lines: Vec::new(),
                        comments: Vec::new(),
                        before: None,
                        delta: None,
                    },
                    name: row.resource.name.to_string(),
                    first_update: None,
                    first_replace: None,
                    mixed: false,
                    dn: None,
                });
                self.index.insert(k, self.list.len() - 1);
                self.list.len() - 1
            }
        };
        let acc = &mut self.list[i];
        let name = echo(&acc.plan.resource).to_string();
        acc.plan.lines.push(row.line);
        if row.resource.kind != acc.plan.kind {
            problems.push(Problem::new(
                at(row.line, Field::TargetType),
                format!(
                    "target '{name}': type '{}' conflicts with '{}' on line {}",
                    row.resource.kind.as_str(),
                    acc.plan.kind.as_str(),
                    acc.plan.lines[0]
                ),
            ));
        }
        if let Some(c) = row.comment {
            if !acc.plan.comments.iter().any(|x| x == c) {
                acc.plan.comments.push(c.to_string());
            }
        }
        if let Some(d) = &row.dn {
            match &acc.dn {
                None => acc.dn = Some((d.clone(), row.line)),
                Some((e, l)) if e.key() != d.key() => problems.push(Problem::new(
                    at(row.line, Field::Dn),
                    format!(
                        "target '{name}': dn '{}' conflicts with '{}' on line {l}",
                        echo(&d.to_string()),
                        echo(&e.to_string())
                    ),
                )),
                _ => {}
            }
        }
        let clash = if row.action == Action::Replace {
            acc.first_replace.get_or_insert(row.line);
            acc.first_update.map(|(l, a)| (l, a.as_str()))
        } else {
            acc.first_update.get_or_insert((row.line, row.action));
            acc.first_replace.map(|l| (l, "replace"))
        };
        if let (Some((l, word)), false) = (clash, acc.mixed) {
            acc.mixed = true;
            problems.push(Problem::new(
                at(row.line, Field::Action),
                format!(
                    "target '{name}': 'replace' cannot be mixed with add or remove (line {l} has '{word}')"
                ),
            ));
        }
        let Some(p) = &row.principal else {
            return;
        };
        let pk = key(p);
        let plan = &mut acc.plan;
        let same = |a: &Allowed| {
            let mut k = a.domain.clone();
            k.push('|');
            k.push_str(&a.sam_account_name.to_lowercase());
            k == pk
        };
        let (list, other, here, there) = match row.action {
            Action::Add => (&mut plan.add, Some(&plan.remove), "added", "removed"),
            Action::Remove => (&mut plan.remove, Some(&plan.add), "removed", "added"),
            Action::Replace => (&mut plan.replace, None, "", ""),
        };
        if let Some(o) = other.and_then(|o| o.iter().find(|a| same(a))) {
            problems.push(Problem::new(
                at(row.line, Field::Principal),
                format!(
                    "target '{name}': principal '{}' is {here} here and {there} on line {}",
                    echo(p.written),
                    o.line
                ),
            ));
            return;
        }
        match list.iter().find(|a| same(a)) {
            Some(a) => {
                if let (Some(x), Some(y)) = (&a.sid, row.principal_sid) {
                    if !x.eq_ignore_ascii_case(y) {
                        problems.push(Problem::new(
                            at(row.line, Field::PrincipalSid),
                            format!(
                                "principal '{}': SID '{}' conflicts with '{}' on line {}",
                                echo(p.written),
                                echo(y),
                                echo(x),
                                a.line
                            ),
                        ));
                    }
                }
            }
            None => list.push(allowed(p, row.principal_sid, row.line)),
        }
    }

    /// The resources, each with its DN (the CSV's, or derived).
    pub fn finish(
        self,
        container: &dyn Fn(PrincipalType, &str, &str) -> String,
    ) -> Vec<ResourcePlan> {
        let mut out: Vec<ResourcePlan> = (self.list.into_iter())
            .map(|acc| {
                let mut plan = acc.plan;
                if acc.first_replace.is_some() {
                    plan.mode = Mode::Replace;
                }
                match acc.dn {
                    Some((d, _)) => {
                        plan.dn = d.to_string();
                        plan.dn_source = DnSource::Csv;
                    }
                    None => plan.dn = container(plan.kind, &acc.name, &plan.domain),
                }
                plan
            })
            .collect();
        out.sort_by_cached_key(|r| (r.dn.to_lowercase(), r.dn.clone()));
        out
    }
}
