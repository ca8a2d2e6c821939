//! The audit at its edges: records without a sAMAccountName are audited
//! by DN, an export with no account is an error, --fail-on gates, every
//! format shows rule IDs, and one descriptor audits alike as SDDL and as
//! binary, whatever its ACE types. (Each rule on a real directory:
//! tests/samba_risks.rs.)

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{descriptor, sid, Test};

fn audit_json(export: &str) -> serde_json::Value {
    let r = Test::new()
        .file("export.ldif", export)
        .args(&["audit", "export.ldif", "--format", "json"])
        .output();
    serde_json::from_str(&r.stdout).unwrap()
}

/// One resource with every kind of ACE an attacker or an old tool may
/// leave: allowed, denied, object, callback (conditional), inherit-only,
/// generic-only, no CONTROL_ACCESS, Everyone.
#[test]
fn sddl_and_binary_give_the_same_audit_for_every_ace_type() {
    let d = |rid| sid(5, &[21, 1, 2, 3, rid]);
    let binary = descriptor(&[
        (0, 0, 0xF01FF, d(1101)),
        (1, 0, 0x100, d(1102)),
        (5, 0, 0x100, d(1103)),
        (6, 0, 0x100, d(1104)),
        (9, 0, 0x100, d(1105)),
        (10, 0, 0x100, d(1106)),
        (11, 0, 0x100, d(1107)),
        (0, 0x08, 0x100, d(1108)),
        (0, 0, 0x1000_0000, d(1109)),
        (0, 0, 0x10, d(1110)),
        (0, 0, 0xF01FF, sid(1, &[0])),
    ]);
    let g = "abababab-abab-abab-abab-abababababab";
    let s = "S-1-5-21-1-2-3";
    let sddl = format!(
        "O:BAD:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;{s}-1101)(D;;CR;;;{s}-1102)\
         (OA;;CR;{g};;{s}-1103)(OD;;CR;{g};;{s}-1104)(XA;;CR;;;{s}-1105;(Member_of {{SID(BA)}}))\
         (XD;;CR;;;{s}-1106;(Member_of {{SID(BA)}}))(ZA;;CR;{g};;{s}-1107;(Member_of {{SID(BA)}}))\
         (A;IO;CR;;;{s}-1108)(A;;GA;;;{s}-1109)(A;;RP;;;{s}-1110)(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;WD)"
    );
    let record = |name: &str, value: &str| {
        format!(
            "dn: CN={name},CN=Computers,DC=contoso,DC=com\nsAMAccountName: {name}$\n\
             userAccountControl: 4096\nobjectSid: {s}-2000\n{value}\n\n"
        )
    };
    let text = audit_json(&record(
        "SQL1",
        &format!("msDS-AllowedToActOnBehalfOfOtherIdentity: {sddl}"),
    ));
    let bin = audit_json(&record(
        "SQL1",
        &format!(
            "msDS-AllowedToActOnBehalfOfOtherIdentity:: {}",
            STANDARD.encode(&binary)
        ),
    ));
    assert_eq!(text["delegations"], bin["delegations"]);
    assert_eq!(text["findings"], bin["findings"]);
    let aces = text["delegations"][0]["aces"].as_array().unwrap();
    let types: Vec<&str> = aces.iter().map(|a| a["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "allowed",
            "denied",
            "allowed-object",
            "denied-object",
            "allowed-callback",
            "denied-callback",
            "allowed-callback-object",
            "allowed",
            "allowed",
            "allowed",
            "allowed"
        ]
    );
    let allows: Vec<bool> = aces.iter().map(|a| a["allows"] == true).collect();
    assert_eq!(
        allows,
        [true, false, true, false, true, false, true, false, true, true, true]
    );
    assert_eq!(aces[10]["name"], "Everyone");
    let rules: Vec<&str> = (text["findings"].as_array().unwrap().iter())
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["KCD005", "KCD012"]);
    // Every odd entry is named: 9 of the 11.
    let odd = text["findings"][1]["detail"].as_str().unwrap();
    assert_eq!(odd.split("; ").count(), 9, "{odd}");
}

/// Records without a sAMAccountName (exported partly, or by a tool that
/// drops it) are audited, named by DN.
#[test]
fn records_without_a_sam_account_name_are_audited_by_dn() {
    let a = audit_json(
        "dn: CN=ghost,OU=Old,DC=contoso,DC=com\nuserAccountControl: 528384\n\n\
         dn: CN=res,OU=Old,DC=contoso,DC=com\nobjectSid: S-1-5-21-1-2-3-1500\n\
         msDS-AllowedToActOnBehalfOfOtherIdentity: O:BAD:(A;;CR;;;WD)\n",
    );
    let found: Vec<(&str, &str)> = (a["findings"].as_array().unwrap().iter())
        .map(|f| (f["rule"].as_str().unwrap(), f["account"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("KCD001", "CN=ghost,OU=Old,DC=contoso,DC=com"),
            ("KCD005", "CN=res,OU=Old,DC=contoso,DC=com")
        ]
    );
    assert_eq!(
        a["delegations"][0]["sam_account_name"],
        serde_json::Value::Null
    );
}

#[test]
fn an_export_without_accounts_is_an_error() {
    for (name, text) in [
        ("empty", ""),
        ("comments", "# nothing\n"),
        (
            "no accounts",
            "dn: OU=Servers,DC=contoso,DC=com\nobjectClass: organizationalUnit\n",
        ),
    ] {
        let r = Test::new()
            .file("export.ldif", text)
            .args(&["audit", "export.ldif"])
            .code(1)
            .output();
        assert_eq!(r.stdout, "", "{name}");
        assert!(
            r.stderr
                .starts_with("export.ldif: the export holds no account"),
            "{name}: {}",
            r.stderr
        );
    }
}

const RISKY: &str = "dn: CN=APP7,CN=Computers,DC=contoso,DC=com\nsAMAccountName: APP7$\n\
                     userAccountControl: 16781312\nmsDS-AllowedToDelegateTo: http/web1.contoso.com\n\n\
                     dn: CN=WEB1,CN=Computers,DC=contoso,DC=com\nsAMAccountName: WEB1$\n\
                     userAccountControl: 4096\ndNSHostName: web1.contoso.com\n";

/// --fail-on: exit 1 at or above the severity, after printing the audit.
#[test]
fn fail_on_gates_by_severity() {
    // APP7: protocol transition (high), one SPN form (low).
    for (at, code) in [("low", 1), ("medium", 1), ("high", 1), ("critical", 0)] {
        let r = Test::new()
            .file("export.ldif", RISKY)
            .args(&["audit", "export.ldif", "--fail-on", at])
            .code(code)
            .output();
        assert!(r.stdout.contains("KCD006 high"), "{}", r.stdout);
        if code == 1 {
            assert!(r
                .stderr
                .contains(&format!("of severity {at} or higher (--fail-on {at})")));
        }
    }
    let r = Test::new()
        .file("export.ldif", RISKY)
        .args(&["audit", "export.ldif", "--fail-on", "severe"])
        .code(2)
        .output();
    assert!(r.stderr.contains("invalid value 'severe'"), "{}", r.stderr);
}

/// Text, Markdown and JSON all carry the rule IDs and severities.
#[test]
fn every_format_shows_rule_ids() {
    let run = |format: &str| {
        Test::new()
            .file("export.ldif", RISKY)
            .args(&["audit", "export.ldif", "--format", format])
            .output()
            .stdout
    };
    let text = run("text");
    assert!(
        text.contains("\nKCD006 high  APP7$  CN=APP7,CN=Computers,DC=contoso,DC=com\n"),
        "{text}"
    );
    assert!(text.contains("[constrained delegation, any authentication protocol] APP7$  CN=APP7,CN=Computers,DC=contoso,DC=com  (high KCD006 KCD011)"), "{text}");
    let md = run("markdown");
    assert!(md.contains("| KCD006 | high | APP7$ |"), "{md}");
    assert!(
        md.contains(
            "| high KCD006 KCD011 | constrained delegation, any authentication protocol | APP7$ |"
        ),
        "{md}"
    );
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["findings"][0]["rule"], "KCD006");
    assert_eq!(json["findings"][0]["severity"], "high");
    assert_eq!(
        json["delegations"][0]["rules"],
        serde_json::json!(["KCD006", "KCD011"])
    );
}
