//! Any string through the PowerShell literal escaper decodes back to
//! itself; the script text holds no hidden character raw; inside each
//! quoted part, every quote character is doubled; between quoted parts
//! stand only `(`, ` + `, `)` and `[char]::ConvertFromUtf32(0x..)`.
#![no_main]

use kcdplan::escape::powershell::{decode_literal, literal, QUOTES};
use kcdplan::sanitize::is_hidden;
use libfuzzer_sys::fuzz_target;

const BUILT: &str = "[char]::ConvertFromUtf32(0x";

fuzz_target!(|value: String| {
    let lit = literal(&value);
    assert_eq!(decode_literal(&lit).as_deref(), Some(value.as_str()));
    assert!(!lit.chars().any(is_hidden), "hidden character in {lit:?}");
    // Walk the text as PowerShell's tokenizer would: a quote opens a
    // literal; inside, a doubled quote is text and a lone one closes it.
    let chars: Vec<char> = lit.chars().collect();
    let mut outside = String::new();
    let mut i = 0;
    while i < chars.len() {
        if !QUOTES.contains(&chars[i]) {
            outside.push(chars[i]);
            i += 1;
            continue;
        }
        outside.push('Q');
        i += 1;
        loop {
            assert!(i < chars.len(), "unterminated literal in {lit:?}");
            let c = chars[i];
            if QUOTES.contains(&c) {
                if chars.get(i + 1) == Some(&c) {
                    i += 2;
                    continue;
                }
                assert!(
                    !chars.get(i + 1).is_some_and(|n| QUOTES.contains(n)),
                    "ambiguous quotes in {lit:?}"
                );
                i += 1;
                break;
            }
            i += 1;
        }
    }
    // One literal alone, or an expression of parts.
    if outside != "Q" {
        let rest = outside.replace(BUILT, "B(");
        let inner = rest
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or_else(|| panic!("not a parenthesised expression: {lit:?}"));
        for part in inner.split(" + ") {
            let ok = part == "Q"
                || part
                    .strip_prefix("B(")
                    .and_then(|p| p.strip_suffix(')'))
                    .is_some_and(|hex| {
                        !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())
                    });
            assert!(ok, "unexpected part {part:?} in {lit:?}");
        }
    }
});
