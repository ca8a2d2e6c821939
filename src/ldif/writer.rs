//! LDIF values (RFC 2849): a value is written as `: text` only when it is a
//! SAFE-STRING, otherwise as `:: base64` of its UTF-8 bytes; a value ending
//! in a space is base64 too. Lines are folded by [`FoldingWriter`]. What is
//! written here is read back by [`super::reader`] (the property test in
//! `ldif/mod.rs`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::io::{self, Write};

/// Folding width: lines are at most this many bytes before the line break.
pub const FOLD_AT: usize = 76;

/// RFC 2849 SAFE-STRING, made stricter: only printable ASCII (0x20-0x7E)
/// is written plain, so no control character (ESC, TAB, DEL...) ever lands
/// raw in a file a reviewer reads; and a trailing space forces base64
/// (readers may strip it).
pub fn is_safe_string(v: &str) -> bool {
    let b = v.as_bytes();
    if let Some(&first) = b.first() {
        if matches!(first, b' ' | b':' | b'<') {
            return false;
        }
    }
    if b.last() == Some(&b' ') {
        return false;
    }
    b.iter().all(|&c| (0x20..=0x7E).contains(&c))
}

/// The part after the attribute name: `: value` or `:: base64`.
/// An empty value is written `:` with nothing after it.
pub fn value_spec(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    write_value_spec(&mut out, v).expect("a String takes any text");
    out
}

/// Writes [`value_spec`]`(v)` to `out`.
pub fn write_value_spec(out: &mut impl std::fmt::Write, v: &str) -> std::fmt::Result {
    if v.is_empty() {
        out.write_str(":")
    } else if is_safe_string(v) {
        out.write_str(": ")?;
        out.write_str(v)
    } else {
        out.write_str(":: ")?;
        out.write_str(&STANDARD.encode(v.as_bytes()))
    }
}

/// Writes binary bytes as `:: base64` (a security descriptor).
pub fn write_bytes_spec(out: &mut impl std::fmt::Write, v: &[u8]) -> std::fmt::Result {
    out.write_str(":: ")?;
    out.write_str(&STANDARD.encode(v))
}

/// A writer that folds every line longer than [`FOLD_AT`] bytes by
/// inserting a line break and one space, never inside a UTF-8 character
/// and never just before a line break. Comment lines (`#`) are left whole:
/// RFC 2849 allows folding them, but Samba's LDIF reader rejects a folded
/// comment, and no line length limit applies to them.
pub struct FoldingWriter<W: Write> {
    inner: W,
    column: usize,
    comment: bool,
}

impl<W: Write> FoldingWriter<W> {
    pub fn new(inner: W) -> Self {
        FoldingWriter {
            inner,
            column: 0,
            comment: false,
        }
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for FoldingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        let mut at = 0;
        while at < buf.len() {
            // The rest of the current line in `buf`.
            let end = memchr::memchr(b'\n', &buf[at..]).map_or(buf.len(), |n| at + n);
            if end > at {
                if self.column == 0 {
                    self.comment = buf[at] == b'#';
                }
                if self.comment || self.column + (end - at) <= FOLD_AT {
                    // Nothing to fold: most lines (values, DNs, comments).
                    self.column += end - at;
                } else {
                    for (i, &b) in buf.iter().enumerate().take(end).skip(at) {
                        let continuation = (0x80..0xC0).contains(&b);
                        if self.column >= FOLD_AT && !continuation {
                            self.inner.write_all(&buf[start..i])?;
                            self.inner.write_all(b"\n ")?;
                            start = i;
                            self.column = 1;
                        }
                        self.column += 1;
                    }
                }
            }
            if end < buf.len() {
                self.column = 0;
                self.comment = false;
            }
            at = end + 1;
        }
        self.inner.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_and_base64() {
        assert_eq!(value_spec("cifs/vmhost2"), ": cifs/vmhost2");
        assert_eq!(value_spec(" lead"), ":: IGxlYWQ=");
        assert_eq!(value_spec(":x"), ":: Ong=");
        assert_eq!(value_spec("<x"), ":: PHg=");
        assert_eq!(value_spec("trail "), ":: dHJhaWwg");
        assert_eq!(value_spec("MÜLLER"), ":: TcOcTExFUg==");
        assert_eq!(value_spec("a:b<c"), ": a:b<c");
    }

    /// Found by fuzzing: RFC 2849 allows control characters in a
    /// SAFE-STRING, which would put raw ESC or DEL bytes in the file.
    #[test]
    fn regression_control_characters_are_base64() {
        assert_eq!(value_spec("a\tb"), ":: YQli");
        assert_eq!(value_spec("\u{1b}[2J"), ":: G1sySg==");
        assert_eq!(value_spec("x\u{7f}"), ":: eH8=");
    }

    #[test]
    fn folds_long_lines() {
        let mut w = FoldingWriter::new(Vec::new());
        let line = format!("description: {}\nshort\n", "x".repeat(100));
        w.write_all(line.as_bytes()).unwrap();
        let out = String::from_utf8(w.into_inner()).unwrap();
        for l in out.lines() {
            assert!(l.len() <= FOLD_AT, "{l}");
        }
        assert_eq!(
            out.replace("\n ", ""),
            format!("description: {}\nshort\n", "x".repeat(100))
        );
    }

    #[test]
    fn comments_are_not_folded() {
        let mut w = FoldingWriter::new(Vec::new());
        let line = format!("# {}\nattr: {}\n", "c".repeat(100), "v".repeat(100));
        w.write_all(line.as_bytes()).unwrap();
        let out = String::from_utf8(w.into_inner()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0].len(), 102);
        assert_eq!(lines[1].len(), FOLD_AT);
        assert!(lines[2].starts_with(' '));
    }

    /// Folding as first written, byte by byte: the reference.
    struct ByteFolding {
        out: Vec<u8>,
        column: usize,
        comment: bool,
    }

    impl ByteFolding {
        fn write(&mut self, buf: &[u8]) {
            for &b in buf {
                if b == b'\n' {
                    self.column = 0;
                    self.comment = false;
                    self.out.push(b);
                    continue;
                }
                if self.column == 0 {
                    self.comment = b == b'#';
                }
                let continuation = (0x80..0xC0).contains(&b);
                if self.column >= FOLD_AT && !continuation && !self.comment {
                    self.out.extend_from_slice(b"\n ");
                    self.column = 1;
                }
                self.column += 1;
                self.out.push(b);
            }
        }
    }

    proptest::proptest! {
        /// Whatever the text and however it is cut into writes, the
        /// writer folds exactly as the byte-by-byte reference does.
        #[test]
        fn folds_as_the_byte_by_byte_reference(
            lines in proptest::collection::vec("(#|:| |x|\u{e9}|\u{20ac}){0,3}[a-z\u{e9}\u{1f600} ]{0,170}", 0..6),
            cuts in proptest::collection::vec(0usize..400, 0..8),
        ) {
            let text = lines.join("\n");
            let bytes = text.as_bytes();
            let mut reference = ByteFolding { out: Vec::new(), column: 0, comment: false };
            reference.write(bytes);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut w = FoldingWriter::new(Vec::new());
            let mut from = 0;
            for c in cuts.into_iter().chain([bytes.len()]) {
                w.write_all(&bytes[from..c]).unwrap();
                from = c;
            }
            proptest::prop_assert_eq!(w.into_inner(), reference.out);
        }
    }

    #[test]
    fn exactly_76_is_not_folded() {
        let mut w = FoldingWriter::new(Vec::new());
        let l = "y".repeat(76);
        w.write_all(format!("{l}\n").as_bytes()).unwrap();
        assert_eq!(String::from_utf8(w.into_inner()).unwrap(), format!("{l}\n"));
    }
}
