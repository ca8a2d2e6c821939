//! The checks every template passes before it is used, the user's own
//! included: escaping cannot be turned off, and a value is placed only
//! where the escaping of its file type holds. The engine escapes a value
//! for the place a value normally goes in the file's language (PowerShell
//! code, an LDIF value, Markdown text, a JSON value); inside a string, a
//! comment or an HTML tag of that language the same text could close it
//! and be read as code. So:
//!
//! - `safe`, `escape` (`e`), `tojson` outside JSON, and `autoescape` are
//!   refused: each writes text the engine did not escape for its place;
//! - `{{ value }}` is refused inside a PowerShell string, here-string or
//!   comment, an LDIF comment line, a Markdown HTML tag or comment, and a
//!   JSON string;
//! - `{{ value|comment }}` (printable ASCII without quotes, `#`, `<` or
//!   `>`) is allowed only inside a comment (PowerShell `#` and `<# #>`,
//!   LDIF `#` lines, Markdown `<!-- -->`), where such text cannot end it;
//! - in HTML, a value goes into element text, or into a quoted attribute
//!   value that cannot load, run or link anything (`title`, `class`,
//!   geometry such as `x` or `d`, `data-*`, `aria-*`); into `id` and
//!   `href` only through `|anchor` (letters, digits and `-`). Never into a
//!   tag itself, an unquoted value, a comment, `<style>` or `<script>`.

use crate::escape::Kind;

/// Where in its file's language a piece of template text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Code,
    /// A string literal; PowerShell's single- or double-quoted.
    Quoted {
        double: bool,
    },
    /// A PowerShell here-string opened with `@'` or `@"`.
    HereString {
        double: bool,
    },
    LineComment,
    BlockComment,
    HtmlTag,
    HtmlComment,
    /// An HTML attribute value (the lexer keeps the attribute's name).
    Attribute {
        quoted: bool,
    },
    /// The text of `<style>` or `<script>`.
    RawText,
}

impl Place {
    fn comment(self) -> bool {
        matches!(
            self,
            Place::LineComment | Place::BlockComment | Place::HtmlComment
        )
    }

    fn describe(self) -> &'static str {
        match self {
            Place::Code => "in code",
            Place::Quoted { .. } => "inside a string",
            Place::HereString { .. } => "inside a here-string",
            Place::LineComment | Place::BlockComment | Place::HtmlComment => "inside a comment",
            Place::HtmlTag => "inside an HTML tag",
            Place::Attribute { .. } => "inside an attribute value",
            Place::RawText => "inside a style or script element",
        }
    }
}

/// PowerShell reads these as single and as double quotes.
const SINGLE: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];
const DOUBLE: [char; 3] = ['"', '\u{201C}', '\u{201D}'];

/// Follows a file's language through the template's text, one character
/// at a time (a tag holds no text of the file and leaves the place as it
/// is).
struct Lexer {
    kind: Kind,
    place: Place,
    /// The characters just before: enough to see `<#`, `#>`, `@'`, `'@`,
    /// `<!--` and `-->`.
    recent: [char; 4],
    /// HTML: the name of the tag and of the attribute being read, whether
    /// the tag's name is still being read, and the quote of a value.
    tag: String,
    attr: String,
    naming: bool,
    quote: char,
}

impl Lexer {
    fn new(kind: Kind) -> Lexer {
        Lexer {
            kind,
            place: Place::Code,
            recent: ['\n'; 4],
            tag: String::new(),
            attr: String::new(),
            naming: false,
            quote: '"',
        }
    }

    fn ends_with(&self, s: &str) -> bool {
        let n = s.chars().count();
        self.recent[4 - n..].iter().copied().eq(s.chars())
    }

    fn feed(&mut self, c: char) {
        let line_start = self.recent[3] == '\n';
        self.recent.rotate_left(1);
        self.recent[3] = c;
        self.place = match self.kind {
            Kind::PowerShell => self.powershell(c),
            Kind::Ldif => match (self.place, c) {
                (_, '\n') => Place::Code,
                (Place::Code, '#') if line_start => Place::LineComment,
                (p, _) => p,
            },
            Kind::Markdown => match self.place {
                Place::Code if self.ends_with("<!--") => Place::HtmlComment,
                Place::Code if (c.is_ascii_alphabetic() || c == '/') && self.recent[2] == '<' => {
                    Place::HtmlTag
                }
                Place::HtmlTag if c == '>' => Place::Code,
                Place::HtmlComment if self.ends_with("-->") => Place::Code,
                p => p,
            },
            Kind::Json => match (self.place, c) {
                (Place::Code, '"') => Place::Quoted { double: true },
                (Place::Quoted { .. }, '"') if self.recent[2] != '\\' => Place::Code,
                (p, _) => p,
            },
            Kind::Html => self.html(c),
        };
    }

    /// HTML as templates write it: tags with quoted attribute values,
    /// comments, and the raw text of `<style>` and `<script>`.
    fn html(&mut self, c: char) -> Place {
        let before = self.recent[2];
        match self.place {
            Place::Code if self.ends_with("<!--") => Place::HtmlComment,
            Place::Code if (c.is_ascii_alphabetic() || c == '/') && before == '<' => {
                self.tag = c.to_ascii_lowercase().to_string();
                self.attr.clear();
                self.naming = true;
                Place::HtmlTag
            }
            Place::HtmlComment if self.ends_with("-->") => Place::Code,
            Place::RawText if c == '/' && before == '<' => {
                self.tag = "/".into();
                self.attr.clear();
                self.naming = true;
                Place::HtmlTag
            }
            Place::HtmlTag => {
                if self.naming && (c.is_ascii_alphanumeric() || c == '-' || c == ':') {
                    self.tag.push(c.to_ascii_lowercase());
                    return Place::HtmlTag;
                }
                self.naming = false;
                match c {
                    '>' if matches!(self.tag.as_str(), "style" | "script") => Place::RawText,
                    '>' => Place::Code,
                    '"' | '\'' if before == '=' => {
                        self.quote = c;
                        Place::Attribute { quoted: true }
                    }
                    '=' => Place::HtmlTag,
                    c if c.is_whitespace() || c == '/' => {
                        self.attr.clear();
                        Place::HtmlTag
                    }
                    // A value right after `=`, without quotes.
                    _ if before == '=' => Place::Attribute { quoted: false },
                    c => {
                        self.attr.push(c.to_ascii_lowercase());
                        Place::HtmlTag
                    }
                }
            }
            Place::Attribute { quoted: true } if c == self.quote => {
                self.attr.clear();
                Place::HtmlTag
            }
            Place::Attribute { quoted: false } if c.is_whitespace() => {
                self.attr.clear();
                Place::HtmlTag
            }
            Place::Attribute { quoted: false } if c == '>' => Place::Code,
            p => p,
        }
    }

    fn powershell(&self, c: char) -> Place {
        let before = self.recent[2];
        match self.place {
            Place::Code => match c {
                '#' if before == '<' => Place::BlockComment,
                '#' => Place::LineComment,
                '\'' if before == '@' => Place::HereString { double: false },
                '"' if before == '@' => Place::HereString { double: true },
                c if SINGLE.contains(&c) => Place::Quoted { double: false },
                c if DOUBLE.contains(&c) => Place::Quoted { double: true },
                _ => Place::Code,
            },
            // A doubled quote closes the string and opens it again.
            Place::Quoted { double: false } if SINGLE.contains(&c) => Place::Code,
            Place::Quoted { double: true } if DOUBLE.contains(&c) && before != '`' => Place::Code,
            Place::HereString { double } => {
                let quote = if double { '"' } else { '\'' };
                if c == '@' && before == quote && self.recent[1] == '\n' {
                    Place::Code
                } else {
                    self.place
                }
            }
            Place::LineComment if c == '\n' => Place::Code,
            Place::BlockComment if c == '>' && before == '#' => Place::Code,
            p => p,
        }
    }
}

/// HTML attributes whose value can only be shown or measured: it cannot
/// load a resource, run code or make a link.
const SAFE_ATTRIBUTES: &[&str] = &[
    "title",
    "class",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "width",
    "height",
    "d",
    "points",
    "viewbox",
    "text-anchor",
    "font-size",
    "colspan",
    "rowspan",
];

/// Filters that write what the engine did not escape.
const UNESCAPED: &[&str] = &["safe", "escape", "e", "tojson"];

/// Checks the template `source` of a file of kind `kind`; the problem,
/// with its line, if any.
pub fn check(source: &str, kind: Kind) -> Result<(), String> {
    let mut lexer = Lexer::new(kind);
    let mut line = 1;
    let mut rest = source;
    loop {
        let tag = (rest.match_indices('{'))
            .map(|(i, _)| i)
            .find(|&i| matches!(rest.as_bytes().get(i + 1), Some(b'{' | b'%' | b'#')));
        let text = &rest[..tag.unwrap_or(rest.len())];
        for c in text.chars() {
            lexer.feed(c);
        }
        line += text.matches('\n').count();
        let Some(i) = tag else {
            return Ok(());
        };
        let after = &rest[i..];
        let open = &after[1..2];
        let close = match open {
            "{" => "}}",
            "%" => "%}",
            _ => "#}",
        };
        let Some(end) = after[2..].find(close).map(|e| e + 2) else {
            // An unclosed tag: the engine reports it when it loads.
            return Ok(());
        };
        let body = &after[2..end];
        let at = |msg: String| Err(format!("line {line}: {msg}"));
        if open != "#" {
            for f in filters(body) {
                if UNESCAPED.contains(&f) && !(f == "tojson" && kind == Kind::Json) {
                    return at(format!(
                        "the filter '{f}' writes text the engine does not escape; every value is escaped for its place without it"
                    ));
                }
            }
        }
        if open == "%" {
            let word = body
                .trim_start_matches(['-', '+'])
                .split_whitespace()
                .next();
            if word == Some("autoescape") {
                return at(
                    "'autoescape' would change the escaping, which the file type decides".into(),
                );
            }
        }
        if open == "{" && kind == Kind::Html {
            let anchor = filters(body).last() == Some(&"anchor");
            let attr = lexer.attr.as_str();
            match lexer.place {
                Place::Code => {}
                Place::Attribute { quoted: true } if SAFE_ATTRIBUTES.contains(&attr) || attr.starts_with("data-") || attr.starts_with("aria-") => {}
                Place::Attribute { quoted: true } if anchor && (attr == "id" || attr == "href") => {}
                Place::Attribute { quoted: true } => {
                    return at(format!(
                        "a value in the attribute '{attr}' could load, run or link something; values go into text, into quoted attributes such as title or class, and into id or href only as '|anchor'"
                    ))
                }
                place => {
                    return at(format!(
                        "a value {} is not escaped for that place",
                        place.describe()
                    ))
                }
            }
        } else if open == "{" {
            let commented = filters(body).last() == Some(&"comment");
            let place = lexer.place;
            match (commented, place.comment()) {
                (true, false) => {
                    return at(format!(
                        "'comment' writes text for a comment, but this value is {}",
                        place.describe()
                    ))
                }
                (false, _) if place != Place::Code => {
                    return at(format!(
                        "a value {} is not escaped for that place; only '|comment' may write into a comment",
                        place.describe()
                    ))
                }
                _ => {}
            }
        }
        line += body.matches('\n').count();
        rest = &after[end + 2..];
    }
}

/// The filter names of a tag's expression (`a|f(x)|g` gives f, g; a
/// `{% filter f %}` block gives f), outside string literals.
fn filters(body: &str) -> Vec<&str> {
    let name = |s: &str| -> usize {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    };
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let bytes = body.as_bytes();
    for (i, c) in body.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '|'
                && bytes.get(i + 1) != Some(&b'|')
                && (i == 0 || bytes[i - 1] != b'|') =>
            {
                let f = body[i + 1..].trim_start();
                out.push(&f[..name(f)]);
            }
            None => {}
        }
    }
    let trimmed = body.trim_start_matches(['-', '+']).trim_start();
    if let Some(f) = trimmed.strip_prefix("filter ") {
        let f = f.trim_start();
        out.push(&f[..name(f)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(source: &str, kind: Kind) -> String {
        check(source, kind).expect_err(source)
    }

    /// The shipped templates pass as they are.
    #[test]
    fn shipped_templates_pass() {
        for (name, text) in crate::render::SHIPPED {
            let kind = Kind::of(name).unwrap();
            assert_eq!(check(text, kind), Ok(()), "{name}");
        }
    }

    /// Every way to turn escaping off is refused, with its line.
    #[test]
    fn escaping_cannot_be_turned_off() {
        for (source, kind) in [
            ("a\n{{ x|safe }}", Kind::PowerShell),
            ("{{ x | e }}", Kind::Markdown),
            ("{{ x|escape }}", Kind::Ldif),
            ("{{ x|tojson }}", Kind::PowerShell),
            ("{% filter safe %}{{ x }}{% endfilter %}", Kind::Markdown),
            ("{% set y = x|safe %}", Kind::Json),
        ] {
            assert!(
                refused(source, kind).contains("does not escape"),
                "{source}"
            );
        }
        assert_eq!(
            refused(
                "x\n\n{% autoescape false %}{{ x }}{% endautoescape %}",
                Kind::Markdown
            ),
            "line 3: 'autoescape' would change the escaping, which the file type decides"
        );
        assert_eq!(check("{{ x|tojson }}", Kind::Json), Ok(()));
        // A filter's name inside a string is not a filter.
        assert_eq!(check("{{ x ~ '|safe' }}", Kind::PowerShell), Ok(()));
    }

    /// A value where its escaping does not hold is refused; with
    /// `comment`, in a comment, it is allowed.
    /// In HTML a value goes into text and harmless quoted attributes;
    /// into id and href only as an anchor; nowhere else.
    #[test]
    fn html_values_only_where_they_cannot_act() {
        for (source, why) in [
            ("<a href=\"{{ u }}\">x</a>", "the attribute 'href'"),
            ("<img src=\"{{ u }}\">", "the attribute 'src'"),
            ("<p onclick=\"{{ u }}\">", "the attribute 'onclick'"),
            ("<p style=\"{{ u }}\">", "the attribute 'style'"),
            ("<rect fill=\"{{ u }}\"/>", "the attribute 'fill'"),
            ("<p title={{ u }}>", "inside an HTML tag"),
            ("<p {{ u }}>", "inside an HTML tag"),
            (
                "<style>p { color: {{ u }} }</style>",
                "inside a style or script element",
            ),
            (
                "<script>var a = {{ u }}</script>",
                "inside a style or script element",
            ),
            ("<!-- {{ u }} -->", "inside a comment"),
            ("<p id=\"{{ u }}\">", "the attribute 'id'"),
        ] {
            let e = refused(source, Kind::Html);
            assert!(e.contains(why), "{source}: {e}");
        }
        for ok in [
            "<p title=\"{{ t }}\" class=\"a {{ c }}\">{{ t }}</p>",
            "<a href=\"#{{ n|anchor }}\" id=\"{{ n|anchor }}\"><text x=\"{{ x }}\">{{ t }}</text></a>",
            "<style>p { color: red }</style><p>{{ t }}</p>",
            "<path d=\"{{ d }}\" data-rule=\"{{ r }}\"/>",
        ] {
            assert_eq!(check(ok, Kind::Html), Ok(()), "{ok}");
        }
    }

    #[test]
    fn values_only_where_their_escaping_holds() {
        for (source, kind, place) in [
            ("<# {{ c }} #>", Kind::PowerShell, "inside a comment"),
            ("# {{ c }}", Kind::PowerShell, "inside a comment"),
            (
                "Write-Host \"x {{ c }}\"",
                Kind::PowerShell,
                "inside a string",
            ),
            ("Write-Host '{{ c }}'", Kind::PowerShell, "inside a string"),
            (
                "$a = @\"\n{{ c }}\n\"@",
                Kind::PowerShell,
                "inside a here-string",
            ),
            (
                "<span title=\"{{ c }}\">",
                Kind::Markdown,
                "inside an HTML tag",
            ),
            ("<!-- {{ c }} -->", Kind::Markdown, "inside a comment"),
            ("# {{ c }}", Kind::Ldif, "inside a comment"),
            ("{\"a\": \"{{ c }}\"}", Kind::Json, "inside a string"),
        ] {
            let err = refused(source, kind);
            assert!(
                err.contains(place) && err.starts_with("line "),
                "{source}: {err}"
            );
        }
        for (source, kind) in [
            ("<# {{ c|comment }} #>\n-Key {{ k }}", Kind::PowerShell),
            ("# {{ c|comment }}\n$a = {{ v }}", Kind::PowerShell),
            ("$a = @\"\nx\n\"@\n-Key {{ k }}", Kind::PowerShell),
            ("'it''s' {{ v }}", Kind::PowerShell),
            ("<!-- {{ c|comment }} -->\n| {{ v }} |<br>", Kind::Markdown),
            ("# {{ c|comment }}\ndn{{ v }}", Kind::Ldif),
            ("{\"a\": {{ v }}}", Kind::Json),
        ] {
            assert_eq!(check(source, kind), Ok(()), "{source}");
        }
        // `comment` writes raw text: never in code.
        assert!(refused("Write-Host {{ c|comment }}", Kind::PowerShell).contains("in code"));
        assert!(refused("| {{ c|comment }} |", Kind::Markdown).contains("in code"));
    }
}
