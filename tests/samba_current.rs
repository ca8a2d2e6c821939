//! Planning against a real directory's export (Samba AD): the state after
//! applying equals the plan, planning again gives no change, rollback.ldif
//! restores the export exactly, protocol transition set through LDIF shows
//! in samba-tool, a change made after the export makes the guarded LDIF
//! fail and change nothing. (The audit against samba-tool:
//! tests/samba_risks.rs.)
#![cfg(unix)]

mod common;
mod samba;

use std::path::{Path, PathBuf};

use common::{principal, run_in, sorted, strs};
use samba::{dn, Domain};

struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new(csv: &str) -> Work {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hosts.csv"), csv).unwrap();
        Work { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Exports the domain as it is now to `export.ldif` here.
    fn export(&self, d: &Domain) -> PathBuf {
        let export = self.path("export.ldif");
        d.export(&export);
        export
    }

    /// `kcdplan render hosts.csv --current EXPORT --out OUT`; returns the plan.
    fn render(&self, export: &Path, out: &str) -> serde_json::Value {
        let r = run_in(
            self.dir.path(),
            &[
                "render",
                "hosts.csv",
                "--current",
                export.to_str().unwrap(),
                "--out",
                out,
            ],
            None,
        );
        assert_eq!(r.code, 0, "render --current: {}", r.stderr);
        serde_json::from_str(&std::fs::read_to_string(self.path(out).join("plan.json")).unwrap())
            .unwrap()
    }
}

const LAB: &str = "principal,service,target,action,protocol\n\
vmhost1.contoso.com,hyperv,vmhost2,add,any\n\
vmhost1.contoso.com,cifs,fhost1,add,any\n\
vmhost1.contoso.com,http,old,remove,any\n\
vmhost2.contoso.com,cifs,fhost1,replace,kerberos\n";

#[test]
fn plan_apply_replan_and_roll_back() {
    let Some(d) = Domain::new() else { return };
    // Existing state: values in other spellings, one to remove, one unrelated;
    // vmhost2 with protocol transition on and a list to be replaced.
    d.seed(
        &dn("VMHOST1"),
        &[
            "CIFS/FHOST1.contoso.com",
            "http/old.contoso.com",
            "http/old",
            "ldap/dc1.contoso.com",
        ],
    );
    d.seed(&dn("VMHOST2"), &["cifs/stale.contoso.com", "cifs/fhost1"]);
    d.samba_tool(&["for-any-protocol", "VMHOST2$", "on"]);
    let w = Work::new(LAB);
    let first = w.path("export-1.ldif");
    d.export(&first);
    let before1 = sorted(d.delegate_to(&dn("VMHOST1")));
    let before2 = sorted(d.delegate_to(&dn("VMHOST2")));
    let (uac1, uac2) = (d.uac(&dn("VMHOST1")), d.uac(&dn("VMHOST2")));

    let plan = w.render(&first, "change");
    let p1 = principal(&plan, &dn("VMHOST1"));
    let p2 = principal(&plan, &dn("VMHOST2"));
    // Only real changes: the existing CIFS/FHOST1.contoso.com is not re-added.
    assert_eq!(p1["dn_source"], "export");
    assert!(!strs(&p1["delta"]["add"])
        .iter()
        .any(|v| v.eq_ignore_ascii_case("cifs/fhost1.contoso.com")));
    assert_eq!(
        sorted(strs(&p1["delta"]["delete"])),
        ["http/old", "http/old.contoso.com"]
    );
    assert_eq!(strs(&p2["delta"]["delete"]), ["cifs/stale.contoso.com"]);

    d.apply(&w.path("change/delegation.ldif")).unwrap();
    assert_eq!(
        sorted(d.delegate_to(&dn("VMHOST1"))),
        sorted(strs(&p1["delta"]["after"]))
    );
    assert_eq!(
        sorted(d.delegate_to(&dn("VMHOST2"))),
        sorted(strs(&p2["delta"]["after"]))
    );
    assert!(d
        .delegate_to(&dn("VMHOST1"))
        .contains(&"ldap/dc1.contoso.com".to_string()));
    // Protocol transition through LDIF, as samba-tool reads it.
    let (_, t2a1, shown1, _) = d.show_all("VMHOST1$");
    let (_, t2a2, _, _) = d.show_all("VMHOST2$");
    assert!(t2a1, "vmhost1 should use any authentication protocol");
    assert!(!t2a2, "vmhost2 should be Kerberos only");
    assert_eq!(sorted(shown1), sorted(strs(&p1["delta"]["after"])));
    assert_eq!(d.uac(&dn("VMHOST1")), uac1 | 0x1000000);
    assert_eq!(d.uac(&dn("FHOST1")), 4096, "untouched account changed");

    // Planning again against a fresh export: nothing to do.
    let second = w.path("export-2.ldif");
    d.export(&second);
    let again = w.render(&second, "again");
    for p in again["principals"].as_array().unwrap() {
        assert_eq!(p["delta"]["changes"], false, "{}", p["dn"]);
    }
    let ldif = std::fs::read_to_string(w.path("again/delegation.ldif")).unwrap();
    assert!(
        !ldif.lines().any(|l| l.starts_with("dn")),
        "empty change set expected:\n{ldif}"
    );
    assert!(ldif.contains("# No changes: the directory already matches the plan."));

    // rollback.ldif restores the first export exactly.
    d.apply(&w.path("change/rollback.ldif")).unwrap();
    assert_eq!(sorted(d.delegate_to(&dn("VMHOST1"))), before1);
    assert_eq!(sorted(d.delegate_to(&dn("VMHOST2"))), before2);
    assert_eq!((d.uac(&dn("VMHOST1")), d.uac(&dn("VMHOST2"))), (uac1, uac2));
}

#[test]
fn account_changed_after_the_export_fails_and_changes_nothing() {
    let Some(d) = Domain::new() else { return };
    let w = Work::new(LAB);
    let export = w.export(&d);
    w.render(&export, "change");
    // Someone disables vmhost1 after the export (userAccountControl 4098).
    d.set_uac(&dn("VMHOST1"), 4096 | 0x2);
    let uac = d.uac(&dn("VMHOST1"));
    let before2 = d.delegate_to(&dn("VMHOST2"));
    let r = d.apply(&w.path("change/delegation.ldif"));
    assert!(r.is_err(), "guarded LDIF applied over a changed account");
    assert!(d.delegate_to(&dn("VMHOST1")).is_empty());
    assert_eq!(d.uac(&dn("VMHOST1")), uac);
    assert_eq!(
        d.delegate_to(&dn("VMHOST2")),
        before2,
        "the file is one transaction"
    );
}

#[test]
fn value_added_by_someone_else_after_the_export_fails_the_record() {
    let Some(d) = Domain::new() else { return };
    let w = Work::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    let export = w.export(&d);
    w.render(&export, "change");
    d.seed(&dn("VMHOST1"), &["cifs/fhost1"]);
    assert!(d.apply(&w.path("change/delegation.ldif")).is_err());
    assert_eq!(d.delegate_to(&dn("VMHOST1")), ["cifs/fhost1"]);
}

#[test]
fn principal_missing_from_the_export_is_a_located_error() {
    let Some(d) = Domain::new() else { return };
    let w = Work::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\nghost.contoso.com,cifs,fhost1\n");
    w.export(&d);
    let r = run_in(
        w.dir.path(),
        &["check", "hosts.csv", "--current", "export.ldif"],
        None,
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "hosts.csv:3: column 'principal': 'ghost.contoso.com' is not in the export export.ldif: looked up by dNSHostName 'ghost.contoso.com' and sAMAccountName 'GHOST$' in domain 'contoso.com'\n\
         error: 1 problem in the input; nothing was written\n"
    );
}

#[test]
fn target_host_not_in_the_export_is_a_warning() {
    let Some(d) = Domain::new() else { return };
    // DC1 has SPNs; nohost exists nowhere.
    let w = Work::new(
        "principal,service,target\nvmhost1.contoso.com,cifs,dc1\nvmhost1.contoso.com,cifs,nohost\n",
    );
    w.export(&d);
    // DC1 is a domain controller: delegation to it is critical (KCD002).
    let r = run_in(
        w.dir.path(),
        &[
            "check",
            "hosts.csv",
            "--current",
            "export.ldif",
            "--accept-risk",
            "KCD002",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("accepted with --accept-risk: KCD002 critical: principal 'vmhost1.contoso.com': delegation to a domain controller: 'cifs/dc1.contoso.com', 'cifs/dc1'"), "{}", r.stderr);
    assert!(r.stderr.contains("warning: KCD010 medium: principal 'vmhost1.contoso.com': target host 'nohost.contoso.com' is neither a dNSHostName nor in any servicePrincipalName"), "{}", r.stderr);
    assert!(!r.stderr.contains("target host 'dc1"), "{}", r.stderr);
}

#[test]
fn utf16_export_gives_the_same_plan() {
    let Some(d) = Domain::new() else { return };
    d.seed(&dn("VMHOST1"), &["cifs/fhost1.contoso.com"]);
    let w = Work::new(LAB);
    let export = w.export(&d);
    let text = std::fs::read_to_string(&export)
        .unwrap()
        .replace('\n', "\r\n");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(w.path("export-utf16.ldf"), utf16).unwrap();
    let a = w.render(&export, "a");
    let b = w.render(&w.path("export-utf16.ldf"), "b");
    assert_eq!(a["principals"], b["principals"]);
}
