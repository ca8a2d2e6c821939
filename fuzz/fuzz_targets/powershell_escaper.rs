//! Any string through the PowerShell literal escaper decodes back to
//! itself, and no quote character inside the literal stands alone.
#![no_main]

use kcdplan::escape::powershell::{decode_literal, literal, QUOTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: String| {
    let lit = literal(&value);
    assert_eq!(decode_literal(&lit).as_deref(), Some(value.as_str()));
    let inner: Vec<char> = lit.chars().collect();
    let inner = &inner[1..inner.len() - 1];
    let mut i = 0;
    while i < inner.len() {
        if QUOTES.contains(&inner[i]) {
            assert_eq!(inner.get(i + 1), Some(&inner[i]), "lone quote in {lit:?}");
            i += 2;
        } else {
            i += 1;
        }
    }
});
