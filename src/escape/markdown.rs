//! Markdown text: characters with meaning in CommonMark/GFM inline text and
//! tables are backslash-escaped, so a value is shown, never interpreted
//! (no links, no HTML, no broken table rows). Invisible and control
//! characters never get here: the CSV reader refuses them.

pub fn text(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 4);
    write_text(&mut out, v).expect("a String takes any text");
    out
}

/// Bytes with a meaning in Markdown, or a line break or tab; all ASCII,
/// so a byte position is always a character boundary.
const SPECIAL: &[u8] = b"\\`*_[]<>|#~&!{}\n\r\t";

/// [`SPECIAL`] as a table by byte: every byte of a summary's text is
/// looked up (hundreds of MiB at forest size).
const IS_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < SPECIAL.len() {
        table[SPECIAL[i] as usize] = true;
        i += 1;
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
        match rest.as_bytes()[i] {
            b'\n' | b'\r' | b'\t' => out.write_char(' ')?,
            b => {
                out.write_char('\\')?;
                out.write_char(char::from(b))?;
            }
        }
        rest = &rest[i + 1..];
    }
    out.write_str(rest)
}

#[cfg(test)]
mod tests {
    #[test]
    fn special_bytes_are_exactly_the_listed_ones() {
        let listed = [
            b'\\', b'`', b'*', b'_', b'[', b']', b'<', b'>', b'|', b'#', b'~', b'&', b'!', b'{',
            b'}', b'\n', b'\r', b'\t',
        ];
        for b in 0..=255u8 {
            assert_eq!(super::special(b), listed.contains(&b), "byte {b}");
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(super::text("a|b<script>"), "a\\|b\\<script\\>");
        assert_eq!(super::text("CN=Svc\\, Web"), "CN=Svc\\\\, Web");
        assert_eq!(super::text("vmhost1.contoso.com"), "vmhost1.contoso.com");
    }
}
