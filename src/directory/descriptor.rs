//! Security identifiers and the security descriptor of
//! `msDS-AllowedToActOnBehalfOfOtherIdentity`, as exports write them:
//! binary (ldifde, ldapsearch, `Get-ADObject`; MS-DTYP 2.4.2.2 and 2.4.6)
//! or SDDL text (Samba's ldbsearch; MS-DTYP 2.5.1). Both forms decode
//! through one model, an ACE list, so that one directory audits the same
//! whichever tool exported it.

use crate::ldif::reader::AttrValue;
use crate::sanitize::echo;

/// One access control entry of a DACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ace {
    /// ACE type (MS-DTYP 2.4.4.1): 0 allowed, 1 denied, 5 allowed-object...
    pub kind: u8,
    /// ACE flags (inheritance and audit bits).
    pub flags: u8,
    pub mask: u32,
    /// `S-1-...`, or an SDDL alias that names a SID of the account's own
    /// domain (`DU`, `DA`...), which the descriptor does not spell out.
    pub sid: String,
}

/// The ACE types that grant access: allowed, allowed-object,
/// allowed-callback and allowed-callback-object.
pub const ALLOW_KINDS: [u8; 4] = [0, 5, 9, 11];

/// The ACE flag that makes an ACE apply to children only, not to the
/// object itself.
pub const INHERIT_ONLY: u8 = 0x08;

/// CONTROL_ACCESS: the right the KDC checks in a resource-based descriptor.
pub const CONTROL_ACCESS: u32 = 0x100;

/// Generic rights (GENERIC_ALL, _EXECUTE, _WRITE, _READ).
pub const GENERIC: u32 = 0xF000_0000;

/// An ACE type's name (MS-DTYP 2.4.4.1).
pub fn kind_name(kind: u8) -> &'static str {
    match kind {
        0 => "allowed",
        1 => "denied",
        2 => "audit",
        3 => "alarm",
        5 => "allowed-object",
        6 => "denied-object",
        7 => "audit-object",
        8 => "alarm-object",
        9 => "allowed-callback",
        10 => "denied-callback",
        11 => "allowed-callback-object",
        12 => "denied-callback-object",
        13 => "audit-callback",
        17 => "mandatory-label",
        18 => "resource-attribute",
        19 => "scoped-policy",
        _ => "unknown",
    }
}

/// Names of SIDs that are the same in every domain, and of the
/// well-known relative IDs of a domain (MS-DTYP 2.4.2.4).
const WELL_KNOWN: &[(&str, &str)] = &[
    ("S-1-1-0", "Everyone"),
    ("S-1-3-0", "Creator Owner"),
    ("S-1-3-1", "Creator Group"),
    ("S-1-5-2", "Network"),
    ("S-1-5-4", "Interactive"),
    ("S-1-5-6", "Service"),
    ("S-1-5-7", "Anonymous Logon"),
    ("S-1-5-9", "Enterprise Domain Controllers"),
    ("S-1-5-10", "Self"),
    ("S-1-5-11", "Authenticated Users"),
    ("S-1-5-12", "Restricted Code"),
    ("S-1-5-18", "Local System"),
    ("S-1-5-19", "Local Service"),
    ("S-1-5-20", "Network Service"),
    ("S-1-5-32-544", "BUILTIN\\Administrators"),
    ("S-1-5-32-545", "BUILTIN\\Users"),
    ("S-1-5-32-546", "BUILTIN\\Guests"),
    ("S-1-5-32-547", "BUILTIN\\Power Users"),
    ("S-1-5-32-548", "BUILTIN\\Account Operators"),
    ("S-1-5-32-549", "BUILTIN\\Server Operators"),
    ("S-1-5-32-550", "BUILTIN\\Print Operators"),
    ("S-1-5-32-551", "BUILTIN\\Backup Operators"),
    ("S-1-5-32-552", "BUILTIN\\Replicator"),
    (
        "S-1-5-32-554",
        "BUILTIN\\Pre-Windows 2000 Compatible Access",
    ),
    ("S-1-5-32-555", "BUILTIN\\Remote Desktop Users"),
    ("S-1-5-32-556", "BUILTIN\\Network Configuration Operators"),
];

/// Well-known relative IDs of a domain's accounts and groups, and their
/// SDDL aliases.
const DOMAIN_RIDS: &[(u32, &str, &str)] = &[
    (500, "", "Administrator"),
    (501, "", "Guest"),
    (502, "", "krbtgt"),
    (512, "DA", "Domain Admins"),
    (513, "DU", "Domain Users"),
    (514, "DG", "Domain Guests"),
    (515, "DC", "Domain Computers"),
    (516, "DD", "Domain Controllers"),
    (517, "CA", "Cert Publishers"),
    (518, "SA", "Schema Admins"),
    (519, "EA", "Enterprise Admins"),
    (520, "PA", "Group Policy Creator Owners"),
    (521, "RO", "Read-only Domain Controllers"),
    (525, "", "Protected Users"),
    (553, "RS", "RAS and IAS Servers"),
];

/// An SDDL alias of a domain's group (`DU`...) as the SID it stands for
/// in the domain whose SID is `domain` (`S-1-5-21-x-y-z`); other SIDs as
/// they are. Binary descriptors spell the SID out: resolved, both forms of
/// one descriptor read the same.
pub fn resolve(sid: &str, domain: Option<&str>) -> String {
    let rid = (DOMAIN_RIDS.iter()).find(|(_, alias, _)| !alias.is_empty() && *alias == sid);
    match (rid, domain) {
        (Some((rid, _, _)), Some(d)) => format!("{d}-{rid}"),
        _ => sid.to_string(),
    }
}

/// A domain SID's relative ID: the last part of `S-1-5-21-x-y-z-RID`.
pub fn domain_rid(sid: &str) -> Option<u32> {
    let rest = sid.strip_prefix("S-1-5-21-")?;
    let parts: Vec<&str> = rest.split('-').collect();
    (parts.len() == 4).then(|| parts[3].parse().ok()).flatten()
}

/// The well-known name of a SID or SDDL domain alias, if it has one.
pub fn well_known(sid: &str) -> Option<&'static str> {
    if let Some(&(_, name)) = WELL_KNOWN.iter().find(|(s, _)| *s == sid) {
        return Some(name);
    }
    let by_rid = |rid: u32| DOMAIN_RIDS.iter().find(|(r, _, _)| *r == rid);
    let by_alias = || {
        DOMAIN_RIDS
            .iter()
            .find(|(_, a, _)| !a.is_empty() && *a == sid)
    };
    domain_rid(sid)
        .and_then(by_rid)
        .or_else(by_alias)
        .map(|&(_, _, name)| name)
}

/// Whether a SID stands for a group anyone, or any computer, belongs to:
/// Everyone, Anonymous Logon, Authenticated Users, BUILTIN\Users and
/// Guests, and a domain's Users, Guests and Computers (any user may
/// create computer accounts, ten by default).
pub fn is_broad(sid: &str) -> bool {
    const BROAD: [&str; 5] = [
        "S-1-1-0",
        "S-1-5-7",
        "S-1-5-11",
        "S-1-5-32-545",
        "S-1-5-32-546",
    ];
    BROAD.contains(&sid)
        || matches!(sid, "DU" | "DG" | "DC")
        || domain_rid(sid).is_some_and(|r| matches!(r, 513..=515))
}

/// Why an ACE of a resource-based descriptor is odd, if it is: anything
/// but an allow ACE with CONTROL_ACCESS and no generic bits, applying to
/// the object.
pub fn odd(ace: &Ace) -> Option<&'static str> {
    Some(match ace.kind {
        0 if ace.flags & INHERIT_ONLY != 0 => "inherit-only: it does not apply here",
        0 if ace.mask & GENERIC != 0 => "generic rights, which the KDC does not map",
        0 if ace.mask & CONTROL_ACCESS == 0 => "no CONTROL_ACCESS, which the KDC checks",
        0 => return None,
        1 | 6 | 10 | 12 => "a deny entry",
        5 | 7 | 8 => "an object entry",
        9 | 11 | 13 => "a conditional (callback) entry",
        _ => "a type no tool writes",
    })
}

/// The SIDs an ACE list lets act, in order: ACEs are read in order, as an
/// access check reads them, so a SID denied by an earlier ACE is not
/// allowed by a later one; an inherit-only ACE does not apply to the
/// object itself. (Group membership is not known offline: a SID allowed
/// here may still be denied through a group.)
pub fn allowed(aces: &[Ace]) -> Vec<String> {
    let mut denied: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for a in aces.iter().filter(|a| a.flags & INHERIT_ONLY == 0) {
        if DENY_KINDS.contains(&a.kind) && a.mask & (CONTROL_ACCESS | 0x1000_0000) != 0 {
            denied.push(&a.sid);
        } else if ALLOW_KINDS.contains(&a.kind) && !denied.contains(&a.sid.as_str()) {
            out.push(a.sid.clone());
        }
    }
    out
}

/// The ACE types that deny access.
const DENY_KINDS: [u8; 4] = [1, 6, 10, 12];

/// A security descriptor as kcdplan reads and writes one: owner, group
/// and DACL (a SACL is only noted: this attribute never needs one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub owner: Option<String>,
    pub group: Option<String>,
    pub dacl: Vec<Ace>,
    /// Whether the descriptor holds a SACL.
    pub sacl: bool,
}

/// The access mask the AD module and samba-tool write for a principal
/// allowed to delegate (the KDC checks CONTROL_ACCESS, 0x100, within it).
pub const FULL_MASK: u32 = 0x000F_01FF;

/// BUILTIN\Administrators, the owner the AD module and samba-tool write.
pub const ADMINISTRATORS: &str = "S-1-5-32-544";

impl Descriptor {
    /// The descriptor the AD module and `samba-tool delegation
    /// add-principal` write: owner BUILTIN\Administrators, one allow ACE
    /// with the full mask per SID, in order.
    pub fn allowing(sids: &[String]) -> Descriptor {
        Descriptor {
            owner: Some(ADMINISTRATORS.to_string()),
            group: None,
            dacl: sids.iter().map(|s| Ace::allow(s)).collect(),
            sacl: false,
        }
    }

    /// The self-relative binary form (MS-DTYP 2.4.6): header, owner,
    /// group, DACL, as Samba and .NET lay it out. Only ACEs this form can
    /// hold whole are written: allow and deny (types 0 and 1).
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let owner = self.owner.as_deref().map(sid_bytes).transpose()?;
        let group = self.group.as_deref().map(sid_bytes).transpose()?;
        let mut acl = Vec::new();
        for ace in &self.dacl {
            if !matches!(ace.kind, 0 | 1) {
                return Err(format!(
                    "an {} entry for {} cannot be written back whole",
                    kind_name(ace.kind),
                    ace.sid
                ));
            }
            let sid = sid_bytes(&ace.sid)?;
            let size = u16::try_from(8 + sid.len()).map_err(|_| "ACE too large")?;
            acl.extend_from_slice(&[ace.kind, ace.flags]);
            acl.extend_from_slice(&size.to_le_bytes());
            acl.extend_from_slice(&ace.mask.to_le_bytes());
            acl.extend_from_slice(&sid);
        }
        let acl_size = u16::try_from(8 + acl.len()).map_err(|_| "DACL too large")?;
        let count = u16::try_from(self.dacl.len()).map_err(|_| "too many ACEs")?;
        let mut out = vec![1u8, 0];
        // SE_SELF_RELATIVE | SE_DACL_PRESENT.
        out.extend_from_slice(&0x8004u16.to_le_bytes());
        let mut at = 20u32;
        let mut offset = |part: &Option<Vec<u8>>| match part {
            Some(b) => {
                let o = at;
                at += b.len() as u32;
                o
            }
            None => 0,
        };
        let (owner_at, group_at) = (offset(&owner), offset(&group));
        let dacl_at = at;
        for field in [owner_at, group_at, 0, dacl_at] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend(owner.into_iter().flatten());
        out.extend(group.into_iter().flatten());
        out.extend_from_slice(&[4, 0]);
        out.extend_from_slice(&acl_size.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&acl);
        Ok(out)
    }

    /// The descriptor as SDDL: the full mask spelled as the AD module
    /// spells it, any other mask in hex.
    pub fn to_sddl(&self) -> String {
        let mut s = String::new();
        if let Some(o) = &self.owner {
            s.push_str("O:");
            s.push_str(sddl_sid(o));
        }
        if let Some(g) = &self.group {
            s.push_str("G:");
            s.push_str(sddl_sid(g));
        }
        s.push_str("D:");
        for ace in &self.dacl {
            let kind = (SDDL_KINDS.iter())
                .find(|(_, k)| *k == ace.kind)
                .map_or("?", |(n, _)| n);
            let flags: String = (SDDL_FLAGS.iter())
                .filter(|(_, f)| ace.flags & f != 0)
                .map(|(n, _)| *n)
                .collect();
            let mask = match ace.mask {
                FULL_MASK => "CCDCLCSWRPWPDTLOCRSDRCWDWO".to_string(),
                m => format!("0x{m:x}"),
            };
            s.push_str(&format!("({kind};{flags};{mask};;;{})", sddl_sid(&ace.sid)));
        }
        s
    }
}

impl Ace {
    /// An allow ACE with the full mask, as the AD module writes one.
    pub fn allow(sid: &str) -> Ace {
        Ace {
            kind: 0,
            flags: 0,
            mask: FULL_MASK,
            sid: sid.to_string(),
        }
    }
}

/// How a plan changes who may delegate to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge<'a> {
    /// Keep every ACE in order; append one for each SID no allow ACE
    /// names yet; then drop every ACE of the SIDs removed.
    Update {
        add: &'a [String],
        remove: &'a [String],
    },
    /// Exactly these SIDs, one ACE each.
    Replace(&'a [String]),
}

/// The DACL after a merge. SIDs compare as they are (`S-1-...`, the same
/// text for the same SID); never by bytes or SDDL text of the descriptor.
pub fn merge(dacl: &[Ace], how: Merge) -> Vec<Ace> {
    match how {
        Merge::Replace(sids) => {
            let mut seen: Vec<&str> = Vec::new();
            (sids.iter())
                .filter(|s| {
                    let new = !seen.contains(&s.as_str());
                    seen.push(s);
                    new
                })
                .map(|s| Ace::allow(s))
                .collect()
        }
        Merge::Update { add, remove } => {
            let mut out: Vec<Ace> = dacl.to_vec();
            for s in add {
                // Already named by an allow ACE: nothing to add (a deny
                // before it is the audit's to report, KCD012).
                let named = (out.iter()).any(|a| {
                    ALLOW_KINDS.contains(&a.kind) && a.flags & INHERIT_ONLY == 0 && &a.sid == s
                });
                if !named {
                    out.push(Ace::allow(s));
                }
            }
            out.retain(|a| !remove.contains(&a.sid));
            out
        }
    }
}

/// An SID as SDDL writes it: its alias when it has one of the
/// domain-independent kind, else `S-1-...`.
fn sddl_sid(sid: &str) -> &str {
    (SDDL_SIDS.iter())
        .find(|(_, s)| *s == sid)
        .map_or(sid, |(alias, _)| alias)
}

/// The binary form of `S-1-...` (MS-DTYP 2.4.2.2).
pub fn sid_bytes(sid: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("'{}' is not a SID", echo(sid));
    let mut parts = sid.strip_prefix("S-1-").ok_or_else(bad)?.split('-');
    let auth: u64 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    if auth >= 1 << 48 {
        return Err(bad());
    }
    let subs: Vec<u32> = parts
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if subs.len() > 15 {
        return Err(bad());
    }
    let mut b = vec![1, subs.len() as u8];
    b.extend_from_slice(&auth.to_be_bytes()[2..]);
    for sub in subs {
        b.extend_from_slice(&sub.to_le_bytes());
    }
    Ok(b)
}

/// A descriptor given as SDDL text or as binary bytes (which may
/// themselves hold SDDL text).
pub fn parse(value: &AttrValue) -> Result<Descriptor, String> {
    match value {
        AttrValue::Text(t) => sddl(t),
        AttrValue::Bytes(b) => match std::str::from_utf8(b) {
            Ok(t) if t.starts_with("O:") || t.starts_with("G:") || t.starts_with("D:") => sddl(t),
            _ => binary(b),
        },
    }
}

/// The DACL of a descriptor given as SDDL text or as binary bytes.
pub fn dacl(value: &AttrValue) -> Result<Vec<Ace>, String> {
    parse(value).map(|d| d.dacl)
}

/// `S-1-...` from the text or binary form; `None` if it is neither.
pub fn sid(value: &AttrValue) -> Option<String> {
    match value {
        AttrValue::Text(t) => t.starts_with("S-").then(|| t.to_string()),
        AttrValue::Bytes(b) => match std::str::from_utf8(b) {
            Ok(t) if t.starts_with("S-") => Some(t.to_string()),
            _ => sid_from_bytes(b).map(|(s, _)| s),
        },
    }
}

/// Decodes a binary SID; returns it and its length in bytes.
pub fn sid_from_bytes(b: &[u8]) -> Option<(String, usize)> {
    use std::fmt::Write;
    let rev = *b.first()?;
    let count = usize::from(*b.get(1)?);
    let len = 8 + 4 * count;
    if rev != 1 || b.len() < len || count > 15 {
        return None;
    }
    let auth = b[2..8].iter().fold(0u64, |a, &x| (a << 8) | u64::from(x));
    let mut s = format!("S-1-{auth}");
    for sub in b[8..len].chunks_exact(4) {
        let _ = write!(
            s,
            "-{}",
            u32::from_le_bytes([sub[0], sub[1], sub[2], sub[3]])
        );
    }
    Some((s, len))
}

/// SDDL ACE type strings and their binary type numbers.
const SDDL_KINDS: &[(&str, u8)] = &[
    ("A", 0),
    ("D", 1),
    ("AU", 2),
    ("AL", 3),
    ("OA", 5),
    ("OD", 6),
    ("OU", 7),
    ("OL", 8),
    ("XA", 9),
    ("XD", 10),
    ("ZA", 11),
    ("XU", 13),
    ("ML", 17),
    ("RA", 18),
    ("SP", 19),
];

/// SDDL ACE flag strings.
const SDDL_FLAGS: &[(&str, u8)] = &[
    ("OI", 0x01),
    ("CI", 0x02),
    ("NP", 0x04),
    ("IO", 0x08),
    ("ID", 0x10),
    ("SA", 0x40),
    ("FA", 0x80),
];

/// SDDL access right strings (MS-DTYP 2.5.1.1).
const SDDL_RIGHTS: &[(&str, u32)] = &[
    ("GA", 0x1000_0000),
    ("GR", 0x8000_0000),
    ("GW", 0x4000_0000),
    ("GX", 0x2000_0000),
    ("RC", 0x0002_0000),
    ("SD", 0x0001_0000),
    ("WD", 0x0004_0000),
    ("WO", 0x0008_0000),
    ("RP", 0x10),
    ("WP", 0x20),
    ("CC", 0x01),
    ("DC", 0x02),
    ("LC", 0x04),
    ("SW", 0x08),
    ("LO", 0x80),
    ("DT", 0x40),
    ("CR", 0x100),
    ("FA", 0x001F_01FF),
    ("FR", 0x0012_0089),
    ("FW", 0x0012_0116),
    ("FX", 0x0012_00A0),
    ("KA", 0x000F_003F),
    ("KR", 0x0002_0019),
    ("KW", 0x0002_0006),
    ("KX", 0x0002_0019),
    // Mandatory label policy (no write, read or execute up).
    ("NW", 0x1),
    ("NR", 0x2),
    ("NX", 0x4),
];

/// SDDL aliases of SIDs that are the same in every domain.
const SDDL_SIDS: &[(&str, &str)] = &[
    ("WD", "S-1-1-0"),
    ("CO", "S-1-3-0"),
    ("CG", "S-1-3-1"),
    ("NU", "S-1-5-2"),
    ("IU", "S-1-5-4"),
    ("SU", "S-1-5-6"),
    ("AN", "S-1-5-7"),
    ("ED", "S-1-5-9"),
    ("PS", "S-1-5-10"),
    ("AU", "S-1-5-11"),
    ("RC", "S-1-5-12"),
    ("SY", "S-1-5-18"),
    ("LS", "S-1-5-19"),
    ("NS", "S-1-5-20"),
    ("BA", "S-1-5-32-544"),
    ("BU", "S-1-5-32-545"),
    ("BG", "S-1-5-32-546"),
    ("PU", "S-1-5-32-547"),
    ("AO", "S-1-5-32-548"),
    ("SO", "S-1-5-32-549"),
    ("PO", "S-1-5-32-550"),
    ("BO", "S-1-5-32-551"),
    ("RE", "S-1-5-32-552"),
    ("RU", "S-1-5-32-554"),
    ("RD", "S-1-5-32-555"),
    ("NO", "S-1-5-32-556"),
    ("LW", "S-1-16-4096"),
    ("ME", "S-1-16-8192"),
    ("MP", "S-1-16-8448"),
    ("HI", "S-1-16-12288"),
    ("SI", "S-1-16-16384"),
];

/// The SDDL aliases of SIDs of the account's own domain.
const SDDL_DOMAIN_SIDS: &[&str] = &[
    "DA", "DU", "DG", "DC", "DD", "CA", "SA", "EA", "PA", "RS", "RO",
];

/// An SDDL descriptor: `O:owner`, `G:group`, `D:flags(ace)...`, `S:...`,
/// each at most once.
fn sddl(t: &str) -> Result<Descriptor, String> {
    let mut d = Descriptor {
        owner: None,
        group: None,
        dacl: Vec::new(),
        sacl: false,
    };
    let mut dacl_seen = false;
    let mut rest = t.trim();
    while !rest.is_empty() {
        // (By `get`: a part is ASCII; anything else is no part.)
        let part = rest.get(..2).unwrap_or(rest);
        let body = rest.get(2..).unwrap_or("");
        match part {
            "O:" | "G:" => {
                let len = if body.starts_with("S-") {
                    body.find(|c: char| !(c.is_ascii_digit() || c == '-' || c == 'S'))
                        .unwrap_or(body.len())
                } else if body.is_char_boundary(body.len().min(2)) {
                    body.len().min(2)
                } else {
                    return Err(format!("malformed owner or group in '{}'", echo(rest)));
                };
                let sid = sddl_sid_value(&body[..len])
                    .ok_or_else(|| format!("malformed owner or group '{}'", echo(&body[..len])))?;
                if part == "O:" {
                    d.owner = Some(sid);
                } else {
                    d.group = Some(sid);
                }
                rest = &body[len..];
            }
            "D:" => {
                let (aces, after) = sddl_dacl(body)?;
                d.dacl = aces;
                dacl_seen = true;
                rest = after;
            }
            "S:" => {
                d.sacl = true;
                break;
            }
            _ => return Err(format!("malformed SDDL at '{}'", echo(rest))),
        }
    }
    if !dacl_seen {
        return Err("no DACL in the SDDL".into());
    }
    Ok(d)
}

/// A SID as SDDL spells it: `S-1-...`, or an alias.
fn sddl_sid_value(s: &str) -> Option<String> {
    if s.starts_with("S-1-") {
        return Some(s.to_string());
    }
    if SDDL_DOMAIN_SIDS.contains(&s) {
        return Some(s.to_string());
    }
    lookup(SDDL_SIDS, s).map(str::to_string)
}

/// The ACEs of an SDDL DACL body (after `D:`), and what follows them.
fn sddl_dacl(t: &str) -> Result<(Vec<Ace>, &str), String> {
    let mut rest = t;
    // DACL flags (P, AI, AR, NO_ACCESS_CONTROL) come before the first ACE.
    let flags_end = rest.find(['(', ':']).unwrap_or(rest.len());
    let flags_end = match rest.as_bytes().get(flags_end) {
        // A flag run followed by the next part (`S:`): back up to its letter.
        Some(b':') => rest[..flags_end]
            .char_indices()
            .last()
            .map_or(0, |(i, _)| i),
        _ => flags_end,
    };
    if !rest[..flags_end]
        .chars()
        .all(|c| c.is_ascii_alphabetic() || c == '_')
    {
        return Err(format!("malformed DACL flags in 'D:{}'", echo(t)));
    }
    rest = &rest[flags_end..];
    let mut aces = Vec::new();
    while let Some(body) = rest.strip_prefix('(') {
        // An ACE ends at its matching parenthesis: a conditional ACE's
        // condition holds parentheses of its own.
        let mut depth = 1;
        let end = body
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .ok_or_else(|| format!("unterminated ACE '({}'", echo(body)))?;
        aces.push(sddl_ace(&body[..end])?);
        rest = &body[end + 1..];
    }
    Ok((aces, rest))
}

fn sddl_ace(ace: &str) -> Result<Ace, String> {
    let bad = || format!("malformed ACE '({})'", echo(ace));
    let f: Vec<&str> = ace.splitn(7, ';').collect();
    if f.len() < 6 {
        return Err(bad());
    }
    let kind = lookup(SDDL_KINDS, f[0]).ok_or_else(bad)?;
    let flags = letters(f[1], SDDL_FLAGS).ok_or_else(bad)?;
    let mask = match f[2].strip_prefix("0x").or_else(|| f[2].strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).map_err(|_| bad())?,
        None => letters(f[2], SDDL_RIGHTS).ok_or_else(bad)?,
    };
    let sid = f[5].trim();
    let sid = if sid.starts_with("S-") || SDDL_DOMAIN_SIDS.contains(&sid) {
        sid.to_string()
    } else {
        lookup(SDDL_SIDS, sid).ok_or_else(bad)?.to_string()
    };
    Ok(Ace {
        kind,
        flags,
        mask,
        sid,
    })
}

fn lookup<T: Copy>(table: &[(&str, T)], key: &str) -> Option<T> {
    table.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
}

/// A run of two-letter codes, OR-ed together.
fn letters<T>(s: &str, table: &[(&str, T)]) -> Option<T>
where
    T: Copy + Default + std::ops::BitOr<Output = T>,
{
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).try_fold(T::default(), |all, i| {
        Some(all | lookup(table, &s[i..i + 2])?)
    })
}

/// A self-relative binary descriptor (MS-DTYP 2.4.6).
fn binary(b: &[u8]) -> Result<Descriptor, String> {
    let u16at = |o: usize| b.get(o..o + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let u32at = |o: usize| {
        b.get(o..o + 4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
    };
    let dacl = binary_dacl(b)?;
    let control = u16at(2).ok_or("truncated")?;
    let sid_at = |field: usize| -> Result<Option<String>, String> {
        match u32at(field).ok_or("truncated")? as usize {
            0 => Ok(None),
            at => (b.get(at..).and_then(sid_from_bytes))
                .map(|(s, _)| Some(s))
                .ok_or_else(|| "malformed owner or group SID".to_string()),
        }
    };
    Ok(Descriptor {
        owner: sid_at(4)?,
        group: sid_at(8)?,
        dacl,
        // SE_SACL_PRESENT.
        sacl: control & 0x10 != 0,
    })
}

fn binary_dacl(b: &[u8]) -> Result<Vec<Ace>, String> {
    let u16at = |o: usize| b.get(o..o + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let u32at = |o: usize| {
        b.get(o..o + 4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
    };
    if b.first() != Some(&1) {
        return Err("not a security descriptor (revision is not 1)".into());
    }
    let control = u16at(2).ok_or("truncated")?;
    let dacl_off = u32at(16).ok_or("truncated")? as usize;
    if control & 0x4 == 0 || dacl_off == 0 {
        return Ok(Vec::new());
    }
    let count = u16at(dacl_off + 4).ok_or("truncated DACL")?;
    let mut o = dacl_off + 8;
    let mut aces = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let kind = *b.get(o).ok_or("truncated ACE")?;
        let flags = *b.get(o + 1).ok_or("truncated ACE")?;
        let size = usize::from(u16at(o + 2).ok_or("truncated ACE")?);
        let body = b.get(o + 4..o + size).filter(|_| size >= 8);
        let body = body.ok_or("malformed ACE size")?;
        let mask = u32at(o + 4).ok_or("truncated ACE")?;
        // Object ACEs carry their flags and up to two GUIDs before the SID.
        let sid_at = if matches!(kind, 5..=8 | 11 | 12 | 15 | 16) {
            let object_flags = u32at(o + 8).ok_or("truncated ACE")?;
            8 + 16 * (object_flags & 1) as usize + 16 * (object_flags >> 1 & 1) as usize
        } else {
            4
        };
        let (sid, _) = body
            .get(sid_at..)
            .and_then(sid_from_bytes)
            .ok_or("malformed SID in ACE")?;
        aces.push(Ace {
            kind,
            flags,
            mask,
            sid,
        });
        o += size;
    }
    Ok(aces)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sid_bytes(auth: u8, subs: &[u32]) -> Vec<u8> {
        let mut b = vec![1, subs.len() as u8, 0, 0, 0, 0, 0, auth];
        for s in subs {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }

    /// A self-relative descriptor: owner BUILTIN\Administrators and a DACL
    /// of the given ACEs (type, flags, mask, object GUIDs, SID bytes).
    pub(crate) fn descriptor(aces: &[(u8, u8, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let owner = sid_bytes(5, &[32, 544]);
        let mut acl_body = Vec::new();
        for (kind, flags, mask, object_flags, sid) in aces {
            let mut ace = vec![*kind, *flags, 0, 0];
            ace.extend_from_slice(&mask.to_le_bytes());
            if matches!(kind, 5..=8 | 11 | 12 | 15 | 16) {
                ace.extend_from_slice(&object_flags.to_le_bytes());
                for bit in [1, 2] {
                    if object_flags & bit != 0 {
                        ace.extend_from_slice(&[0xAB; 16]);
                    }
                }
            }
            ace.extend_from_slice(sid);
            let len = ace.len() as u16;
            ace[2..4].copy_from_slice(&len.to_le_bytes());
            acl_body.extend_from_slice(&ace);
        }
        let mut acl = vec![4u8, 0];
        acl.extend_from_slice(&(8 + acl_body.len() as u16).to_le_bytes());
        acl.extend_from_slice(&(aces.len() as u16).to_le_bytes());
        acl.extend_from_slice(&[0, 0]);
        acl.extend_from_slice(&acl_body);
        let mut sd = vec![1u8, 0];
        sd.extend_from_slice(&0x8004u16.to_le_bytes());
        let owner_off = 20u32;
        let dacl_off = owner_off + owner.len() as u32;
        for field in [owner_off, 0, 0, dacl_off] {
            sd.extend_from_slice(&field.to_le_bytes());
        }
        sd.extend_from_slice(&owner);
        sd.extend_from_slice(&acl);
        sd
    }

    #[test]
    fn binary_sid() {
        let b = sid_bytes(5, &[21, 1111111111, 2222222222, 3333333333, 1104]);
        assert_eq!(
            sid_from_bytes(&b).unwrap().0,
            "S-1-5-21-1111111111-2222222222-3333333333-1104"
        );
        assert_eq!(
            sid(&AttrValue::Text("S-1-5-32-544".into())).unwrap(),
            "S-1-5-32-544"
        );
        assert_eq!(sid(&AttrValue::Text("nope".into())), None);
    }

    /// The same descriptor as SDDL (both spellings of the full mask) and
    /// as binary gives the same ACE list, for the ACE types an RBCD
    /// descriptor may hold.
    #[test]
    fn sddl_and_binary_give_the_same_aces() {
        let s = |rid| sid_bytes(5, &[21, 1, 2, 3, rid]);
        let binary = descriptor(&[
            (0, 0, 0xF01FF, 0, s(1104)),
            (5, 0, 0x100, 1, s(1105)),
            (1, 0x2, 0x100, 0, s(1106)),
            (0, 0, 0x1000_0000, 0, sid_bytes(1, &[0])),
        ]);
        let sddl = "O:BAD:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;S-1-5-21-1-2-3-1104)\
                    (OA;;CR;abababab-abab-abab-abab-abababababab;;S-1-5-21-1-2-3-1105)\
                    (D;CI;CR;;;S-1-5-21-1-2-3-1106)(A;;GA;;;WD)";
        let samba = "O:BAD:(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;S-1-5-21-1-2-3-1104)\
                     (OA;;CR;abababab-abab-abab-abab-abababababab;;S-1-5-21-1-2-3-1105)\
                     (D;CI;CR;;;S-1-5-21-1-2-3-1106)(A;;GA;;;S-1-1-0)";
        let want = vec![
            Ace {
                kind: 0,
                flags: 0,
                mask: 0xF01FF,
                sid: "S-1-5-21-1-2-3-1104".into(),
            },
            Ace {
                kind: 5,
                flags: 0,
                mask: 0x100,
                sid: "S-1-5-21-1-2-3-1105".into(),
            },
            Ace {
                kind: 1,
                flags: 0x2,
                mask: 0x100,
                sid: "S-1-5-21-1-2-3-1106".into(),
            },
            Ace {
                kind: 0,
                flags: 0,
                mask: 0x1000_0000,
                sid: "S-1-1-0".into(),
            },
        ];
        assert_eq!(dacl(&AttrValue::Bytes(binary.clone())).unwrap(), want);
        assert_eq!(dacl(&AttrValue::Text(sddl.into())).unwrap(), want);
        assert_eq!(dacl(&AttrValue::Text(samba.into())).unwrap(), want);
        assert_eq!(
            dacl(&AttrValue::Bytes(samba.as_bytes().to_vec())).unwrap(),
            want
        );
        assert_eq!(
            allowed(&want),
            ["S-1-5-21-1-2-3-1104", "S-1-5-21-1-2-3-1105", "S-1-1-0"]
        );
    }

    /// Every ACE type SDDL can spell reads as the same ACE from its SDDL
    /// and from its binary form (callback ACEs with their condition as
    /// application data after the SID).
    #[test]
    fn every_ace_type_reads_alike_in_both_forms() {
        let d = |rid| sid_bytes(5, &[21, 1, 2, 3, rid]);
        let guid = "abababab-abab-abab-abab-abababababab";
        // (SDDL ACE, type, flags, mask, object flags, SID bytes)
        let cases: Vec<(String, u8, u8, u32, u32, Vec<u8>)> = vec![
            ("(A;;CR;;;S-1-5-21-1-2-3-1)".into(), 0, 0, 0x100, 0, d(1)),
            ("(D;;CR;;;S-1-5-21-1-2-3-2)".into(), 1, 0, 0x100, 0, d(2)),
            (
                "(AU;SA;CR;;;WD)".into(),
                2,
                0x40,
                0x100,
                0,
                sid_bytes(1, &[0]),
            ),
            ("(AL;;CR;;;WD)".into(), 3, 0, 0x100, 0, sid_bytes(1, &[0])),
            (
                format!("(OA;CI;CR;{guid};;S-1-5-21-1-2-3-3)"),
                5,
                0x2,
                0x100,
                1,
                d(3),
            ),
            (
                format!("(OD;;CR;{guid};{guid};S-1-5-21-1-2-3-4)"),
                6,
                0,
                0x100,
                3,
                d(4),
            ),
            (
                format!("(OU;FA;CR;;{guid};S-1-5-21-1-2-3-5)"),
                7,
                0x80,
                0x100,
                2,
                d(5),
            ),
            (
                "(XA;;CR;;;S-1-5-21-1-2-3-6;(Member_of {SID(BA)}))".into(),
                9,
                0,
                0x100,
                0,
                d(6),
            ),
            (
                "(XD;IO;CR;;;S-1-5-21-1-2-3-7;(@User.x == 1))".into(),
                10,
                0x8,
                0x100,
                0,
                d(7),
            ),
            (
                format!("(ZA;;CR;{guid};;S-1-5-21-1-2-3-8;(Exists x))"),
                11,
                0,
                0x100,
                1,
                d(8),
            ),
            (
                "(XU;;CR;;;S-1-5-21-1-2-3-9;(Exists y))".into(),
                13,
                0,
                0x100,
                0,
                d(9),
            ),
            (
                "(ML;;NW;;;LW)".into(),
                17,
                0,
                0x1,
                0,
                sid_bytes(16, &[4096]),
            ),
            (
                "(A;;0x000f01ff;;;S-1-5-21-1-2-3-10)".into(),
                0,
                0,
                0xF01FF,
                0,
                d(10),
            ),
        ];
        let sddl = format!(
            "O:BAD:{}",
            cases.iter().map(|c| c.0.as_str()).collect::<String>()
        );
        let aces: Vec<(u8, u8, u32, u32, Vec<u8>)> = (cases.iter())
            .map(|c| {
                let mut sid = c.5.clone();
                // A callback ACE's condition follows its SID.
                if matches!(c.1, 9..=13) {
                    sid.extend_from_slice(b"artx\x01\x02\x03\x00");
                }
                (c.1, c.2, c.3, c.4, sid)
            })
            .collect();
        let from_sddl = dacl(&AttrValue::Text(sddl.into())).unwrap();
        let from_binary = dacl(&AttrValue::Bytes(descriptor(&aces))).unwrap();
        assert_eq!(from_sddl.len(), cases.len());
        assert_eq!(from_sddl, from_binary);
        let kinds: Vec<u8> = from_sddl.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, cases.iter().map(|c| c.1).collect::<Vec<_>>());
        // Allowed: allow ACEs that apply to the object, in order.
        assert_eq!(
            allowed(&from_sddl),
            [
                "S-1-5-21-1-2-3-1",
                "S-1-5-21-1-2-3-3",
                "S-1-5-21-1-2-3-6",
                "S-1-5-21-1-2-3-8",
                "S-1-5-21-1-2-3-10"
            ]
        );
    }

    /// A SID denied before it is allowed is not allowed; an inherit-only
    /// ACE does not count; domain aliases resolve with the domain's SID.
    #[test]
    fn deny_and_inherit_only_and_aliases() {
        let aces = dacl(&AttrValue::Text(
            "O:BAD:(D;;CR;;;S-1-5-21-1-2-3-1)(A;;CR;;;S-1-5-21-1-2-3-1)(A;IO;CR;;;S-1-5-21-1-2-3-2)(A;;CR;;;DU)".into(),
        ))
        .unwrap();
        assert_eq!(allowed(&aces), ["DU"]);
        assert_eq!(resolve("DU", Some("S-1-5-21-1-2-3")), "S-1-5-21-1-2-3-513");
        assert_eq!(resolve("DU", None), "DU");
        assert_eq!(resolve("S-1-1-0", Some("S-1-5-21-1-2-3")), "S-1-1-0");
        assert_eq!(well_known("S-1-1-0"), Some("Everyone"));
        assert_eq!(well_known("S-1-5-21-1-2-3-515"), Some("Domain Computers"));
        assert_eq!(well_known("DU"), Some("Domain Users"));
        assert_eq!(well_known("S-1-5-21-1-2-3-1105"), None);
        assert!(is_broad("S-1-5-11") && is_broad("S-1-5-21-1-2-3-515") && is_broad("DC"));
        assert!(!is_broad("S-1-5-21-1-2-3-512") && !is_broad("S-1-5-32-544"));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// SIDs as exports hold them: a domain's accounts, and
        /// well-known ones.
        fn any_sid() -> impl Strategy<Value = String> {
            prop_oneof![
                (any::<u32>(), any::<u32>(), any::<u32>(), 500u32..100_000)
                    .prop_map(|(a, b, c, r)| format!("S-1-5-21-{a}-{b}-{c}-{r}")),
                prop::sample::select(vec!["S-1-1-0", "S-1-5-11", "S-1-5-32-544", "S-1-5-18"])
                    .prop_map(str::to_string),
            ]
        }

        fn any_ace() -> impl Strategy<Value = Ace> {
            (0u8..2, any::<u8>(), any::<u32>(), any_sid()).prop_map(|(kind, flags, mask, sid)| {
                Ace {
                    kind,
                    // Flags SDDL can spell.
                    flags: flags & 0xDF,
                    mask,
                    sid,
                }
            })
        }

        proptest! {
            /// Any list of SIDs encodes to a descriptor that decodes back
            /// to the same list, from binary and from SDDL.
            #[test]
            fn sids_round_trip(sids in prop::collection::vec(any_sid(), 0..12)) {
                let d = Descriptor::allowing(&sids);
                let bytes = d.to_bytes().unwrap();
                let from_binary = parse(&AttrValue::Bytes(bytes)).unwrap();
                let from_sddl = parse(&AttrValue::Text(d.to_sddl().into())).unwrap();
                prop_assert_eq!(&from_binary, &d);
                prop_assert_eq!(&from_sddl, &d);
                let listed: Vec<String> = from_binary.dacl.iter().map(|a| a.sid.clone()).collect();
                prop_assert_eq!(listed, sids);
            }

            /// Any allow or deny ACE, with any flags and mask, survives
            /// both forms.
            #[test]
            fn aces_round_trip(dacl in prop::collection::vec(any_ace(), 0..8)) {
                let d = Descriptor { owner: Some(ADMINISTRATORS.into()), group: None, dacl, sacl: false };
                prop_assert_eq!(&parse(&AttrValue::Bytes(d.to_bytes().unwrap())).unwrap(), &d);
                prop_assert_eq!(&parse(&AttrValue::Text(d.to_sddl().into())).unwrap(), &d);
            }

            /// Merging twice is merging once; what is added is allowed
            /// after, what is removed is gone.
            #[test]
            fn merge_is_idempotent(
                dacl in prop::collection::vec(any_ace(), 0..8),
                add in prop::collection::vec(any_sid(), 0..4),
                remove in prop::collection::vec(any_sid(), 0..4),
            ) {
                for how in [Merge::Update { add: &add, remove: &remove }, Merge::Replace(&add)] {
                    let once = merge(&dacl, how);
                    prop_assert_eq!(&merge(&once, how), &once);
                    let now = allowed(&once);
                    for s in &remove {
                        if let Merge::Update { .. } = how {
                            prop_assert!(once.iter().all(|a| &a.sid != s));
                        }
                    }
                    for s in &add {
                        if !remove.contains(s) || matches!(how, Merge::Replace(_)) {
                            // (An ACE allowing it may stand after a deny of it.)
                            let denied_first = matches!(how, Merge::Update { .. })
                                && dacl.iter().any(|a| a.kind == 1 && &a.sid == s && a.flags & INHERIT_ONLY == 0);
                            prop_assert!(denied_first || now.contains(s), "{} not allowed", s);
                        }
                    }
                }
            }
        }
    }

    /// Text beyond ASCII where SDDL's parts and flags are read is an
    /// error, never a panic (found by fuzzing: a part was cut inside a
    /// character).
    #[test]
    fn sddl_beyond_ascii_is_an_error() {
        for t in [
            "O:\u{e9}",
            "\u{e9}D:(A;;CR;;;WD)",
            "O:B\u{e9}D:",
            "D:P\u{e9}:(A;;CR;;;WD)",
            "D:\u{e9}\u{e9}S:",
        ] {
            assert!(parse(&AttrValue::Text(t.into())).is_err(), "{t}");
        }
    }

    #[test]
    fn malformed_descriptors_are_errors() {
        assert!(dacl(&AttrValue::Bytes(vec![1, 0, 4])).is_err());
        assert!(dacl(&AttrValue::Bytes(vec![2, 0, 4, 0])).is_err());
        assert!(dacl(&AttrValue::Text("O:BA".into())).is_err());
        assert!(dacl(&AttrValue::Text("D:(A;;CR;;)".into())).is_err());
        assert!(dacl(&AttrValue::Text("D:(A;;CR;;;S-1-1-0".into())).is_err());
        assert!(dacl(&AttrValue::Text("D:(Q;;CR;;;S-1-1-0)".into())).is_err());
        assert!(dacl(&AttrValue::Text("D:(A;;QQ;;;S-1-1-0)".into())).is_err());
        // A conditional ACE is read whole, its condition's parentheses too.
        let c = dacl(&AttrValue::Text(
            "D:(XA;;CR;;;WD;(Member_of {SID(BA)}))(A;;CR;;;AU)".into(),
        ))
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].kind, c[1].sid.as_str()), (9, "S-1-5-11"));
    }
}
