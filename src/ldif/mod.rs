//! LDIF (RFC 2849), both ways and in one place: [`reader`] reads directory
//! exports as ldifde, ldapsearch and ldbsearch write them; [`writer`]
//! writes the values and folds the lines of the change files kcdplan
//! generates. Whatever the writer writes, the reader reads back.

pub mod reader;
pub mod writer;

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::reader::{read_from, AttrValue};
    use super::writer::{value_spec, FoldingWriter, FOLD_AT};

    /// A record holding `dn` and `value`, written and folded as the
    /// templates write records.
    fn record(dn: &str, value: &str) -> Vec<u8> {
        let text = format!(
            "dn{}\nmsDS-AllowedToDelegateTo{}\n\n",
            value_spec(dn),
            value_spec(value)
        );
        let mut w = FoldingWriter::new(Vec::new());
        w.write_all(text.as_bytes()).unwrap();
        w.into_inner()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any DN and any value, written by the writer, read by the
        /// reader: the same text; every written line is short printable
        /// ASCII.
        #[test]
        fn what_the_writer_writes_the_reader_reads(
            dn in "\\PC{1,90}|[ :<#a-z\u{e9}\u{1F600}]{1,90}",
            value in "\\PC{0,200}|\\PC*[ \t\r\n\u{0}\u{1b}]\\PC*",
        ) {
            let bytes = record(&dn, &value);
            for line in String::from_utf8(bytes.clone()).unwrap().lines() {
                prop_assert!(line.len() <= FOLD_AT);
                prop_assert!(line.bytes().all(|b| (0x20..0x7F).contains(&b)), "{line:?}");
            }
            let mut seen = Vec::new();
            read_from("t.ldif", &mut &bytes[..], |e| {
                seen.push((e.dn.to_string(), e.values("msds-allowedtodelegateto").cloned().map(|v| match v {
                    AttrValue::Text(t) => t.into_owned(),
                    AttrValue::Bytes(b) => String::from_utf8(b).unwrap(),
                }).collect::<Vec<_>>()));
                Ok(())
            }).unwrap();
            prop_assert_eq!(seen, vec![(dn, vec![value])]);
        }
    }
}
