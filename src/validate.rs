//! Raw cells to checked rows: every field of a row parsed and checked on
//! its own, each problem located at its file, line and column. Nothing
//! here looks across rows; that is the planner's job.

use std::borrow::Cow;

use crate::config::Options;
use crate::csv::header::{Field, Header};
use crate::csv::record::RawRow;
use crate::dn::{self, Dn};
use crate::error::{Location, Problem};
use crate::model::{Action, Keyword, PrincipalType, Protocol};
use crate::names;
use crate::sanitize::echo;

/// The delegating account of a row, borrowed from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal<'a> {
    pub kind: PrincipalType,
    /// As written in the CSV.
    pub written: &'a str,
    /// Computer: the host's first label; user/gMSA: the name without `$`.
    pub name: &'a str,
    /// DNS domain the account lives in (folded): with the sAMAccountName,
    /// the account's identity.
    pub domain: Cow<'a, str>,
}

impl Principal<'_> {
    /// The account's sAMAccountName (`VMHOST1$`, `svc-web`, `gmsa-web$`).
    pub fn sam(&self) -> String {
        match self.kind {
            PrincipalType::Computer => format!("{}$", self.name.to_uppercase()),
            PrincipalType::Gmsa => format!("{}$", self.name),
            PrincipalType::User => self.written.to_string(),
        }
    }

    /// Grouping key (same account, however it was spelled), written into
    /// `out`: the domain and the lowercase sAMAccountName.
    pub fn key_into(&self, out: &mut String) {
        out.clear();
        out.push_str(&self.domain);
        out.push('|');
        let sam = match self.kind {
            PrincipalType::User => self.written,
            _ => self.name,
        };
        if sam.is_ascii() {
            let start = out.len();
            out.push_str(sam);
            out[start..].make_ascii_lowercase();
            if self.kind != PrincipalType::User {
                out.push('$');
            }
        } else {
            out.push_str(&self.sam().to_lowercase());
        }
    }
}

/// The host a row delegates to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    /// First label as written.
    pub short: &'a str,
    /// Fully qualified name (written or derived from the domain).
    pub fqdn: Cow<'a, str>,
    /// Whether the FQDN was written in the CSV (not derived).
    pub fqdn_written: bool,
    pub port: Option<u16>,
}

impl Target<'_> {
    /// The DNS domain of the target (everything after the first label).
    pub fn domain(&self) -> &str {
        names::split_label(&self.fqdn).map_or("", |(_, d)| d)
    }
}

/// A checked row; text is borrowed from the input where it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    pub line: u64,
    pub principal: Principal<'a>,
    /// Service as written (for messages).
    pub service_written: &'a str,
    /// Canonical service classes (two for `hyperv`, none for a clearing `replace`).
    pub classes: Vec<&'a str>,
    /// `None` only for a `replace` row with no service and target (clear).
    pub target: Option<Target<'a>>,
    pub action: Action,
    pub protocol: Option<Protocol>,
    /// `unconstrained=off`: turn the account's unconstrained delegation off.
    pub unconstrained_off: bool,
    pub dn: Option<Dn>,
    pub comment: Option<&'a str>,
}

/// Checks one row: the [`Row`] it stands for, or every problem in it, in
/// the order of its columns.
pub fn row<'a>(
    file: &str,
    header: &Header,
    raw: &RawRow<'a>,
    opts: &'a Options,
) -> Result<Row<'a>, Vec<Problem>> {
    let mut problems = Vec::new();
    let at = |f: Field| Location::cell(file, raw.line, header.spelling(f));
    let mut bad = |f: Field, msg: String| problems.push(Problem::new(at(f), msg));

    let action = keyword(
        raw,
        Field::Action,
        Action::Add,
        &mut bad,
        "an action; expected add, remove or replace",
    );
    let protocol = match raw.get(Field::Protocol) {
        None => Some(None),
        Some(_) => keyword(
            raw,
            Field::Protocol,
            Protocol::Any,
            &mut bad,
            "a protocol; expected kerberos (Kerberos only) or any (use any authentication protocol)",
        )
        .map(Some),
    };
    let kind = keyword(
        raw,
        Field::PrincipalType,
        PrincipalType::Computer,
        &mut bad,
        "a principal type; expected computer, user or gmsa",
    );
    let dn = match raw.get(Field::Dn) {
        None => None,
        Some(d) => match dn::parse(d) {
            Ok(dn) => Some(dn),
            Err(e) => {
                bad(Field::Dn, format!("'{}' is not a valid DN: {e}", echo(d)));
                None
            }
        },
    };

    let unconstrained_off = match raw.get(Field::Unconstrained) {
        None => false,
        Some(v) if v.trim().eq_ignore_ascii_case("off") => true,
        Some(v) => {
            bad(
                Field::Unconstrained,
                format!(
                    "'{}' is not a setting kcdplan writes; expected off (turn unconstrained delegation off) or nothing (leave it): unconstrained delegation is the riskiest form (KCD001), and kcdplan never turns it on",
                    echo(v)
                ),
            );
            false
        }
    };
    let service = raw.get(Field::Service);
    let target = raw.get(Field::Target);
    // A row that only turns unconstrained delegation off names no target.
    let flags_only = unconstrained_off
        && action != Some(Action::Replace)
        && service.is_none()
        && target.is_none();
    let clearing =
        flags_only || action == Some(Action::Replace) && service.is_none() && target.is_none();

    // Principal.
    let principal_written = raw.get(Field::Principal);
    if principal_written.is_none() {
        bad(Field::Principal, "the principal is empty".into());
    }
    // Target host, parsed before the principal so its domain can serve both.
    let mut host: Option<(&str, Option<u16>)> = None;
    match target {
        None if !clearing => bad(Field::Target, empty_msg("target", action)),
        None => {}
        Some(t) => match names::split_port(t) {
            Err(e) => bad(Field::Target, e),
            Ok((h, port)) => match names::check_host(h) {
                Err(e) => bad(Field::Target, e),
                Ok(()) => host = Some((h, port)),
            },
        },
    }
    let classes = match service {
        None if !clearing => {
            bad(Field::Service, empty_msg("service", action));
            None
        }
        None => Some(Vec::new()),
        Some(s) => match names::parse_service(s) {
            Ok(spec) => Some(spec.classes(s)),
            Err(e) => {
                bad(Field::Service, format!("'{}': {e}", echo(s)));
                None
            }
        },
    };

    // The principal: its name, and its domain, fixed by the principal
    // alone: its own FQDN (a computer), else --domain, else its DN's. A
    // target's domain is never assumed: a same-named account may live in
    // the target's domain and another.
    let mut principal = None;
    if let (Some(p), Some(kind)) = (principal_written, kind) {
        let checked = match kind {
            PrincipalType::Computer => {
                let p_host = p.trim_end_matches('$');
                names::check_host(p_host).map(|()| match names::split_label(p_host) {
                    Some((name, own)) => (name, Some(own)),
                    None => (p_host, None),
                })
            }
            PrincipalType::User | PrincipalType::Gmsa => names::check_sam(p)
                .and_then(|()| names::check_not_sid_or_guid(p))
                .map(|()| (p.trim_end_matches('$'), None)),
        };
        let dn_domain = dn.as_ref().and_then(Dn::domain);
        match checked {
            Err(e) => bad(Field::Principal, e),
            Ok((name, own)) => match own.or(opts.domain.as_deref()) {
                Some(d) => {
                    let domain = names::fold(d);
                    match &dn_domain {
                        Some(in_dn) if *in_dn != domain => bad(
                            Field::Dn,
                            format!(
                                "'{}' is in domain '{}', but the principal '{}' is in '{}'; the DN must name the account in its own domain",
                                echo(raw.get(Field::Dn).unwrap_or("")),
                                echo(in_dn),
                                echo(p),
                                echo(&domain)
                            ),
                        ),
                        _ => {}
                    }
                    principal = Some(Principal {
                        kind,
                        written: p,
                        name,
                        domain,
                    });
                }
                None => match dn_domain {
                    Some(d) => {
                        principal = Some(Principal {
                            kind,
                            written: p,
                            name,
                            domain: Cow::Owned(d),
                        })
                    }
                    None => bad(Field::Principal, unknown_domain(p, kind, dn.is_some())),
                },
            },
        }
    }

    // The target's FQDN needs a domain: its own, --domain or the principal's.
    let mut fqdn_target = None;
    if let Some((h, port)) = host {
        let domain = opts
            .domain
            .as_deref()
            .or(principal.as_ref().map(|p| p.domain.as_ref()));
        match (names::split_label(h), domain) {
            (Some((short, _)), _) => {
                fqdn_target = Some(Target {
                    short,
                    fqdn: Cow::Borrowed(h),
                    fqdn_written: true,
                    port,
                })
            }
            (None, Some(d)) => {
                fqdn_target = Some(Target {
                    short: h,
                    fqdn: Cow::Owned(format!("{h}.{d}")),
                    fqdn_written: false,
                    port,
                })
            }
            // The principal's own problem is already reported.
            (None, None) if principal_written.is_some() && principal.is_none() => {}
            (None, None) => bad(
                Field::Target,
                format!(
                    "'{}' is a short name and the domain is unknown; give --domain or write the FQDN",
                    echo(h)
                ),
            ),
        }
    }

    match (principal, action, protocol, classes) {
        (Some(principal), Some(action), Some(protocol), Some(classes)) if problems.is_empty() => {
            Ok(Row {
                line: raw.line,
                principal,
                service_written: service.unwrap_or(""),
                classes,
                target: fqdn_target,
                action,
                protocol,
                unconstrained_off,
                dn,
                comment: raw.get(Field::Comment),
            })
        }
        _ => {
            // Report a row's problems in the order of its columns.
            let pos = |p: &Problem| {
                header
                    .written
                    .iter()
                    .position(|w| Some(w.as_str()) == p.location.column.as_deref())
            };
            problems.sort_by_key(pos);
            Err(problems)
        }
    }
}

/// The keyword in column `field` (`default` when blank), or a problem
/// saying the cell is not `what`.
fn keyword<K: Keyword>(
    raw: &RawRow<'_>,
    field: Field,
    default: K,
    bad: &mut impl FnMut(Field, String),
    what: &str,
) -> Option<K> {
    let Some(cell) = raw.get(field) else {
        return Some(default);
    };
    let k = K::parse(cell);
    if k.is_none() {
        bad(field, format!("'{}' is not {what}", echo(cell)));
    }
    k
}

/// Why a principal's domain is unknown, and what to give.
fn unknown_domain(p: &str, kind: PrincipalType, has_dn: bool) -> String {
    let dn = if has_dn {
        " (the dn column has no DC= components)"
    } else {
        ""
    };
    match kind {
        PrincipalType::Computer => format!(
            "'{}' is a short name and its domain is unknown{dn}: write its FQDN, give --domain, or a dn column; the target's domain is not assumed",
            echo(p)
        ),
        _ => format!(
            "the domain of the account '{}' is unknown{dn}: give --domain or a dn column; the target's domain is not assumed, as an account of that name may exist in several domains",
            echo(p)
        ),
    }
}

fn empty_msg(what: &str, action: Option<Action>) -> String {
    if action == Some(Action::Replace) {
        format!(
            "the {what} is empty (a replace row with neither service nor target clears all values)"
        )
    } else {
        format!("the {what} is empty")
    }
}
