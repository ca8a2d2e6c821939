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

/// Printable ASCII only: shown as it is. (Every byte looked at, with no
/// early exit, so that the loop runs many bytes at a time: the CSV reader
/// asks this of every field.)
pub fn is_plain(s: &str) -> bool {
    (s.bytes()).fold(true, |all, b| all & (0x20..0x7F).contains(&b))
}

/// The text with every forbidden character escaped, for `format!` and
/// friends (no copy is made). Backslashes are kept as they are: DNs are
/// full of them and an admin must recognise the DN.
pub fn show(s: &str) -> Shown<'_> {
    Shown(s)
}

/// See [`show`].
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(&'a str);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        let s = self.0;
        if is_plain(s) {
            return f.write_str(s);
        }
        for c in s.chars() {
            match c {
                '\t' => f.write_str("\\t")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                c if is_forbidden(c) => write!(f, "\\u{{{:04X}}}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Values longer than this many characters are cut when echoed in a
/// message (a cell can hold 1 KiB; a header cell or an export line more).
const ECHO_WHOLE: usize = 300;
/// How many characters of a cut value are echoed.
const ECHO_CUT: usize = 256;

/// The text as [`show`] writes it, cut with a marker when it is long: for
/// a value echoed in a message, which must stay readable.
pub fn echo(s: &str) -> Echoed<'_> {
    Echoed(s)
}

/// See [`echo`].
#[derive(Debug, Clone, Copy)]
pub struct Echoed<'a>(&'a str);

impl std::fmt::Display for Echoed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0;
        if s.len() <= ECHO_WHOLE || s.chars().count() <= ECHO_WHOLE {
            return show(s).fmt(f);
        }
        let cut = s.char_indices().nth(ECHO_CUT).map_or(s.len(), |(i, _)| i);
        write!(
            f,
            "{}[... {} characters in all]",
            show(&s[..cut]),
            s.chars().count()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show_s(s: &str) -> String {
        show(s).to_string()
    }

    /// Long values are cut, and say so; others are shown whole.
    #[test]
    fn echoes_are_cut_when_long() {
        let whole = "é".repeat(300);
        assert_eq!(echo(&whole).to_string(), whole);
        let long = format!("{}\u{1b}", "x".repeat(1000));
        assert_eq!(
            echo(&long).to_string(),
            format!("{}[... 1001 characters in all]", "x".repeat(256))
        );
        let cut_escape = format!("{}\u{1b}{}", "x".repeat(255), "y".repeat(100));
        assert_eq!(
            echo(&cut_escape).to_string(),
            format!("{}\\u{{001B}}[... 356 characters in all]", "x".repeat(255))
        );
    }

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(show_s("a\u{0}b"), "a\\u{0000}b");
        assert_eq!(show_s("x\u{202E}y"), "x\\u{202E}y");
        assert_eq!(show_s("tab\there\n"), "tab\\there\\n");
        assert_eq!(show_s("MÜLLER-PC"), "MÜLLER-PC");
        assert_eq!(show_s("a\\, b"), "a\\, b");
    }
}
