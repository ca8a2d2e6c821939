//! Markdown text: characters with meaning in CommonMark/GFM inline text and
//! tables are backslash-escaped, so a value is shown, never interpreted
//! (no links, no HTML, no broken table rows). Invisible and control
//! characters never get here: the CSV reader refuses them.

pub fn text(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 4);
    write_text(&mut out, v).expect("a String takes any text");
    out
}

fn special(c: char) -> bool {
    matches!(
        c,
        '\\' | '`'
            | '*'
            | '_'
            | '['
            | ']'
            | '<'
            | '>'
            | '|'
            | '#'
            | '~'
            | '&'
            | '!'
            | '{'
            | '}'
            | '\n'
            | '\r'
            | '\t'
    )
}

/// Writes [`text`]`(v)` to `out`.
pub fn write_text(out: &mut impl std::fmt::Write, v: &str) -> std::fmt::Result {
    // Every special character is ASCII.
    if !v.bytes().any(|b| b.is_ascii() && special(char::from(b))) {
        return out.write_str(v);
    }
    let mut rest = v;
    // Copy runs of plain characters whole.
    while let Some(i) = rest.find(special) {
        out.write_str(&rest[..i])?;
        let c = rest[i..].chars().next().expect("found");
        match c {
            '\n' | '\r' | '\t' => out.write_char(' ')?,
            c => {
                out.write_char('\\')?;
                out.write_char(c)?;
            }
        }
        rest = &rest[i + c.len_utf8()..];
    }
    out.write_str(rest)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(super::text("a|b<script>"), "a\\|b\\<script\\>");
        assert_eq!(super::text("CN=Svc\\, Web"), "CN=Svc\\\\, Web");
        assert_eq!(super::text("vmhost1.contoso.com"), "vmhost1.contoso.com");
    }
}
