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

/// The five artifacts of `render`.
pub const ARTIFACTS: [&str; 5] = [
    "delegation.ldif",
    "apply.ps1",
    "rollback.ps1",
    "plan.json",
    "summary.md",
];

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
