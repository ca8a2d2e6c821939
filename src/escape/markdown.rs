//! Markdown text: characters with meaning in CommonMark/GFM inline text and
//! tables are backslash-escaped, so a value is shown, never interpreted
//! (no links, autolinks included, no HTML, no broken table rows); hidden
//! characters ([`crate::sanitize::is_hidden`]) are shown as `\u{XXXX}`.

use crate::sanitize::is_hidden;

pub fn text(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 4);
    write_text(&mut out, v).expect("a String takes any text");
    out
}

/// Bytes with a meaning in Markdown, or a line break or tab, or that may
/// start an autolink (`:` `@` `.`): all ASCII, so a byte position is always
/// a character boundary. Bytes from 0x80 (any character beyond ASCII) and
/// controls are looked at too, for hidden characters.
const SPECIAL: &[u8] = b"\\`*_[]<>|#~&!{}\n\r\t:@.";

/// [`SPECIAL`] as a table by byte: every byte of a summary's text is
/// looked up (hundreds of MiB at forest size).
const IS_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < SPECIAL.len() {
        table[SPECIAL[i] as usize] = true;
        i += 1;
    }
    let mut b = 0;
    while b < 256 {
        if b < 0x20 || b >= 0x7F {
            table[b] = true;
        }
        b += 1;
    }
    table
};

fn special(b: u8) -> bool {
    IS_SPECIAL[usize::from(b)]
}

/// Writes [`text`]`(v)` to `out`, copying runs of plain text whole.
pub fn write_text(out: &mut impl std::fmt::Write, v: &str) -> std::fmt::Result {
    let mut rest = v;
    while let Some(i) = rest.bytes().position(special) {
        out.write_str(&rest[..i])?;
        let c = rest[i..].chars().next().expect("a character starts here");
        match c {
            '\n' | '\r' | '\t' => out.write_char(' ')?,
            // An autolink needs `://`, `@` or `www.` as written.
            ':' if rest[i..].starts_with("://") => out.write_str("\\:")?,
            ':' => out.write_char(':')?,
            '.' if starts_www(&v[..v.len() - rest.len() + i]) => out.write_str("\\.")?,
            '.' => out.write_char('.')?,
            c if is_hidden(c) => write!(out, "\\\\u\\{{{:04X}\\}}", c as u32)?,
            c if c.is_ascii() => {
                out.write_char('\\')?;
                out.write_char(c)?;
            }
            c => out.write_char(c)?,
        }
        rest = &rest[i + c.len_utf8()..];
    }
    out.write_str(rest)
}

/// Whether the text before a `.` ends with a word `www`.
fn starts_www(before: &str) -> bool {
    let b = before.as_bytes();
    b.len() >= 3
        && b[b.len() - 3..].eq_ignore_ascii_case(b"www")
        && (b.len() == 3 || !b[b.len() - 4].is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    #[test]
    fn special_bytes_are_exactly_the_listed_ones() {
        let listed = [
            b'\\', b'`', b'*', b'_', b'[', b']', b'<', b'>', b'|', b'#', b'~', b'&', b'!', b'{',
            b'}', b'\n', b'\r', b'\t', b':', b'@', b'.',
        ];
        for b in 0..=255u8 {
            let control_or_beyond = !(0x20..0x7F).contains(&b);
            assert_eq!(
                super::special(b),
                listed.contains(&b) || control_or_beyond,
                "byte {b}"
            );
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(super::text("a|b<script>"), "a\\|b\\<script\\>");
        assert_eq!(super::text("CN=Svc\\, Web"), "CN=Svc\\\\, Web");
        assert_eq!(super::text("vmhost1.contoso.com"), "vmhost1.contoso.com");
        assert_eq!(super::text("M\u{DC}LLER-PC"), "M\u{DC}LLER-PC");
    }

    /// No text can become a link: not a URL, not `www.`, not an e-mail
    /// address.
    #[test]
    fn no_autolinks() {
        assert_eq!(
            super::text("see https://x.example/a"),
            "see https\\://x.example/a"
        );
        assert_eq!(
            super::text("www.example.com and WWW.x"),
            "www\\.example.com and WWW\\.x"
        );
        assert_eq!(super::text("admin@contoso.com"), "admin\\@contoso.com");
        assert_eq!(
            super::text("cifs/www1.contoso.com:445"),
            "cifs/www1.contoso.com:445"
        );
    }

    /// Hidden characters are shown as escapes, which Markdown renders as
    /// `\u{XXXX}`.
    #[test]
    fn hidden_characters_are_shown() {
        assert_eq!(super::text("a\u{1B}[8m"), "a\\\\u\\{001B\\}\\[8m");
        assert_eq!(
            super::text("x\u{202E}y\u{E0041}"),
            "x\\\\u\\{202E\\}y\\\\u\\{E0041\\}"
        );
        assert_eq!(super::text("\u{7F}"), "\\\\u\\{007F\\}");
    }
}
