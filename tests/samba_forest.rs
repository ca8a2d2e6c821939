//! A forest: two Samba AD domains, `contoso.com` and `emea.contoso.com`,
//! each holding a computer `HV01$` and a user `svc-sql`, exported with
//! `ldbsearch` and concatenated into one export, as a global catalog or
//! two exports put together would hold them. Every change must land on
//! exactly the account its row names, and anything that could touch
//! another account is an error.
#![cfg(unix)]

mod common;
mod samba;

use std::path::PathBuf;

use common::{run_in, sorted, Run};
use samba::{Domain, CONTOSO, EMEA};

const CONTOSO_HV01: &str = "CN=HV01,CN=Computers,DC=contoso,DC=com";
const EMEA_HV01: &str = "CN=HV01,CN=Computers,DC=emea,DC=contoso,DC=com";

/// Both domains, and a folder holding `forest.ldif` (both exports, one
/// after the other) and `hosts.csv`.
struct Forest {
    contoso: Domain,
    emea: Domain,
    dir: tempfile::TempDir,
}

impl Forest {
    fn new(csv: &str) -> Option<Forest> {
        let contoso = Domain::of(&CONTOSO)?;
        let emea = Domain::of(&EMEA)?;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hosts.csv"), csv).unwrap();
        let f = Forest { contoso, emea, dir };
        f.export();
        Some(f)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Exports both domains as they are now into `forest.ldif`.
    fn export(&self) {
        let (a, b) = (self.path("contoso.ldif"), self.path("emea.ldif"));
        self.contoso.export(&a);
        self.emea.export(&b);
        let mut all = std::fs::read(&a).unwrap();
        all.extend(std::fs::read(&b).unwrap());
        std::fs::write(self.path("forest.ldif"), all).unwrap();
    }

    fn run(&self, args: &[&str]) -> Run {
        run_in(self.dir.path(), args, None)
    }

    /// `render hosts.csv --current forest.ldif --out out ARGS`, which must
    /// succeed; the plan.
    fn render(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec![
            "render",
            "hosts.csv",
            "--current",
            "forest.ldif",
            "--out",
            "out",
        ];
        all.extend_from_slice(args);
        let r = self.run(&all);
        assert_eq!(r.code, 0, "{}", r.stderr);
        serde_json::from_str(&std::fs::read_to_string(self.path("out/plan.json")).unwrap()).unwrap()
    }

    /// `check hosts.csv --current forest.ldif ARGS`, which must fail; its
    /// standard error.
    fn refused(&self, args: &[&str]) -> String {
        let mut all = vec!["check", "hosts.csv", "--current", "forest.ldif"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{}", r.stderr);
        r.stderr
    }
}

fn one(msg: &str) -> String {
    format!("{msg}\nerror: 1 problem in the input; nothing was written\n")
}

/// The bug: a row for hv01.emea.contoso.com was planned on
/// CONTOSO\HV01$, the first HV01$ of the export. It lands on EMEA\HV01$,
/// protocol transition included, and CONTOSO\HV01$ is not touched.
#[test]
fn a_host_of_the_child_domain_is_changed_in_the_child_domain() {
    let Some(f) = Forest::new(
        "principal,service,target,protocol\nhv01.emea.contoso.com,cifs,fs1.emea.contoso.com,any\n",
    ) else {
        return;
    };
    let plan = f.render(&[]);
    let p = &plan["principals"][0];
    assert_eq!(p["dn"], EMEA_HV01);
    assert_eq!(p["domain"], "emea.contoso.com");
    assert_eq!(f.emea.apply(&f.path("out/delegation.ldif")).unwrap(), 1);
    assert_eq!(
        sorted(f.emea.delegate_to(EMEA_HV01)),
        ["cifs/fs1", "cifs/fs1.emea.contoso.com"]
    );
    assert_eq!(f.emea.uac(EMEA_HV01), 4096 | 0x1000000);
    // The LDIF names the account by its DN: the other domain has none.
    assert!(f.contoso.apply(&f.path("out/delegation.ldif")).is_err());
    assert!(f.contoso.delegate_to(CONTOSO_HV01).is_empty());
    assert_eq!(f.contoso.uac(CONTOSO_HV01), 4096);
    // And the same name in contoso.com is contoso's account.
    std::fs::write(
        f.path("hosts.csv"),
        "principal,service,target\nhv01.contoso.com,cifs,fhost1\n",
    )
    .unwrap();
    assert_eq!(f.render(&["--force"])["principals"][0]["dn"], CONTOSO_HV01);
}

/// A user with targets in two domains is one account, its own domain's;
/// every conflict check sees all its rows.
#[test]
fn a_user_with_targets_in_two_domains_is_one_account() {
    let Some(f) = Forest::new(
        "principal,service,target,action,principal_type\n\
         svc-sql,MSSQLSvc,sql1.contoso.com:1433,add,user\n\
         svc-sql,MSSQLSvc,db1.emea.contoso.com:1433,replace,user\n",
    ) else {
        return;
    };
    assert_eq!(
        f.refused(&["--domain", "contoso.com"]),
        one("hosts.csv:3: column 'action': principal 'svc-sql': 'replace' cannot be mixed with add or remove (line 2 has 'add')")
    );
    std::fs::write(
        f.path("hosts.csv"),
        "principal,service,target,principal_type\n\
         svc-sql,MSSQLSvc,sql1.contoso.com:1433,user\n\
         svc-sql,MSSQLSvc,db1.emea.contoso.com:1433,user\n",
    )
    .unwrap();
    let plan = f.render(&["--domain", "contoso.com"]);
    let principals = plan["principals"].as_array().unwrap();
    assert_eq!(principals.len(), 1);
    assert_eq!(principals[0]["dn"], "CN=svc-sql,CN=Users,DC=contoso,DC=com");
    let warnings: Vec<&str> = (plan["warnings"].as_array().unwrap().iter())
        .map(|w| w["message"].as_str().unwrap())
        .collect();
    assert!(warnings.iter().any(|w| w.starts_with("target 'db1.emea.contoso.com' is in domain 'emea.contoso.com' but the principal is in 'contoso.com'")), "{warnings:?}");
    assert!(warnings.contains(&"the user account 'svc-sql' has no servicePrincipalName in the export: an account without one cannot receive the service tickets that delegation passes on"), "{warnings:?}");
}

/// A dn column that names another account than the row's is an error,
/// not a change of the account at that DN.
#[test]
fn a_dn_naming_another_account_is_refused() {
    let Some(f) = Forest::new(&format!(
        "principal,service,target,principal_type,dn\nsvc-sql,http,web1.contoso.com,user,\"{CONTOSO_HV01}\"\n"
    )) else {
        return;
    };
    let err = f.refused(&[]);
    let line = |dn: &str| -> u64 {
        let text = std::fs::read_to_string(f.path("forest.ldif")).unwrap();
        1 + text.lines().position(|l| l == format!("dn: {dn}")).unwrap() as u64
    };
    assert_eq!(
        err,
        one(&format!(
            "hosts.csv:2: column 'principal': 'svc-sql' names two accounts of the export forest.ldif: {CONTOSO_HV01} (line {}) by DN, and CN=svc-sql,CN=Users,DC=contoso,DC=com (line {}) by sAMAccountName",
            line(CONTOSO_HV01),
            line("CN=svc-sql,CN=Users,DC=contoso,DC=com")
        ))
    );
}

/// Two principals that resolve to one account of the export are an error
/// naming both lines: here one by its sAMAccountName (its derived DN is
/// wrong), the other by the DN the CSV gives.
#[test]
fn two_principals_that_are_one_account_are_refused() {
    let Some(f) = Forest::new(
        "principal,service,target,dn\n\
         app1.contoso.com,cifs,fhost1,\n\
         app1-new.contoso.com,cifs,fhost1,\"2.5.4.3=app1,ou=SERVERS,DC=Contoso,DC=com\"\n",
    ) else {
        return;
    };
    assert_eq!(
        f.refused(&[]),
        one("hosts.csv:3: column 'principal': 'app1-new.contoso.com' and 'app1.contoso.com' (line 2) are one account of the export, CN=APP1,OU=Servers,DC=contoso,DC=com: write it one way")
    );
}

/// A sAMAccountName twice in one domain of the export cannot be told
/// apart: an error naming both records. (The same name in two domains is
/// the forest, and fine.)
#[test]
fn a_name_twice_in_one_domain_is_refused() {
    let Some(f) = Forest::new("principal,service,target\nhv01.emea.contoso.com,cifs,fs1\n") else {
        return;
    };
    let emea = std::fs::read_to_string(f.path("emea.ldif")).unwrap();
    let copy = emea.replace(
        "dn: CN=HV01,CN=Computers,DC=emea",
        "dn: CN=HV01-COPY,CN=Computers,DC=emea",
    );
    let mut forest = std::fs::read_to_string(f.path("forest.ldif")).unwrap();
    forest.push_str(&copy);
    std::fs::write(f.path("forest.ldif"), &forest).unwrap();
    let line = |dn: &str| {
        1 + forest
            .lines()
            .position(|l| l == format!("dn: {dn}"))
            .unwrap()
    };
    let copy_dn = "CN=HV01-COPY,CN=Computers,DC=emea,DC=contoso,DC=com";
    assert_eq!(
        f.refused(&[]),
        one(&format!(
            "hosts.csv:2: column 'principal': 'hv01.emea.contoso.com': the export forest.ldif holds 2 accounts with sAMAccountName 'HV01$' in domain 'emea.contoso.com': {EMEA_HV01} (line {}), {copy_dn} (line {}); which one is meant cannot be told",
            line(EMEA_HV01),
            line(copy_dn)
        ))
    );
}

/// An account whose userAccountControl the export does not hold cannot be
/// planned against: its delegation flags are unknown.
#[test]
fn an_account_without_user_account_control_is_refused() {
    let Some(f) = Forest::new("principal,service,target\nhv01.emea.contoso.com,cifs,fs1\n") else {
        return;
    };
    let forest = std::fs::read_to_string(f.path("forest.ldif")).unwrap();
    let start = forest.find(&format!("dn: {EMEA_HV01}")).unwrap();
    let end = start + forest[start..].find("\n\n").unwrap();
    let record: String = (forest[start..end].lines())
        .filter(|l| !l.starts_with("userAccountControl:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let edited = format!(
        "{}{}{}",
        &forest[..start],
        record.trim_end(),
        &forest[end..]
    );
    std::fs::write(f.path("forest.ldif"), &edited).unwrap();
    let line = 1 + edited[..start].matches('\n').count();
    assert_eq!(
        f.refused(&[]),
        one(&format!("forest.ldif:{line}: {EMEA_HV01} has no userAccountControl, so its delegation flags cannot be seen; export the attribute (see kcdplan export-script)"))
    );
}

/// Removing the FQDN form only (--spn-forms fqdn) leaves the short form,
/// and the delegation with it: a warning says so.
#[test]
fn removing_one_form_warns_of_the_other() {
    let Some(f) =
        Forest::new("principal,service,target,action\nhv01.contoso.com,cifs,fhost1,remove\n")
    else {
        return;
    };
    f.contoso
        .seed(CONTOSO_HV01, &["cifs/fhost1.contoso.com", "cifs/fhost1"]);
    f.export();
    let plan = f.render(&["--spn-forms", "fqdn"]);
    assert_eq!(
        plan["principals"][0]["delta"]["delete"][0],
        "cifs/fhost1.contoso.com"
    );
    let warnings: Vec<&str> = (plan["warnings"].as_array().unwrap().iter())
        .map(|w| w["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        warnings,
        ["'cifs/fhost1' stays: --spn-forms fqdn removes only 'cifs/fhost1.contoso.com'; remove both forms (--spn-forms both) to end the delegation"]
    );
}
