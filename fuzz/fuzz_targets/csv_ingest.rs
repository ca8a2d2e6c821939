//! Any bytes as a CSV: reading (decoding included), validation, planning and rendering every
//! artifact must never panic; a plan that renders yields LDIF whose lines
//! are 7-bit ASCII and PowerShell whose data stays in literals.
#![no_main]

use std::sync::OnceLock;

use kcdplan::config::{Options, SpnForms};
use kcdplan::render::context::{artifacts, Context};
use kcdplan::render::{Templates, ARTIFACTS};
use libfuzzer_sys::fuzz_target;

fn templates() -> &'static Templates {
    static T: OnceLock<Templates> = OnceLock::new();
    T.get_or_init(|| Templates::load(None).expect("shipped templates load"))
}

fuzz_target!(|data: &[u8]| {
    let options = Options::new(Some("contoso.com"), None, SpnForms::Both, false).unwrap();
    let Ok(planned) = kcdplan::commands::plan_reader("fuzz.csv", data, options, None, None) else {
        return;
    };
    let ctx = Context::new(&planned.source, &planned.options, &planned.plan, None)
        .value(artifacts(&[]));
    for name in ARTIFACTS {
        let out = templates()
            .render_string(name, &ctx)
            .expect("a valid plan always renders");
        if name.ends_with(".ldif") {
            for line in out.lines().filter(|l| !l.starts_with('#')) {
                assert!(line.bytes().all(|b| (0x20..0x7f).contains(&b)), "{line:?}");
                assert!(line.len() <= 76);
            }
        }
    }
});
