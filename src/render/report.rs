//! What report.html shows, as data: the header facts, the risks, the
//! graphs ([`super::graph`]) and a section per account with its values
//! before and after. One model for a plan (`render`) and for an audit
//! (`audit --format html`), so that one template draws both.

use std::collections::BTreeMap;

use serde::Serialize;

use super::graph::{self, EdgeIn, Graph, Input, NodeIn};
use crate::audit::{Audit, Kind};
use crate::directory::spn_host;
use crate::model::Keyword;
use crate::names;
use crate::plan::{Plan, Warning};
use crate::rules::Severity;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    pub facts: Vec<Fact>,
    pub risks: Vec<RiskRow>,
    pub graphs: Vec<Graph>,
    pub sections: Vec<Section>,
    /// Whether the plan was made against an export (the graph then shows
    /// what is added, removed and kept).
    pub against_export: bool,
    /// What the page leaves out of a large plan, said on the page.
    pub omitted: Option<String>,
    /// Risks beyond [`MAX_RISKS`], left to summary.md (or the audit's
    /// other formats).
    pub risks_more: usize,
}

/// Risks listed on one page, highest first.
pub const MAX_RISKS: usize = 200;

/// Accounts drawn and detailed on one page: beyond this, a page is no
/// longer read, and only the accounts with findings are shown, riskiest
/// first (summary.md keeps every account).
pub const MAX_ACCOUNTS: usize = 200;

/// Values listed per account (summary.md lists them all).
pub const MAX_VALUES: usize = 25;

/// Value rows, cut at [`MAX_VALUES`] with a row that says how many more.
fn capped(rows: impl Iterator<Item = ValueRow>) -> Vec<ValueRow> {
    let mut out: Vec<ValueRow> = Vec::new();
    let mut more = 0usize;
    for r in rows {
        if out.len() < MAX_VALUES {
            out.push(r);
        } else {
            more += 1;
        }
    }
    if more > 0 {
        out.push(ValueRow {
            mark: "",
            value: format!("... and {more} more (summary.md lists every value)"),
            change: "more",
        });
    }
    out
}

/// Which of `n` accounts a page shows, given each one's severity: all of
/// them up to [`MAX_ACCOUNTS`], else those with findings, riskiest
/// first; and what it says of the others.
fn shown(severities: &[Option<Severity>]) -> (Vec<bool>, Option<String>) {
    let n = severities.len();
    if n <= MAX_ACCOUNTS {
        return (vec![true; n], None);
    }
    let mut risky: Vec<usize> = (0..n).filter(|&i| severities[i].is_some()).collect();
    risky.sort_by_key(|&i| (std::cmp::Reverse(severities[i]), i));
    let total_risky = risky.len();
    risky.truncate(MAX_ACCOUNTS);
    let mut show = vec![false; n];
    for &i in &risky {
        show[i] = true;
    }
    let note = format!(
        "This plan has {n} accounts: the page shows the {} with the highest risks{}; summary.md lists every account.",
        risky.len(),
        if total_risky > risky.len() {
            format!(" (of {total_risky} with findings)")
        } else {
            " (every account with a finding)".to_string()
        }
    );
    (show, Some(note))
}

#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskRow {
    pub rule: &'static str,
    pub severity: &'static str,
    pub account: String,
    pub section: Option<String>,
    pub message: String,
    pub reason: &'static str,
    pub accepted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub anchor: String,
    pub title: String,
    pub severity: Option<&'static str>,
    pub facts: Vec<Fact>,
    /// (mark, value, change): `+` added, `-` removed, `=` kept or set.
    pub values: Vec<ValueRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValueRow {
    pub mark: &'static str,
    pub value: String,
    pub change: &'static str,
}

fn fact(label: &str, value: impl Into<String>) -> Fact {
    Fact {
        label: label.to_string(),
        value: value.into(),
    }
}

/// The highest severity of a list of findings, and their rule IDs.
fn worst(findings: &[(&'static str, Severity)]) -> (Option<&'static str>, Vec<&'static str>) {
    let sev = findings.iter().map(|f| f.1).max().map(Severity::as_str);
    let mut ids: Vec<&'static str> = findings.iter().map(|f| f.0).collect();
    ids.sort();
    ids.dedup();
    (sev, ids)
}

/// A service class and the host it names, for grouping values by host:
/// a short name is taken in `domain` (the account's), so that both forms
/// of a target are one host.
fn class_host(v: &str, domain: &str) -> (String, String) {
    let class = v.split_once('/').map_or(v, |(c, _)| c).to_string();
    let host = spn_host(v)
        .map(|h| names::fold(h).into_owned())
        .unwrap_or_default();
    let host = if host.contains('.') || domain.is_empty() || host.is_empty() {
        host
    } else {
        format!("{host}.{domain}")
    };
    (class, host)
}

/// Edges from one account to the hosts its values name: one per host,
/// labelled with the classes, marked by what happens to its values.
fn host_edges(
    input: &mut Input,
    hosts: &mut BTreeMap<String, usize>,
    from: &str,
    domain: &str,
    values: &[(&str, &'static str)],
    severity: Option<&'static str>,
) {
    let mut by_host: BTreeMap<String, (Vec<String>, Vec<&'static str>)> = BTreeMap::new();
    for (v, change) in values {
        let (class, host) = class_host(v, domain);
        let e = by_host.entry(host).or_default();
        if !e.0.iter().any(|c| c.eq_ignore_ascii_case(&class)) {
            e.0.push(class);
        }
        e.1.push(change);
    }
    for (host, (classes, changes)) in by_host {
        let key = format!("host:{host}");
        if !hosts.contains_key(&key) {
            hosts.insert(key.clone(), input.right.len());
            input.right.push(NodeIn {
                key: key.clone(),
                label: host.clone(),
                note: "host".into(),
                section: None,
                severity: None,
                rules: Vec::new(),
                kind: "host",
            });
        }
        let change = if changes.iter().all(|c| *c == changes[0]) {
            changes[0]
        } else {
            "change"
        };
        input.edges.push(EdgeIn {
            from: from.to_string(),
            to: key,
            label: classes.join(", "),
            kind: "constrained",
            change,
            severity,
        });
    }
}

/// The report of a plan: `facts` are the summary's header rows.
pub fn of_plan(plan: &Plan, facts: Vec<Fact>, against_export: bool) -> Report {
    // Each account's risk findings, gathered once.
    let mut by_account: BTreeMap<&str, Vec<(&'static str, Severity)>> = BTreeMap::new();
    for w in plan.warnings.iter().chain(&plan.accepted) {
        if w.rule().is_risk() {
            by_account
                .entry(&w.principal)
                .or_default()
                .push((w.rule().id(), w.rule().severity()));
        }
    }
    let findings = |name: &str| -> Vec<(&'static str, Severity)> {
        by_account.get(name).cloned().unwrap_or_default()
    };
    let mut input = Input::default();
    let mut hosts = BTreeMap::new();
    let mut sections = Vec::new();
    let mut anchors: BTreeMap<String, String> = BTreeMap::new();
    let severities: Vec<Option<Severity>> = (plan.principals.iter().map(|p| &p.principal))
        .chain(plan.resources.iter().map(|r| &r.resource))
        .map(|name| findings(name).iter().map(|f| f.1).max())
        .collect();
    let (show, omitted) = shown(&severities);
    for (i, p) in plan.principals.iter().enumerate() {
        if !show[i] {
            continue;
        }
        let anchor = format!("p-{i}");
        anchors.insert(p.principal.clone(), anchor.clone());
        let (severity, rules) = worst(&findings(&p.principal));
        let key = format!("account:{}|{}", p.domain, names::fold(&p.sam_account_name));
        let transition = crate::plan::risks::transition(p);
        let note = match transition {
            crate::plan::risks::Transition::Gained => "gains protocol transition",
            crate::plan::risks::Transition::Held => "protocol transition (held)",
            crate::plan::risks::Transition::Set => "protocol transition set",
            crate::plan::risks::Transition::Without => "Kerberos only",
        };
        input.left.push(NodeIn {
            key: key.clone(),
            label: p.principal.clone(),
            note: format!("{} {}; {note}", p.kind.as_str(), p.sam_account_name),
            section: Some(anchor.clone()),
            severity,
            rules: rules.clone(),
            kind: "account",
        });
        let mut values: Vec<(String, &'static str)> = Vec::new();
        match (&p.before, &p.delta) {
            (Some(b), Some(d)) => {
                let deleted: Vec<String> = d
                    .delete
                    .iter()
                    .map(|v| names::fold(v).into_owned())
                    .collect();
                for v in &b.values {
                    let gone = deleted.contains(&names::fold(v).into_owned());
                    values.push((v.to_string(), if gone { "remove" } else { "keep" }));
                }
                values.extend(d.add.iter().map(|v| (v.to_string(), "add")));
            }
            _ => {
                p.add.for_each(|v| values.push((v.to_string(), "add")));
                p.remove
                    .for_each(|v| values.push((v.to_string(), "remove")));
                p.replace
                    .for_each(|v| values.push((v.to_string(), "planned")));
            }
        }
        let refs: Vec<(&str, &'static str)> =
            values.iter().map(|(v, c)| (v.as_str(), *c)).collect();
        host_edges(&mut input, &mut hosts, &key, &p.domain, &refs, severity);
        let mut facts = identity(
            "Account",
            (&p.principal, p.kind, &p.sam_account_name, &p.dn),
            &p.lines,
            &p.comments,
        );
        facts.insert(2, fact("Protocol transition", note));
        if p.unconstrained_off {
            facts.push(fact("Unconstrained delegation", "turned off"));
        }
        if let (Some(b), Some(d)) = (&p.before, &p.delta) {
            facts.push(fact("Values before", b.values.len().to_string()));
            facts.push(fact("Values after", d.after.len().to_string()));
        }
        sections.push(Section {
            anchor,
            title: p.principal.clone(),
            severity,
            facts,
            values: capped(values.into_iter().map(|(value, change)| ValueRow {
                mark: mark(change),
                value,
                change,
            })),
        });
    }
    for (i, r) in plan.resources.iter().enumerate() {
        if !show[plan.principals.len() + i] {
            continue;
        }
        let anchor = format!("r-{i}");
        anchors.insert(r.resource.clone(), anchor.clone());
        let (severity, rules) = worst(&findings(&r.resource));
        let key = format!("resource:{}|{}", r.domain, names::fold(&r.sam_account_name));
        input.right.push(NodeIn {
            key: key.clone(),
            label: r.resource.clone(),
            note: format!("resource ({}), every service", r.kind.as_str()),
            section: Some(anchor.clone()),
            severity,
            rules,
            kind: "resource",
        });
        // (principal key, label, change)
        let mut allowed: Vec<(String, String, &'static str)> = Vec::new();
        match &r.delta {
            Some(d) => {
                let removed: Vec<&str> = d.remove.iter().map(|h| h.sid.as_str()).collect();
                let added: Vec<&str> = d.add.iter().map(|h| h.sid.as_str()).collect();
                let before = r.before.as_ref().map_or(&[][..], |b| &b.allowed[..]);
                for h in before.iter().chain(&d.add) {
                    let change = if removed.contains(&h.sid.as_str()) {
                        "remove"
                    } else if added.contains(&h.sid.as_str()) {
                        "add"
                    } else {
                        "keep"
                    };
                    let label = h.name.clone().unwrap_or_else(|| h.sid.clone());
                    allowed.push((format!("sid:{}", h.sid), label, change));
                }
            }
            None => {
                for (list, change) in [
                    (&r.add, "add"),
                    (&r.remove, "remove"),
                    (&r.replace, "planned"),
                ] {
                    for a in list {
                        let key =
                            format!("account:{}|{}", a.domain, names::fold(&a.sam_account_name));
                        allowed.push((key, a.principal.clone(), change));
                    }
                }
            }
        }
        for (pkey, label, change) in &allowed {
            allow(&mut input, pkey, label, &key, change, severity);
        }
        let mut facts = identity(
            "Resource",
            (&r.resource, r.kind, &r.sam_account_name, &r.dn),
            &r.lines,
            &r.comments,
        );
        if let Some(d) = &r.delta {
            facts.push(fact(
                "Descriptor after",
                d.sddl.clone().unwrap_or_else(|| "(none: cleared)".into()),
            ));
        }
        sections.push(Section {
            anchor,
            title: format!("{} (resource)", r.resource),
            severity,
            facts,
            values: capped(allowed.into_iter().map(|(_, label, change)| ValueRow {
                mark: mark(change),
                value: label,
                change,
            })),
        });
    }
    let mut risks: Vec<(&Warning, bool)> = (plan.warnings.iter().map(|w| (w, false)))
        .chain(plan.accepted.iter().map(|w| (w, true)))
        .filter(|(w, _)| w.rule().is_risk())
        .collect();
    risks.sort_by(|(a, _), (b, _)| {
        (b.rule().severity().cmp(&a.rule().severity()))
            .then_with(|| a.rule().cmp(&b.rule()))
            .then_with(|| a.cmp(b))
    });
    Report {
        title: "Kerberos delegation change".into(),
        facts,
        risks_more: risks.len().saturating_sub(MAX_RISKS),
        risks: risks
            .into_iter()
            .take(MAX_RISKS)
            .map(|(w, accepted)| RiskRow {
                rule: w.rule().id(),
                severity: w.rule().severity().as_str(),
                account: w.principal.to_string(),
                section: anchors.get(&*w.principal).cloned(),
                message: w.message.text(),
                reason: w.rule().info().reason,
                accepted,
            })
            .collect(),
        graphs: graph::layout(&input),
        sections,
        against_export,
        omitted,
    }
}

/// A resource-based edge from the principal `pkey` (added as a node the
/// first time) to the resource `rkey`.
fn allow(
    input: &mut Input,
    pkey: &str,
    label: &str,
    rkey: &str,
    change: &'static str,
    severity: Option<&'static str>,
) {
    if !input.left.iter().any(|n| n.key == pkey) {
        input.left.push(NodeIn {
            key: pkey.to_string(),
            label: label.to_string(),
            note: "allowed to act (resource-based)".into(),
            section: None,
            severity: None,
            rules: Vec::new(),
            kind: "account",
        });
    }
    input.edges.push(EdgeIn {
        from: pkey.to_string(),
        to: rkey.to_string(),
        label: String::new(),
        kind: "resource",
        change,
        severity,
    });
}

/// The facts that name an account: as written, its type and
/// sAMAccountName, its DN, its CSV lines and comments.
fn identity(
    label: &str,
    (written, kind, sam, dn): (&str, crate::model::PrincipalType, &str, &str),
    lines: &[u64],
    comments: &[String],
) -> Vec<Fact> {
    let lines: Vec<String> = lines.iter().map(u64::to_string).collect();
    let mut facts = vec![
        fact(
            label,
            format!("{written} ({}), sAMAccountName {sam}", kind.as_str()),
        ),
        fact("DN", dn),
        fact("CSV lines", lines.join(", ")),
    ];
    if !comments.is_empty() {
        facts.push(fact("Comments", comments.join("; ")));
    }
    facts
}

fn mark(change: &str) -> &'static str {
    match change {
        "add" => "+",
        "remove" => "-",
        _ => "=",
    }
}

/// The report of an audit: every delegation of the export, riskiest
/// first.
pub fn of_audit(audit: &Audit) -> Report {
    let mut input = Input::default();
    let mut hosts = BTreeMap::new();
    let mut sections: Vec<Section> = Vec::new();
    let mut anchors: BTreeMap<String, String> = BTreeMap::new();
    let mut any_added = false;
    // One account may show several delegations: the cap counts accounts.
    let mut accounts: Vec<&str> = Vec::new();
    let mut severities: Vec<Option<Severity>> = Vec::new();
    let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for d in &audit.delegations {
        if seen.insert(&d.dn) {
            accounts.push(&d.dn);
            severities.push(d.severity);
        }
    }
    let (show, omitted) = shown(&severities);
    let shown_dns: std::collections::BTreeSet<&str> = (accounts.iter().zip(&show))
        .filter(|(_, s)| **s)
        .map(|(a, _)| *a)
        .collect();
    for d in audit
        .delegations
        .iter()
        .filter(|d| shown_dns.contains(d.dn.as_str()))
    {
        let name = d.sam_account_name.clone().unwrap_or_else(|| d.dn.clone());
        let key = format!("account:{}", d.dn.to_lowercase());
        let anchor = match anchors.get(&d.dn) {
            Some(a) => a.clone(),
            None => {
                let a = format!("a-{}", anchors.len());
                anchors.insert(d.dn.clone(), a.clone());
                a
            }
        };
        let severity = d.severity.map(Severity::as_str);
        let rules: Vec<&'static str> = d.rules.iter().map(|r| r.id()).collect();
        let node = |note: &str| NodeIn {
            key: key.clone(),
            label: name.clone(),
            note: note.to_string(),
            section: Some(anchor.clone()),
            severity,
            rules: rules.clone(),
            kind: "account",
        };
        let mut values: Vec<ValueRow> = Vec::new();
        match d.kind {
            Kind::Unconstrained => {
                if !input.left.iter().any(|n| n.key == key) {
                    input.left.push(node("unconstrained delegation"));
                }
                if !any_added {
                    any_added = true;
                    input.right.push(NodeIn {
                        key: "any".into(),
                        label: "any service, any host".into(),
                        note: "unconstrained delegation".into(),
                        section: None,
                        severity: None,
                        rules: Vec::new(),
                        kind: "any",
                    });
                }
                input.edges.push(EdgeIn {
                    from: key.clone(),
                    to: "any".into(),
                    label: "unconstrained".into(),
                    kind: "unconstrained",
                    change: "present",
                    severity,
                });
            }
            Kind::ConstrainedAnyProtocol | Kind::ConstrainedKerberosOnly => {
                let note = if d.kind == Kind::ConstrainedAnyProtocol {
                    "protocol transition"
                } else {
                    "Kerberos only"
                };
                if !input.left.iter().any(|n| n.key == key) {
                    input.left.push(node(note));
                }
                let refs: Vec<(&str, &'static str)> = d
                    .targets
                    .iter()
                    .map(|t| (t.spn.as_str(), "present"))
                    .collect();
                let domain = crate::dn::parse(&d.dn)
                    .ok()
                    .and_then(|x| x.domain())
                    .unwrap_or_default();
                host_edges(&mut input, &mut hosts, &key, &domain, &refs, severity);
                values.extend(d.targets.iter().map(|t| ValueRow {
                    mark: "=",
                    value: t.spn.clone(),
                    change: if t.host_found { "keep" } else { "unknown-host" },
                }));
            }
            Kind::ResourceBased => {
                let rkey = format!("resource:{}", d.dn.to_lowercase());
                input.right.push(NodeIn {
                    key: rkey.clone(),
                    label: name.clone(),
                    note: "resource, every service".into(),
                    section: Some(anchor.clone()),
                    severity,
                    rules: rules.clone(),
                    kind: "resource",
                });
                for ace in d.aces.iter().filter(|a| a.allows) {
                    let label = ace.name.clone().unwrap_or_else(|| ace.sid.clone());
                    allow(
                        &mut input,
                        &format!("sid:{}", ace.sid),
                        &label,
                        &rkey,
                        "present",
                        severity,
                    );
                }
                values.extend(d.aces.iter().map(|a| ValueRow {
                    mark: if a.allows { "+" } else { "!" },
                    value: format!(
                        "{} {} {} {}",
                        a.kind,
                        a.mask,
                        a.name.as_deref().unwrap_or("(not in the export)"),
                        a.sid
                    ),
                    change: if a.allows { "keep" } else { "odd" },
                }));
            }
            Kind::Sensitive => {}
        }
        match sections.iter_mut().find(|s| s.anchor == anchor) {
            Some(s) => {
                s.facts.push(fact("Delegation", d.kind.title()));
                s.values.extend(values);
            }
            None => sections.push(Section {
                anchor: anchor.clone(),
                title: name.clone(),
                severity,
                facts: vec![
                    fact("DN", d.dn.clone()),
                    fact("userAccountControl", d.user_account_control.to_string()),
                    fact("Delegation", d.kind.title()),
                ],
                values,
            }),
        }
    }
    Report {
        title: "Delegation audit".into(),
        facts: vec![
            fact("Export", audit.export.file.name.clone()),
            fact("Export SHA-256", audit.export.file.sha256.clone()),
            fact("Records", audit.export.records.to_string()),
            fact("Findings", audit.findings.len().to_string()),
        ],
        risks_more: audit.findings.len().saturating_sub(MAX_RISKS),
        risks: (audit.findings.iter().take(MAX_RISKS))
            .map(|f| RiskRow {
                rule: f.rule.id(),
                severity: f.severity.as_str(),
                account: f.account.clone(),
                section: anchors.get(&f.dn).cloned(),
                message: f.detail.clone(),
                reason: f.reason,
                accepted: false,
            })
            .collect(),
        graphs: graph::layout(&input),
        sections: sections
            .into_iter()
            .map(|mut s| {
                s.values = capped(std::mem::take(&mut s.values).into_iter());
                s
            })
            .collect(),
        against_export: false,
        omitted,
    }
}
