//! The binary end to end: the README's main command, exit codes, all-or-
//! nothing output, determinism, standard input, check, templates.

mod common;

use common::{artifacts, fixture, run_in, sorted_artifacts, Case};

#[test]
fn readme_main_command_writes_six_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture("hyperv-lab.csv");
    let r = run_in(
        dir.path(),
        &["render", f.to_str().unwrap(), "--out", "change"],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Both hosts are set to protocol transition: a high risk, a warning.
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stderr);
    assert!(lines.iter().all(|l| l.contains(": warning: KCD006 high: ")));
    assert!(r
        .stdout
        .starts_with("wrote 6 files for 2 principal(s) to change\n"));
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("change"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, sorted_artifacts());
    // Nothing else left beside the output folder.
    let siblings: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(siblings.len(), 1);
}

#[test]
fn same_input_same_bytes() {
    let csv = std::fs::read_to_string(fixture("hyperv-lab.csv")).unwrap();
    let a = Case::new(&csv);
    let b = Case::new(&csv);
    assert_eq!(a.render(&[]).code, 0);
    assert_eq!(b.render(&[]).code, 0);
    for name in artifacts() {
        assert_eq!(a.out_bytes(name), b.out_bytes(name), "{name} differs");
    }
}

#[test]
fn summary_lists_the_sha256_of_each_other_artifact_and_the_input() {
    use sha2::{Digest, Sha256};
    let csv = std::fs::read(fixture("hyperv-lab.csv")).unwrap();
    let c = Case::bytes(&csv);
    assert_eq!(c.render(&[]).code, 0);
    let summary = c.out("summary.md");
    let hex = |b: &[u8]| format!("{:x}", Sha256::digest(b));
    assert!(summary.contains(&format!("| Input SHA-256 | {} |", hex(&csv))));
    for name in artifacts().filter(|n| *n != "summary.md") {
        let line = format!("| {name} | {} |", hex(&c.out_bytes(name)));
        assert!(summary.contains(&line), "missing {line}");
    }
}

/// The summary renders alongside the other files; wherever its template
/// reads `artifacts`, even first, it gets all of them, with their SHA-256.
/// Other templates see an empty list.
#[test]
fn artifacts_reach_the_summary_wherever_it_reads_them() {
    use sha2::{Digest, Sha256};
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    std::fs::create_dir(c.path().join("tpl")).unwrap();
    let list = "{% for a in artifacts %}{{ a.name }} {{ a.sha256 }}\n{% endfor %}";
    std::fs::write(c.path().join("tpl/summary.md"), format!("{list}end\n")).unwrap();
    std::fs::write(
        c.path().join("tpl/plan.json"),
        format!("{{{{ artifacts | length }}}} {list}\n"),
    )
    .unwrap();
    let r = c.render(&["--templates", "tpl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let hex = |b: &[u8]| format!("{:x}", Sha256::digest(b));
    let expected: String = artifacts()
        .filter(|n| *n != "summary.md")
        .map(|n| format!("{n} {}\n", hex(&c.out_bytes(n))))
        .collect();
    assert_eq!(c.out("summary.md"), format!("{expected}end\n"));
    // (trim_blocks takes the line feed after the closing tag.)
    assert_eq!(c.out("plan.json"), "0 ");
}

/// A file that fails while the summary waits for the others' SHA-256: the
/// failing file is reported, nothing is written, nothing hangs.
#[test]
fn a_failing_file_releases_the_waiting_summary() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    std::fs::create_dir(c.path().join("tpl")).unwrap();
    std::fs::write(c.path().join("tpl/apply.ps1"), "{{ 1 / 0 }}\n").unwrap();
    std::fs::write(
        c.path().join("tpl/summary.md"),
        "{% for a in artifacts %}{{ a.name }}{% endfor %}\n",
    )
    .unwrap();
    let r = c.render(&["--templates", "tpl"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: template 'apply.ps1': "),
        "{}",
        r.stderr
    );
    let mut l = c.listing();
    l.retain(|p| !p.starts_with("tpl"));
    assert_eq!(l, ["input.csv"]);
}

#[test]
fn set_kcd_import_plans_the_same_lab() {
    let dir = tempfile::tempdir().unwrap();
    let lab = run_in(
        dir.path(),
        &[
            "check",
            fixture("hyperv-lab.csv").to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    let import = run_in(
        dir.path(),
        &[
            "check",
            fixture("set-kcd-import.csv").to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(lab.code, 0, "{}", lab.stderr);
    assert_eq!(import.code, 0, "{}", import.stderr);
    let a: serde_json::Value = serde_json::from_str(&lab.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_str(&import.stdout).unwrap();
    for (pa, pb) in a["principals"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["principals"].as_array().unwrap())
    {
        assert_eq!(pa["dn"], pb["dn"]);
        let set = |v: &serde_json::Value| {
            let mut s: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_lowercase())
                .collect();
            s.sort();
            s
        };
        assert_eq!(set(&pa["add"]), set(&pb["add"]));
    }
    assert_eq!(a["principals"].as_array().unwrap().len(), 2);
    // The import has no protocol column, so the migration warning shows.
    assert!(
        import.stderr.contains("without protocol=any"),
        "{}",
        import.stderr
    );
}

#[test]
fn refuses_non_empty_output_without_force_and_leaves_it_alone() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    std::fs::create_dir(c.path().join("out")).unwrap();
    std::fs::write(c.path().join("out/keep.txt"), "mine").unwrap();
    let r = c.render(&[]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: output folder 'out' is not empty; use --force to replace it\n"
    );
    assert_eq!(c.out("keep.txt"), "mine");
    assert_eq!(c.listing(), ["input.csv", "out", "out/keep.txt"]);
}

#[test]
fn force_replaces_the_folder_only_when_complete() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    std::fs::create_dir(c.path().join("out")).unwrap();
    std::fs::write(c.path().join("out/old.txt"), "old").unwrap();
    let r = c.render(&["--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut l = c.listing();
    l.retain(|p| p != "input.csv");
    assert_eq!(
        l,
        [
            "out",
            "out/apply.ps1",
            "out/delegation.ldif",
            "out/plan.json",
            "out/report.html",
            "out/rollback.ps1",
            "out/summary.md"
        ]
    );
}

#[test]
fn bad_input_with_force_keeps_the_old_folder() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,\n");
    std::fs::create_dir(c.path().join("out")).unwrap();
    std::fs::write(c.path().join("out/old.txt"), "old").unwrap();
    let r = c.render(&["--force"]);
    assert_eq!(r.code, 1);
    assert_eq!(c.listing(), ["input.csv", "out", "out/old.txt"]);
}

#[test]
fn template_error_writes_nothing() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    std::fs::create_dir(c.path().join("tpl")).unwrap();
    std::fs::write(c.path().join("tpl/summary.md"), "{{ no_such_variable }}\n").unwrap();
    let r = c.render(&["--templates", "tpl"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: template 'summary.md': undefined value: `no_such_variable` is undefined (in summary.md:1)"),
        "{}",
        r.stderr
    );
    let mut l = c.listing();
    l.retain(|p| !p.starts_with("tpl"));
    assert_eq!(l, ["input.csv"]);
}

#[test]
fn unknown_template_name_is_an_error() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    std::fs::create_dir(c.path().join("tpl")).unwrap();
    std::fs::write(c.path().join("tpl/apply.ps1.bak"), "x").unwrap();
    let r = c.render(&["--templates", "tpl"]);
    assert_eq!(r.code, 1);
    let shown = std::path::Path::new("tpl").join("apply.ps1.bak");
    assert_eq!(
        r.stderr,
        format!("error: template '{}': unknown template name; known names: delegation.ldif, rollback.ldif, apply.ps1, rollback.ps1, plan.json, summary.md, report.html, export.ps1\n", shown.display())
    );
    assert!(!c.path().join("out").exists());
}

#[test]
fn templates_export_then_override() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    let r = c.run(&["templates", "export", "tpl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in artifacts() {
        assert!(c.path().join("tpl").join(name).is_file());
    }
    // Exporting again refuses to overwrite.
    let again = c.run(&["templates", "export", "tpl"]);
    assert_eq!(again.code, 2);
    // A customised template is used, and the summary says so.
    let ldif = std::fs::read_to_string(c.path().join("tpl/delegation.ldif")).unwrap();
    std::fs::write(
        c.path().join("tpl/delegation.ldif"),
        format!("# Change ticket CHG-1234\n{ldif}"),
    )
    .unwrap();
    let r = c.render(&["--templates", "tpl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(c
        .out("delegation.ldif")
        .starts_with("# Change ticket CHG-1234\n"));
    assert!(c
        .out("summary.md")
        .contains("| Templates overridden | delegation.ldif |"));
    let list = c.run(&["templates", "list"]);
    assert_eq!(
        list.stdout,
        "delegation.ldif\nrollback.ldif\napply.ps1\nrollback.ps1\nplan.json\nsummary.md\nreport.html\nexport.ps1\n"
    );
}

#[test]
fn stdin_is_read_with_dash() {
    let dir = tempfile::tempdir().unwrap();
    let csv = std::fs::read(fixture("hyperv-lab.csv")).unwrap();
    let r = run_in(dir.path(), &["render", "-", "--out", "o"], Some(&csv));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary = std::fs::read_to_string(dir.path().join("o/summary.md")).unwrap();
    assert!(
        summary.contains("| Input file | \\<stdin\\> |"),
        "{summary}"
    );
}

#[test]
fn check_prints_the_plan_and_writes_nothing() {
    let c = Case::new(
        "principal,service,target,action,protocol\nvmhost1,hyperv,vmhost2,add,any\nvmhost1,cifs,old,remove,\n",
    );
    let r = c.check(&["--domain", "contoso.com"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "input.csv: 1 principal(s); 4 value(s) to add, 2 to remove, 0 in replacement sets; 1 risk(s) (0 accepted), 0 warning(s)

risks, highest severity first:
  KCD006 high: vmhost1 (line 2): set to use any authentication protocol (plan with --current to tell whether it already has it)

vmhost1 (computer, sAMAccountName VMHOST1$)
  dn: CN=vmhost1,CN=Computers,DC=contoso,DC=com (derived: check it)
  protocol: any (use any authentication protocol)
  - cifs/old.contoso.com
  - cifs/old
  + cifs/vmhost2.contoso.com
  + cifs/vmhost2
  + Microsoft Virtual System Migration Service/vmhost2.contoso.com
  + Microsoft Virtual System Migration Service/vmhost2
"
    );
    assert_eq!(c.listing(), ["input.csv"]);
}

#[test]
fn check_json_is_the_plan_document() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,MSSQLSvc,sql1:1433\n");
    let r = c.check(&["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert_eq!(
        v["principals"][0]["add"],
        serde_json::json!(["MSSQLSvc/sql1.contoso.com:1433", "MSSQLSvc/sql1:1433"])
    );
}

#[test]
fn warnings_are_printed_and_deny_warnings_makes_them_fatal() {
    let csv = "principal,service,target\nvmhost1.contoso.com,cfis,fhost1\n";
    let c = Case::new(csv);
    let r = c.render(&[]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stderr,
        "input.csv:2: warning: KCD104 medium: principal 'vmhost1.contoso.com': service 'cfis' looks like a misspelling of 'cifs'\n"
    );
    assert!(c
        .out("summary.md")
        .contains("service 'cfis' looks like a misspelling of 'cifs'"));
    let d = Case::new(csv);
    let r = d.render(&["--deny-warnings"]);
    assert_eq!(r.code, 1);
    assert!(r
        .stderr
        .ends_with("error: 1 warning and --deny-warnings is set; nothing was written\n"));
    assert_eq!(d.listing(), ["input.csv"]);
}

#[test]
fn usage_errors_exit_2() {
    let c = Case::new("principal,service,target\n");
    assert_eq!(c.run(&["render", "input.csv"]).code, 2);
    assert_eq!(c.run(&["frobnicate"]).code, 2);
    let r = c.check(&["--domain", "not a domain"]);
    assert_eq!(r.code, 2);
    assert!(r
        .stderr
        .starts_with("error: --domain: 'not a domain' is not a valid host name"));
}

#[test]
fn help_teaches_with_examples() {
    let c = Case::new("");
    let r = c.run(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r
        .stdout
        .contains("kcdplan render fixtures/hyperv-lab.csv --out change-1234"));
    assert!(r.stdout.contains("Exit codes: 0 success"));
    let r = c.run(&["render", "--help"]);
    assert!(r.stdout.contains("--spn-forms <FORMS>"));
    assert!(r
        .stdout
        .contains("Writes delegation.ldif, apply.ps1, rollback.ps1"));
}

#[test]
fn ps1_has_bom_and_ldif_has_none() {
    let c = Case::bytes(&std::fs::read(fixture("hyperv-lab.csv")).unwrap());
    assert_eq!(c.render(&[]).code, 0);
    assert!(c.out_bytes("apply.ps1").starts_with(b"\xEF\xBB\xBF"));
    assert!(c.out_bytes("rollback.ps1").starts_with(b"\xEF\xBB\xBF"));
    let ldif = c.out_bytes("delegation.ldif");
    assert!(ldif.starts_with(b"# "));
    assert!(!ldif.contains(&b'\r'));
    let text = String::from_utf8(ldif).unwrap();
    assert!(!text.contains("version:"));
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.len() <= 76, "line longer than 76: {line}");
    }
}

/// Standard output that cannot be written (a full disk) is an error that
/// says so, whatever the format.
#[cfg(target_os = "linux")]
#[test]
fn check_output_to_a_full_disk_names_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("in.csv"),
        "principal,service,target\nvmhost1,cifs,fs1\n",
    )
    .unwrap();
    for format in ["text", "json"] {
        let out = std::process::Command::new(common::bin())
            .args([
                "check",
                "in.csv",
                "--domain",
                "contoso.com",
                "--format",
                format,
            ])
            .current_dir(dir.path())
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "error: cannot write '<stdout>': No space left on device (os error 28)\n",
            "{format}"
        );
        assert_eq!(out.status.code(), Some(1), "{format}");
    }
}

/// A reader that stops early (`kcdplan check x.csv | head`) ends the
/// listing, or the JSON plan, quietly: the plan was checked, the exit code
/// says so.
#[test]
fn check_output_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("principal,service,target\n");
    for i in 0..5000 {
        csv.push_str(&format!("vmhost{},cifs,fs{i}\n", i % 50));
    }
    std::fs::write(dir.path().join("big.csv"), csv).unwrap();
    for (format, starts) in [("text", &b"big.csv: 50 principal(s)"[..]), ("json", b"{")] {
        read_head_then_close(
            dir.path(),
            &[
                "check",
                "big.csv",
                "--domain",
                "contoso.com",
                "--format",
                format,
            ],
            starts,
        );
    }
}

/// Runs kcdplan, reads the first bytes of its output (they must start
/// with `starts`), closes the pipe, and expects a quiet exit 0.
fn read_head_then_close(dir: &std::path::Path, args: &[&str], starts: &[u8]) {
    use std::io::Read;
    let mut child = std::process::Command::new(common::bin())
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = vec![0u8; starts.len()];
    stdout.read_exact(&mut head).unwrap();
    assert_eq!(head, starts, "{args:?}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "{args:?}: the output is far larger than a pipe's buffer, yet nothing is said"
    );
    assert_eq!(out.status.code(), Some(0), "{args:?}");
}

/// `audit` into a reader that stops early ends as quietly as `check`,
/// in every format.
#[test]
fn audit_output_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut ldif = String::new();
    for i in 0..3000 {
        ldif.push_str(&format!(
            "dn: CN=APP{i},CN=Computers,DC=contoso,DC=com\nsAMAccountName: APP{i}$\nuserAccountControl: 528384\n\n"
        ));
    }
    std::fs::write(dir.path().join("big.ldif"), ldif).unwrap();
    for (format, starts) in [
        ("text", &b"big.ldif: 3000 finding(s)"[..]),
        ("markdown", b"# Delegation audit of big.ldif"),
        ("json", b"{"),
    ] {
        read_head_then_close(
            dir.path(),
            &["audit", "big.ldif", "--format", format],
            starts,
        );
    }
}

/// A principal's domain is its own (a computer written as an FQDN), else
/// --domain, else its target's; a short target takes --domain, else the
/// principal's domain.
#[test]
fn domains_come_from_the_principal_then_the_option_then_its_dn() {
    let rows = "principal,service,target,principal_type,dn\n\
                web1.fabrikam.com,http,sql1,computer,\n\
                web2,http,sql1.fabrikam.com,computer,\n\
                svc-web,http,sql2.fabrikam.com,user,\n";
    let in_emea =
        "svc-app,http,sql2.fabrikam.com,user,\"CN=App,OU=Svc,DC=Emea,DC=Contoso,DC=com\"\n";
    let dns_and_values = |r: common::Run| -> Vec<String> {
        assert_eq!(r.code, 0, "{}", r.stderr);
        (r.stdout.lines())
            .filter(|l| l.starts_with("  dn: ") || l.starts_with("  + "))
            .map(str::to_string)
            .collect()
    };
    // A DN outside the principal's domain is refused.
    let r = Case::new(&format!("{rows}{in_emea}")).check(&["--domain", "contoso.com"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "input.csv:5: column 'dn': 'CN=App,OU=Svc,DC=Emea,DC=Contoso,DC=com' is in domain 'emea.contoso.com', but the principal 'svc-app' is in 'contoso.com'; the DN must name the account in its own domain\n\
         error: 1 problem in the input; nothing was written\n"
    );
    let c = Case::new(rows);
    assert_eq!(
        dns_and_values(c.check(&["--domain", "contoso.com"])),
        [
            "  dn: CN=svc-web,CN=Users,DC=contoso,DC=com (derived: check it)",
            "  + http/sql2.fabrikam.com",
            "  + http/sql2",
            "  dn: CN=web1,CN=Computers,DC=fabrikam,DC=com (derived: check it)",
            "  + http/sql1.contoso.com",
            "  + http/sql1",
            "  dn: CN=web2,CN=Computers,DC=contoso,DC=com (derived: check it)",
            "  + http/sql1.fabrikam.com",
            "  + http/sql1",
        ]
    );
    // Without --domain, never the target's domain: a short computer name
    // and a user need one; a DN's DC= components give one.
    let r = c.check(&[]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "input.csv:3: column 'principal': 'web2' is a short name and its domain is unknown: write its FQDN, give --domain, or a dn column; the target's domain is not assumed\n\
         input.csv:4: column 'principal': the domain of the account 'svc-web' is unknown: give --domain or a dn column; the target's domain is not assumed, as an account of that name may exist in several domains\n\
         error: 2 problems in the input; nothing was written\n"
    );
    let c = Case::new(&format!(
        "principal,service,target,principal_type,dn\n{in_emea}"
    ));
    let r = c.check(&["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["principals"][0]["domain"], "emea.contoso.com");
}

/// Values compare as AD compares them: case beyond ASCII and full-width
/// forms make one value; kana type and non-spacing marks, which kcdplan
/// keeps apart, are a warning.
#[test]
fn values_compare_as_ad_does() {
    let c = Case::new(
        "principal,service,target\n\
         vmhost1.contoso.com,cifs,\u{FF26}\u{FF53}\u{FF11}.contoso.com\n\
         vmhost1.contoso.com,CIFS,fs1.CONTOSO.com\n\
         vmhost1.contoso.com,cifs,m\u{FC}ller-pc.contoso.com\n\
         vmhost1.contoso.com,cifs,muller-pc.contoso.com\n",
    );
    let r = c.check(&["--spn-forms", "fqdn"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let values: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("  + ")).collect();
    assert_eq!(
        values,
        [
            "  + cifs/\u{FF26}\u{FF53}\u{FF11}.contoso.com",
            "  + cifs/m\u{FC}ller-pc.contoso.com",
            "  + cifs/muller-pc.contoso.com",
        ]
    );
    assert_eq!(
        r.stderr,
        "input.csv:2: warning: KCD107 low: principal 'vmhost1.contoso.com': 'cifs/m\u{FC}ller-pc.contoso.com' and 'cifs/muller-pc.contoso.com' differ only in kana type or non-spacing marks, which AD ignores: to the directory they are one value\n\
         input.csv:2: warning: KCD011 low: principal 'vmhost1.contoso.com': given only the fully qualified SPN form of its targets (--spn-forms)\n"
    );
}

/// A user's template that would let a value out of its place is refused
/// when loaded, naming the file and the line; nothing is written.
#[test]
fn user_templates_cannot_let_a_value_out() {
    let c = Case::new("principal,service,target\nvmhost1.contoso.com,cifs,fhost1\n");
    std::fs::create_dir(c.path().join("tpl")).unwrap();
    for (name, text, detail) in [
        ("apply.ps1", "<#\n {{ input.name }} #>\n", "line 2: a value inside a comment is not escaped for that place; only '|comment' may write into a comment"),
        ("apply.ps1", "Write-Host \"{{ input.name|comment }}\"\n", "line 1: 'comment' writes text for a comment, but this value is inside a string"),
        ("summary.md", "<span title=\"{{ input.name }}\">x</span>\n", "line 1: a value inside an HTML tag is not escaped for that place; only '|comment' may write into a comment"),
        ("plan.json", "{% autoescape false %}{{ input.name }}{% endautoescape %}\n", "line 1: 'autoescape' would change the escaping, which the file type decides"),
        ("delegation.ldif", "dn{{ input.name|safe }}\n", "line 1: the filter 'safe' writes text the engine does not escape; every value is escaped for its place without it"),
    ] {
        std::fs::write(c.path().join("tpl").join(name), text).unwrap();
        let r = c.render(&["--templates", "tpl"]);
        let path = std::path::Path::new("tpl").join(name);
        assert_eq!(
            (r.code, r.stderr.as_str()),
            (1, format!("error: template '{}': {detail}\n", path.display()).as_str()),
            "{name}: {text}"
        );
        assert!(!c.path().join("out").exists());
        std::fs::remove_file(c.path().join("tpl").join(name)).unwrap();
    }
}
