//! `export-script`: the read-only PowerShell script that makes an export
//! for `--current` and `audit`.

use std::io::Write;

use crate::cli::ExportScriptArgs;
use crate::error::{Error, Result};
use crate::output;
use crate::render::Templates;

pub fn run(args: &ExportScriptArgs, out: &mut dyn Write) -> Result<()> {
    let templates = Templates::load(None)?;
    let ctx = minijinja::context! { version => env!("CARGO_PKG_VERSION") };
    match &args.out {
        Some(path) => {
            let script = templates.render_to("export.ps1", &ctx, Vec::new())?;
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => std::path::Path::new("."),
            };
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let name = name
                .ok_or_else(|| Error::Usage(format!("--out '{}' names no file", path.display())))?;
            output::write_files(dir, &[(&name, &script)], args.force)?;
            let _ = writeln!(
                out,
                "wrote {}; run it with the ActiveDirectory module: .\\export.ps1 -Path export.ldf",
                path.display()
            );
        }
        None => {
            let w = templates.render_to("export.ps1", &ctx, Vec::new())?;
            out.write_all(&w)
                .map_err(|e| Error::io("write", "<stdout>", e))?;
        }
    }
    Ok(())
}
