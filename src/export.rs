//! Reading a directory export: an LDIF content file (RFC 2849) as written by
//! `ldifde -f` (Windows, optionally UTF-16 with `-u`), `ldapsearch -LLL`
//! (OpenLDAP) or `ldbsearch` (Samba). Streams record by record, so a
//! 500,000-account export never sits in memory; keeps only the attributes
//! kcdplan needs. Folded lines, base64 values, comments, `version: 1`, CRLF,
//! BOMs and UTF-16 are handled; malformed records are located errors.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc;
use std::thread;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::{Error, Location, Problem, Result};
use crate::sanitize::show;

/// Attributes kept from each record (lowercase); everything else is skipped.
pub const ATTRIBUTES: &[&str] = &[
    "samaccountname",
    "dnshostname",
    "useraccountcontrol",
    "objectsid",
    "serviceprincipalname",
    "msds-allowedtodelegateto",
    "msds-allowedtoactonbehalfofotheridentity",
];

/// One attribute value: text, or bytes when written as base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    Text(String),
    Bytes(Vec<u8>),
}

impl AttrValue {
    /// The value as text (base64 values must be UTF-8).
    pub fn text(&self) -> Option<&str> {
        match self {
            AttrValue::Text(s) => Some(s),
            AttrValue::Bytes(b) => std::str::from_utf8(b).ok(),
        }
    }
}

/// One record of the export, with the kept attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Line the record starts on.
    pub line: u64,
    pub dn: String,
    /// (lowercase attribute name, value), in file order.
    pub attrs: Vec<(&'static str, AttrValue)>,
}

impl Entry {
    pub fn values<'a>(&'a self, attr: &'a str) -> impl Iterator<Item = &'a AttrValue> + 'a {
        self.attrs
            .iter()
            .filter(move |(a, _)| *a == attr)
            .map(|(_, v)| v)
    }

    pub fn text<'a>(&'a self, attr: &'a str) -> Option<&'a str> {
        self.values(attr).next().and_then(AttrValue::text)
    }

    pub fn texts<'a>(&'a self, attr: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.values(attr).filter_map(AttrValue::text)
    }
}

/// What the reader saw of the file as a whole.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportInfo {
    pub name: String,
    pub sha256: String,
    pub records: u64,
}

/// Turns UTF-16 (LE or BE) bytes into UTF-8 bytes as they are read.
struct Utf16Reader<R: Read> {
    inner: R,
    le: bool,
    out: Vec<u8>,
    pos: usize,
    pending: Option<u16>,
    offset: u64,
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.out.len() {
            self.out.clear();
            self.pos = 0;
            let mut raw = [0u8; 8192];
            let n = self.inner.read(&mut raw)?;
            if n == 0 {
                if self.pending.is_some() {
                    return Err(bad_utf16(self.offset, "unpaired surrogate at the end"));
                }
                return Ok(0);
            }
            let mut raw = raw[..n].to_vec();
            if n % 2 == 1 {
                let mut one = [0u8; 1];
                if self.inner.read(&mut one)? == 0 {
                    return Err(bad_utf16(
                        self.offset + n as u64,
                        "odd number of bytes (truncated file?)",
                    ));
                }
                raw.push(one[0]);
            }
            for c in raw.chunks_exact(2) {
                let u = if self.le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                };
                let units: Vec<u16> = match self.pending.take() {
                    Some(hi) => vec![hi, u],
                    None if (0xD800..0xDC00).contains(&u) => {
                        self.pending = Some(u);
                        self.offset += 2;
                        continue;
                    }
                    None => vec![u],
                };
                for ch in char::decode_utf16(units) {
                    let ch = ch.map_err(|_| bad_utf16(self.offset, "unpaired surrogate"))?;
                    let mut b = [0u8; 4];
                    self.out
                        .extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                }
                self.offset += 2;
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn bad_utf16(offset: u64, what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("byte offset {}: invalid UTF-16: {what}", offset + 2),
    )
}

/// Reads a file on a second thread, hashing it on the way; the parser
/// gets its bytes in large chunks and never waits for the hash.
struct BackgroundReader {
    chunks: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    give_back: mpsc::Sender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    reader: Option<thread::JoinHandle<String>>,
}

const CHUNK: usize = 1 << 18;

impl BackgroundReader {
    fn start(mut file: std::fs::File) -> BackgroundReader {
        let (send, chunks) = mpsc::sync_channel(4);
        let (give_back, spare) = mpsc::channel::<Vec<u8>>();
        let reader = thread::spawn(move || {
            let mut hasher = Sha256::new();
            loop {
                let mut buf = spare.try_recv().unwrap_or_default();
                buf.resize(CHUNK, 0);
                let n = match file.read(&mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let _ = send.send(Err(e));
                        break;
                    }
                };
                if n == 0 {
                    break;
                }
                buf.truncate(n);
                hasher.update(&buf);
                if send.send(Ok(buf)).is_err() {
                    break;
                }
            }
            crate::input::hex(&hasher.finalize())
        });
        BackgroundReader {
            chunks,
            give_back,
            current: Vec::new(),
            pos: 0,
            reader: Some(reader),
        }
    }

    /// Reads to the end and returns the SHA-256 of the whole file.
    fn finish(mut self) -> std::io::Result<String> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        let reader = self.reader.take().expect("finished once");
        reader
            .join()
            .map_err(|_| std::io::Error::other("the file reader failed"))
    }
}

impl Read for BackgroundReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.current.len() {
            let used = std::mem::take(&mut self.current);
            let _ = self.give_back.send(used);
            self.pos = 0;
            match self.chunks.recv() {
                Ok(chunk) => self.current = chunk?,
                // The reader is done: end of file.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Reads the export at `path`, calling `each` for every record.
pub fn read(path: &Path, each: impl FnMut(Entry) -> Result<()>) -> Result<ExportInfo> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut background = BackgroundReader::start(file);
    let records = read_from(&name, &mut background, each)?;
    // Whatever was not read (nothing, normally) is hashed too.
    let sha256 = background
        .finish()
        .map_err(|e| Error::io("read", path, e))?;
    Ok(ExportInfo {
        name,
        sha256,
        records,
    })
}

/// Reads an export from any reader (tests, standard input).
pub fn read_from(
    name: &str,
    r: &mut dyn Read,
    mut each: impl FnMut(Entry) -> Result<()>,
) -> Result<u64> {
    let mut head = [0u8; 3];
    let mut got = 0;
    while got < 3 {
        let n = r
            .read(&mut head[got..])
            .map_err(|e| Error::io("read", name, e))?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let head = &head[..got];
    let reader: Box<dyn BufRead + '_> = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Box::new(BufReader::with_capacity(1 << 16, r))
    } else if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        let le = head[0] == 0xFF;
        let rest = head[2..].to_vec();
        Box::new(BufReader::with_capacity(
            1 << 16,
            Utf16Reader {
                inner: std::io::Cursor::new(rest).chain(r),
                le,
                out: Vec::new(),
                pos: 0,
                pending: None,
                offset: 0,
            },
        ))
    } else {
        Box::new(BufReader::with_capacity(
            1 << 16,
            std::io::Cursor::new(head.to_vec()).chain(r),
        ))
    };
    parse(name, reader, &mut each)
}

/// A logical (unfolded) line and the physical line it starts on.
struct Logical<'a> {
    line: u64,
    text: &'a str,
}

fn parse(
    name: &str,
    mut r: Box<dyn BufRead + '_>,
    each: &mut dyn FnMut(Entry) -> Result<()>,
) -> Result<u64> {
    let at = |line: u64| Location::line(name, line);
    let mut buf = Vec::new();
    let mut physical = 0u64;
    // The current record's logical lines, back to back in one buffer (no
    // allocation per line): (first physical line, start, end) each.
    let mut text = String::new();
    let mut spans: Vec<(u64, usize, usize)> = Vec::new();
    // The logical line still open to continuation lines.
    let mut pending: Option<(u64, usize)> = None;
    let mut records = 0u64;
    let mut first_record = true;
    let mut finish = |text: &mut String,
                      spans: &mut Vec<(u64, usize, usize)>,
                      first_record: &mut bool|
     -> Result<()> {
        if spans.is_empty() {
            return Ok(());
        }
        let lines: Vec<Logical> = spans
            .iter()
            .map(|&(line, s, e)| Logical {
                line,
                text: &text[s..e],
            })
            .collect();
        if let Some(e) = finish_record(name, &lines, *first_record)? {
            records += 1;
            each(e)?;
        }
        *first_record = false;
        text.clear();
        spans.clear();
        Ok(())
    };
    loop {
        buf.clear();
        let n = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::input(Problem::new(at(physical + 1), e.to_string())))?;
        let eof = n == 0;
        if !eof {
            physical += 1;
            if buf.ends_with(b"\n") {
                buf.pop();
            }
            if buf.ends_with(b"\r") {
                buf.pop();
            }
        }
        let line = if eof {
            None
        } else {
            Some(std::str::from_utf8(&buf).map_err(|e| {
                Error::input(Problem::new(
                    at(physical),
                    format!(
                        "not valid UTF-8 at byte {} of the line; export as UTF-8 or with ldifde -u",
                        e.valid_up_to() + 1
                    ),
                ))
            })?)
        };
        // Folding: a line starting with one space continues the previous one.
        if let Some(rest) = line.and_then(|t| t.strip_prefix(' ')) {
            if pending.is_none() {
                return Err(Error::input(Problem::new(
                    at(physical),
                    "a continuation line (starting with a space) follows nothing",
                )));
            }
            text.push_str(rest);
            continue;
        }
        if let Some((line, start)) = pending.take() {
            if text[start..].starts_with('#') {
                // A comment, unfolded: dropped.
                text.truncate(start);
            } else if start == text.len() {
                // An empty line ends the record.
                finish(&mut text, &mut spans, &mut first_record)?;
            } else {
                spans.push((line, start, text.len()));
            }
        }
        match line {
            Some(t) => {
                pending = Some((physical, text.len()));
                text.push_str(t);
            }
            None => break,
        }
    }
    finish(&mut text, &mut spans, &mut first_record)?;
    Ok(records)
}

/// Parses `name: value`, `name:: base64` or `name:< url` into the name and value.
/// The name is returned as written, without options (`;binary`).
fn split_attr<'a>(name: &str, l: &Logical<'a>) -> Result<(&'a str, AttrValue)> {
    let at = Location::line(name, l.line);
    let Some(colon) = l.text.bytes().position(|b| b == b':') else {
        return Err(Error::input(Problem::new(
            at,
            format!("'{}' is not an LDIF line (no ':')", show(&clip(l.text))),
        )));
    };
    let attr = &l.text[..colon];
    if attr.is_empty()
        || !attr
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ';' | '.'))
    {
        return Err(Error::input(Problem::new(
            at,
            format!("'{}' is not an attribute name", show(&clip(attr))),
        )));
    }
    // Attribute options (`;binary`, `;lang-en`) are dropped.
    let base = before_byte(attr, b';');
    let rest = &l.text[colon + 1..];
    let value = if let Some(b64) = rest.strip_prefix(':') {
        let b64: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
        AttrValue::Bytes(STANDARD.decode(b64.as_bytes()).map_err(|e| {
            Error::input(Problem::new(
                Location::line(name, l.line),
                format!("attribute '{}': invalid base64: {e}", show(attr)),
            ))
        })?)
    } else if rest.starts_with('<') {
        return Err(Error::input(Problem::new(
            at,
            format!(
                "attribute '{}': URL values (':<') are not read; export the value inline",
                show(attr)
            ),
        )));
    } else {
        AttrValue::Text(rest.trim_start_matches(' ').to_string())
    };
    Ok((base, value))
}

/// The text before the first `b` (all of it without one); `b` is ASCII.
fn before_byte(s: &str, b: u8) -> &str {
    match s.bytes().position(|c| c == b) {
        Some(i) => &s[..i],
        None => s,
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

fn finish_record(name: &str, lines: &[Logical], first: bool) -> Result<Option<Entry>> {
    let mut it = lines.iter().peekable();
    // `version: 1` before the first record.
    if first {
        if let Some(l) = it.peek() {
            if l.text.to_ascii_lowercase().starts_with("version:") {
                let v = l.text[8..].trim();
                if v != "1" {
                    return Err(Error::input(Problem::new(
                        Location::line(name, l.line),
                        format!("unsupported LDIF version '{}'", show(v)),
                    )));
                }
                it.next();
                if it.peek().is_none() {
                    return Ok(None);
                }
            }
        }
    }
    let head = it.next().expect("record has lines");
    let (attr, value) = split_attr(name, head)?;
    if ["ref", "search", "result"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(attr))
    {
        // Referrals and ldapsearch result trailers carry no entry.
        return Ok(None);
    }
    if !attr.eq_ignore_ascii_case("dn") {
        return Err(Error::input(Problem::new(
            Location::line(name, head.line),
            format!(
                "a record must start with 'dn:', found '{}:'",
                show(&attr.to_ascii_lowercase())
            ),
        )));
    }
    let dn = value.text().map(str::to_string).ok_or_else(|| {
        Error::input(Problem::new(
            Location::line(name, head.line),
            "the DN is not valid UTF-8",
        ))
    })?;
    if dn.is_empty() {
        // The root DSE; nothing to plan with.
        return Ok(None);
    }
    let mut attrs = Vec::new();
    for l in it {
        // Skip attributes nobody reads before decoding them; still check
        // that the line is an attribute line at all.
        let attr = before_byte(l.text, b':');
        let base = before_byte(attr, b';');
        let kept = ATTRIBUTES.iter().any(|k| k.eq_ignore_ascii_case(base))
            || base.eq_ignore_ascii_case("changetype");
        if !kept && l.text.contains(':') && !attr.is_empty() {
            continue;
        }
        let (a, v) = split_attr(name, l)?;
        if a.eq_ignore_ascii_case("changetype") {
            return Err(Error::input(Problem::new(
                Location::line(name, l.line),
                "this is a change file, not an export (found 'changetype:')",
            )));
        }
        if let Some(k) = ATTRIBUTES.iter().find(|k| k.eq_ignore_ascii_case(a)) {
            attrs.push((*k, v));
        }
    }
    Ok(Some(Entry {
        line: head.line,
        dn,
        attrs,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(bytes: &[u8]) -> Result<Vec<Entry>> {
        let mut v = Vec::new();
        read_from("x.ldif", &mut &bytes[..], |e| {
            v.push(e);
            Ok(())
        })?;
        Ok(v)
    }

    #[test]
    fn folded_base64_comments_version() {
        let text = "version: 1\n# comment\n#  folded comment\n dn: not-a-dn\n\ndn: CN=A,DC=x\nsAMAccountName: A$\nmsDS-AllowedToDelegateTo: cifs/ho\n st1\nobjectSid:: AQUAAAAAAAUVAAAA\ndescription: ignored\n\n\ndn:: Q049TcOcTExFUixEQz14\nuserAccountControl: 4096\n";
        let e = entries(text.as_bytes()).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].line, 6);
        assert_eq!(e[0].text("msds-allowedtodelegateto"), Some("cifs/host1"));
        assert_eq!(
            e[0].values("objectsid").next(),
            Some(&AttrValue::Bytes(vec![1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0]))
        );
        assert!(e[0].text("description").is_none());
        assert_eq!(e[1].dn, "CN=MÜLLER,DC=x");
    }

    #[test]
    fn crlf_bom_and_utf16() {
        let text = "dn: CN=A,DC=x\r\nsAMAccountName: A$\r\n\r\n";
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(entries(&bom).unwrap()[0].text("samaccountname"), Some("A$"));
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(entries(&le).unwrap()[0].dn, "CN=A,DC=x");
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(entries(&be).unwrap()[0].text("samaccountname"), Some("A$"));
    }

    #[test]
    fn record_without_dn_is_located() {
        let e = entries(b"dn: CN=A,DC=x\nsAMAccountName: A$\n\nsAMAccountName: B$\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.ldif:4: a record must start with 'dn:', found 'samaccountname:'\nerror: 1 problem in the input; nothing was written"
        );
    }

    #[test]
    fn truncated_base64_is_located() {
        let e = entries(b"dn: CN=A,DC=x\nobjectSid:: AQUAAAAAAAUVAAA\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("x.ldif:2: attribute 'objectSid': invalid base64"),
            "{e}"
        );
    }

    #[test]
    fn truncated_utf16_is_an_error() {
        let mut le = vec![0xFF, 0xFE];
        le.extend("dn: CN=A,DC=x\n".encode_utf16().flat_map(u16::to_le_bytes));
        le.push(b'x');
        assert!(entries(&le).is_err());
    }

    #[test]
    fn referrals_and_root_dse_are_skipped() {
        let e = entries(b"# Referral\nref: ldap://x/CN=Configuration\n\ndn:\nnamingContexts: DC=x\n\ndn: CN=A,DC=x\n").unwrap();
        assert_eq!(e.len(), 1);
    }

    /// A file of many read chunks, records and folded lines straddling
    /// chunk ends: the same entries as reading the bytes in one piece, and
    /// the SHA-256 of the whole file.
    #[test]
    fn file_read_in_chunks_on_a_second_thread() {
        let mut text = String::from("version: 1\n");
        for i in 0..4000 {
            let long = format!("cifs/{}.contoso.com", "h".repeat(i % 90 + 1));
            let folded: Vec<String> = long
                .as_bytes()
                .chunks(40)
                .map(|c| String::from_utf8(c.to_vec()).unwrap())
                .collect();
            text.push_str(&format!(
                "\ndn: CN=H{i},DC=x\nsAMAccountName: H{i}$\nmsDS-AllowedToDelegateTo: {}\ndescription: {}\n",
                folded.join("\n "),
                "x".repeat(300)
            ));
        }
        assert!(text.len() > 4 * CHUNK);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.ldif");
        std::fs::write(&path, &text).unwrap();
        let mut from_file = Vec::new();
        let info = read(&path, |e| {
            from_file.push(e);
            Ok(())
        })
        .unwrap();
        assert_eq!(info.records, 4000);
        assert_eq!(
            info.sha256,
            crate::input::hex(&Sha256::digest(text.as_bytes()))
        );
        assert_eq!(from_file, entries(text.as_bytes()).unwrap());
        assert_eq!(
            from_file[3999].text("msds-allowedtodelegateto"),
            Some(format!("cifs/{}.contoso.com", "h".repeat(3999 % 90 + 1)).as_str())
        );
    }
}
