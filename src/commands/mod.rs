//! The commands, one file each: what each reads, which stages it runs and
//! what it writes. [`crate::run`] picks one. The front of the pipeline,
//! shared by `render` and `check`, is here: CSV -> rows -> plan, and with
//! `--current`, the plan against the export.

pub mod audit;
pub mod check;
pub mod export_script;
pub mod render;
pub mod templates;

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use crate::cli::PlanArgs;
use crate::config::{Acceptance, Options};
use crate::csv::header::Field;
use crate::current::Columns;
use crate::error::{self, Error, Location, Problem, Problems, Result};
use crate::model::{ExportInfo, FileInfo};
use crate::plan::{risks, Plan, Planner};
use crate::validate::Checked;
use crate::{console, current, validate};

/// A CSV read and planned.
pub struct Planned {
    /// The CSV, by the name it was given.
    pub source: FileInfo,
    pub options: Options,
    pub plan: Arc<Plan>,
    /// The export planned against (`--current`).
    pub current: Option<ExportInfo>,
    /// `--accept-risk` options that matched no finding.
    pub unmatched: Vec<Acceptance>,
}

/// Reads, validates and plans the CSV the arguments name.
pub fn plan_csv(args: &PlanArgs) -> Result<Planned> {
    let options = Options::from_args(args)?;
    let (name, bytes) = open(&args.csv)?;
    plan_reader(
        &name,
        bytes,
        options,
        args.delimiter,
        args.current.as_deref(),
    )
}

/// Opens `path` (standard input for `-`): its display name and its bytes,
/// not yet read.
pub fn open(path: &Path) -> Result<(String, Box<dyn Read + Send>)> {
    if path.as_os_str() == "-" {
        return Ok(("<stdin>".to_string(), Box::new(std::io::stdin())));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    Ok((path.display().to_string(), Box::new(file)))
}

/// Plans the CSV read from `bytes` (tests and fuzzing use it too). Rows
/// are streamed: read, checked and folded into the plan one at a time; the
/// text is never held whole.
pub fn plan_reader(
    name: &str,
    bytes: impl Read + Send,
    options: Options,
    delimiter: Option<u8>,
    current: Option<&Path>,
) -> Result<Planned> {
    let mut problems = Problems::default();
    let mut planner: Option<Planner> = None;
    let sha256 = crate::csv::read_rows(
        name,
        bytes,
        delimiter,
        &mut problems,
        |header, raw, problems| match validate::row(name, header, &raw, &options) {
            Ok(Checked::Constrained(row)) => planner
                .get_or_insert_with(|| Planner::new(name, &options, header))
                .add(row, problems),
            Ok(Checked::Resource(row)) => planner
                .get_or_insert_with(|| Planner::new(name, &options, header))
                .add_resource(row, problems),
            Err(p) => problems.extend(p),
        },
    )?;
    let spelled = |field: Field| {
        (planner.as_ref()).map_or_else(|| field.name().to_string(), |p| p.column(field).to_string())
    };
    let columns = Columns {
        principal: spelled(Field::Principal),
        target: spelled(Field::Target),
        principal_sid: spelled(Field::PrincipalSid),
    };
    let plan = planner.map(|p| p.finish(&mut problems));
    problems.check()?;
    let Some(mut plan) = plan else {
        return Err(Error::input(Problem::new(
            Location::file(name),
            "no rows after the header: nothing to plan",
        )));
    };
    let current = match current {
        None => {
            risks::assess(&mut plan, &options, None);
            None
        }
        Some(path) => Some(current::plan_against(
            name, &columns, &options, &mut plan, path,
        )?),
    };
    let unmatched = risks::settle(&mut plan, &options, name, &columns.principal)?;
    Ok(Planned {
        source: FileInfo {
            name: name.to_string(),
            sha256,
        },
        options,
        plan: Arc::new(plan),
        current,
        unmatched,
    })
}

/// Prints the plan's warnings to `err`; fails if they are denied.
fn report_warnings(planned: &Planned, err: &mut dyn Write) -> Result<()> {
    for w in &planned.plan.accepted {
        let _ = writeln!(err, "{}", console::accepted_line(&planned.source.name, w));
    }
    for a in &planned.unmatched {
        let _ = writeln!(
            err,
            "note: --accept-risk {a} matched no finding of this plan"
        );
    }
    let warnings = &planned.plan.warnings;
    for w in warnings.iter().take(error::MAX_REPORTED) {
        let _ = writeln!(err, "{}", console::warning_line(&planned.source.name, w));
    }
    if warnings.len() > error::MAX_REPORTED {
        let _ = writeln!(
            err,
            "... and {} more warnings not shown (plan.json and summary.md list them all)",
            warnings.len() - error::MAX_REPORTED
        );
    }
    if planned.options.deny_warnings && !warnings.is_empty() {
        return Err(Error::DeniedWarnings(warnings.len()));
    }
    Ok(())
}
