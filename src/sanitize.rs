//! The one rule for hidden characters, whatever the text's source (the
//! CSV, an export, a file name, an option): a character that a reader
//! would not see as itself is never written raw. [`is_hidden`] says which;
//! every escaper shows them as visible escapes ([`show`] on the console,
//! the escapers of `escape` in files), and the CSV reader refuses them.

/// Characters a reader would not see as themselves, by Unicode's
/// properties (Unicode 15): controls (Cc); format characters (Cf), among
/// them the bidi embeddings, overrides and isolates; every
/// Default_Ignorable_Code_Point (zero-width characters, variation
/// selectors, tag characters, Hangul fillers); the line and paragraph
/// separators; and characters drawn as nothing (the braille blank).
pub fn is_hidden(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control()
        || matches!(
            c,
            // Default_Ignorable_Code_Point (DerivedCoreProperties.txt).
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
                // The other format characters (Cf).
                | '\u{0600}'..='\u{0605}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                // Line and paragraph separators; the braille blank.
                | '\u{2028}'
                | '\u{2029}'
                | '\u{2800}'
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
                c if is_hidden(c) => write!(f, "\\u{{{:04X}}}", c as u32)?,
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

    /// Every character the rule names, whatever its block, and none of
    /// the visible ones around them.
    #[test]
    fn hidden_characters_follow_unicode() {
        for c in [
            '\u{0}',
            '\u{1B}',
            '\u{7F}',
            '\u{85}',
            '\u{9F}',
            '\u{AD}',
            '\u{200B}',
            '\u{200D}',
            '\u{200E}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{180E}',
            '\u{FE0F}',
            '\u{E0041}',
            '\u{E007F}',
            '\u{E0100}',
            '\u{3164}',
            '\u{115F}',
            '\u{FFA0}',
            '\u{2800}',
            '\u{1D173}',
            '\u{2028}',
            '\u{0600}',
            '\u{FFF9}',
            '\u{13430}',
        ] {
            assert!(is_hidden(c), "U+{:04X}", c as u32);
            assert!(show(&c.to_string()).to_string().starts_with("\\u{"));
        }
        for c in [
            'a',
            ' ',
            '~',
            '\u{A0}',
            '\u{E9}',
            '\u{3000}',
            '\u{1F600}',
            '\u{FF41}',
            '\u{2801}',
            '\u{30AB}',
        ] {
            assert!(!is_hidden(c), "U+{:04X}", c as u32);
        }
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
