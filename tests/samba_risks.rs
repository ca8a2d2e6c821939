//! The risk rules on a real directory: a Samba AD domain set up with each
//! configuration the rules name (by `samba-tool delegation` where it can,
//! else by ldbmodify), exported by `ldbsearch` (SDDL descriptors, text
//! SIDs) and as ldifde writes it (binary, packed by Samba's own NDR code).
//! The audit must find exactly the planted risks, read both exports alike,
//! and list what `samba-tool delegation show` reports; a plan against the
//! export must stop on the critical ones.
#![cfg(unix)]

mod common;
mod samba;

use std::collections::BTreeSet;

use common::{field_strs, run_in, sorted};
use samba::{dn, Domain, BASE_DN};

/// The domain with one planted configuration per rule; returns the folder
/// holding `export.ldif` (ldbsearch) and `binary.ldif` (ldifde's form).
fn planted(d: &Domain) -> tempfile::TempDir {
    let t = |args: &[&str]| {
        d.samba_tool(args);
    };
    // Targets are real hosts: a DNS name, as AD gives computers.
    for host in ["FHOST1", "SQL1"] {
        d.modify(&format!(
            "dn: {}\nchangetype: modify\nreplace: dNSHostName\ndNSHostName: {}.contoso.com\n-\n",
            dn(host),
            host.to_lowercase()
        ));
    }
    t(&["for-any-service", "HOST001$", "on"]); // KCD001
    t(&["add-service", "HOST002$", "ldap/DC1.contoso.com"]); // KCD002
    t(&["add-service", "HOST002$", "ldap/DC1"]);
    t(&["for-any-protocol", "HOST002$", "on"]); // KCD006 too
    t(&["add-service", "HOST003$", "krbtgt/CONTOSO.COM"]); // KCD003
    t(&["add-principal", "krbtgt", "HOST005$"]); // KCD003 (RBCD)
    t(&["add-principal", "DC1$", "HOST004$"]); // KCD004
    t(&["add-service", "WEB1$", "host/fhost1.contoso.com"]); // KCD009
    t(&["add-service", "WEB1$", "host/fhost1"]);
    t(&["add-service", "VMHOST2$", "cifs/nohost.contoso.com"]); // KCD010
    t(&["add-service", "VMHOST2$", "cifs/nohost"]);
    t(&["add-service", "VMHOST1$", "cifs/fhost1.contoso.com"]); // KCD011: one form
    for v in ["cifs/sql1.contoso.com", "cifs/sql1", "CIFS/SQL1"] {
        t(&["add-service", "HV01$", v]); // KCD011: case twins
    }
    t(&["add-service", "HOST007$", "cifs/fhost1.contoso.com"]); // KCD013
    t(&["add-service", "HOST007$", "cifs/fhost1"]);
    d.set_uac(&dn("HOST007"), 4096 | 2);
    // KCD006, KCD007, KCD008: an enabled user with protocol transition and
    // no target.
    d.set_uac(&format!("CN=svc-sql,CN=Users,{BASE_DN}"), 512 | 0x100_0000);
    // An administrator marked sensitive: no KCD014 (Administrator has it).
    d.modify(&format!(
        "dn: CN=svc-web,CN=Users,{BASE_DN}\nchangetype: modify\nreplace: adminCount\nadminCount: 1\n-\nreplace: userAccountControl\nuserAccountControl: {}\n-\n",
        512 | 0x10_0000
    ));
    // KCD005: open to Everyone and Domain Users.
    let allow = "CCDCLCSWRPWPDTLOCRSDRCWDWO";
    d.modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: msDS-AllowedToActOnBehalfOfOtherIdentity\n\
         msDS-AllowedToActOnBehalfOfOtherIdentity: O:BAD:(A;;{allow};;;WD)(A;;{allow};;;DU)\n-\n",
        dn("SQL1")
    ));
    // KCD012: a normal entry, then deny, inherit-only, object, generic and
    // a mask without CONTROL_ACCESS, each for a real account.
    let sid = |n: u32| d.sid_of(&dn(&format!("HOST{n:03}")));
    d.modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: msDS-AllowedToActOnBehalfOfOtherIdentity\n\
         msDS-AllowedToActOnBehalfOfOtherIdentity: O:BAD:(A;;{allow};;;{})(D;;CR;;;{})(A;IO;CR;;;{})\
         (OA;;CR;11111111-1111-1111-1111-111111111111;;{})(A;;GA;;;{})(A;;RP;;;{})\n-\n",
        dn("FHOST1"),
        sid(6),
        sid(7),
        sid(8),
        sid(9),
        sid(10),
        sid(11)
    ));
    let dir = tempfile::tempdir().unwrap();
    d.export(&dir.path().join("export.ldif"));
    d.binary_export(
        &dir.path().join("export.ldif"),
        &dir.path().join("binary.ldif"),
    );
    dir
}

fn audit(dir: &std::path::Path, file: &str) -> serde_json::Value {
    let r = run_in(dir, &["audit", file, "--format", "json"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn the_audit_finds_each_planted_risk_in_both_export_forms() {
    let Some(d) = Domain::new() else { return };
    let dir = planted(&d);
    let a = audit(dir.path(), "export.ldif");
    let found: BTreeSet<(String, String)> = (a["findings"].as_array().unwrap().iter())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["account"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("KCD001", "HOST001$"),
        ("KCD002", "HOST002$"),
        ("KCD003", "HOST003$"),
        ("KCD003", "krbtgt"),
        ("KCD004", "DC1$"),
        ("KCD005", "SQL1$"),
        ("KCD006", "HOST002$"),
        ("KCD006", "svc-sql"),
        ("KCD007", "svc-sql"),
        ("KCD008", "svc-sql"),
        ("KCD009", "WEB1$"),
        ("KCD010", "VMHOST2$"),
        ("KCD011", "VMHOST1$"),
        ("KCD011", "HV01$"),
        ("KCD012", "FHOST1$"),
        ("KCD013", "HOST007$"),
        ("KCD014", "Administrator"),
    ]
    .into_iter()
    .map(|(r, a)| (r.to_string(), a.to_string()))
    .collect();
    assert_eq!(found, want);
    // Riskiest first.
    let order = ["critical", "high", "medium", "low"];
    let ranks: Vec<usize> = (a["findings"].as_array().unwrap().iter())
        .map(|f| order.iter().position(|s| *s == f["severity"]).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    // The ldifde form of the same directory audits the same.
    let b = audit(dir.path(), "binary.ldif");
    // (Records start on other lines: ldbsearch folds long values.)
    let unlined = |v: &serde_json::Value| -> Vec<serde_json::Value> {
        (v["findings"].as_array().unwrap().iter())
            .map(|f| {
                let mut f = f.clone();
                f.as_object_mut().unwrap().remove("line");
                f
            })
            .collect()
    };
    assert_eq!(unlined(&a), unlined(&b));
    assert_eq!(a["delegations"], b["delegations"]);
    // KCD012 names every odd entry; KCD005 names the groups.
    let detail = |rule: &str| -> String {
        (a["findings"].as_array().unwrap().iter())
            .find(|f| f["rule"] == rule)
            .unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let odd = detail("KCD012");
    for part in [
        "denied for",
        "allowed for",
        "inherit-only",
        "allowed-object for",
        "generic rights",
        "no CONTROL_ACCESS",
    ] {
        assert!(odd.contains(part), "{part}: {odd}");
    }
    assert_eq!(odd.matches("; ").count(), 4, "{odd}");
    let broad = detail("KCD005");
    assert!(broad.contains("Everyone (S-1-1-0)"), "{broad}");
    assert!(broad.contains("Domain Users (S-1-5-21-"), "{broad}");
}

/// Every delegation the audit lists is what `samba-tool delegation show`
/// reports for the account: the flags, the values, the principals.
#[test]
fn the_audit_lists_what_samba_tool_reports() {
    let Some(d) = Domain::new() else { return };
    let dir = planted(&d);
    let a = audit(dir.path(), "export.ldif");
    let delegations = a["delegations"].as_array().unwrap();
    let accounts: BTreeSet<&str> = (delegations.iter())
        .map(|x| x["sam_account_name"].as_str().unwrap())
        .collect();
    assert!(accounts.len() >= 14, "{accounts:?}");
    for sam in accounts {
        let (unconstrained, t2a, values, rbcd) = d.show_all(sam);
        let of = |kind: &str| {
            delegations
                .iter()
                .find(|x| x["sam_account_name"] == sam && x["kind"] == kind)
        };
        // (A DC's own unconstrained flag is not listed.)
        if sam != "DC1$" {
            assert_eq!(of("unconstrained").is_some(), unconstrained, "{sam}");
        }
        let constrained = of("constrained-any-protocol").or(of("constrained-kerberos-only"));
        assert_eq!(of("constrained-any-protocol").is_some(), t2a, "{sam}");
        let listed = constrained.map_or_else(Vec::new, |c| field_strs(&c["targets"], "spn"));
        assert_eq!(sorted(listed), sorted(values), "{sam}");
        let allowed: Vec<String> = of("resource-based").map_or_else(Vec::new, |r| {
            (r["aces"].as_array().unwrap().iter())
                .filter(|ace| ace["allows"] == true)
                .map(|ace| ace["sid"].as_str().unwrap().to_string())
                .collect()
        });
        // samba-tool names principals by DN (Everyone and Domain Users
        // too, objects the export does not hold): compared by their SIDs.
        let rbcd: Vec<String> = rbcd.iter().map(|dn| d.sid_of(dn)).collect();
        assert_eq!(sorted(allowed), sorted(rbcd), "{sam}");
    }
}

/// A plan against the planted domain stops on its critical findings, at
/// the CSV line; unconstrained=off, applied through the LDIF, clears the
/// flag as samba-tool sees it, and rollback.ldif sets it back.
#[test]
fn a_plan_stops_on_critical_risks_and_turns_unconstrained_off() {
    let Some(d) = Domain::new() else { return };
    let dir = planted(&d);
    let csv = "principal,service,target,unconstrained\n\
               host010.contoso.com,cifs,dc1.contoso.com,\n\
               host001.contoso.com,cifs,fhost1.contoso.com,\n";
    std::fs::write(dir.path().join("plan.csv"), csv).unwrap();
    let r = run_in(
        dir.path(),
        &[
            "render",
            "plan.csv",
            "--current",
            "export.ldif",
            "--out",
            "out",
        ],
        None,
    );
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert!(
        lines[0].starts_with("plan.csv:2: column 'principal': KCD002 critical"),
        "{}",
        r.stderr
    );
    assert!(
        lines[1].starts_with("plan.csv:3: column 'principal': KCD001 critical"),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("out").exists());
    // The binary export stops the same plan the same way.
    let b = run_in(
        dir.path(),
        &["check", "plan.csv", "--current", "binary.ldif"],
        None,
    );
    assert_eq!(b.stderr.replace("binary.ldif", "export.ldif"), r.stderr);

    // Accepted, the plan goes on; the other rules that need the export
    // find their cases in both export forms: an unknown host (KCD010), a
    // disabled account (KCD013), protocol transition new (KCD006) or held.
    let csv = "principal,service,target,protocol\n\
               host010.contoso.com,cifs,nohost.contoso.com,any\n\
               host007.contoso.com,http,fhost1.contoso.com,\n\
               host002.contoso.com,cifs,sql1.contoso.com,any\n";
    std::fs::write(dir.path().join("more.csv"), csv).unwrap();
    for export in ["export.ldif", "binary.ldif"] {
        let r = run_in(
            dir.path(),
            &[
                "check",
                "more.csv",
                "--current",
                export,
                "--format",
                "json",
                "--accept-risk",
                "KCD002",
            ],
            None,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let plan: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let found: BTreeSet<(String, String)> = (plan["risks"].as_array().unwrap().iter())
            .chain(plan["warnings"].as_array().unwrap())
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().into(),
                    f["principal"].as_str().unwrap().into(),
                )
            })
            .collect();
        // (HOST002's delegation to the DC is older than the plan, which
        // writes none: the audit reports it, not the plan.)
        let want: BTreeSet<(String, String)> = [
            ("KCD006", "host010.contoso.com"),
            ("KCD010", "host010.contoso.com"),
            ("KCD013", "host007.contoso.com"),
        ]
        .into_iter()
        .map(|(r, a)| (r.to_string(), a.to_string()))
        .collect();
        assert_eq!(found, want, "{export}");
        let t = &plan["protocol_transition"];
        assert_eq!(t["gained"][0]["sam_account_name"], "HOST010$", "{export}");
        assert_eq!(t["held"][0]["sam_account_name"], "HOST002$", "{export}");
    }

    let csv = "principal,service,target,unconstrained\n\
               host001.contoso.com,cifs,fhost1.contoso.com,off\n";
    std::fs::write(dir.path().join("off.csv"), csv).unwrap();
    let r = run_in(
        dir.path(),
        &[
            "render",
            "off.csv",
            "--current",
            "export.ldif",
            "--out",
            "off",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("KCD001"), "{}", r.stderr);
    d.apply(&dir.path().join("off/delegation.ldif")).unwrap();
    let (unconstrained, _, values, _) = d.show_all("HOST001$");
    assert!(!unconstrained);
    assert_eq!(sorted(values), ["cifs/fhost1", "cifs/fhost1.contoso.com"]);
    d.apply(&dir.path().join("off/rollback.ldif")).unwrap();
    let (unconstrained, _, values, _) = d.show_all("HOST001$");
    assert!(unconstrained);
    assert!(values.is_empty());
}
