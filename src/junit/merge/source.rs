//! The second pass's view of the inputs: one buffer that moves between them, and a small
//! tokenizer that copies or skips an element's content up to its end tag.
//!
//! The first pass has checked the markup with quick-xml, so this tokenizer only needs to find
//! what quick-xml found: character data (copied through [`super::sanitize`] or skipped), CDATA
//! sections, comments and processing instructions (dropped), and tags (returned whole). Should
//! the bytes not be what the first pass saw, the input changed in between:
//! [`MergeError::Changed`].

use std::io::{self, Read, Seek, SeekFrom, Write};

use memchr::memmem;

use super::sanitize::{self, LOOKAHEAD, Mode};
use super::{MergeError, MergeInput};

/// Size of the buffer; chunks of character data are copied this much at a time.
const CAPACITY: usize = 256 * 1024;

/// A buffered, seekable window on one input at a time.
pub(super) struct Source<'a, R> {
    inputs: &'a mut [MergeInput<R>],
    buf: Box<[u8]>,
    /// The input the buffer holds bytes of, if any.
    input: Option<usize>,
    /// Offset in the input of `buf[0]`.
    base: u64,
    start: usize,
    end: usize,
    /// Whether the last read hit the end of the input.
    eof: bool,
}

impl<'a, R: Read + Seek> Source<'a, R> {
    pub(super) fn new(inputs: &'a mut [MergeInput<R>]) -> Self {
        Source {
            inputs,
            buf: vec![0; CAPACITY].into_boxed_slice(),
            input: None,
            base: 0,
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// Moves to `offset` in input `input`, reusing buffered bytes when they cover it.
    pub(super) fn seek(&mut self, input: usize, offset: u64) -> Result<(), MergeError> {
        if self.input == Some(input) && offset >= self.base && offset <= self.base + self.end as u64
        {
            self.start = (offset - self.base) as usize;
            return Ok(());
        }
        self.input = Some(input);
        self.base = offset;
        self.start = 0;
        self.end = 0;
        self.eof = false;
        let reader = &mut self.inputs[input].reader;
        reader
            .seek(SeekFrom::Start(offset))
            .map(|_| ())
            .map_err(|source| self.reread(source))
    }

    /// Where the next byte comes from.
    pub(super) fn position(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Buffers at least `wanted` bytes (at most the buffer's size) without consuming them and
    /// returns everything buffered; fewer come back only at the end of the input.
    pub(super) fn fill_to(&mut self, wanted: usize) -> Result<&[u8], MergeError> {
        let wanted = wanted.min(CAPACITY);
        while self.end - self.start < wanted && !self.eof {
            if self.buf.len() - self.end < wanted.max(4096) {
                self.buf.copy_within(self.start..self.end, 0);
                self.base += self.start as u64;
                self.end -= self.start;
                self.start = 0;
            }
            let Some(input) = self.input else { break };
            match self.inputs[input].reader.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(read) => self.end += read,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(self.reread(err)),
            }
        }
        Ok(&self.buf[self.start..self.end])
    }

    /// Everything buffered, reading more only when nothing is.
    fn chunk(&mut self, lookahead: usize) -> Result<&[u8], MergeError> {
        self.fill_to(lookahead)
    }

    pub(super) fn consume(&mut self, amount: usize) {
        self.start += amount.min(self.end - self.start);
    }

    /// Reads exactly `length` bytes at the current position into `out` (replacing it).
    pub(super) fn read_into(&mut self, length: usize, out: &mut Vec<u8>) -> Result<(), MergeError> {
        out.clear();
        while out.len() < length {
            let chunk = self.fill_to(length - out.len())?;
            if chunk.is_empty() {
                return Err(self.changed());
            }
            let take = chunk.len().min(length - out.len());
            out.extend_from_slice(&chunk[..take]);
            self.consume(take);
        }
        Ok(())
    }

    pub(super) fn label(&self) -> String {
        self.input
            .map(|input| self.inputs[input].label.clone())
            .unwrap_or_default()
    }

    fn reread(&self, source: io::Error) -> MergeError {
        MergeError::Reread {
            label: self.label(),
            source,
        }
    }

    /// The error for bytes that are not what the first pass saw here.
    pub(super) fn changed(&self) -> MergeError {
        MergeError::Changed {
            label: self.label(),
            offset: self.position(),
        }
    }
}

/// What to do with character data on the way to the next tag.
pub(super) enum Text<'w, W: ?Sized> {
    /// Copy it, escaped as needed, CDATA sections as CDATA sections.
    Copy(&'w mut W),
    /// Consume it; remember whether any of it was more than whitespace.
    Skip {
        /// Set when text other than XML whitespace (or any CDATA) was seen.
        content: bool,
    },
}

/// The next tag, whose bytes (`<` to `>`) are left in [`Tokenizer::tag`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    /// A start tag, `<x/>` when `empty`.
    Start {
        /// Whether it is an empty-element tag.
        empty: bool,
    },
    /// An end tag.
    End,
}

/// Reads an input's content one tag at a time.
#[derive(Default)]
pub(super) struct Tokenizer {
    /// The bytes of the last tag read.
    pub(super) tag: Vec<u8>,
}

impl Tokenizer {
    /// Handles the character data, CDATA sections, comments and processing instructions up to
    /// the next tag, reads that tag into [`Tokenizer::tag`] and says what it is. Errors with
    /// [`MergeError::Changed`] if the input ends first.
    pub(super) fn next<R: Read + Seek, W: Write + ?Sized>(
        &mut self,
        src: &mut Source<'_, R>,
        text: &mut Text<'_, W>,
    ) -> Result<Tag, MergeError> {
        loop {
            character_data(src, text)?;
            let ahead = src.fill_to(b"<![CDATA[".len())?;
            if ahead.starts_with(b"<![CDATA[") {
                src.consume(b"<![CDATA[".len());
                cdata(src, text)?;
            } else if ahead.starts_with(b"<!--") {
                src.consume(b"<!--".len());
                skip_past(src, b"-->")?;
            } else if ahead.starts_with(b"<?") {
                src.consume(2);
                skip_past(src, b"?>")?;
            } else if ahead.starts_with(b"<!") || ahead.len() < 2 {
                return Err(src.changed());
            } else {
                let end = ahead[1] == b'/';
                self.read_tag(src)?;
                return Ok(if end {
                    Tag::End
                } else {
                    Tag::Start {
                        empty: self.tag.ends_with(b"/>"),
                    }
                });
            }
        }
    }

    /// Reads a tag, from `<` to the `>` that is not inside a quoted value.
    fn read_tag<R: Read + Seek>(&mut self, src: &mut Source<'_, R>) -> Result<(), MergeError> {
        self.tag.clear();
        let mut quote = None;
        loop {
            let chunk = src.chunk(1)?;
            if chunk.is_empty() {
                return Err(src.changed());
            }
            let mut at = 0;
            let found = loop {
                let next = match quote {
                    None => memchr::memchr3(b'>', b'"', b'\'', &chunk[at..]),
                    Some(q) => memchr::memchr(q, &chunk[at..]),
                };
                let Some(next) = next else { break None };
                let byte = chunk[at + next];
                at += next + 1;
                match (quote, byte) {
                    (None, b'>') => break Some(at),
                    (None, q) => quote = Some(q),
                    (Some(_), _) => quote = None,
                }
            };
            let take = found.unwrap_or(chunk.len());
            self.tag.extend_from_slice(&chunk[..take]);
            src.consume(take);
            if found.is_some() {
                return Ok(());
            }
        }
    }

    /// The element name in the last tag read.
    pub(super) fn name(&self) -> &[u8] {
        let skip = if self.tag.starts_with(b"</") { 2 } else { 1 };
        let rest = &self.tag[skip.min(self.tag.len())..];
        let length = rest
            .iter()
            .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>'))
            .unwrap_or(rest.len());
        &rest[..length]
    }

    /// The local part of [`Tokenizer::name`] (after a namespace prefix).
    pub(super) fn local_name(&self) -> &[u8] {
        let name = self.name();
        match memchr::memchr(b':', name) {
            Some(colon) => &name[colon + 1..],
            None => name,
        }
    }
}

/// Consumes character data up to the next `<`, handling it as `text` says.
fn character_data<R: Read + Seek, W: Write + ?Sized>(
    src: &mut Source<'_, R>,
    text: &mut Text<'_, W>,
) -> Result<(), MergeError> {
    loop {
        let chunk = src.chunk(2 * LOOKAHEAD)?;
        if chunk.is_empty() {
            return Err(src.changed());
        }
        let (data, limit, found) = match memchr::memchr(b'<', chunk) {
            Some(at) => (&chunk[..at], at, true),
            // Keep LOOKAHEAD bytes to finish an item; the buffer holds more than that unless
            // the input ends, which it may not do inside content.
            None if chunk.len() > LOOKAHEAD => (chunk, chunk.len() - LOOKAHEAD, false),
            None => return Err(src.changed()),
        };
        let taken = match text {
            Text::Copy(out) => {
                sanitize::sanitize(data, limit, Mode::Text, *out).map_err(MergeError::Write)?
            }
            Text::Skip { content } => {
                *content |= !data[..limit]
                    .iter()
                    .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
                limit
            }
        };
        src.consume(taken);
        if found && taken >= limit {
            return Ok(());
        }
    }
}

/// Copies (or skips) the rest of a CDATA section whose `<![CDATA[` was consumed.
fn cdata<R: Read + Seek, W: Write + ?Sized>(
    src: &mut Source<'_, R>,
    text: &mut Text<'_, W>,
) -> Result<(), MergeError> {
    let finder = memmem::Finder::new(b"]]>");
    match text {
        Text::Copy(out) => out.write_all(b"<![CDATA[").map_err(MergeError::Write)?,
        Text::Skip { content } => *content = true,
    }
    loop {
        let chunk = src.chunk(2 * LOOKAHEAD)?;
        let (data, limit, found) = match finder.find(chunk) {
            Some(at) => (&chunk[..at], at, true),
            None if chunk.len() > LOOKAHEAD => (chunk, chunk.len() - LOOKAHEAD, false),
            None => return Err(src.changed()),
        };
        let taken = match text {
            Text::Copy(out) => {
                sanitize::sanitize(data, limit, Mode::Cdata, *out).map_err(MergeError::Write)?
            }
            Text::Skip { .. } => limit,
        };
        src.consume(taken);
        if found && taken >= limit {
            src.consume(3);
            if let Text::Copy(out) = text {
                out.write_all(b"]]>").map_err(MergeError::Write)?;
            }
            return Ok(());
        }
    }
}

/// Consumes input up to and including `pattern`.
fn skip_past<R: Read + Seek>(src: &mut Source<'_, R>, pattern: &[u8]) -> Result<(), MergeError> {
    let finder = memmem::Finder::new(pattern);
    loop {
        let chunk = src.chunk(pattern.len())?;
        if chunk.len() < pattern.len() {
            return Err(src.changed());
        }
        match finder.find(chunk) {
            Some(at) => {
                src.consume(at + pattern.len());
                return Ok(());
            }
            None => {
                let keep = pattern.len() - 1;
                let amount = chunk.len() - keep;
                src.consume(amount);
            }
        }
    }
}
