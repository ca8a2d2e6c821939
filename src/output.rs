//! Writing all artifacts or none: files go to a temporary folder beside the
//! output folder and are moved into place only when every one is complete.
//! On any error the output folder is exactly as it was and no temporary
//! files remain.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::parallel::{pipeline, Producer};

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

/// Writes the file `path` with what `fill` writes, and returns its
/// SHA-256. `fill` runs on a second thread while this one hashes and writes
/// what it has written so far, in large chunks; memory stays at a few
/// chunks whatever the size of the file. Errors name the file alone: the
/// temporary folder it is written in means nothing to the user.
pub fn write_hashed(
    path: &Path,
    fill: impl FnOnce(&mut Chunks) -> Result<()> + Send,
) -> Result<String> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut file = fs::File::create(path).map_err(|e| Error::io("create", path, e))?;
    let (filled, written) = pipeline(
        4,
        |out| {
            let mut chunks = Chunks {
                buf: Vec::with_capacity(CHUNK),
                out,
            };
            fill(&mut chunks)?;
            chunks.send().map_err(|e| Error::io("write", &name, e))
        },
        |chunks| -> io::Result<String> {
            let mut hasher = Sha256::new();
            while let Some(chunk) = chunks.recv() {
                hasher.update(&chunk);
                file.write_all(&chunk)?;
                chunks.give_back(chunk);
            }
            file.sync_all()?;
            Ok(format!("{:x}", hasher.finalize()))
        },
    );
    // A failed write stops `fill` too: its error is the one that says why.
    let sha256 = written.map_err(|e| Error::io("write", &name, e))?;
    filled?;
    Ok(sha256)
}

const CHUNK: usize = 1 << 18;

/// What [`write_hashed`]'s `fill` writes to: bytes handed on a chunk at a
/// time.
pub struct Chunks {
    buf: Vec<u8>,
    out: Producer<Vec<u8>>,
}

impl Chunks {
    /// Hands the buffered bytes on.
    fn send(&mut self) -> io::Result<()> {
        let mut next = self.out.item();
        next.clear();
        next.reserve(CHUNK);
        let full = std::mem::replace(&mut self.buf, next);
        if self.out.send(full) {
            Ok(())
        } else {
            Err(io::Error::other("the file could not be written"))
        }
    }
}

impl Write for Chunks {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many chunks, written in odd-sized pieces: the file holds every byte
    /// in order and the SHA-256 is the file's.
    #[test]
    fn files_are_written_and_hashed_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        let mut expected = Vec::new();
        for i in 0..200_000u32 {
            expected
                .extend_from_slice(format!("{i}:{}\n", "x".repeat((i % 37) as usize)).as_bytes());
        }
        assert!(expected.len() > 8 * CHUNK, "spans many chunks");
        let sha = write_hashed(&path, |w| {
            for piece in expected.chunks(1000 + 7) {
                w.write_all(piece).unwrap();
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(fs::read(&path).unwrap(), expected);
        assert_eq!(sha, format!("{:x}", Sha256::digest(&expected)));
    }

    /// A file that cannot be written reports the system's reason, naming
    /// the file alone, however much was written, and stops the writing.
    #[cfg(target_os = "linux")]
    #[test]
    fn write_errors_name_the_file_and_stop_the_writing() {
        for size in [19, 16 * CHUNK] {
            let mut writes = 0;
            let err = write_hashed(Path::new("/dev/full"), |w| {
                for _ in 0..size {
                    w.write_all(b"x")
                        .map_err(|e| Error::io("write", "full", e))?;
                    writes += 1;
                }
                Ok(())
            })
            .unwrap_err()
            .to_string();
            assert!(
                err.starts_with("error: cannot write 'full': No space left on device"),
                "{err}"
            );
            assert!(writes < 8 * CHUNK, "{writes} writes after the error");
        }
    }
}
