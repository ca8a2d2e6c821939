//! Raw cells to checked rows: every field parsed and checked on its own,
//! each problem located at its file, line and column. Nothing here looks
//! across rows; that is the planner's job.

use std::borrow::Cow;

use serde::Serialize;

use crate::columns::{Field, Header};
use crate::config::Options;
use crate::dn::{self, Dn};
use crate::error::{Location, Problem};
use crate::input::RawRow;
use crate::names;
use crate::sanitize::show;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Add,
    Remove,
    Replace,
}

/// Protocol transition setting for a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Kerberos only: TRUSTED_TO_AUTH_FOR_DELEGATION cleared.
    Kerberos,
    /// Use any authentication protocol: TRUSTED_TO_AUTH_FOR_DELEGATION set.
    Any,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Kerberos => "kerberos",
            Protocol::Any => "any",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalType {
    Computer,
    User,
    Gmsa,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Computer => "computer",
            PrincipalType::User => "user",
            PrincipalType::Gmsa => "gmsa",
        }
    }
}

/// The delegating account of a row, borrowed from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal<'a> {
    pub kind: PrincipalType,
    /// As written in the CSV.
    pub written: &'a str,
    /// Computer: the host's first label; user/gMSA: the name without `$`.
    pub name: &'a str,
    /// DNS domain the account lives in (lowercase), when known.
    pub domain: Option<Cow<'a, str>>,
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
        out.push_str(self.domain.as_deref().unwrap_or(""));
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
    pub dn: Option<Dn>,
    pub comment: Option<&'a str>,
}

/// A short cell in ASCII lowercase, to match keywords without allocating;
/// a cell too long to be a keyword matches none.
struct Keyword {
    buf: [u8; 16],
    len: usize,
}

impl Keyword {
    fn of(s: &str) -> Keyword {
        let mut k = Keyword {
            buf: [0; 16],
            len: 0,
        };
        if s.len() <= k.buf.len() {
            k.buf[..s.len()].copy_from_slice(s.as_bytes());
            k.buf.make_ascii_lowercase();
            k.len = s.len();
        }
        k
    }

    fn as_str(&self) -> &str {
        match std::str::from_utf8(&self.buf[..self.len]) {
            Ok(s) if self.len > 0 => s,
            // Too long (or empty, which the reader never gives): no keyword.
            _ => "\u{1}",
        }
    }
}

/// What checking a row found, borrowing nothing from it: found on the
/// reader thread, next to the reading, and handed over with the row's
/// cells; [`Checked::row`] then puts the [`Row`] together without checking
/// anything again.
#[derive(Debug, Clone)]
pub struct Checked {
    action: Action,
    protocol: Option<Protocol>,
    kind: PrincipalType,
    dn: Option<Dn>,
    /// `None` only for a clearing `replace` (no service).
    service: Option<names::ServiceSpec>,
    /// The target host's length in its cell (before `:port`), and the port.
    target: Option<(usize, Option<u16>)>,
}

/// Checks one row on its own: what [`Checked::row`] needs to build it, or
/// every problem in it, in the order of its columns.
pub fn check_row(
    file: &str,
    header: &Header,
    raw: &RawRow<'_>,
    opts: &Options,
) -> Result<Checked, Vec<Problem>> {
    let mut problems = Vec::new();
    let at = |f: Field| Location::cell(file, raw.line, header.spelling(f));
    let mut bad = |f: Field, msg: String| problems.push(Problem::new(at(f), msg));

    let action = match raw
        .get(Field::Action)
        .map(Keyword::of)
        .as_ref()
        .map(Keyword::as_str)
    {
        None | Some("add") => Some(Action::Add),
        Some("remove") | Some("delete") => Some(Action::Remove),
        Some("replace") => Some(Action::Replace),
        Some(_) => {
            bad(
                Field::Action,
                format!(
                    "'{}' is not an action; expected add, remove or replace",
                    show(raw.get(Field::Action).unwrap_or(""))
                ),
            );
            None
        }
    };
    let protocol = match raw
        .get(Field::Protocol)
        .map(Keyword::of)
        .as_ref()
        .map(Keyword::as_str)
    {
        None => None,
        Some("kerberos") | Some("kerberos-only") | Some("kerberosonly") => Some(Protocol::Kerberos),
        Some("any") => Some(Protocol::Any),
        Some(_) => {
            bad(
                Field::Protocol,
                format!(
                    "'{}' is not a protocol; expected kerberos (Kerberos only) or any (use any authentication protocol)",
                    show(raw.get(Field::Protocol).unwrap_or(""))
                ),
            );
            None
        }
    };
    let kind = match raw
        .get(Field::PrincipalType)
        .map(Keyword::of)
        .as_ref()
        .map(Keyword::as_str)
    {
        None | Some("computer") => Some(PrincipalType::Computer),
        Some("user") => Some(PrincipalType::User),
        Some("gmsa") => Some(PrincipalType::Gmsa),
        Some(_) => {
            bad(
                Field::PrincipalType,
                format!(
                    "'{}' is not a principal type; expected computer, user or gmsa",
                    show(raw.get(Field::PrincipalType).unwrap_or(""))
                ),
            );
            None
        }
    };
    let dn = match raw.get(Field::Dn) {
        None => None,
        Some(d) => match dn::parse(d) {
            Ok(dn) => Some(dn),
            Err(e) => {
                bad(Field::Dn, format!("'{}' is not a valid DN: {e}", show(d)));
                None
            }
        },
    };

    let service = raw.get(Field::Service);
    let target = raw.get(Field::Target);
    let clearing = action == Some(Action::Replace) && service.is_none() && target.is_none();

    // Principal.
    let principal_written = raw.get(Field::Principal);
    if principal_written.is_none() {
        bad(Field::Principal, "the principal is empty".into());
    }
    // Target host, parsed before the principal so its domain can serve both.
    let mut target_parts: Option<(&str, Option<u16>)> = None;
    match target {
        None if !clearing => bad(Field::Target, empty_msg("target", action)),
        None => {}
        Some(t) => match names::split_port(t) {
            Err(e) => bad(Field::Target, e),
            Ok((host, port)) => match names::check_host(host) {
                Err(e) => bad(Field::Target, e),
                Ok(()) => target_parts = Some((host, port)),
            },
        },
    }
    let spec = match service {
        None if !clearing => {
            bad(Field::Service, empty_msg("service", action));
            None
        }
        None => None,
        Some(s) => match names::parse_service(s) {
            Ok(spec) => Some(spec),
            Err(e) => {
                bad(Field::Service, format!("'{}': {e}", show(s)));
                None
            }
        },
    };

    // The principal's domain: its own, else --domain, else the target's.
    let mut principal_domain = None;
    if let (Some(p), Some(kind)) = (principal_written, kind) {
        let checked = match kind {
            PrincipalType::Computer => {
                let p_host = p.trim_end_matches('$');
                names::check_host(p_host).map(|()| names::split_label(p_host).map(|(_, d)| d))
            }
            PrincipalType::User | PrincipalType::Gmsa => names::check_sam(p).map(|()| None),
        };
        match checked {
            Err(e) => bad(Field::Principal, e),
            Ok(own) => principal_domain = Some(domain_of(own, opts, target_parts.map(|(h, _)| h))),
        }
    }

    // The target's FQDN needs a domain: its own, --domain or the principal's.
    if let Some((host, _)) = target_parts {
        let known = names::split_label(host).is_some()
            || opts.domain.is_some()
            || principal_domain.flatten().is_some()
            // The principal's own problem is already reported.
            || (principal_written.is_some() && principal_domain.is_none());
        if !known {
            bad(
                Field::Target,
                format!(
                    "'{}' is a short name and the domain is unknown; give --domain or write the FQDN",
                    show(host)
                ),
            );
        }
    }
    if let (Some(None), None) = (principal_domain, &dn) {
        bad(
            Field::Principal,
            format!(
                "'{}': the domain is unknown, so its DN cannot be derived; give --domain, an FQDN, or a dn column",
                show(principal_written.unwrap_or(""))
            ),
        );
    }

    if !problems.is_empty() {
        // Report a row's problems in the order of its columns.
        let pos = |p: &Problem| {
            header
                .written
                .iter()
                .position(|w| Some(w.as_str()) == p.location.column.as_deref())
        };
        problems.sort_by_key(pos);
        return Err(problems);
    }
    Ok(Checked {
        action: action.expect("checked above"),
        protocol,
        kind: kind.expect("checked above"),
        dn,
        service: spec,
        target: target_parts.map(|(host, port)| (host.len(), port)),
    })
}

impl Checked {
    /// The row `raw`, which [`check_row`] found good as this.
    pub fn row<'a>(self, raw: &RawRow<'a>, opts: &'a Options) -> Row<'a> {
        let host = self
            .target
            .map(|(len, port)| (&raw.get(Field::Target).expect("checked")[..len], port));
        let p = raw.get(Field::Principal).expect("checked");
        let (name, own) = match self.kind {
            PrincipalType::Computer => {
                let p_host = p.trim_end_matches('$');
                match names::split_label(p_host) {
                    Some((s, d)) => (s, Some(d)),
                    None => (p_host, None),
                }
            }
            PrincipalType::User | PrincipalType::Gmsa => (p.trim_end_matches('$'), None),
        };
        let principal = Principal {
            kind: self.kind,
            written: p,
            name,
            domain: domain_of(own, opts, host.map(|(h, _)| h)).map(names::lowercase),
        };
        // The target's FQDN, from the row, --domain or the principal's domain.
        let target = host.map(|(host, port)| match names::split_label(host) {
            Some((short, _)) => Target {
                short,
                fqdn: Cow::Borrowed(host),
                fqdn_written: true,
                port,
            },
            None => {
                let d = (opts.domain.as_deref())
                    .or(principal.domain.as_deref())
                    .expect("checked: the domain is known");
                Target {
                    short: host,
                    fqdn: Cow::Owned(format!("{host}.{d}")),
                    fqdn_written: false,
                    port,
                }
            }
        });
        let service = raw.get(Field::Service);
        Row {
            line: raw.line,
            principal,
            service_written: service.unwrap_or(""),
            classes: self
                .service
                .map_or_else(Vec::new, |s| s.classes(service.unwrap_or(""))),
            target,
            action: self.action,
            protocol: self.protocol,
            dn: self.dn,
            comment: raw.get(Field::Comment),
        }
    }
}

/// A principal's domain as written: its own (a computer written as an
/// FQDN), else --domain, else its target's. The one rule, for checking a
/// row and for building it.
fn domain_of<'a>(
    own: Option<&'a str>,
    opts: &'a Options,
    target_host: Option<&'a str>,
) -> Option<&'a str> {
    own.or(opts.domain.as_deref())
        .or_else(|| target_host.and_then(|h| names::split_label(h).map(|(_, d)| d)))
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
