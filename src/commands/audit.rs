//! `audit`: the risk findings and every delegation of a directory export,
//! riskiest first; with `--fail-on`, a gate.

use std::io::Write;

use crate::cli::{AuditArgs, AuditFormat, SeverityArg};
use crate::console::{self, Watched};
use crate::error::{Error, Result};
use crate::rules::Severity;

pub fn run(args: &AuditArgs, out: &mut dyn Write) -> Result<()> {
    let audit = crate::audit::audit(&args.export)?;
    let text = match args.format {
        AuditFormat::Text => console::audit_text(&audit),
        AuditFormat::Markdown => console::audit_markdown(&audit),
        AuditFormat::Json => {
            let mut j = crate::escape::json::to_string_pretty(&audit).expect("an audit serialises");
            j.push('\n');
            j
        }
        AuditFormat::Html => {
            let report = crate::render::report::of_audit(&audit);
            let ctx = minijinja::context! { report => minijinja::Value::from(minijinja::value::Serde(&report)) };
            crate::render::Templates::load(None)?.render_string("report.html", &ctx)?
        }
    };
    let mut out = Watched::new(out);
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("write", "<stdout>", e));
    console::ended(written, out)?;
    if let Some(at) = args.fail_on {
        let severity = match at {
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        };
        let count = audit.at_least(severity);
        if count > 0 {
            return Err(Error::FailOn {
                count,
                severity: severity.as_str(),
            });
        }
    }
    Ok(())
}
