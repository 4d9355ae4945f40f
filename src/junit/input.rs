//! The byte-level layer under the XML parser: a buffer with guaranteed lookahead, encoding
//! sniffing, and raw skipping of text and element bodies.
//!
//! quick-xml's buffered reader copies every text event, every CDATA section and every comment
//! whole into the caller's buffer, so a 2 GiB `<system-out>` would cost 2 GiB of memory. The
//! reader needs none of that text, only the markup around it, so it steps over text and over
//! the bodies of leaf elements here, with `memchr`, before quick-xml sees them. quick-xml's
//! `BufRead` contract gives no way to look past the end of the current chunk, which is needed
//! to recognise `</system-out` or `]]>` split across two reads, so [`Lookahead`] owns the
//! buffer and can be asked for a minimum number of bytes.

use std::io::{self, BufRead, Read};

use memchr::memmem;
use quick_xml::Reader;

/// Size of the read buffer; also the most lookahead [`Lookahead::fill_to`] can give.
const CAPACITY: usize = 256 * 1024;

/// Smallest read worth issuing; below this the buffer is compacted first.
const MIN_READ: usize = 4 * 1024;

/// A `BufRead` over `R` that can guarantee a minimum number of buffered bytes.
pub(super) struct Lookahead<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Bytes consumed since [`Lookahead::limit_markup`] was called.
    consumed: u64,
    /// Most bytes [`BufRead::fill_buf`] lets be consumed before it fails; `u64::MAX` when off.
    markup_limit: u64,
    /// Bytes consumed since the start.
    position: u64,
}

impl<R: Read> Lookahead<R> {
    /// Wraps `inner`.
    pub(super) fn new(inner: R) -> Self {
        Lookahead {
            inner,
            buf: vec![0; CAPACITY].into_boxed_slice(),
            start: 0,
            end: 0,
            consumed: 0,
            markup_limit: u64::MAX,
            position: 0,
        }
    }

    /// Makes [`BufRead::fill_buf`] fail once more than `limit` bytes have been consumed from
    /// now on. quick-xml copies a whole tag into its buffer before returning it, so this is
    /// what keeps one enormous tag from taking unbounded memory.
    pub(super) fn limit_markup(&mut self, limit: u64) {
        self.consumed = 0;
        self.markup_limit = limit;
    }

    /// Bytes consumed since the start of the input.
    pub(super) fn position(&self) -> u64 {
        self.position
    }

    /// Lifts the limit set by [`Lookahead::limit_markup`].
    pub(super) fn unlimit_markup(&mut self) {
        self.markup_limit = u64::MAX;
    }

    /// Whether reading stopped because of [`Lookahead::limit_markup`].
    pub(super) fn markup_limit_exceeded(&self) -> bool {
        self.consumed > self.markup_limit
    }

    /// Buffers at least `wanted` bytes (capped at the buffer size) without consuming any, and
    /// returns everything buffered. Fewer bytes come back only at the end of the input.
    pub(super) fn fill_to(&mut self, wanted: usize) -> io::Result<&[u8]> {
        let wanted = wanted.min(CAPACITY);
        while self.end - self.start < wanted {
            if self.buf.len() - self.end < wanted.max(MIN_READ) {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => break,
                Ok(read) => self.end += read,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(&self.buf[self.start..self.end])
    }
}

impl<R: Read> Read for Lookahead<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let amount = available.len().min(out.len());
        out[..amount].copy_from_slice(&available[..amount]);
        self.consume(amount);
        Ok(amount)
    }
}

impl<R: Read> BufRead for Lookahead<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.markup_limit_exceeded() {
            return Err(io::Error::other("markup longer than the limit"));
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            self.fill_to(1)
        } else {
            Ok(&self.buf[self.start..self.end])
        }
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.end - self.start);
        self.start += amount;
        self.consumed += amount as u64;
        self.position += amount as u64;
    }
}

/// What the first bytes say about the encoding.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Sniffed {
    /// UTF-8 or ASCII, possibly after a byte order mark that has been consumed.
    Utf8,
    /// UTF-16 or UTF-32, and what gave it away.
    Wide(&'static str),
    /// A NUL byte at this offset that is not part of a wide encoding: binary data.
    Binary(usize),
}

/// Looks at the first bytes of `input`, consuming a UTF-8 byte order mark if there is one.
pub(super) fn sniff<R: Read>(input: &mut Lookahead<R>) -> io::Result<Sniffed> {
    let head = input.fill_to(64)?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
        return Ok(Sniffed::Utf8);
    }
    if head.starts_with(b"\xFF\xFE")
        || head.starts_with(b"\xFE\xFF")
        || head.starts_with(b"\0\0\xFE\xFF")
    {
        return Ok(Sniffed::Wide(
            "it starts with a UTF-16 or UTF-32 byte order mark",
        ));
    }
    // Only the first bytes: a NUL further on is a control character inside the document,
    // which the merge escapes and the reader never looks at, not a sign of binary data.
    let head = &head[..head.len().min(64)];
    let Some(first_nul) = memchr::memchr(0, head) else {
        return Ok(Sniffed::Utf8);
    };
    // ASCII text in UTF-16 has a NUL in every other byte, all on the same side.
    let nuls_at = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (nuls_at(0), nuls_at(1));
    let pairs = head.len() / 2;
    if pairs > 0 && ((even * 4 >= pairs * 3 && odd == 0) || (odd * 4 >= pairs * 3 && even == 0)) {
        return Ok(Sniffed::Wide("every other byte is NUL"));
    }
    Ok(Sniffed::Binary(first_nul))
}

/// Consumes character data up to the next tag (or the end of the input): text, and comments
/// and CDATA sections, which quick-xml would otherwise buffer whole. Returns whether any text
/// was something other than XML whitespace (CDATA counts as text), and `false` in the second
/// place if the input ended inside a comment or CDATA section.
pub(super) fn skip_text<R: Read>(reader: &mut Reader<Lookahead<R>>) -> io::Result<(bool, bool)> {
    let mut saw_content = false;
    loop {
        let mut stream = reader.stream();
        let chunk = stream.fill_buf()?;
        if chunk.is_empty() {
            return Ok((saw_content, true));
        }
        let (text, found) = match memchr::memchr(b'<', chunk) {
            Some(at) => (&chunk[..at], true),
            None => (chunk, false),
        };
        saw_content |= !text
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        let amount = text.len();
        stream.consume(amount);
        if !found {
            continue;
        }
        let ahead = reader.get_mut().fill_to(b"<![CDATA[".len())?;
        let complete = if ahead.starts_with(b"<![CDATA[") {
            saw_content = true;
            reader.stream().consume(b"<![CDATA[".len());
            skip_past(reader, b"]]>")?
        } else if ahead.starts_with(b"<!--") {
            reader.stream().consume(b"<!--".len());
            skip_past(reader, b"-->")?
        } else {
            return Ok((saw_content, true));
        };
        if !complete {
            return Ok((saw_content, false));
        }
    }
}

/// Consumes the body of the element `name` whose start tag was just read, stopping right
/// before its end tag so quick-xml still sees the end tag. CDATA sections and comments are
/// stepped over whole, since they may contain the end tag literally. Returns `false` if the
/// input ended first.
pub(super) fn skip_body<R: Read>(
    reader: &mut Reader<Lookahead<R>>,
    name: &str,
) -> io::Result<bool> {
    let name = name.as_bytes();
    // Enough to tell `<![CDATA[`, `<!--` and `</name>` apart.
    let lookahead = (name.len() + 3).max(b"<![CDATA[".len());
    loop {
        let mut stream = reader.stream();
        let chunk = stream.fill_buf()?;
        if chunk.is_empty() {
            return Ok(false);
        }
        let Some(at) = memchr::memchr(b'<', chunk) else {
            let amount = chunk.len();
            stream.consume(amount);
            continue;
        };
        stream.consume(at);
        let ahead = reader.get_mut().fill_to(lookahead)?;
        if ahead.starts_with(b"<![CDATA[") {
            reader.stream().consume(b"<![CDATA[".len());
            if !skip_past(reader, b"]]>")? {
                return Ok(false);
            }
        } else if ahead.starts_with(b"<!--") {
            reader.stream().consume(b"<!--".len());
            if !skip_past(reader, b"-->")? {
                return Ok(false);
            }
        } else if is_end_tag(ahead, name) {
            return Ok(true);
        } else {
            reader.stream().consume(1);
        }
    }
}

/// Whether `bytes` starts with the end tag `</name` followed by whitespace or `>`.
fn is_end_tag(bytes: &[u8], name: &[u8]) -> bool {
    bytes.len() > name.len() + 2
        && bytes.starts_with(b"</")
        && &bytes[2..2 + name.len()] == name
        && matches!(bytes[2 + name.len()], b'>' | b' ' | b'\t' | b'\r' | b'\n')
}

/// Consumes input up to and including `pattern`. Returns `false` if the input ended first.
fn skip_past<R: Read>(reader: &mut Reader<Lookahead<R>>, pattern: &[u8]) -> io::Result<bool> {
    let finder = memmem::Finder::new(pattern);
    loop {
        let chunk = reader.get_mut().fill_to(pattern.len())?;
        if chunk.len() < pattern.len() {
            let amount = chunk.len();
            reader.stream().consume(amount);
            return Ok(false);
        }
        let (amount, found) = match finder.find(chunk) {
            Some(at) => (at + pattern.len(), true),
            // Keep the last bytes: they may be the start of a pattern split across reads.
            None => (chunk.len() + 1 - pattern.len(), false),
        };
        reader.stream().consume(amount);
        if found {
            return Ok(true);
        }
    }
}

/// Whether a DOCTYPE's text declares entities (`<!ENTITY`, in any case to be safe). Shared
/// by every XML reader in rxdist (JUnit and coverage), which refuse such documents.
pub(crate) fn declares_entities(doctype: &[u8]) -> bool {
    doctype
        .windows(b"<!ENTITY".len())
        .any(|window| window.eq_ignore_ascii_case(b"<!ENTITY"))
}

/// Whether an encoding label names an encoding whose ASCII is not ASCII.
pub(crate) fn is_wide_encoding(label: &str) -> bool {
    let label = label.trim().to_ascii_lowercase();
    [
        "utf-16", "utf16", "utf-32", "utf32", "ucs-2", "ucs2", "ucs-4", "ucs4", "unicode",
    ]
    .iter()
    .any(|wide| label.starts_with(wide))
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, Read};

    use quick_xml::Reader;

    use super::{Lookahead, Sniffed, skip_body, skip_text, sniff};

    /// A reader that hands out one byte per call, to put every chunk boundary everywhere.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((&byte, rest)), Some(slot)) => {
                    *slot = byte;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn rest<R: Read>(reader: &mut Reader<Lookahead<R>>) -> String {
        let mut out = Vec::new();
        reader
            .stream()
            .read_to_end(&mut out)
            .expect("in-memory read");
        String::from_utf8(out).expect("test input is UTF-8")
    }

    #[test]
    fn fill_to_gives_lookahead_across_reads() {
        let mut input = Lookahead::new(Trickle(b"abcdef"));
        assert_eq!(input.fill_to(4).expect("in memory"), b"abcd");
        input.consume(3);
        assert_eq!(input.fill_to(3).expect("in memory"), b"def");
        assert_eq!(input.fill_to(10).expect("in memory"), b"def");
    }

    #[test]
    fn skip_body_steps_over_cdata_and_comments() {
        let body = "text <![CDATA[ </system-out> ]]]]><![CDATA[> ]]> <!-- </system-out> --> \
                    <system-outx/> </system-outer> tail</system-out >after";
        for trickle in [false, true] {
            let mut reader = if trickle {
                Reader::from_reader(Lookahead::new(
                    Box::new(Trickle(body.as_bytes())) as Box<dyn Read>
                ))
            } else {
                Reader::from_reader(Lookahead::new(Box::new(body.as_bytes()) as Box<dyn Read>))
            };
            assert!(skip_body(&mut reader, "system-out").expect("in memory"));
            assert_eq!(
                reader.buffer_position(),
                body.find("</system-out >").expect("present") as u64
            );
            assert_eq!(rest(&mut reader), "</system-out >after");
        }
    }

    #[test]
    fn skip_body_reports_the_end_of_input() {
        for body in ["abc", "<![CDATA[ </x>", "<!-- </x>", "</x"] {
            let mut reader = Reader::from_reader(Lookahead::new(Trickle(body.as_bytes())));
            assert!(!skip_body(&mut reader, "x").expect("in memory"), "{body:?}");
        }
    }

    #[test]
    fn skip_text_stops_at_markup() {
        let mut reader = Reader::from_reader(Lookahead::new(Trickle(b"  \n <!-- <b> --> <a>")));
        assert_eq!(skip_text(&mut reader).expect("in memory"), (false, true));
        assert_eq!(rest(&mut reader), "<a>");
        let mut reader = Reader::from_reader(Lookahead::new(Trickle(b" x <a>")));
        assert_eq!(skip_text(&mut reader).expect("in memory"), (true, true));
        let mut reader = Reader::from_reader(Lookahead::new(Trickle(b"<![CDATA[<a>]]><a>")));
        assert_eq!(skip_text(&mut reader).expect("in memory"), (true, true));
        assert_eq!(rest(&mut reader), "<a>");
        let mut reader = Reader::from_reader(Lookahead::new(Trickle(b" <!-- <a>")));
        assert_eq!(skip_text(&mut reader).expect("in memory"), (false, false));
    }

    #[test]
    fn sniffing() {
        let sniffed = |bytes: &[u8]| sniff(&mut Lookahead::new(bytes)).expect("in memory");
        assert_eq!(sniffed(b"<a/>"), Sniffed::Utf8);
        assert_eq!(sniffed(b""), Sniffed::Utf8);
        let mut bom = Lookahead::new(&b"\xEF\xBB\xBF<a/>"[..]);
        assert_eq!(sniff(&mut bom).expect("in memory"), Sniffed::Utf8);
        assert_eq!(bom.fill_buf().expect("in memory"), b"<a/>");
        assert!(matches!(sniffed(b"\xFF\xFE<\0a\0"), Sniffed::Wide(_)));
        assert!(matches!(sniffed(b"\xFE\xFF\0<\0a"), Sniffed::Wide(_)));
        assert!(matches!(sniffed(b"<\0?\0x\0m\0l\0"), Sniffed::Wide(_)));
        assert!(matches!(sniffed(b"\0<\0?\0x\0m\0l"), Sniffed::Wide(_)));
        assert_eq!(
            sniffed(b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"),
            Sniffed::Binary(7)
        );
    }
}
