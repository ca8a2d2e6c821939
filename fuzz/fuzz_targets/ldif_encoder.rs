//! Any string through the LDIF value encoder and the folding writer
//! decodes back to itself, and the written lines are safe ASCII.
#![no_main]

use std::io::Write;

use kcdplan::escape::ldif::{decode_spec, unfold, value_spec, FoldingWriter, FOLD_AT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: String| {
    let spec = value_spec(&value);
    assert_eq!(decode_spec(&spec).as_deref(), Some(value.as_str()));
    let line = format!("msDS-AllowedToDelegateTo{spec}\n");
    let mut w = FoldingWriter::new(Vec::new());
    w.write_all(line.as_bytes()).unwrap();
    let folded = String::from_utf8(w.into_inner()).expect("folding keeps UTF-8 whole");
    for l in folded.lines() {
        assert!(l.len() <= FOLD_AT);
        assert!(l.bytes().all(|b| (0x20..0x7f).contains(&b)));
    }
    let lines = unfold(&folded);
    assert_eq!(lines.len(), 1);
    let back = lines[0].strip_prefix("msDS-AllowedToDelegateTo").unwrap();
    assert_eq!(decode_spec(back).as_deref(), Some(value.as_str()));
});
