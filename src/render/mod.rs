//! Rendering artifacts through minijinja templates. The templates ship in
//! the binary and a folder given with `--templates` overrides them by file
//! name. Escaping is the engine's job: each file's extension picks an escape
//! mode, and the formatter turns every `{{ value }}` into an LDIF value spec,
//! a PowerShell single-quoted literal, Markdown text or JSON. A template
//! author cannot forget to escape, and no CSV field can leave its place.

pub mod context;
pub mod graph;
mod lint;
pub mod report;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, ErrorKind, Output, State, UndefinedBehavior};

use crate::error::{Error, Result};
use crate::escape::{self, Kind};
use crate::sanitize::show;

/// The shipped templates, by file name. The output file has the same name.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "delegation.ldif",
        include_str!("../../templates/delegation.ldif"),
    ),
    (
        "rollback.ldif",
        include_str!("../../templates/rollback.ldif"),
    ),
    ("apply.ps1", include_str!("../../templates/apply.ps1")),
    ("rollback.ps1", include_str!("../../templates/rollback.ps1")),
    ("plan.json", include_str!("../../templates/plan.json")),
    ("summary.md", include_str!("../../templates/summary.md")),
    ("report.html", include_str!("../../templates/report.html")),
    ("export.ps1", include_str!("../../templates/export.ps1")),
];

/// The artifact that lists the others with their SHA-256 (it waits for them).
pub const SUMMARY: &str = "summary.md";

/// The artifacts `render` writes, in the order they are reported (the
/// summary last, as it lists the others' SHA-256). `rollback.ldif` only
/// with `--current`.
pub const ARTIFACTS: &[&str] = &[
    "delegation.ldif",
    "rollback.ldif",
    "apply.ps1",
    "rollback.ps1",
    "plan.json",
    "report.html",
    "summary.md",
];

/// A loaded template set: shipped templates, overridden by a folder.
pub struct Templates {
    env: Environment<'static>,
    overridden: Vec<String>,
}

impl Templates {
    /// Loads the shipped templates and, if given, the overrides in `dir`.
    /// A file in `dir` that is not a known template name is an error.
    pub fn load(dir: Option<&Path>) -> Result<Templates> {
        let mut sources: BTreeMap<String, String> = SHIPPED
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        let mut overridden = Vec::new();
        if let Some(dir) = dir {
            let entries = match std::fs::read_dir(dir) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::Usage(format!(
                        "--templates '{}' does not exist",
                        show(&dir.display().to_string())
                    )))
                }
                r => r.map_err(|e| Error::io("read templates folder", dir, e))?,
            };
            let mut names = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| Error::io("read templates folder", dir, e))?;
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
            names.sort();
            for name in names {
                let path = dir.join(&name);
                if !sources.contains_key(&name) {
                    return Err(Error::Template {
                        name: path.display().to_string(),
                        detail: format!(
                            "unknown template name; known names: {}",
                            SHIPPED
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
                // Only a regular file is read: a FIFO or a device would
                // block or never end.
                let meta =
                    std::fs::metadata(&path).map_err(|e| Error::io("read template", &path, e))?;
                if !meta.is_file() {
                    return Err(Error::Template {
                        name: path.display().to_string(),
                        detail: "not a regular file".into(),
                    });
                }
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::io("read template", &path, e))?;
                // Listed in the summary only when it differs from the shipped one.
                if sources[&name] != text {
                    overridden.push(name.clone());
                }
                sources.insert(name, text);
            }
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Errors name what went wrong (the undefined variable, ...) in
        // release builds too, not only in debug builds.
        env.set_debug(true);
        env.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .expect("default delimiters"),
        );
        // Registered before any template is added, so every template gets it.
        env.set_auto_escape_callback(|name| match Kind::of(name) {
            Some(Kind::Json) => AutoEscape::Json,
            Some(k) => AutoEscape::Custom(k.extension().into()),
            None => AutoEscape::None,
        });
        env.set_formatter(format_value);
        env.add_filter("comment", |v: String| {
            Value::from_safe_string(escape::comment_text(&v))
        });
        env.add_filter("anchor", |v: String| {
            Value::from_safe_string(escape::html::anchor(&v))
        });
        for (name, src) in sources {
            let kind = Kind::of(&name).expect("every template name has a kind");
            lint::check(&src, kind).map_err(|detail| Error::Template {
                name: match dir {
                    Some(d) if overridden.contains(&name) => d.join(&name).display().to_string(),
                    _ => name.clone(),
                },
                detail,
            })?;
            env.add_template_owned(name.clone(), src)
                .map_err(|e| template_error(&name, &e))?;
        }
        Ok(Templates { env, overridden })
    }

    /// Names of the templates the user's folder changed.
    pub fn overridden(&self) -> &[String] {
        &self.overridden
    }

    /// Renders template `name` to `out`, applying the kind's byte-level
    /// rules: a BOM before PowerShell, folding for LDIF.
    pub fn render_to<W: Write>(&self, name: &str, ctx: &Value, out: W) -> Result<W> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| template_error(name, &e))?;
        match Kind::of(name) {
            Some(Kind::Ldif) => {
                let mut w = crate::ldif::writer::FoldingWriter::new(out);
                tmpl.render_captured_to(ctx.clone(), &mut w)
                    .map_err(|e| template_error(name, &e))?;
                Ok(w.into_inner())
            }
            Some(Kind::PowerShell) => {
                let mut out = out;
                // Windows PowerShell 5.1 reads a BOM-less script as ANSI.
                out.write_all(b"\xEF\xBB\xBF")
                    .map_err(|e| Error::io("write", name, e))?;
                tmpl.render_captured_to(ctx.clone(), &mut out)
                    .map_err(|e| template_error(name, &e))?;
                Ok(out)
            }
            _ => {
                let mut out = out;
                tmpl.render_captured_to(ctx.clone(), &mut out)
                    .map_err(|e| template_error(name, &e))?;
                Ok(out)
            }
        }
    }

    /// Renders to a string (tests, `check --format json`).
    pub fn render_string(&self, name: &str, ctx: &Value) -> Result<String> {
        let bytes = self.render_to(name, ctx, Vec::new())?;
        String::from_utf8(bytes).map_err(|_| Error::Template {
            name: name.into(),
            detail: "output is not UTF-8".into(),
        })
    }
}

fn template_error(name: &str, e: &minijinja::Error) -> Error {
    // A failed write (disk full, ...) is an I/O error, not a template bug.
    if let Some(io) = std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>())
    {
        let source = match io.raw_os_error() {
            Some(code) => std::io::Error::from_raw_os_error(code),
            None => std::io::Error::new(io.kind(), io.to_string()),
        };
        return Error::io("write", name, source);
    }
    let detail = e.to_string();
    Error::Template {
        name: name.to_string(),
        detail,
    }
}

/// The one formatter: every `{{ expr }}` passes here, and is written as
/// the kind of file being rendered writes a value.
fn format_value(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> std::result::Result<(), minijinja::Error> {
    if value.is_safe() {
        return write!(out, "{value}").map_err(write_err);
    }
    let kind = match state.auto_escape() {
        AutoEscape::Json => Kind::Json,
        AutoEscape::Custom(ext) => Kind::from_extension(ext).ok_or_else(|| {
            minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("no formatter for escape mode {ext}"),
            )
        })?,
        _ => return write!(out, "{value}").map_err(write_err),
    };
    if let Some(s) = value.as_str() {
        return kind.write_text(out, s).map_err(write_err);
    }
    match (kind, value.kind()) {
        (Kind::Json, _) => {
            let json = context::plan_item_json(value)
                .unwrap_or_else(|| escape::json::to_string(value))
                .map_err(|e| {
                    minijinja::Error::new(ErrorKind::BadSerialization, "cannot write JSON")
                        .with_source(e)
                })?;
            out.write_str(&json).map_err(write_err)
        }
        (Kind::PowerShell, ValueKind::Number) => write!(out, "{value}").map_err(write_err),
        (Kind::Ldif, ValueKind::Bytes) => {
            let bytes = value.as_bytes().unwrap_or_default();
            crate::ldif::writer::write_bytes_spec(out, bytes).map_err(write_err)
        }
        (_, ValueKind::Number) => kind.write_text(out, &value.to_string()).map_err(write_err),
        (Kind::PowerShell, ValueKind::Bool) => out
            .write_str(if value.is_true() { "$true" } else { "$false" })
            .map_err(write_err),
        (Kind::PowerShell, ValueKind::None) => out.write_str("$null").map_err(write_err),
        (Kind::PowerShell, ValueKind::Seq) => {
            out.write_str("@(").map_err(write_err)?;
            for (i, item) in value.try_iter()?.enumerate() {
                if i > 0 {
                    out.write_str(", ").map_err(write_err)?;
                }
                // Items are strings; a number is written as one too.
                let text = match item.as_str() {
                    Some(s) => s.to_string(),
                    None if item.kind() == ValueKind::Number => item.to_string(),
                    None => return Err(not_scalar(kind, item.kind())),
                };
                kind.write_text(out, &text).map_err(write_err)?;
            }
            out.write_str(")").map_err(write_err)
        }
        (Kind::Markdown | Kind::Html, ValueKind::None) => Ok(()),
        (_, k) => Err(not_scalar(kind, k)),
    }
}

fn not_scalar(kind: Kind, k: ValueKind) -> minijinja::Error {
    minijinja::Error::new(
        ErrorKind::InvalidOperation,
        format!(
            "a {k} value cannot be written in {} output; render its items one by one",
            kind.title()
        ),
    )
}

fn write_err(_: std::fmt::Error) -> minijinja::Error {
    minijinja::Error::new(ErrorKind::WriteFailure, "write failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// minijinja names the undefined variable only in debug mode, which
    /// is otherwise on for debug builds alone: the tests (debug builds)
    /// would not see a release binary's vaguer messages.
    #[test]
    fn errors_are_detailed_in_release_builds_too() {
        let t = Templates::load(None).unwrap();
        assert!(t.env.debug());
        let e = t
            .env
            .render_str("{{ nope }}", minijinja::context! {})
            .unwrap_err();
        assert_eq!(
            template_error("x", &e).to_string(),
            "error: template 'x': undefined value: `nope` is undefined (in <string>:1)"
        );
    }
}
