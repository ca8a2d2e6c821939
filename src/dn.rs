//! Distinguished names (RFC 4514): parsing what a user wrote into its
//! components and writing components back with the escaping the directory
//! requires, so that a DN in a generated file always means what was planned.

use std::fmt;

use crate::names;

/// One `type=value` pair of an RDN; `value` is unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ava {
    pub attr: String,
    pub value: String,
}

/// A parsed DN: RDNs in written order (most specific first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dn {
    pub rdns: Vec<Vec<Ava>>,
}

impl Dn {
    /// A DN with one CN RDN in front of `parent`.
    pub fn child(cn: &str, parent: &Dn) -> Dn {
        let mut rdns = vec![vec![Ava {
            attr: "CN".into(),
            value: cn.to_string(),
        }]];
        rdns.extend(parent.rdns.iter().cloned());
        Dn { rdns }
    }

    pub fn join(&self, parent: &Dn) -> Dn {
        let mut rdns = self.rdns.clone();
        rdns.extend(parent.rdns.iter().cloned());
        Dn { rdns }
    }

    /// The DN of a DNS domain: `contoso.com` -> `DC=contoso,DC=com`.
    pub fn of_domain(domain: &str) -> Dn {
        let rdns = domain
            .split('.')
            .map(|label| {
                vec![Ava {
                    attr: "DC".into(),
                    value: label.to_string(),
                }]
            })
            .collect();
        Dn { rdns }
    }

    /// The DNS domain the entry lies in: its `DC=` components, in order
    /// (lowercase); `None` without any.
    pub fn domain(&self) -> Option<String> {
        let labels: Vec<String> = (self.rdns.iter())
            .filter(|rdn| rdn.len() == 1 && attr_name(&rdn[0].attr) == "dc")
            .map(|rdn| names::fold(&rdn[0].value).into_owned())
            .collect();
        (!labels.is_empty()).then(|| labels.join("."))
    }

    /// Comparison key: two DNs name one entry exactly when their keys are
    /// equal, as AD compares them: attribute types by name or by OID
    /// (`2.5.4.3=PC1` is `CN=PC1`), values ignoring case (beyond ASCII)
    /// and width, the values of a multi-valued RDN in any order.
    pub fn key(&self) -> String {
        let mut out = String::new();
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let mut avas: Vec<String> = (rdn.iter())
                .map(|a| {
                    format!(
                        "{}={}",
                        attr_name(&a.attr),
                        escape_value(&names::fold(&a.value))
                    )
                })
                .collect();
            avas.sort();
            out.push_str(&avas.join("+"));
        }
        out
    }
}

/// An attribute type's name in lowercase; the common ones given by OID
/// (RFC 4519, RFC 4514) by their names.
fn attr_name(attr: &str) -> String {
    const OIDS: &[(&str, &str)] = &[
        ("2.5.4.3", "cn"),
        ("2.5.4.6", "c"),
        ("2.5.4.7", "l"),
        ("2.5.4.8", "st"),
        ("2.5.4.9", "street"),
        ("2.5.4.10", "o"),
        ("2.5.4.11", "ou"),
        ("0.9.2342.19200300.100.1.1", "uid"),
        ("0.9.2342.19200300.100.1.25", "dc"),
    ];
    let attr = attr
        .strip_prefix("oid.")
        .or_else(|| attr.strip_prefix("OID."))
        .unwrap_or(attr);
    match OIDS.iter().find(|(oid, _)| *oid == attr) {
        Some((_, name)) => name.to_string(),
        None => attr.to_ascii_lowercase(),
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            for (j, ava) in rdn.iter().enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                write!(f, "{}={}", ava.attr, escape_value(&ava.value))?;
            }
        }
        Ok(())
    }
}

/// Escapes an attribute value for a DN string (RFC 4514 section 2.4):
/// `"` `+` `,` `;` `<` `>` `\`, a leading space or `#`, a trailing space,
/// NUL as `\00`; also `=`, LF and CR, which Active Directory escapes.
pub fn escape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 4);
    let n = v.chars().count();
    for (i, c) in v.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '\0' => out.push_str("\\00"),
            '\n' => out.push_str("\\0A"),
            '\r' => out.push_str("\\0D"),
            ' ' if i == 0 || i + 1 == n => out.push_str("\\ "),
            '#' if i == 0 => out.push_str("\\#"),
            c => out.push(c),
        }
    }
    out
}

/// Parses a DN string. Spaces around `,`, `+` and `=` are tolerated;
/// hex-string values (`#04...`) are refused, as an account DN never needs them.
pub fn parse(s: &str) -> Result<Dn, String> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut rdns = Vec::new();
    let mut rdn = Vec::new();
    let skip_spaces = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i] == b' ' {
            *i += 1;
        }
    };
    if s.trim().is_empty() {
        return Err("the DN is empty".into());
    }
    loop {
        skip_spaces(&mut i);
        // attribute type
        let start = i;
        while i < bytes.len()
            && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-' || bytes[i] == b'.')
        {
            i += 1;
        }
        let attr = &s[start..i];
        if attr.is_empty() {
            return Err(format!(
                "expected an attribute name at character {}",
                char_pos(s, i)
            ));
        }
        let first = attr.as_bytes()[0];
        let valid_attr = if first.is_ascii_digit() {
            attr.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        } else {
            first.is_ascii_alphabetic() && !attr.contains('.')
        };
        if !valid_attr {
            return Err(format!("'{attr}' is not a valid attribute name"));
        }
        skip_spaces(&mut i);
        if i >= bytes.len() || bytes[i] != b'=' {
            return Err(format!("expected '=' after '{attr}'"));
        }
        i += 1;
        skip_spaces(&mut i);
        if i < bytes.len() && bytes[i] == b'#' {
            return Err(format!(
                "hex-encoded value after '{attr}=' is not supported; write the value as text"
            ));
        }
        // value
        let mut raw: Vec<u8> = Vec::new();
        let mut trailing_unescaped_spaces = 0usize;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b',' | b'+' | b';' => break,
                b'\\' => {
                    i += 1;
                    if i >= bytes.len() {
                        return Err("the DN ends with a lone '\\'".into());
                    }
                    let e = bytes[i];
                    if e.is_ascii_hexdigit() {
                        if i + 1 >= bytes.len() || !bytes[i + 1].is_ascii_hexdigit() {
                            return Err(format!(
                                "bad escape '\\{}' at character {}",
                                e as char,
                                char_pos(s, i)
                            ));
                        }
                        let h = u8::from_str_radix(&s[i..i + 2], 16).expect("two hex digits");
                        raw.push(h);
                        i += 2;
                    } else if matches!(
                        e,
                        b' ' | b'"' | b'#' | b'+' | b',' | b';' | b'<' | b'=' | b'>' | b'\\'
                    ) {
                        raw.push(e);
                        i += 1;
                    } else {
                        return Err(format!(
                            "bad escape '\\{}' at character {}",
                            s[i..].chars().next().unwrap_or('?'),
                            char_pos(s, i)
                        ));
                    }
                    trailing_unescaped_spaces = 0;
                    continue;
                }
                b'"' | b'<' | b'>' | 0 => {
                    return Err(format!(
                        "character '{}' must be escaped with '\\' at character {}",
                        b as char,
                        char_pos(s, i)
                    ));
                }
                b' ' => trailing_unescaped_spaces += 1,
                _ => trailing_unescaped_spaces = 0,
            }
            raw.push(b);
            i += 1;
        }
        raw.truncate(raw.len() - trailing_unescaped_spaces);
        let value = String::from_utf8(raw)
            .map_err(|_| format!("the value of '{attr}' is not valid UTF-8 after unescaping"))?;
        // Escapes decode to text that is checked as raw text is.
        if let Some(c) = value.chars().find(|c| crate::sanitize::is_hidden(*c)) {
            return Err(format!(
                "the value of '{attr}' holds the control or invisible character U+{:04X}",
                c as u32
            ));
        }
        if value.is_empty() {
            return Err(format!("'{attr}=' has an empty value"));
        }
        rdn.push(Ava {
            attr: attr.to_string(),
            value,
        });
        if i >= bytes.len() {
            rdns.push(std::mem::take(&mut rdn));
            break;
        }
        let sep = bytes[i];
        i += 1;
        if sep != b'+' {
            rdns.push(std::mem::take(&mut rdn));
        }
        if i >= bytes.len() || s[i..].trim().is_empty() {
            return Err("the DN ends with a separator".into());
        }
    }
    Ok(Dn { rdns })
}

fn char_pos(s: &str, byte: usize) -> usize {
    s[..byte.min(s.len())].chars().count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_escapes() {
        let d = parse(r"CN=Svc\, Web,OU=O'Brien,DC=contoso,DC=com").unwrap();
        assert_eq!(d.rdns[0][0].value, "Svc, Web");
        assert_eq!(d.to_string(), r"CN=Svc\, Web,OU=O'Brien,DC=contoso,DC=com");
    }

    #[test]
    fn tolerates_spaces_and_hex() {
        let d = parse(r"CN = M\C3\9CLLER-PC , CN=Computers, DC=contoso,DC=com").unwrap();
        assert_eq!(d.to_string(), "CN=MÜLLER-PC,CN=Computers,DC=contoso,DC=com");
    }

    /// A hex escape decodes to a character that is checked like any other.
    #[test]
    fn escapes_cannot_smuggle_hidden_characters() {
        assert_eq!(
            parse(r"CN=a\1B[8m,DC=x").unwrap_err(),
            "the value of 'CN' holds the control or invisible character U+001B"
        );
        assert_eq!(
            parse(r"CN=a\E2\80\AEb,DC=x").unwrap_err(),
            "the value of 'CN' holds the control or invisible character U+202E"
        );
        assert!(parse(r"CN=M\C3\9CLLER,DC=x").is_ok());
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse("vmhost1").is_err());
        assert!(parse("CN=a,").is_err());
        assert!(parse("CN=").is_err());
        assert!(parse("CN=a<b").is_err());
        assert!(parse(r"CN=a\").is_err());
        assert!(parse("=x").is_err());
        assert!(parse("CN=#0403").is_err());
    }

    #[test]
    fn escapes_edges() {
        assert_eq!(escape_value(" a "), r"\ a\ ");
        assert_eq!(escape_value("#a#"), r"\#a#");
        assert_eq!(escape_value("a+b=c"), r"a\+b\=c");
    }

    /// One entry, however its DN is written; another entry, another key.
    #[test]
    fn keys_compare_as_ad_does() {
        let key = |s: &str| parse(s).unwrap().key();
        let pc = key("CN=PC1,CN=Computers,DC=contoso,DC=com");
        assert_eq!(
            key("2.5.4.3=pc1,cn=COMPUTERS,0.9.2342.19200300.100.1.25=Contoso,DC=com"),
            pc
        );
        assert_eq!(key("cn = PC1 , CN=Computers,DC=contoso,DC=com"), pc);
        assert_eq!(key("CN=\\50C1,CN=Computers,DC=contoso,DC=com"), pc);
        assert_ne!(key("CN=\\\\50C1,CN=Computers,DC=contoso,DC=com"), pc);
        assert_eq!(key("CN=M\u{DC}LLER-PC,DC=x"), key("CN=m\u{FC}ller-pc,DC=x"));
        assert_eq!(key("CN=\u{FF30}\u{FF23}1,DC=x"), key("CN=pc1,DC=x"));
        assert_eq!(key("CN=a+UID=b,DC=x"), key("UID=B+CN=A,DC=x"));
        assert_ne!(
            key("CN=PC1,DC=emea,DC=contoso,DC=com"),
            key("CN=PC1,DC=contoso,DC=com")
        );
        assert_ne!(key("CN=a\\,b,DC=x"), key("CN=a,CN=b,DC=x"));
    }

    #[test]
    fn domains_of_dns() {
        let d = |s: &str| parse(s).unwrap().domain();
        assert_eq!(
            d("CN=PC1,CN=Computers,DC=EMEA,DC=contoso,DC=com").as_deref(),
            Some("emea.contoso.com")
        );
        assert_eq!(
            d("CN=PC1,0.9.2342.19200300.100.1.25=x").as_deref(),
            Some("x")
        );
        assert_eq!(d("CN=PC1,OU=x"), None);
        assert_eq!(
            Dn::of_domain("contoso.com").to_string(),
            "DC=contoso,DC=com"
        );
    }

    #[test]
    fn multi_valued_rdn() {
        let d = parse("CN=a+UID=b,DC=x").unwrap();
        assert_eq!(d.rdns[0].len(), 2);
        assert_eq!(d.to_string(), "CN=a+UID=b,DC=x");
    }
}
