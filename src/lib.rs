//! kcdplan: an offline planner for Kerberos constrained delegation in
//! Active Directory.
//!
//! The pipeline, one module per stage:
//! [`input`] (read and decode the CSV, check the header via [`columns`]) ->
//! [`validate`] (checked rows, located errors) -> [`plan`] (grouping, SPN
//! forms, conflicts, warnings) -> [`render`] (templates, escaping by the
//! engine via [`escape`]) -> [`output`] (all files or none).

pub mod audit;
pub mod cli;
pub mod columns;
pub mod config;
pub mod delta;
pub mod directory;
pub mod dn;
pub mod error;
pub mod escape;
pub mod export;
pub mod input;
pub mod names;
pub mod output;
pub mod plan;
pub mod render;
pub mod report;
pub mod sanitize;
pub mod text;
pub mod validate;

use std::io::Write;
use std::path::Path;

use cli::{CheckFormat, Cli, Command, PlanArgs, TemplatesCommand};
use config::Options;
use error::{Error, Result};
use input::Source;
use minijinja::Value;
use plan::Plan;
use render::context::{ArtifactInfo, Context};
use render::{Templates, ARTIFACTS};

/// Input read and planned.
pub struct Planned {
    pub source: Source,
    pub options: Options,
    pub plan: std::sync::Arc<Plan>,
    /// The export planned against (`--current`).
    pub current: Option<export::ExportInfo>,
}

/// Reads, validates and plans: the whole front of the pipeline.
pub fn plan_csv(args: &PlanArgs) -> Result<Planned> {
    let options = Options::new(
        args.domain.as_deref(),
        args.container.as_deref(),
        args.spn_forms,
        args.deny_warnings,
    )?;
    let (name, bytes) = input::open(&args.csv)?;
    plan_reader(
        &name,
        bytes,
        options,
        args.delimiter,
        args.current.as_deref(),
    )
}

/// Plans the CSV read from `bytes` (tests and fuzzing use it too). Rows
/// are streamed: read, checked and folded into the plan one at a time; the
/// text is never held whole.
pub fn plan_reader(
    name: &str,
    bytes: impl std::io::Read + Send,
    options: Options,
    delimiter: Option<u8>,
    current: Option<&Path>,
) -> Result<Planned> {
    let mut problems = error::Problems::default();
    let mut planner: Option<plan::Planner> = None;
    let sha256 = input::read_rows(
        name,
        bytes,
        delimiter,
        &mut problems,
        // On the reader thread: each row checked on its own.
        |header, raw| validate::check_row(name, header, raw, &options),
        // Here: the rows planned together.
        |header, raw, checked, problems| {
            let planner = planner.get_or_insert_with(|| plan::Planner::new(name, &options, header));
            planner.add(checked.row(&raw, &options), problems);
        },
    )?;
    let source = Source {
        name: name.to_string(),
        sha256,
    };
    let column = planner
        .as_ref()
        .map(|p| p.column(columns::Field::Principal).to_string());
    let plan = planner.map(|p| p.finish(&mut problems));
    problems.check()?;
    let Some(mut plan) = plan else {
        return Err(Error::input(error::Problem::new(
            error::Location::file(name),
            "no rows after the header: nothing to plan",
        )));
    };
    let mut info = None;
    if let Some(path) = current {
        // The change set shares the plan's values: spell them out once.
        plan.spell_out();
        let mut wanted = directory::Wanted::default();
        for p in &plan.principals {
            if p.dn_source == plan::DnSource::Csv {
                wanted.dns.insert(p.dn.to_lowercase());
            } else {
                wanted.sams.insert(p.sam_account_name.to_lowercase());
                if let Some(fqdn) = plan::computer_fqdn(p) {
                    wanted.hosts.insert(fqdn);
                }
            }
            let mut target = |v: &str| {
                if let Some(h) = directory::spn_host(v) {
                    let h = names::lowercase(h);
                    if !wanted.targets.contains(h.as_ref()) {
                        wanted.targets.insert(h.into_owned());
                    }
                }
            };
            p.add.for_each(&mut target);
            p.replace.for_each(&mut target);
        }
        let snap = directory::Snapshot::load(path, &wanted)?;
        let column = column.unwrap_or_else(|| "principal".into());
        let mut problems = error::Problems::default();
        delta::apply(name, &column, &mut plan, &snap, &mut problems);
        problems.check()?;
        info = Some(snap.info);
    }
    Ok(Planned {
        source,
        options,
        plan: std::sync::Arc::new(plan),
        current: info,
    })
}

/// Prints warnings to `err`; fails if they are denied.
fn report_warnings(planned: &Planned, err: &mut dyn Write) -> Result<()> {
    let warnings = &planned.plan.warnings;
    for w in warnings.iter().take(error::MAX_REPORTED) {
        let _ = writeln!(err, "{}", report::warning_line(&planned.source.name, w));
    }
    if warnings.len() > error::MAX_REPORTED {
        let _ = writeln!(
            err,
            "... and {} more warnings not shown (plan.json and summary.md list them all)",
            warnings.len() - error::MAX_REPORTED
        );
    }
    if planned.options.deny_warnings && !planned.plan.warnings.is_empty() {
        return Err(Error::DeniedWarnings(planned.plan.warnings.len()));
    }
    Ok(())
}

/// Renders every artifact into `dir` (an empty folder) and returns the
/// written files with their SHA-256, in [`ARTIFACTS`] order. All render at
/// once, one thread each; the summary, which lists the others' SHA-256,
/// waits for them only where its template reads `artifacts`.
pub fn render_into(
    dir: &Path,
    planned: &Planned,
    templates: &Templates,
) -> Result<Vec<ArtifactInfo>> {
    let mut ctx = Context::new(&planned.source, &planned.options, &planned.plan);
    ctx.current = planned.current.clone();
    ctx.overridden_templates = templates.overridden().to_vec();
    let names: Vec<&str> = ARTIFACTS
        .iter()
        .copied()
        .filter(|n| *n != "rollback.ldif" || planned.current.is_some())
        .collect();
    let render_one = |name: &str, ctx: Value| -> Result<ArtifactInfo> {
        let file = output::HashingFile::create(&dir.join(name))?;
        let file = templates.render_to(name, &ctx, file)?;
        Ok(ArtifactInfo {
            name: name.to_string(),
            sha256: file.finish()?,
        })
    };
    let later = std::sync::Arc::new(render::context::Later::default());
    let (others, summary) = std::thread::scope(|scope| {
        let (ctx, render_one) = (&ctx, &render_one);
        let running: Vec<_> = names
            .iter()
            .map(|&name| {
                let value = if name == render::SUMMARY {
                    ctx.value_with(Value::from_dyn_object(later.clone()))
                } else {
                    ctx.value()
                };
                (name, scope.spawn(move || render_one(name, value)))
            })
            .collect();
        let (summary, others): (Vec<_>, Vec<_>) = running
            .into_iter()
            .partition(|(n, _)| *n == render::SUMMARY);
        // Every other file, in ARTIFACTS order (the first failing one is
        // the one reported); a panic is held until the summary is released.
        let others: Vec<std::thread::Result<Result<ArtifactInfo>>> =
            others.into_iter().map(|(_, t)| t.join()).collect();
        let written: Vec<ArtifactInfo> = others
            .iter()
            .filter_map(|r| r.as_ref().ok()?.as_ref().ok().cloned())
            .collect();
        later.fill(if written.len() == others.len() {
            &written
        } else {
            &[]
        });
        let summary: Vec<_> = summary.into_iter().map(|(_, t)| t.join()).collect();
        (others, summary)
    });
    for result in others.into_iter().chain(summary) {
        let result = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        ctx.artifacts.push(result?);
    }
    Ok(ctx.artifacts)
}

/// Runs a parsed command line.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    match cli.command {
        Command::Render(args) => {
            output::check_target(&args.out, args.force)?;
            let templates = Templates::load(args.templates.as_deref())?;
            let mut planned = plan_csv(&args.plan)?;
            report_warnings(&planned, err)?;
            // Every artifact reads every value: spelled once, then shared.
            std::sync::Arc::make_mut(&mut planned.plan).spell_out();
            let mut written = Vec::new();
            output::write_atomically(&args.out, args.force, |dir| {
                written = render_into(dir, &planned, &templates)?;
                Ok(())
            })?;
            let _ = writeln!(
                out,
                "{}",
                report::render_done(&args.out, &planned.plan, &written)
            );
            // The process ends here: freeing a forest-sized plan piece by
            // piece only costs time.
            std::mem::forget(planned);
            Ok(())
        }
        Command::Check(args) => {
            let format = args.format;
            let planned = plan_csv(&args.plan)?;
            report_warnings(&planned, err)?;
            // Standard output, watched: the template engine says only that
            // a write failed, not why.
            let mut out = output::Watched::new(out);
            let written = match format {
                CheckFormat::Text => report::check_text(&planned, &mut out)
                    .map_err(|e| Error::io("write", "<stdout>", e)),
                CheckFormat::Json => {
                    let templates = Templates::load(None)?;
                    let mut ctx = Context::new(&planned.source, &planned.options, &planned.plan);
                    ctx.current = planned.current.clone();
                    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut out);
                    templates
                        .render_to("plan.json", &ctx.value(), &mut w)
                        .and_then(|w| w.flush().map_err(|e| Error::io("write", "<stdout>", e)))
                }
            };
            match (written, out.failed.take()) {
                // A reader that has seen enough (`| head`, or `less` quit)
                // ends the output quietly: the plan is checked.
                (Err(_), Some(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                // Standard output failed, not the template.
                (Err(_), Some(e)) => return Err(Error::io("write", "<stdout>", e)),
                (r, _) => r?,
            }
            // As for render: the process ends, the OS reclaims the plan.
            std::mem::forget(planned);
            Ok(())
        }
        Command::Audit(args) => {
            let a = audit::audit(&args.export)?;
            let text = match args.format {
                cli::AuditFormat::Text => audit::text(&a),
                cli::AuditFormat::Markdown => audit::markdown(&a),
                cli::AuditFormat::Json => {
                    let mut j = serde_json::to_string_pretty(&a).expect("audit serialises");
                    j.push('\n');
                    j
                }
            };
            out.write_all(text.as_bytes())
                .map_err(|e| Error::io("write", "<stdout>", e))?;
            Ok(())
        }
        Command::ExportScript(args) => {
            let templates = Templates::load(None)?;
            let ctx = minijinja::context! { version => env!("CARGO_PKG_VERSION") };
            match &args.out {
                Some(path) => {
                    let file = output::HashingFile::create(path)?;
                    templates.render_to("export.ps1", &ctx, file)?.finish()?;
                    let _ = writeln!(
                        out,
                        "wrote {}; run it with the ActiveDirectory module: .\\export.ps1 -Path export.ldf",
                        path.display()
                    );
                }
                None => {
                    let w = templates.render_to("export.ps1", &ctx, Vec::new())?;
                    out.write_all(&w)
                        .map_err(|e| Error::io("write", "<stdout>", e))?;
                }
            }
            Ok(())
        }
        Command::Templates(TemplatesCommand::List) => {
            for (name, _) in render::SHIPPED {
                let _ = writeln!(out, "{name}");
            }
            Ok(())
        }
        Command::Templates(TemplatesCommand::Export { dir, force }) => {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
            if !force {
                for (name, _) in render::SHIPPED {
                    let p = dir.join(name);
                    if p.exists() {
                        return Err(Error::Usage(format!(
                            "'{}' exists; use --force to overwrite",
                            p.display()
                        )));
                    }
                }
            }
            for (name, text) in render::SHIPPED {
                let p = dir.join(name);
                std::fs::write(&p, text).map_err(|e| Error::io("write", &p, e))?;
            }
            let _ = writeln!(
                out,
                "wrote {} templates to {}; edit them and pass --templates {}",
                render::SHIPPED.len(),
                dir.display(),
                dir.display()
            );
            Ok(())
        }
    }
}
