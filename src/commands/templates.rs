//! `templates list` and `templates export`: the shipped templates, as a
//! starting point for `--templates`.

use std::io::Write;
use std::path::Path;

use crate::error::Result;
use crate::output;
use crate::render::SHIPPED;

pub fn list(out: &mut dyn Write) -> Result<()> {
    for (name, _) in SHIPPED {
        let _ = writeln!(out, "{name}");
    }
    Ok(())
}

pub fn export(dir: &Path, force: bool, out: &mut dyn Write) -> Result<()> {
    let files: Vec<(&str, &[u8])> = SHIPPED.iter().map(|(n, t)| (*n, t.as_bytes())).collect();
    output::write_files(dir, &files, force)?;
    let _ = writeln!(
        out,
        "wrote {} templates to {}; edit them and pass --templates {}",
        SHIPPED.len(),
        dir.display(),
        dir.display()
    );
    Ok(())
}
