//! Reading the CSV: bytes from a file or standard input, decoded (UTF-8 with
//! or without BOM, UTF-16 with BOM), the Windows PowerShell `#TYPE` line
//! skipped, the delimiter detected, the header checked, and every record
//! turned into raw cells keyed by column, with the line it started on.
//! All csv reader settings live in [`csv_reader`].

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::columns::{parse_header, Field, Header};
use crate::error::{Error, Location, Problem, Problems, Result};
use crate::sanitize::{is_forbidden, show};

/// The most bytes one field may hold.
pub const MAX_FIELD_BYTES: usize = 1024;

/// The input as read: its display name, SHA-256 of its bytes and its text.
#[derive(Debug, Clone)]
pub struct Source {
    /// Name used in messages and the summary (`<stdin>` for `-`).
    pub name: String,
    pub sha256: String,
    /// The decoded text; emptied once it is planned.
    pub text: String,
}

/// One record: the line it starts on and its non-empty, trimmed cells by
/// column, borrowed from the record being read (no copy per cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow<'a> {
    pub line: u64,
    cells: [Option<&'a str>; Field::ALL.len()],
}

impl<'a> RawRow<'a> {
    pub fn get(&self, f: Field) -> Option<&'a str> {
        self.cells[f as usize]
    }
}

/// Reads `path` (or standard input for `-`) and decodes it.
pub fn read_source(path: &Path) -> Result<Source> {
    let (name, bytes) = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Error::io("read", "<stdin>", e))?;
        ("<stdin>".to_string(), buf)
    } else {
        let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        (path.display().to_string(), bytes)
    };
    let sha256 = hex(&Sha256::digest(&bytes));
    let text = decode(&name, bytes).map_err(Error::input)?;
    Ok(Source { name, sha256, text })
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Decodes UTF-8 (BOM optional; the bytes become the text, no copy) or
/// UTF-16 LE/BE with BOM.
pub fn decode(name: &str, mut bytes: Vec<u8>) -> Result<String, Problem> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
        return utf8(name, bytes, 3);
    }
    let le = bytes.starts_with(&[0xFF, 0xFE]);
    let be = bytes.starts_with(&[0xFE, 0xFF]);
    if le || be {
        let body = &bytes[2..];
        if body.len() % 2 != 0 {
            return Err(Problem::new(
                Location::file(name),
                format!(
                    "byte offset {}: UTF-16 text has an odd number of bytes (truncated file?)",
                    bytes.len() - 1
                ),
            ));
        }
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        let mut out = String::with_capacity(body.len() / 2);
        let mut at = 0; // index of the next unit
        for r in char::decode_utf16(units.iter().copied()) {
            match r {
                Ok(c) => {
                    at += c.len_utf16();
                    out.push(c);
                }
                Err(_) => {
                    return Err(Problem::new(
                        Location::file(name),
                        format!(
                            "byte offset {}: invalid UTF-16 (unpaired surrogate)",
                            2 + at * 2
                        ),
                    ))
                }
            }
        }
        return Ok(out);
    }
    utf8(name, bytes, 0)
}

fn utf8(name: &str, bytes: Vec<u8>, base: usize) -> Result<String, Problem> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let at = base + valid;
        let line = 1 + bytes[..valid].iter().filter(|b| **b == b'\n').count();
        Problem::new(
            Location::line(name, line as u64),
            format!(
                "byte offset {at}: not valid UTF-8 (byte 0x{:02X}); save the file as UTF-8 or UTF-16 with BOM",
                bytes[valid]
            ),
        )
    })
}

/// The one place that configures the csv reader.
fn csv_reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes())
}

/// Picks `;` or tab over `,` when the header row holds more of them
/// (outside quotes): Excel writes `;` in many European locales.
pub fn detect_delimiter(header_line: &str) -> u8 {
    let (mut comma, mut semi, mut tab, mut quoted) = (0, 0, 0, false);
    for c in header_line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => comma += 1,
            ';' if !quoted => semi += 1,
            '\t' if !quoted => tab += 1,
            _ => {}
        }
    }
    if semi > comma && semi >= tab {
        b';'
    } else if tab > comma && tab > semi {
        b'\t'
    } else {
        b','
    }
}

/// Start offsets of each line, to turn byte positions into line numbers
/// independently of CRLF handling in the csv crate.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        let mut v = vec![0];
        v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(v)
    }

    /// 1-based line of a byte offset.
    fn line_of(&self, offset: usize) -> u64 {
        match self.0.binary_search(&offset) {
            Ok(i) => i as u64 + 1,
            Err(i) => i as u64,
        }
    }
}

/// Streams the text: checks the header, then hands each good record to
/// `sink` as raw cells, in input order, and records every bad one in
/// `problems`. Returns the header; a missing or bad header is an error at
/// once, as nothing after it can be read.
pub fn read_rows(
    name: &str,
    text: &str,
    delimiter: Option<u8>,
    problems: &mut Problems,
    mut sink: impl FnMut(&Header, RawRow<'_>, &mut Problems),
) -> Result<Header> {
    let lines = Lines::new(text);
    // Windows PowerShell 5.1 Export-Csv writes `#TYPE ...` as line 1.
    let skip = if text.starts_with("#TYPE") {
        text.find('\n').map(|i| i + 1).unwrap_or(text.len())
    } else {
        0
    };
    let body = &text[skip..];
    let first_line = body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(first_line));
    let mut reader = csv_reader(body, delimiter);
    let mut header: Option<Header> = None;
    let mut record = csv::StringRecord::new();
    loop {
        let start = reader.position().byte() as usize;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let (offset, what) = match e.kind() {
                    csv::ErrorKind::Utf8 { pos, err } => (
                        pos.as_ref().map(|p| p.byte() as usize).unwrap_or(start),
                        format!("not valid UTF-8: {err}"),
                    ),
                    _ => (start, e.to_string()),
                };
                problems.push(Problem::new(
                    Location::line(name, lines.line_of(skip + offset)),
                    what,
                ));
                break;
            }
        }
        let rec_start = record
            .position()
            .map(|p| p.byte() as usize)
            .unwrap_or(start);
        // With CRLF the csv crate reports a record as starting at the `\n`
        // that ends the previous line (rust-csv #395); skip line breaks.
        let rec_start = rec_start
            + body.as_bytes()[rec_start.min(body.len())..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        let line = lines.line_of(skip + rec_start);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let Some(h) = &header else {
            match parse_header(
                name,
                line,
                &record.iter().map(str::to_string).collect::<Vec<_>>(),
            ) {
                Ok(h) => header = Some(h),
                Err(p) => {
                    let mut all = Problems::default();
                    all.extend(p);
                    all.check()?;
                }
            }
            continue;
        };
        if let Some(row) = check_record(name, line, h, &record, problems) {
            sink(h, row, problems);
        }
    }
    let Some(header) = header else {
        return Err(Error::input(Problem::new(
            Location::file(name),
            "the file is empty: a header row is required (principal,service,target,...)",
        )));
    };
    Ok(header)
}

/// Reads every row and returns, per row, its line and principal (tests).
#[cfg(test)]
fn read_all(name: &str, text: &str, delimiter: Option<u8>) -> Result<Vec<(u64, String)>> {
    let mut problems = Problems::default();
    let mut rows = Vec::new();
    read_rows(name, text, delimiter, &mut problems, |_, r, _| {
        rows.push((r.line, r.get(Field::Principal).unwrap_or("").to_string()))
    })?;
    problems.check()?;
    Ok(rows)
}

fn check_record<'r>(
    name: &str,
    line: u64,
    header: &Header,
    record: &'r csv::StringRecord,
    problems: &mut Problems,
) -> Option<RawRow<'r>> {
    let mut bad = false;
    let mut problem = |p: Problem| {
        bad = true;
        problems.push(p);
    };
    let width = header.columns.len();
    // Trailing empty fields (spreadsheet exports) are fine; others are not.
    if record.len() < width || record.iter().skip(width).any(|f| !f.trim().is_empty()) {
        problem(Problem::new(
            Location::line(name, line),
            format!(
                "the row has {} fields but the header has {}",
                record.len(),
                width
            ),
        ));
        return None;
    }
    let mut cells = [None; Field::ALL.len()];
    for (i, value) in record.iter().take(width).enumerate() {
        let column = &header.written[i];
        // Fast path: printable ASCII needs no further look.
        let plain = value.bytes().all(|b| (0x20..0x7F).contains(&b));
        if !plain && value.contains(['\n', '\r']) {
            problem(Problem::new(
                Location::cell(name, line, column),
                format!(
                    "'{}' contains a line break (a quoted field spans lines: is a quote missing?)",
                    show(value)
                ),
            ));
            continue;
        }
        if let Some(c) = (!plain)
            .then(|| value.chars().find(|c| is_forbidden(*c)))
            .flatten()
        {
            problem(Problem::new(
                Location::cell(name, line, column),
                format!(
                    "'{}' contains the control or invisible character U+{:04X}",
                    show(value),
                    c as u32
                ),
            ));
            continue;
        }
        if value.len() > MAX_FIELD_BYTES {
            problem(Problem::new(
                Location::cell(name, line, column),
                format!(
                    "the value is {} bytes long; the limit is {MAX_FIELD_BYTES}",
                    value.len()
                ),
            ));
            continue;
        }
        let value = value.trim();
        match header.columns[i] {
            Some(field) => {
                if !value.is_empty() {
                    cells[field as usize] = Some(value);
                }
            }
            None => {
                if !value.is_empty() {
                    problem(Problem::new(
                        Location::line(name, line),
                        format!(
                            "field {} '{}' is under a header cell with no name",
                            i + 1,
                            show(value)
                        ),
                    ));
                }
            }
        }
    }
    (!bad).then_some(RawRow { line, cells })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_boms() {
        assert_eq!(decode("f", b"\xEF\xBB\xBFa,b".to_vec()).unwrap(), "a,b");
        assert_eq!(decode("f", b"\xFF\xFEa\0,\0b\0".to_vec()).unwrap(), "a,b");
        assert_eq!(decode("f", b"\xFE\xFF\0a\0,\0b".to_vec()).unwrap(), "a,b");
        let e = decode("f", b"ab\n\xFFc".to_vec()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f:2: byte offset 3: not valid UTF-8 (byte 0xFF); save the file as UTF-8 or UTF-16 with BOM"
        );
    }

    #[test]
    fn delimiter_detection() {
        assert_eq!(detect_delimiter("principal;service;target"), b';');
        assert_eq!(detect_delimiter("principal,service,target"), b',');
        assert_eq!(detect_delimiter("\"a;b\",c,d"), b',');
    }

    #[test]
    fn crlf_line_numbers_are_right() {
        let text = "principal,service,target\r\n\r\nvmhost1,cifs,fhost1\r\nvmhost2,cifs,fhost1\r\n";
        let rows = read_all("f", text, None).unwrap();
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn type_line_is_skipped_and_lines_still_count() {
        let text = "#TYPE System.Management.Automation.PSCustomObject\n\"principal\",\"service\",\"target\"\n\"a\",\"cifs\",\"b\"\n";
        let rows = read_all("f", text, None).unwrap();
        assert_eq!(rows[0], (3, "a".to_string()));
    }

    #[test]
    fn multiline_quoted_field_reports_its_first_line() {
        let text = "principal,service,target,comment\na,cifs,b,\"two\nlines\"\nc,cifs,d,\n";
        let e = read_all("f", text, None).unwrap_err().to_string();
        assert!(
            e.starts_with("f:2: column 'comment': 'two\\nlines' contains a line break"),
            "{e}"
        );
    }
}
