//! Any bytes as a directory export: the LDIF reader and the SID and
//! security-descriptor decoders must never panic, and a descriptor that
//! reads and can be written back reads back the same.
#![no_main]

use kcdplan::directory::{descriptor, Account};
use kcdplan::ldif::reader::read_from;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let _ = read_from("fuzz.ldif", &mut input, |e| {
        for (_, v) in &e.attrs {
            let _ = descriptor::sid(v);
            if let Ok(d) = descriptor::parse(v) {
                if let Ok(bytes) = d.to_bytes() {
                    let again = descriptor::parse(&kcdplan::ldif::reader::AttrValue::Bytes(bytes));
                    assert_eq!(again.as_ref(), Ok(&descriptor::Descriptor { sacl: false, ..d }));
                }
            }
        }
        let _ = Account::from_entry("fuzz.ldif", &e);
        Ok(())
    });
});
