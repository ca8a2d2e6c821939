//! Any bytes as a directory export: the LDIF reader and the SID and
//! security-descriptor decoders must never panic.
#![no_main]

use kcdplan::directory::{descriptor, Account};
use kcdplan::ldif::reader::read_from;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let _ = read_from("fuzz.ldif", &mut input, |e| {
        for (_, v) in &e.attrs {
            let _ = descriptor::sid(v);
            let _ = descriptor::dacl(v);
        }
        let _ = Account::from_entry("fuzz.ldif", &e);
        Ok(())
    });
});
