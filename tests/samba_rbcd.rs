//! Resource-based delegation written by kcdplan's LDIF into a real
//! directory (Samba AD), against what Samba's own tool writes: for one,
//! two and three principals, into an empty attribute and merged into an
//! existing one, removed and replaced, the descriptor Samba stores is the
//! one `samba-tool delegation add-principal` / `del-principal` leave on a
//! twin domain, and `samba-tool delegation show` lists exactly the planned
//! principals. A second plan is empty, rollback.ldif restores the export,
//! and a descriptor changed after the export makes the LDIF fail whole.
#![cfg(unix)]

mod common;
mod samba;

use common::{run_in, sorted};
use samba::{dn, Domain};

/// One planning run: `rows` (after the header) planned against a fresh
/// export of `d`; returns the folder with the artifacts in `out/`.
fn planned(d: &Domain, rows: &str) -> (tempfile::TempDir, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    d.export(&dir.path().join("export.ldif"));
    let csv = format!("principal,target,delegation,action\n{rows}");
    std::fs::write(dir.path().join("rbcd.csv"), csv).unwrap();
    let r = run_in(
        dir.path(),
        &[
            "render",
            "rbcd.csv",
            "--current",
            "export.ldif",
            "--out",
            "out",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plan =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/plan.json")).unwrap())
            .unwrap();
    (dir, plan)
}

const RESOURCE: &str = "SQL1";

fn descriptor(d: &Domain) -> Vec<String> {
    d.attr(&dn(RESOURCE), "msDS-AllowedToActOnBehalfOfOtherIdentity")
}

/// The principals samba-tool lists for the resource, by sAMAccountName.
fn shown(d: &Domain) -> Vec<String> {
    let (_, _, _, dns) = d.show_all(&format!("{RESOURCE}$"));
    sorted(
        dns.iter()
            .map(|x| {
                x.trim_start_matches("CN=")
                    .split(',')
                    .next()
                    .unwrap()
                    .to_string()
                    + "$"
            })
            .collect(),
    )
}

fn host(i: u32) -> String {
    format!("HOST{i:03}$")
}

/// Rows allowing (or removing) these hosts on the resource.
fn rows(action: &str, hosts: &[u32]) -> String {
    hosts
        .iter()
        .map(|i| format!("host{i:03}.contoso.com,sql1.contoso.com,resource,{action}\n"))
        .collect()
}

#[test]
fn added_principals_match_samba_tool_into_empty_and_existing() {
    for (existing, added) in [
        (vec![], vec![1]),
        (vec![], vec![1, 2]),
        (vec![], vec![1, 2, 3]),
        (vec![4], vec![1]),
        (vec![4, 5], vec![1, 2, 3]),
    ] {
        let (Some(ours), Some(theirs)) = (Domain::new(), Domain::new()) else {
            return;
        };
        for d in [&ours, &theirs] {
            for i in &existing {
                d.samba_tool(&["add-principal", &format!("{RESOURCE}$"), &host(*i)]);
            }
        }
        let before = descriptor(&ours);
        let (dir, plan) = planned(&ours, &rows("add", &added));
        assert_eq!(plan["resources"][0]["delta"]["changes"], true);
        ours.apply(&dir.path().join("out/delegation.ldif")).unwrap();
        for i in &added {
            theirs.samba_tool(&["add-principal", &format!("{RESOURCE}$"), &host(*i)]);
        }
        let case = format!("{existing:?} + {added:?}");
        assert_eq!(descriptor(&ours), descriptor(&theirs), "{case}");
        let mut want: Vec<String> = existing.iter().chain(&added).map(|i| host(*i)).collect();
        want.sort();
        assert_eq!(shown(&ours), want, "{case}");
        // A second plan against a fresh export changes nothing.
        let (again, plan2) = planned(&ours, &rows("add", &added));
        assert_eq!(plan2["resources"][0]["delta"]["changes"], false, "{case}");
        let ldif = std::fs::read_to_string(again.path().join("out/delegation.ldif")).unwrap();
        assert!(!ldif.lines().any(|l| l.starts_with("dn")), "{case}: {ldif}");
        // rollback.ldif restores the exported state exactly.
        ours.apply(&dir.path().join("out/rollback.ldif")).unwrap();
        assert_eq!(descriptor(&ours), before, "{case}");
    }
}

#[test]
fn removed_and_replaced_principals_match_samba_tool() {
    // Remove one of three; remove all (the attribute is cleared).
    for removed in [vec![2], vec![1, 2, 3]] {
        let (Some(ours), Some(theirs)) = (Domain::new(), Domain::new()) else {
            return;
        };
        for d in [&ours, &theirs] {
            for i in [1, 2, 3] {
                d.samba_tool(&["add-principal", &format!("{RESOURCE}$"), &host(i)]);
            }
        }
        let before = descriptor(&ours);
        let (dir, _) = planned(&ours, &rows("remove", &removed));
        ours.apply(&dir.path().join("out/delegation.ldif")).unwrap();
        for i in &removed {
            theirs.samba_tool(&["del-principal", &format!("{RESOURCE}$"), &host(*i)]);
        }
        let case = format!("remove {removed:?}");
        assert_eq!(shown(&ours), shown(&theirs), "{case}");
        if removed.len() < 3 {
            assert_eq!(descriptor(&ours), descriptor(&theirs), "{case}");
        } else {
            // kcdplan clears the attribute; samba-tool leaves an empty
            // DACL: no principal either way.
            assert!(descriptor(&ours).is_empty(), "{case}");
        }
        ours.apply(&dir.path().join("out/rollback.ldif")).unwrap();
        assert_eq!(descriptor(&ours), before, "{case}");
    }
    // Replace [1, 2] by [2, 3]: what del-principal 1 and add-principal 3
    // leave.
    let (Some(ours), Some(theirs)) = (Domain::new(), Domain::new()) else {
        return;
    };
    for d in [&ours, &theirs] {
        for i in [1, 2] {
            d.samba_tool(&["add-principal", &format!("{RESOURCE}$"), &host(i)]);
        }
    }
    let (dir, plan) = planned(&ours, &rows("replace", &[2, 3]));
    assert_eq!(plan["resources"][0]["mode"], "replace");
    ours.apply(&dir.path().join("out/delegation.ldif")).unwrap();
    theirs.samba_tool(&["del-principal", &format!("{RESOURCE}$"), &host(1)]);
    theirs.samba_tool(&["add-principal", &format!("{RESOURCE}$"), &host(3)]);
    assert_eq!(descriptor(&ours), descriptor(&theirs));
    assert_eq!(shown(&ours), [host(2), host(3)]);
}

/// The LDIF deletes the exported descriptor and adds the new one: if the
/// descriptor changed after the export, the record fails and nothing
/// changes.
#[test]
fn a_descriptor_changed_after_the_export_fails_whole() {
    let Some(d) = Domain::new() else { return };
    d.samba_tool(&["add-principal", &format!("{RESOURCE}$"), &host(1)]);
    let (dir, _) = planned(&d, &rows("add", &[2]));
    d.samba_tool(&["add-principal", &format!("{RESOURCE}$"), &host(9)]);
    let changed = descriptor(&d);
    let e = d
        .apply(&dir.path().join("out/delegation.ldif"))
        .unwrap_err();
    assert!(
        e.contains("No such attribute") || e.contains("no matching attribute value"),
        "{e}"
    );
    assert_eq!(descriptor(&d), changed);
    assert_eq!(shown(&d), [host(1), host(9)]);
}
