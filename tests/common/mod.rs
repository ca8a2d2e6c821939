//! Test helpers: run the real binary in a temporary folder and inspect
//! what it printed and wrote.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kcdplan")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    repo().join("fixtures").join(name)
}

/// The options a fixture is planned with: `fixtures/NAME.args` beside
/// `NAME.csv` (words separated by white space), else none.
pub fn fixture_args(csv_name: &str) -> Vec<String> {
    let args = fixture(csv_name).with_extension("args");
    std::fs::read_to_string(args)
        .map(|t| t.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Runs kcdplan with `args` in `cwd`, feeding `stdin`.
pub fn run_in(cwd: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let spawn = || {
        Command::new(bin())
            .args(args)
            .current_dir(cwd)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    };
    // Under Wine (tests/windows.sh) starting a process now and then fails
    // with "Internal error" (os error 1359) before it runs; a second try
    // starts it. A binary that cannot start fails every try.
    let mut child = spawn()
        .or_else(|_| {
            std::thread::sleep(std::time::Duration::from_millis(200));
            spawn()
        })
        .or_else(|_| {
            std::thread::sleep(std::time::Duration::from_secs(1));
            spawn()
        })
        .expect("run kcdplan");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A temporary folder holding `input.csv` with `csv` as its content.
pub struct Case {
    pub dir: tempfile::TempDir,
}

impl Case {
    pub fn new(csv: &str) -> Case {
        Case::bytes(csv.as_bytes())
    }

    pub fn bytes(csv: &[u8]) -> Case {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("input.csv"), csv).unwrap();
        Case { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args, None)
    }

    /// `kcdplan check input.csv ARGS`.
    pub fn check(&self, extra: &[&str]) -> Run {
        let mut args = vec!["check", "input.csv"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `kcdplan render input.csv --out out ARGS`.
    pub fn render(&self, extra: &[&str]) -> Run {
        let mut args = vec!["render", "input.csv", "--out", "out"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    pub fn out(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join("out").join(name)).unwrap()
    }

    pub fn out_bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path().join("out").join(name)).unwrap()
    }

    /// Every entry of the case folder, recursively, sorted.
    pub fn listing(&self) -> Vec<String> {
        let mut v = Vec::new();
        walk(self.path(), self.path(), &mut v);
        v.sort();
        v
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        // Same spelling on every platform.
        out.push(
            p.strip_prefix(root)
                .unwrap()
                .display()
                .to_string()
                .replace('\\', "/"),
        );
        if p.is_dir() {
            walk(root, &p, out);
        }
    }
}

/// The files `render` writes without `--current`, as the crate lists them.
pub fn artifacts() -> impl Iterator<Item = &'static str> {
    (kcdplan::render::ARTIFACTS.iter().copied()).filter(|n| *n != "rollback.ldif")
}

/// [`artifacts`] sorted by name, as a folder listing comes.
pub fn sorted_artifacts() -> Vec<&'static str> {
    let mut names: Vec<_> = artifacts().collect();
    names.sort_unstable();
    names
}

/// One run of the real binary, described and checked in one expression:
/// input files, arguments and standard input; the exact standard output,
/// standard error and exit code expected, and the files it must leave.
/// Anything not given is expected empty (the exit code: 0).
#[must_use]
pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    stdout: String,
    stderr: String,
    code: i32,
    files: Vec<(String, String)>,
}

impl Test {
    pub fn new() -> Test {
        Test {
            dir: tempfile::tempdir().unwrap(),
            args: Vec::new(),
            stdin: None,
            stdout: String::new(),
            stderr: String::new(),
            code: 0,
            files: Vec::new(),
        }
    }

    /// Writes `contents` to `name` in the test's folder before the run.
    pub fn file(self, name: &str, contents: impl AsRef<[u8]>) -> Test {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn args(mut self, args: &[&str]) -> Test {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn stdin(mut self, bytes: impl AsRef<[u8]>) -> Test {
        self.stdin = Some(bytes.as_ref().to_vec());
        self
    }

    pub fn stdout(mut self, text: &str) -> Test {
        self.stdout = text.to_string();
        self
    }

    pub fn stderr(mut self, text: &str) -> Test {
        self.stderr = text.to_string();
        self
    }

    pub fn code(mut self, code: i32) -> Test {
        self.code = code;
        self
    }

    /// After the run, `name` (relative to the test's folder) holds exactly
    /// `contents`.
    pub fn expect_file(mut self, name: &str, contents: &str) -> Test {
        self.files.push((name.to_string(), contents.to_string()));
        self
    }

    /// Runs and checks everything given; the folder stays for more checks.
    pub fn run(self) -> Ran {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let r = run_in(self.dir.path(), &args, self.stdin.as_deref());
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (self.code, self.stdout.as_str(), self.stderr.as_str()),
            "kcdplan {args:?}: (exit code, stdout, stderr)"
        );
        for (name, want) in &self.files {
            let got = std::fs::read_to_string(self.dir.path().join(name))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&got, want, "{name}");
        }
        Ran { dir: self.dir }
    }
}

impl Test {
    /// Runs and checks the exit code alone: for output that a test reads
    /// rather than compares whole.
    pub fn output(self) -> Output {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let r = run_in(self.dir.path(), &args, self.stdin.as_deref());
        assert_eq!(r.code, self.code, "kcdplan {args:?}: {}", r.stderr);
        Output {
            stdout: r.stdout,
            stderr: r.stderr,
            dir: self.dir,
        }
    }
}

/// What a run printed, and its folder.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub dir: tempfile::TempDir,
}

impl Output {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The folder of a test that has run.
pub struct Ran {
    dir: tempfile::TempDir,
}

impl Ran {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Every entry of the folder, recursively, sorted.
    pub fn listing(&self) -> Vec<String> {
        let mut v = Vec::new();
        walk(self.path(), self.path(), &mut v);
        v.sort();
        v
    }
}

/// A JSON array of strings as a Vec.
pub fn strs(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// The plan's principal with this DN (case-insensitive).
pub fn principal<'a>(plan: &'a serde_json::Value, dn: &str) -> &'a serde_json::Value {
    plan["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["dn"].as_str().unwrap().eq_ignore_ascii_case(dn))
        .unwrap_or_else(|| panic!("{dn} not in plan"))
}

/// The strings at `key` of each object in a JSON array.
pub fn field_strs(v: &serde_json::Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap().to_string())
        .collect()
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A binary SID `S-1-5-21-1-2-3-rid` (or any authority and parts).
pub fn sid(auth: u8, subs: &[u32]) -> Vec<u8> {
    let mut b = vec![1, subs.len() as u8, 0, 0, 0, 0, 0, auth];
    for s in subs {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

/// A self-relative descriptor as ldifde exports it: owner, then a DACL of
/// (type, flags, mask, SID) ACEs; object ACEs carry one GUID, callback
/// ACEs a condition after the SID.
pub fn descriptor(aces: &[(u8, u8, u32, Vec<u8>)]) -> Vec<u8> {
    let owner = sid(5, &[32, 544]);
    let mut body = Vec::new();
    for (kind, flags, mask, s) in aces {
        let mut ace = vec![*kind, *flags, 0, 0];
        ace.extend_from_slice(&mask.to_le_bytes());
        if matches!(kind, 5 | 6 | 11) {
            ace.extend_from_slice(&1u32.to_le_bytes());
            ace.extend_from_slice(&[0xAB; 16]);
        }
        ace.extend_from_slice(s);
        if matches!(kind, 9..=11) {
            ace.extend_from_slice(b"artx\x01\x00\x00\x00");
        }
        let len = ace.len() as u16;
        ace[2..4].copy_from_slice(&len.to_le_bytes());
        body.extend_from_slice(&ace);
    }
    let mut sd = vec![1, 0, 0x04, 0x80];
    for field in [20u32, 0, 0, 20 + owner.len() as u32] {
        sd.extend_from_slice(&field.to_le_bytes());
    }
    sd.extend_from_slice(&owner);
    sd.extend_from_slice(&[4, 0]);
    sd.extend_from_slice(&(8 + body.len() as u16).to_le_bytes());
    sd.extend_from_slice(&(aces.len() as u16).to_le_bytes());
    sd.extend_from_slice(&[0, 0]);
    sd.extend_from_slice(&body);
    sd
}
