//! Hostile text made safe to echo: control characters, bidi overrides and
//! zero-width characters are shown as `\u{...}` escapes so that an error
//! message can never rewrite the terminal or hide what the value really is.

/// Characters that must never reach a terminal or a generated file as-is:
/// C0/C1 controls, DEL, bidi embeddings/overrides/isolates, zero-width and
/// other invisible formatting characters, line/paragraph separators, BOM.
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{206A}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{180E}'
                | '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
        )
}

/// The text with every forbidden character escaped. Backslashes are kept
/// as they are: DNs are full of them and an admin must recognise the DN.
pub fn show(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_forbidden(c) => out.push_str(&format!("\\u{{{:04X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(show("a\u{0}b"), "a\\u{0000}b");
        assert_eq!(show("x\u{202E}y"), "x\\u{202E}y");
        assert_eq!(show("tab\there\n"), "tab\\there\\n");
        assert_eq!(show("MÜLLER-PC"), "MÜLLER-PC");
        assert_eq!(show("a\\, b"), "a\\, b");
    }
}
