//! Escapers, one per output kind. Templates never call these directly: the
//! template engine's formatter applies the one that matches the file being
//! rendered (see `render`), so no value can reach an output unescaped.

pub mod ldif;
pub mod markdown;
pub mod powershell;

/// Text for a comment line in any output: printable ASCII only; anything
/// else, and the characters that could end or open a comment or markup
/// (`#`, `<`, `>`, backtick, backslash), is written as `\u{XXXX}`.
pub fn comment_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if (' '..='~').contains(&c) && !matches!(c, '#' | '<' | '>' | '`' | '\\') {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn comment_text_is_inert() {
        assert_eq!(
            super::comment_text("a#>b\nc"),
            "a\\u{0023}\\u{003E}b\\u{000A}c"
        );
        assert_eq!(super::comment_text("MÜLLER"), "M\\u{00DC}LLER");
        assert_eq!(super::comment_text("vmhost1 (cifs)"), "vmhost1 (cifs)");
    }
}
