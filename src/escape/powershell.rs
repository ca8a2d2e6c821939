//! PowerShell single-quoted string literals. Inside `'...'` nothing is
//! expanded; the only special characters are the five that PowerShell reads
//! as a single quote (U+0027, U+2018, U+2019, U+201A, U+201B), each escaped
//! by doubling it. Input data is never put in double-quoted strings,
//! here-strings or comments.

/// The characters PowerShell treats as a single quote.
pub const QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// `'value'` with every single-quote character doubled.
pub fn literal(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    write_literal(&mut out, v).expect("a String takes any text");
    out
}

/// Writes [`literal`]`(v)` to `out`, copying runs without quotes whole.
pub fn write_literal(out: &mut impl std::fmt::Write, v: &str) -> std::fmt::Result {
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

/// Decodes a literal written by [`literal`] (or any single-quoted
/// PowerShell string): strips the quotes, halves doubled quote characters.
/// Returns `None` if it is not a well-formed single-quoted string.
pub fn decode_literal(lit: &str) -> Option<String> {
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

    #[test]
    fn decode_rejects_breakout() {
        assert_eq!(decode_literal("'x'; Remove-ADObject -Identity 'y'"), None);
    }
}
