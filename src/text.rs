//! Text files as they are read: SHA-256 of the bytes, the byte order mark
//! (UTF-8, UTF-16 LE or BE) and UTF-16 turned into UTF-8 on the fly, so
//! that neither the CSV nor an export is ever held whole in memory.

use std::io::Read;

use sha2::{Digest, Sha256};

/// Turns UTF-16 (LE or BE) bytes into UTF-8 bytes as they are read.
pub struct Utf16Reader<R: Read> {
    inner: R,
    le: bool,
    /// Raw bytes read, and an odd byte left from the last read.
    raw: Vec<u8>,
    odd: Option<u8>,
    out: Vec<u8>,
    pos: usize,
    /// A high surrogate waiting for its low half.
    pending: Option<u16>,
    /// Byte offset (after the mark) of the next code unit to decode: the
    /// pending one, if any.
    offset: u64,
}

impl<R: Read> Utf16Reader<R> {
    pub fn new(inner: R, le: bool) -> Utf16Reader<R> {
        Utf16Reader {
            inner,
            le,
            raw: vec![0; 1 << 16],
            odd: None,
            out: Vec::new(),
            pos: 0,
            pending: None,
            offset: 0,
        }
    }

    /// Decodes whole code units of `raw[..n]` into `out`. A high
    /// surrogate that ends the bytes waits for its low half in the next
    /// read.
    fn decode(&mut self, n: usize) -> std::io::Result<()> {
        let le = self.le;
        let raw = &self.raw;
        let unit = |i: usize| {
            let b = [raw[2 * i], raw[2 * i + 1]];
            if le {
                u16::from_le_bytes(b)
            } else {
                u16::from_be_bytes(b)
            }
        };
        let count = n / 2;
        let last = count.checked_sub(1).map(unit);
        let hold = last.filter(|u| (0xD800..0xDC00).contains(u));
        let take = count - usize::from(hold.is_some());
        let units = self.pending.take().into_iter().chain((0..take).map(unit));
        for c in char::decode_utf16(units) {
            let c = c.map_err(|_| bad_utf16(self.offset, "unpaired surrogate"))?;
            if c.is_ascii() {
                self.out.push(c as u8);
            } else {
                let mut b = [0u8; 4];
                self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
            self.offset += 2 * c.len_utf16() as u64;
        }
        self.pending = hold;
        Ok(())
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.out.len() {
            self.out.clear();
            self.pos = 0;
            let start = usize::from(self.odd.is_some());
            if let Some(b) = self.odd.take() {
                self.raw[0] = b;
            }
            let n = loop {
                match self.inner.read(&mut self.raw[start..]) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    n => break n?,
                }
            };
            if n == 0 {
                if start == 1 {
                    // (Past the pending unit, if any.)
                    let at = self.offset + 2 * u64::from(self.pending.is_some());
                    return Err(bad_utf16(at, "odd number of bytes (truncated file?)"));
                }
                if self.pending.is_some() {
                    return Err(bad_utf16(self.offset, "unpaired surrogate at the end"));
                }
                return Ok(0);
            }
            let len = start + n;
            if len % 2 == 1 {
                self.odd = Some(self.raw[len - 1]);
            }
            self.decode(len - len % 2)?;
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

/// Hashes the bytes read through it.
pub struct Hashing<R: Read> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> Hashing<R> {
        Hashing {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The SHA-256 of the bytes read so far, in lowercase hex.
    pub fn sha256(self) -> String {
        format!("{:x}", self.hasher.finalize())
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// A file's text as UTF-8 bytes (not yet checked), and how many bytes of
/// the file came before it (a UTF-8 byte order mark), so that a byte of
/// the text can be named by its offset in the file.
pub struct Decoded<'r> {
    pub text: Box<dyn Read + 'r>,
    pub skipped: u64,
}

/// The file's text as UTF-8 bytes, whatever its byte order mark says it is.
pub fn decoded<'r>(mut r: impl Read + 'r) -> std::io::Result<Decoded<'r>> {
    let mut head = Vec::with_capacity(3);
    (&mut r).take(3).read_to_end(&mut head)?;
    Ok(if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Decoded {
            text: Box::new(r),
            skipped: 3,
        }
    } else if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        let rest = head[2..].to_vec();
        Decoded {
            text: Box::new(Utf16Reader::new(
                std::io::Cursor::new(rest).chain(r),
                head[0] == 0xFF,
            )),
            skipped: 2,
        }
    } else {
        Decoded {
            text: Box::new(std::io::Cursor::new(head).chain(r)),
            skipped: 0,
        }
    })
}

/// Hands out its bytes a few at a time (tests): chunks end anywhere.
#[cfg(test)]
pub(crate) struct Trickle<'a>(pub &'a [u8], pub usize);

#[cfg(test)]
impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.1 = self.1 % 7 + 1;
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index of the first code unit that is half of no pair.
    fn first_unpaired(units: &[u16]) -> Option<usize> {
        let mut i = 0;
        while i < units.len() {
            match units[i] {
                0xD800..=0xDBFF if matches!(units.get(i + 1), Some(0xDC00..=0xDFFF)) => i += 2,
                0xD800..=0xDFFF => return Some(i),
                _ => i += 1,
            }
        }
        None
    }

    /// The UTF-16 decoder, fed a few bytes at a time or all at once.
    fn from_utf16(bytes: &[u8], le: bool, trickle: bool) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        if trickle {
            Utf16Reader::new(Trickle(bytes, 0), le).read_to_end(&mut out)?;
        } else {
            Utf16Reader::new(bytes, le).read_to_end(&mut out)?;
        }
        Ok(out)
    }

    proptest::proptest! {
        /// Any code units decode as the standard library decodes them, in
        /// both byte orders and however the bytes arrive; unpaired
        /// surrogates and a truncated last unit are errors.
        #[test]
        fn utf16_decodes_as_the_standard_library(
            units in proptest::collection::vec(
                proptest::prop_oneof![0u16..0x80, 0u16..=0xFFFF, 0xD800u16..0xE000],
                0..64,
            ),
            cut in proptest::bool::ANY,
            trickle in proptest::bool::ANY,
        ) {
            let expected = String::from_utf16(&units).ok().map(String::into_bytes);
            for le in [true, false] {
                let mut bytes: Vec<u8> = units
                    .iter()
                    .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
                    .collect();
                if cut && !bytes.is_empty() {
                    bytes.pop();
                    proptest::prop_assert!(from_utf16(&bytes, le, trickle).is_err());
                } else {
                    let got = from_utf16(&bytes, le, trickle).map_err(|e| e.to_string());
                    match first_unpaired(&units) {
                        // Named by its offset in the file, after the mark.
                        Some(i) => proptest::prop_assert!(
                            got.as_ref().is_err_and(|e| e.starts_with(&format!("byte offset {}: invalid UTF-16: unpaired surrogate", 2 + 2 * i))),
                            "{:?}", got
                        ),
                        None => proptest::prop_assert_eq!(got.ok(), expected.clone()),
                    }
                }
            }
        }
    }
}
