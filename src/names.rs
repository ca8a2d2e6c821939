//! The directory's naming rules: DNS host names, SPN service classes and
//! their canonical spellings, account names, and near-miss suggestions.

use crate::sanitize::echo;

/// Optimal string alignment distance (Levenshtein plus adjacent
/// transpositions, so `cfis` is one edit from `cifs`), ignoring case.
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(&a.to_lowercase(), &b.to_lowercase())
}

/// The candidate closest to `key` (compared after `norm`), if it is close
/// enough to be a plausible typo.
pub fn closest<'a>(
    key: &str,
    candidates: impl Iterator<Item = &'a str>,
    norm: impl Fn(&str) -> String,
) -> Option<&'a str> {
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let d = edit_distance(key, &norm(c));
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (key.chars().count() / 3).max(1);
    (d <= limit).then_some(c)
}

/// The Hyper-V live migration service class, exact spelling.
pub const VSMS: &str = "Microsoft Virtual System Migration Service";

/// Service classes written in their canonical spelling.
pub const KNOWN_CLASSES: &[&str] = &[
    "cifs",
    "http",
    "host",
    "ldap",
    "dns",
    "gc",
    "MSSQLSvc",
    "WSMAN",
    "TERMSRV",
    "RestrictedKrbHost",
    "RPCSS",
    VSMS,
];

/// What a `service` cell names after aliases are resolved. It borrows
/// nothing: a class as written is the cell itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceSpec {
    /// One known service class, in its canonical spelling.
    Known(&'static str),
    /// One service class kcdplan does not know: the cell as written.
    Written,
    /// `hyperv`: `cifs` + the migration service.
    HyperV,
}

impl ServiceSpec {
    /// The classes of the service `written`, the cell this was parsed from.
    pub fn classes<'a>(&self, written: &'a str) -> Vec<&'a str> {
        match self {
            ServiceSpec::Known(c) => vec![c],
            ServiceSpec::Written => vec![written],
            ServiceSpec::HyperV => vec!["cifs", VSMS],
        }
    }
}

/// Resolves aliases and canonical spellings; errors on a class that cannot
/// be part of an SPN.
pub fn parse_service(s: &str) -> Result<ServiceSpec, String> {
    if s.contains('/') {
        return Err("a service class cannot contain '/'".into());
    }
    if s.contains(':') {
        return Err("a service class cannot contain ':' (put the port on the target)".into());
    }
    let is = |name: &str| s.eq_ignore_ascii_case(name);
    if is("hyperv") || is("hyper-v") {
        return Ok(ServiceSpec::HyperV);
    }
    if is("smb") {
        return Ok(ServiceSpec::Known("cifs"));
    }
    if is("vsms") {
        return Ok(ServiceSpec::Known(VSMS));
    }
    if let Some(k) = KNOWN_CLASSES.iter().find(|k| is(k)) {
        return Ok(ServiceSpec::Known(k));
    }
    Ok(ServiceSpec::Written)
}

/// A known class that `class` (not itself known) looks like a typo of.
pub fn near_miss(class: &str) -> Option<&'static str> {
    // Longer than any known class and its typos: no need to compare (the
    // comparison grows with the product of the lengths).
    let longest = KNOWN_CLASSES.iter().map(|k| k.len()).max().unwrap_or(0);
    if class.len() > longest + 16 {
        return None;
    }
    let lower = class.to_lowercase();
    if KNOWN_CLASSES.iter().any(|k| k.to_lowercase() == lower) {
        return None;
    }
    for k in KNOWN_CLASSES {
        let kl = k.to_lowercase();
        // `Microsoft Virtual System Migration ServiceType` and friends.
        if kl.len() >= 8 && (lower.starts_with(&kl) || kl.starts_with(&lower)) {
            return Some(k);
        }
    }
    let mut best: Option<(usize, &'static str)> = None;
    for k in KNOWN_CLASSES {
        let d = edit_distance(class, k);
        let limit = if k.chars().count() <= 5 { 1 } else { 2 };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    best.map(|(_, k)| k)
}

/// Splits a host name at its first dot: the first label and the domain.
/// (A byte scan: first labels are short, and this runs several times a
/// row, where `str::split_once` costs several times as much.)
pub fn split_label(host: &str) -> Option<(&str, &str)> {
    let dot = host.bytes().position(|b| b == b'.')?;
    Some((&host[..dot], &host[dot + 1..]))
}

/// Splits `host[:port]` and checks the port.
pub fn split_port(s: &str) -> Result<(&str, Option<u16>), String> {
    let Some((host, port)) = s.rsplit_once(':') else {
        return Ok((s, None));
    };
    let ok = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    match port.parse::<u32>() {
        Ok(p) if ok && (1..=65535).contains(&p) => Ok((host, Some(p as u16))),
        _ => Err(format!(
            "'{}': port '{}' is not a number from 1 to 65535",
            echo(s),
            echo(port)
        )),
    }
}

/// `s` as kcdplan compares names and values: in lowercase (Unicode, not
/// only ASCII) and with full-width forms as their ASCII letters, so that
/// two spellings AD takes for one account or value (`FS1`, `fs1`, `ｆｓ１`)
/// compare equal. Borrowed when it already is folded.
///
/// AD also ignores kana type and non-spacing marks (MS-ADTS 6.5.1);
/// kcdplan does not, and warns where two values differ only in those
/// ([`ad_key`]).
pub fn fold(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return std::borrow::Cow::Owned(s.to_ascii_lowercase());
        }
        return std::borrow::Cow::Borrowed(s);
    }
    let narrow: String = s.chars().map(narrow).collect();
    std::borrow::Cow::Owned(narrow.to_lowercase())
}

/// A full-width ASCII form (U+FF01 to U+FF5E) or the ideographic space as
/// the ASCII character it stands for.
fn narrow(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
        '\u{3000}' => ' ',
        c => c,
    }
}

/// `s` as AD compares it, closer than [`fold`]: also without non-spacing
/// marks and with katakana as hiragana. Two values with equal keys but
/// different folds are one value to AD though kcdplan keeps both.
pub fn ad_key(s: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    fold(s)
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// Checks a DNS host name (short or fully qualified): labels of letters,
/// digits and `-` (letters may be non-ASCII, as AD allows), 1 to 63 bytes
/// each, no leading or trailing `-`, 253 bytes in all (RFC 1035, RFC 1123).
pub fn check_host(name: &str) -> Result<(), String> {
    // The common case in one pass over the bytes; anything else (and every
    // error, with its wording) goes the full way.
    if ascii_host_ok(name) {
        return Ok(());
    }
    check_host_fully(name)
}

/// Whether `name` is a valid host name written in ASCII (the result of
/// [`check_host_fully`] for such names, in one pass).
fn ascii_host_ok(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 253 {
        return false;
    }
    let (mut label, mut prev, mut all_digits) = (0usize, b'.', true);
    for &c in bytes {
        match c {
            b'.' if label > 0 && prev != b'-' => label = 0,
            b'-' if label > 0 => {
                label += 1;
                all_digits = false;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => {
                label += 1;
                all_digits &= c.is_ascii_digit();
            }
            _ => return false,
        }
        if label > 63 {
            return false;
        }
        prev = c;
    }
    label > 0 && prev != b'-' && !all_digits
}

fn check_host_fully(name: &str) -> Result<(), String> {
    let what = || format!("'{}' is not a valid host name", echo(name));
    if name.len() > 253 {
        return Err(format!("{}: longer than 253 characters", what()));
    }
    if name.ends_with('.') {
        return Err(format!("{}: remove the trailing dot", what()));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(format!("{}: empty label", what()));
        }
        if label.len() > 63 {
            return Err(format!(
                "{}: label '{}' is longer than 63 characters",
                what(),
                echo(label)
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "{}: label '{}' starts or ends with '-'",
                what(),
                echo(label)
            ));
        }
        if let Some(c) = (label.chars())
            .find(|&c| !(c.is_alphanumeric() || c == '-') || crate::sanitize::is_hidden(c))
        {
            return Err(format!(
                "{}: character '{}' is not allowed",
                what(),
                echo(&c.to_string())
            ));
        }
    }
    if name
        .split('.')
        .all(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!(
            "{}: an IP address cannot be used; Kerberos needs the host name",
            what()
        ));
    }
    Ok(())
}

/// Characters not allowed in a sAMAccountName (Microsoft: "User Naming
/// Attributes").
const SAM_FORBIDDEN: &[char] = &[
    '"', '/', '\\', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>', '@',
];

/// Refuses a user or gMSA name shaped like a SID or a GUID: the AD module
/// would resolve `-Identity` by it (`...-500` is the built-in
/// Administrator), not by the sAMAccountName.
pub fn check_not_sid_or_guid(name: &str) -> Result<(), String> {
    let n = name.trim_end_matches('$');
    let sid = n.len() > 4
        && n[..4].eq_ignore_ascii_case("S-1-")
        && n[4..].bytes().all(|b| b.is_ascii_digit() || b == b'-');
    let bare = n.trim_start_matches('{').trim_end_matches('}');
    let guid = bare.len() == 36
        && bare.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    match (sid, guid) {
        (true, _) => Err(format!(
            "'{}' is a SID, which the AD module would look up as a SID; give the account's name (sAMAccountName)",
            echo(name)
        )),
        (_, true) => Err(format!(
            "'{}' is a GUID, which the AD module would look up as an objectGUID; give the account's name (sAMAccountName)",
            echo(name)
        )),
        _ => Ok(()),
    }
}

/// Checks a SID as text: `S-1-` then the authority and up to 15
/// sub-authorities, all decimal.
pub fn check_sid(sid: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "'{}' is not a SID (expected S-1-5-21-...-RID, as Get-ADComputer X | Select SID shows it)",
            echo(sid)
        )
    };
    let rest = sid.strip_prefix("S-1-").ok_or_else(bad)?;
    let parts: Vec<&str> = rest.split('-').collect();
    let numeric =
        |p: &&str| !p.is_empty() && p.len() <= 10 && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() > 16 || !parts.iter().all(numeric) {
        return Err(bad());
    }
    if parts[1..]
        .iter()
        .any(|p| p.parse::<u64>().map_or(true, |n| n > u64::from(u32::MAX)))
    {
        return Err(bad());
    }
    Ok(())
}

/// Checks a user or gMSA sAMAccountName.
pub fn check_sam(name: &str) -> Result<(), String> {
    if let Some(c) = name.chars().find(|c| SAM_FORBIDDEN.contains(c)) {
        return Err(format!(
            "'{}' is not a valid sAMAccountName: character '{c}' is not allowed",
            echo(name)
        ));
    }
    if name.trim_end_matches('$').is_empty() || name.ends_with('.') {
        return Err(format!("'{}' is not a valid sAMAccountName", echo(name)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Case beyond ASCII and full-width forms fold away; kana type and
    /// marks do not, but the AD key sees through them.
    #[test]
    fn folding_as_ad_compares() {
        assert_eq!(fold("FS1.Contoso.COM"), "fs1.contoso.com");
        assert_eq!(fold("\u{FF26}\u{FF53}\u{FF11}"), "fs1");
        assert_eq!(fold("M\u{DC}LLER-PC"), "m\u{FC}ller-pc");
        assert!(matches!(fold("fs1"), std::borrow::Cow::Borrowed(_)));
        assert_ne!(fold("m\u{FC}ller"), fold("muller"));
        assert_eq!(ad_key("m\u{FC}ller"), ad_key("muller"));
        assert_eq!(ad_key("\u{30AB}\u{30CA}"), ad_key("\u{304B}\u{306A}"));
        assert_ne!(ad_key("muller"), ad_key("mueller"));
    }

    #[test]
    fn split_label_splits_at_the_first_dot() {
        for s in [
            "",
            "a",
            ".",
            "a.",
            ".b",
            "a.b.c",
            "m\u{fc}ller.b",
            "\u{2024}.x",
        ] {
            assert_eq!(split_label(s), s.split_once('.'), "{s}");
        }
    }

    #[test]
    fn aliases_and_canonical_spelling() {
        assert_eq!(parse_service("SMB").unwrap(), ServiceSpec::Known("cifs"));
        assert_eq!(parse_service("vsms").unwrap(), ServiceSpec::Known(VSMS));
        assert_eq!(
            parse_service("mssqlsvc").unwrap(),
            ServiceSpec::Known("MSSQLSvc")
        );
        assert_eq!(parse_service("HyperV").unwrap(), ServiceSpec::HyperV);
        assert_eq!(parse_service("custom").unwrap(), ServiceSpec::Written);
        assert!(parse_service("cifs/x").is_err());
    }

    #[test]
    fn near_misses() {
        assert_eq!(near_miss("cfis"), Some("cifs"));
        assert_eq!(
            near_miss("Microsoft Virtual System Migration ServiceType"),
            Some(VSMS)
        );
        assert_eq!(near_miss("MSSQLSrv"), Some("MSSQLSvc"));
        assert_eq!(near_miss("cifs"), None);
        assert_eq!(near_miss("FIMService"), None);
        assert_eq!(near_miss("exchangeMDB"), None);
    }

    #[test]
    fn host_names() {
        assert!(check_host("vmhost2.contoso.com").is_ok());
        assert!(check_host("MÜLLER-PC").is_ok());
        assert_eq!(
            check_host("vmhost2..contoso.com").unwrap_err(),
            "'vmhost2..contoso.com' is not a valid host name: empty label"
        );
        assert!(check_host("-bad").is_err());
        assert!(check_host("a_b").is_err());
        assert!(check_host("10.0.0.1").is_err());
        assert!(check_host(&"a".repeat(64)).is_err());
        assert!(check_host(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn sids_and_guids_are_not_names() {
        for bad in [
            "S-1-5-21-1111111111-2222222222-3333333333-500",
            "s-1-5-32-544",
            "01234567-89ab-cdef-0123-456789ABCDEF",
            "{01234567-89ab-cdef-0123-456789abcdef}",
            "S-1-5-21-1-2-3-1103$",
        ] {
            assert!(check_not_sid_or_guid(bad).is_err(), "{bad}");
        }
        for ok in [
            "svc-web",
            "S-1-web",
            "S-1-",
            "01234567-89ab-cdef-0123-456789abcdeg",
            "gmsa-web$",
        ] {
            assert!(check_not_sid_or_guid(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn ports() {
        assert_eq!(split_port("sql1:1433").unwrap(), ("sql1", Some(1433)));
        assert_eq!(split_port("sql1").unwrap(), ("sql1", None));
        assert!(split_port("sql1:0").is_err());
        assert!(split_port("sql1:65536").is_err());
        assert!(split_port("sql1:x").is_err());
    }

    proptest::proptest! {
        /// The one-pass check agrees with the full one on ASCII names.
        #[test]
        fn ascii_fast_path_agrees(name in "[a-zA-Z0-9.\\-_ ]{0,70}") {
            proptest::prop_assert_eq!(ascii_host_ok(&name), check_host_fully(&name).is_ok());
        }

        #[test]
        fn ascii_fast_path_agrees_on_hostlike_names(name in "([a-z0-9-]{0,65}\\.){0,4}[a-z0-9-]{0,65}") {
            proptest::prop_assert_eq!(ascii_host_ok(&name), check_host_fully(&name).is_ok());
        }
    }

    #[test]
    fn ascii_fast_path_edges() {
        for ok in [
            "a",
            "srv01",
            "srv-01.contoso.com",
            "1a",
            "a.1",
            &"a".repeat(63),
        ] {
            assert!(ascii_host_ok(ok), "{ok}");
        }
        let long = format!("{}.com", "a".repeat(64));
        for bad in [
            "", ".", "a.", ".a", "a..b", "-a", "a-", "a-.b", "10.0.0.1", "123", &long, "a_b", "é",
        ] {
            assert!(!ascii_host_ok(bad), "{bad}");
            assert_eq!(
                check_host(bad).is_ok(),
                check_host_fully(bad).is_ok(),
                "{bad}"
            );
        }
    }
}
