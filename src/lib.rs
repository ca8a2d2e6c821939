//! kcdplan: an offline planner for Kerberos constrained delegation in
//! Active Directory. Two pipelines, one module per stage:
//!
//! - the plan: [`csv`] (read, decode, header, records) -> [`validate`]
//!   (checked rows) -> [`plan`] (grouping, SPN values, conflicts, warnings)
//!   -> [`current`] (against the export, with `--current`) -> [`render`]
//!   (templates, escaping by [`escape`]) -> [`output`] (all files or none);
//! - the directory: [`ldif`] (the export read) -> [`directory`] (accounts,
//!   SIDs, security descriptors) -> [`audit`] (findings) -> [`console`].
//!
//! Shared by both: [`model`] (the domain's words), [`names`] and [`dn`]
//! (naming rules), [`text`] (decoding and hashing what is read),
//! [`sanitize`], [`error`], [`parallel`] (every thread). [`cli`] is what
//! the user typed, [`config`] what it means, [`commands`] what each
//! command runs.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod csv;
pub mod current;
pub mod directory;
pub mod dn;
pub mod error;
pub mod escape;
pub mod ldif;
pub mod model;
pub mod names;
pub mod output;
pub mod parallel;
pub mod plan;
pub mod render;
pub mod rules;
pub mod sanitize;
pub mod text;
pub mod validate;

use std::io::Write;

use cli::{Cli, Command, TemplatesCommand};
use error::Result;

/// Runs a parsed command line.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    match &cli.command {
        Command::Render(args) => commands::render::run(args, out, err),
        Command::Check(args) => commands::check::run(args, out, err),
        Command::Audit(args) => commands::audit::run(args, out),
        Command::ExportScript(args) => commands::export_script::run(args, out),
        Command::Templates(TemplatesCommand::List) => commands::templates::list(out),
        Command::Templates(TemplatesCommand::Export { dir, force }) => {
            commands::templates::export(dir, *force, out)
        }
    }
}
