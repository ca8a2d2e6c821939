//! The risk rules in plans: each rule a plan checks fires on the case it
//! names and not beside it; a critical finding is an error, located at its
//! CSV line, unless accepted with --accept-risk; unconstrained=off turns
//! the flag off in every artifact. (The same rules on a real directory:
//! tests/samba_risks.rs.)

mod common;

use common::Case;

/// An export as ldbsearch writes one: a DC (flags and primary group), a
/// member server, a host with unconstrained delegation, a disabled one, a
/// service user with protocol transition and no targets.
const EXPORT: &str = "\
dn: CN=EDC1,OU=Domain Controllers,DC=contoso,DC=com
sAMAccountName: EDC1$
dNSHostName: edc1.contoso.com
userAccountControl: 532480
primaryGroupID: 516
servicePrincipalName: ldap/edc1.contoso.com
servicePrincipalName: HOST/EDC1

dn: CN=RODC1,OU=Domain Controllers,DC=contoso,DC=com
sAMAccountName: RODC1$
dNSHostName: rodc1.contoso.com
userAccountControl: 83890176
primaryGroupID: 521

dn: CN=FS01,CN=Computers,DC=contoso,DC=com
sAMAccountName: FS01$
dNSHostName: fs01.contoso.com
userAccountControl: 4096
primaryGroupID: 515

dn: CN=APP7,CN=Computers,DC=contoso,DC=com
sAMAccountName: APP7$
dNSHostName: app7.contoso.com
userAccountControl: 528384
primaryGroupID: 515
msDS-AllowedToDelegateTo: cifs/fs01.contoso.com

dn: CN=OLD1,CN=Computers,DC=contoso,DC=com
sAMAccountName: OLD1$
dNSHostName: old1.contoso.com
userAccountControl: 4098
primaryGroupID: 515

dn: CN=svc-web,CN=Users,DC=contoso,DC=com
sAMAccountName: svc-web
userAccountControl: 16843264
primaryGroupID: 513
servicePrincipalName: http/web1.contoso.com
msDS-AllowedToDelegateTo: http/fs01.contoso.com

dn: CN=Administrator,CN=Users,DC=contoso,DC=com
sAMAccountName: Administrator
userAccountControl: 66048
primaryGroupID: 513
adminCount: 1
";

fn case(csv: &str) -> Case {
    let c = Case::new(csv);
    std::fs::write(c.path().join("export.ldif"), EXPORT).unwrap();
    c
}

/// The findings `check --format json` reports: (rule, principal, accepted).
fn findings(c: &Case, extra: &[&str]) -> Vec<(String, String, bool)> {
    let mut args = vec!["--format", "json"];
    args.extend(extra);
    let r = c.check(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let mut out: Vec<(String, String, bool)> = (v["risks"].as_array().unwrap().iter())
        .chain(v["warnings"].as_array().unwrap())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["principal"].as_str().unwrap().to_string(),
                f["accepted"].as_bool().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn f(rule: &str, principal: &str) -> (String, String, bool) {
    (rule.into(), principal.into(), false)
}

#[test]
fn rules_without_the_export() {
    let c = case(
        "principal,service,target,action,protocol,principal_type\n\
         fs01.contoso.com,krbtgt,contoso.com,add,,computer\n\
         web1.contoso.com,host,fs01.contoso.com,add,,computer\n\
         svc-sql,MSSQLSvc,sql1.contoso.com:1433,add,any,user\n\
         gmsa-app$,http,web2.contoso.com,add,any,gmsa\n\
         app9.contoso.com,,,replace,,computer\n",
    );
    // KCD003 (krbtgt) is critical: an error at its line, naming the rule
    // and the account, and nothing is written.
    let r = c.render(&["--domain", "contoso.com"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("input.csv:2: column 'principal': KCD003 critical: delegation to krbtgt: 'krbtgt/contoso.com'"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--accept-risk KCD003=fs01.contoso.com"));
    assert_eq!(c.listing(), ["export.ldif", "input.csv"]);
    assert_eq!(
        findings(
            &c,
            &["--domain", "contoso.com", "--accept-risk", "KCD003=FS01$"]
        ),
        [
            ("KCD003".into(), "fs01.contoso.com".into(), true),
            f("KCD006", "gmsa-app$"),
            f("KCD006", "svc-sql"),
            f("KCD007", "svc-sql"),
            f("KCD008", "app9.contoso.com"),
            f("KCD009", "web1.contoso.com"),
            // (krbtgt/contoso.com reads as the host contoso in domain com.)
            f("KCD101", "fs01.contoso.com"),
        ]
    );
    // One SPN form only.
    let one = case("principal,service,target\nfs01.contoso.com,cifs,fs02.contoso.com\n");
    assert_eq!(
        findings(&one, &["--spn-forms", "fqdn"]),
        [f("KCD011", "fs01.contoso.com")]
    );
    assert_eq!(findings(&one, &[]), []);
}

#[test]
fn rules_against_the_export() {
    let c = case(
        "principal,service,target,action,protocol,principal_type\n\
         fs01.contoso.com,http,edc1.contoso.com,add,any,computer\n\
         app7.contoso.com,cifs,fs01.contoso.com,add,,computer\n\
         old1.contoso.com,cifs,nowhere.contoso.com,add,,computer\n\
         svc-web,http,fs01.contoso.com,remove,,user\n",
    );
    let current = ["--current", "export.ldif", "--domain", "contoso.com"];
    // Two critical findings: a DC target (any service, KCD002) and
    // unconstrained delegation kept (KCD001); each an error at its line.
    let r = c.check(&current);
    assert_eq!(r.code, 1);
    let errors: Vec<&str> = r.stderr.lines().collect();
    assert!(errors[0].starts_with("input.csv:2: column 'principal': KCD002 critical: delegation to a domain controller: 'http/edc1.contoso.com', 'http/edc1'"), "{}", r.stderr);
    assert!(errors[1].starts_with("input.csv:3: column 'principal': KCD001 critical: holds unconstrained delegation (userAccountControl 528384)"), "{}", r.stderr);
    assert_eq!(errors.len(), 3, "{}", r.stderr);
    let mut args = current.to_vec();
    args.extend(["--accept-risk", "KCD002", "--accept-risk", "KCD001=app7$"]);
    assert_eq!(
        findings(&c, &args),
        [
            ("KCD001".into(), "app7.contoso.com".into(), true),
            ("KCD002".into(), "fs01.contoso.com".into(), true),
            f("KCD006", "fs01.contoso.com"),
            // svc-web keeps protocol transition, on a user, with no target.
            f("KCD007", "svc-web"),
            f("KCD008", "svc-web"),
            // nowhere.contoso.com and nowhere: both forms are unknown.
            f("KCD010", "old1.contoso.com"),
            f("KCD010", "old1.contoso.com"),
            f("KCD013", "old1.contoso.com"),
        ]
    );
    // Accepting one account does not accept another's finding.
    let mut narrow = current.to_vec();
    narrow.extend(["--accept-risk", "KCD002", "--accept-risk", "KCD001=fs01"]);
    let r = c.check(&narrow);
    assert_eq!(r.code, 1);
    assert!(r
        .stderr
        .contains("input.csv:3: column 'principal': KCD001 critical"));
    // A read-only DC counts as a DC.
    let ro = case("principal,service,target\nfs01.contoso.com,cifs,rodc1.contoso.com\n");
    let r = ro.check(&["--current", "export.ldif"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("KCD002 critical"), "{}", r.stderr);
}

#[test]
fn accepted_risks_are_shown_and_deny_warnings_still_counts_the_rest() {
    let c = case("principal,service,target,protocol\nfs01.contoso.com,cifs,fs02.contoso.com,any\n");
    let r = c.render(&["--deny-warnings"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("warning: KCD006 high"));
    let r = c.render(&[
        "--deny-warnings",
        "--accept-risk",
        "KCD006=fs01.contoso.com",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary = c.out("summary.md");
    let risks = summary.find("## Risks").unwrap();
    assert!(risks < summary.find("## Plan").unwrap());
    assert!(
        summary.contains("| KCD006 | high, accepted with --accept-risk | fs01.contoso.com | 2 |"),
        "{summary}"
    );
    assert!(summary.contains("| Risks accepted (--accept-risk) | KCD006=fs01.contoso.com |"));
    let plan: serde_json::Value = serde_json::from_str(&c.out("plan.json")).unwrap();
    assert_eq!(plan["risks"][0]["accepted"], true);
    assert_eq!(plan["totals"]["accepted"], 1);
    assert_eq!(
        plan["protocol_transition"]["set"][0]["sam_account_name"],
        "FS01$"
    );
    // An unknown rule is a usage error; an acceptance that matches
    // nothing is said.
    let r = c.check(&["--accept-risk", "KCD999"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("'KCD999' is not a rule ID"),
        "{}",
        r.stderr
    );
    let r = c.check(&["--accept-risk", "KCD001"]);
    assert_eq!(r.code, 0);
    assert!(r
        .stderr
        .contains("note: --accept-risk KCD001 matched no finding of this plan"));
}

/// The summary tells newly granted protocol transition from held.
#[test]
fn protocol_transition_gained_and_held() {
    let c = case(
        "principal,service,target,protocol,principal_type\n\
         fs01.contoso.com,cifs,old1.contoso.com,any,computer\n\
         svc-web,http,old1.contoso.com,any,user\n",
    );
    let r = c.render(&[
        "--current",
        "export.ldif",
        "--domain",
        "contoso.com",
        "--accept-risk",
        "KCD007",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary = c.out("summary.md");
    assert!(
        summary.contains("newly granted to FS01$;\nalready held by svc-web."),
        "{summary}"
    );
    let plan: serde_json::Value = serde_json::from_str(&c.out("plan.json")).unwrap();
    assert_eq!(
        plan["protocol_transition"]["gained"][0]["principal"],
        "fs01.contoso.com"
    );
    assert_eq!(
        plan["protocol_transition"]["held"][0]["principal"],
        "svc-web"
    );
    // KCD006 only for the account that gains it.
    let kcd006: Vec<&str> = (plan["risks"].as_array().unwrap().iter())
        .filter(|r| r["rule"] == "KCD006")
        .map(|r| r["principal"].as_str().unwrap())
        .collect();
    assert_eq!(kcd006, ["fs01.contoso.com"]);
}

/// unconstrained=off clears the flag: a guarded userAccountControl change
/// in the LDIF and its exact undo in rollback.ldif, a switch in apply.ps1;
/// KCD001 is then gone.
#[test]
fn unconstrained_off_turns_the_flag_off_everywhere() {
    let c = case(
        "principal,service,target,action,unconstrained\n\
         app7.contoso.com,cifs,fs01.contoso.com,add,off\n",
    );
    let r = c.render(&["--current", "export.ldif"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("KCD001"), "{}", r.stderr);
    let ldif = c.out("delegation.ldif");
    assert!(
        ldif.contains("delete: userAccountControl\nuserAccountControl: 528384\n-\nadd: userAccountControl\nuserAccountControl: 4096\n-\n"),
        "{ldif}"
    );
    let back = c.out("rollback.ldif");
    assert!(
        back.contains("delete: userAccountControl\nuserAccountControl: 4096\n-\nadd: userAccountControl\nuserAccountControl: 528384\n-\n"),
        "{back}"
    );
    assert!(c.out("apply.ps1").contains(" -UnconstrainedOff\n"));
    // Without an export, the LDIF says the flag is for apply.ps1.
    let c = case("principal,service,target,unconstrained\napp7.contoso.com,,,off\n");
    let r = c.render(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(c
        .out("delegation.ldif")
        .contains("#   APP7$: unconstrained delegation off (-TrustedForDelegation $false)\n"));
    // Turning it on is refused.
    let c = case("principal,service,target,unconstrained\napp7.contoso.com,cifs,fs01,on\n");
    let r = c.check(&[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with(
            "input.csv:2: column 'unconstrained': 'on' is not a setting kcdplan writes"
        ),
        "{}",
        r.stderr
    );
}
