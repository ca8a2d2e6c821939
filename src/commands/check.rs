//! `check`: plan the CSV and print the plan (a listing, or plan.json);
//! writes no file.

use std::io::Write;

use super::{plan_csv, report_warnings};
use crate::cli::{CheckArgs, CheckFormat};
use crate::console::{self, Watched};
use crate::error::{Error, Result};
use crate::render::context::{artifacts, Context};
use crate::render::Templates;

pub fn run(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let planned = plan_csv(&args.plan)?;
    report_warnings(&planned, err)?;
    // Standard output, watched: the template engine says only that a
    // write failed, not why.
    let mut out = Watched::new(out);
    let written = match args.format {
        CheckFormat::Text => console::check_text(
            &planned.source,
            planned.current.as_ref(),
            &planned.plan,
            &mut out,
        )
        .map_err(|e| Error::io("write", "<stdout>", e)),
        CheckFormat::Json => {
            let templates = Templates::load(None)?;
            let ctx = Context::new(
                &planned.source,
                &planned.options,
                &planned.plan,
                planned.current.as_ref(),
            );
            let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut out);
            templates
                .render_to("plan.json", &ctx.value(artifacts(&[])), &mut w)
                .and_then(|w| w.flush().map_err(|e| Error::io("write", "<stdout>", e)))
        }
    };
    console::ended(written, out)
}
