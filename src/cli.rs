//! The command line as the user types it (clap). Its meaning is checked in
//! `config`; nothing here knows about delegation.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  kcdplan check fixtures/hyperv-lab.csv
  kcdplan render fixtures/hyperv-lab.csv --out change-1234
  kcdplan render hosts.csv --domain contoso.com --out change-1234 --deny-warnings
  kcdplan render hosts.csv --current export.ldf --out change-1234   (only real changes, rollback.ldif)
  kcdplan audit export.ldf
  kcdplan templates export my-templates

Exit codes: 0 success, 1 invalid input or failure (nothing written), 2 usage error.";

/// Plans Kerberos constrained delegation (msDS-AllowedToDelegateTo) offline:
/// reads a CSV of principals, services and targets, and writes the change as
/// LDIF and PowerShell, with rollback, a review summary and a JSON plan.
/// It never connects to a directory.
#[derive(Debug, Parser)]
#[command(name = "kcdplan", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the CSV and write every artifact to a new folder (all or nothing).
    #[command(after_help = "\
Writes delegation.ldif, apply.ps1, rollback.ps1, plan.json, report.html and summary.md
(and rollback.ldif with --current).

Examples:
  kcdplan render fixtures/hyperv-lab.csv --out change-1234
  kcdplan render hosts.csv --domain contoso.com --out change-1234 --deny-warnings
  kcdplan.exe render '.\\Hyper-V hosts.csv' --out 'C:\\Changes\\CHG-1234'   (Windows PowerShell)")]
    Render(RenderArgs),
    /// Validate the CSV and print the plan and its warnings; writes nothing.
    #[command(after_help = "\
Examples:
  kcdplan check fixtures/hyperv-lab.csv
  kcdplan check hosts.csv --domain contoso.com --format json")]
    Check(CheckArgs),
    /// List every delegation in a directory export, riskiest first.
    #[command(after_help = "\
Reports the findings of the risk rules (KCD001 and up, with severity),
highest first, then every delegation: unconstrained (on accounts that are
not domain controllers), constrained with and without protocol transition
(and whether each target host exists in the export), resource-based (every
entry of the descriptor, principals named), and accounts marked sensitive.

Examples:
  kcdplan audit export.ldf
  kcdplan audit export.ldf --format markdown > audit.md
  kcdplan audit export.ldf --format html > audit.html
  kcdplan audit export.ldf --fail-on high   (exit 1 on a high or critical finding)")]
    Audit(AuditArgs),
    /// Write the read-only PowerShell script that produces an export for --current and audit.
    #[command(after_help = "\
Examples:
  kcdplan export-script --out export.ps1
  (on a machine with the ActiveDirectory module:)  .\\export.ps1 -Path .\\export.ldf")]
    ExportScript(ExportScriptArgs),
    /// List the shipped templates or export them as a starting point for --templates.
    #[command(subcommand)]
    Templates(TemplatesCommand),
}

/// `--spn-forms`, as typed (its meaning: `config::SpnForms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpnFormsArg {
    Both,
    Fqdn,
    Short,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Text,
    Markdown,
    Json,
    /// The report page with the delegation graph (self-contained HTML).
    Html,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The LDIF export (ldifde -f, ldapsearch -LLL or ldbsearch).
    #[arg(value_name = "EXPORT")]
    pub export: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    /// Exit with code 1 when a finding of this severity or higher exists
    /// (the audit is printed either way): a gate for a pipeline.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
}

/// `--fail-on`, as typed (its meaning: `rules::Severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Args)]
pub struct ExportScriptArgs {
    /// Where to write the script (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// Options shared by `render` and `check`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The CSV file (header row required; columns: principal, service, target,
    /// action, protocol, principal_type, dn, comment, unconstrained). `-` reads standard input.
    #[arg(value_name = "CSV")]
    pub csv: PathBuf,
    /// DNS domain for short names and derived DNs, e.g. contoso.com.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Container for derived DNs, relative to the domain, e.g. "OU=Hyper-V,OU=Servers".
    /// Default: CN=Computers, CN=Users or CN=Managed Service Accounts by principal type.
    #[arg(long, value_name = "DN")]
    pub container: Option<String>,
    /// Which SPN name forms to write per target: both (service/host.domain and
    /// service/host), fqdn, or short.
    #[arg(long, value_enum, default_value_t = SpnFormsArg::Both, value_name = "FORMS")]
    pub spn_forms: SpnFormsArg,
    /// Field delimiter of the CSV; detected from the header row when not given
    /// (`,`, `;` or tab).
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// Treat warnings as errors: print them and write nothing.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Accept the findings of a risk rule, e.g. KCD006, or only those of
    /// one account, e.g. KCD001=app7$: critical ones are then not errors,
    /// and none counts for --deny-warnings. Repeatable.
    #[arg(long, value_name = "ID[=ACCOUNT]")]
    pub accept_risk: Vec<String>,
    /// A read-only LDIF export of the directory (ldifde -f, ldapsearch -LLL or
    /// ldbsearch; see `kcdplan export-script`). Principals are resolved in it,
    /// only real changes are planned, protocol transition goes into the LDIF
    /// as a guarded change, and rollback.ldif is written.
    #[arg(long, value_name = "EXPORT")]
    pub current: Option<PathBuf>,
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "," | "comma" => Ok(b','),
        ";" | "semicolon" => Ok(b';'),
        "\\t" | "\t" | "tab" => Ok(b'\t'),
        "|" | "pipe" => Ok(b'|'),
        _ => Err(format!(
            "'{s}' is not a supported delimiter (use , ; tab or |)"
        )),
    }
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Output folder; created, and must be empty unless --force is given.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Folder of templates that replace the shipped ones by file name
    /// (see `kcdplan templates export`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Replace a non-empty output folder (only once the new one is complete).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Output format: text for people, json (the plan.json document) for tools.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// List the shipped template names (each is also the output file name).
    List,
    /// Write the shipped templates to DIR as a starting point for --templates.
    Export {
        /// Folder to write to; created if needed. Existing files are not
        /// overwritten without --force.
        dir: PathBuf,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
