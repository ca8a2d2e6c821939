//! Property tests: any string through the PowerShell escaper decodes back
//! to itself; any string through the LDIF writer (with folding) reads back
//! through kcdplan's LDIF reader; DN escaping round-trips through the DN
//! parser.

use std::io::Write;

use kcdplan::escape::powershell::{decode_literal, literal, QUOTES};
use kcdplan::ldif::reader::{read_from, AttrValue};
use kcdplan::ldif::writer::{value_spec, FoldingWriter, FOLD_AT};
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
        // Every quote character inside the literal is doubled.
        let inner: Vec<char> = lit.chars().skip(1).collect();
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
        let parsed = kcdplan::dn::parse(&dn).unwrap();
        prop_assert_eq!(&parsed.rdns[0][0].value, &v);
        prop_assert_eq!(parsed.to_string(), dn);
    }
}
