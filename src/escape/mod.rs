//! Escapers, one per output kind. Templates never call these directly: the
//! template engine's formatter applies the one of the kind of file being
//! rendered (see `render`), so no value can reach an output unescaped.
//! The console has its own, [`crate::sanitize::show`].

pub mod html;
pub mod json;
pub mod markdown;
pub mod powershell;

use crate::ldif::writer as ldif;

/// The kinds of file kcdplan writes, each with its escaping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `{{ v }}` writes `: value` or `:: base64` after an attribute name.
    Ldif,
    /// `{{ v }}` writes a single-quoted literal.
    PowerShell,
    /// `{{ v }}` writes text with Markdown's special characters escaped.
    Markdown,
    /// `{{ v }}` writes JSON.
    Json,
    /// `{{ v }}` writes HTML text (element text, a quoted attribute value).
    Html,
}

impl Kind {
    /// Each kind with the file extension that selects it.
    const EXTENSIONS: [(Kind, &'static str); 5] = [
        (Kind::Ldif, "ldif"),
        (Kind::PowerShell, "ps1"),
        (Kind::Markdown, "md"),
        (Kind::Json, "json"),
        (Kind::Html, "html"),
    ];

    /// The kind of a file, by its extension.
    pub fn of(file_name: &str) -> Option<Kind> {
        let ext = file_name.rsplit_once('.')?.1;
        Kind::from_extension(ext)
    }

    pub fn from_extension(ext: &str) -> Option<Kind> {
        (Kind::EXTENSIONS.iter())
            .find(|(_, e)| *e == ext)
            .map(|&(k, _)| k)
    }

    pub fn extension(self) -> &'static str {
        (Kind::EXTENSIONS.iter())
            .find(|(k, _)| *k == self)
            .map(|(_, e)| *e)
            .expect("every kind has an extension")
    }

    /// The kind's name, for messages.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Ldif => "LDIF",
            Kind::PowerShell => "PowerShell",
            Kind::Markdown => "Markdown",
            Kind::Json => "JSON",
            Kind::Html => "HTML",
        }
    }

    /// Writes the text `v` as this kind of file writes a value.
    pub fn write_text(self, out: &mut impl std::fmt::Write, v: &str) -> std::fmt::Result {
        match self {
            Kind::Ldif => ldif::write_value_spec(out, v),
            Kind::PowerShell => powershell::write_literal(out, v),
            Kind::Markdown => markdown::write_text(out, v),
            Kind::Html => html::write_text(out, v),
            Kind::Json => {
                let json = json::to_string(v).map_err(|_| std::fmt::Error)?;
                out.write_str(&json)
            }
        }
    }
}

/// Text for a comment in any output: printable ASCII only; anything else,
/// and the characters that could end or open a comment, a string or
/// markup (`#`, `<`, `>`, both quotes, backtick, backslash), is written as
/// `\u{XXXX}`. The template checks (`render::lint`) allow the `comment`
/// filter's output only where that keeps it inert.
pub fn comment_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if (' '..='~').contains(&c) && !matches!(c, '#' | '<' | '>' | '`' | '\\' | '"' | '\'') {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn kinds_come_from_extensions() {
        for (k, ext) in Kind::EXTENSIONS {
            assert_eq!(Kind::of(&format!("a.b.{ext}")), Some(k));
            assert_eq!(k.extension(), ext);
        }
        assert_eq!(Kind::of("summary.txt"), None);
        assert_eq!(Kind::of("ldif"), None);
    }

    #[test]
    fn comment_text_is_inert() {
        assert_eq!(
            super::comment_text("a#>b\nc"),
            "a\\u{0023}\\u{003E}b\\u{000A}c"
        );
        assert_eq!(super::comment_text("MÜLLER"), "M\\u{00DC}LLER");
        assert_eq!(super::comment_text("vmhost1 (cifs)"), "vmhost1 (cifs)");
    }
}
