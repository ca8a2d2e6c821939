//! Any bytes as a directory export, through the whole export path: the
//! audit in every format (the HTML page too), and plans rendered against
//! it (`--current`): constrained delegation, and resource-based
//! delegation merged into whatever descriptor the export holds.
//! Whatever the export holds, nothing written holds a hidden character
//! raw (a .ps1 file's byte order mark aside), and the audit's JSON parses.
#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use kcdplan::config::{Options, SpnForms};
use kcdplan::render::context::{artifacts, Context};
use kcdplan::render::{Templates, ARTIFACTS};
use kcdplan::sanitize::is_hidden;
use libfuzzer_sys::fuzz_target;

fn templates() -> &'static Templates {
    static T: OnceLock<Templates> = OnceLock::new();
    T.get_or_init(|| Templates::load(None).expect("shipped templates load"))
}

fn clean(what: &str, text: &str) {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if let Some(c) = text.chars().find(|&c| is_hidden(c) && c != '\n') {
        panic!("{what} holds U+{:04X} raw", c as u32);
    }
}

const CSV: &[u8] = b"principal,service,target,protocol\nvmhost1.contoso.com,cifs,fhost1,any\n";
const RBCD: &[u8] = b"principal,target,delegation,action\nweird.contoso.com,fhost1.contoso.com,rbcd,add\nvmhost1.contoso.com,fhost1.contoso.com,rbcd,remove\n";

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(data).unwrap();
    let path = file.path();
    if let Ok(audit) = kcdplan::audit::audit(path) {
        clean("audit text", &kcdplan::console::audit_text(&audit));
        clean("audit markdown", &kcdplan::console::audit_markdown(&audit));
        let json = kcdplan::escape::json::to_string_pretty(&audit).unwrap();
        clean("audit json", &json);
        let _: serde_json::Value = serde_json::from_str(&json).expect("the audit's JSON parses");
        let args = kcdplan::cli::AuditArgs {
            export: path.to_path_buf(),
            format: kcdplan::cli::AuditFormat::Html,
            fail_on: None,
        };
        let mut html = Vec::new();
        kcdplan::commands::audit::run(&args, &mut html).expect("an audit always renders");
        clean("audit html", &String::from_utf8(html).expect("the page is UTF-8"));
    }
    for csv in [CSV, RBCD] {
        let options = Options::new(Some("contoso.com"), None, SpnForms::Both, false).unwrap();
        let Ok(planned) = kcdplan::commands::plan_reader("fuzz.csv", csv, options, None, Some(path))
        else {
            continue;
        };
        let ctx = Context::new(
            &planned.source,
            &planned.options,
            &planned.plan,
            planned.current.as_ref(),
        )
        .value(artifacts(&[]));
        for name in ARTIFACTS {
            let out = templates()
                .render_string(name, &ctx)
                .expect("a valid plan always renders");
            clean(name, &out);
        }
    }
});
