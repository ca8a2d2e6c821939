//! Regression tests, each named after the bug it pins.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{descriptor, fixture, sid, Test};

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
                           "values_replaced": 0, "risks": 1, "warnings": 0, "accepted": 0,
                           "resources": 0})
    );
}

/// The SDDL reader (Samba's ldbsearch) kept allowed-object ACEs (`OA`)
/// that the binary reader (ldifde, Get-ADObject) dropped: one directory,
/// two audits. Both forms now decode through one ACE model.
#[test]
fn sddl_and_binary_descriptors_allow_the_same_principals() {
    let d = "S-1-5-21-1-2-3";
    let binary = descriptor(&[
        (0, 0, 0xF01FF, sid(5, &[21, 1, 2, 3, 1104])),
        (5, 0, 0x100, sid(5, &[21, 1, 2, 3, 1105])),
        (1, 0, 0x100, sid(5, &[21, 1, 2, 3, 1106])),
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
    let d0 = &json["delegations"][0]["aces"];
    let d1 = &json["delegations"][1]["aces"];
    assert_eq!(d0, d1, "SDDL and binary read alike");
    let allowed: Vec<&str> = (d0.as_array().unwrap().iter())
        .filter(|a| a["allows"] == true)
        .map(|a| a["sid"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, [format!("{d}-1104"), format!("{d}-1105")]);
    // The deny ACE is kept and shown.
    assert_eq!(d0[2]["type"], "denied");
}
