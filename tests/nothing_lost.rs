//! Nothing on the user's disk is lost: for every way `--out` can point at
//! a folder that matters, every file that was there is still there, byte
//! for byte, and no temporary folder is left. The same for the other
//! commands that write (`templates export`, `export-script`), for a folder
//! that appears while kcdplan works, and for a run stopped by a signal.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{bin, run_in, sorted_artifacts, Run};
use kcdplan::output::{check_target, write_atomically};

const CSV: &str = "principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n";

/// Every file below `dir` (relative path, bytes).
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                walk(root, &p, out);
            } else if m.is_file() {
                out.insert(
                    p.strip_prefix(root).unwrap().into(),
                    std::fs::read(&p).unwrap(),
                );
            } else {
                out.insert(p.strip_prefix(root).unwrap().into(), b"<link>".to_vec());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// No temporary entry of kcdplan anywhere below `dir`.
fn no_temporaries(dir: &Path) {
    for p in files(dir).keys() {
        assert!(
            !p.to_string_lossy().contains(".kcdplan-"),
            "left behind: {}",
            p.display()
        );
    }
    for e in walkdirs(dir) {
        assert!(
            !e.to_string_lossy().contains(".kcdplan-"),
            "left behind: {}",
            e.display()
        );
    }
}

fn walkdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if std::fs::symlink_metadata(&p).unwrap().is_dir() {
            v.push(p.clone());
            v.extend(walkdirs(&p));
        }
    }
    v
}

/// A project folder: `proj/` holding a git folder, the CSV and an export,
/// inside a scratch root.
fn project() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let proj = root.path().join("proj");
    std::fs::create_dir_all(proj.join(".git/objects")).unwrap();
    std::fs::write(proj.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(proj.join("hosts.csv"), CSV).unwrap();
    std::fs::write(
        proj.join("export.ldif"),
        "dn: CN=VMHOST1,DC=contoso,DC=com\n",
    )
    .unwrap();
    std::fs::create_dir(proj.join("sub")).unwrap();
    std::fs::write(proj.join("sub/notes.txt"), "keep me").unwrap();
    root
}

/// Runs kcdplan in `cwd` with `args`; refused with exit code 2 and the
/// message `stderr`; and everything below `root` as it was.
fn refused(root: &Path, cwd: &Path, args: &[&str], stderr: &str) {
    let before = files(root);
    let r = run_in(cwd, args, None);
    assert_eq!((r.code, r.stderr.as_str()), (2, stderr), "{args:?}");
    assert_eq!(files(root), before, "{args:?} changed files");
    no_temporaries(root);
}

#[test]
fn force_never_replaces_the_current_folder_or_one_above_it() {
    let root = project();
    let proj = root.path().join("proj");
    let p = proj.display();
    refused(
        root.path(),
        &proj,
        &["render", "hosts.csv", "--out", "../proj"],
        "error: output folder '../proj' is not empty; use --force to replace it\n",
    );
    refused(
        root.path(),
        &proj,
        &["render", "hosts.csv", "--out", "../proj", "--force"],
        "error: --force would replace '../proj', the current folder; choose a folder of its own for the change\n",
    );
    refused(
        root.path(),
        &proj.join("sub"),
        &["render", "../hosts.csv", "--out", &p.to_string(), "--force"],
        &format!("error: --force would replace '{p}', a folder holding the current folder; choose a folder of its own for the change\n"),
    );
}

#[test]
fn force_never_replaces_a_folder_holding_the_input_or_the_export() {
    let root = project();
    let proj = root.path().join("proj");
    let p = proj.display();
    let elsewhere = root.path();
    refused(
        root.path(),
        elsewhere,
        &["render", "proj/hosts.csv", "--out", "proj", "--force"],
        "error: --force would replace 'proj', which holds the input 'proj/hosts.csv'; choose a folder of its own for the change\n",
    );
    std::fs::write(root.path().join("hosts.csv"), CSV).unwrap();
    refused(
        root.path(),
        elsewhere,
        &["render", "hosts.csv", "--current", &format!("{p}/export.ldif"), "--out", "proj", "--force"],
        &format!("error: --force would replace 'proj', which holds the input '{p}/export.ldif'; choose a folder of its own for the change\n"),
    );
}

#[cfg(unix)]
#[test]
fn force_never_replaces_home_or_a_root_and_never_follows_a_link() {
    let root = project();
    let proj = root.path().join("proj");
    // The home folder (as $HOME names it).
    let before = files(root.path());
    let r = Command::new(bin())
        .args([
            "render",
            "proj/hosts.csv",
            "--out",
            proj.join("sub").to_str().unwrap(),
            "--force",
        ])
        .current_dir(root.path())
        .env("HOME", proj.join("sub"))
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("the home folder or one holding it"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert_eq!(files(root.path()), before);
    // A filesystem root.
    let r = run_in(
        &proj,
        &["render", "hosts.csv", "--out", "/", "--force"],
        None,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("'/', a filesystem root"), "{}", r.stderr);
    // A symbolic link, even to an empty folder.
    std::fs::create_dir(root.path().join("empty")).unwrap();
    std::os::unix::fs::symlink(root.path().join("empty"), root.path().join("link")).unwrap();
    for force in [false, true] {
        let mut args = vec!["render", "proj/hosts.csv", "--out", "link"];
        if force {
            args.push("--force");
        }
        refused(
            root.path(),
            root.path(),
            &args,
            "error: --out 'link' is a symbolic link; give the folder it points to\n",
        );
    }
    assert!(std::fs::symlink_metadata(root.path().join("link"))
        .unwrap()
        .file_type()
        .is_symlink());
}

/// The user's empty change folder, given by a path that goes through the
/// current folder: the files go into it, the folder itself stays (a shell
/// in it is not left in a removed folder).
#[cfg(unix)]
#[test]
fn an_empty_current_folder_is_written_into_not_replaced() {
    use std::os::unix::fs::MetadataExt;
    let root = project();
    let change = root.path().join("CHG-1234");
    std::fs::create_dir(&change).unwrap();
    let inode = std::fs::metadata(&change).unwrap().ino();
    let r = run_in(
        &change,
        &["render", "../proj/hosts.csv", "--out", "../CHG-1234"],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::metadata(&change).unwrap().ino(), inode);
    let names: Vec<String> = files(&change)
        .keys()
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(names, sorted_artifacts());
    no_temporaries(root.path());
}

/// A folder made at --out by someone else while kcdplan plans is not
/// taken over: left as it is, nothing written.
#[test]
fn a_folder_that_appears_meanwhile_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let target = check_target(&out, false, &[]).unwrap();
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("theirs.txt"), "someone else's").unwrap();
    let err = write_atomically(&target, |tmp| {
        std::fs::write(tmp.join("delegation.ldif"), "x").unwrap();
        Ok(())
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "error: '{}' appeared while kcdplan was planning; it was left as it is and nothing was written",
            out.display()
        )
    );
    assert_eq!(files(dir.path()).len(), 1);
    assert_eq!(
        std::fs::read_to_string(out.join("theirs.txt")).unwrap(),
        "someone else's"
    );
    // An empty folder that appears is not taken over either.
    std::fs::remove_file(out.join("theirs.txt")).unwrap();
    assert!(write_atomically(&target, |_| Ok(())).is_err());
    no_temporaries(dir.path());
}

/// `render` stopped by SIGINT or SIGTERM in the middle of a large render:
/// no output folder, no temporary folder, the input untouched.
#[cfg(unix)]
#[test]
fn a_stopped_render_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("principal,service,target\n");
    for i in 0..60_000 {
        csv.push_str(&format!(
            "host{:05}.contoso.com,hyperv,srv{:05}\n",
            i / 20,
            i
        ));
    }
    std::fs::write(dir.path().join("big.csv"), &csv).unwrap();
    std::fs::create_dir(dir.path().join("old")).unwrap();
    std::fs::write(dir.path().join("old/keep.txt"), "previous change").unwrap();
    for (signal, out, force) in [
        ("INT", "new", false),
        ("TERM", "new", false),
        ("INT", "old", true),
        ("TERM", "old", true),
    ] {
        let before = files(dir.path());
        let mut args = vec!["render", "big.csv", "--out", out];
        if force {
            args.push("--force");
        }
        let mut child = Command::new(bin())
            .args(&args)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until it writes: its temporary folder is there.
        let started = std::time::Instant::now();
        while !walkdirs(dir.path())
            .iter()
            .any(|p| p.to_string_lossy().contains(".kcdplan-new-"))
        {
            assert!(
                started.elapsed().as_secs() < 60,
                "the render never started writing"
            );
            if child.try_wait().unwrap().is_some() {
                panic!("the render ended before it could be stopped; make the input larger");
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let kill = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "SIG{signal}");
        assert_eq!(files(dir.path()), before, "SIG{signal} into {out}");
        no_temporaries(dir.path());
        assert!(!dir.path().join("new").exists());
    }
}

/// A temporary folder that a killed run left is named on the next run
/// into the same place, with how to remove it.
#[test]
fn leftovers_of_a_killed_run_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hosts.csv"), CSV).unwrap();
    std::fs::create_dir(dir.path().join(".out.kcdplan-new-4242-abc")).unwrap();
    let r: Run = run_in(dir.path(), &["render", "hosts.csv", "--out", "out"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let left = dir.path().join(".out.kcdplan-new-4242-abc");
    assert!(
        r.stderr.starts_with(&format!(
            "note: '{0}' is left from an interrupted kcdplan run; remove it with: rm -r '{0}'\n",
            left.display()
        )),
        "{}",
        r.stderr
    );
    assert!(left.exists(), "named, not removed");
}

#[cfg(unix)]
#[test]
fn templates_export_never_writes_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("tpl");
    std::fs::create_dir(&tpl).unwrap();
    let outside = dir.path().join("outside.txt");
    std::os::unix::fs::symlink(&outside, tpl.join("apply.ps1")).unwrap();
    for force in [false, true] {
        let mut args = vec!["templates", "export", "tpl"];
        if force {
            args.push("--force");
        }
        let r = run_in(dir.path(), &args, None);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr
                .contains("apply.ps1' is a symbolic link or not a regular file"),
            "{}",
            r.stderr
        );
        assert!(!outside.exists(), "wrote through the link");
        assert_eq!(
            std::fs::read_dir(&tpl).unwrap().count(),
            1,
            "wrote some files"
        );
    }
}

#[test]
fn export_script_keeps_an_existing_file_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("export.ps1"), "mine").unwrap();
    let r = run_in(dir.path(), &["export-script", "--out", "export.ps1"], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("export.ps1")).unwrap(),
        "mine"
    );
    let r = run_in(
        dir.path(),
        &["export-script", "--out", "export.ps1", "--force"],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::read(dir.path().join("export.ps1"))
        .unwrap()
        .starts_with(b"\xEF\xBB\xBF"));
    no_temporaries(dir.path());
}

#[cfg(unix)]
#[test]
fn templates_folder_problems_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hosts.csv"), CSV).unwrap();
    let r = run_in(
        dir.path(),
        &["render", "hosts.csv", "--out", "o", "--templates", "nope"],
        None,
    );
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (2, "error: --templates 'nope' does not exist\n")
    );
    std::fs::create_dir(dir.path().join("tpl")).unwrap();
    let fifo = Command::new("mkfifo")
        .arg(dir.path().join("tpl/summary.md"))
        .status()
        .unwrap();
    assert!(fifo.success());
    let r = run_in(
        dir.path(),
        &["render", "hosts.csv", "--out", "o", "--templates", "tpl"],
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.ends_with("summary.md': not a regular file\n"),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("o").exists());
}
