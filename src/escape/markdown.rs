//! Markdown text: characters with meaning in CommonMark/GFM inline text and
//! tables are backslash-escaped, so a value is shown, never interpreted
//! (no links, no HTML, no broken table rows). Invisible and control
//! characters never get here: the CSV reader refuses them.

pub fn text(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 4);
    for c in v.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '&' | '!' | '{'
            | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
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
