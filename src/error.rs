//! Errors a user can act on: every problem is a location in the input plus
//! what is wrong there. One place renders all messages and picks exit codes.

use std::fmt;
use std::path::PathBuf;

use crate::sanitize::{echo, show};

/// How many input problems one run reports before it stops listing them.
pub const MAX_REPORTED: usize = 100;

/// Where a problem is: a file, a line and, where it applies, a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<String>,
}

impl Location {
    pub fn file(file: &str) -> Self {
        Location {
            file: file.to_string(),
            line: None,
            column: None,
        }
    }

    pub fn line(file: &str, line: u64) -> Self {
        Location {
            file: file.to_string(),
            line: Some(line),
            column: None,
        }
    }

    pub fn cell(file: &str, line: u64, column: &str) -> Self {
        Location {
            file: file.to_string(),
            line: Some(line),
            column: Some(column.to_string()),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", show(&self.file))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": column '{}'", echo(column))?;
        }
        Ok(())
    }
}

/// One problem in the input, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub location: Location,
    pub message: String,
}

impl Problem {
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Problem {
            location,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Problems found while streaming through the input: the first
/// [`MAX_REPORTED`] are kept, all are counted.
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<Problem>,
    total: usize,
}

impl Problems {
    pub fn push(&mut self, p: Problem) {
        self.total += 1;
        if self.list.len() < MAX_REPORTED {
            self.list.push(p);
        }
    }

    pub fn extend(&mut self, ps: impl IntoIterator<Item = Problem>) {
        for p in ps {
            self.push(p);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// `Ok(())` when nothing was found, otherwise the input error with the
    /// kept problems in line order.
    pub fn check(self) -> Result<(), Error> {
        if self.total == 0 {
            return Ok(());
        }
        let mut list = self.list;
        list.sort_by_key(|p| p.location.line);
        Err(Error::Input {
            problems: list,
            total: self.total,
        })
    }
}

/// Everything that can stop a run.
#[derive(Debug)]
pub enum Error {
    /// The input is wrong: the first problems found, in line order, and
    /// how many there are in all.
    Input {
        problems: Vec<Problem>,
        total: usize,
    },
    /// Warnings were found and `--deny-warnings` makes them fatal.
    DeniedWarnings(usize),
    /// `audit --fail-on`: findings at or above the severity exist.
    FailOn {
        count: usize,
        severity: &'static str,
    },
    /// The command line asks for something that cannot be done.
    Usage(String),
    /// A template failed to load or render.
    Template { name: String, detail: String },
    /// Reading or writing a file failed.
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn input(problem: Problem) -> Self {
        Error::Input {
            problems: vec![problem],
            total: 1,
        }
    }

    /// Exit code: 1 for anything about the input or the environment,
    /// 2 for a command line that cannot work (clap uses 2 as well).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input { problems, total } => {
                for p in problems.iter().take(MAX_REPORTED) {
                    writeln!(f, "{p}")?;
                }
                let shown = problems.len().min(MAX_REPORTED);
                if *total > shown {
                    writeln!(f, "... and {} more problems not shown", total - shown)?;
                }
                let n = *total;
                write!(
                    f,
                    "error: {n} problem{} in the input; nothing was written",
                    if n == 1 { "" } else { "s" }
                )
            }
            Error::DeniedWarnings(n) => write!(
                f,
                "error: {n} warning{} and --deny-warnings is set; nothing was written",
                if *n == 1 { "" } else { "s" }
            ),
            Error::FailOn { count, severity } => write!(
                f,
                "error: {count} finding{} of severity {severity} or higher (--fail-on {severity})",
                if *count == 1 { "" } else { "s" }
            ),
            Error::Usage(msg) => write!(f, "error: {msg}"),
            Error::Template { name, detail } => {
                write!(f, "error: template '{}': {}", show(name), detail)
            }
            Error::Io {
                action,
                path,
                source,
            } => write!(
                f,
                "error: cannot {action} '{}': {source}",
                show(&path.display().to_string())
            ),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
