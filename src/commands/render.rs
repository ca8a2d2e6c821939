//! `render`: plan the CSV and write every artifact into a new folder, all
//! or nothing.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use super::{plan_csv, report_warnings, Planned};
use crate::cli::RenderArgs;
use crate::console;
use crate::error::Result;
use crate::model::FileInfo;
use crate::output;
use crate::parallel::{self, Gather};
use crate::render::context::{artifacts, artifacts_later, Context};
use crate::render::{Templates, ARTIFACTS, SUMMARY};
use crate::sanitize::show;

pub fn run(args: &RenderArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let inputs: Vec<&Path> = std::iter::once(args.plan.csv.as_path())
        .filter(|p| p.as_os_str() != "-")
        .chain(args.plan.current.as_deref())
        .collect();
    let target = output::check_target(&args.out, args.force, &inputs)?;
    for left in target.leftovers() {
        let _ = writeln!(
            err,
            "note: '{}' is left from an interrupted kcdplan run; remove it with: rm -r '{}'",
            show(&left.display().to_string()),
            show(&left.display().to_string())
        );
    }
    let templates = Templates::load(args.templates.as_deref())?;
    let mut planned = plan_csv(&args.plan)?;
    report_warnings(&planned, err)?;
    // Every artifact reads every value: spelled once, then shared.
    Arc::make_mut(&mut planned.plan).spell_out();
    let mut written = Vec::new();
    output::write_atomically(&target, |dir| {
        written = render_into(dir, &planned, &templates)?;
        Ok(())
    })?;
    let _ = writeln!(
        out,
        "{}",
        console::render_done(&args.out, &planned.plan, &written)
    );
    Ok(())
}

/// Renders every artifact into `dir` (an empty folder) and returns the
/// written files with their SHA-256, in [`ARTIFACTS`] order. All render at
/// once, one thread each; the summary, which lists the others' SHA-256,
/// waits for them only where its template reads `artifacts`.
pub fn render_into(dir: &Path, planned: &Planned, templates: &Templates) -> Result<Vec<FileInfo>> {
    let mut ctx = Context::new(
        &planned.source,
        &planned.options,
        &planned.plan,
        planned.current.as_ref(),
    );
    ctx.overridden_templates = templates.overridden().to_vec();
    let names: Vec<&str> = (ARTIFACTS.iter().copied())
        .filter(|n| *n != "rollback.ldif" || planned.current.is_some())
        .collect();
    let others = names.iter().filter(|n| **n != SUMMARY).count();
    let written = Arc::new(Gather::new(others));
    let render_one = |name: &str| -> Result<FileInfo> {
        let value = if name == SUMMARY {
            ctx.value(artifacts_later(written.clone()))
        } else {
            ctx.value(artifacts(&[]))
        };
        let sha256 = output::write_hashed(&dir.join(name), |w| {
            templates.render_to(name, &value, w).map(drop)
        })?;
        Ok(FileInfo {
            name: name.to_string(),
            sha256,
        })
    };
    let results = parallel::all(&names, |&name| {
        if name == SUMMARY {
            return render_one(name);
        }
        let i = names
            .iter()
            .filter(|n| **n != SUMMARY)
            .position(|n| *n == name);
        let i = i.expect("listed");
        // The summary waits for every other file: it must hear of this
        // one whatever happens to it, a panic included.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render_one(name)));
        written.put(
            i,
            result.as_ref().ok().and_then(|r| r.as_ref().ok().cloned()),
        );
        result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    // The first failure in ARTIFACTS order is the one reported.
    results.into_iter().collect()
}
