//! The kcdplan binary: parse arguments, run, print the error, exit.

use std::process::ExitCode;

use clap::Parser;

/// The plan's many small allocations are served faster by mimalloc than
/// by the system allocator (docs/performance.md).
#[cfg(all(unix, feature = "mimalloc"))]
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
