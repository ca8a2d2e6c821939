//! Resource-based delegation from the CSV to the artifacts, without a
//! directory: the rows a resource row may and may not hold, the plan
//! against SDDL and binary exports alike, the risk rules on what it
//! writes, and apply.ps1's RBCD section through the PowerShell parser.
//! (Against a real directory: tests/samba_rbcd.rs.)

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{descriptor, sid, Case};

const D: &str = "S-1-5-21-1-2-3";

/// An export: the resource SQL1 (holding one principal, WEB0), front ends
/// WEB1 and WEB2, a DC; `rbcd` is SQL1's descriptor line.
fn export(rbcd: &str) -> String {
    format!(
        "dn: CN=SQL1,CN=Computers,DC=contoso,DC=com\nsAMAccountName: SQL1$\ndNSHostName: sql1.contoso.com\n\
         userAccountControl: 4096\nobjectSid: {D}-1100\n{rbcd}\n\n\
         dn: CN=WEB0,CN=Computers,DC=contoso,DC=com\nsAMAccountName: WEB0$\nuserAccountControl: 4096\nobjectSid: {D}-1200\n\n\
         dn: CN=WEB1,CN=Computers,DC=contoso,DC=com\nsAMAccountName: WEB1$\nuserAccountControl: 4096\nobjectSid: {D}-1201\n\n\
         dn: CN=WEB2,CN=Computers,DC=contoso,DC=com\nsAMAccountName: WEB2$\nuserAccountControl: 4096\nobjectSid: {D}-1202\n\n\
         dn: CN=DC1,OU=Domain Controllers,DC=contoso,DC=com\nsAMAccountName: DC1$\ndNSHostName: dc1.contoso.com\n\
         userAccountControl: 532480\nprimaryGroupID: 516\nobjectSid: {D}-1000\n"
    )
}

fn case(csv: &str, rbcd: &str) -> Case {
    let c = Case::new(csv);
    std::fs::write(c.path().join("export.ldif"), export(rbcd)).unwrap();
    c
}

const HEADER: &str = "principal,target,delegation,action,principal_type,target_type,principal_sid,service,protocol\n";

#[test]
fn what_a_resource_row_may_hold() {
    let bad = |row: &str, want: &str| {
        let c = Case::new(&format!("{HEADER}{row}\n"));
        let r = c.check(&[]);
        assert_eq!(r.code, 1, "{row}");
        assert!(r.stderr.contains(want), "{row}: {}", r.stderr);
    };
    bad(
        "web1.contoso.com,sql1.contoso.com,rbcd,add,,,,http,",
        "input.csv:2: column 'service': 'http': resource-based delegation covers every service of the target: leave service blank",
    );
    bad(
        "web1.contoso.com,sql1.contoso.com,rbcd,add,,,,,any",
        "input.csv:2: column 'protocol': 'any': the KDC always allows protocol transition for resource-based delegation",
    );
    bad(
        "web1.contoso.com,sql1.contoso.com:1433,rbcd,add,,,,,",
        "column 'target': 'sql1.contoso.com:1433' holds a port: a resource row names an account, not a service",
    );
    bad(
        "web1,sql1.contoso.com,rbcd,add,,,,,",
        "column 'principal': the domain of 'web1' is unknown: write its FQDN, or give --domain",
    );
    bad(
        "svc-web,sql1.contoso.com,rbcd,add,user,,S-1-5-21-x,,",
        "column 'principal_sid': 'S-1-5-21-x' is not a SID",
    );
    bad(
        "web1.contoso.com,sql1.contoso.com,delegated,add,,,,,",
        "column 'delegation': 'delegated' is not a delegation",
    );
    bad(
        "web1.contoso.com,sql1.contoso.com,,add,,user,,cifs,",
        "column 'target_type': target_type is for resource rows (delegation=resource) only",
    );
    bad(
        "web1.contoso.com,sql1.contoso.com,rbcd,add,,,,,\nweb1.contoso.com,sql1.contoso.com,rbcd,remove,,,,,",
        "input.csv:3: column 'principal': target 'sql1.contoso.com': principal 'web1.contoso.com' is removed here and added on line 2",
    );
    // A user or gMSA is named with its domain, on either side.
    let c = Case::new(&format!(
        "{HEADER}svc-web@emea.contoso.com,gmsa-sql$@contoso.com,rbcd,add,user,gmsa,,,\n"
    ));
    let r = c.check(&["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let res = &v["resources"][0];
    assert_eq!(
        (res["sam_account_name"].as_str(), res["domain"].as_str()),
        (Some("gmsa-sql$"), Some("contoso.com"))
    );
    assert_eq!(
        res["dn"],
        "CN=gmsa-sql,CN=Managed Service Accounts,DC=contoso,DC=com"
    );
    let a = &res["add"][0];
    assert_eq!(
        (a["sam_account_name"].as_str(), a["domain"].as_str()),
        (Some("svc-web"), Some("emea.contoso.com"))
    );
}

/// The same directory exported as ldbsearch writes it (SDDL) and as
/// ldifde writes it (binary) gives the same plan; the LDIF deletes the
/// exported value as exported and adds the merged descriptor.
#[test]
fn sddl_and_binary_exports_plan_alike() {
    let csv = "principal,target,delegation,action\n\
               web1.contoso.com,sql1.contoso.com,rbcd,add\n\
               web0.contoso.com,sql1.contoso.com,rbcd,remove\n";
    let sddl = format!("msDS-AllowedToActOnBehalfOfOtherIdentity: O:BAD:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;{D}-1200)");
    let binary = format!(
        "msDS-AllowedToActOnBehalfOfOtherIdentity:: {}",
        STANDARD.encode(descriptor(&[(0, 0, 0xF01FF, sid(5, &[21, 1, 2, 3, 1200]))]))
    );
    let mut plans = Vec::new();
    for (name, line) in [("sddl", &sddl), ("binary", &binary)] {
        let c = case(csv, line);
        let r = c.render(&["--current", "export.ldif"]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let plan: serde_json::Value = serde_json::from_str(&c.out("plan.json")).unwrap();
        let ldif = c.out("delegation.ldif");
        let exported = line.split_once(':').unwrap().1;
        assert!(
            ldif.replace("\n ", "").contains(&format!(
                "delete: msDS-AllowedToActOnBehalfOfOtherIdentity\nmsDS-AllowedToActOnBehalfOfOtherIdentity:{exported}\n-\nadd: msDS-AllowedToActOnBehalfOfOtherIdentity\nmsDS-AllowedToActOnBehalfOfOtherIdentity:: "
            )),
            "{name}: {ldif}"
        );
        plans.push(plan["resources"].clone());
    }
    assert_eq!(plans[0], plans[1]);
    let delta = &plans[0][0]["delta"];
    assert_eq!(delta["add"][0]["name"], "WEB1$");
    assert_eq!(delta["remove"][0]["name"], "WEB0$");
    assert_eq!(
        delta["sddl"],
        format!("O:BAD:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;{D}-1201)")
    );
}

/// Without an export the LDIF leaves RBCD out and says so; apply.ps1
/// carries it, the SIDs the CSV gives as literals.
#[test]
fn without_an_export_apply_ps1_carries_it() {
    let c = Case::new(&format!(
        "{HEADER}web9.fabrikam.com,sql1.contoso.com,rbcd,add,,,{D}-7777,,\n"
    ));
    let r = c.render(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ldif = c.out("delegation.ldif");
    assert!(
        ldif.contains("# Resource-based delegation is not in this file"),
        "{ldif}"
    );
    assert!(!ldif.lines().any(|l| l.starts_with("dn")), "{ldif}");
    let apply = c.out("apply.ps1");
    assert!(
        apply.contains(&format!(
        "    @{{ Name = 'WEB9$'; Domain = 'fabrikam.com'; Class = 'computer'; Sid = '{D}-7777' }}\n"
    )),
        "{apply}"
    );
}

/// The rules on what a plan writes into a descriptor: on a DC (KCD004),
/// to a broad group (KCD005); and an entry the descriptor holds that
/// kcdplan cannot write back whole stops the plan.
#[test]
fn risk_rules_on_resources() {
    let c = case(
        "principal,target,delegation,action,principal_sid\nweb1.contoso.com,dc1.contoso.com,rbcd,add,\n",
        "",
    );
    let r = c.check(&["--current", "export.ldif"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("input.csv:2: column 'principal': KCD004 critical: resource-based delegation on a domain controller"), "{}", r.stderr);
    // Everyone, by SID, for a principal of another forest.
    let c = case(
        "principal,target,delegation,action,principal_sid\neveryone.other.example,sql1.contoso.com,rbcd,add,S-1-1-0\n",
        "",
    );
    let r = c.check(&["--current", "export.ldif"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("KCD005 critical: resource-based delegation allowed to Everyone (S-1-1-0)"),
        "{}",
        r.stderr
    );
    // An object ACE cannot be written back whole: adding is refused,
    // replacing is not.
    let odd = format!(
        "msDS-AllowedToActOnBehalfOfOtherIdentity: O:BAD:(OA;;CR;abababab-abab-abab-abab-abababababab;;{D}-1200)"
    );
    let c = case(
        "principal,target,delegation,action\nweb1.contoso.com,sql1.contoso.com,rbcd,add\n",
        &odd,
    );
    let r = c.check(&["--current", "export.ldif"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "holds an allowed-object entry for S-1-5-21-1-2-3-1200 cannot be written back whole"
        ),
        "{}",
        r.stderr
    );
    let c = case(
        "principal,target,delegation,action\nweb1.contoso.com,sql1.contoso.com,rbcd,replace\n",
        &odd,
    );
    let r = c.check(&["--current", "export.ldif"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// A principal the export lacks needs its SID; a SID that contradicts the
/// export is an error.
#[test]
fn principals_are_resolved_to_the_export_s_sids() {
    let c = case(
        "principal,target,delegation,action\nweb7.contoso.com,sql1.contoso.com,rbcd,add\n",
        "",
    );
    let r = c.check(&["--current", "export.ldif"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("principal 'web7.contoso.com' (sAMAccountName 'WEB7$' in domain 'contoso.com') is not in the export export.ldif: export its domain too, or give its SID in the principal_sid column"), "{}", r.stderr);
    let c = case(
        &format!("principal,target,delegation,action,principal_sid\nweb1.contoso.com,sql1.contoso.com,rbcd,add,{D}-9999\n"),
        "",
    );
    let r = c.check(&["--current", "export.ldif"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(&format!("input.csv:2: column 'principal_sid': principal 'web1.contoso.com' has SID '{D}-9999' in the CSV, but its account in the export")), "{}", r.stderr);
}
