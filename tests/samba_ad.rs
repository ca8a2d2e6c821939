//! Every generated LDIF applied to a real Active Directory (Samba AD) and
//! read back: the state must equal the plan exactly, spelling included,
//! and accounts the plan does not touch stay unchanged. Samba's tools run
//! on the Linux host, so these tests are not built for Windows targets.
#![cfg(unix)]

mod common;
mod samba;

use std::path::PathBuf;

use common::{fixture, principal, run_in, sorted, strs, Case};
use samba::{dn, Domain, BASE_DN};

/// Renders `csv` and returns the case (out/ holds the artifacts) and the plan.
fn render(csv: &str, args: &[&str]) -> (Case, serde_json::Value) {
    let c = Case::new(csv);
    let r = c.render(args);
    assert_eq!(r.code, 0, "render failed: {}", r.stderr);
    let plan = serde_json::from_str(&c.out("plan.json")).unwrap();
    (c, plan)
}

fn ldif(c: &Case) -> PathBuf {
    c.path().join("out/delegation.ldif")
}

/// The state the plan leads to from `before`.
fn expected(before: &[String], p: &serde_json::Value) -> Vec<String> {
    if p["mode"] == "replace" {
        return strs(&p["replace"]);
    }
    let remove: Vec<String> = strs(&p["remove"])
        .iter()
        .map(|s| s.to_lowercase())
        .collect();
    let mut v: Vec<String> = before
        .iter()
        .filter(|x| !remove.contains(&x.to_lowercase()))
        .cloned()
        .collect();
    v.extend(strs(&p["add"]));
    v
}

/// Checks one account against the plan with both readers.
fn assert_state(d: &Domain, plan: &serde_json::Value, dn: &str, sam: &str, before: &[String]) {
    let want = sorted(expected(before, principal(plan, dn)));
    assert_eq!(sorted(d.delegate_to(dn)), want, "ldbsearch of {dn}");
    let (shown, _) = d.show(sam);
    assert_eq!(sorted(shown), want, "samba-tool delegation show {sam}");
}

#[test]
fn hyperv_lab_adds_to_accounts_without_delegation() {
    let Some(d) = Domain::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(
        dir.path(),
        &[
            "render",
            fixture("hyperv-lab.csv").to_str().unwrap(),
            "--out",
            "o",
        ],
        None,
    );
    assert_eq!(r.code, 0);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("o/plan.json")).unwrap())
            .unwrap();
    assert_eq!(d.apply(&dir.path().join("o/delegation.ldif")).unwrap(), 2);
    assert_state(&d, &plan, &dn("vmhost1"), "VMHOST1$", &[]);
    assert_state(&d, &plan, &dn("vmhost2"), "VMHOST2$", &[]);
    // Untouched.
    assert!(d.delegate_to(&dn("FHOST1")).is_empty());
    assert_eq!(d.uac(&dn("FHOST1")), 4096);
}

#[test]
fn remove_some_values() {
    let Some(d) = Domain::new() else { return };
    let before = [
        "cifs/fhost1.contoso.com",
        "cifs/fhost1",
        "http/web1.contoso.com",
        "http/web1",
    ];
    d.seed(&dn("VMHOST1"), &before);
    let (c, plan) = render(
        "principal,service,target,action\nvmhost1.contoso.com,CIFS,FHOST1,remove\n",
        &[],
    );
    d.apply(&ldif(&c)).unwrap();
    let before: Vec<String> = before.iter().map(|s| s.to_string()).collect();
    assert_state(&d, &plan, &dn("vmhost1"), "VMHOST1$", &before);
    assert_eq!(
        sorted(d.delegate_to(&dn("VMHOST1"))),
        ["http/web1", "http/web1.contoso.com"]
    );
}

#[test]
fn replace_a_set() {
    let Some(d) = Domain::new() else { return };
    d.seed(&dn("VMHOST1"), &["cifs/old.contoso.com", "cifs/old"]);
    let (c, plan) = render(
        "principal,service,target,action\nvmhost1.contoso.com,cifs,fhost1,replace\nvmhost1.contoso.com,vsms,vmhost2,replace\n",
        &[],
    );
    d.apply(&ldif(&c)).unwrap();
    assert_state(&d, &plan, &dn("vmhost1"), "VMHOST1$", &[]);
    assert_eq!(d.delegate_to(&dn("VMHOST1")).len(), 4);
}

#[test]
fn replace_with_an_empty_set_clears_the_attribute() {
    let Some(d) = Domain::new() else { return };
    d.seed(&dn("VMHOST2"), &["cifs/old.contoso.com", "cifs/old"]);
    let (c, plan) = render(
        "principal,service,target,action\nvmhost2.contoso.com,,,replace\n",
        &[],
    );
    assert!(std::fs::read_to_string(ldif(&c))
        .unwrap()
        .contains("replace: msDS-AllowedToDelegateTo\n-\n"));
    d.apply(&ldif(&c)).unwrap();
    assert_state(&d, &plan, &dn("vmhost2"), "VMHOST2$", &[]);
    assert!(d.delegate_to(&dn("VMHOST2")).is_empty());
}

#[test]
fn user_account_and_gmsa() {
    let Some(d) = Domain::new() else { return };
    let (c, plan) = render(
        "principal,service,target,principal_type\n\
         svc-web,http,web1.contoso.com,user\n\
         gmsa-web$,MSSQLSvc,sql1.contoso.com:1433,gmsa\n",
        &["--domain", "contoso.com"],
    );
    assert_eq!(d.apply(&ldif(&c)).unwrap(), 2);
    assert_state(
        &d,
        &plan,
        &format!("CN=svc-web,CN=Users,{BASE_DN}"),
        "svc-web",
        &[],
    );
    assert_state(
        &d,
        &plan,
        &format!("CN=gmsa-web,CN=Managed Service Accounts,{BASE_DN}"),
        "gmsa-web$",
        &[],
    );
}

#[test]
fn spns_with_ports() {
    let Some(d) = Domain::new() else { return };
    let (c, plan) = render(
        "principal,service,target\nweb1.contoso.com,MSSQLSvc,sql1:1433\nweb1.contoso.com,http,sql1:8443\n",
        &[],
    );
    d.apply(&ldif(&c)).unwrap();
    assert_state(&d, &plan, &dn("web1"), "WEB1$", &[]);
    assert!(d
        .delegate_to(&dn("WEB1"))
        .contains(&"MSSQLSvc/sql1.contoso.com:1433".to_string()));
}

#[test]
fn dn_and_values_that_need_base64() {
    let Some(d) = Domain::new() else { return };
    let (c, plan) = render(
        "principal,service,target,principal_type,dn\n\
         MÜLLER-PC.contoso.com,cifs,fhost1,computer,\n\
         MÜLLER-PC.contoso.com,http,wëb1,computer,\n\
         svc-web2,http,web1.contoso.com,user,\"CN=Svc\\, Web,CN=Users,DC=contoso,DC=com\"\n",
        &[],
    );
    let text = std::fs::read_to_string(ldif(&c)).unwrap();
    assert!(
        text.contains("dn:: "),
        "non-ASCII DN must be base64:\n{text}"
    );
    assert!(
        text.contains("msDS-AllowedToDelegateTo:: "),
        "non-ASCII value must be base64"
    );
    assert_eq!(d.apply(&ldif(&c)).unwrap(), 2);
    let muller = format!("CN=MÜLLER-PC,CN=Computers,{BASE_DN}");
    assert_state(&d, &plan, &muller, "MÜLLER-PC$", &[]);
    assert!(d
        .delegate_to(&muller)
        .contains(&"http/wëb1.contoso.com".to_string()));
    assert_state(
        &d,
        &plan,
        &format!("CN=Svc\\, Web,CN=Users,{BASE_DN}"),
        "svc-web2",
        &[],
    );
}

#[test]
fn values_long_enough_to_be_folded() {
    let Some(d) = Domain::new() else { return };
    let long = format!("{}.{}.contoso.com", "a".repeat(60), "b".repeat(60));
    let (c, plan) = render(
        &format!("principal,service,target\nvmhost1.contoso.com,Microsoft Virtual System Migration Service,{long}\n"),
        &[],
    );
    let text = std::fs::read_to_string(ldif(&c)).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with(' ')),
        "expected folded lines"
    );
    d.apply(&ldif(&c)).unwrap();
    assert_state(&d, &plan, &dn("vmhost1"), "VMHOST1$", &[]);
    assert!(d.delegate_to(&dn("VMHOST1")).contains(&format!(
        "Microsoft Virtual System Migration Service/{long}"
    )));
}

#[test]
fn two_hundred_principals_in_one_file() {
    let Some(d) = Domain::new() else { return };
    let mut csv = String::from("principal,service,target\n");
    for i in 1..=200 {
        csv.push_str(&format!("host{i:03}.contoso.com,cifs,fhost1\n"));
        csv.push_str(&format!("host{i:03}.contoso.com,http,web{}\n", i % 7));
    }
    let (c, plan) = render(&csv, &[]);
    assert_eq!(d.apply(&ldif(&c)).unwrap(), 200);
    for i in [1, 57, 123, 200] {
        let cn = format!("host{i:03}");
        assert_state(&d, &plan, &dn(&cn), &format!("HOST{i:03}$"), &[]);
    }
    // All 200, through the faster reader.
    for i in 1..=200 {
        let cn = format!("host{i:03}");
        let want = sorted(expected(&[], principal(&plan, &dn(&cn))));
        assert_eq!(sorted(d.delegate_to(&dn(&cn))), want);
    }
}

#[test]
fn customised_templates_still_produce_valid_ldif() {
    let Some(d) = Domain::new() else { return };
    let c = Case::new(&std::fs::read_to_string(fixture("hyperv-lab.csv")).unwrap());
    assert_eq!(c.run(&["templates", "export", "tpl"]).code, 0);
    let path = c.path().join("tpl/delegation.ldif");
    let t = std::fs::read_to_string(&path).unwrap();
    let t = format!(
        "# Change ticket CHG-0042, reviewed by the directory team\n{}",
        t.replace(
            "{% for p in principals %}\n",
            "{% for p in principals %}\n# account {{ p.sam_account_name|comment }}\n"
        )
    );
    std::fs::write(&path, t).unwrap();
    let r = c.render(&["--templates", "tpl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = c.out("delegation.ldif");
    assert!(text.starts_with("# Change ticket CHG-0042"));
    assert!(text.contains("# account VMHOST1$"));
    let plan: serde_json::Value = serde_json::from_str(&c.out("plan.json")).unwrap();
    assert_eq!(d.apply(&ldif(&c)).unwrap(), 2);
    assert_state(&d, &plan, &dn("vmhost1"), "VMHOST1$", &[]);
    assert_state(&d, &plan, &dn("vmhost2"), "VMHOST2$", &[]);
}

#[test]
fn hostile_but_valid_values_apply_exactly() {
    let Some(d) = Domain::new() else { return };
    let c = Case::new(&std::fs::read_to_string(fixture("hostile.csv")).unwrap());
    let r = c.render(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plan: serde_json::Value = serde_json::from_str(&c.out("plan.json")).unwrap();
    assert_eq!(d.apply(&ldif(&c)).unwrap(), 3);
    let obrien =
        format!("CN=O'Brien\\, Svc,OU=O'Brien \u{2018}Team\u{2019} \u{201B}x\u{201A},{BASE_DN}");
    assert_state(&d, &plan, &obrien, "svc-o'brien", &[]);
    assert!(d
        .delegate_to(&obrien)
        .contains(&"x'; Remove-ADObject -Identity 'y/web1.contoso.com".to_string()));
    let plus = format!("CN=a\\+b\\=c#\\;\\<\\>\\\",CN=Users,{BASE_DN}");
    assert_state(&d, &plan, &plus, "svc-plus", &[]);
    assert_state(
        &d,
        &plan,
        &format!("CN=MÜLLER-PC,CN=Computers,{BASE_DN}"),
        "MÜLLER-PC$",
        &[],
    );
}

/// Applies `text` to a fresh domain; true when the harness notices that
/// `dn` did not end up holding exactly `intended`.
fn harness_flags(text: &str, dn: &str, intended: &[&str]) -> bool {
    let d = Domain::new().expect("checked by caller");
    let f = d.dir.join("case.ldif");
    std::fs::write(&f, text).unwrap();
    let applied = d.apply(&f);
    let want: Vec<String> = intended.iter().map(|s| s.to_string()).collect();
    applied.is_err() || sorted(d.delegate_to(dn)) != sorted(want)
}

/// The harness itself: LDIF a careless encoder would write must not pass
/// as applied, while the same change encoded by kcdplan does.
#[test]
fn harness_rejects_broken_ldif() {
    if Domain::new().is_none() {
        return;
    }
    use kcdplan::ldif::writer::value_spec;
    let fhost = dn("FHOST1");
    let muller = format!("CN=MÜLLER-PC,CN=Computers,{BASE_DN}");
    let record = |dn_spec: String, value_spec: String| {
        format!("dn{dn_spec}\nchangetype: modify\nadd: msDS-AllowedToDelegateTo\nmsDS-AllowedToDelegateTo{value_spec}\n-\n")
    };
    // Samba strips a leading space from a plain value: the read-back sees it.
    // (It keeps a plain leading ':' or '<' and a trailing space, which other
    // LDIF readers do not; kcdplan base64-encodes all of them.)
    let plain = record(format!(": {fhost}"), ":  cifs/padded".to_string());
    assert!(
        harness_flags(&plain, &fhost, &[" cifs/padded"]),
        "plain leading space went unnoticed"
    );
    for value in [
        " cifs/padded",
        ":cifs/colon",
        "<cifs/angle",
        "cifs/trailing ",
    ] {
        let good = record(value_spec(&fhost), value_spec(value));
        assert!(good.contains("msDS-AllowedToDelegateTo:: "));
        assert!(
            !harness_flags(&good, &fhost, &[value]),
            "encoded {value:?} was flagged"
        );
    }
    // Lines broken the way Windows tools write them.
    let crlf = record(value_spec(&fhost), value_spec("cifs/x")).replace('\n', "\r\n");
    assert!(
        harness_flags(&crlf, &fhost, &["cifs/x"]),
        "CRLF went unnoticed"
    );
    // ldbmodify exits 0 and applies nothing after a version line or a BOM.
    let version = format!(
        "version: 1\n{}",
        record(value_spec(&fhost), value_spec("cifs/x"))
    );
    assert!(
        harness_flags(&version, &fhost, &["cifs/x"]),
        "version line went unnoticed"
    );
    let bom = format!(
        "\u{FEFF}{}",
        record(value_spec(&fhost), value_spec("cifs/x"))
    );
    assert!(
        harness_flags(&bom, &fhost, &["cifs/x"]),
        "BOM went unnoticed"
    );
    // A folded line whose continuation lost its leading space.
    let long = format!("http/{}.contoso.com", "w".repeat(70));
    let good = record(value_spec(&fhost), value_spec(&long));
    let mut folded = Vec::new();
    {
        use std::io::Write;
        let mut w = kcdplan::ldif::writer::FoldingWriter::new(&mut folded);
        w.write_all(good.as_bytes()).unwrap();
    }
    let folded = String::from_utf8(folded).unwrap();
    assert!(folded.contains("\n "));
    assert!(
        !harness_flags(&folded, &fhost, &[long.as_str()]),
        "folded LDIF was flagged"
    );
    let unfolded_wrong = folded.replace("\n ", "\n");
    assert!(
        harness_flags(&unfolded_wrong, &fhost, &[long.as_str()]),
        "broken fold went unnoticed"
    );
    // A non-ASCII DN: base64 works.
    let good = record(value_spec(&muller), value_spec("cifs/fhost1"));
    assert!(!harness_flags(&good, &muller, &["cifs/fhost1"]));
}
