//! Every kind of bad input, end to end, with the exact message a user sees.
//! Each case also checks that nothing was written.

mod common;

use common::Test;

/// Renders `csv` with `args`: exit code 1, exactly `stderr`, nothing on
/// standard output, and nothing written.
fn fails(csv: &str, args: &[&str], stderr: impl AsRef<str>) {
    let ran = Test::new()
        .file("input.csv", csv)
        .args(&["render", "input.csv", "--out", "out"])
        .args(args)
        .code(1)
        .stderr(stderr.as_ref())
        .run();
    assert_eq!(ran.listing(), ["input.csv"], "something was written");
}

fn one(msg: &str) -> String {
    format!("{msg}\nerror: 1 problem in the input; nothing was written\n")
}

#[test]
fn missing_required_column() {
    fails(
        "principal,service\nvmhost1,cifs\n",
        &[],
        one("input.csv:1: missing required column 'target'"),
    );
}

/// A CSV without a service column: each row of constrained delegation
/// says so (a row of resource-based delegation needs none).
#[test]
fn no_service_column() {
    fails(
        "principal,target\nvmhost1.contoso.com,fs1.contoso.com\n",
        &[],
        one("input.csv:2: column 'service': the CSV has no service column, which a row of constrained delegation needs (a row of resource-based delegation says delegation=resource)"),
    );
}

#[test]
fn unknown_column_with_suggestion() {
    fails(
        "principal,servce,target\na,b,c\n",
        &[],
        one("input.csv:1: column 'servce': unknown column; did you mean 'service'?"),
    );
}

#[test]
fn unknown_column_without_close_match_lists_known_columns() {
    fails("principal,service,target,colour\na,b,c,d\n", &[], one("input.csv:1: column 'colour': unknown column; known columns: principal, service, target, action, protocol, principal_type, dn, comment, unconstrained, delegation, target_type, principal_sid"));
}

#[test]
fn duplicate_column() {
    fails("principal,service,target,TrustedComputer\na,b,c,d\n", &[], one("input.csv:1: column 'TrustedComputer': duplicate column: 'TrustedComputer' means the same column 'principal' as 'principal'"));
}

#[test]
fn empty_required_fields() {
    fails(
        "principal,service,target\n,cifs,fhost1.contoso.com\n",
        &[],
        one("input.csv:2: column 'principal': the principal is empty"),
    );
    fails(
        "principal,service,target\nvmhost1.contoso.com,,fhost1\n",
        &[],
        one("input.csv:2: column 'service': the service is empty"),
    );
    fails(
        "principal,service,target\nvmhost1.contoso.com,cifs,\n",
        &[],
        one("input.csv:2: column 'target': the target is empty"),
    );
}

#[test]
fn invalid_host_name() {
    fails("principal,service,target\nvmhost1.contoso.com,cifs,vmhost2..contoso.com\n", &[], one("input.csv:2: column 'target': 'vmhost2..contoso.com' is not a valid host name: empty label"));
    fails("principal,service,target\nvm_host1.contoso.com,cifs,fhost1\n", &[], one("input.csv:2: column 'principal': 'vm_host1.contoso.com' is not a valid host name: character '_' is not allowed"));
    let long = "a".repeat(64);
    fails(&format!("principal,service,target\nvmhost1.contoso.com,cifs,{long}.contoso.com\n"), &[], one(&format!("input.csv:2: column 'target': '{long}.contoso.com' is not a valid host name: label '{long}' is longer than 63 characters")));
}

#[test]
fn service_with_slash() {
    fails(
        "principal,service,target\nvmhost1.contoso.com,cifs/x,fhost1\n",
        &[],
        one("input.csv:2: column 'service': 'cifs/x': a service class cannot contain '/'"),
    );
}

#[test]
fn bad_port() {
    fails("principal,service,target\nvmhost1.contoso.com,MSSQLSvc,sql1:99999\n", &[], one("input.csv:2: column 'target': 'sql1:99999': port '99999' is not a number from 1 to 65535"));
}

#[test]
fn unknown_action_protocol_and_type() {
    fails("principal,service,target,action\nvmhost1.contoso.com,cifs,fhost1,append\n", &[], one("input.csv:2: column 'action': 'append' is not an action; expected add, remove or replace"));
    fails("principal,service,target,protocol\nvmhost1.contoso.com,cifs,fhost1,ntlm\n", &[], one("input.csv:2: column 'protocol': 'ntlm' is not a protocol; expected kerberos (Kerberos only) or any (use any authentication protocol)"));
    fails("principal,service,target,principal_type\nvmhost1.contoso.com,cifs,fhost1,group\n", &[], one("input.csv:2: column 'principal_type': 'group' is not a principal type; expected computer, user or gmsa"));
}

#[test]
fn malformed_dn() {
    fails(
        "principal,service,target,dn\nvmhost1.contoso.com,cifs,fhost1,vmhost1\n",
        &[],
        one("input.csv:2: column 'dn': 'vmhost1' is not a valid DN: expected '=' after 'vmhost1'"),
    );
    fails(
        "principal,service,target,dn\nvmhost1.contoso.com,cifs,fhost1,\"CN=a,\"\n",
        &[],
        one("input.csv:2: column 'dn': 'CN=a,' is not a valid DN: the DN ends with a separator"),
    );
}

#[test]
fn control_and_invisible_characters_are_shown_escaped() {
    fails("principal,service,target\nvmhost1.contoso.com,ci\tfs,fhost1\n", &[], one("input.csv:2: column 'service': 'ci\\tfs' contains the control or invisible character U+0009"));
    fails("principal,service,target\nvm\u{202E}host.contoso.com,cifs,fhost1\n", &[], one("input.csv:2: column 'principal': 'vm\\u{202E}host.contoso.com' contains the control or invisible character U+202E"));
    fails("principal,service,target\nvmhost1.contoso.com,cifs,fh\0ost1\n", &[], one("input.csv:2: column 'target': 'fh\\u{0000}ost1' contains the control or invisible character U+0000"));
}

#[test]
fn ragged_rows() {
    fails(
        "principal,service,target\nvmhost1.contoso.com,cifs\n",
        &[],
        one("input.csv:2: the row has 2 fields but the header has 3"),
    );
    fails(
        "principal,service,target\nvmhost1.contoso.com,cifs,fhost1,extra\n",
        &[],
        one("input.csv:2: the row has 4 fields but the header has 3"),
    );
}

#[test]
fn value_added_and_removed() {
    fails("principal,service,target,action\nvmhost1.contoso.com,cifs,fhost1,add\nvmhost1.contoso.com,cifs,fhost1,remove\n",
            &["--spn-forms", "fqdn"], one("input.csv:3: column 'action': principal 'vmhost1.contoso.com': 'cifs/fhost1.contoso.com' is removed here and added on line 2"));
}

/// The earlier row is named by its own line, whatever rows of other
/// accounts, or other rows of the same, come between.
#[test]
fn value_added_and_removed_far_apart() {
    let csv = "principal,service,target,action\n\
        vmhost1.contoso.com,cifs,fhost1,add\n\
        vmhost2.contoso.com,cifs,fhost1,remove\n\
        vmhost1.contoso.com,http,web1,add\n\
        \n\
        vmhost1.contoso.com,cifs,fhost2,remove\n\
        vmhost1.contoso.com,HTTP,WEB1,remove\n\
        vmhost1.contoso.com,CIFS,fhost1,remove\n";
    fails(csv, &["--spn-forms", "fqdn"], "input.csv:7: column 'action': principal 'vmhost1.contoso.com': 'http/WEB1.contoso.com' is removed here and added on line 4\n\
         input.csv:8: column 'action': principal 'vmhost1.contoso.com': 'cifs/fhost1.contoso.com' is removed here and added on line 2\n\
         error: 2 problems in the input; nothing was written\n");
}

#[test]
fn replace_mixed_with_add() {
    fails("principal,service,target,action\nvmhost1.contoso.com,cifs,fhost1,replace\nVMHOST1.contoso.com,cifs,fhost2,add\n",
            &[], one("input.csv:3: column 'action': principal 'vmhost1.contoso.com': 'replace' cannot be mixed with add or remove (line 2 has 'replace')"));
}

#[test]
fn conflicting_protocol_and_dn() {
    fails("principal,service,target,protocol\nvmhost1.contoso.com,cifs,fhost1,any\nvmhost1.contoso.com,cifs,fhost2,kerberos\n",
            &[], one("input.csv:3: column 'protocol': principal 'vmhost1.contoso.com': protocol 'kerberos' conflicts with 'any' on line 2"));
    fails("principal,service,target,dn\nvmhost1.contoso.com,cifs,fhost1,\"CN=a,DC=contoso,DC=com\"\nvmhost1.contoso.com,cifs,fhost2,\"CN=b,DC=contoso,DC=com\"\n",
            &[], one("input.csv:3: column 'dn': principal 'vmhost1.contoso.com': dn 'CN=b,DC=contoso,DC=com' conflicts with 'CN=a,DC=contoso,DC=com' on line 2"));
    // A DN must lie in the principal's own domain.
    fails("principal,service,target,dn\nvmhost1.contoso.com,cifs,fhost1,\"CN=a,DC=x\"\n",
            &[], one("input.csv:2: column 'dn': 'CN=a,DC=x' is in domain 'x', but the principal 'vmhost1.contoso.com' is in 'contoso.com'; the DN must name the account in its own domain"));
}

#[test]
fn short_names_need_a_domain() {
    fails("principal,service,target\nvmhost1,cifs,fhost1\n", &[], one("input.csv:2: column 'principal': 'vmhost1' is a short name and its domain is unknown: write its FQDN, give --domain, or a dn column; the target's domain is not assumed"));
    // A user's domain is never its target's.
    fails("principal,service,target,principal_type\nsvc-sql,MSSQLSvc,sql1.contoso.com,user\n", &[], one("input.csv:2: column 'principal': the domain of the account 'svc-sql' is unknown: give --domain or a dn column; the target's domain is not assumed, as an account of that name may exist in several domains"));
}

/// A SID or a GUID is not an account name: the AD module would look the
/// account up by it.
#[test]
fn sids_and_guids_are_not_account_names() {
    fails("principal,service,target,principal_type\nS-1-5-21-1111111111-2222222222-3333333333-500,http,web1.contoso.com,user\n", &["--domain", "contoso.com"],
        one("input.csv:2: column 'principal': 'S-1-5-21-1111111111-2222222222-3333333333-500' is a SID, which the AD module would look up as a SID; give the account's name (sAMAccountName)"));
    fails("principal,service,target,principal_type\n{0b5e3f2a-1c1d-4e4f-9a9b-0c0d0e0f1a1b},http,web1.contoso.com,gmsa\n", &["--domain", "contoso.com"],
        one("input.csv:2: column 'principal': '{0b5e3f2a-1c1d-4e4f-9a9b-0c0d0e0f1a1b}' is a GUID, which the AD module would look up as an objectGUID; give the account's name (sAMAccountName)"));
}

#[test]
fn empty_files() {
    fails(
        "",
        &[],
        one(
            "input.csv: the file is empty: a header row is required (principal,service,target,...)",
        ),
    );
    fails(
        "principal,service,target\n",
        &[],
        one("input.csv: no rows after the header: nothing to plan"),
    );
}

#[test]
fn every_problem_in_one_run_capped_at_100() {
    let mut csv = String::from("principal,service,target\n");
    for _ in 0..150 {
        csv.push_str("vmhost1.contoso.com,cifs,bad..name\n");
    }
    let mut err: String = (2..=101)
        .map(|l| format!("input.csv:{l}: column 'target': 'bad..name' is not a valid host name: empty label\n"))
        .collect();
    err.push_str("... and 50 more problems not shown\nerror: 150 problems in the input; nothing was written\n");
    fails(&csv, &[], err);
}

#[test]
fn problems_from_several_rows_are_all_reported() {
    fails(
        "principal,service,target,action\nvmhost1.contoso.com,cifs,fhost1,add\nvmhost2.contoso.com,,fhost1,add\nvmhost3.contoso.com,cifs,fhost1,frob\n",
        &[],
        "input.csv:3: column 'service': the service is empty\n\
         input.csv:4: column 'action': 'frob' is not an action; expected add, remove or replace\n\
         error: 2 problems in the input; nothing was written\n",
    );
}

#[test]
fn not_utf8_reports_the_byte_offset() {
    let ran = Test::new()
        .file("input.csv", b"principal,service,target\nvmhost1.contoso.com,cifs,fh\xE9ost1\n")
        .args(&["render", "input.csv", "--out", "out"])
        .code(1)
        .stderr(&one("input.csv:2: byte offset 52: not valid UTF-8 (byte 0xE9); save the file as UTF-8 or UTF-16 with BOM"))
        .run();
    assert_eq!(ran.listing(), ["input.csv"]);
}

/// Two principals with one DN are one account, however the DN is written:
/// attribute types by OID, case beyond ASCII.
#[test]
fn one_dn_written_two_ways_is_one_account() {
    fails("principal,service,target,dn\n\
           pc1.contoso.com,cifs,fs1,\"CN=PC1,CN=Computers,DC=contoso,DC=com\"\n\
           pc2.contoso.com,cifs,fs1,\"2.5.4.3=pc1,cn=computers,DC=Contoso,DC=com\"\n",
        &[],
        one("input.csv:3: column 'principal': 'pc2.contoso.com' and 'pc1.contoso.com' (line 2) have the same DN 'CN=PC1,CN=Computers,DC=contoso,DC=com'; write the account one way"));
    fails("principal,service,target,dn\n\
           a.contoso.com,cifs,fs1,\"CN=M\u{DC}LLER-PC,DC=contoso,DC=com\"\n\
           b.contoso.com,cifs,fs1,\"CN=m\u{FC}ller-pc,DC=contoso,DC=com\"\n",
        &[],
        one("input.csv:3: column 'principal': 'b.contoso.com' and 'a.contoso.com' (line 2) have the same DN 'CN=M\u{DC}LLER-PC,DC=contoso,DC=com'; write the account one way"));
}

/// One account (domain, sAMAccountName) is of one type.
#[test]
fn one_account_of_two_types() {
    fails("principal,service,target,principal_type\n\
           hv01.contoso.com,cifs,fs1,computer\n\
           HV01$,cifs,fs1,gmsa\n",
        &["--domain", "contoso.com"],
        one("input.csv:3: column 'principal_type': principal 'HV01$': type 'gmsa' conflicts with 'computer' on line 2"));
}
