//! Raw cells to checked rows: every field of a row parsed and checked on
//! its own, each problem located at its file, line and column. Nothing
//! here looks across rows; that is the planner's job.

use std::borrow::Cow;

use crate::config::Options;
use crate::csv::header::{Field, Header};
use crate::csv::record::RawRow;
use crate::dn::{self, Dn};
use crate::error::{Location, Problem};
use crate::model::{Action, Delegation, Keyword, PrincipalType, Protocol};
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
            PrincipalType::User => self.user_sam().to_string(),
        }
    }

    /// A user's sAMAccountName as written: the name before any `@domain`
    /// (a resource row may name the domain so).
    fn user_sam(&self) -> &str {
        self.written.split('@').next().unwrap_or(self.written)
    }

    /// Grouping key (same account, however it was spelled), written into
    /// `out`: the domain and the lowercase sAMAccountName.
    pub fn key_into(&self, out: &mut String) {
        out.clear();
        out.push_str(&self.domain);
        out.push('|');
        let sam = match self.kind {
            PrincipalType::User => self.user_sam(),
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

/// A row of resource-based delegation: the principal may act for users
/// toward the resource (the account whose descriptor changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRow<'a> {
    pub line: u64,
    /// `None` only for a `replace` row with no principal (clear).
    pub principal: Option<Principal<'a>>,
    /// The principal's SID, when the CSV gives it (a principal of another
    /// forest, or a check of the one found).
    pub principal_sid: Option<&'a str>,
    pub resource: Principal<'a>,
    pub action: Action,
    /// The resource's DN.
    pub dn: Option<Dn>,
    pub comment: Option<&'a str>,
}

/// A checked row of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked<'a> {
    Constrained(Row<'a>),
    Resource(ResourceRow<'a>),
}

/// Checks one row: the row it stands for, or every problem in it, in the
/// order of its columns.
pub fn row<'a>(
    file: &str,
    header: &Header,
    raw: &RawRow<'a>,
    opts: &'a Options,
) -> Result<Checked<'a>, Vec<Problem>> {
    let at = |f: Field| Location::cell(file, raw.line, header.spelling(f));
    match raw.get(Field::Delegation).map(|d| (d, Delegation::parse(d))) {
        None | Some((_, Some(Delegation::Constrained))) => {
            constrained(file, header, raw, opts).map(Checked::Constrained)
        }
        Some((_, Some(Delegation::Resource))) => {
            resource(file, header, raw, opts).map(Checked::Resource)
        }
        Some((d, None)) => Err(vec![Problem::new(
            at(Field::Delegation),
            format!(
                "'{}' is not a delegation; expected constrained (msDS-AllowedToDelegateTo, on the principal) or resource (alias rbcd: msDS-AllowedToActOnBehalfOfOtherIdentity, on the target)",
                echo(d)
            ),
        )]),
    }
}

/// A row of constrained delegation.
fn constrained<'a>(
    file: &str,
    header: &Header,
    raw: &RawRow<'a>,
    opts: &'a Options,
) -> Result<Row<'a>, Vec<Problem>> {
    let mut problems = Vec::new();
    let at = |f: Field| Location::cell(file, raw.line, header.spelling(f));
    let mut bad = |f: Field, msg: String| problems.push(Problem::new(at(f), msg));

    let action = action(raw, &mut bad);
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
    let kind = principal_type(raw, Field::PrincipalType, &mut bad);
    let dn = dn_cell(raw, &mut bad);

    for field in [Field::TargetType, Field::PrincipalSid] {
        if raw.get(field).is_some() {
            bad(
                field,
                format!(
                    "{} is for resource rows (delegation=resource) only",
                    field.name()
                ),
            );
        }
    }
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
            bad(
                Field::Service,
                if header.has(Field::Service) {
                    empty_msg("service", action)
                } else {
                    "the CSV has no service column, which a row of constrained delegation needs (a row of resource-based delegation says delegation=resource)".into()
                },
            );
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
            in_column_order(header, &mut problems);
            Err(problems)
        }
    }
}

/// A row of resource-based delegation. The principal and the resource are
/// each named on their own: a computer by its FQDN (or its short name with
/// --domain), a user or gMSA by its sAMAccountName, with `@domain` or
/// --domain. Neither's domain is taken from the other: RBCD crosses
/// domains.
fn resource<'a>(
    file: &str,
    header: &Header,
    raw: &RawRow<'a>,
    opts: &'a Options,
) -> Result<ResourceRow<'a>, Vec<Problem>> {
    let mut problems = Vec::new();
    let at = |f: Field| Location::cell(file, raw.line, header.spelling(f));
    let mut bad = |f: Field, msg: String| problems.push(Problem::new(at(f), msg));
    let action = action(raw, &mut bad);
    let not_here = [
        (Field::Service, "resource-based delegation covers every service of the target: leave service blank in a resource row"),
        (Field::Protocol, "the KDC always allows protocol transition for resource-based delegation: leave protocol blank in a resource row"),
        (Field::Unconstrained, "unconstrained is for constrained rows: a resource row changes the target's descriptor only"),
    ];
    for (field, why) in not_here {
        if let Some(v) = raw.get(field) {
            bad(field, format!("'{}': {why}", echo(v)));
        }
    }
    let kind = principal_type(raw, Field::PrincipalType, &mut bad);
    let target_kind = principal_type(raw, Field::TargetType, &mut bad);
    let dn = dn_cell(raw, &mut bad);
    let principal_sid = raw.get(Field::PrincipalSid);
    if let Some(Err(e)) = principal_sid.map(names::check_sid) {
        bad(Field::PrincipalSid, e);
    }
    // The principal: blank only in a replace row, which then clears.
    let principal = match (raw.get(Field::Principal), kind) {
        (None, _) if action == Some(Action::Replace) => None,
        (None, _) => {
            bad(
                Field::Principal,
                "the principal is empty (a replace row with no principal clears the target's list)"
                    .into(),
            );
            None
        }
        (Some(p), Some(kind)) => match account(p, kind, opts.domain.as_deref(), None) {
            Ok(a) => Some(a),
            Err(e) => {
                bad(Field::Principal, e);
                None
            }
        },
        (Some(_), None) => None,
    };
    if principal.is_none() && raw.get(Field::Principal).is_none() && principal_sid.is_some() {
        bad(
            Field::PrincipalSid,
            "a SID without a principal: name the principal too".into(),
        );
    }
    let dn_domain = dn.as_ref().and_then(Dn::domain);
    let resource = match (raw.get(Field::Target), target_kind) {
        (None, _) => {
            bad(
                Field::Target,
                "the target is empty: a resource row names the account delegated to (the resource)"
                    .into(),
            );
            None
        }
        (Some(t), Some(kind)) => {
            match account(t, kind, opts.domain.as_deref(), dn_domain.as_deref()) {
                Ok(a) => Some(a),
                Err(e) => {
                    bad(Field::Target, e);
                    None
                }
            }
        }
        (Some(_), None) => None,
    };
    if let (Some(r), Some(in_dn)) = (&resource, &dn_domain) {
        if *in_dn != r.domain {
            bad(
                Field::Dn,
                format!(
                    "'{}' is in domain '{}', but the target '{}' is in '{}'; in a resource row the DN names the target",
                    echo(raw.get(Field::Dn).unwrap_or("")),
                    echo(in_dn),
                    echo(r.written),
                    echo(&r.domain)
                ),
            );
        }
    }
    match (resource, action) {
        (Some(resource), Some(action)) if problems.is_empty() => Ok(ResourceRow {
            line: raw.line,
            principal,
            principal_sid,
            resource,
            action,
            dn,
            comment: raw.get(Field::Comment),
        }),
        _ => {
            in_column_order(header, &mut problems);
            Err(problems)
        }
    }
}

/// An account named in a resource row: a computer by FQDN or short name,
/// a user or gMSA by sAMAccountName, optionally `@domain`. Its domain: its
/// own, else `domain` (--domain), else `dn_domain`.
fn account<'a>(
    written: &'a str,
    kind: PrincipalType,
    domain: Option<&'a str>,
    dn_domain: Option<&str>,
) -> Result<Principal<'a>, String> {
    let (name, own) = match kind {
        PrincipalType::Computer => {
            let host = written.trim_end_matches('$');
            if host.contains(':') {
                return Err(format!(
                    "'{}' holds a port: a resource row names an account, not a service",
                    echo(written)
                ));
            }
            names::check_host(host)?;
            match names::split_label(host) {
                Some((name, own)) => (name, Some(own)),
                None => (host, None),
            }
        }
        PrincipalType::User | PrincipalType::Gmsa => {
            let (sam, own) = match written.split_once('@') {
                Some((sam, d)) => {
                    names::check_host(d)?;
                    (sam, Some(d))
                }
                None => (written, None),
            };
            names::check_sam(sam)?;
            names::check_not_sid_or_guid(sam)?;
            (sam.trim_end_matches('$'), own)
        }
    };
    let domain = match (own, domain, dn_domain) {
        (Some(d), _, _) | (None, Some(d), _) | (None, None, Some(d)) => {
            Cow::Owned(names::fold(d).into_owned())
        }
        (None, None, None) => {
            return Err(format!(
                "the domain of '{}' is unknown: write {}, or give --domain",
                echo(written),
                match kind {
                    PrincipalType::Computer => "its FQDN",
                    _ => "it as name@domain",
                }
            ))
        }
    };
    Ok(Principal {
        kind,
        written,
        name,
        domain,
    })
}

fn action(raw: &RawRow<'_>, bad: &mut impl FnMut(Field, String)) -> Option<Action> {
    keyword(
        raw,
        Field::Action,
        Action::Add,
        bad,
        "an action; expected add, remove or replace",
    )
}

/// An account type, in the principal_type or target_type column.
fn principal_type(
    raw: &RawRow<'_>,
    field: Field,
    bad: &mut impl FnMut(Field, String),
) -> Option<PrincipalType> {
    let what = match field {
        Field::TargetType => "a target type; expected computer, user or gmsa",
        _ => "a principal type; expected computer, user or gmsa",
    };
    keyword(raw, field, PrincipalType::Computer, bad, what)
}

/// The DN in the dn column, if any and valid.
fn dn_cell(raw: &RawRow<'_>, bad: &mut impl FnMut(Field, String)) -> Option<Dn> {
    let d = raw.get(Field::Dn)?;
    match dn::parse(d) {
        Ok(dn) => Some(dn),
        Err(e) => {
            bad(Field::Dn, format!("'{}' is not a valid DN: {e}", echo(d)));
            None
        }
    }
}

/// A row's problems in the order of its columns.
fn in_column_order(header: &Header, problems: &mut [Problem]) {
    let pos = |p: &Problem| {
        header
            .written
            .iter()
            .position(|w| Some(w.as_str()) == p.location.column.as_deref())
    };
    problems.sort_by_key(pos);
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
