//! PowerShell single-quoted string literals. Inside `'...'` nothing is
//! expanded; the only special characters are the five that PowerShell reads
//! as a single quote (U+0027, U+2018, U+2019, U+201A, U+201B), each escaped
//! by doubling it. A value holding hidden characters
//! ([`crate::sanitize::is_hidden`]) is written as an expression that
//! builds it, `('a' + [char]::ConvertFromUtf32(0x1B) + 'b')`, so that the
//! script holds no such character raw. Input data is never put in
//! double-quoted strings, here-strings or comments.

use crate::sanitize::is_hidden;

/// The characters PowerShell treats as a single quote.
pub const QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// `'value'` with every single-quote character doubled.
pub fn literal(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    write_literal(&mut out, v).expect("a String takes any text");
    out
}

/// Writes [`literal`]`(v)` to `out`.
pub fn write_literal(out: &mut impl std::fmt::Write, v: &str) -> std::fmt::Result {
    if crate::sanitize::is_plain(v) || !v.chars().any(is_hidden) {
        return write_quoted(out, v);
    }
    // Visible runs as literals, each hidden character by its code.
    out.write_char('(')?;
    let mut first = true;
    let mut run = String::new();
    let mut part = |out: &mut dyn std::fmt::Write, text: &str| -> std::fmt::Result {
        if !std::mem::take(&mut first) {
            out.write_str(" + ")?;
        }
        out.write_str(text)
    };
    for c in v.chars() {
        if is_hidden(c) {
            if !run.is_empty() {
                let mut lit = String::new();
                write_quoted(&mut lit, &run)?;
                part(out, &lit)?;
                run.clear();
            }
            part(out, &format!("[char]::ConvertFromUtf32(0x{:X})", c as u32))?;
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        let mut lit = String::new();
        write_quoted(&mut lit, &run)?;
        part(out, &lit)?;
    }
    out.write_char(')')
}

/// `'v'`, copying runs without quotes whole.
fn write_quoted(out: &mut impl std::fmt::Write, v: &str) -> std::fmt::Result {
    out.write_char('\'')?;
    let mut rest = v;
    // The five quote characters are `'` or outside ASCII: only those bytes
    // need a look (always at a character boundary, scanning from one).
    while let Some(i) = rest.bytes().position(|b| b == b'\'' || b >= 0x80) {
        let c = rest[i..].chars().next().expect("a character starts here");
        let end = i + c.len_utf8();
        out.write_str(&rest[..end])?;
        if QUOTES.contains(&c) {
            out.write_char(c)?;
        }
        rest = &rest[end..];
    }
    out.write_str(rest)?;
    out.write_char('\'')
}

/// Decodes what [`literal`] writes: a single-quoted string, or the
/// expression that builds a value holding hidden characters. Returns `None`
/// for anything else.
pub fn decode_literal(lit: &str) -> Option<String> {
    let Some(inner) = lit.strip_prefix('(').and_then(|l| l.strip_suffix(')')) else {
        return decode_quoted(lit);
    };
    let mut out = String::new();
    for part in split_parts(inner)? {
        match part.strip_prefix("[char]::ConvertFromUtf32(0x") {
            Some(code) => {
                let code = code.strip_suffix(')')?;
                out.push(char::from_u32(u32::from_str_radix(code, 16).ok()?)?);
            }
            None => out.push_str(&decode_quoted(part)?),
        }
    }
    Some(out)
}

/// The parts of `a + b + c`, where a `+` inside a quoted part is text.
fn split_parts(s: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        if QUOTES.contains(&c) {
            quoted = !quoted;
        } else if !quoted && c == '+' {
            parts.push(s[start..i].trim());
            start = i + 1;
        }
    }
    parts.push(s[start..].trim());
    (!quoted).then_some(parts)
}

/// Decodes a single-quoted string: strips the quotes, halves doubled
/// quote characters.
fn decode_quoted(lit: &str) -> Option<String> {
    let mut chars = lit.chars();
    let open = chars.next()?;
    if !QUOTES.contains(&open) {
        return None;
    }
    let body: Vec<char> = chars.collect();
    let (last, body) = body.split_last()?;
    if !QUOTES.contains(last) {
        return None;
    }
    let mut out = String::new();
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if QUOTES.contains(&c) {
            // PowerShell accepts any quote char as the second of a pair.
            if i + 1 < body.len() && QUOTES.contains(&body[i + 1]) {
                out.push(c);
                i += 2;
                continue;
            }
            return None;
        }
        out.push(c);
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_all_five_quotes() {
        assert_eq!(literal("O'Brien"), "'O''Brien'");
        assert_eq!(literal("a\u{2018}b"), "'a\u{2018}\u{2018}b'");
        assert_eq!(literal("$(calc)`#>"), "'$(calc)`#>'");
        for q in QUOTES {
            let v = format!("x{q}y");
            assert_eq!(decode_literal(&literal(&v)).unwrap(), v);
        }
    }

    /// Hidden characters are built from their codes: the script holds
    /// none raw, and the value reads back whole.
    #[test]
    fn hidden_characters_are_built_from_codes() {
        let v = "a\u{1B}[8m b'\u{202E}\u{E0041}";
        let lit = literal(v);
        assert_eq!(
            lit,
            "('a' + [char]::ConvertFromUtf32(0x1B) + '[8m b''' + [char]::ConvertFromUtf32(0x202E) + [char]::ConvertFromUtf32(0xE0041))"
        );
        assert_eq!(decode_literal(&lit).as_deref(), Some(v));
        assert_eq!(literal("\u{7F}"), "([char]::ConvertFromUtf32(0x7F))");
        assert_eq!(decode_literal("('a+b' + 'c')").as_deref(), Some("a+bc"));
    }

    #[test]
    fn decode_rejects_breakout() {
        assert_eq!(decode_literal("'x'; Remove-ADObject -Identity 'y'"), None);
    }
}
