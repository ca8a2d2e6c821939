//! apply.ps1 and rollback.ps1 through an independent PowerShell parser
//! (tree-sitter-pwsh): no syntax error, exactly the expected commands, and
//! the literal strings in each principal's section equal the plan's values.
//! The parser does not know that U+2018..U+201B are quotes, so every
//! literal is also decoded here with all five quote characters in mind.

mod common;

use common::{fixture, run_in, strs};
use kcdplan::escape::powershell::decode_literal;
use tree_sitter::{Node, Parser, Tree};

fn parse(src: &str) -> Tree {
    let mut p = Parser::new();
    p.set_language(&tree_sitter_pwsh::LANGUAGE.into()).unwrap();
    p.parse(src, None).unwrap()
}

/// Parses a script that must hold no syntax error (`what` says which).
fn parse_clean(src: &str, what: &str) -> Tree {
    let tree = parse(src);
    assert!(!tree.root_node().has_error(), "{what}");
    tree
}

fn walk<'a>(n: Node<'a>, f: &mut dyn FnMut(Node<'a>)) {
    f(n);
    let mut c = n.walk();
    for child in n.children(&mut c) {
        walk(child, f);
    }
}

/// A command as parsed: its name and its single-quoted literals, decoded.
#[derive(Debug, PartialEq)]
struct Cmd {
    name: String,
    literals: Vec<String>,
}

fn commands(src: &str, tree: &Tree) -> Vec<Cmd> {
    let mut out = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "command" {
            let name = n
                .child_by_field_name("command_name")
                .map(|c| c.utf8_text(src.as_bytes()).unwrap().to_string())
                .unwrap_or_default();
            let mut literals = Vec::new();
            walk(n, &mut |m| {
                if m.kind() == "string_literal" {
                    let text = m.utf8_text(src.as_bytes()).unwrap();
                    if text.starts_with('"') || text.starts_with('@') {
                        return;
                    }
                    literals.push(
                        decode_literal(text)
                            .unwrap_or_else(|| panic!("not a well-formed literal: {text}")),
                    );
                }
            });
            out.push(Cmd { name, literals });
        }
    });
    out
}

/// The text of the script with every single-quoted literal removed.
fn outside_literals(src: &str, tree: &Tree) -> String {
    let mut ranges = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "string_literal" {
            ranges.push(n.byte_range());
        }
    });
    let mut out = String::new();
    let mut at = 0;
    for r in ranges {
        if r.start >= at {
            out.push_str(&src[at..r.start]);
            at = r.end;
        }
    }
    out.push_str(&src[at..]);
    out
}

struct Rendered {
    apply: String,
    rollback: String,
    plan: serde_json::Value,
}

fn render(fixture_name: &str) -> Rendered {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(fixture_name);
    let mut args = vec!["render", f.to_str().unwrap(), "--out", "o"];
    let options = common::fixture_args(fixture_name);
    args.extend(options.iter().map(String::as_str));
    let r = run_in(dir.path(), &args, None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let read = |n: &str| {
        let b = std::fs::read(dir.path().join("o").join(n)).unwrap();
        assert!(b.starts_with(b"\xEF\xBB\xBF"), "{n} has no BOM");
        String::from_utf8(b[3..].to_vec()).unwrap()
    };
    Rendered {
        apply: read("apply.ps1"),
        rollback: read("rollback.ps1"),
        plan: serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("o/plan.json")).unwrap(),
        )
        .unwrap(),
    }
}

/// Commands of the fixed part of apply.ps1 (helper functions and set-up),
/// in document order, before the first principal.
const APPLY_PRELUDE: &[&str] = &[
    "Join-Path",
    "Get-Date",
    "New-Object",
    "New-Object",
    "New-Object",
    "Get-ADDomainController",
    "Get-KcdAdParams",
    "Get-ADComputer",
    "Get-ADUser",
    "Get-ADServiceAccount",
    "Get-ADObject",
    "Get-KcdDnDomain",
    "Write-Warning",
    "Get-KcdAdParams",
    "Get-ADComputer",
    "Get-ADUser",
    "Get-ADServiceAccount",
    "Get-KcdRbcd",
    "New-Object",
    "New-Object",
    "New-Object",
    "Get-KcdAllowedSids",
    "New-Object",
    "New-Object",
    "Get-KcdSddl",
    "Get-KcdSddl",
    "Set-ADObject",
    "Get-KcdAllowedSids",
    "Get-KcdValues",
    "Select-KcdMissing",
    "Select-KcdMissing",
    "Test-KcdProtocolTransition",
    "Test-KcdUnconstrained",
    "Get-KcdValues",
    "Select-KcdMissing",
    "Select-KcdMissing",
    "Set-ADObject",
    "Test-KcdProtocolTransition",
    "Set-ADAccountControl",
    "Test-KcdUnconstrained",
    "Set-ADAccountControl",
];
/// After the plan and the lookups: what changes, the backup, the changes,
/// the read-back.
const APPLY_REST: &[&str] = &[
    "Resolve-KcdSid",
    "Resolve-KcdSid",
    "Get-KcdAfter",
    "Get-KcdValues",
    "Select-KcdMissing",
    "Select-KcdMissing",
    "Test-KcdProtocolTransition",
    "Test-KcdUnconstrained",
    "Get-KcdRbcdAfter",
    "Get-KcdSddl",
    "Get-KcdRbcd",
    "Get-KcdSddl",
    "Write-Host",
    "Write-Host",
    "Test-Path",
    "Get-KcdValues",
    "Test-KcdProtocolTransition",
    "Test-KcdUnconstrained",
    "Get-KcdRbcdBase64",
    "Get-KcdRbcd",
    "Get-KcdAllowedSids",
    "Get-Date",
    "ConvertTo-Json",
    "New-Object",
    "Write-Host",
    "Set-KcdAccount",
    "Set-KcdResource",
    "Write-Host",
    "Write-Host",
    "Write-Host",
    "Write-Host",
    "Write-Host",
    "New-Object",
    "Get-ADObject",
    "Get-KcdValues",
    "Select-KcdMissing",
    "Select-KcdMissing",
    "Test-KcdProtocolTransition",
    "Test-KcdUnconstrained",
    "Get-ADObject",
    "Get-KcdAllowedSids",
    "Get-KcdRbcd",
    "Sort-Object",
    "Get-KcdAllowedSids",
    "Sort-Object",
    "Write-Host",
    "Write-Host",
    "Write-Host",
];

fn check_apply(r: &Rendered) {
    let tree = parse_clean(&r.apply, "apply.ps1 has a syntax error");
    let cmds = commands(&r.apply, &tree);
    let principals = r.plan["principals"].as_array().unwrap();

    let mut expected: Vec<(String, Option<Vec<String>>)> = Vec::new();
    let fixed = |v: &mut Vec<(String, Option<Vec<String>>)>, names: &[&str]| {
        v.extend(names.iter().map(|n| (n.to_string(), None)))
    };
    fixed(&mut expected, APPLY_PRELUDE);
    // The plan as data, one call per account.
    for p in principals {
        let mut l = vec![p["dn"].as_str().unwrap().to_string()];
        if p["mode"] == "replace" {
            l.extend(strs(&p["replace"]));
        } else {
            l.extend(strs(&p["add"]));
            l.extend(strs(&p["remove"]));
        }
        expected.push(("Register-KcdPlan".into(), Some(l)));
    }
    // Resource-based delegation as data: each principal by name, domain,
    // class and, where the plan knows it, SID: all literals.
    let resources = r.plan["resources"].as_array().unwrap();
    let spec = |a: &serde_json::Value| -> Vec<String> {
        let mut l: Vec<String> = ["sam_account_name", "domain", "type"]
            .iter()
            .map(|k| a[*k].as_str().unwrap().to_string())
            .collect();
        l.extend(a["sid"].as_str().map(str::to_string));
        l
    };
    for res in resources {
        let mut l = vec![res["dn"].as_str().unwrap().to_string()];
        for list in ["add", "replace", "remove"] {
            l.extend(res[list].as_array().unwrap().iter().flat_map(spec));
        }
        expected.push(("Register-KcdResource".into(), Some(l)));
    }
    for p in principals {
        let dn = p["dn"].as_str().unwrap().to_string();
        // Each account is looked up in its own domain, and must have the
        // planned name.
        let sam: String = p["sam_account_name"].as_str().unwrap().into();
        let domain: String = p["domain"].as_str().unwrap().into();
        let lits = if p["dn_source"] == "derived" {
            vec![dn.clone(), sam.clone(), domain, sam, dn.clone()]
        } else {
            vec![dn.clone(), dn.clone(), domain, sam]
        };
        expected.push(("Resolve-KcdAccount".into(), Some(lits)));
    }
    for res in resources {
        let dn = res["dn"].as_str().unwrap().to_string();
        let sam: String = res["sam_account_name"].as_str().unwrap().into();
        let domain: String = res["domain"].as_str().unwrap().into();
        let lits = if res["dn_source"] == "derived" {
            vec![dn.clone(), sam.clone(), domain, sam, dn.clone()]
        } else {
            vec![dn.clone(), dn.clone(), domain, sam]
        };
        expected.push(("Resolve-KcdAccount".into(), Some(lits)));
    }
    fixed(&mut expected, APPLY_REST);

    let names: Vec<&str> = cmds.iter().map(|c| c.name.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, want, "commands in apply.ps1");
    for (c, (_, lits)) in cmds.iter().zip(&expected) {
        if let Some(lits) = lits {
            assert_eq!(&c.literals, lits, "literals of {}", c.name);
        }
    }
    check_lookups_come_first(&r.apply, &tree);
    assert_eq!(assigned(&r.apply, &tree, "$Domains"), plan_domains(&r.plan));
    // Data appears only inside literals: everything else is plain ASCII.
    let rest = outside_literals(&r.apply, &tree);
    assert!(rest.is_ascii(), "non-ASCII outside literals");
    // The protocol setting is the boolean the plan says: the line that
    // closes the account's plan.
    for p in principals {
        let dn = kcdplan::escape::powershell::literal(p["dn"].as_str().unwrap());
        let call = r
            .apply
            .find(&format!("Register-KcdPlan -Key {dn} "))
            .unwrap();
        let closing = (r.apply[call..].lines().skip(1))
            .find(|l| l.starts_with(')') && !l.starts_with(") -Remove @("))
            .unwrap();
        let want = match p["protocol"].as_str() {
            Some("any") => ") -Protocol $true",
            Some(_) => ") -Protocol $false",
            None => ")",
        };
        assert_eq!(closing, want, "{dn}");
    }
    // Two Set-ADObject in the whole script, one in Set-KcdAccount (each
    // account's values change in one LDAP modify) and one in
    // Set-KcdResource (each resource's descriptor is written in one).
    assert_eq!(
        in_functions(&r.apply, &tree, "Set-ADObject"),
        ["Set-KcdResource", "Set-KcdAccount"],
        "Set-ADObject calls in apply.ps1"
    );
    // The plan's identity is the script's, and goes into the backup.
    assert_eq!(
        assigned(&r.apply, &tree, "$PlanId"),
        [r.plan["plan_id"].as_str().unwrap()]
    );
    assert!(r.apply.contains("        PlanId      = $PlanId\n"));
}

/// The function each call of `command` stands in, in document order
/// ("" at the top level).
fn in_functions(src: &str, tree: &Tree, command: &str) -> Vec<String> {
    let mut functions = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "function_statement" {
            let text = &src[n.byte_range()];
            let name: String = (text.trim_start_matches("function").trim_start().chars())
                .take_while(|c| c.is_alphanumeric() || *c == '-')
                .collect();
            functions.push((n.byte_range(), name));
        }
    });
    let mut out = Vec::new();
    walk(tree.root_node(), &mut |n| {
        let name = n
            .child_by_field_name("command_name")
            .map(|c| c.utf8_text(src.as_bytes()).unwrap());
        if n.kind() == "command" && name == Some(command) {
            let f = (functions.iter())
                .filter(|(r, _)| r.contains(&n.start_byte()))
                .map(|(_, f)| f.clone())
                .next_back()
                .unwrap_or_default();
            out.push(f);
        }
    });
    out
}

/// The lookups change nothing, and the script stops on a missing or
/// mismatched account before its first change: the checks of every
/// account (`$Missing`, `$Stops`) come, in the script's own flow, before
/// the backup and every change.
fn check_lookups_come_first(src: &str, tree: &Tree) {
    let mut functions = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "function_statement" {
            functions.push(n.byte_range());
        }
    });
    let resolve = (functions.iter())
        .find(|r| src[(*r).clone()].starts_with("function Resolve-KcdAccount"))
        .expect("Resolve-KcdAccount")
        .clone();
    let top_level = |at: usize| !functions.iter().any(|r| r.contains(&at));
    let mut changes = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() != "command" {
            return;
        }
        let name = n
            .child_by_field_name("command_name")
            .map(|c| c.utf8_text(src.as_bytes()).unwrap())
            .unwrap_or_default();
        let changes_something = ["Set-", "Save-", "Update-", "Remove-", "Add-", "New-AD"]
            .iter()
            .any(|p| name.starts_with(p));
        assert!(
            !(changes_something && resolve.contains(&n.start_byte())),
            "the lookup runs {name}"
        );
        if changes_something && top_level(n.start_byte()) {
            changes.push(n.start_byte());
        }
    });
    let first_change = changes
        .into_iter()
        .min()
        .expect("the script changes something");
    for check in ["if ($Missing.Count -gt 0) {", "if ($Stops.Count -gt 0) {"] {
        let at = src.find(check).unwrap_or_else(|| panic!("no {check}"));
        assert!(top_level(at), "{check} is not in the script's own flow");
        assert!(at < first_change, "{check} comes after a change");
        assert!(src[at..]
            .lines()
            .nth(1)
            .unwrap()
            .trim_start()
            .starts_with("throw "));
    }
}

const ROLLBACK_COMMANDS: &[&str] = &[
    // The backup checked, every account and resource looked up and
    // compared with the state apply left, then restored.
    "Test-Path",
    "New-Object",
    "ConvertFrom-Json",
    "Get-Content",
    "Where-Object",
    "Get-KcdList",
    "Get-KcdList",
    "Get-KcdFlag",
    "Get-KcdList",
    "Get-KcdFlag",
    "Get-KcdFlag",
    "Get-KcdFlag",
    "New-Object",
    "New-Object",
    "Get-KcdAdParams",
    "Get-ADObject",
    "Get-KcdValues",
    "Select-KcdMissing",
    "Select-KcdMissing",
    "Test-KcdProtocolTransition",
    "Test-KcdUnconstrained",
    "Get-KcdAdParams",
    "Get-ADObject",
    "Get-KcdAllowedSids",
    "Sort-Object",
    "Sort-Object",
    "Get-KcdAdParams",
    "Get-KcdValues",
    "Select-KcdMissing",
    "Select-KcdMissing",
    "Set-ADObject",
    "Test-KcdProtocolTransition",
    "Set-ADAccountControl",
    "Test-KcdUnconstrained",
    "Set-ADAccountControl",
    "Get-KcdAdParams",
    "Set-ADObject",
    "Write-Host",
    "Write-Host",
    "Write-Host",
    "Write-Host",
];

/// The literals assigned to `variable` at the top of a script.
fn assigned(src: &str, tree: &Tree, variable: &str) -> Vec<String> {
    let mut values = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "assignment_expression"
            && n.utf8_text(src.as_bytes()).unwrap().starts_with(variable)
        {
            walk(n, &mut |m| {
                if m.kind() == "string_literal" {
                    values.push(decode_literal(m.utf8_text(src.as_bytes()).unwrap()).unwrap());
                }
            });
        }
    });
    values
}

/// The plan's domains, sorted, each once.
/// The domains apply.ps1 looks accounts up in: the principals', the
/// resources', and those of the principals a resource allows whose SID
/// the plan does not give.
fn plan_domains(plan: &serde_json::Value) -> Vec<String> {
    let mut d: Vec<String> = (plan["principals"].as_array().unwrap().iter())
        .chain(plan["resources"].as_array().unwrap())
        .map(|p| p["domain"].as_str().unwrap().to_string())
        .collect();
    for r in plan["resources"].as_array().unwrap() {
        for list in ["add", "remove", "replace"] {
            for a in r[list].as_array().unwrap() {
                if a["sid"].is_null() {
                    d.push(a["domain"].as_str().unwrap().to_string());
                }
            }
        }
    }
    d.sort();
    d.dedup();
    d
}

fn check_rollback(r: &Rendered) {
    let tree = parse_clean(&r.rollback, "rollback.ps1 has a syntax error");
    let cmds = commands(&r.rollback, &tree);
    let names: Vec<&str> = cmds.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ROLLBACK_COMMANDS);
    // The planned keys and domains are the one place plan data appears.
    assert_eq!(
        assigned(&r.rollback, &tree, "$Domains"),
        plan_domains(&r.plan)
    );
    let keys = assigned(&r.rollback, &tree, "$PlannedKeys");
    let dns: Vec<String> = r.plan["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["dn"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys, dns);
    let resources: Vec<String> = (r.plan["resources"].as_array().unwrap().iter())
        .map(|p| p["dn"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        assigned(&r.rollback, &tree, "$PlannedResourceKeys"),
        resources
    );
    assert!(outside_literals(&r.rollback, &tree).is_ascii());
}

/// The source of function `name`.
fn function<'a>(src: &'a str, tree: &Tree, name: &str) -> &'a str {
    let mut found = None;
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "function_statement"
            && src[n.byte_range()].starts_with(&format!("function {name}"))
        {
            found = Some(n.byte_range());
        }
    });
    &src[found.unwrap_or_else(|| panic!("no function {name}"))]
}

/// Resource-based delegation in apply.ps1: the principals' SIDs are
/// literals; the descriptor is read, merged by SID and written in one
/// Set-ADObject per resource, after the backup that holds it; rollback.ps1
/// restores the saved bytes.
#[test]
fn rbcd_section_reads_merges_by_sid_and_writes_once_after_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    let d = "S-1-5-21-1-2-3";
    let export = format!(
        "dn: CN=SQL1,CN=Computers,DC=contoso,DC=com\nsAMAccountName: SQL1$\nuserAccountControl: 4096\nobjectSid: {d}-1100\n\
         msDS-AllowedToActOnBehalfOfOtherIdentity: O:BAD:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;{d}-1200)\n\n\
         dn: CN=SQL2,CN=Computers,DC=contoso,DC=com\nsAMAccountName: SQL2$\nuserAccountControl: 4096\nobjectSid: {d}-1101\n\n\
         dn: CN=WEB0,CN=Computers,DC=contoso,DC=com\nsAMAccountName: WEB0$\nuserAccountControl: 4096\nobjectSid: {d}-1200\n\n\
         dn: CN=WEB1,CN=Computers,DC=contoso,DC=com\nsAMAccountName: WEB1$\nuserAccountControl: 4096\nobjectSid: {d}-1201\n"
    );
    std::fs::write(dir.path().join("export.ldif"), export).unwrap();
    std::fs::write(
        dir.path().join("rbcd.csv"),
        "principal,target,delegation,action\n\
         web1.contoso.com,sql1.contoso.com,rbcd,add\n\
         web0.contoso.com,sql1.contoso.com,rbcd,remove\n\
         web1.contoso.com,sql2.contoso.com,rbcd,replace\n",
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &[
            "render",
            "rbcd.csv",
            "--current",
            "export.ldif",
            "--out",
            "o",
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let read = |n: &str| {
        let b = std::fs::read(dir.path().join("o").join(n)).unwrap();
        String::from_utf8(b[3..].to_vec()).unwrap()
    };
    let r = Rendered {
        apply: read("apply.ps1"),
        rollback: read("rollback.ps1"),
        plan: serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("o/plan.json")).unwrap(),
        )
        .unwrap(),
    };
    // The generic checks, with the resources' calls and literals: the
    // SIDs from the export are literals of Register-KcdResource.
    check_apply(&r);
    check_rollback(&r);
    assert!(r.apply.contains(&format!("Sid = '{d}-1201' }}")));
    assert!(r.apply.contains(&format!("Sid = '{d}-1200' }}")));
    let tree = parse_clean(&r.apply, "apply.ps1");
    // Read, merged by SID, in one descriptor object.
    let after = function(&r.apply, &tree, "Get-KcdRbcdAfter");
    for part in [
        "Get-KcdRbcd $ResourceAccounts[$Key]",
        "SetSecurityDescriptorBinaryForm",
        "PurgeAccessRules((New-Object System.Security.Principal.SecurityIdentifier($sid)))",
        "AddAccessRule((New-Object System.DirectoryServices.ActiveDirectoryAccessRule((New-Object System.Security.Principal.SecurityIdentifier($sid)), 'GenericAll', 'Allow')))",
    ] {
        assert!(after.contains(part), "{part}");
    }
    // Written in one call per resource, after the backup.
    let set = function(&r.apply, &tree, "Set-KcdResource");
    assert_eq!(set.matches("Set-ADObject").count(), 1);
    let calls: Vec<String> = in_functions(&r.apply, &tree, "Set-KcdResource");
    assert_eq!(
        calls,
        [""],
        "one call, in the loop over the resources that change"
    );
    let backup = r
        .apply
        .find("[System.IO.File]::WriteAllText($BackupPath")
        .unwrap();
    let write = r
        .apply
        .find("foreach ($key in $ResourcesChanging) { Set-KcdResource -Key $key }")
        .unwrap();
    assert!(backup < write);
    assert!(r
        .apply
        .contains("            Descriptor        = (Get-KcdRbcdBase64 (Get-KcdRbcd $a))\n"));
    // rollback.ps1 writes back the saved bytes, or clears.
    let rb = parse_clean(&r.rollback, "rollback.ps1");
    assert_eq!(in_functions(&r.rollback, &rb, "Set-ADObject"), ["", ""]);
    assert!(r
        .rollback
        .contains("$change = @{ Replace = @{ $RbcdAttribute = [byte[]]$s.Bytes } }"));
    assert!(r
        .rollback
        .contains("$bytes = [Convert]::FromBase64String($saved.Value)"));
}

#[test]
fn hyperv_lab_scripts_parse_to_the_plan() {
    let r = render("hyperv-lab.csv");
    check_apply(&r);
    check_rollback(&r);
}

#[test]
fn rbcd_fixture_scripts_parse_to_the_plan() {
    let r = render("rbcd-cross-domain.csv");
    check_apply(&r);
    check_rollback(&r);
}

#[test]
fn web_sql_scripts_parse_to_the_plan() {
    let r = render("web-sql.csv");
    check_apply(&r);
    check_rollback(&r);
}

#[test]
fn hostile_values_stay_literals() {
    let r = render("hostile.csv");
    check_apply(&r);
    check_rollback(&r);
    // The injection attempt is one literal value, not a command.
    let tree = parse(&r.apply);
    let cmds = commands(&r.apply, &tree);
    assert!(!cmds.iter().any(|c| c.name == "Remove-ADObject"));
    let all: Vec<&String> = cmds.iter().flat_map(|c| &c.literals).collect();
    assert!(all
        .iter()
        .any(|l| *l == "x'; Remove-ADObject -Identity 'y/web1.contoso.com"));
    assert!(all
        .iter()
        .any(|l| *l == "CN=O'Brien\\, Svc,OU=O'Brien \u{2018}Team\u{2019} \u{201B}x\u{201A},DC=contoso,DC=com"));
    // Comments carry no raw data: `#>` and `$(` from the CSV never appear.
    assert!(!r.apply.contains("$(Remove-ADObject"));
    assert!(!r.apply.contains("#> $("));
}

#[test]
fn parser_sees_an_unescaped_breakout_as_two_commands() {
    // Guards the test itself: were escaping missing, this is what the
    // parser would report, and check_apply's command list would differ.
    let src = "Update-KcdDelegation -Key 'x'; Remove-ADObject -Identity 'y'\n";
    let tree = parse(src);
    assert!(!tree.root_node().has_error());
    let names: Vec<String> = commands(src, &tree).into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["Update-KcdDelegation", "Remove-ADObject"]);
    // And a lone curly quote, which the parser accepts, fails decoding.
    assert_eq!(decode_literal("'O\u{2019}Brien'"), None);
}

#[test]
fn export_script_parses_and_only_reads() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(dir.path(), &["export-script", "--out", "export.ps1"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bytes = std::fs::read(dir.path().join("export.ps1")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let src = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let tree = parse_clean(&src, "export.ps1 has a syntax error");
    let names: Vec<String> = commands(&src, &tree).into_iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "New-Object",
            "New-Object",
            "Get-ADObject",
            "ForEach-Object",
            "Format-KcdLdifLine",
            "Format-KcdLdifLine",
            "Format-KcdLdifLine",
            "Format-KcdLdifLine",
            "Write-Host",
        ]
    );
    // Read-only: no cmdlet that changes the directory.
    for n in &names {
        assert!(
            !n.starts_with("Set-")
                && !n.starts_with("Remove-")
                && !n.starts_with("New-AD")
                && !n.starts_with("Add-"),
            "{n}"
        );
    }
    // The safe-string test is anchored at the very end (\z): .NET's `$`
    // also matches before a final line feed, which would pass a value
    // ending in one as plain text and split its record.
    assert!(src.contains(r"-cmatch '\A[\x21-\x39\x3B\x3D-\x7E][\x20-\x7E]*\z'"));
    assert!(!src.contains("*$'"));
    // It reads every attribute kcdplan reads (the risk rules need
    // primaryGroupID and adminCount), and so does the README's ldifde
    // command.
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let ldifde = (readme.lines())
        .find(|l| l.trim_start().starts_with("ldifde -f export.ldf"))
        .expect("the README's export command");
    for attr in kcdplan::ldif::reader::SPELLED {
        assert!(
            src.contains(&format!("'{attr}'")),
            "export.ps1 lacks {attr}"
        );
        assert!(
            ldifde.contains(&format!(",{attr}")),
            "the README's ldifde command lacks {attr}"
        );
    }
    // The same text on standard output.
    let r = run_in(dir.path(), &["export-script"], None);
    assert_eq!(r.stdout.as_bytes(), &bytes[..]);
}
