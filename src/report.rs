//! Console text: warnings, the plan as `check` prints it, and the line
//! `render` prints when it is done. Every value is shown escaped.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::plan::{Mode, Plan, Warning};
use crate::render::context::ArtifactInfo;
use crate::sanitize::show;
use crate::Planned;

pub fn warning_line(file: &str, w: &Warning) -> String {
    format!(
        "{}:{}: warning: principal '{}': {}",
        show(file),
        w.line,
        show(&w.principal),
        w.message
    )
}

/// Writes the plan as `check` prints it, streaming (plans can be large).
pub fn check_text(planned: &Planned, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let plan = &planned.plan;
    let mut s = std::io::BufWriter::with_capacity(1 << 16, out);
    // Against an export, count the real change; otherwise the plan's values.
    let (add, rem, rep): (usize, usize, usize) = plan.principals.iter().fold((0, 0, 0), |a, p| {
        if let Some(d) = &p.delta {
            return (a.0 + d.add.len(), a.1 + d.delete.len(), a.2);
        }
        (
            a.0 + p.add.len(),
            a.1 + p.remove.len(),
            a.2 + p.replace.len(),
        )
    });
    if let Some(c) = &planned.current {
        let changed = plan
            .principals
            .iter()
            .filter(|p| p.delta.as_ref().is_some_and(|d| d.changes))
            .count();
        let _ = writeln!(
            s,
            "planned against {} ({} records): {}",
            show(&c.name),
            c.records,
            if changed == 0 {
                "no changes, the directory already matches the plan".to_string()
            } else {
                format!("{changed} account(s) change")
            }
        );
    }
    let _ = writeln!(
        s,
        "{}: {} principal(s); {} value(s) to add, {} to remove, {} in replacement sets; {} warning(s)",
        show(&planned.source.name),
        plan.principals.len(),
        add,
        rem,
        rep,
        plan.warnings.len()
    );
    for p in &plan.principals {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{} ({}, sAMAccountName {})",
            show(&p.principal),
            p.kind.as_str(),
            show(&p.sam_account_name)
        );
        let _ = writeln!(
            s,
            "  dn: {}{}",
            show(&p.dn),
            match p.dn_source {
                crate::plan::DnSource::Derived => " (derived: check it)",
                crate::plan::DnSource::Csv => "",
                crate::plan::DnSource::Export => " (from the export)",
            }
        );
        if let Some(pr) = p.protocol {
            let _ = writeln!(
                s,
                "  protocol: {}",
                match pr {
                    crate::validate::Protocol::Any => "any (use any authentication protocol)",
                    crate::validate::Protocol::Kerberos => "kerberos (Kerberos only)",
                }
            );
        }
        if let (Some(before), Some(delta)) = (&p.before, &p.delta) {
            let _ = writeln!(
                s,
                "  before: {} value(s), protocol {}; after: {} value(s){}",
                before.values.len(),
                before.protocol.as_str(),
                delta.after.len(),
                match delta.uac {
                    Some(u) => format!(", userAccountControl {} -> {}", u.from, u.to),
                    None => String::new(),
                }
            );
            if !delta.changes {
                let _ = writeln!(s, "  no change: the account already matches the plan");
            }
            for v in &delta.delete {
                let _ = writeln!(s, "  - {}", show(v));
            }
            for v in &delta.add {
                let _ = writeln!(s, "  + {}", show(v));
            }
            continue;
        }
        match p.mode {
            Mode::Update => {
                p.remove.for_each(|v| {
                    let _ = writeln!(s, "  - {}", show(v));
                });
                p.add.for_each(|v| {
                    let _ = writeln!(s, "  + {}", show(v));
                });
            }
            Mode::Replace => {
                if p.replace.is_empty() {
                    let _ = writeln!(s, "  = (clear all values)");
                }
                p.replace.for_each(|v| {
                    let _ = writeln!(s, "  = {}", show(v));
                });
            }
        }
    }
    s.flush()
}

pub fn render_done(out: &Path, plan: &Plan, written: &[ArtifactInfo]) -> String {
    let mut s = format!(
        "wrote {} files for {} principal(s) to {}",
        written.len(),
        plan.principals.len(),
        show(&out.display().to_string())
    );
    for a in written {
        let _ = write!(s, "\n  {}  {}", a.sha256, a.name);
    }
    s
}
