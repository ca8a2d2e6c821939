//! Property tests: any string through the PowerShell escaper decodes back
//! to itself; any string through the LDIF writer (with folding) reads back
//! through kcdplan's LDIF reader; DN escaping round-trips through the DN
//! parser.

use std::io::Write;

use kcdplan::escape::powershell::{decode_literal, literal, QUOTES};
use kcdplan::ldif::reader::{read_from, AttrValue};
use kcdplan::ldif::writer::{value_spec, FoldingWriter, FOLD_AT};
use kcdplan::sanitize::is_hidden;
use proptest::prelude::*;

/// Strings rich in the characters that matter to each escaper.
fn tricky() -> impl Strategy<Value = String> {
    let pieces = prop::collection::vec(
        prop_oneof![
            Just("'".to_string()),
            Just("\u{2018}".to_string()),
            Just("\u{2019}".to_string()),
            Just("\u{201A}".to_string()),
            Just("\u{201B}".to_string()),
            Just(" ".to_string()),
            Just(":".to_string()),
            Just("<".to_string()),
            Just("\n".to_string()),
            Just("\r".to_string()),
            Just("\0".to_string()),
            Just("#>".to_string()),
            Just("$(x)".to_string()),
            Just("`".to_string()),
            Just("Ü".to_string()),
            Just("\u{1F600}".to_string()),
            "[a-zA-Z0-9/.,=+;\\\\-]{0,12}",
            any::<String>(),
        ],
        0..12,
    );
    pieces.prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn powershell_literal_round_trips(s in tricky()) {
        let lit = literal(&s);
        prop_assert_eq!(decode_literal(&lit), Some(s.clone()));
        // No hidden character is written raw: such a value is built from
        // character codes and quoted runs.
        prop_assert!(!lit.chars().any(is_hidden), "{lit:?}");
        let quoted: Vec<&str> = match lit.strip_prefix('(') {
            Some(expr) => expr.trim_end_matches(')').split(" + ").filter(|p| !p.starts_with("[char]")).collect(),
            None => vec![lit.as_str()],
        };
        // Every quote character inside each quoted run is doubled.
        for run in quoted {
            let inner: Vec<char> = run.chars().skip(1).collect();
            let inner = &inner[..inner.len() - 1];
            let mut i = 0;
            while i < inner.len() {
                if QUOTES.contains(&inner[i]) {
                    prop_assert!(i + 1 < inner.len() && inner[i + 1] == inner[i]);
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
    }

    #[test]
    fn ldif_value_round_trips_through_folding(s in tricky()) {
        let spec = value_spec(&s);
        // The written line is plain 7-bit ASCII with no line break.
        let line = format!("msDS-AllowedToDelegateTo{spec}\n");
        prop_assert!(line.trim_end_matches('\n').bytes().all(|b| (0x20..0x7F).contains(&b)));
        let mut w = FoldingWriter::new(Vec::new());
        w.write_all(format!("dn: CN=x\n{line}").as_bytes()).unwrap();
        let folded = String::from_utf8(w.into_inner()).unwrap();
        for l in folded.lines() {
            prop_assert!(l.len() <= FOLD_AT);
        }
        let mut back = Vec::new();
        read_from("t.ldif", &mut folded.as_bytes(), |e| {
            for v in e.values("msds-allowedtodelegateto") {
                back.push(match v {
                    AttrValue::Text(t) => t.to_string(),
                    AttrValue::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
                });
            }
            Ok(())
        })
        .unwrap();
        prop_assert_eq!(back, vec![s]);
    }

    #[test]
    fn folding_never_splits_utf8(s in any::<String>()) {
        let mut w = FoldingWriter::new(Vec::new());
        let line = s.replace('\n', "");
        w.write_all(line.as_bytes()).unwrap();
        let out = w.into_inner();
        prop_assert!(String::from_utf8(out.clone()).is_ok());
        // Unfolding (a line break and one space dropped) gives it back.
        let unfolded = String::from_utf8(out).unwrap().replace("\n ", "");
        prop_assert_eq!(unfolded, line);
    }

    #[test]
    fn dn_values_round_trip(v in "[^\u{0}]{1,40}") {
        let dn = format!("CN={},DC=contoso,DC=com", kcdplan::dn::escape_value(&v));
        // A value with a hidden character is refused, however written.
        if v.chars().any(is_hidden) {
            prop_assert!(kcdplan::dn::parse(&dn).is_err());
            return Ok(());
        }
        let parsed = kcdplan::dn::parse(&dn).unwrap();
        prop_assert_eq!(&parsed.rdns[0][0].value, &v);
        prop_assert_eq!(parsed.to_string(), dn);
    }
}

/// Strings rich in hidden characters of every class.
fn hidden_rich() -> impl Strategy<Value = String> {
    let pieces = prop::collection::vec(
        prop_oneof![
            Just("\u{1B}[8m".to_string()),
            Just("\u{7}".to_string()),
            Just("\u{8}".to_string()),
            Just("\u{7F}".to_string()),
            Just("\u{85}".to_string()),
            Just("\u{202E}".to_string()),
            Just("\u{2066}".to_string()),
            Just("\u{200B}".to_string()),
            Just("\u{FE0F}".to_string()),
            Just("\u{E0041}".to_string()),
            Just("\u{3164}".to_string()),
            Just("\u{2800}".to_string()),
            Just("\u{1D173}".to_string()),
            Just("\u{2028}".to_string()),
            Just("'\"$(x)`#><".to_string()),
            "[a-zA-Z0-9/.,=+;:@\\\\-]{0,12}",
            any::<String>(),
        ],
        0..10,
    );
    pieces.prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Any string, through every output kind: no hidden character is
    /// written raw, and where the format can say it exactly, the value
    /// reads back whole.
    #[test]
    fn every_output_kind_shows_hidden_characters(s in hidden_rich()) {
        use kcdplan::escape::{comment_text, Kind};
        let raw = |out: &str| out.chars().any(is_hidden);
        for kind in [Kind::Ldif, Kind::PowerShell, Kind::Markdown, Kind::Json, Kind::Html] {
            let mut out = String::new();
            kind.write_text(&mut out, &s).unwrap();
            prop_assert!(!raw(&out), "{kind:?}: {out:?}");
            match kind {
                Kind::PowerShell => prop_assert_eq!(decode_literal(&out), Some(s.clone())),
                Kind::Json => prop_assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s.clone()),
                Kind::Ldif => {
                    let mut back = Vec::new();
                    read_from("t.ldif", &mut format!("dn: CN=x\nmsDS-AllowedToDelegateTo{out}\n").as_bytes(), |e| {
                        back.extend(e.values("msds-allowedtodelegateto").map(|v| match v {
                            AttrValue::Text(t) => t.to_string(),
                            AttrValue::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
                        }));
                        Ok(())
                    }).unwrap();
                    prop_assert_eq!(back, vec![s.clone()]);
                }
                Kind::Markdown => {}
                // HTML: no character with a meaning in markup is left.
                Kind::Html => prop_assert!(!out.contains(['<', '>', '"', '\''])),
            }
        }
        prop_assert!(!raw(&kcdplan::sanitize::show(&s).to_string()));
        prop_assert!(!raw(&kcdplan::sanitize::echo(&s).to_string()));
        prop_assert!(comment_text(&s).bytes().all(|b| (0x20..0x7F).contains(&b)));
        let json = kcdplan::escape::json::to_string_pretty(&[&s]).unwrap();
        prop_assert!(!json.chars().any(|c| is_hidden(c) && c != '\n'));
        prop_assert_eq!(serde_json::from_str::<Vec<String>>(&json).unwrap(), vec![s.clone()]);
    }
}
