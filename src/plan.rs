//! Checked rows to a plan: rows grouped by principal, SPN values built and
//! de-duplicated, DNs derived, conflicts between rows found, and warnings
//! about delegations that are legal but probably not what was meant.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::columns::{Field, Header};
use crate::config::{Options, SpnForms};
use crate::dn::{self, Dn};
use crate::error::{Error, Location, Problem, Result};
use crate::names::{self, VSMS};
use crate::sanitize::show;
use crate::validate::{Action, PrincipalType, Protocol, Row};

/// How a principal's `msDS-AllowedToDelegateTo` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Add and/or remove individual values.
    Update,
    /// Set the complete list (an empty list clears the attribute).
    Replace,
}

/// Everything planned for one delegating account.
#[derive(Debug, Clone, Serialize)]
pub struct PrincipalPlan {
    /// The account as first written in the CSV.
    pub principal: String,
    #[serde(rename = "type")]
    pub kind: PrincipalType,
    pub sam_account_name: String,
    pub domain: Option<String>,
    pub dn: String,
    /// True when the DN was derived (an assumption to check), false when
    /// the CSV gave it.
    pub dn_derived: bool,
    pub mode: Mode,
    pub add: Vec<String>,
    pub remove: Vec<String>,
    /// The complete new list (mode `replace` only).
    pub replace: Vec<String>,
    /// `None`: leave protocol transition as it is.
    pub protocol: Option<Protocol>,
    /// CSV lines that contributed.
    pub lines: Vec<u64>,
    pub comments: Vec<String>,
}

impl PrincipalPlan {
    /// Whether apply needs to look the account up by DN (the CSV gave one).
    pub fn lookup_by_dn(&self) -> bool {
        !self.dn_derived
    }
}

/// A warning: legal, but worth a second look.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Warning {
    pub line: u64,
    pub principal: String,
    pub message: String,
}

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub principals: Vec<PrincipalPlan>,
    pub warnings: Vec<Warning>,
}

impl Plan {
    pub fn protocol_principals(&self) -> impl Iterator<Item = &PrincipalPlan> {
        self.principals.iter().filter(|p| p.protocol.is_some())
    }
}

/// An ordered set of strings, unique case-insensitively, first spelling kept.
#[derive(Debug, Default)]
struct ValueSet {
    values: Vec<String>,
    seen: HashMap<String, u64>,
}

impl ValueSet {
    fn insert(&mut self, v: &str, line: u64) {
        if let std::collections::hash_map::Entry::Vacant(e) = self.seen.entry(v.to_lowercase()) {
            e.insert(line);
            self.values.push(v.to_string());
        }
    }

    fn line_of(&self, v: &str) -> Option<u64> {
        self.seen.get(&v.to_lowercase()).copied()
    }
}

/// The SPN values one row stands for.
pub fn row_values(row: &Row, forms: SpnForms) -> Vec<String> {
    let Some(t) = &row.target else {
        return vec![];
    };
    let port = t.port.map(|p| format!(":{p}")).unwrap_or_default();
    let mut out = Vec::new();
    for class in &row.classes {
        if forms != SpnForms::Short {
            out.push(format!("{class}/{}{port}", t.fqdn));
        }
        if forms != SpnForms::Fqdn {
            out.push(format!("{class}/{}{port}", t.short));
        }
    }
    out
}

struct Group<'a> {
    rows: Vec<&'a Row>,
}

/// Builds the plan, or every conflict found.
pub fn build(file: &str, rows: &[Row], opts: &Options, header: &Header) -> Result<Plan> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Group> = HashMap::new();
    for row in rows {
        let key = row.principal.key();
        groups
            .entry(key.clone())
            .or_insert_with(|| {
                order.push(key.clone());
                Group { rows: Vec::new() }
            })
            .rows
            .push(row);
    }
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut principals = Vec::new();
    let col = |name: &str| {
        Field::ALL
            .iter()
            .find(|f| f.name() == name)
            .map(|f| header.spelling(*f).to_string())
            .unwrap_or_else(|| name.to_string())
    };
    for key in &order {
        let g = &groups[key];
        match plan_principal(file, g, opts, &col, &mut warnings) {
            Ok(p) => principals.push(p),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.location.line);
        return Err(Error::Input(problems));
    }
    principals.sort_by(|a, b| {
        a.dn.to_lowercase()
            .cmp(&b.dn.to_lowercase())
            .then_with(|| a.dn.cmp(&b.dn))
    });
    // Two groups that resolve to one DN are one account written two ways.
    for w in principals.windows(2) {
        if w[0].dn.eq_ignore_ascii_case(&w[1].dn) {
            problems.push(Problem::new(
                Location::cell(file, w[1].lines[0], &col("principal")),
                format!(
                    "'{}' and '{}' (line {}) have the same DN '{}'; write the account one way",
                    show(&w[1].principal),
                    show(&w[0].principal),
                    w[0].lines[0],
                    show(&w[0].dn)
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Input(problems));
    }
    warnings.sort();
    warnings.dedup();
    Ok(Plan {
        principals,
        warnings,
    })
}

fn default_container(kind: PrincipalType) -> &'static str {
    match kind {
        PrincipalType::Computer => "CN=Computers",
        PrincipalType::User => "CN=Users",
        PrincipalType::Gmsa => "CN=Managed Service Accounts",
    }
}

fn plan_principal(
    file: &str,
    g: &Group,
    opts: &Options,
    col: &dyn Fn(&str) -> String,
    warnings: &mut Vec<Warning>,
) -> Result<PrincipalPlan, Vec<Problem>> {
    let first = g.rows[0];
    let p = &first.principal;
    let who = show(&p.written);
    let mut problems = Vec::new();
    let mut warn = |line: u64, message: String| {
        warnings.push(Warning {
            line,
            principal: p.written.clone(),
            message,
        })
    };

    // Mode: replace cannot mix with add/remove.
    let replace_row = g.rows.iter().find(|r| r.action == Action::Replace);
    let update_row = g.rows.iter().find(|r| r.action != Action::Replace);
    let mode = match (replace_row, update_row) {
        (Some(r), Some(u)) => {
            let later = if r.line > u.line { r } else { u };
            let earlier = if r.line > u.line { u } else { r };
            problems.push(Problem::new(
                Location::cell(file, later.line, &col("action")),
                format!(
                    "principal '{who}': 'replace' cannot be mixed with add or remove (line {} has '{}')",
                    earlier.line,
                    action_word(earlier.action)
                ),
            ));
            Mode::Replace
        }
        (Some(_), None) => Mode::Replace,
        _ => Mode::Update,
    };

    // Protocol and DN must agree across rows.
    let mut protocol: Option<(Protocol, u64)> = None;
    let mut dn_given: Option<(Dn, u64)> = None;
    for r in &g.rows {
        if let Some(pr) = r.protocol {
            match protocol {
                None => protocol = Some((pr, r.line)),
                Some((q, l)) if q != pr => problems.push(Problem::new(
                    Location::cell(file, r.line, &col("protocol")),
                    format!(
                        "principal '{who}': protocol '{}' conflicts with '{}' on line {l}",
                        pr.as_str(),
                        q.as_str()
                    ),
                )),
                _ => {}
            }
        }
        if let Some(d) = &r.dn {
            match &dn_given {
                None => dn_given = Some((d.clone(), r.line)),
                Some((e, l)) if e.key() != d.key() => problems.push(Problem::new(
                    Location::cell(file, r.line, &col("dn")),
                    format!(
                        "principal '{who}': dn '{}' conflicts with '{}' on line {l}",
                        show(&d.to_string()),
                        show(&e.to_string())
                    ),
                )),
                _ => {}
            }
        }
    }

    // Values.
    let mut add = ValueSet::default();
    let mut remove = ValueSet::default();
    let mut replace = ValueSet::default();
    for r in &g.rows {
        for v in row_values(r, opts.spn_forms) {
            match r.action {
                Action::Add => {
                    if let Some(l) = remove.line_of(&v) {
                        problems.push(conflict(file, r.line, col, &who, &v, "added", "removed", l));
                    }
                    add.insert(&v, r.line)
                }
                Action::Remove => {
                    if let Some(l) = add.line_of(&v) {
                        problems.push(conflict(file, r.line, col, &who, &v, "removed", "added", l));
                    }
                    remove.insert(&v, r.line)
                }
                Action::Replace => replace.insert(&v, r.line),
            }
        }
    }

    // DN.
    let (dn, dn_derived) = match &dn_given {
        Some((d, _)) => (d.clone(), false),
        None => {
            let domain = p.domain.as_deref().expect("validated: domain or dn");
            let container = match &opts.container {
                Some(c) => c.clone(),
                None => dn::parse(default_container(p.kind)).expect("static DN"),
            };
            let parent = container.join(&dn::parse(&names::domain_dn(domain)).expect("domain DN"));
            (Dn::child(&p.name, &parent), true)
        }
    };

    // Warnings.
    if p.kind == PrincipalType::Computer && p.name.chars().count() > 15 {
        warn(
            first.line,
            format!(
                "computer name '{}' is longer than 15 characters (the NetBIOS limit); its sAMAccountName is probably truncated, check the account",
                show(&p.name)
            ),
        );
    }
    let mut per_target: BTreeMap<String, (HashSet<String>, u64)> = BTreeMap::new();
    for r in &g.rows {
        for c in &r.classes {
            if let Some(k) = names::near_miss(c) {
                warn(
                    r.line,
                    format!(
                        "service '{}' looks like a misspelling of '{k}'",
                        show(&r.service_written)
                    ),
                );
            }
        }
        let Some(t) = &r.target else { continue };
        if let Some(pd) = &p.domain {
            if t.fqdn_written && !t.domain().eq_ignore_ascii_case(pd) {
                warn(
                    r.line,
                    format!(
                        "target '{}' is in domain '{}' but the principal is in '{}'; classic constrained delegation does not cross domains (use resource-based delegation)",
                        show(&t.fqdn),
                        show(t.domain()),
                        show(pd)
                    ),
                );
            }
        }
        if p.kind == PrincipalType::Computer
            && t.short.eq_ignore_ascii_case(&p.name)
            && p.domain
                .as_deref()
                .is_none_or(|d| t.domain().eq_ignore_ascii_case(d))
        {
            warn(
                r.line,
                format!(
                    "principal '{who}' delegates to itself ('{}')",
                    show(&t.fqdn)
                ),
            );
        }
        if r.action != Action::Remove {
            let e = per_target
                .entry(t.fqdn.to_lowercase())
                .or_insert_with(|| (HashSet::new(), r.line));
            for c in &r.classes {
                e.0.insert(c.to_lowercase());
            }
        }
    }
    let vsms = VSMS.to_lowercase();
    for (host, (classes, line)) in &per_target {
        if classes.contains(&vsms) {
            if !classes.contains("cifs") {
                warn(
                    *line,
                    format!(
                        "'{VSMS}' to '{}' without 'cifs' to the same host: Hyper-V live migration needs both",
                        show(host)
                    ),
                );
            }
            if protocol.map(|(p, _)| p) != Some(Protocol::Any) {
                warn(
                    *line,
                    format!(
                        "'{VSMS}' to '{}' without protocol=any: Hyper-V live migration on Windows Server 2016 and later needs 'use any authentication protocol'",
                        show(host)
                    ),
                );
            }
        }
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    let mut comments = Vec::new();
    for r in &g.rows {
        if let Some(c) = &r.comment {
            if !comments.contains(c) {
                comments.push(c.clone());
            }
        }
    }
    Ok(PrincipalPlan {
        principal: p.written.clone(),
        kind: p.kind,
        sam_account_name: p.sam.clone(),
        domain: p.domain.clone(),
        dn: dn.to_string(),
        dn_derived,
        mode,
        add: add.values,
        remove: remove.values,
        replace: replace.values,
        protocol: protocol.map(|(p, _)| p),
        lines: g.rows.iter().map(|r| r.line).collect(),
        comments,
    })
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Add => "add",
        Action::Remove => "remove",
        Action::Replace => "replace",
    }
}

#[allow(clippy::too_many_arguments)]
fn conflict(
    file: &str,
    line: u64,
    col: &dyn Fn(&str) -> String,
    who: &str,
    value: &str,
    here: &str,
    there: &str,
    there_line: u64,
) -> Problem {
    Problem::new(
        Location::cell(file, line, &col("action")),
        format!(
            "principal '{who}': '{}' is {here} here and {there} on line {there_line}",
            show(value)
        ),
    )
}
