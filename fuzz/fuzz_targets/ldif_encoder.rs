//! Any string through the LDIF value writer and the folding writer reads
//! back to itself through kcdplan's LDIF reader, and the written lines are
//! safe ASCII.
#![no_main]

use std::io::Write;

use kcdplan::ldif::reader::{read_from, AttrValue};
use kcdplan::ldif::writer::{value_spec, FoldingWriter, FOLD_AT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: String| {
    let record = format!("dn: CN=x\nmsDS-AllowedToDelegateTo{}\n", value_spec(&value));
    let mut w = FoldingWriter::new(Vec::new());
    w.write_all(record.as_bytes()).unwrap();
    let folded = String::from_utf8(w.into_inner()).expect("folding keeps UTF-8 whole");
    for l in folded.lines() {
        assert!(l.len() <= FOLD_AT);
        assert!(l.bytes().all(|b| (0x20..0x7f).contains(&b)));
    }
    let mut back = Vec::new();
    read_from("fuzz.ldif", &mut folded.as_bytes(), |e| {
        back.extend(e.values("msds-allowedtodelegateto").map(|v| match v {
            AttrValue::Text(t) => t.to_string(),
            AttrValue::Bytes(b) => String::from_utf8(b.clone()).expect("UTF-8 value"),
        }));
        Ok(())
    })
    .expect("what the writer writes, the reader reads");
    assert_eq!(back, [value]);
});
