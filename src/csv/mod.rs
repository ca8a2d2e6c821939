//! Reading the CSV as it streams in (from a file or standard input; never
//! held whole): hashed, decoded (UTF-8 with or without BOM, UTF-16 with BOM,
//! by [`crate::text`]), checked to be UTF-8 ([`window`]), the Windows
//! PowerShell `#TYPE` line skipped, the delimiter detected, the header
//! checked ([`header`]), and every record checked on its own and cut into
//! cells keyed by column ([`record`]). All of this runs on a second thread,
//! ahead of the rows' validation and planning. All csv reader settings
//! live in [`csv_reader`].

pub mod header;
pub mod record;
mod window;

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Location, Problem, Problems, Result};
use crate::parallel::{pipeline, Producer};
use crate::text::{decoded, Hashing};
use header::{parse_header, Header};
use record::{check_record, RawRow, Record};
use window::Window;

/// Opens `path` (standard input for `-`): its display name and its bytes,
/// not yet read.
pub fn open(path: &Path) -> Result<(String, Box<dyn Read + Send>)> {
    if path.as_os_str() == "-" {
        return Ok(("<stdin>".to_string(), Box::new(std::io::stdin())));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    Ok((path.display().to_string(), Box::new(file)))
}

fn not_utf8(name: &str, line: u64, offset: u64, byte: u8) -> Problem {
    Problem::new(
        Location::line(name, line),
        format!(
            "byte offset {offset}: not valid UTF-8 (byte 0x{byte:02X}); save the file as UTF-8 or UTF-16 with BOM"
        ),
    )
}

/// The one place that configures the csv reader: `sep` ends lines (a line
/// feed, with or without a carriage return before it, or a carriage
/// return alone).
fn csv_reader<R: Read>(text: R, delimiter: u8, sep: u8) -> csv::Reader<R> {
    let terminator = match sep {
        b'\r' => csv::Terminator::Any(b'\r'),
        _ => csv::Terminator::CRLF,
    };
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::None)
        .terminator(terminator)
        .from_reader(text)
}

/// What the csv crate passes over in a record as written, which kcdplan
/// refuses: text after a closing quote (`"fhost1"x`, read as `fhost1x`), a
/// quote that is never closed, and a carriage return alone inside a file
/// whose lines end with line feeds (the crate ends the record there).
/// `after` is the byte that follows the record (the csv crate ends a
/// record of a CRLF file after its carriage return).
fn raw_record_problem(
    raw: &[u8],
    after: Option<u8>,
    delimiter: u8,
    sep: u8,
) -> Option<&'static str> {
    // (Most records hold neither.)
    memchr::memchr2(b'"', b'\r', raw)?;
    let (mut quoted, mut field_start, mut i) = (false, true, 0);
    while i < raw.len() {
        let b = raw[i];
        if quoted {
            if b == b'"' {
                if raw.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                    match raw.get(i + 1) {
                        None | Some(b'\n') | Some(b'\r') => {}
                        Some(&d) if d == delimiter => {}
                        Some(_) => {
                            return Some("text follows a closing quote (quote the whole field, and double a quote inside it)")
                        }
                    }
                }
            }
        } else if field_start && b == b'"' {
            quoted = true;
        } else if b == b'\r' && sep == b'\n' && raw.get(i + 1).or(after.as_ref()) != Some(&b'\n') {
            return Some("a carriage return (CR) alone inside the row: are line endings mixed?");
        }
        field_start = !quoted && (b == delimiter || b == b'\n');
        i += 1;
    }
    quoted.then_some("a quoted field is not closed: a quote is missing")
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

/// What the reader thread hands over: the header, then records in
/// batches.
enum Chunk {
    Header(Header),
    Rows(Batch),
}

impl Default for Chunk {
    fn default() -> Chunk {
        Chunk::Rows(Batch::default())
    }
}

/// Records `rows[..len]`; the records beyond are kept for their buffers.
#[derive(Default)]
struct Batch {
    rows: Vec<Record>,
    len: usize,
}

impl Batch {
    const ROWS: usize = 512;

    /// A batch to fill, from a chunk handed back.
    fn reuse(chunk: Chunk) -> Batch {
        match chunk {
            Chunk::Rows(mut b) => {
                b.len = 0;
                b
            }
            Chunk::Header(_) => Batch::default(),
        }
    }
}

/// Streams the CSV's bytes: checks the header, then hands each good record
/// to `sink`, in input order; every bad one goes into `problems`. Returns
/// the SHA-256 of the bytes. A missing or bad header, or bytes that are not
/// text, are an error at once, as nothing after them can be read. The bytes
/// are read, hashed, decoded, cut into records and each record checked on
/// a second thread, while this one runs `sink`.
pub fn read_rows(
    name: &str,
    bytes: impl Read + Send,
    delimiter: Option<u8>,
    problems: &mut Problems,
    mut sink: impl FnMut(&Header, RawRow<'_>, &mut Problems),
) -> Result<String> {
    let (read, header) = pipeline(
        4,
        |out| read_records(name, bytes, delimiter, &out),
        |chunks| {
            let mut header: Option<Header> = None;
            while let Some(chunk) = chunks.recv() {
                let batch = match chunk {
                    Chunk::Header(h) => {
                        header = Some(h);
                        continue;
                    }
                    Chunk::Rows(batch) => batch,
                };
                let mut batch = batch;
                let h = header.as_ref().expect("the header comes first");
                for record in &mut batch.rows[..batch.len] {
                    if record.problems.is_empty() {
                        sink(h, record.row(), problems);
                    } else {
                        problems.extend(record.problems.drain(..));
                    }
                }
                chunks.give_back(Chunk::Rows(batch));
            }
            header
        },
    );
    let (problem, sha256) = read?;
    problems.extend(problem);
    if header.is_none() {
        return Err(Error::input(Problem::new(
            Location::file(name),
            "the file is empty: a header row is required (principal,service,target,...)",
        )));
    }
    Ok(sha256)
}

/// The reader's side: hashes, decodes and checks the bytes, reads the
/// header and hands it on, then the records that are not blank, checked,
/// a batch at a time. Returns the csv reader's error, located, if it
/// stopped at one, and the SHA-256 of the bytes. A bad header is an error.
fn read_records(
    name: &str,
    bytes: impl Read,
    delimiter: Option<u8>,
    out: &Producer<Chunk>,
) -> Result<(Option<Problem>, String)> {
    let mut hashing = Hashing::new(bytes);
    let problem = {
        let text = decoded(&mut hashing).map_err(|e| Error::io("read", name, e))?;
        let mut window = Window::new(text.text);
        let problem = parse_records(name, &mut window, delimiter, |chunk| {
            out.send(chunk).then(|| Batch::reuse(out.item()))
        });
        // Bytes that are not text end the reading, whatever came before
        // (a header cut short by them included).
        if let Some((offset, byte)) = window.bad {
            let line = window.line_of(offset);
            return Err(Error::input(not_utf8(
                name,
                line,
                text.skipped + offset,
                byte,
            )));
        }
        if let Some(e) = window.failed {
            return Err(match e.kind() {
                // The UTF-16 decoder's word on the text.
                std::io::ErrorKind::InvalidData => {
                    Error::input(Problem::new(Location::file(name), e.to_string()))
                }
                _ => Error::io("read", name, e),
            });
        }
        problem?
    };
    Ok((problem, hashing.sha256()))
}

/// Cuts the text into records and hands them to `deliver` a batch at a
/// time (it returns an empty batch to fill, or `None` to stop).
fn parse_records<R: Read>(
    name: &str,
    window: &mut Window<R>,
    delimiter: Option<u8>,
    mut deliver: impl FnMut(Chunk) -> Option<Batch>,
) -> Result<Option<Problem>> {
    // Windows PowerShell 5.1 Export-Csv writes `#TYPE ...` as line 1.
    let head = window.head();
    if head.starts_with(b"#TYPE") {
        let skip = memchr::memchr(b'\n', head).map_or(head.len(), |i| i + 1);
        window.next += skip as u64;
    }
    let head = window.head();
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(&String::from_utf8_lossy(head)));
    let body = window.next;
    let sep = window.sep;
    let mut reader = csv_reader(window, delimiter, sep);
    let mut split_line = None;
    let mut header: Option<Header> = None;
    let mut batch = Batch::default();
    loop {
        let start = reader.position().byte();
        if batch.len == batch.rows.len() {
            batch.rows.push(Record::default());
        }
        let record = &mut batch.rows[batch.len];
        match reader.read_record(&mut record.fields) {
            Ok(false) => break,
            Ok(true) => {}
            // (Not a UTF-8 error: the window hands on checked text only.)
            Err(e) => {
                if batch.len > 0 && deliver(Chunk::Rows(batch)).is_none() {
                    return Ok(None);
                }
                let window = reader.get_mut();
                // Bytes that are not text are the reader's own error.
                if window.bad.is_some() || window.failed.is_some() {
                    return Ok(None);
                }
                let line = window.line_of(body + start);
                return Ok(Some(Problem::new(
                    Location::line(name, line),
                    e.to_string(),
                )));
            }
        }
        let end = body + reader.position().byte();
        let window = reader.get_mut();
        // With CRLF the csv crate reports a record as starting at the `\n`
        // that ends the previous line (rust-csv #395); skip line breaks.
        let mut rec_start = body + record.fields.position().map_or(start, |p| p.byte());
        while matches!(window.byte(rec_start), Some(b'\r' | b'\n')) {
            rec_start += 1;
        }
        record.line = window.line_of(rec_start);
        // The byte after the record, read if it is not yet.
        while window.byte(end).is_none() && window.fill() {}
        let after = window.byte(end);
        let raw = window.slice(rec_start, end);
        // The rest of a line a lone carriage return split is reported
        // with it, not again.
        if split_line == Some(record.line) {
            continue;
        }
        let raw_problem = raw.and_then(|raw| raw_record_problem(raw, after, delimiter, sep));
        if record.fields.iter().all(|f| f.trim().is_empty()) && raw_problem.is_none() {
            continue;
        }
        let Some(h) = &header else {
            if let Some(p) = raw_problem {
                return Err(Error::input(Problem::new(
                    Location::line(name, record.line),
                    p,
                )));
            }
            let cells = record.fields.iter().map(str::to_string).collect::<Vec<_>>();
            match parse_header(name, record.line, &cells) {
                Ok(h) => {
                    header = Some(h.clone());
                    if deliver(Chunk::Header(h)).is_none() {
                        return Ok(None);
                    }
                }
                Err(p) => {
                    let mut all = Problems::default();
                    all.extend(p);
                    all.check()?;
                }
            }
            continue;
        };
        record.problems.clear();
        match raw_problem {
            Some(p) => {
                split_line = Some(record.line);
                record
                    .problems
                    .push(Problem::new(Location::line(name, record.line), p));
            }
            None => check_record(name, h, record),
        }
        batch.len += 1;
        if batch.len == Batch::ROWS {
            let Some(next) = deliver(Chunk::Rows(batch)) else {
                return Ok(None);
            };
            batch = next;
            batch.len = 0;
        }
    }
    if batch.len > 0 {
        deliver(Chunk::Rows(batch));
    }
    Ok(None)
}

/// Reads every row and returns, per row, its line and principal (tests).
#[cfg(test)]
fn read_all(name: &str, text: &str, delimiter: Option<u8>) -> Result<Vec<(u64, String)>> {
    read_bytes(name, text.as_bytes(), delimiter)
}

/// Reads every row and returns, per row, its line and principal (tests).
#[cfg(test)]
fn read_bytes(name: &str, bytes: &[u8], delimiter: Option<u8>) -> Result<Vec<(u64, String)>> {
    let mut rows = Vec::new();
    read_each(name, bytes, delimiter, |r| {
        rows.push((
            r.line,
            r.get(header::Field::Principal).unwrap_or("").to_string(),
        ))
    })?
    .check()?;
    Ok(rows)
}

/// Reads every row into `sink`; returns the problems of the bad ones
/// (tests).
#[cfg(test)]
fn read_each(
    name: &str,
    bytes: &[u8],
    delimiter: Option<u8>,
    mut sink: impl FnMut(RawRow<'_>),
) -> Result<Problems> {
    let mut problems = Problems::default();
    read_rows(name, bytes, delimiter, &mut problems, |_, r, _| sink(r))?;
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Trickle;
    use header::Field;

    #[test]
    fn decodes_boms() {
        let first_line = |e: Error| e.to_string().lines().next().unwrap().to_string();
        let rows = |bytes: &[u8]| read_bytes("f", bytes, None).map_err(first_line);
        let text = "principal,service,target\n\u{e9}t\u{e9},cifs,b\n";
        let want = Ok(vec![(2, "\u{e9}t\u{e9}".to_string())]);
        assert_eq!(rows(text.as_bytes()), want);
        let utf16 = text.encode_utf16();
        let encodings: [Vec<u8>; 3] = [
            [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat(),
            b"\xFF\xFE"
                .iter()
                .copied()
                .chain(utf16.clone().flat_map(u16::to_le_bytes))
                .collect(),
            b"\xFE\xFF"
                .iter()
                .copied()
                .chain(utf16.flat_map(u16::to_be_bytes))
                .collect(),
        ];
        for bytes in encodings {
            assert_eq!(rows(&bytes), want);
        }
        // Offsets name the byte in the file, the mark included.
        assert_eq!(
            rows(b"principal,service,target\nab\n\xFFc"),
            Err("f:3: byte offset 28: not valid UTF-8 (byte 0xFF); save the file as UTF-8 or UTF-16 with BOM".into())
        );
        assert_eq!(
            rows(b"\xEF\xBB\xBFprincipal,service,target\nab\n\xFFc"),
            Err("f:3: byte offset 31: not valid UTF-8 (byte 0xFF); save the file as UTF-8 or UTF-16 with BOM".into())
        );
        // A sequence cut off by the end of the file.
        assert_eq!(
            rows(b"principal,service,target\na,cifs,\xC3"),
            Err("f:2: byte offset 32: not valid UTF-8 (byte 0xC3); save the file as UTF-8 or UTF-16 with BOM".into())
        );
        assert_eq!(
            rows(b"\xFF\xFEp\0,\0\x00\xD8"),
            Err("f: byte offset 6: invalid UTF-16: unpaired surrogate at the end".into())
        );
    }

    /// A CSV of `rows` rows with multibyte text, CRLF and blank lines: so
    /// that chunks end inside characters and line ends.
    fn big_csv(rows: usize) -> String {
        let mut text =
            "#TYPE x\r\n\"principal\";\"service\";\"target\";\"comment\"\r\n".to_string();
        for i in 0..rows {
            text.push_str(&format!(
                "h\u{f6}st{i};cifs;f{i};\"\u{2603}\u{1F600} {i}\"\r\n"
            ));
            if i % 1000 == 0 {
                text.push_str("\r\n");
            }
        }
        text
    }

    #[test]
    fn the_window_streams_with_the_same_lines_whatever_the_chunks() {
        let text = big_csv(30_000);
        assert!(text.len() > 10 * Window::<&[u8]>::CHUNK);
        let whole = read_all("f", &text, None).unwrap();
        assert_eq!(whole.len(), 30_000);
        // Line 1 is #TYPE, 2 the header, then one per row and a blank
        // line after rows 0, 1000, 2000...
        assert_eq!(whole[0], (3, "h\u{f6}st0".to_string()));
        assert_eq!(whole[1], (5, "h\u{f6}st1".to_string()));
        assert_eq!(
            whole[29_999],
            (3 + 29_999 + 30, "h\u{f6}st29999".to_string())
        );
        let mut problems = Problems::default();
        let mut trickled = Vec::new();
        read_rows(
            "f",
            Trickle(text.as_bytes(), 0),
            None,
            &mut problems,
            |_, r, _| trickled.push((r.line, r.get(Field::Principal).unwrap().to_string())),
        )
        .unwrap();
        assert!(problems.is_empty());
        assert_eq!(trickled, whole);
    }

    #[test]
    fn the_window_stays_small() {
        let text = big_csv(100_000);
        let mut window = Window::new(text.as_bytes());
        let mut rows = 0;
        let problem = parse_records("f", &mut window, None, |chunk| match chunk {
            Chunk::Header(_) => Some(Batch::default()),
            Chunk::Rows(mut batch) => {
                rows += batch.len;
                batch.len = 0;
                Some(batch)
            }
        });
        assert!(problem.unwrap().is_none());
        assert_eq!(rows, 100_000);
        assert!(window.eof && window.bad.is_none());
        assert!(
            window.bytes.capacity() <= 4 * Window::<&[u8]>::CHUNK,
            "{} bytes held for a {}-byte file",
            window.bytes.capacity(),
            text.len()
        );
    }

    /// A bad header ends the reading at once (the reader thread stops at
    /// its next batch), and so do bytes that are not text anywhere.
    #[test]
    fn errors_stop_the_reader_thread() {
        let text = big_csv(50_000).replace("\"principal\"", "\"who\"");
        let e = read_all("f", &text, None).unwrap_err().to_string();
        assert!(e.starts_with("f:2: "), "{e}");
        // A csv error after good rows: the rows before it are handed on.
        let mut text = big_csv(3_000);
        text.push_str("a;cifs;b;\"open\n");
        let mut rows = 0;
        let problems = read_each("f", text.as_bytes(), None, |_| rows += 1).unwrap();
        assert_eq!(rows, 3_000);
        assert!(!problems.is_empty());
    }

    #[test]
    fn not_utf8_deep_in_a_file_is_located_in_the_file() {
        let mut bytes = big_csv(20_000).into_bytes();
        let at = bytes.len() - 5;
        bytes[at] = 0xFE;
        let lines = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count();
        let e = read_bytes("f", &bytes, None).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("f:{lines}: byte offset {at}: not valid UTF-8 (byte 0xFE); save the file as UTF-8 or UTF-16 with BOM\nerror: 1 problem in the input; nothing was written")
        );
    }

    #[test]
    fn delimiter_detection() {
        assert_eq!(detect_delimiter("principal;service;target"), b';');
        assert_eq!(detect_delimiter("principal,service,target"), b',');
        assert_eq!(detect_delimiter("\"a;b\",c,d"), b',');
    }

    /// Cells lose the white space around them, ASCII or not (NBSP,
    /// ideographic space), and are found in the right place when fields
    /// before them hold multibyte text, are blank, or sit under no column.
    #[test]
    fn cells_are_trimmed_and_found_whatever_the_text_before() {
        let text = "comment,principal,,service,target\n\
                    \u{a0}caf\u{e9} \u{3000},  h\u{f6}st  ,, cifs,\u{a0}b \n\
                    plain  ,  a  ,  ,  MSSQLSvc ,c\n\
                    ,\u{e9}t\u{e9},,http, d\u{a0}\n";
        let mut rows = Vec::new();
        read_each("f", text.as_bytes(), None, |r| {
            let cells = [
                Field::Comment,
                Field::Principal,
                Field::Service,
                Field::Target,
            ];
            rows.push(cells.map(|f| r.get(f).map(str::to_string)));
        })
        .unwrap()
        .check()
        .unwrap();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            rows,
            vec![
                [s("caf\u{e9}"), s("h\u{f6}st"), s("cifs"), s("b")],
                [s("plain"), s("a"), s("MSSQLSvc"), s("c")],
                [None, s("\u{e9}t\u{e9}"), s("http"), s("d")],
            ]
        );
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
