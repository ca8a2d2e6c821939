//! A snapshot of every artifact for every fixture. A change to any output
//! shows up here as a diff to review (`cargo insta review`), never to
//! accept blindly.

mod common;

use common::{artifacts, run_in};

#[test]
fn every_artifact_of_every_fixture() {
    insta::glob!("../fixtures", "*.csv", |path| {
        // Run on a copy with a relative name: output must not depend on
        // where the checkout is.
        let dir = tempfile::tempdir().unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        std::fs::copy(path, dir.path().join(name)).unwrap();
        let mut args = vec!["render", name, "--out", "o"];
        let options = common::fixture_args(name);
        args.extend(options.iter().map(String::as_str));
        let r = run_in(dir.path(), &args, None);
        assert_eq!(r.code, 0, "{}: {}", path.display(), r.stderr);
        for name in artifacts() {
            let text = std::fs::read_to_string(dir.path().join("o").join(name)).unwrap();
            insta::assert_snapshot!(name, text);
        }
        insta::assert_snapshot!("stderr", r.stderr);
    });
}

/// The lab planned against an export of a directory that already holds
/// part of it (fixtures/hyperv-lab-export.ldif, written by Samba's
/// ldbsearch): six files, rollback.ldif included, and the check text.
#[test]
fn against_an_export() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["hyperv-lab.csv", "hyperv-lab-export.ldif"] {
        std::fs::copy(common::fixture(f), dir.path().join(f)).unwrap();
    }
    let r = run_in(
        dir.path(),
        &[
            "render",
            "hyperv-lab.csv",
            "--current",
            "hyperv-lab-export.ldif",
            "--out",
            "o",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in kcdplan::render::ARTIFACTS {
        let text = std::fs::read_to_string(dir.path().join("o").join(name)).unwrap();
        insta::assert_snapshot!(format!("current__{name}"), text);
    }
    let check = run_in(
        dir.path(),
        &[
            "check",
            "hyperv-lab.csv",
            "--current",
            "hyperv-lab-export.ldif",
        ],
        None,
    );
    insta::assert_snapshot!("current__check", check.stdout);
}

/// The audit, in every format, of the lab's export (Samba's ldbsearch)
/// and of an ldifde export with binary SIDs and descriptors.
#[test]
fn the_audit_in_every_format() {
    let exports = [
        common::fixture("hyperv-lab-export.ldif"),
        common::repo().join("tests/corpus/exports/ldifde-unicode.ldf"),
    ];
    for export in exports {
        let dir = tempfile::tempdir().unwrap();
        let name = export.file_name().unwrap().to_str().unwrap();
        std::fs::copy(&export, dir.path().join(name)).unwrap();
        for format in ["text", "markdown", "json"] {
            let r = run_in(dir.path(), &["audit", name, "--format", format], None);
            assert_eq!(r.code, 0, "{name}: {}", r.stderr);
            insta::assert_snapshot!(format!("audit__{name}.{format}"), r.stdout);
        }
    }
}

#[test]
fn shipped_templates_never_turn_escaping_off() {
    for (name, text) in kcdplan::render::SHIPPED {
        for bad in ["|safe", "| safe", "autoescape", "from_safe_string"] {
            assert!(!text.contains(bad), "template {name} contains '{bad}'");
        }
        // Every escape mode is one the formatter knows.
        assert!(kcdplan::escape::Kind::of(name).is_some(), "{name}");
    }
}
