//! Writing all artifacts or none, and never losing a file that was
//! there: the output folder is resolved to an absolute path before anything
//! moves; files are written to a temporary folder and moved into place only
//! when every one is complete; a folder is replaced only when `--force`
//! names it, and never the current folder or one above it, the home
//! folder, a filesystem root, a folder holding the input, or a symbolic
//! link. On any error, and on Ctrl-C or SIGTERM, the output is exactly as
//! it was and no temporary folder remains.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::parallel::{pipeline, Producer};

/// What `render` writes to, checked before any work.
#[derive(Debug)]
pub struct Target {
    /// The output folder, absolute.
    out: PathBuf,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not there: kcdplan creates it.
    Absent,
    /// An empty folder: the files go into it.
    Empty,
    /// A folder with files, which `--force` replaces as a whole.
    Replace,
}

/// The name of every temporary entry kcdplan makes beside or inside the
/// output folder starts so.
const TEMP: &str = ".kcdplan-";

/// Checks `out` before any work: absent, an empty folder, or a folder
/// `force` may replace. `inputs` are the files the command reads: a
/// folder holding one of them is never replaced.
pub fn check_target(out: &Path, force: bool, inputs: &[&Path]) -> Result<Target> {
    let shown = || out.display().to_string();
    let out = std::path::absolute(out).map_err(|e| Error::io("find", out, e))?;
    let meta = match fs::symlink_metadata(&out) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Target {
                out,
                state: State::Absent,
            })
        }
        Err(e) => return Err(Error::io("inspect output folder", &out, e)),
        Ok(m) => m,
    };
    if meta.file_type().is_symlink() {
        return Err(Error::Usage(format!(
            "--out '{}' is a symbolic link; give the folder it points to",
            shown()
        )));
    }
    if !meta.is_dir() {
        return Err(Error::Usage(format!(
            "--out '{}' exists and is not a folder",
            shown()
        )));
    }
    let empty = fs::read_dir(&out)
        .map_err(|e| Error::io("read output folder", &out, e))?
        .next()
        .is_none();
    if empty {
        return Ok(Target {
            out,
            state: State::Empty,
        });
    }
    if !force {
        return Err(Error::Usage(format!(
            "output folder '{}' is not empty; use --force to replace it",
            shown()
        )));
    }
    let real = fs::canonicalize(&out).map_err(|e| Error::io("find", &out, e))?;
    let refuse = |why: &str| {
        Err(Error::Usage(format!(
            "--force would replace '{}', {why}; choose a folder of its own for the change",
            shown()
        )))
    };
    if real.parent().is_none() {
        return refuse("a filesystem root");
    }
    if let Ok(cwd) = std::env::current_dir().and_then(fs::canonicalize) {
        if cwd.starts_with(&real) {
            return refuse(if cwd == real {
                "the current folder"
            } else {
                "a folder holding the current folder"
            });
        }
    }
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"));
    if let Some(home) = home.and_then(|h| fs::canonicalize(h).ok()) {
        if home.starts_with(&real) {
            return refuse("the home folder or one holding it");
        }
    }
    for input in inputs {
        if let Ok(file) = fs::canonicalize(input) {
            if file.starts_with(&real) {
                return refuse(&format!("which holds the input '{}'", input.display()));
            }
        }
    }
    Ok(Target {
        out,
        state: State::Replace,
    })
}

impl Target {
    /// The folder the output goes in, and the base name of `out`.
    fn parent_and_base(&self) -> (PathBuf, String) {
        let parent = self
            .out
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        let base = self
            .out
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        (parent, base)
    }

    /// Temporary entries an interrupted run left where this one writes.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        let (parent, base) = self.parent_and_base();
        let mut found = Vec::new();
        for (dir, prefix) in [
            (&parent, format!(".{base}{TEMP}")),
            (&self.out, TEMP.into()),
        ] {
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    found.push(e.path());
                }
            }
        }
        found.sort();
        found
    }
}

/// Runs `fill` on a fresh temporary folder, then puts what it wrote in
/// place: into a new folder (created at once, so that one made meanwhile
/// by someone else is never taken over), into the empty folder that was
/// there, or instead of the folder `--force` named.
pub fn write_atomically(target: &Target, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let out = &target.out;
    let (parent, base) = target.parent_and_base();
    let cleanup = Cleanup::default();
    match target.state {
        State::Absent | State::Empty => {
            let created = target.state == State::Absent;
            if created {
                cleanup.claim(|| fs::create_dir(out).map(|()| out.clone())).map_err(|e| {
                    match e.kind() {
                        io::ErrorKind::AlreadyExists => Error::Usage(format!(
                            "'{}' appeared while kcdplan was planning; it was left as it is and nothing was written",
                            out.display()
                        )),
                        _ => Error::io("create", out, e),
                    }
                })?;
            }
            let tmp = cleanup.temp_dir(out, &format!("{TEMP}new-"))?;
            let result = fill(&tmp).and_then(|()| move_files(&tmp, out, &cleanup));
            let _ = fs::remove_dir_all(&tmp);
            if result.is_err() && created {
                let _ = fs::remove_dir_all(out);
            }
            result?;
            sync_dir(out);
        }
        State::Replace => {
            let tmp = cleanup.temp_dir(&parent, &format!(".{base}{TEMP}new-"))?;
            if let Err(e) = fill(&tmp) {
                let _ = fs::remove_dir_all(&tmp);
                return Err(e);
            }
            sync_dir(&tmp);
            let old = parent.join(format!(".{base}{TEMP}old-{}", std::process::id()));
            fs::rename(out, &old).map_err(|e| {
                let _ = fs::remove_dir_all(&tmp);
                Error::io("move aside", out, e)
            })?;
            if let Err(e) = fs::rename(&tmp, out) {
                // Put the previous folder back before reporting.
                let _ = fs::rename(&old, out);
                let _ = fs::remove_dir_all(&tmp);
                return Err(Error::io("move into place", out, e));
            }
            let _ = fs::remove_dir_all(&old);
        }
    }
    sync_dir(&parent);
    Ok(())
}

/// Writes small files into the folder `dir` (created if needed), all or
/// none: an existing file is replaced only with `force`, and never
/// through a symbolic link or anything but a regular file; each file is
/// written beside its place first and then renamed over it.
pub fn write_files(dir: &Path, files: &[(&str, &[u8])], force: bool) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    for (name, _) in files {
        let path = dir.join(name);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("inspect", &path, e)),
            Ok(m) if m.file_type().is_symlink() || !m.is_file() => {
                return Err(Error::Usage(format!(
                    "'{}' is a symbolic link or not a regular file; it was not written through",
                    path.display()
                )))
            }
            Ok(_) if !force => {
                return Err(Error::Usage(format!(
                    "'{}' exists; use --force to overwrite",
                    path.display()
                )))
            }
            Ok(_) => {}
        }
    }
    let temps: Vec<PathBuf> = (files.iter())
        .map(|(name, _)| dir.join(format!("{TEMP}new-{}-{name}", std::process::id())))
        .collect();
    let cleanup = Cleanup::default();
    let written = files.iter().zip(&temps).try_for_each(|((_, bytes), tmp)| {
        let mut f = None;
        cleanup
            .claim(|| {
                f = Some(
                    fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(tmp)?,
                );
                Ok(tmp.clone())
            })
            .map_err(|e| Error::io("create", tmp, e))?;
        let mut f = f.expect("opened");
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io("write", tmp, e))
    });
    let placed = written.and_then(|()| {
        files.iter().zip(&temps).try_for_each(|((name, _), tmp)| {
            fs::rename(tmp, dir.join(name))
                .map_err(|e| Error::io("move into place", dir.join(name), e))
        })
    });
    for tmp in &temps {
        let _ = fs::remove_file(tmp);
    }
    placed?;
    sync_dir(dir);
    Ok(())
}

/// Moves every file of `from` into `to`, never over a file that is there:
/// all, or none (the ones moved are taken back).
fn move_files(from: &Path, to: &Path, cleanup: &Cleanup) -> Result<()> {
    let mut names: Vec<_> = fs::read_dir(from)
        .map_err(|e| Error::io("read", from, e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()
        .map_err(|e| Error::io("read", from, e))?;
    names.sort();
    let mut moved = Vec::new();
    for name in names {
        let (src, dst) = (from.join(&name), to.join(&name));
        // A hard link is made only where no file is: nothing is replaced.
        let result = cleanup
            .claim(|| fs::hard_link(&src, &dst).map(|()| dst.clone()))
            .and_then(|_| fs::remove_file(&src));
        if let Err(e) = result {
            for m in &moved {
                let _ = fs::remove_file(m);
            }
            return Err(Error::io("move into place", &dst, e));
        }
        moved.push(dst);
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Folders and files removed if the process is stopped by Ctrl-C or
/// SIGTERM while they exist.
static ON_SIGNAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// What this run creates and must remove if it is stopped by a signal:
/// each path is registered as it is created, under the lock the signal
/// handler takes, so that none is created unregistered. Dropped, it
/// forgets them (they are in place, or removed by the error path).
#[derive(Default)]
struct Cleanup(Mutex<Vec<PathBuf>>);

impl Cleanup {
    /// Creates something with `make` and registers the path it returns.
    fn claim(&self, make: impl FnOnce() -> io::Result<PathBuf>) -> io::Result<PathBuf> {
        static HANDLER: std::sync::Once = std::sync::Once::new();
        HANDLER.call_once(|| {
            // (Without a handler a signal still stops the run; only the
            // clean-up is lost, and the next run names what is left.)
            let _ = ctrlc::set_handler(|| {
                let paths = ON_SIGNAL.lock().unwrap_or_else(|e| e.into_inner());
                for p in paths.iter().rev() {
                    if fs::remove_dir_all(p).is_err() {
                        let _ = fs::remove_file(p);
                    }
                }
                std::process::exit(130);
            });
        });
        let mut all = ON_SIGNAL.lock().unwrap_or_else(|e| e.into_inner());
        let path = make()?;
        all.push(path.clone());
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.clone());
        Ok(path)
    }

    /// A new folder in `dir` whose name starts with `prefix` and the
    /// process id, so that one left by a killed run says whose it was.
    fn temp_dir(&self, dir: &Path, prefix: &str) -> Result<PathBuf> {
        let pid = std::process::id();
        let mut n = 0u32;
        loop {
            let path = dir.join(format!("{prefix}{pid}-{n}"));
            match self.claim(|| fs::create_dir(&path).map(|()| path.clone())) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                r => return r.map_err(|e| Error::io("create a temporary folder in", dir, e)),
            }
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let mine = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut all = ON_SIGNAL.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|p| !mine.contains(p));
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
