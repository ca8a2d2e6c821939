//! The kcdplan binary: parse arguments, run, print the error, exit.

use std::process::ExitCode;

use clap::Parser;

/// Plans allocate many small strings; mimalloc is several times faster at
/// that than the system allocator on Linux (see the README's Performance).
#[cfg(unix)]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = kcdplan::cli::Cli::parse();
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    match kcdplan::run(cli, &mut out, &mut err) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write;
            let _ = writeln!(err, "{e}");
            ExitCode::from(e.exit_code())
        }
    }
}
