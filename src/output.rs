//! Writing all artifacts or none: files go to a temporary folder beside the
//! output folder and are moved into place only when every one is complete.
//! On any error the output folder is exactly as it was and no temporary
//! files remain.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Checks before any work: the folder must be absent, empty, or replaced
/// with `--force`.
pub fn check_target(out: &Path, force: bool) -> Result<()> {
    match fs::metadata(out) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("inspect output folder", out, e)),
        Ok(m) if !m.is_dir() => Err(Error::Usage(format!(
            "--out '{}' exists and is not a folder",
            out.display()
        ))),
        Ok(_) => {
            let empty = fs::read_dir(out)
                .map_err(|e| Error::io("read output folder", out, e))?
                .next()
                .is_none();
            if empty || force {
                Ok(())
            } else {
                Err(Error::Usage(format!(
                    "output folder '{}' is not empty; use --force to replace it",
                    out.display()
                )))
            }
        }
    }
}

/// Runs `fill` on a fresh temporary folder beside `out`, then moves it into
/// place (replacing an existing `out` only with `force`).
pub fn write_atomically(
    out: &Path,
    force: bool,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    check_target(out, force)?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{base}.kcdplan-new-"))
        .tempdir_in(&parent)
        .map_err(|e| Error::io("create a temporary folder in", &parent, e))?;
    fill(tmp.path())?;
    sync_dir(tmp.path());
    // Move the complete folder into place.
    if out.exists() {
        let old = tempfile::Builder::new()
            .prefix(&format!(".{base}.kcdplan-old-"))
            .tempdir_in(&parent)
            .map_err(|e| Error::io("create a temporary folder in", &parent, e))?;
        let old_path = old.path().join("previous");
        fs::rename(out, &old_path).map_err(|e| Error::io("move aside", out, e))?;
        if let Err(e) = fs::rename(tmp.path(), out) {
            // Put the previous folder back before reporting.
            let _ = fs::rename(&old_path, out);
            return Err(Error::io("move into place", out, e));
        }
        let _ = tmp.keep();
        drop(old); // removes the previous folder
    } else {
        fs::rename(tmp.path(), out).map_err(|e| Error::io("move into place", out, e))?;
        let _ = tmp.keep();
    }
    sync_dir(&parent);
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// A file being written that computes its SHA-256 on the way.
pub struct HashingFile {
    file: io::BufWriter<fs::File>,
    hasher: Sha256,
    path: PathBuf,
}

impl HashingFile {
    pub fn create(path: &Path) -> Result<HashingFile> {
        let file = fs::File::create(path).map_err(|e| Error::io("create", path, e))?;
        Ok(HashingFile {
            file: io::BufWriter::with_capacity(1 << 16, file),
            hasher: Sha256::new(),
            path: path.to_path_buf(),
        })
    }

    /// Flushes, syncs and returns the hex SHA-256 of what was written.
    pub fn finish(self) -> Result<String> {
        let path = self.path.clone();
        let file = self
            .file
            .into_inner()
            .map_err(|e| Error::io("write", &path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("write", &path, e))?;
        Ok(crate::input::hex(&self.hasher.finalize()))
    }
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
