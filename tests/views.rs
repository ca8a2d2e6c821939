//! The templates read the plan through lazy views: every principal and
//! warning read through them is exactly what plan.json writes for it (same
//! fields, same order, same values), with and without an export.

use std::path::Path;

use kcdplan::commands::{open, plan_reader};
use kcdplan::config::{Options, SpnForms};
use kcdplan::render::context::{artifacts, Context};

#[test]
fn views_show_what_plan_json_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let export = root.join("hyperv-lab-export.ldif");
    let cases = [
        ("hyperv-lab.csv", None),
        ("hyperv-lab.csv", Some(export.as_path())),
        ("set-kcd-import.csv", None),
        ("hostile.csv", None),
    ];
    let (mut deltas, mut warnings) = (0, 0);
    for (csv, current) in cases {
        let (name, bytes) = open(&root.join(csv)).unwrap();
        let options = Options::new(Some("contoso.com"), None, SpnForms::Both, false).unwrap();
        let planned = plan_reader(&name, bytes, options, None, current).unwrap();
        let plan = &planned.plan;
        deltas += plan.principals.iter().filter(|p| p.delta.is_some()).count();
        warnings += plan.warnings.len();
        let ctx = Context::new(
            &planned.source,
            &planned.options,
            plan,
            planned.current.as_ref(),
        )
        .value(artifacts(&[]));
        let via_views = |name: &str| -> Vec<String> {
            let seq = ctx.get_attr(name).unwrap();
            seq.try_iter()
                .unwrap()
                .map(|item| serde_json::to_string(&item).unwrap())
                .collect()
        };
        let direct: Vec<String> = (plan.principals.iter())
            .map(|p| serde_json::to_string(p).unwrap())
            .collect();
        assert_eq!(via_views("principals"), direct, "{csv}");
        // Findings: the risks and the lints, each as plan.json writes it
        // (with whether it was accepted).
        let mut direct: Vec<String> = (plan.warnings.iter())
            .map(|w| {
                let json = serde_json::to_string(w).unwrap();
                format!("{},\"accepted\":false}}", json.strip_suffix('}').unwrap())
            })
            .collect();
        let mut via = via_views("risks");
        via.extend(via_views("warnings"));
        direct.sort();
        via.sort();
        assert_eq!(via, direct, "{csv}");
    }
    assert!(
        deltas > 0 && warnings > 0,
        "the cases cover deltas and warnings"
    );
}
