//! Any bytes as a directory export: the LDIF reader and the SID and
//! security-descriptor decoders must never panic.
#![no_main]

use kcdplan::directory::{allowed_sids, sid_text, Account};
use kcdplan::export::read_from;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let _ = read_from("fuzz.ldif", &mut input, |e| {
        for (_, v) in &e.attrs {
            let _ = sid_text(v);
            let _ = allowed_sids(v);
        }
        let _ = Account::from_entry("fuzz.ldif", &e);
        Ok(())
    });
});
