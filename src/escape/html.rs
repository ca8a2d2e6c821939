//! HTML text, for element text, double- or single-quoted attribute values
//! and SVG text alike: the five characters with a meaning there (`&`, `<`,
//! `>`, `"`, `'`) are written as character references, so a value is
//! shown, never read as markup; hidden characters
//! ([`crate::sanitize::is_hidden`]) are shown as `\u{XXXX}`.

use crate::sanitize::is_hidden;

pub fn text(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 8);
    write_text(&mut out, v).expect("a String takes any text");
    out
}

/// Writes [`text`]`(v)` to `out`, copying runs of plain text whole.
pub fn write_text(out: &mut impl std::fmt::Write, v: &str) -> std::fmt::Result {
    let mut rest = v;
    while let Some(i) = rest
        .char_indices()
        .find(|&(_, c)| matches!(c, '&' | '<' | '>' | '"' | '\'') || is_hidden(c))
        .map(|(i, _)| i)
    {
        out.write_str(&rest[..i])?;
        let c = rest[i..].chars().next().expect("a character starts here");
        match c {
            '&' => out.write_str("&amp;")?,
            '<' => out.write_str("&lt;")?,
            '>' => out.write_str("&gt;")?,
            '"' => out.write_str("&quot;")?,
            '\'' => out.write_str("&#39;")?,
            c => write!(out, "\\u{{{:04X}}}", c as u32)?,
        }
        rest = &rest[i + c.len_utf8()..];
    }
    out.write_str(rest)
}

/// An anchor name made of `text`: ASCII letters, digits and `-` only, so
/// that it is inert in an `id` or after `#` in an `href`.
pub fn anchor(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            super::text("<img src=x onerror='a()'>&\"b\""),
            "&lt;img src=x onerror=&#39;a()&#39;&gt;&amp;&quot;b&quot;"
        );
        assert_eq!(super::text("M\u{DC}LLER-PC"), "M\u{DC}LLER-PC");
        assert_eq!(super::text("x\u{202E}y"), "x\\u{202E}y");
        assert_eq!(super::anchor("a-1 \"><x"), "a-1----x");
    }
}
