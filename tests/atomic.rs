//! Nothing lost, nothing half-written: on any failure the output folder is
//! exactly as it was and no temporary files remain beside it.

mod common;

use std::path::Path;
use std::process::Command;

use common::{run_in, Case};
use kcdplan::error::Error;
use kcdplan::output::{check_target, write_atomically};

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn failure_midway_leaves_the_old_folder_and_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("old.txt"), "old").unwrap();
    let target = check_target(&out, true, &[]).unwrap();
    let r = write_atomically(&target, |tmp| {
        std::fs::write(tmp.join("delegation.ldif"), "partial").unwrap();
        Err(Error::io(
            "write",
            tmp.join("apply.ps1"),
            std::io::Error::from_raw_os_error(28), // ENOSPC
        ))
    });
    assert!(r.is_err());
    assert_eq!(listing(dir.path()), ["out"]);
    assert_eq!(listing(&out), ["old.txt"]);
    assert_eq!(std::fs::read_to_string(out.join("old.txt")).unwrap(), "old");
}

#[test]
fn failure_without_an_existing_folder_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let target = check_target(&out, false, &[]).unwrap();
    let r = write_atomically(&target, |_| Err(Error::Usage("stop".into())));
    assert!(r.is_err());
    assert_eq!(listing(dir.path()), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn unwritable_location_is_a_clear_error() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    // /proc refuses new folders, even to root.
    let r = c.run(&["render", "input.csv", "--out", "/proc/kcdplan-out"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("error: cannot create '/proc/kcdplan-out': "),
        "{}",
        r.stderr
    );
    // A path under a file.
    let r = c.run(&["render", "input.csv", "--out", "input.csv/out"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(c.listing(), ["input.csv"]);
}

/// A small tmpfs, unmounted when dropped.
#[cfg(unix)]
struct SmallDisk {
    dir: tempfile::TempDir,
}

#[cfg(unix)]
impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return Some(SmallDisk { dir });
        }
        let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        assert!(
            !root,
            "running as root but cannot mount a tmpfs for the disk-full test"
        );
        eprintln!("*** SKIPPED: disk-full test needs root to mount a small tmpfs ***");
        None
    }
}

#[cfg(unix)]
impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[cfg(unix)]
#[test]
fn disk_full_keeps_the_old_folder() {
    let Some(disk) = SmallDisk::mount("96k") else {
        return;
    };
    let root = disk.dir.path();
    let out = root.join("change");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("old.txt"), "previous change").unwrap();
    // Input outside the small disk; its outputs are far larger than 96 KiB.
    let src = tempfile::tempdir().unwrap();
    let mut csv = String::from("principal,service,target\n");
    for i in 0..1500 {
        csv.push_str(&format!("host{i:04}.contoso.com,hyperv,peer{i:04}\n"));
    }
    std::fs::write(src.path().join("big.csv"), csv).unwrap();
    let r = run_in(
        src.path(),
        &[
            "render",
            "big.csv",
            "--out",
            out.to_str().unwrap(),
            "--force",
        ],
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("error: cannot write 'delegation.ldif': No space left on device"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("... and 1400 more warnings not shown"));
    assert_eq!(listing(root), ["change"]);
    assert_eq!(listing(&out), ["old.txt"]);
    assert_eq!(
        std::fs::read_to_string(out.join("old.txt")).unwrap(),
        "previous change"
    );
}
