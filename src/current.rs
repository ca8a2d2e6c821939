//! Planning against the directory as it is: each principal is resolved in
//! the export, its DN taken from there, and the change reduced to what
//! differs (case-insensitively, as AD compares these values). Protocol
//! transition becomes a guarded userAccountControl change: delete of the
//! exported value and add of the new one, so an account changed since the
//! export fails to apply instead of being overwritten.

use std::path::Path;

use hashbrown::HashSet;

use crate::directory::{self, Snapshot, Wanted};
use crate::error::{Location, Problem, Problems, Result};
use crate::model::{file_name, uac, DnSource, ExportInfo, Mode, Protocol};
use crate::names;
use crate::plan::{
    computer_fqdn, Before, Delta, Message, Plan, PrincipalPlan, Spn, UacChange, Warning,
};
use crate::sanitize::echo;

/// Plans `plan` against the export at `path`: reads the accounts and host
/// names the plan touches, resolves every principal and computes its
/// change. `file` and `column` (the user's spelling of the principal
/// column) locate problems in the CSV.
pub fn plan_against(file: &str, column: &str, plan: &mut Plan, path: &Path) -> Result<ExportInfo> {
    // The change set shares the plan's values: spelled out once.
    plan.spell_out();
    let snap = Snapshot::load(path, &wanted(plan))?;
    let mut problems = Problems::default();
    apply(file, column, plan, &snap, &mut problems);
    problems.check()?;
    Ok(snap.info)
}

/// What the plan asks of the export: its principals' DNs or names, and
/// its target hosts.
fn wanted(plan: &Plan) -> Wanted {
    let mut wanted = Wanted::default();
    for p in &plan.principals {
        if p.dn_source == DnSource::Csv {
            wanted.dns.insert(p.dn.to_lowercase());
        } else {
            wanted.sams.insert(p.sam_account_name.to_lowercase());
            if let Some(fqdn) = computer_fqdn(p) {
                wanted.hosts.insert(fqdn);
            }
        }
        let mut target = |v: &str| {
            if let Some(h) = directory::spn_host(v) {
                let h = names::fold(h);
                if !wanted.targets.contains(h.as_ref()) {
                    wanted.targets.insert(h.into_owned());
                }
            }
        };
        p.add.for_each(&mut target);
        p.replace.for_each(&mut target);
    }
    wanted
}

/// Resolves every principal and computes its delta.
fn apply(file: &str, column: &str, plan: &mut Plan, snap: &Snapshot, problems: &mut Problems) {
    let export = file_name(&snap.info.file.name);
    let export_shared: std::sync::Arc<str> = export.as_str().into();
    let mut warnings = Vec::new();
    for p in &mut plan.principals {
        let by_dn = p.dn_source == DnSource::Csv;
        let found = if by_dn {
            snap.by_dn(&p.dn)
        } else {
            snap.by_sam(&p.sam_account_name)
                .or_else(|| computer_fqdn(p).and_then(|f| snap.by_host(&f)))
        };
        let Some(acct) = found else {
            let how = if by_dn {
                format!("DN '{}'", echo(&p.dn))
            } else {
                match computer_fqdn(p) {
                    Some(f) => format!(
                        "sAMAccountName '{}' and dNSHostName '{}'",
                        echo(&p.sam_account_name),
                        echo(&f)
                    ),
                    None => format!("sAMAccountName '{}'", echo(&p.sam_account_name)),
                }
            };
            problems.push(Problem::new(
                Location::cell(file, p.lines[0], column),
                format!(
                    "'{}' is not in the export {}: looked up by {how}",
                    echo(&p.principal),
                    echo(&export)
                ),
            ));
            continue;
        };
        p.dn = acct.dn.clone();
        p.dn_source = DnSource::Export;
        let before = Before {
            values: acct
                .delegate_to
                .iter()
                .map(|v| Spn::from(v.as_str()))
                .collect(),
            user_account_control: acct.uac,
            protocol: if acct.protocol_transition() {
                Protocol::Any
            } else {
                Protocol::Kerberos
            },
        };
        p.delta = Some(delta(p, &before));
        p.before = Some(before);
        let missing = missing_hosts(p, snap);
        if missing.is_empty() {
            continue;
        }
        let principal: std::sync::Arc<str> = p.principal.as_str().into();
        for host in missing {
            warnings.push(Warning {
                line: p.lines[0],
                principal: principal.clone(),
                message: Message::HostNotInExport(Box::new((host.into(), export_shared.clone()))),
            });
        }
    }
    plan.principals
        .sort_by_cached_key(|p| (p.dn.to_lowercase(), p.dn.clone()));
    plan.warnings.extend(warnings);
    plan.warnings.sort_unstable();
    plan.warnings.dedup();
}

fn delta(p: &PrincipalPlan, before: &Before) -> Delta {
    fn lower<S: AsRef<str>>(v: impl IntoIterator<Item = S>) -> HashSet<String> {
        v.into_iter().map(|s| s.as_ref().to_lowercase()).collect()
    }
    let current = lower(before.values.iter());
    let (delete, add): (Vec<Spn>, Vec<Spn>) = match p.mode {
        Mode::Update => {
            let remove = lower(p.remove.iter());
            (
                before
                    .values
                    .iter()
                    .filter(|v| remove.contains(&v.to_lowercase()))
                    .cloned()
                    .collect(),
                p.add
                    .iter_shared()
                    .filter(|v| !current.contains(&v.to_lowercase()))
                    .collect(),
            )
        }
        Mode::Replace => {
            let want = lower(p.replace.iter());
            (
                before
                    .values
                    .iter()
                    .filter(|v| !want.contains(&v.to_lowercase()))
                    .cloned()
                    .collect(),
                p.replace
                    .iter_shared()
                    .filter(|v| !current.contains(&v.to_lowercase()))
                    .collect(),
            )
        }
    };
    let deleted = lower(delete.iter());
    let mut after: Vec<Spn> = before
        .values
        .iter()
        .filter(|v| !deleted.contains(&v.to_lowercase()))
        .cloned()
        .collect();
    after.extend(add.iter().cloned());
    let from = before.user_account_control;
    let to = match p.protocol {
        Some(Protocol::Any) => from | uac::TRUSTED_TO_AUTH_FOR_DELEGATION,
        Some(Protocol::Kerberos) => from & !uac::TRUSTED_TO_AUTH_FOR_DELEGATION,
        None => from,
    };
    let uac = (to != from).then_some(UacChange { from, to });
    Delta {
        changes: !delete.is_empty() || !add.is_empty() || uac.is_some(),
        delete,
        add,
        after,
        uac,
    }
}

/// Target hosts of values being added that the export does not know.
fn missing_hosts(p: &PrincipalPlan, snap: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let values = if p.mode == Mode::Replace {
        &p.replace
    } else {
        &p.add
    };
    values.for_each(|v| {
        if let Some(h) = directory::spn_host(v) {
            if !snap.host_exists(h) && !out.iter().any(|o| o.eq_ignore_ascii_case(h)) {
                out.push(h.to_string());
            }
        }
    });
    out
}
