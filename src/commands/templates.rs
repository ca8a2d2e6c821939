//! `templates list` and `templates export`: the shipped templates, as a
//! starting point for `--templates`.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::render::SHIPPED;

pub fn list(out: &mut dyn Write) -> Result<()> {
    for (name, _) in SHIPPED {
        let _ = writeln!(out, "{name}");
    }
    Ok(())
}

pub fn export(dir: &Path, force: bool, out: &mut dyn Write) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    if !force {
        for (name, _) in SHIPPED {
            let p = dir.join(name);
            if p.exists() {
                return Err(Error::Usage(format!(
                    "'{}' exists; use --force to overwrite",
                    p.display()
                )));
            }
        }
    }
    for (name, text) in SHIPPED {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| Error::io("write", &p, e))?;
    }
    let _ = writeln!(
        out,
        "wrote {} templates to {}; edit them and pass --templates {}",
        SHIPPED.len(),
        dir.display(),
        dir.display()
    );
    Ok(())
}
