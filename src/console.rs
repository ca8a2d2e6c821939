//! What kcdplan prints: warnings, the plan as `check` lists it, the audit
//! as text and Markdown, and the line `render` prints when it is done.
//! Every value is shown escaped ([`show`] on the console, the Markdown
//! escaper in Markdown).

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::Path;

use crate::audit::{Ace, Audit, Delegation};
use crate::error::{Error, Result};
use crate::escape::markdown;
use crate::model::{DnSource, ExportInfo, FileInfo, Keyword, Mode, Protocol};
use crate::plan::{Allowed, Holder, Plan, Spns, Warning};
use crate::sanitize::{is_plain, show};

pub fn warning_line(file: &str, w: &Warning) -> String {
    let rule = w.rule();
    format!(
        "{}:{}: warning: {} {}: principal '{}': {}",
        show(file),
        w.line,
        rule.id(),
        rule.severity().as_str(),
        show(&w.principal),
        w.message
    )
}

/// A finding accepted with `--accept-risk`, as `check` and `render` print it.
pub fn accepted_line(file: &str, w: &Warning) -> String {
    let rule = w.rule();
    format!(
        "{}:{}: accepted with --accept-risk: {} {}: principal '{}': {}",
        show(file),
        w.line,
        rule.id(),
        rule.severity().as_str(),
        show(&w.principal),
        w.message
    )
}

/// Writes the plan of the CSV `source` (planned against the export
/// `current`) as `check` lists it, streaming (plans can be large).
pub fn check_text(
    source: &FileInfo,
    current: Option<&ExportInfo>,
    plan: &Plan,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let mut s = io::BufWriter::with_capacity(1 << 16, out);
    let totals = plan.totals();
    if let Some(c) = current {
        let changed = plan.changed_principals() + plan.changed_resources();
        writeln!(
            s,
            "planned against {} ({} records): {}",
            show(&c.file.name),
            c.records,
            if changed == 0 {
                "no changes, the directory already matches the plan".to_string()
            } else {
                format!("{changed} account(s) change")
            }
        )?;
        if !c.absent.is_empty() {
            writeln!(s, "{}", absent_note(c))?;
        }
    }
    writeln!(
        s,
        "{}: {} principal(s); {} value(s) to add, {} to remove, {} in replacement sets; {} risk(s) ({} accepted), {} warning(s)",
        show(&source.name),
        totals.principals,
        totals.values_added,
        totals.values_removed,
        totals.values_replaced,
        totals.risks,
        totals.accepted,
        totals.warnings
    )?;
    let mut risks: Vec<(&Warning, bool)> = (plan.warnings.iter().map(|w| (w, false)))
        .chain(plan.accepted.iter().map(|w| (w, true)))
        .filter(|(w, _)| w.rule().is_risk())
        .collect();
    if !risks.is_empty() {
        risks.sort_by(|(a, _), (b, _)| {
            (b.rule().severity().cmp(&a.rule().severity()))
                .then_with(|| a.rule().cmp(&b.rule()))
                .then_with(|| a.cmp(b))
        });
        writeln!(s, "\nrisks, highest severity first:")?;
        for (w, accepted) in risks {
            let rule = w.rule();
            writeln!(
                s,
                "  {} {}{}: {} (line {}): {}",
                rule.id(),
                rule.severity().as_str(),
                if accepted { ", accepted" } else { "" },
                show(&w.principal),
                w.line,
                w.message
            )?;
        }
    }
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
                DnSource::Derived => " (derived: check it)",
                DnSource::Csv => "",
                DnSource::Export => " (from the export)",
            }
        )?;
        if let Some(pr) = p.protocol {
            writeln!(
                s,
                "  protocol: {}",
                match pr {
                    Protocol::Any => "any (use any authentication protocol)",
                    Protocol::Kerberos => "kerberos (Kerberos only)",
                }
            )?;
        }
        if p.unconstrained_off {
            writeln!(
                s,
                "  unconstrained: off (turn unconstrained delegation off)"
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
    for r in &plan.resources {
        writeln!(s)?;
        writeln!(
            s,
            "{} (resource-based delegation to this {}, sAMAccountName {})",
            show(&r.resource),
            r.kind.as_str(),
            show(&r.sam_account_name)
        )?;
        writeln!(
            s,
            "  dn: {}{}",
            show(&r.dn),
            match r.dn_source {
                DnSource::Derived => " (derived: check it)",
                DnSource::Csv => "",
                DnSource::Export => " (from the export)",
            }
        )?;
        let holder = |h: &Holder| match &h.name {
            Some(n) => format!("{} ({})", show(n), h.sid),
            None => format!("{} (not in the export)", h.sid),
        };
        if let (Some(b), Some(d)) = (&r.before, &r.delta) {
            writeln!(
                s,
                "  before: {} principal(s) allowed; after: {}",
                b.allowed.len(),
                d.after.len()
            )?;
            if !d.changes {
                writeln!(s, "  no change: the resource already matches the plan")?;
            }
            for h in &d.remove {
                writeln!(s, "  - {}", holder(h))?;
            }
            for h in &d.add {
                writeln!(s, "  + {}", holder(h))?;
            }
            continue;
        }
        let allowed = |a: &Allowed| {
            format!(
                "{} ({}, {}{})",
                show(&a.principal),
                a.kind.as_str(),
                show(&a.domain),
                a.sid.as_deref().map_or(String::new(), |s| format!(", {s}"))
            )
        };
        for a in &r.remove {
            writeln!(s, "  - {}", allowed(a))?;
        }
        for a in &r.add {
            writeln!(s, "  + {}", allowed(a))?;
        }
        if r.mode == Mode::Replace && r.replace.is_empty() {
            writeln!(s, "  = (clear: no principal allowed)")?;
        }
        for a in &r.replace {
            writeln!(s, "  = {}", allowed(a))?;
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

pub fn render_done(out: &Path, plan: &Plan, written: &[FileInfo]) -> String {
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

/// One ACE of a resource-based descriptor, for people: type, mask, who.
fn ace_text(a: &Ace) -> String {
    let who = match (&a.name, &a.dn) {
        (Some(n), Some(d)) => format!("{n} ({}, {d})", a.sid),
        (Some(n), None) => format!("{n} ({})", a.sid),
        _ => format!("{} (not in the export)", a.sid),
    };
    let mut flags = String::new();
    if a.flags != 0 {
        flags = format!(" flags 0x{:02X}", a.flags);
    }
    format!(
        "{} {}{flags}: {who}{}",
        a.kind,
        a.mask,
        if a.allows { "" } else { " (does not allow)" }
    )
}

/// The account a delegation is of: its sAMAccountName, or its DN.
fn account_of(d: &Delegation) -> &str {
    d.sam_account_name.as_deref().unwrap_or(&d.dn)
}

/// The rules of a delegation's account, with the highest severity.
fn risk_of(d: &Delegation) -> String {
    match d.severity {
        None => "no finding".to_string(),
        Some(sev) => {
            let ids: Vec<&str> = d.rules.iter().map(|r| r.id()).collect();
            format!("{} {}", sev.as_str(), ids.join(" "))
        }
    }
}

/// What the export could not show: attributes no record holds.
fn absent_note(e: &ExportInfo) -> String {
    format!(
        "note: no record of the export holds {}: accounts are read as having none",
        e.absent.join(", ")
    )
}

/// The audit as `audit` prints it.
pub fn audit_text(a: &Audit) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} finding(s) and {} delegation(s) in {} record(s), riskiest first",
        show(&a.export.file.name),
        a.findings.len(),
        a.delegations.len(),
        a.export.records
    );
    if !a.export.absent.is_empty() {
        let _ = writeln!(s, "{}", absent_note(&a.export));
    }
    if !a.findings.is_empty() {
        let _ = writeln!(s, "\nFindings:");
    }
    for f in &a.findings {
        let _ = writeln!(
            s,
            "\n{} {}  {}  {}\n  {}\n  why: {}",
            f.rule.id(),
            f.severity.as_str(),
            show(&f.account),
            show(&f.dn),
            show(&f.detail),
            f.reason
        );
    }
    if !a.delegations.is_empty() {
        let _ = writeln!(s, "\nDelegations:");
    }
    for d in &a.delegations {
        let _ = writeln!(
            s,
            "\n[{}] {}  {}  ({})",
            d.kind.title(),
            show(account_of(d)),
            show(&d.dn),
            risk_of(d)
        );
        for t in &d.targets {
            let _ = writeln!(
                s,
                "  -> {}{}",
                show(&t.spn),
                if t.host_found {
                    ""
                } else {
                    "  (host not in the export)"
                }
            );
        }
        for ace in &d.aces {
            let _ = writeln!(s, "  <- {}", show(&ace_text(ace)));
        }
    }
    s
}

/// The audit as `audit --format markdown` prints it.
pub fn audit_markdown(a: &Audit) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Delegation audit of {}\n",
        markdown::text(&a.export.file.name)
    );
    let _ = writeln!(
        s,
        "Export SHA-256: {}. Records: {}. Findings: {}; delegations: {}; riskiest first.\n",
        a.export.file.sha256,
        a.export.records,
        a.findings.len(),
        a.delegations.len()
    );
    if !a.export.absent.is_empty() {
        let _ = writeln!(s, "{}\n", markdown::text(&absent_note(&a.export)));
    }
    let _ = writeln!(s, "## Findings\n");
    if a.findings.is_empty() {
        let _ = writeln!(s, "None.\n");
    } else {
        let _ = writeln!(
            s,
            "| Rule | Severity | Account | DN | Finding | Why it matters |\n|---|---|---|---|---|---|"
        );
        for f in &a.findings {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                f.rule.id(),
                f.severity.as_str(),
                markdown::text(&f.account),
                markdown::text(&f.dn),
                markdown::text(&f.detail),
                markdown::text(f.reason)
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Delegations\n");
    let _ = writeln!(
        s,
        "| Risk | Delegation | Account | DN | Details |\n|---|---|---|---|---|"
    );
    for d in &a.delegations {
        let mut details: Vec<String> = d
            .targets
            .iter()
            .map(|t| {
                format!(
                    "{}{}",
                    markdown::text(&t.spn),
                    if t.host_found {
                        ""
                    } else {
                        " (host not in the export)"
                    }
                )
            })
            .collect();
        details.extend(d.aces.iter().map(|ace| markdown::text(&ace_text(ace))));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            risk_of(d),
            d.kind.title(),
            markdown::text(account_of(d)),
            markdown::text(&d.dn),
            details.join("<br>")
        );
    }
    s
}

/// A writer that keeps its first write error: the template engine reports
/// only that a write failed, not why (a reader that closed the pipe early,
/// `| head`, is not a failure of the command; a full disk is).
pub struct Watched<W> {
    inner: W,
    failed: Option<io::Error>,
}

impl<W: io::Write> Watched<W> {
    pub fn new(inner: W) -> Watched<W> {
        Watched {
            inner,
            failed: None,
        }
    }

    fn watch<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        result.map_err(|e| {
            let told = io::Error::new(e.kind(), e.to_string());
            self.failed.get_or_insert(e);
            told
        })
    }
}

impl<W: io::Write> io::Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.inner.write(buf);
        self.watch(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.inner.flush();
        self.watch(result)
    }
}

/// How printing to standard output through `out` ended: a reader that has
/// seen enough (`| head`, `less` quit) ends it quietly, with the command's
/// own result; a failure of standard output itself is named as such.
pub fn ended<W>(written: Result<()>, out: Watched<W>) -> Result<()> {
    match (written, out.failed) {
        (Err(_), Some(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        (Err(_), Some(e)) => Err(Error::io("write", "<stdout>", e)),
        (r, _) => r,
    }
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
