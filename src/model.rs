//! The words of the domain that every stage shares: what a row asks for
//! (action, protocol, account type), how a plan changes an account, the
//! userAccountControl flags, and the identity of a file read or written.

use serde::Serialize;

/// What a row does to the principal's `msDS-AllowedToDelegateTo`.
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

/// The kind of account that delegates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalType {
    Computer,
    User,
    Gmsa,
}

/// Which kind of delegation a row plans: constrained (on the front end,
/// msDS-AllowedToDelegateTo) or resource-based (on the resource,
/// msDS-AllowedToActOnBehalfOfOtherIdentity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Delegation {
    Constrained,
    Resource,
}

/// How a principal's `msDS-AllowedToDelegateTo` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Add and/or remove individual values.
    Update,
    /// Set the complete list (an empty list clears the attribute).
    Replace,
}

/// Where a principal's DN comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DnSource {
    /// The CSV's `dn` column.
    Csv,
    /// Built from the name, container and domain: an assumption.
    Derived,
    /// The directory export (`--current`).
    Export,
}

/// An enum whose values are written as keywords: in the CSV, plan.json
/// and the templates. One table per enum gives both directions.
pub trait Keyword: Copy + PartialEq + 'static {
    /// Every keyword with its value; the first for a value is its name.
    const WORDS: &'static [(&'static str, Self)];

    /// The value a cell names, compared ignoring ASCII case.
    fn parse(cell: &str) -> Option<Self> {
        (Self::WORDS.iter())
            .find(|(w, _)| w.eq_ignore_ascii_case(cell))
            .map(|&(_, v)| v)
    }

    /// The value's name.
    fn as_str(self) -> &'static str {
        (Self::WORDS.iter())
            .find(|(_, v)| *v == self)
            .map(|(w, _)| *w)
            .expect("every value has a keyword")
    }
}

impl Keyword for Action {
    const WORDS: &'static [(&'static str, Action)] = &[
        ("add", Action::Add),
        ("remove", Action::Remove),
        ("replace", Action::Replace),
        ("delete", Action::Remove),
    ];
}

impl Keyword for Protocol {
    const WORDS: &'static [(&'static str, Protocol)] = &[
        ("kerberos", Protocol::Kerberos),
        ("any", Protocol::Any),
        ("kerberos-only", Protocol::Kerberos),
        ("kerberosonly", Protocol::Kerberos),
    ];
}

impl Keyword for PrincipalType {
    const WORDS: &'static [(&'static str, PrincipalType)] = &[
        ("computer", PrincipalType::Computer),
        ("user", PrincipalType::User),
        ("gmsa", PrincipalType::Gmsa),
    ];
}

impl Keyword for Delegation {
    const WORDS: &'static [(&'static str, Delegation)] = &[
        ("constrained", Delegation::Constrained),
        ("resource", Delegation::Resource),
        ("rbcd", Delegation::Resource),
        ("resource-based", Delegation::Resource),
    ];
}

impl Keyword for Mode {
    const WORDS: &'static [(&'static str, Mode)] =
        &[("update", Mode::Update), ("replace", Mode::Replace)];
}

impl Keyword for DnSource {
    const WORDS: &'static [(&'static str, DnSource)] = &[
        ("csv", DnSource::Csv),
        ("derived", DnSource::Derived),
        ("export", DnSource::Export),
    ];
}

/// userAccountControl flags (MS-ADTS 2.2.16).
pub mod uac {
    pub const ACCOUNTDISABLE: u32 = 0x2;
    pub const NORMAL_ACCOUNT: u32 = 0x200;
    pub const WORKSTATION_TRUST_ACCOUNT: u32 = 0x1000;
    pub const SERVER_TRUST_ACCOUNT: u32 = 0x2000;
    /// A read-only domain controller.
    pub const PARTIAL_SECRETS_ACCOUNT: u32 = 0x0400_0000;
    pub const TRUSTED_FOR_DELEGATION: u32 = 0x80000;
    pub const NOT_DELEGATED: u32 = 0x100000;
    pub const TRUSTED_TO_AUTH_FOR_DELEGATION: u32 = 0x1000000;

    /// Primary group IDs of domain controllers (516) and read-only ones (521).
    pub const DC_PRIMARY_GROUPS: [u32; 2] = [516, 521];

    /// Whether an account with these flags and primary group is a domain
    /// controller, read-only ones included.
    pub fn is_dc(flags: u32, primary_group: Option<u32>) -> bool {
        flags & (SERVER_TRUST_ACCOUNT | PARTIAL_SECRETS_ACCOUNT) != 0
            || primary_group.is_some_and(|g| DC_PRIMARY_GROUPS.contains(&g))
    }

    /// userAccountControl as an export writes it: a decimal integer,
    /// which ldifde and some tools write signed (the flags fill 32 bits).
    pub fn parse(text: &str) -> Option<u32> {
        let n: i64 = text.trim().parse().ok()?;
        u32::try_from(n)
            .ok()
            .or_else(|| i32::try_from(n).ok().map(|n| n as u32))
    }
}

/// A file read or written: the name it is shown by and the SHA-256 of its
/// bytes (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileInfo {
    pub name: String,
    pub sha256: String,
}

impl FileInfo {
    /// The same file named by its last path component: generated files
    /// must not depend on where their input was.
    pub fn base_name(&self) -> FileInfo {
        FileInfo {
            name: file_name(&self.name),
            sha256: self.sha256.clone(),
        }
    }
}

/// A directory export as read: the file and its number of records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportInfo {
    pub file: FileInfo,
    pub records: u64,
    /// Attributes kcdplan reads that no record of the export holds (as AD
    /// spells them): accounts are read as having none, which the export
    /// cannot confirm.
    pub absent: Vec<&'static str>,
}

/// Written as the file's fields, `records` and `attributes_absent`, in that order (serde's
/// `flatten` would hand the templates a map, which sorts its keys).
impl Serialize for ExportInfo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ExportInfo", 4)?;
        st.serialize_field("name", &self.file.name)?;
        st.serialize_field("sha256", &self.file.sha256)?;
        st.serialize_field("records", &self.records)?;
        st.serialize_field("attributes_absent", &self.absent)?;
        st.end()
    }
}

/// The last path component of a name, either separator.
pub fn file_name(name: &str) -> String {
    name.rsplit(['/', '\\']).next().unwrap_or(name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<K: Keyword + std::fmt::Debug>() {
        for &(word, value) in K::WORDS {
            assert_eq!(K::parse(word), Some(value));
            assert_eq!(K::parse(&word.to_ascii_uppercase()), Some(value));
            assert_eq!(K::parse(K::as_str(value)), Some(value), "{word}");
        }
        assert_eq!(K::parse("nope"), None);
    }

    /// Each keyword parses to its value, and each value's name is the
    /// name serde writes for it.
    #[test]
    fn keywords_read_and_write_the_same_names() {
        round_trips::<Action>();
        round_trips::<Protocol>();
        round_trips::<PrincipalType>();
        round_trips::<Mode>();
        round_trips::<DnSource>();
        for &(_, v) in Action::WORDS {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
        for &(_, v) in DnSource::WORDS {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
        assert_eq!(Protocol::parse("Kerberos-Only"), Some(Protocol::Kerberos));
    }

    /// Exports write userAccountControl signed or unsigned; anything else
    /// is no number.
    #[test]
    fn uac_reads_signed_and_unsigned() {
        assert_eq!(uac::parse("4096"), Some(4096));
        assert_eq!(uac::parse(" 532480 "), Some(532480));
        assert_eq!(uac::parse("-2147479552"), Some(0x8000_1000));
        assert_eq!(uac::parse("2147487744"), Some(0x8000_1000));
        for bad in ["", "x", "4096x", "4294967296", "-2147483649"] {
            assert_eq!(uac::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn file_names_drop_either_separator() {
        assert_eq!(file_name("a/b\\c.csv"), "c.csv");
        assert_eq!(file_name("c.csv"), "c.csv");
    }
}
