//! Planning against the directory as it is: each principal is resolved in
//! the export, its DN taken from there, and the change reduced to what
//! differs (case-insensitively, as AD compares these values). Protocol
//! transition becomes a guarded userAccountControl change: delete of the
//! exported value and add of the new one, so an account changed since the
//! export fails to apply instead of being overwritten.

use std::path::Path;
use std::sync::Arc;

use hashbrown::{HashMap, HashSet};

use crate::config::{Options, SpnForms};
use crate::directory::descriptor::{self, Merge};
use crate::directory::{self, Account, Snapshot, Wanted};
use crate::dn;
use crate::error::{Location, Problem, Problems, Result};
use crate::model::{file_name, uac, DnSource, ExportInfo, Mode, PrincipalType, Protocol};
use crate::names;
use crate::plan::{
    computer_fqdn, risks, Allowed, Before, Delta, Holder, Message, Plan, PrincipalPlan, RbcdBefore,
    RbcdDelta, Spn, UacChange, Warning,
};
use crate::rules::Rule;
use crate::sanitize::echo;

/// Plans `plan` against the export at `path`: reads the accounts and host
/// names the plan touches, resolves every principal and computes its
/// change. `file` and `column` (the user's spelling of the principal
/// column) locate problems in the CSV.
pub fn plan_against(
    file: &str,
    columns: &Columns,
    opts: &Options,
    plan: &mut Plan,
    path: &Path,
) -> Result<ExportInfo> {
    // The change set shares the plan's values: spelled out once.
    plan.spell_out();
    let snap = Snapshot::load(path, &wanted(plan))?;
    let mut problems = Problems::default();
    apply(file, &columns.principal, opts, plan, &snap, &mut problems);
    resources(file, columns, plan, &snap, &mut problems);
    problems.check()?;
    risks::assess(plan, opts, Some(&|host| snap.is_dc_host(host)));
    Ok(snap.info)
}

/// The CSV's columns as the user spelled them, to locate problems.
pub struct Columns {
    pub principal: String,
    pub target: String,
    pub principal_sid: String,
}

/// What the plan asks of the export: its principals' identities, DNs and
/// host names, and its target hosts; its resources and the principals
/// they allow.
fn wanted(plan: &Plan) -> Wanted {
    let mut wanted = Wanted::default();
    let account = |wanted: &mut Wanted, kind: PrincipalType, sam: &str, domain: &str| {
        let folded = names::fold(sam).into_owned();
        wanted.sams.insert(folded.clone());
        wanted.accounts.insert((domain.to_string(), folded));
        if let (PrincipalType::Computer, Some(name)) = (kind, sam.strip_suffix('$')) {
            wanted
                .hosts
                .insert(names::fold(&format!("{name}.{domain}")).into_owned());
        }
    };
    for r in &plan.resources {
        wanted.sid_names = true;
        account(&mut wanted, r.kind, &r.sam_account_name, &r.domain);
        if r.dn_source == DnSource::Csv {
            want_dn(&mut wanted, &r.dn);
        }
        for a in r.add.iter().chain(&r.remove).chain(&r.replace) {
            account(&mut wanted, a.kind, &a.sam_account_name, &a.domain);
        }
    }
    for p in &plan.principals {
        let sam = names::fold(&p.sam_account_name).into_owned();
        wanted.sams.insert(sam.clone());
        wanted.accounts.insert((p.domain.clone(), sam));
        if p.dn_source == DnSource::Csv {
            want_dn(&mut wanted, &p.dn);
        }
        if let Some(fqdn) = computer_fqdn(p) {
            wanted.hosts.insert(fqdn);
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

/// Keeps the records at a DN the CSV gives (and a cheap first look at
/// each record: the value of its first RDN).
fn want_dn(wanted: &mut Wanted, dn: &str) {
    if let Ok(dn) = dn::parse(dn) {
        wanted.dns.insert(dn.key());
        let first = &dn.rdns[0][0].value;
        wanted.first_rdns.insert(names::fold(first).into_owned());
    }
}

/// Where problems with a principal are reported: the CSV and the
/// principal column as the user spelled it, and the export.
struct Places<'a> {
    csv: &'a str,
    column: &'a str,
    export: &'a str,
}

impl Places<'_> {
    fn principal(&self, p: &PrincipalPlan, message: String) -> Problem {
        Problem::new(Location::cell(self.csv, p.lines[0], self.column), message)
    }

    fn at(&self, who: &Who, message: String) -> Problem {
        Problem::new(Location::cell(self.csv, who.line, who.column), message)
    }
}

/// An account the CSV names, as the export is searched for it: a
/// constrained principal, a resource, or a principal a resource allows.
struct Who<'a> {
    written: &'a str,
    kind: PrincipalType,
    sam: &'a str,
    domain: &'a str,
    /// The DN the CSV gives.
    dn: Option<&'a str>,
    line: u64,
    /// The column problems are located at (as the user spelled it).
    column: &'a str,
}

impl<'a> Who<'a> {
    fn of(p: &'a PrincipalPlan, column: &'a str) -> Who<'a> {
        Who {
            written: &p.principal,
            kind: p.kind,
            sam: &p.sam_account_name,
            domain: &p.domain,
            dn: (p.dn_source == DnSource::Csv).then_some(p.dn.as_str()),
            line: p.lines[0],
            column,
        }
    }

    /// A computer's DNS name (folded).
    fn fqdn(&self) -> Option<String> {
        let name = self.sam.strip_suffix('$')?;
        (self.kind == PrincipalType::Computer)
            .then(|| names::fold(&format!("{name}.{}", self.domain)).into_owned())
    }
}

/// The one account of the export that `p` names, or why there is none:
/// looked up by its DN (when the CSV gives one), its dNSHostName (a
/// computer) and its (domain, sAMAccountName); every way that finds an
/// account must find the same one, and that account must be the one the
/// CSV describes.
fn resolve<'s>(p: &Who, snap: &'s Snapshot, at: &Places) -> Result<&'s Account, Problem> {
    let fqdn = p.fqdn();
    let mut ways: Vec<(&'static str, String, Vec<&Account>)> = Vec::new();
    if let Some(d) = p.dn {
        let key = dn::parse(d).map(|d| d.key()).unwrap_or_default();
        ways.push(("DN", d.to_string(), snap.by_dn(&key)));
    }
    if let Some(f) = &fqdn {
        ways.push(("dNSHostName", f.clone(), snap.by_host(f)));
    }
    ways.push((
        "sAMAccountName",
        format!("{}' in domain '{}", p.sam, p.domain),
        snap.by_account(p.domain, p.sam),
    ));
    let record = |a: &Account| format!("{} (line {})", echo(&a.dn), a.line);
    for (how, value, found) in &ways {
        if found.len() > 1 {
            let all: Vec<String> = found.iter().map(|a| record(a)).collect();
            return Err(at.at(
                p,
                format!(
                    "'{}': the export {} holds {} accounts with {how} '{}': {}; which one is meant cannot be told",
                    echo(p.written),
                    echo(at.export),
                    found.len(),
                    echo(value),
                    all.join(", ")
                ),
            ));
        }
    }
    let mut hits = ways
        .iter()
        .filter_map(|(how, _, f)| f.first().map(|a| (*how, *a)));
    let Some((how, a)) = hits.next() else {
        let looked: Vec<String> = (ways.iter())
            .map(|(how, value, _)| format!("{how} '{}'", echo(value)))
            .collect();
        return Err(at.at(
            p,
            format!(
                "'{}' is not in the export {}: looked up by {}",
                echo(p.written),
                echo(at.export),
                looked.join(" and ")
            ),
        ));
    };
    if let Some((other_how, b)) = hits.find(|(_, b)| b.line != a.line) {
        return Err(at.at(
            p,
            format!(
                "'{}' names two accounts of the export {}: {} by {how}, and {} by {other_how}",
                echo(p.written),
                echo(at.export),
                record(a),
                record(b)
            ),
        ));
    }
    if a.domain != p.domain {
        let theirs = match a.domain.as_str() {
            "" => "a DN kcdplan cannot read (malformed, or holding hidden characters)".to_string(),
            d => format!("domain '{}'", echo(d)),
        };
        return Err(at.at(
            p,
            format!(
                "'{}' is in domain '{}', but the account the export {} has for it, {}, is in {theirs}",
                echo(p.written),
                echo(p.domain),
                echo(at.export),
                record(a),
            ),
        ));
    }
    if let (Some(f), Some(h)) = (&fqdn, &a.dns_host_name) {
        if names::fold(h) != f.as_str() {
            return Err(at.at(
                p,
                format!(
                    "'{}' is the host '{}', but the account {} of the export {} is the host '{}'",
                    echo(p.written),
                    echo(f),
                    record(a),
                    echo(at.export),
                    echo(h)
                ),
            ));
        }
    }
    if p.kind != PrincipalType::Computer && names::fold(a.sam()) != names::fold(p.sam) {
        return Err(at.at(
            p,
            format!(
                "'{}' is the account '{}', but the account at its DN, {} in the export {}, is '{}'",
                echo(p.written),
                echo(p.sam),
                record(a),
                echo(at.export),
                echo(a.sam())
            ),
        ));
    }
    if a.uac.is_none() {
        return Err(Problem::new(
            Location::line(at.export, a.line),
            format!(
                "{} has no userAccountControl, so its delegation flags cannot be seen; export the attribute (see kcdplan export-script)",
                echo(&a.dn)
            ),
        ));
    }
    Ok(a)
}

/// Resolves every principal and computes its delta.
fn apply(
    file: &str,
    column: &str,
    opts: &Options,
    plan: &mut Plan,
    snap: &Snapshot,
    problems: &mut Problems,
) {
    let export = file_name(&snap.info.file.name);
    let at = Places {
        csv: file,
        column,
        export: &export,
    };
    let export_shared: Arc<str> = export.as_str().into();
    let mut warnings = Vec::new();
    // Each account of the export, and the first principal that named it;
    // principals in the order of the CSV, so that the later line is the
    // one reported.
    let mut named: HashMap<String, usize> = HashMap::new();
    let mut order: Vec<usize> = (0..plan.principals.len()).collect();
    order.sort_by_key(|&i| plan.principals[i].lines[0]);
    for i in order {
        let p = &plan.principals[i];
        let acct = match resolve(&Who::of(p, column), snap, &at) {
            Ok(a) => a,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        // Two principals that are one account: by SID, else by DN.
        let id = acct.sid.clone().unwrap_or_else(|| acct.dn_key.clone());
        if let Some(&first) = named.get(&id) {
            let q = &plan.principals[first];
            problems.push(at.principal(
                p,
                format!(
                    "'{}' and '{}' (line {}) are one account of the export, {}: write it one way",
                    echo(&p.principal),
                    echo(&q.principal),
                    q.lines[0],
                    echo(&acct.dn)
                ),
            ));
            continue;
        }
        named.insert(id, i);
        let p = &mut plan.principals[i];
        p.dn = acct.dn.clone();
        p.dn_source = DnSource::Export;
        p.sam_account_name = acct.sam().to_string();
        let before = Before {
            values: (acct.delegate_to.iter())
                .map(|v| Spn::from(v.as_str()))
                .collect(),
            user_account_control: acct.uac.unwrap_or(0),
            protocol: if acct.protocol_transition() {
                Protocol::Any
            } else {
                Protocol::Kerberos
            },
            domain_controller: acct.is_dc(),
        };
        p.delta = Some(delta(p, &before));
        let principal: Arc<str> = p.principal.as_str().into();
        let mut warn = |message: Message| {
            warnings.push(Warning {
                line: p.lines[0],
                principal: principal.clone(),
                message,
            })
        };
        if p.kind == PrincipalType::User && acct.spns == 0 {
            warn(Message::new(
                Rule::Kcd108,
                format!(
                    "the user account '{}' has no servicePrincipalName in the export: an account without one cannot receive the service tickets that delegation passes on",
                    echo(acct.sam())
                ),
            ));
        }
        if opts.spn_forms == SpnForms::Fqdn {
            for (fqdn, short) in short_forms_left(p, &before) {
                warn(Message::new(
                    Rule::Kcd109,
                    format!(
                        "'{}' stays: --spn-forms fqdn removes only '{}'; remove both forms (--spn-forms both) to end the delegation",
                        echo(&short),
                        echo(&fqdn)
                    ),
                ));
            }
        }
        p.before = Some(before);
        for host in missing_hosts(p, snap) {
            warn(Message::HostNotInExport(Box::new((
                host.into(),
                export_shared.clone(),
            ))));
        }
    }
    plan.principals
        .sort_by_cached_key(|p| (p.dn.to_lowercase(), p.dn.clone()));
    plan.warnings.extend(warnings);
    plan.warnings.sort_unstable();
    plan.warnings.dedup();
}

/// Values `p` removes in their FQDN form whose short form the account
/// holds and keeps: (removed value, short form kept).
fn short_forms_left(p: &PrincipalPlan, before: &Before) -> Vec<(String, String)> {
    let held: HashSet<String> = (before.values.iter())
        .map(|v| names::fold(v).into_owned())
        .collect();
    let removed: HashSet<String> = p
        .remove
        .iter()
        .map(|v| names::fold(&v).into_owned())
        .collect();
    let mut left = Vec::new();
    for v in p.remove.iter() {
        let Some((class, rest)) = v.split_once('/') else {
            continue;
        };
        let (host, port) = rest
            .rsplit_once(':')
            .map_or((rest, None), |(h, port)| (h, Some(port)));
        let Some((short, _)) = names::split_label(host) else {
            continue;
        };
        let short_form = match port {
            Some(port) => format!("{class}/{short}:{port}"),
            None => format!("{class}/{short}"),
        };
        let key = names::fold(&short_form).into_owned();
        if held.contains(&key) && !removed.contains(&key) {
            left.push((v, short_form));
        }
    }
    left
}

fn delta(p: &PrincipalPlan, before: &Before) -> Delta {
    fn lower<S: AsRef<str>>(v: impl IntoIterator<Item = S>) -> HashSet<String> {
        v.into_iter()
            .map(|s| names::fold(s.as_ref()).into_owned())
            .collect()
    }
    let current = lower(before.values.iter());
    let (delete, add): (Vec<Spn>, Vec<Spn>) = match p.mode {
        Mode::Update => {
            let remove = lower(p.remove.iter());
            (
                before
                    .values
                    .iter()
                    .filter(|v| remove.contains(names::fold(v).as_ref()))
                    .cloned()
                    .collect(),
                p.add
                    .iter_shared()
                    .filter(|v| !current.contains(names::fold(v).as_ref()))
                    .collect(),
            )
        }
        Mode::Replace => {
            let want = lower(p.replace.iter());
            (
                before
                    .values
                    .iter()
                    .filter(|v| !want.contains(names::fold(v).as_ref()))
                    .cloned()
                    .collect(),
                p.replace
                    .iter_shared()
                    .filter(|v| !current.contains(names::fold(v).as_ref()))
                    .collect(),
            )
        }
    };
    let deleted = lower(delete.iter());
    let mut after: Vec<Spn> = before
        .values
        .iter()
        .filter(|v| !deleted.contains(names::fold(v).as_ref()))
        .cloned()
        .collect();
    after.extend(add.iter().cloned());
    let from = before.user_account_control;
    let to = match p.protocol {
        Some(Protocol::Any) => from | uac::TRUSTED_TO_AUTH_FOR_DELEGATION,
        Some(Protocol::Kerberos) => from & !uac::TRUSTED_TO_AUTH_FOR_DELEGATION,
        None => from,
    };
    let to = if p.unconstrained_off {
        to & !uac::TRUSTED_FOR_DELEGATION
    } else {
        to
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
    let mut seen: HashSet<String> = HashSet::new();
    let values = if p.mode == Mode::Replace {
        &p.replace
    } else {
        &p.add
    };
    values.for_each(|v| {
        if let Some(h) = directory::spn_host(v) {
            if !snap.host_exists(h) && seen.insert(names::fold(h).into_owned()) {
                out.push(h.to_string());
            }
        }
    });
    out
}

/// Resource-based delegation against the export: each resource resolved
/// (as a principal is), each principal it allows resolved to its SID (the
/// export's; the CSV's `principal_sid` must agree, or stands alone for a
/// principal the export does not hold), and the descriptor merged by SID.
fn resources(
    file: &str,
    columns: &Columns,
    plan: &mut Plan,
    snap: &Snapshot,
    problems: &mut Problems,
) {
    let export = file_name(&snap.info.file.name);
    let at = Places {
        csv: file,
        column: &columns.principal,
        export: &export,
    };
    let holder = |sid: &str| Holder {
        sid: sid.to_string(),
        name: (snap.sid_names.get(sid).cloned())
            .or_else(|| descriptor::well_known(sid).map(str::to_string)),
    };
    for r in &mut plan.resources {
        let who = Who {
            written: &r.resource,
            kind: r.kind,
            sam: &r.sam_account_name,
            domain: &r.domain,
            dn: (r.dn_source == DnSource::Csv).then_some(r.dn.as_str()),
            line: r.lines[0],
            column: &columns.target,
        };
        let acct = match resolve(&who, snap, &at) {
            Ok(a) => a,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let before = acct.rbcd_descriptor.as_ref();
        let mut ok = true;
        for a in r.add.iter_mut().chain(&mut r.remove).chain(&mut r.replace) {
            match principal_sid(a, snap, columns, &at) {
                Ok(sid) => a.sid = Some(sid),
                Err(p) => {
                    problems.push(p);
                    ok = false;
                }
            }
        }
        let resource_problem = |message: String| {
            Problem::new(Location::cell(file, r.lines[0], &columns.target), message)
        };
        if let Some((d, _)) = before.filter(|(d, _)| d.sacl) {
            let _ = d;
            problems.push(resource_problem(format!(
                "the descriptor of {} in the export holds a SACL, which kcdplan does not write back: change it with the AD tools",
                echo(&acct.dn)
            )));
            continue;
        }
        if !ok {
            continue;
        }
        let sids = |list: &[Allowed]| -> Vec<String> {
            list.iter().filter_map(|a| a.sid.clone()).collect()
        };
        let dacl_before: &[descriptor::Ace] = before.map_or(&[], |(d, _)| &d.dacl);
        let (add, remove, replace) = (sids(&r.add), sids(&r.remove), sids(&r.replace));
        let how = match r.mode {
            Mode::Update => Merge::Update {
                add: &add,
                remove: &remove,
            },
            Mode::Replace => Merge::Replace(&replace),
        };
        let after = descriptor::merge(dacl_before, how);
        let changes = after != dacl_before;
        let written = if after.is_empty() {
            Ok(None)
        } else {
            let d = descriptor::Descriptor {
                owner: (before.and_then(|(d, _)| d.owner.clone()))
                    .or_else(|| Some(descriptor::ADMINISTRATORS.to_string())),
                group: before.and_then(|(d, _)| d.group.clone()),
                dacl: after.clone(),
                sacl: false,
            };
            d.to_bytes().map(|b| Some((b, d.to_sddl())))
        };
        let written = match (written, changes) {
            (Ok(w), _) => w,
            // Unchanged: nothing is written, whatever the descriptor holds.
            (Err(_), false) => None,
            (Err(e), true) => {
                problems.push(resource_problem(format!(
                    "the descriptor of {} in the export holds {e}: kcdplan will not rewrite it and lose that; review it (kcdplan audit), or plan with action=replace",
                    echo(&acct.dn)
                )));
                continue;
            }
        };
        let (was, now) = (
            descriptor::allowed(dacl_before),
            descriptor::allowed(&after),
        );
        r.dn = acct.dn.clone();
        r.dn_source = DnSource::Export;
        r.sam_account_name = acct.sam().to_string();
        r.before = Some(RbcdBefore {
            allowed: was.iter().map(|s| holder(s)).collect(),
            sddl: before.map(|(d, _)| d.to_sddl()),
            value: before.map(|(_, v)| v.clone()),
            domain_controller: acct.is_dc(),
        });
        r.delta = Some(RbcdDelta {
            add: (now.iter())
                .filter(|s| !was.contains(s))
                .map(|s| holder(s))
                .collect(),
            remove: (was.iter())
                .filter(|s| !now.contains(s))
                .map(|s| holder(s))
                .collect(),
            after: now.iter().map(|s| holder(s)).collect(),
            sddl: written.as_ref().map(|(_, s)| s.clone()),
            odd: (after.iter())
                .filter_map(|a| {
                    descriptor::odd(a).map(|why| {
                        format!("{} for {} ({why})", descriptor::kind_name(a.kind), a.sid)
                    })
                })
                .collect(),
            descriptor: written.map(|(b, _)| b),
            changes,
        });
    }
}

/// The SID of a principal a resource allows: the export's account (found
/// by (domain, sAMAccountName), and a computer by its DNS name too), which
/// the CSV's SID, if any, must match; or the CSV's SID alone when the
/// export does not hold the account.
fn principal_sid(
    a: &Allowed,
    snap: &Snapshot,
    columns: &Columns,
    at: &Places,
) -> Result<String, Problem> {
    let here = |column: &str, message: String| {
        Problem::new(Location::cell(at.csv, a.line, column), message)
    };
    let mut found: Vec<&Account> = snap.by_account(&a.domain, &a.sam_account_name);
    if a.kind == PrincipalType::Computer {
        if let Some(name) = a.sam_account_name.strip_suffix('$') {
            for b in snap.by_host(&format!("{name}.{}", a.domain)) {
                if !found.iter().any(|x| x.line == b.line) {
                    found.push(b);
                }
            }
        }
    }
    let record = |x: &Account| format!("{} (line {})", echo(&x.dn), x.line);
    match (found.as_slice(), &a.sid) {
        ([], Some(sid)) => Ok(sid.clone()),
        ([], None) => Err(here(
            &columns.principal,
            format!(
                "principal '{}' (sAMAccountName '{}' in domain '{}') is not in the export {}: export its domain too, or give its SID in the principal_sid column (a principal of another forest)",
                echo(&a.principal),
                echo(&a.sam_account_name),
                echo(&a.domain),
                echo(at.export)
            ),
        )),
        ([one], given) => {
            let Some(sid) = &one.sid else {
                return Err(here(
                    &columns.principal,
                    format!(
                        "principal '{}' is {} in the export {}, which has no objectSid: export the attribute (see kcdplan export-script)",
                        echo(&a.principal),
                        record(one),
                        echo(at.export)
                    ),
                ));
            };
            match given {
                Some(g) if !g.eq_ignore_ascii_case(sid) => Err(here(
                    &columns.principal_sid,
                    format!(
                        "principal '{}' has SID '{}' in the CSV, but its account in the export, {}, has '{}': which account is meant cannot be told",
                        echo(&a.principal),
                        echo(g),
                        record(one),
                        echo(sid)
                    ),
                )),
                _ => Ok(sid.clone()),
            }
        }
        (many, _) => Err(here(
            &columns.principal,
            format!(
                "principal '{}' names {} accounts of the export {}: {}",
                echo(&a.principal),
                many.len(),
                echo(at.export),
                many.iter().map(|x| record(x)).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}
