//! Writing all artifacts or none: files go to a temporary folder beside the
//! output folder and are moved into place only when every one is complete.
//! On any error the output folder is exactly as it was and no temporary
//! files remain.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

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

/// A writer that keeps its first write error: the template engine reports
/// only that a write failed, not why (a reader that closed the pipe early,
/// `| head`, is not a failure of the command; a full disk is).
pub struct Watched<W> {
    inner: W,
    pub failed: Option<io::Error>,
}

impl<W: Write> Watched<W> {
    pub fn new(inner: W) -> Watched<W> {
        Watched {
            inner,
            failed: None,
        }
    }

    fn watch<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        result.map_err(|e| {
            let told = io::Error::new(e.kind(), e.to_string());
            self.failed.get_or_insert(e);
            told
        })
    }
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.inner.write(buf);
        self.watch(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.inner.flush();
        self.watch(result)
    }
}

/// A file being written that computes its SHA-256 on the way. Hashing and
/// the writes run on a second thread, fed in large chunks, while the caller
/// renders the next bytes; memory stays at a few chunks whatever the size
/// of the file.
pub struct HashingFile {
    buf: Vec<u8>,
    chunks: Option<mpsc::SyncSender<Vec<u8>>>,
    /// Chunks the writer is done with, to be filled again.
    spare: mpsc::Receiver<Vec<u8>>,
    writer: Option<thread::JoinHandle<io::Result<String>>>,
    /// The file's name, for errors: the temporary folder it is written in
    /// means nothing to the user (and errors while rendering name the
    /// artifact the same way).
    name: String,
}

const CHUNK: usize = 1 << 18;

impl HashingFile {
    pub fn create(path: &Path) -> Result<HashingFile> {
        let mut file = fs::File::create(path).map_err(|e| Error::io("create", path, e))?;
        let (chunks, full) = mpsc::sync_channel::<Vec<u8>>(4);
        let (give_back, spare) = mpsc::channel();
        let writer = thread::spawn(move || {
            let mut hasher = Sha256::new();
            for chunk in full {
                hasher.update(&chunk);
                file.write_all(&chunk)?;
                let _ = give_back.send(chunk);
            }
            file.sync_all()?;
            Ok(crate::text::hex(&hasher.finalize()))
        });
        Ok(HashingFile {
            buf: Vec::with_capacity(CHUNK),
            chunks: Some(chunks),
            spare,
            writer: Some(writer),
            name: path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        })
    }

    /// Hands the buffered bytes to the writer.
    fn send(&mut self) -> io::Result<()> {
        let next = match self.spare.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => Vec::with_capacity(CHUNK),
        };
        let full = std::mem::replace(&mut self.buf, next);
        let sent = self.chunks.as_ref().map(|c| c.send(full).is_ok());
        match sent {
            Some(true) => Ok(()),
            // The writer stopped: its error says why.
            _ => Err(self
                .stop()
                .err()
                .unwrap_or_else(|| io::Error::other("the file writer stopped"))),
        }
    }

    /// Ends the writer thread and returns its result.
    fn stop(&mut self) -> io::Result<String> {
        self.chunks = None;
        match self.writer.take() {
            Some(w) => w
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the file writer failed"))),
            None => Err(io::Error::other("the file writer stopped")),
        }
    }

    /// Writes what is left, syncs and returns the hex SHA-256 of the file.
    pub fn finish(mut self) -> Result<String> {
        if !self.buf.is_empty() {
            self.send().map_err(|e| Error::io("write", &self.name, e))?;
        }
        let name = self.name.clone();
        self.stop().map_err(|e| Error::io("write", &name, e))
    }
}

impl Write for HashingFile {
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

impl Drop for HashingFile {
    /// On an error path the writer is still joined, so the file is closed
    /// before its folder is removed.
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = self.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many chunks, written in odd-sized pieces: the file holds every byte
    /// in order and the SHA-256 is the file's.
    #[test]
    fn hashing_file_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        let mut expected = Vec::new();
        let mut f = HashingFile::create(&path).unwrap();
        for i in 0..200_000u32 {
            let piece = format!("{i}:{}\n", "x".repeat((i % 37) as usize));
            f.write_all(piece.as_bytes()).unwrap();
            expected.extend_from_slice(piece.as_bytes());
        }
        assert!(expected.len() > 8 * CHUNK, "spans many chunks");
        let sha = f.finish().unwrap();
        assert_eq!(fs::read(&path).unwrap(), expected);
        assert_eq!(sha, crate::text::hex(&Sha256::digest(&expected)));
    }

    /// A file that cannot be written reports the writer's own error.
    #[cfg(target_os = "linux")]
    #[test]
    fn hashing_file_reports_write_errors() {
        let mut f = HashingFile::create(Path::new("/dev/full")).unwrap();
        let chunk = vec![b'x'; CHUNK];
        let mut failed = None;
        for _ in 0..16 {
            if let Err(e) = f.write_all(&chunk) {
                failed = Some(e);
                break;
            }
        }
        let err = match failed {
            Some(e) => e.to_string(),
            None => f.finish().unwrap_err().to_string(),
        };
        assert!(err.contains("No space left on device"), "{err}");
    }

    /// An error found when the file is finished names the file alone, as
    /// errors found while rendering do: never the temporary folder.
    #[cfg(target_os = "linux")]
    #[test]
    fn hashing_file_errors_name_the_file() {
        let mut f = HashingFile::create(Path::new("/dev/full")).unwrap();
        f.write_all(b"less than one chunk").unwrap();
        let err = f.finish().unwrap_err().to_string();
        assert!(
            err.starts_with("error: cannot write 'full': No space left on device"),
            "{err}"
        );
    }
}
