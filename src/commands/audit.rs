//! `audit`: every delegation in a directory export, riskiest first.

use std::io::Write;

use crate::cli::{AuditArgs, AuditFormat};
use crate::console::{self, Watched};
use crate::error::{Error, Result};

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
    };
    let mut out = Watched::new(out);
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("write", "<stdout>", e));
    console::ended(written, out)
}
