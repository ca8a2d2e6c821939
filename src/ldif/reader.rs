//! Reading a directory export: an LDIF content file (RFC 2849) as written by
//! `ldifde -f` (Windows, optionally UTF-16 with `-u`), `ldapsearch -LLL`
//! (OpenLDAP) or `ldbsearch` (Samba). Streams record by record, so a
//! forest-sized export never sits in memory, and keeps only the attributes
//! kcdplan needs. Folded lines, base64 values, comments, `version: 1`, CRLF,
//! BOMs and UTF-16 are handled; malformed records are located errors.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::error::{Error, Location, Problem, Result};
use crate::model::{ExportInfo, FileInfo};
use crate::parallel::{pipeline, Producer};
use crate::sanitize::echo;
use crate::text::{decoded, Hashing};

/// Attributes kept from each record (lowercase); everything else is skipped.
pub const ATTRIBUTES: &[&str] = &[
    "samaccountname",
    "dnshostname",
    "useraccountcontrol",
    "objectsid",
    "serviceprincipalname",
    "msds-allowedtodelegateto",
    "msds-allowedtoactonbehalfofotheridentity",
    "primarygroupid",
    "admincount",
];

/// [`ATTRIBUTES`] as AD spells them, in the same order.
pub const SPELLED: &[&str] = &[
    "sAMAccountName",
    "dNSHostName",
    "userAccountControl",
    "objectSid",
    "servicePrincipalName",
    "msDS-AllowedToDelegateTo",
    "msDS-AllowedToActOnBehalfOfOtherIdentity",
    "primaryGroupID",
    "adminCount",
];

/// One attribute value: text (read where it lies in the file's record),
/// or bytes when written as base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue<'a> {
    Text(Cow<'a, str>),
    Bytes(Vec<u8>),
}

impl<'a> AttrValue<'a> {
    /// The value as text (base64 values must be UTF-8).
    pub fn text(&self) -> Option<&str> {
        match self {
            AttrValue::Text(s) => Some(s),
            AttrValue::Bytes(b) => std::str::from_utf8(b).ok(),
        }
    }

    fn into_text(self) -> Option<Cow<'a, str>> {
        match self {
            AttrValue::Text(s) => Some(s),
            AttrValue::Bytes(b) => String::from_utf8(b).ok().map(Cow::Owned),
        }
    }

    pub fn into_owned(self) -> AttrValue<'static> {
        match self {
            AttrValue::Text(s) => AttrValue::Text(Cow::Owned(s.into_owned())),
            AttrValue::Bytes(b) => AttrValue::Bytes(b),
        }
    }
}

/// One record of the export, with the kept attributes. It borrows from
/// the reader: keep what you need with [`Entry::into_owned`] or copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'e> {
    /// Line the record starts on.
    pub line: u64,
    pub dn: Cow<'e, str>,
    /// (lowercase attribute name, value), in file order.
    pub attrs: Vec<(&'static str, AttrValue<'e>)>,
}

impl<'e> Entry<'e> {
    pub fn into_owned(self) -> Entry<'static> {
        Entry {
            line: self.line,
            dn: Cow::Owned(self.dn.into_owned()),
            attrs: self
                .attrs
                .into_iter()
                .map(|(a, v)| (a, v.into_owned()))
                .collect(),
        }
    }

    pub fn values<'a>(&'a self, attr: &'a str) -> impl Iterator<Item = &'a AttrValue<'e>> + 'a {
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

/// Whole lines of the text: `bytes[..len]` (the buffer beyond is kept, so
/// that it is not cleared again for every chunk); or why no more come.
#[derive(Default)]
struct Lines {
    bytes: Vec<u8>,
    len: usize,
    failed: Option<std::io::Error>,
}

impl Lines {
    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Cuts a text into chunks of whole lines.
struct LineChunks<R: Read> {
    src: R,
    /// The start of a line that runs past the end of the last chunk.
    carry: Vec<u8>,
    done: bool,
}

const CHUNK: usize = 1 << 18;

impl<R: Read> LineChunks<R> {
    fn new(src: R) -> LineChunks<R> {
        LineChunks {
            src,
            carry: Vec::new(),
            done: false,
        }
    }

    /// The next chunk, in `spare`'s buffers; `None` at the end.
    fn next(&mut self, mut spare: Lines) -> std::io::Result<Option<Lines>> {
        let (buf, len) = (&mut spare.bytes, &mut spare.len);
        *len = self.carry.len();
        if buf.len() < *len {
            buf.resize(*len, 0);
        }
        buf[..*len].copy_from_slice(&self.carry);
        self.carry.clear();
        loop {
            if self.done {
                if *len == 0 {
                    return Ok(None);
                }
                break;
            }
            if buf.len() < *len + CHUNK {
                buf.resize(*len + CHUNK, 0);
            }
            let n = match self.src.read(&mut buf[*len..*len + CHUNK]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                n => n?,
            };
            if n == 0 {
                self.done = true;
                continue;
            }
            let old = *len;
            *len += n;
            if let Some(i) = memchr::memrchr(b'\n', &buf[old..*len]) {
                self.carry.extend_from_slice(&buf[old + i + 1..*len]);
                *len = old + i + 1;
                break;
            }
        }
        Ok(Some(spare))
    }
}

/// Reads the export at `path`, calling `each` for every record. The file
/// is read, hashed, decoded and cut into lines on a second thread while
/// this one parses the lines already read.
pub fn read(path: &Path, mut each: impl FnMut(Entry) -> Result<()>) -> Result<ExportInfo> {
    let name = path.display().to_string();
    // Which kept attributes some record holds: a bit per ATTRIBUTES entry.
    let mut seen = 0u32;
    let all = (1u32 << ATTRIBUTES.len()) - 1;
    let each = |e: Entry| {
        if seen != all {
            for (a, _) in &e.attrs {
                if let Some(i) = ATTRIBUTES.iter().position(|k| k == a) {
                    seen |= 1 << i;
                }
            }
        }
        each(e)
    };
    let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let (sha256, records) = pipeline(
        4,
        |out| read_lines(file, out),
        |lines| {
            parse(
                &name,
                |used| {
                    lines.give_back(used);
                    match lines.recv() {
                        Some(Lines {
                            failed: Some(e), ..
                        }) => Err(e),
                        chunk => Ok(chunk),
                    }
                },
                each,
            )
        },
    );
    let records = records?;
    Ok(ExportInfo {
        file: FileInfo { name, sha256 },
        records,
        absent: (0..ATTRIBUTES.len())
            .filter(|i| seen & (1 << i) == 0)
            .map(|i| SPELLED[i])
            .collect(),
    })
}

/// The producer's side of [`read`]: the file's lines, a chunk at a time,
/// then the SHA-256 of its bytes.
fn read_lines(file: std::fs::File, out: Producer<Lines>) -> String {
    let mut hashing = Hashing::new(file);
    let result = decoded(&mut hashing).and_then(|text| {
        let mut lines = LineChunks::new(text.text);
        // (The parser stops at an error: then nothing more is wanted.)
        while let Some(chunk) = lines.next(out.item())? {
            if !out.send(chunk) {
                break;
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        out.send(Lines {
            failed: Some(e),
            ..Lines::default()
        });
    }
    hashing.sha256()
}

/// Reads an export from any reader (tests, standard input).
pub fn read_from(
    name: &str,
    r: &mut dyn Read,
    each: impl FnMut(Entry) -> Result<()>,
) -> Result<u64> {
    let text = decoded(r).map_err(|e| Error::io("read", name, e))?;
    let mut lines = LineChunks::new(text.text);
    parse(name, |used| lines.next(used), each)
}

/// A logical (unfolded) line and the physical line it starts on.
struct Logical<'a> {
    line: u64,
    text: &'a str,
    known: Known,
}

/// A kept attribute found when the line was read: its name and colon.
type Known = Option<(&'static str, usize)>;

/// The logical line that continuation lines extend.
enum Open {
    /// None: a continuation line here is an error.
    Nothing,
    /// A line kept for the record: its physical line, start in `text`
    /// and, when known, its attribute and colon.
    Kept(u64, usize, Known),
    /// A comment or an attribute nobody reads: continuations are dropped.
    Skipped,
}

/// Line-by-line state of the reader. Lines are read where they lie in the
/// read buffer; only the lines a record keeps are copied.
struct Parser<'a> {
    name: &'a str,
    each: &'a mut dyn FnMut(Entry) -> Result<()>,
    physical: u64,
    /// The current record's kept logical lines, back to back in one buffer
    /// (no allocation per line): their first physical line, start, end and
    /// attribute (when known) each.
    text: String,
    spans: Vec<(u64, usize, usize, Known)>,
    open: Open,
    records: u64,
    first_record: bool,
}

impl Parser<'_> {
    fn at(&self, line: u64) -> Location {
        Location::line(self.name, line)
    }

    /// One physical line, without its line feed.
    fn line(&mut self, t: &str) -> Result<()> {
        self.physical += 1;
        let t = t.strip_suffix('\r').unwrap_or(t);
        // Folding: a line starting with one space continues the previous one.
        if let Some(rest) = t.strip_prefix(' ') {
            return match self.open {
                Open::Nothing => Err(Error::input(Problem::new(
                    self.at(self.physical),
                    "a continuation line (starting with a space) follows nothing",
                ))),
                Open::Kept(..) => {
                    self.text.push_str(rest);
                    Ok(())
                }
                Open::Skipped => Ok(()),
            };
        }
        self.close_line();
        if t.is_empty() {
            // An empty line ends the record.
            return self.finish_record();
        }
        // A record's first line (and `version:` before the first record)
        // is always kept whole. Other lines whose attribute name is whole
        // on this line are sorted now: attributes nobody reads are dropped
        // unread.
        let heads = if self.first_record { 2 } else { 1 };
        let mut known = None;
        if t.starts_with('#') {
            self.open = Open::Skipped;
            return Ok(());
        } else if self.spans.len() >= heads {
            if let Some((colon, base)) = attribute(t).filter(|(colon, _)| *colon > 0) {
                match kept(base) {
                    Some(k) => known = Some((k, colon)),
                    None => {
                        self.open = Open::Skipped;
                        return Ok(());
                    }
                }
            }
        }
        self.open = Open::Kept(self.physical, self.text.len(), known);
        self.text.push_str(t);
        Ok(())
    }

    fn close_line(&mut self) {
        if let Open::Kept(line, start, known) = std::mem::replace(&mut self.open, Open::Nothing) {
            self.spans.push((line, start, self.text.len(), known));
        }
    }

    fn finish_record(&mut self) -> Result<()> {
        if self.spans.is_empty() {
            return Ok(());
        }
        let lines = self.spans.iter().map(|&(line, s, e, known)| Logical {
            line,
            text: &self.text[s..e],
            known,
        });
        if let Some(e) = finish_record(self.name, lines, self.first_record)? {
            self.records += 1;
            (self.each)(e)?;
        }
        self.first_record = false;
        self.text.clear();
        self.spans.clear();
        Ok(())
    }
}

/// Parses chunks of whole lines; `next` gets the last chunk back, to
/// reuse its buffers.
fn parse(
    name: &str,
    mut next: impl FnMut(Lines) -> std::io::Result<Option<Lines>>,
    mut each: impl FnMut(Entry) -> Result<()>,
) -> Result<u64> {
    let mut p = Parser {
        name,
        each: &mut each,
        physical: 0,
        text: String::new(),
        spans: Vec::new(),
        open: Open::Nothing,
        records: 0,
        first_record: true,
    };
    let mut chunk = Lines::default();
    loop {
        chunk = match next(chunk) {
            Ok(Some(c)) => c,
            Ok(None) => break,
            // Text that does not decode is the file's problem, at a line;
            // anything else is reading it (a folder, a failing disk).
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(Error::input(Problem::new(
                    p.at(p.physical + 1),
                    e.to_string(),
                )))
            }
            Err(e) => return Err(Error::io("read", name, e)),
        };
        let bytes = chunk.bytes();
        // Where each line ends: its line feed, or the end of the text.
        let ends = memchr::memchr_iter(b'\n', bytes)
            .chain((!bytes.ends_with(b"\n")).then_some(bytes.len()));
        let mut start = 0;
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                for end in ends {
                    p.line(&text[start..end])?;
                    start = end + 1;
                }
            }
            Err(_) => {
                // Somewhere in this chunk: find the line.
                for end in ends {
                    let line = std::str::from_utf8(&bytes[start..end]);
                    p.line(line.map_err(|e| {
                        Error::input(Problem::new(
                            p.at(p.physical + 1),
                            format!(
                                "not valid UTF-8 at byte {} of the line; export as UTF-8 or with ldifde -u",
                                e.valid_up_to() + 1
                            ),
                        ))
                    })?)?;
                    start = end + 1;
                }
            }
        }
    }
    p.close_line();
    p.finish_record()?;
    Ok(p.records)
}

fn change_file(name: &str, l: &Logical) -> Error {
    Error::input(Problem::new(
        Location::line(name, l.line),
        "this is a change file, not an export (found 'changetype:')",
    ))
}

/// A kept attribute's (or `changetype`'s) canonical lowercase name.
fn kept(base: &str) -> Option<&'static str> {
    // Cheap tests first: the length, then the first letter.
    let first = base.as_bytes().first()?.to_ascii_lowercase();
    ATTRIBUTES
        .iter()
        .chain(&["changetype"])
        .find(|k| k.len() == base.len() && k.as_bytes()[0] == first && k.eq_ignore_ascii_case(base))
        .copied()
}

/// A line's colon and its attribute name without options (`;binary`).
fn attribute(t: &str) -> Option<(usize, &str)> {
    let b = t.as_bytes();
    let i = memchr::memchr2(b':', b';', b)?;
    if b[i] == b':' {
        return Some((i, &t[..i]));
    }
    let colon = i + memchr::memchr(b':', &b[i..])?;
    Some((colon, &t[..i]))
}

/// Parses `name: value`, `name:: base64` or `name:< url` into the name and value.
/// The name is returned as written, without options (`;binary`).
fn split_attr<'a>(name: &str, l: &Logical<'a>) -> Result<(&'a str, AttrValue<'a>)> {
    let Some(colon) = memchr::memchr(b':', l.text.as_bytes()) else {
        return Err(Error::input(Problem::new(
            Location::line(name, l.line),
            format!("'{}' is not an LDIF line (no ':')", echo(l.text)),
        )));
    };
    attr_value(name, l, colon)
}

/// As [`split_attr`], the colon being at `colon`.
fn attr_value<'a>(name: &str, l: &Logical<'a>, colon: usize) -> Result<(&'a str, AttrValue<'a>)> {
    let attr = &l.text[..colon];
    if attr.is_empty() || !attr.bytes().all(|c| NAME_BYTE[c as usize]) {
        return Err(Error::input(Problem::new(
            Location::line(name, l.line),
            format!("'{}' is not an attribute name", echo(attr)),
        )));
    }
    // Attribute options (`;binary`, `;lang-en`) are dropped.
    Ok((before_byte(attr, b';'), value_of(name, l, colon)?))
}

/// The value after the colon at `colon`: text, or base64 bytes.
fn value_of<'a>(name: &str, l: &Logical<'a>, colon: usize) -> Result<AttrValue<'a>> {
    let bad = |msg: String| Error::input(Problem::new(Location::line(name, l.line), msg));
    let attr = &l.text[..colon];
    let rest = &l.text[colon + 1..];
    Ok(if let Some(b64) = rest.strip_prefix(':') {
        let b64: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
        AttrValue::Bytes(
            STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| bad(format!("attribute '{}': invalid base64: {e}", echo(attr))))?,
        )
    } else if rest.starts_with('<') {
        return Err(bad(format!(
            "attribute '{}': URL values (':<') are not read; export the value inline",
            echo(attr)
        )));
    } else {
        AttrValue::Text(Cow::Borrowed(rest.trim_start_matches(' ')))
    })
}

/// The bytes an attribute name (with options) is made of.
const NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric() || c == b'-' || c == b';' || c == b'.';
        i += 1;
    }
    t
};

/// The text before the first `b` (all of it without one); `b` is ASCII.
fn before_byte(s: &str, b: u8) -> &str {
    match memchr::memchr(b, s.as_bytes()) {
        Some(i) => &s[..i],
        None => s,
    }
}

fn finish_record<'a>(
    name: &str,
    lines: impl Iterator<Item = Logical<'a>>,
    first: bool,
) -> Result<Option<Entry<'a>>> {
    let mut it = lines.peekable();
    // `version: 1` before the first record.
    if first {
        if let Some(l) = it.peek() {
            if l.text.to_ascii_lowercase().starts_with("version:") {
                let v = l.text[8..].trim();
                if v != "1" {
                    return Err(Error::input(Problem::new(
                        Location::line(name, l.line),
                        format!("unsupported LDIF version '{}'", echo(v)),
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
    let (attr, value) = split_attr(name, &head)?;
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
                echo(&attr.to_ascii_lowercase())
            ),
        )));
    }
    let dn = value.into_text().ok_or_else(|| {
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
        let l = &l;
        if let Some((k, colon)) = l.known {
            // A name with no options is the kept name itself: valid.
            let v = if colon == k.len() {
                value_of(name, l, colon)?
            } else {
                attr_value(name, l, colon)?.1
            };
            if k == "changetype" {
                return Err(change_file(name, l));
            }
            attrs.push((k, v));
            continue;
        }
        // Skip attributes nobody reads before decoding them; still check
        // that the line is an attribute line at all.
        let attr = before_byte(l.text, b':');
        if kept(before_byte(attr, b';')).is_none() && l.text.contains(':') && !attr.is_empty() {
            continue;
        }
        let (a, v) = split_attr(name, l)?;
        match kept(a) {
            Some("changetype") => return Err(change_file(name, l)),
            Some(k) => attrs.push((k, v)),
            None => {}
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
    use crate::text::Trickle;
    use proptest::strategy::Strategy;

    fn entries(bytes: &[u8]) -> Result<Vec<Entry<'static>>> {
        entries_from(&mut &bytes[..])
    }

    fn entries_from(r: &mut dyn Read) -> Result<Vec<Entry<'static>>> {
        let mut v = Vec::new();
        read_from("x.ldif", r, |e| {
            v.push(e.into_owned());
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

    fn trickled(bytes: &[u8]) -> Result<Vec<Entry<'static>>> {
        entries_from(&mut Trickle(bytes, 0))
    }

    #[test]
    fn bytes_a_few_at_a_time_read_the_same() {
        let text = "version: 1\n# c\n\ndn: CN=A,DC=x\r\nsAMAccountName: A$\r\nmsDS-AllowedToDelegateTo: cifs/ho\n st1\nmsDS-AllowedTo\n DelegateTo: cifs/h2\nobjectSid:: AQUAAAAAAAUVAAAA\n\ndn: CN=B,DC=x\nuserAccountControl: 4096";
        let whole = entries(text.as_bytes()).unwrap();
        assert_eq!(whole.len(), 2);
        // A name folded across lines is still read.
        assert_eq!(
            whole[0]
                .texts("msds-allowedtodelegateto")
                .collect::<Vec<_>>(),
            ["cifs/host1", "cifs/h2"]
        );
        // The last line has no line feed.
        assert_eq!(whole[1].text("useraccountcontrol"), Some("4096"));
        assert_eq!(trickled(text.as_bytes()).unwrap(), whole);
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(trickled(&le).unwrap(), whole);
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(trickled(&bom).unwrap(), whole);
    }

    /// LDIF-like text made of pieces that matter to the reader: record
    /// and line ends, folding, comments, kept and skipped attributes,
    /// options, base64, bad UTF-8.
    fn ldif_like() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        const PIECES: &[&[u8]] = &[
            b"dn: CN=A,DC=x",
            b"dn:: Q049QQ==",
            b"version: 1",
            b"sAMAccountName: A$",
            b"msDS-AllowedToDelegateTo: cifs/h",
            b"msds-allowedtodelegateto;x-opt: c",
            b"objectSid:: AQUAAAAAAAUVAAAA",
            b"description: d",
            b"changetype: modify",
            b"userAccountControl: 4096",
            b"\n",
            b"\r\n",
            b"\n ",
            b"\n\n",
            b"#",
            b":",
            b"x",
            b" ",
            b"\xE9",
        ];
        proptest::collection::vec(0..PIECES.len(), 0..40)
            .prop_map(|ix| ix.iter().flat_map(|&i| PIECES[i].to_vec()).collect())
    }

    proptest::proptest! {
        /// However the bytes arrive, the same entries, or the same error.
        #[test]
        fn chunking_does_not_change_the_result(text in ldif_like()) {
            let whole = entries(&text).map_err(|e| e.to_string());
            let trickle = trickled(&text).map_err(|e| e.to_string());
            proptest::prop_assert_eq!(whole, trickle);
        }
    }

    #[test]
    fn a_line_longer_than_a_read_chunk() {
        let long = "x".repeat(3 * CHUNK + 17);
        let text = format!("dn: CN=A,DC=x\ndescription: {long}\nsAMAccountName: A$\nmsDS-AllowedToDelegateTo: cifs/{long}\n");
        let e = entries(text.as_bytes()).unwrap();
        assert_eq!(e[0].text("samaccountname"), Some("A$"));
        assert_eq!(
            e[0].text("msds-allowedtodelegateto").map(str::len),
            Some(long.len() + 5)
        );
    }

    #[test]
    fn bad_utf8_deep_in_a_file_names_its_line() {
        let mut text = Vec::new();
        for i in 0..20_000 {
            text.extend_from_slice(
                format!("dn: CN=H{i},DC=x\nsAMAccountName: H{i}$\n\n").as_bytes(),
            );
        }
        assert!(text.len() > CHUNK);
        text.extend_from_slice(b"dn: CN=Z,DC=x\ndescription: caf\xE9\n");
        let e = entries(&text).unwrap_err().to_string();
        assert!(
            e.starts_with("x.ldif:60002: not valid UTF-8 at byte 17 of the line"),
            "{e}"
        );
    }

    #[test]
    fn a_continuation_after_an_empty_line_follows_nothing() {
        let e = entries(b"dn: CN=A,DC=x\nsAMAccountName: A$\n\n cont: x\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("x.ldif:4: a continuation line (starting with a space) follows nothing"),
            "{e}"
        );
    }

    #[test]
    fn kept_names_are_found_in_any_case_and_nothing_else() {
        for k in ATTRIBUTES.iter().chain(&["changetype"]) {
            assert_eq!(kept(k), Some(*k));
            assert_eq!(kept(&k.to_ascii_uppercase()), Some(*k));
            assert_eq!(kept(&k[1..]), None);
            assert_eq!(kept(&format!("{k}x")), None);
        }
        for other in ["objectClass", "dNSHostNamf", "", "cn", "description"] {
            assert_eq!(kept(other), None, "{other}");
        }
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
            from_file.push(e.into_owned());
            Ok(())
        })
        .unwrap();
        assert_eq!(info.records, 4000);
        assert_eq!(
            info.file.sha256,
            format!(
                "{:x}",
                <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())
            )
        );
        assert_eq!(from_file, entries(text.as_bytes()).unwrap());
        assert_eq!(
            from_file[3999].text("msds-allowedtodelegateto"),
            Some(format!("cifs/{}.contoso.com", "h".repeat(3999 % 90 + 1)).as_str())
        );
    }
}
