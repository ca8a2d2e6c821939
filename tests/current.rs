//! Planning against an export in the ldifde style (UTF-16 with BOM, CRLF,
//! binary objectSid and security descriptor in base64), no directory needed:
//! resolution by DNS name, DN from the export, and the audit's decoding.

mod common;

use common::{repo, Case};

fn export() -> String {
    repo()
        .join("tests/corpus/exports/ldifde-unicode.ldf")
        .display()
        .to_string()
}

#[test]
fn computer_is_found_by_dns_name_and_takes_the_exports_dn() {
    let c = Case::new("principal,service,target,protocol\nvmhost7.contoso.com,cifs,fhost1,any\n");
    let r = c.check(&["--current", &export(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let p = &v["principals"][0];
    assert_eq!(p["dn"], "CN=WEIRD-NAME,OU=Hyper-V,DC=contoso,DC=com");
    assert_eq!(p["dn_source"], "export");
    assert_eq!(p["delta"]["uac"]["from"], 4096);
    assert_eq!(p["delta"]["uac"]["to"], 4096 | 0x1000000);
    assert_eq!(v["current"]["name"], "ldifde-unicode.ldf");
    assert_eq!(v["current"]["records"], 4);
}

#[test]
fn audit_decodes_binary_sids_and_descriptors() {
    let c = Case::new("");
    let r = c.run(&["audit", &export(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(a["schema_version"], 2);
    let d = a["delegations"].as_array().unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(d[0]["kind"], "unconstrained");
    assert_eq!(d[0]["sam_account_name"], "HV-OLD$");
    assert_eq!(d[0]["severity"], "critical");
    assert_eq!(d[1]["kind"], "constrained-kerberos-only");
    assert_eq!(d[1]["targets"][0]["host_found"], true);
    assert_eq!(d[2]["kind"], "resource-based");
    let ace = &d[2]["aces"][0];
    assert_eq!(ace["sid"], "S-1-5-21-1111111111-2222222222-3333333333-1201");
    assert_eq!(ace["name"], "WEIRD$");
    assert_eq!(
        (ace["type"].as_str(), ace["mask"].as_str()),
        (Some("allowed"), Some("0x000F01FF"))
    );
    // The findings: unconstrained (KCD001), an administrator not marked
    // sensitive (KCD014), one SPN form (KCD011); highest first.
    let rules: Vec<&str> = (a["findings"].as_array().unwrap().iter())
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["KCD001", "KCD014", "KCD011"]);
    let md = c.run(&["audit", &export(), "--format", "markdown"]);
    assert!(
        md.stdout
            .contains("| critical KCD001 KCD011 | unconstrained delegation | HV-OLD$ |"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout.contains(
            "| KCD014 | high | Administrator | CN=Administrator,CN=Users,DC=contoso,DC=com |"
        ),
        "{}",
        md.stdout
    );
}

#[test]
fn a_change_file_is_not_an_export() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    std::fs::write(
        c.path().join("change.ldif"),
        "dn: CN=A,DC=x\nchangetype: modify\nadd: msDS-AllowedToDelegateTo\n",
    )
    .unwrap();
    let r = c.check(&["--current", "change.ldif"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "change.ldif:2: this is a change file, not an export (found 'changetype:')\nerror: 1 problem in the input; nothing was written\n"
    );
}

/// A folder given as the export is a read error, as for the CSV, not a
/// problem at line 1 of the input.
#[test]
fn a_folder_as_export_cannot_be_read() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    std::fs::create_dir(c.path().join("exported")).unwrap();
    for args in [
        vec!["check", "input.csv", "--current", "exported"],
        vec!["audit", "exported"],
    ] {
        let r = c.run(&args);
        assert_eq!(r.code, 1, "{args:?}");
        // (The reason is the system's: "Is a directory" on Linux, "Access
        // denied" on Windows.)
        assert!(
            r.stderr.starts_with("error: cannot read 'exported': ")
                && r.stderr.lines().count() == 1,
            "{args:?}: {}",
            r.stderr
        );
    }
}

/// The lab's export as ldifde -u writes it (UTF-16 with BOM, CRLF) plans
/// exactly as the same export in UTF-8.
#[test]
fn a_utf16_export_plans_as_its_utf8_twin() {
    let plan = |export: std::path::PathBuf| -> serde_json::Value {
        let c = Case::new(&std::fs::read_to_string(common::fixture("hyperv-lab.csv")).unwrap());
        let r = c.check(&["--current", export.to_str().unwrap(), "--format", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["current"]["records"], 4);
        v["principals"].clone()
    };
    let utf16 = plan(repo().join("tests/corpus/exports/hyperv-lab-utf16.ldf"));
    assert_eq!(utf16, plan(common::fixture("hyperv-lab-export.ldif")));
    assert!(utf16[0]["before"]["values"].as_array().unwrap().len() > 1);
}

/// An export made without some attributes (here objectSid,
/// servicePrincipalName, msDS-AllowedToDelegateTo, primaryGroupID...) cannot show their
/// values: the review summary, plan.json and `check` say which ones, so
/// that "no values before" is not taken for a fact.
#[test]
fn the_summary_names_the_attributes_no_record_holds() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    std::fs::write(
        c.path().join("thin.ldif"),
        "dn: CN=VMHOST1,CN=Computers,DC=contoso,DC=com\nsAMAccountName: VMHOST1$\n\
         dNSHostName: vmhost1.contoso.com\nuserAccountControl: 4096\n",
    )
    .unwrap();
    let r = c.render(&["--current", "thin.ldif"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let absent = "objectSid, servicePrincipalName, msDS-AllowedToDelegateTo, \
                  msDS-AllowedToActOnBehalfOfOtherIdentity, primaryGroupID, adminCount";
    assert!(
        c.out("summary.md").contains(&format!(
            "| Not in any record of the export | {absent}: read as none, which the export cannot confirm |\n"
        )),
        "{}",
        c.out("summary.md")
    );
    let v: serde_json::Value = serde_json::from_str(&c.out("plan.json")).unwrap();
    assert_eq!(
        v["current"]["attributes_absent"],
        serde_json::json!([
            "objectSid",
            "servicePrincipalName",
            "msDS-AllowedToDelegateTo",
            "msDS-AllowedToActOnBehalfOfOtherIdentity",
            "primaryGroupID",
            "adminCount"
        ])
    );
    let check = c.check(&["--current", "thin.ldif"]);
    assert!(
        check.stdout.contains(&format!(
            "note: no record of the export holds {absent}: accounts are read as having none\n"
        )),
        "{}",
        check.stdout
    );
    // An export that holds every attribute somewhere gets no such row.
    std::fs::write(
        c.path().join("vm7.csv"),
        "principal,service,target\nvmhost7.contoso.com,cifs,fhost1\n",
    )
    .unwrap();
    let full = c.run(&["render", "vm7.csv", "--out", "out7", "--current", &export()]);
    assert_eq!(full.code, 0, "{}", full.stderr);
    let summary = std::fs::read_to_string(c.path().join("out7/summary.md")).unwrap();
    assert!(summary.contains("| Export SHA-256 |"), "{summary}");
    assert!(!summary.contains("Not in any record"), "{summary}");
}
