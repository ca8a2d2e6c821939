//! The shape of `src/`: every module belongs to one stage of the two
//! pipelines (docs/architecture.md), and a module uses only modules of
//! earlier stages, so the dependency arrows run one way. A new module must
//! be given its stage here.

use std::collections::BTreeSet;
use std::path::Path;

/// The stages, earliest first. Modules of one stage do not use each other.
const STAGES: &[&[&str]] = &[
    // What the user typed; how any text is shown.
    &["cli", "sanitize"],
    // Shared by every stage: errors, the domain's words, reading text,
    // threads; naming rules, then distinguished names.
    &["error", "model", "text", "parallel", "rules"],
    &["names"],
    &["dn"],
    // What the command line means.
    &["config"],
    // Reading: the CSV; LDIF, both ways.
    &["csv", "ldif"],
    // Rows checked; the export's accounts; escaping by kind of file.
    &["validate", "directory", "escape"],
    // The plan; the audit.
    &["plan", "audit"],
    // The plan against the export.
    &["current"],
    // Writing: templates, console text, files.
    &["render", "console", "output"],
    &["commands"],
];

fn stage(module: &str) -> Option<usize> {
    STAGES.iter().position(|s| s.contains(&module))
}

/// The crate's top-level modules each file uses (`crate::x`, and each name
/// in `crate::{x, y::z}`).
fn used(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        match rest.strip_prefix('{') {
            None => {
                out.insert(ident(rest));
            }
            Some(group) => {
                let mut depth = 0;
                let mut start = true;
                for (j, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => start = true,
                        c if c.is_whitespace() => {}
                        _ if start && depth == 0 => {
                            out.insert(ident(&group[j..]));
                            start = false;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn modules_use_only_earlier_stages() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut wrong = Vec::new();
    for path in all {
        let rel = path.strip_prefix(&src).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = stage(&module) else {
            wrong.push(format!("{}: module '{module}' has no stage", rel.display()));
            continue;
        };
        for dep in used(&std::fs::read_to_string(&path).unwrap()) {
            if dep == module || dep == "run" {
                continue;
            }
            match stage(&dep) {
                Some(s) if s < own => {}
                _ => wrong.push(format!("{}: {module} uses {dep}", rel.display())),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn uses_are_found_in_paths_and_groups() {
    let text = "use crate::a::b;\nuse crate::{c, d::{e, f}, g::h};\nlet x = crate::i::j();";
    let got: Vec<String> = used(text).into_iter().collect();
    assert_eq!(got, ["a", "c", "d", "g", "i"]);
}
