//! Console text: warnings, the plan as `check` prints it, and the line
//! `render` prints when it is done. Every value is shown escaped.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::plan::{Mode, Plan, Spns, Warning};
use crate::render::context::ArtifactInfo;
use crate::sanitize::{is_plain, show};
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
        writeln!(
            s,
            "planned against {} ({} records): {}",
            show(&c.name),
            c.records,
            if changed == 0 {
                "no changes, the directory already matches the plan".to_string()
            } else {
                format!("{changed} account(s) change")
            }
        )?;
    }
    writeln!(
        s,
        "{}: {} principal(s); {} value(s) to add, {} to remove, {} in replacement sets; {} warning(s)",
        show(&planned.source.name),
        plan.principals.len(),
        add,
        rem,
        rep,
        plan.warnings.len()
    )?;
    for p in &plan.principals {
        writeln!(s)?;
        writeln!(
            s,
            "{} ({}, sAMAccountName {})",
            show(&p.principal),
            p.kind.as_str(),
            show(&p.sam_account_name)
        )?;
        writeln!(
            s,
            "  dn: {}{}",
            show(&p.dn),
            match p.dn_source {
                crate::plan::DnSource::Derived => " (derived: check it)",
                crate::plan::DnSource::Csv => "",
                crate::plan::DnSource::Export => " (from the export)",
            }
        )?;
        if let Some(pr) = p.protocol {
            writeln!(
                s,
                "  protocol: {}",
                match pr {
                    crate::validate::Protocol::Any => "any (use any authentication protocol)",
                    crate::validate::Protocol::Kerberos => "kerberos (Kerberos only)",
                }
            )?;
        }
        if let (Some(before), Some(delta)) = (&p.before, &p.delta) {
            writeln!(
                s,
                "  before: {} value(s), protocol {}; after: {} value(s){}",
                before.values.len(),
                before.protocol.as_str(),
                delta.after.len(),
                match delta.uac {
                    Some(u) => format!(", userAccountControl {} -> {}", u.from, u.to),
                    None => String::new(),
                }
            )?;
            if !delta.changes {
                writeln!(s, "  no change: the account already matches the plan")?;
            }
            for v in &delta.delete {
                value_line(&mut s, b'-', v)?;
            }
            for v in &delta.add {
                value_line(&mut s, b'+', v)?;
            }
            continue;
        }
        match p.mode {
            Mode::Update => {
                value_lines(&mut s, b'-', &p.remove)?;
                value_lines(&mut s, b'+', &p.add)?;
            }
            Mode::Replace => {
                if p.replace.is_empty() {
                    writeln!(s, "  = (clear all values)")?;
                }
                value_lines(&mut s, b'=', &p.replace)?;
            }
        }
    }
    s.flush()
}

/// One value of the listing: `  + value`, shown safely.
fn value_line(s: &mut impl std::io::Write, mark: u8, v: &str) -> std::io::Result<()> {
    if is_plain(v) {
        s.write_all(&[b' ', b' ', mark, b' '])?;
        s.write_all(v.as_bytes())?;
        s.write_all(b"\n")
    } else {
        writeln!(s, "  {} {}", char::from(mark), show(v))
    }
}

fn value_lines(s: &mut impl std::io::Write, mark: u8, values: &Spns) -> std::io::Result<()> {
    let mut written = Ok(());
    values.for_each(|v| {
        if written.is_ok() {
            written = value_line(s, mark, v);
        }
    });
    written
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_lines_are_shown_safely() {
        let line = |v: &str| {
            let mut out = Vec::new();
            value_line(&mut out, b'+', v).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(line("cifs/fs1.contoso.com"), "  + cifs/fs1.contoso.com\n");
        assert_eq!(line("cifs/m\u{fc}ller"), "  + cifs/m\u{fc}ller\n");
        assert_eq!(line("cifs/a\u{202E}b\tc"), "  + cifs/a\\u{202E}b\\tc\n");
    }

    /// Accepts `room` bytes, then fails.
    struct Full {
        room: usize,
        calls: usize,
    }

    impl std::io::Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.room == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::StorageFull));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_stops_the_listing() {
        let values = Spns::spelled(
            (0..1000)
                .map(|i| crate::plan::Spn::from(format!("cifs/h{i}").as_str()))
                .collect(),
        );
        let mut full = Full {
            room: 100,
            calls: 0,
        };
        let e = value_lines(&mut full, b'+', &values).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::StorageFull);
        // Nothing more is written once a write failed.
        assert!(full.calls < 30, "{} writes", full.calls);
    }
}
