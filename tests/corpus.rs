//! The hostile and broken input corpus, one behaviour per file:
//! - `tests/corpus/bad/*.csv`: must fail with exit code 1, the exact
//!   message in the `.stderr` file beside it, and nothing written;
//! - `tests/corpus/formats/*.csv`: the Hyper-V lab as written by real tools
//!   (BOMs, UTF-16, CRLF, `#TYPE`, `;`, tabs, quoting, blank lines, trailing
//!   empty columns): must give exactly the plan of `fixtures/hyperv-lab.csv`.

mod common;

use common::{repo, run_in};

fn csv_files(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    v.sort();
    v
}

#[test]
fn bad_inputs_fail_with_the_exact_message_and_write_nothing() {
    let files = csv_files("tests/corpus/bad");
    assert!(files.len() >= 15);
    for name in files {
        let rel = format!("tests/corpus/bad/{name}");
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("out");
        let r = run_in(
            &repo(),
            &["render", &rel, "--out", target.to_str().unwrap()],
            None,
        );
        let want = std::fs::read_to_string(repo().join(rel.replace(".csv", ".stderr"))).unwrap();
        assert_eq!(r.code, 1, "{name}");
        assert_eq!(r.stderr, want, "{name}");
        assert_eq!(r.stdout, "", "{name}");
        assert_eq!(
            std::fs::read_dir(out.path()).unwrap().count(),
            0,
            "{name} wrote something"
        );
    }
}

fn plan_of(rel: &str) -> serde_json::Value {
    let r = run_in(&repo(), &["check", rel, "--format", "json"], None);
    assert_eq!(r.code, 0, "{rel}: {}", r.stderr);
    // The one finding of these plans: both hosts get protocol transition.
    assert_eq!(r.stderr.lines().count(), 2, "{rel}: {}", r.stderr);
    for l in r.stderr.lines() {
        assert!(l.contains(": warning: KCD006 high: "), "{rel}: {l}");
    }
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v["principals"].clone()
}

#[test]
fn real_world_formats_give_the_same_plan() {
    let mut reference = plan_of("fixtures/hyperv-lab.csv");
    let files = csv_files("tests/corpus/formats");
    assert!(files.len() >= 8);
    for name in files {
        let mut got = plan_of(&format!("tests/corpus/formats/{name}"));
        // Comments differ in one file on purpose (embedded commas).
        for p in got
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .chain(reference.as_array_mut().unwrap())
        {
            p.as_object_mut().unwrap().remove("comments");
        }
        // Line numbers are checked separately; blank lines shift them.
        let strip = |v: &mut serde_json::Value| {
            for p in v.as_array_mut().unwrap() {
                p.as_object_mut().unwrap().remove("lines");
            }
        };
        let mut r = reference.clone();
        strip(&mut got);
        strip(&mut r);
        assert_eq!(got, r, "{name}");
    }
}

#[test]
fn line_numbers_survive_type_line_blank_lines_and_crlf() {
    let lines = |rel: &str| -> Vec<Vec<u64>> {
        plan_of(rel)
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                p["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_u64().unwrap())
                    .collect()
            })
            .collect()
    };
    assert_eq!(lines("tests/corpus/formats/crlf.csv"), [[2, 3], [4, 5]]);
    assert_eq!(lines("tests/corpus/formats/cr-only.csv"), [[2, 3], [4, 5]]);
    assert_eq!(
        lines("tests/corpus/formats/utf16le-bom.csv"),
        [[2, 3], [4, 5]]
    );
    assert_eq!(
        lines("tests/corpus/formats/export-csv-type-line.csv"),
        [[3, 4], [5, 6]]
    );
    assert_eq!(
        lines("tests/corpus/formats/quoted-blank-trailing.csv"),
        [[3, 5], [7, 9]]
    );
}
