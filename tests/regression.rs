//! Regression tests, each named after the bug it pins.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{fixture, Test};

/// `check` counted the change against the export (10 values to add for the
/// lab), while summary.md and plan.json counted the planned values (12):
/// one plan, two answers. All three now print `Plan::totals`.
#[test]
fn check_summary_and_plan_json_count_the_same_change() {
    let csv = std::fs::read(fixture("hyperv-lab.csv")).unwrap();
    let export = std::fs::read(fixture("hyperv-lab-export.ldif")).unwrap();
    let plan = ["--current", "export.ldif"];
    let check = Test::new()
        .file("lab.csv", &csv)
        .file("export.ldif", &export)
        .args(&["check", "lab.csv"])
        .args(&plan)
        .output();
    let listed = check
        .stdout
        .lines()
        .find(|l| l.starts_with("lab.csv: "))
        .expect("the totals line")
        .to_string();
    assert_eq!(
        listed,
        "lab.csv: 2 principal(s); 10 value(s) to add, 0 to remove, 0 in replacement sets; 1 risk(s) (0 accepted), 0 warning(s)"
    );
    let rendered = Test::new()
        .file("lab.csv", &csv)
        .file("export.ldif", &export)
        .args(&["render", "lab.csv", "--out", "out"])
        .args(&plan)
        .output();
    let summary = std::fs::read_to_string(rendered.path().join("out/summary.md")).unwrap();
    assert!(
        summary.contains("Values to add: 10;\nto remove: 0; in replacement lists: 0."),
        "{summary}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(rendered.path().join("out/plan.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        json["totals"],
        serde_json::json!({"principals": 2, "values_added": 10, "values_removed": 0,
                           "values_replaced": 0, "risks": 1, "warnings": 0, "accepted": 0})
    );
}

/// A self-relative descriptor: owner BUILTIN\Administrators and a DACL of
/// (type, mask, SID) ACEs; object ACEs (type 5) carry one GUID.
fn descriptor(aces: &[(u8, u32, &[u32])]) -> Vec<u8> {
    let sid = |subs: &[u32]| {
        let mut b = vec![1, subs.len() as u8, 0, 0, 0, 0, 0, 5];
        for s in subs {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    };
    let owner = sid(&[32, 544]);
    let mut body = Vec::new();
    for (kind, mask, subs) in aces {
        let mut ace = vec![*kind, 0, 0, 0];
        ace.extend_from_slice(&mask.to_le_bytes());
        if *kind == 5 {
            ace.extend_from_slice(&1u32.to_le_bytes());
            ace.extend_from_slice(&[0x11; 16]);
        }
        ace.extend_from_slice(&sid(subs));
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

/// The SDDL reader (Samba's ldbsearch) kept allowed-object ACEs (`OA`)
/// that the binary reader (ldifde, Get-ADObject) dropped: one directory,
/// two audits. Both forms now decode through one ACE model.
#[test]
fn sddl_and_binary_descriptors_allow_the_same_principals() {
    let d = "S-1-5-21-1-2-3";
    let binary = descriptor(&[
        (0, 0xF01FF, &[21, 1, 2, 3, 1104]),
        (5, 0x100, &[21, 1, 2, 3, 1105]),
        (1, 0x100, &[21, 1, 2, 3, 1106]),
    ]);
    let sddl = format!(
        "O:BAD:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;{d}-1104)\
         (OA;;CR;11111111-1111-1111-1111-111111111111;;{d}-1105)(D;;CR;;;{d}-1106)"
    );
    let export = format!(
        "dn: CN=SQL1,DC=x\nsAMAccountName: SQL1$\nmsDS-AllowedToActOnBehalfOfOtherIdentity: {sddl}\n\n\
         dn: CN=SQL2,DC=x\nsAMAccountName: SQL2$\nmsDS-AllowedToActOnBehalfOfOtherIdentity:: {}\n",
        STANDARD.encode(&binary)
    );
    let audit = Test::new()
        .file("export.ldif", export)
        .args(&["audit", "export.ldif", "--format", "json"])
        .output();
    let json: serde_json::Value = serde_json::from_str(&audit.stdout).unwrap();
    let allowed: Vec<Vec<String>> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (f["allowed_principals"].as_array().unwrap().iter())
                .map(|p| p["sid"].as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    let want = vec![format!("{d}-1104"), format!("{d}-1105")];
    assert_eq!(allowed, [want.clone(), want]);
}
