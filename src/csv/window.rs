//! The CSV's text as it streams past the csv reader: checked to be UTF-8
//! and counted in lines, a few KiB held at a time whatever the file's size.

use std::io::Read;

/// The text as it streams past the csv reader. Checks that it is UTF-8 and
/// hands on only checked bytes; keeps the bytes from the last offset asked
/// about on (a few KiB, whatever the file's size); tells the line of any
/// offset at or after the last one asked about. Offsets count bytes of the
/// decoded text from its start.
pub(super) struct Window<R> {
    pub(super) inner: R,
    /// The text from offset `base` is `bytes[..len]`, of which
    /// `bytes[..checked]` is UTF-8.
    pub(super) bytes: Vec<u8>,
    pub(super) len: usize,
    pub(super) checked: usize,
    pub(super) base: u64,
    /// The next offset handed to the csv reader.
    pub(super) next: u64,
    /// The last offset asked about, and its line.
    pub(super) at: u64,
    pub(super) line: u64,
    /// The first byte that is not UTF-8 (offset, value).
    pub(super) bad: Option<(u64, u8)>,
    /// What reading the file failed with.
    pub(super) failed: Option<std::io::Error>,
    pub(super) eof: bool,
    /// The byte that ends a line: a line feed, or a carriage return in a
    /// file whose lines end with one alone (classic Mac OS, some exports).
    pub(super) sep: u8,
}

impl<R: Read> Window<R> {
    pub(super) const CHUNK: usize = 1 << 16;

    pub(super) fn new(inner: R) -> Window<R> {
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
            sep: b'\n',
        }
    }

    fn end(&self) -> u64 {
        self.base + self.checked as u64
    }

    /// Reads a chunk and checks it. Returns false when no more checked
    /// bytes will come (the end, a byte that is not UTF-8, a read error).
    pub(super) fn fill(&mut self) -> bool {
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

    /// The checked text of the first line from the next offset on that is
    /// not blank (all of it if there is none); the next offset moves past
    /// the blank lines before it.
    pub(super) fn head(&mut self) -> &[u8] {
        loop {
            let text = &self.bytes[(self.next - self.base) as usize..self.checked];
            let end = match memchr::memchr2(b'\n', b'\r', text) {
                // A carriage return: alone, it ends lines in this file; the
                // byte after it is needed to tell.
                Some(i) if text[i] == b'\r' && i + 1 == text.len() && !self.eof => None,
                Some(i) if text[i] == b'\r' && text.get(i + 1) != Some(&b'\n') => {
                    self.sep = b'\r';
                    Some(i)
                }
                Some(i) if text[i] == b'\r' => Some(i + 1),
                found => found,
            };
            match end {
                // Blank lines before it are passed (and counted), not held:
                // a file may start with any number of them. (Whole lines
                // of checked text are UTF-8.)
                Some(i) if std::str::from_utf8(&text[..i]).is_ok_and(|l| l.trim().is_empty()) => {
                    self.next += i as u64 + 1;
                    self.line_of(self.next);
                }
                Some(i) => return &self.bytes[(self.next - self.base) as usize..][..i + 1],
                None => {
                    if !self.fill() {
                        return &self.bytes[(self.next - self.base) as usize..self.checked];
                    }
                }
            }
        }
    }

    /// The bytes from `from` to `to`, if the window holds them.
    pub(super) fn slice(&self, from: u64, to: u64) -> Option<&[u8]> {
        let a = usize::try_from(from.checked_sub(self.base)?).ok()?;
        let b = usize::try_from(to.checked_sub(self.base)?).ok()?;
        self.bytes[..self.checked].get(a..b)
    }

    /// The byte at `offset`, if the window holds it.
    pub(super) fn byte(&self, offset: u64) -> Option<u8> {
        let i = usize::try_from(offset.checked_sub(self.base)?).ok()?;
        self.bytes[..self.checked].get(i).copied()
    }

    /// The 1-based line of `offset`, which is at or after the last offset
    /// asked about.
    pub(super) fn line_of(&mut self, offset: u64) -> u64 {
        let to = offset.clamp(self.at, self.end());
        let (a, b) = ((self.at - self.base) as usize, (to - self.base) as usize);
        self.line += memchr::memchr_iter(self.sep, &self.bytes[a..b]).count() as u64;
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
