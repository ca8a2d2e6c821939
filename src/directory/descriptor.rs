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
const ALLOW_KINDS: [u8; 4] = [0, 5, 9, 11];

/// The SIDs an ACE list grants access to, in order.
pub fn allowed(aces: &[Ace]) -> Vec<String> {
    (aces.iter())
        .filter(|a| ALLOW_KINDS.contains(&a.kind))
        .map(|a| a.sid.clone())
        .collect()
}

/// The DACL of a descriptor given as SDDL text or as binary bytes (which
/// may themselves hold SDDL text).
pub fn dacl(value: &AttrValue) -> Result<Vec<Ace>, String> {
    match value {
        AttrValue::Text(t) => sddl_dacl(t),
        AttrValue::Bytes(b) => match std::str::from_utf8(b) {
            Ok(t) if t.starts_with("O:") || t.starts_with("D:") => sddl_dacl(t),
            _ => binary_dacl(b),
        },
    }
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
];

/// The SDDL aliases of SIDs of the account's own domain.
const SDDL_DOMAIN_SIDS: &[&str] = &[
    "DA", "DU", "DG", "DC", "DD", "CA", "SA", "EA", "PA", "RS", "RO",
];

fn sddl_dacl(t: &str) -> Result<Vec<Ace>, String> {
    let start = t.find("D:").ok_or("no DACL in the SDDL")?;
    let mut rest = &t[start + 2..];
    // DACL flags (P, AI, AR, NO_ACCESS_CONTROL) come before the first ACE.
    rest = &rest[rest.find('(').unwrap_or(rest.len())..];
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
    Ok(aces)
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
