//! The risk rules ([`crate::rules`]) a plan is held to. Rules on values
//! look at what the plan writes; rules on flags look at the account as
//! the plan leaves it. Rules that need the directory (a domain
//! controller, the account's flags) apply only when the plan was made
//! against an export. Then [`settle`]: critical findings are errors unless
//! accepted with `--accept-risk`.

use std::sync::Arc;

use hashbrown::HashMap;

use super::values::parts;
use super::{Message, Plan, PrincipalPlan, ResourcePlan, Spns, Warning};
use crate::config::{Acceptance, Options, SpnForms};
use crate::directory::descriptor;
use crate::error::{Location, Problem, Problems, Result};
use crate::model::{uac, Mode, PrincipalType, Protocol};
use crate::names;
use crate::rules::{Rule, Severity};
use crate::sanitize::show;

/// How many values a finding names before it counts the rest.
const NAMED: usize = 3;

/// Adds the risk findings of every principal to the plan's warnings.
/// `dc_host` tells whether a host is a domain controller of the export
/// (`None`: planned without one).
pub fn assess(plan: &mut Plan, opts: &Options, dc_host: Option<&dyn Fn(&str) -> bool>) {
    let mut found = Vec::new();
    for p in &plan.principals {
        // Most accounts have no finding: their name is shared only if so.
        let mut principal: Option<Arc<str>> = None;
        let mut add = |rule: Rule, text: String| {
            let principal = principal.get_or_insert_with(|| p.principal.as_str().into());
            found.push(Warning {
                line: p.lines[0],
                principal: principal.clone(),
                message: Message::new(rule, text),
            })
        };
        assess_one(p, opts, dc_host, &mut add);
    }
    for r in &plan.resources {
        let principal: Arc<str> = r.resource.as_str().into();
        let mut add = |rule: Rule, text: String| {
            found.push(Warning {
                line: r.lines[0],
                principal: principal.clone(),
                message: Message::new(rule, text),
            })
        };
        assess_resource(r, &mut add);
    }
    if found.is_empty() {
        return;
    }
    plan.warnings.extend(found);
    plan.warnings.sort_unstable();
    plan.warnings.dedup();
}

/// The values the plan writes to the account (against an export, those
/// it does not hold yet) that `test` picks by class and host, named for a
/// message: up to [`NAMED`] of them, and how many more.
fn pick(p: &PrincipalPlan, test: &dyn Fn(&str, &str) -> bool) -> Option<String> {
    let mut picked: Vec<String> = Vec::new();
    let mut count = 0;
    let mut each = |spns: Option<&Spns>, i: usize, class: &str, host: &str, value: Option<&str>| {
        if !test(class, host) {
            return;
        }
        count += 1;
        if picked.len() < NAMED {
            let text = match (value, spns) {
                (Some(v), _) => v.to_string(),
                (None, Some(s)) => {
                    let mut t = String::new();
                    s.spell(i, &mut t);
                    t
                }
                (None, None) => String::new(),
            };
            picked.push(format!("'{}'", show(&text)));
        }
    };
    match &p.delta {
        Some(d) => {
            for (i, v) in d.add.iter().enumerate() {
                let (class, host) = parts(v);
                each(None, i, class, host, Some(v));
            }
        }
        None => {
            for spns in [&p.add, &p.replace] {
                spns.for_each_part(|i, class, host| each(Some(spns), i, class, host, None));
            }
        }
    }
    (count > 0).then(|| {
        let mut s = picked.join(", ");
        if count > NAMED {
            s.push_str(&format!(" and {} more", count - NAMED));
        }
        s
    })
}

/// Whether the plan writes any value to the account.
fn writes_any(p: &PrincipalPlan) -> bool {
    match &p.delta {
        Some(d) => !d.add.is_empty(),
        None => !p.add.is_empty() || !p.replace.is_empty(),
    }
}

/// Whether the account has protocol transition after the plan: `None`
/// when that cannot be told (no export, and the plan leaves it).
fn transition_after(p: &PrincipalPlan) -> Option<bool> {
    match (&p.before, &p.delta) {
        (Some(b), Some(d)) => {
            let flags = d.uac.map_or(b.user_account_control, |u| u.to);
            Some(flags & uac::TRUSTED_TO_AUTH_FOR_DELEGATION != 0)
        }
        _ => p.protocol.map(|pr| pr == Protocol::Any),
    }
}

/// What a plan does to an account's protocol transition, for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The account gains it (against the export).
    Gained,
    /// The account had it and keeps it (against the export).
    Held,
    /// The plan sets it; without an export, whether it is new is unknown.
    Set,
    /// The account has it neither before nor after, or loses it.
    Without,
}

pub fn transition(p: &PrincipalPlan) -> Transition {
    match (&p.before, transition_after(p)) {
        (_, None | Some(false)) => Transition::Without,
        (None, Some(true)) => Transition::Set,
        (Some(b), Some(true)) if b.protocol == Protocol::Any => Transition::Held,
        (Some(_), Some(true)) => Transition::Gained,
    }
}

/// The rules on what a plan writes into a resource's descriptor.
fn assess_resource(r: &ResourcePlan, add: &mut dyn FnMut(Rule, String)) {
    let gains = |r: &ResourcePlan| match (&r.delta, r.mode) {
        (Some(d), _) => !d.add.is_empty(),
        (None, Mode::Replace) => !r.replace.is_empty(),
        (None, Mode::Update) => !r.add.is_empty(),
    };
    if !gains(r) {
        return;
    }
    let is_krbtgt = r.sam_account_name.eq_ignore_ascii_case("krbtgt");
    if is_krbtgt {
        add(
            Rule::Kcd003,
            "resource-based delegation on the krbtgt account".into(),
        );
    }
    if r.before.as_ref().is_some_and(|b| b.domain_controller) {
        add(
            Rule::Kcd004,
            "resource-based delegation on a domain controller".into(),
        );
    }
    // Broad groups the plan allows: named by SID (the CSV's, or the
    // export's).
    let planned = if r.mode == Mode::Replace {
        &r.replace
    } else {
        &r.add
    };
    let broad: Vec<String> = (planned.iter())
        .filter_map(|a| a.sid.as_deref())
        .filter(|s| descriptor::is_broad(s))
        .map(|s| match descriptor::well_known(s) {
            Some(n) => format!("{n} ({s})"),
            None => s.to_string(),
        })
        .collect();
    if !broad.is_empty() {
        add(
            Rule::Kcd005,
            format!("resource-based delegation allowed to {}", broad.join(", ")),
        );
    }
    if let Some(d) = r.delta.as_ref().filter(|d| !d.odd.is_empty()) {
        add(
            Rule::Kcd012,
            format!("the descriptor written keeps {}", d.odd.join("; ")),
        );
    }
}

fn assess_one(
    p: &PrincipalPlan,
    opts: &Options,
    dc_host: Option<&dyn Fn(&str) -> bool>,
    add: &mut dyn FnMut(Rule, String),
) {
    let any_written = writes_any(p);
    if let Some(v) = pick(p, &|class, host| {
        class.eq_ignore_ascii_case("krbtgt")
            || host
                .split('.')
                .next()
                .is_some_and(|h| h.eq_ignore_ascii_case("krbtgt"))
    }) {
        add(Rule::Kcd003, format!("delegation to krbtgt: {v}"));
    }
    if let Some(is_dc) = dc_host {
        if let Some(v) = pick(p, &|_, host| is_dc(host)) {
            add(
                Rule::Kcd002,
                format!("delegation to a domain controller: {v}"),
            );
        }
    }
    if let Some(v) = pick(p, &|class, _| class.eq_ignore_ascii_case("host")) {
        add(
            Rule::Kcd009,
            format!("delegation to the host service class: {v}"),
        );
    }
    let after = transition_after(p);
    match (&p.before, &p.delta) {
        (Some(b), Some(d)) => {
            let before = b.user_account_control;
            let flags = d.uac.map_or(before, |u| u.to);
            if before & uac::TRUSTED_TO_AUTH_FOR_DELEGATION == 0 && after == Some(true) {
                add(
                    Rule::Kcd006,
                    format!(
                        "newly gains protocol transition (userAccountControl {before} -> {flags})"
                    ),
                );
            }
            if flags & uac::TRUSTED_FOR_DELEGATION != 0 && !b.domain_controller {
                add(
                    Rule::Kcd001,
                    format!(
                        "holds unconstrained delegation (userAccountControl {before}), which constrained delegation does not replace: turn it off with unconstrained=off in the CSV"
                    ),
                );
            }
            if after == Some(true) && d.after.is_empty() {
                add(
                    Rule::Kcd008,
                    "keeps protocol transition with no delegation targets left".into(),
                );
            }
            let newly = d
                .uac
                .is_some_and(|u| u.to & !u.from & uac::TRUSTED_TO_AUTH_FOR_DELEGATION != 0);
            if before & uac::ACCOUNTDISABLE != 0 && (any_written || newly) {
                add(
                    Rule::Kcd013,
                    format!("disabled (userAccountControl {before}), and given delegation"),
                );
            }
        }
        _ => {
            if p.protocol == Some(Protocol::Any) {
                add(
                    Rule::Kcd006,
                    "set to use any authentication protocol (plan with --current to tell whether it already has it)".into(),
                );
            }
            if p.mode == Mode::Replace && p.replace.is_empty() {
                match p.protocol {
                    Some(Protocol::Any) => add(
                        Rule::Kcd008,
                        "set to use any authentication protocol with its delegation targets cleared".into(),
                    ),
                    None => add(
                        Rule::Kcd008,
                        "delegation targets cleared and protocol transition left as it is: if the account has it, it keeps it with no targets (protocol=kerberos clears it)".into(),
                    ),
                    Some(Protocol::Kerberos) => {}
                }
            }
        }
    }
    if p.kind == PrincipalType::User && after == Some(true) {
        add(
            Rule::Kcd007,
            "a user account with protocol transition: use a gMSA or a computer account".into(),
        );
    }
    if opts.spn_forms != SpnForms::Both && any_written {
        let form = match opts.spn_forms {
            SpnForms::Fqdn => "fully qualified",
            _ => "short",
        };
        add(
            Rule::Kcd011,
            format!("given only the {form} SPN form of its targets (--spn-forms)"),
        );
    }
}

/// What `--accept-risk` did: the findings it accepted move to
/// `plan.accepted`; a critical finding not accepted is an error, located
/// at its CSV line. `column` is the user's spelling of the principal
/// column. Returns the acceptances that matched no finding.
pub fn settle(
    plan: &mut Plan,
    opts: &Options,
    file: &str,
    column: &str,
) -> Result<Vec<Acceptance>> {
    // Accounts named in --accept-risk may be given by sAMAccountName.
    let sams: HashMap<&str, &str> = if opts.accept_risk.iter().any(|a| a.account.is_some()) {
        (plan.principals.iter())
            .map(|p| (p.principal.as_str(), p.sam_account_name.as_str()))
            .collect()
    } else {
        HashMap::new()
    };
    let mut used = vec![false; opts.accept_risk.len()];
    let accepts = |w: &Warning, used: &mut Vec<bool>| {
        let mut hit = false;
        for (i, a) in opts.accept_risk.iter().enumerate() {
            let names_it = a.account.as_deref().is_none_or(|acc| {
                let acc = names::fold(acc);
                names::fold(&w.principal) == acc
                    || sams.get(&*w.principal).is_some_and(|s| {
                        names::fold(s) == acc || names::fold(s.trim_end_matches('$')) == acc
                    })
            });
            if a.rule == w.rule() && names_it {
                used[i] = true;
                hit = true;
            }
        }
        hit
    };
    let mut problems = Problems::default();
    let mut accepted = Vec::new();
    // In place: the list may hold hundreds of thousands of lints.
    plan.warnings.retain(|w| {
        if !opts.accept_risk.is_empty() && accepts(w, &mut used) {
            accepted.push(w.clone());
            return false;
        }
        if w.rule().severity() == Severity::Critical {
            let rule = w.rule();
            problems.push(Problem::new(
                Location::cell(file, w.line, column),
                format!(
                    "{} critical: {}; {}. To go ahead anyway, accept the risk: --accept-risk {}={}",
                    rule.id(),
                    w.message,
                    rule.info().reason,
                    rule.id(),
                    show(&w.principal)
                ),
            ));
            return false;
        }
        true
    });
    plan.accepted = accepted;
    problems.check()?;
    Ok((opts.accept_risk.iter().zip(used))
        .filter(|(_, u)| !u)
        .map(|(a, _)| a.clone())
        .collect())
}
