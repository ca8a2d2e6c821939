//! Reading the CSV as it streams in (from a file or standard input; never
//! held whole): hashed, decoded (UTF-8 with or without BOM, UTF-16 with BOM,
//! by [`crate::text`]), checked to be UTF-8, the Windows PowerShell `#TYPE`
//! line skipped, the delimiter detected, the header checked, and every
//! record turned into raw cells keyed by column, with the line it started
//! on; all of this, and each row's own checks (`check_row` in
//! validate.rs), on a second thread, ahead of the planning. All csv
//! reader settings live in [`csv_reader`].

use std::io::Read;
use std::path::Path;

use crate::columns::{parse_header, Field, Header};
use crate::error::{Error, Location, Problem, Problems, Result};
use crate::sanitize::{is_forbidden, is_plain, show};
use crate::text::{decoded, Hashing};

/// The most bytes one field may hold.
pub const MAX_FIELD_BYTES: usize = 1024;

/// The input as read: its display name and the SHA-256 of its bytes.
#[derive(Debug, Clone)]
pub struct Source {
    /// Name used in messages and the summary (`<stdin>` for `-`).
    pub name: String,
    pub sha256: String,
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

/// The text as it streams past the csv reader. Checks that it is UTF-8 and
/// hands on only checked bytes; keeps the bytes from the last offset asked
/// about on (a few KiB, whatever the file's size); tells the line of any
/// offset at or after the last one asked about. Offsets count bytes of the
/// decoded text from its start.
struct Window<R> {
    inner: R,
    /// The text from offset `base` is `bytes[..len]`, of which
    /// `bytes[..checked]` is UTF-8.
    bytes: Vec<u8>,
    len: usize,
    checked: usize,
    base: u64,
    /// The next offset handed to the csv reader.
    next: u64,
    /// The last offset asked about, and its line.
    at: u64,
    line: u64,
    /// The first byte that is not UTF-8 (offset, value).
    bad: Option<(u64, u8)>,
    /// What reading the file failed with.
    failed: Option<std::io::Error>,
    eof: bool,
}

impl<R: Read> Window<R> {
    const CHUNK: usize = 1 << 16;

    fn new(inner: R) -> Window<R> {
        Window {
            inner,
            bytes: Vec::new(),
            len: 0,
            checked: 0,
            base: 0,
            next: 0,
            at: 0,
            line: 1,
            bad: None,
            failed: None,
            eof: false,
        }
    }

    fn end(&self) -> u64 {
        self.base + self.checked as u64
    }

    /// Reads a chunk and checks it. Returns false when no more checked
    /// bytes will come (the end, a byte that is not UTF-8, a read error).
    fn fill(&mut self) -> bool {
        if self.eof || self.bad.is_some() || self.failed.is_some() {
            return false;
        }
        // Bytes before the last offset asked about are not needed again.
        let done = (self.at.min(self.next) - self.base) as usize;
        if done >= Self::CHUNK {
            self.bytes.copy_within(done..self.len, 0);
            self.len -= done;
            self.checked -= done;
            self.base += done as u64;
        }
        // Room for a chunk (new room only when a record outgrows it).
        if self.bytes.len() < self.len + Self::CHUNK {
            self.bytes.resize(self.len + Self::CHUNK, 0);
        }
        let n = loop {
            match self.inner.read(&mut self.bytes[self.len..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.failed = Some(e);
                    return false;
                }
                Ok(n) => break n,
            }
        };
        if n == 0 {
            self.eof = true;
            if self.checked < self.len {
                // A sequence cut off by the end of the file.
                self.bad = Some((self.end(), self.bytes[self.checked]));
            }
            return false;
        }
        self.len += n;
        match std::str::from_utf8(&self.bytes[self.checked..self.len]) {
            Ok(_) => self.checked = self.len,
            Err(e) => {
                self.checked += e.valid_up_to();
                if e.error_len().is_some() {
                    self.bad = Some((self.end(), self.bytes[self.checked]));
                }
                // Else a sequence goes on in the next chunk.
            }
        }
        true
    }

    /// The checked text from the next offset to the end of its first
    /// line that is not blank (all of it if there is none).
    fn head(&mut self) -> &[u8] {
        let mut from = 0;
        loop {
            let text = &self.bytes[(self.next - self.base) as usize..self.checked];
            let line = memchr::memchr(b'\n', &text[from..]);
            match line {
                // (Whole lines of checked text are UTF-8.)
                Some(i)
                    if std::str::from_utf8(&text[from..from + i])
                        .is_ok_and(|l| l.trim().is_empty()) =>
                {
                    from += i + 1
                }
                Some(i) => return &self.bytes[(self.next - self.base) as usize..][..from + i + 1],
                None => {
                    if !self.fill() {
                        return &self.bytes[(self.next - self.base) as usize..self.checked];
                    }
                }
            }
        }
    }

    /// The byte at `offset`, if the window holds it.
    fn byte(&self, offset: u64) -> Option<u8> {
        let i = usize::try_from(offset.checked_sub(self.base)?).ok()?;
        self.bytes[..self.checked].get(i).copied()
    }

    /// The 1-based line of `offset`, which is at or after the last offset
    /// asked about.
    fn line_of(&mut self, offset: u64) -> u64 {
        let to = offset.clamp(self.at, self.end());
        let (a, b) = ((self.at - self.base) as usize, (to - self.base) as usize);
        self.line += memchr::memchr_iter(b'\n', &self.bytes[a..b]).count() as u64;
        self.at = to;
        self.line
    }
}

impl<R: Read> Read for Window<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.next == self.end() {
            if !self.fill() && self.next == self.end() {
                return match (&self.bad, &self.failed) {
                    (None, None) => Ok(0),
                    _ => Err(std::io::Error::other("the text stops here")),
                };
            }
        }
        let from = (self.next - self.base) as usize;
        let n = buf.len().min(self.checked - from);
        buf[..n].copy_from_slice(&self.bytes[from..from + n]);
        self.next += n as u64;
        Ok(n)
    }
}

/// The one place that configures the csv reader.
fn csv_reader<R: Read>(text: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(text)
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

/// A record read ahead and checked: the line it starts on, its fields,
/// and where its cells are (field, trimmed byte range), or its problems.
#[derive(Default)]
struct Record {
    line: u64,
    fields: csv::StringRecord,
    cells: Cells,
    problems: Vec<Problem>,
}

/// Per column, its cell's byte range in the record's text (the fields one
/// after another, [`csv::StringRecord::as_slice`]).
type Cells = [Option<(usize, usize)>; Field::ALL.len()];

impl Record {
    fn row(&self) -> RawRow<'_> {
        let text = self.fields.as_slice();
        RawRow {
            line: self.line,
            cells: (self.cells).map(|c| c.map(|(from, to)| &text[from..to])),
        }
    }
}

/// What the reader thread hands over: the header, then records in
/// batches (`rows[..len]`; the records beyond are kept for their buffers).
enum Chunk<C> {
    Header(Header),
    Rows(Batch<C>),
}

struct Batch<C> {
    rows: Vec<Record>,
    /// Per row of `rows[..len]` without problems: what `check` found.
    checked: Vec<Option<C>>,
    len: usize,
}

impl<C> Default for Batch<C> {
    fn default() -> Batch<C> {
        Batch {
            rows: Vec::new(),
            checked: Vec::new(),
            len: 0,
        }
    }
}

impl<C> Batch<C> {
    const ROWS: usize = 512;
}

/// Streams the CSV's bytes: checks the header, then checks each good
/// record with `check` and hands it, with what `check` found, to `sink`,
/// in input order; every bad one goes into `problems`. Returns the SHA-256
/// of the bytes. A missing or bad header, or bytes that are not text, are
/// an error at once, as nothing after them can be read. The bytes are read,
/// hashed, decoded, cut into records and each record checked (`check`
/// included) on a second thread, while this one runs `sink` (planning).
pub fn read_rows<C: Send>(
    name: &str,
    bytes: impl Read + Send,
    delimiter: Option<u8>,
    problems: &mut Problems,
    check: impl Fn(&Header, &RawRow<'_>) -> std::result::Result<C, Vec<Problem>> + Sync,
    mut sink: impl FnMut(&Header, RawRow<'_>, C, &mut Problems),
) -> Result<String> {
    let (send, chunks) = std::sync::mpsc::sync_channel::<Chunk<C>>(4);
    let (give_back, spare) = std::sync::mpsc::channel::<Batch<C>>();
    let check = &check;
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let mut header: Option<Header> = None;
            read_records(name, bytes, delimiter, |mut chunk| {
                match &mut chunk {
                    Chunk::Header(h) => header = Some(h.clone()),
                    Chunk::Rows(batch) => {
                        let h = header.as_ref().expect("the header comes first");
                        let Batch { rows, checked, len } = batch;
                        checked.clear();
                        for record in &mut rows[..*len] {
                            checked.push(if record.problems.is_empty() {
                                match check(h, &record.row()) {
                                    Ok(c) => Some(c),
                                    Err(p) => {
                                        record.problems = p;
                                        None
                                    }
                                }
                            } else {
                                None
                            });
                        }
                    }
                }
                send.send(chunk).ok()?;
                Some(spare.try_recv().unwrap_or_default())
            })
        });
        let mut header: Option<Header> = None;
        for chunk in chunks.iter() {
            let mut batch = match chunk {
                Chunk::Header(h) => {
                    header = Some(h);
                    continue;
                }
                Chunk::Rows(batch) => batch,
            };
            let h = header.as_ref().expect("the header comes first");
            let Batch { rows, checked, len } = &mut batch;
            for (record, checked) in rows[..*len].iter_mut().zip(checked.drain(..)) {
                match checked {
                    Some(c) => sink(h, record.row(), c, problems),
                    None => problems.extend(record.problems.drain(..)),
                }
            }
            // (The reader may have stopped: then the batch is not needed.)
            let _ = give_back.send(batch);
        }
        let (problem, sha256) = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        problems.extend(problem);
        if header.is_none() {
            return Err(Error::input(Problem::new(
                Location::file(name),
                "the file is empty: a header row is required (principal,service,target,...)",
            )));
        }
        Ok(sha256)
    })
}

/// The reader's side: hashes, decodes and checks the bytes, reads the
/// header and hands it to `deliver`, then the records that are not blank,
/// checked, a batch at a time (`deliver` returns an empty batch to fill,
/// or `None` to stop). Returns the csv reader's error, located, if it
/// stopped at one, and the SHA-256 of the bytes. A bad header is an error.
fn read_records<C>(
    name: &str,
    bytes: impl Read,
    delimiter: Option<u8>,
    deliver: impl FnMut(Chunk<C>) -> Option<Batch<C>>,
) -> Result<(Option<Problem>, String)> {
    let mut hashing = Hashing::new(bytes);
    let problem = {
        let text = decoded(&mut hashing).map_err(|e| Error::io("read", name, e))?;
        let mut window = Window::new(text.text);
        let problem = parse_records(name, &mut window, delimiter, deliver);
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

fn parse_records<R: Read, C>(
    name: &str,
    window: &mut Window<R>,
    delimiter: Option<u8>,
    mut deliver: impl FnMut(Chunk<C>) -> Option<Batch<C>>,
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
    let mut reader = csv_reader(window, delimiter);
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
        let window = reader.get_mut();
        // With CRLF the csv crate reports a record as starting at the `\n`
        // that ends the previous line (rust-csv #395); skip line breaks.
        let mut rec_start = body + record.fields.position().map_or(start, |p| p.byte());
        while matches!(window.byte(rec_start), Some(b'\r' | b'\n')) {
            rec_start += 1;
        }
        record.line = window.line_of(rec_start);
        if record.fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let Some(h) = &header else {
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
        check_record(name, h, record);
        batch.len += 1;
        if batch.len == Batch::<C>::ROWS {
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
        rows.push((r.line, r.get(Field::Principal).unwrap_or("").to_string()))
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
    read_rows(
        name,
        bytes,
        delimiter,
        &mut problems,
        |_, _| Ok(()),
        |_, r, (), _| sink(r),
    )?;
    Ok(problems)
}

/// Checks a record's fields against the header: its problems, or where
/// its cells are, go into the record.
fn check_record(name: &str, header: &Header, record: &mut Record) {
    let Record {
        line,
        fields,
        cells,
        problems,
    } = record;
    let line = *line;
    *cells = [None; Field::ALL.len()];
    let mut problem = |p: Problem| problems.push(p);
    let width = header.columns.len();
    // Trailing empty fields (spreadsheet exports) are fine; others are not.
    if fields.len() < width || (width..fields.len()).any(|i| !fields[i].trim().is_empty()) {
        problem(Problem::new(
            Location::line(name, line),
            format!(
                "the row has {} fields but the header has {}",
                fields.len(),
                width
            ),
        ));
        return;
    }
    // Where the field starts in the record's text.
    let mut at = 0;
    for (i, value) in fields.iter().take(width).enumerate() {
        let start = at;
        at += value.len();
        let column = &header.written[i];
        // Fast path: printable ASCII needs no further look.
        let plain = is_plain(value);
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
        // The cell: the value without white space around it. In printable
        // ASCII the space is the only white space.
        let (from, value) = if plain {
            let b = value.as_bytes();
            let from = b.iter().position(|&c| c != b' ').unwrap_or(b.len());
            let to = b.iter().rposition(|&c| c != b' ').map_or(from, |k| k + 1);
            (from, &value[from..to])
        } else {
            (value.len() - value.trim_start().len(), value.trim())
        };
        match header.columns[i] {
            Some(field) => {
                if !value.is_empty() {
                    let from = start + from;
                    cells[field as usize] = Some((from, from + value.len()));
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Trickle;

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
            |_, _| Ok(()),
            |_, r, (), _| trickled.push((r.line, r.get(Field::Principal).unwrap().to_string())),
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
            Chunk::Header(_) => Some(Batch::<()>::default()),
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
