//! The streaming XML layer under the Cobertura and JaCoCo readers: quick-xml events, within
//! limits, handed to a [`Visitor`].
//!
//! No DOM and no entities: a DOCTYPE is accepted (JaCoCo writes one) but never read or fetched,
//! and refused if it declares entities; references other than XML's five predefined entities
//! and character references are errors. Every event quick-xml buffers (a tag, a text run, a
//! DOCTYPE) is capped by [`Bounded`], attribute values by [`Limits::max_value_bytes`], nesting by
//! [`Limits::max_depth`], so an input's size never becomes memory.

use std::borrow::Cow;
use std::io::{self, BufRead, Cursor, Read};
use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::{CoverageError, Format, Limits};
use crate::junit::{declares_entities, is_wide_encoding};

/// What a format reader does with the document's events.
pub(super) trait Visitor {
    /// A start tag, or an empty-element tag (then [`Visitor::end`] follows at once).
    fn start(&mut self, element: &Element<'_>) -> Result<(), CoverageError>;
    /// An end tag (quick-xml has checked that it matches).
    fn end(&mut self, name: &str) -> Result<(), CoverageError>;
    /// Character data inside the innermost open element, references resolved. May come in
    /// several pieces.
    fn text(&mut self, text: &str) -> Result<(), CoverageError>;
}

/// A start tag being handed to a [`Visitor`].
pub(super) struct Element<'e> {
    start: &'e BytesStart<'e>,
    /// Where the tag starts.
    pub(super) offset: u64,
    max_value_bytes: usize,
}

impl Element<'_> {
    /// The element's local name (no namespace prefix).
    pub(super) fn name(&self) -> &str {
        // quick-xml decodes UTF-8 tags; a local name is a suffix of the name, so it is valid.
        let name = self.start.name();
        name.local_name().into_inner()
    }

    /// Calls `visit` with the local name and unescaped value of each attribute.
    pub(super) fn attributes<'a>(
        &'a self,
        mut visit: impl FnMut(&str, Cow<'a, str>) -> Result<(), CoverageError>,
    ) -> Result<(), CoverageError> {
        // A duplicate attribute is harmless here (the last one wins), and checking costs a set
        // per element.
        for attribute in self.start.attributes().with_checks(false) {
            let attribute = attribute.map_err(|err| CoverageError::Malformed {
                offset: self.offset,
                source: quick_xml::Error::InvalidAttr(err),
            })?;
            let key = attribute.key.local_name().into_inner();
            let raw = attribute.value;
            if raw.len() > self.max_value_bytes {
                return Err(CoverageError::ValueTooLong {
                    name: key.to_owned(),
                    at: format!("byte {}", self.offset),
                    length: raw.len(),
                    limit: self.max_value_bytes,
                });
            }
            let value = if raw.contains('&') {
                match quick_xml::escape::unescape(&raw) {
                    Ok(value) => Cow::Owned(value.into_owned()),
                    Err(source) => {
                        return Err(CoverageError::BadEntityReference {
                            offset: self.offset,
                            name: key.to_owned(),
                            source,
                        });
                    }
                }
            } else {
                raw
            };
            visit(key, value)?;
        }
        Ok(())
    }
}

/// A `BufRead` that fails once more than a set number of bytes were consumed since the last
/// [`Bounded::reset`]: quick-xml copies a whole tag or text run into its buffer before
/// returning it, and this is what keeps one enormous event from taking unbounded memory.
struct Bounded<R> {
    inner: R,
    consumed: u64,
    limit: u64,
}

impl<R: BufRead> Bounded<R> {
    fn reset(&mut self) {
        self.consumed = 0;
    }

    fn exceeded(&self) -> bool {
        self.consumed > self.limit
    }
}

impl<R: BufRead> Read for Bounded<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let amount = available.len().min(out.len());
        out[..amount].copy_from_slice(&available[..amount]);
        self.consume(amount);
        Ok(amount)
    }
}

impl<R: BufRead> BufRead for Bounded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.exceeded() {
            return Err(io::Error::other("markup longer than the limit"));
        }
        // Never hand out more than one byte past the allowance, so quick-xml cannot copy more
        // than that whatever the inner reader's chunks.
        let allowed = usize::try_from(self.limit + 1 - self.consumed).unwrap_or(usize::MAX);
        let chunk = self.inner.fill_buf()?;
        Ok(&chunk[..chunk.len().min(allowed)])
    }

    fn consume(&mut self, amount: usize) {
        self.consumed += amount as u64;
        self.inner.consume(amount);
    }
}

/// Reads up to `wanted` bytes from the start of `input`.
fn read_head<R: BufRead>(input: &mut R, wanted: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(wanted);
    while head.len() < wanted {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if chunk.is_empty() {
            break;
        }
        let amount = chunk.len().min(wanted - head.len());
        head.extend_from_slice(&chunk[..amount]);
        input.consume(amount);
    }
    Ok(head)
}

/// What the first bytes say about the encoding.
enum Encoding {
    /// UTF-8 or ASCII, after this many bytes of byte order mark.
    Utf8(usize),
    /// UTF-16 or UTF-32, and what gave it away.
    Wide(&'static str),
    /// A NUL byte at this offset that is not part of a wide encoding: binary data.
    Binary(usize),
}

/// Looks at the first bytes of a report.
fn sniff_encoding(head: &[u8]) -> Encoding {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Encoding::Utf8(3);
    }
    if head.starts_with(b"\xFF\xFE")
        || head.starts_with(b"\xFE\xFF")
        || head.starts_with(b"\0\0\xFE\xFF")
    {
        return Encoding::Wide("it starts with a UTF-16 or UTF-32 byte order mark");
    }
    let Some(first_nul) = memchr::memchr(0, head) else {
        return Encoding::Utf8(0);
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
        return Encoding::Wide("every other byte is NUL");
    }
    Encoding::Binary(first_nul)
}

/// Reads the XML document `input` of `format`, whose root element must be named `root`, and
/// hands its elements and text to `visitor`.
pub(super) fn read_xml<R: BufRead, V: Visitor>(
    mut input: R,
    format: Format,
    root: &str,
    limits: &Limits,
    visitor: &mut V,
) -> Result<(), CoverageError> {
    let (head, skip) = open(&mut input, format)?;
    // A tag holds a handful of attributes, each within the value limit.
    let markup_limit = (limits.max_value_bytes as u64)
        .saturating_mul(8)
        .max(64 * 1024);
    let mut reader = Reader::from_reader(Bounded {
        inner: head.chain(input),
        consumed: 0,
        limit: markup_limit,
    });
    reader.config_mut().check_end_names = true;
    reader.config_mut().expand_empty_elements = false;
    let mut state = State {
        format,
        root,
        names: String::new(),
        open: Vec::new(),
        root_seen: false,
    };
    let mut buf = Vec::with_capacity(4096);
    loop {
        let offset = reader.buffer_position() + skip as u64;
        buf.clear();
        reader.get_mut().reset();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(_) if reader.get_ref().exceeded() => {
                return Err(CoverageError::MarkupTooLong {
                    offset,
                    limit: markup_limit,
                });
            }
            Err(err) => return Err(state.parse_error(&mut reader, err, skip as u64)),
        };
        match event {
            Event::Start(start) => {
                let element = state.start(&start, offset, limits)?;
                visitor.start(&element)?;
                state.open.push(state.names.len());
                state.names.push_str(element.name());
            }
            Event::Empty(start) => {
                let element = state.start(&start, offset, limits)?;
                visitor.start(&element)?;
                visitor.end(element.name())?;
            }
            Event::End(_) => {
                if let Some(start) = state.open.pop() {
                    visitor.end(&state.names[start..])?;
                    state.names.truncate(start);
                }
            }
            Event::Text(text) => {
                let text = text.xml10_content();
                if !state.root_seen && !text.trim().is_empty() {
                    return Err(not_coverage(
                        format,
                        "text where the root element should be".to_owned(),
                    ));
                }
                if !state.open.is_empty() {
                    visitor.text(&text)?;
                }
            }
            Event::CData(data) => {
                if !state.open.is_empty() {
                    visitor.text(&data.xml10_content())?;
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = resolve(&reference)
                    .ok_or_else(|| bad_reference(&reference, offset, state.innermost()))?;
                if !state.open.is_empty() {
                    let mut utf8 = [0; 4];
                    visitor.text(resolved.encode_utf8(&mut utf8))?;
                }
            }
            Event::DocType(doctype) => {
                if declares_entities(AsRef::<str>::as_ref(&doctype).as_bytes()) {
                    return Err(CoverageError::EntityDeclaration { offset });
                }
            }
            Event::Decl(decl) => {
                if let Some(Ok(encoding)) = decl.encoding()
                    && is_wide_encoding(&encoding)
                {
                    return Err(CoverageError::Utf16 {
                        evidence: "the XML declaration says so",
                    });
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    state.finish(reader.buffer_position() + skip as u64)
}

/// Reads the first bytes of `input` and checks its encoding. Returns them (past a UTF-8 byte
/// order mark) to be read again, and the length of the byte order mark.
pub(super) fn open<R: BufRead>(
    input: &mut R,
    format: Format,
) -> Result<(Cursor<Vec<u8>>, usize), CoverageError> {
    let head = read_head(input, 64).map_err(|source| CoverageError::Io { offset: 0, source })?;
    let skip = match sniff_encoding(&head) {
        Encoding::Utf8(bom) => bom,
        Encoding::Wide(evidence) => return Err(CoverageError::Utf16 { evidence }),
        Encoding::Binary(at) => {
            return Err(not_coverage(
                format,
                format!("binary data (a NUL byte at byte {at})"),
            ));
        }
    };
    let mut head = Cursor::new(head);
    head.set_position(skip as u64);
    Ok((head, skip))
}

fn not_coverage(format: Format, reason: String) -> CoverageError {
    CoverageError::NotCoverage { format, reason }
}

/// The error for an entity reference that is not predefined.
fn bad_reference(reference: &BytesRef<'_>, offset: u64, element: &str) -> CoverageError {
    let name: &str = reference.as_ref();
    let source = match quick_xml::escape::unescape(&format!("&{name};")) {
        Err(source) => source,
        Ok(_) => quick_xml::escape::EscapeError::UnrecognizedEntity(0..name.len(), name.to_owned()),
    };
    CoverageError::BadEntityReference {
        offset,
        name: element.to_owned(),
        source,
    }
}

/// The character a reference stands for, if it is a character reference or one of the five
/// predefined entities.
fn resolve(reference: &BytesRef<'_>) -> Option<char> {
    if reference.is_char_ref() {
        return reference.resolve_char_ref().ok().flatten();
    }
    match reference.as_ref() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

/// The reader's own bookkeeping: open elements and whether the root was seen.
struct State<'r> {
    format: Format,
    root: &'r str,
    /// Names of the open elements, concatenated; `open` indexes into it.
    names: String,
    open: Vec<usize>,
    root_seen: bool,
}

impl State<'_> {
    fn innermost(&self) -> &str {
        self.open.last().map_or("", |&start| &self.names[start..])
    }

    fn start<'e>(
        &mut self,
        start: &'e BytesStart<'e>,
        offset: u64,
        limits: &Limits,
    ) -> Result<Element<'e>, CoverageError> {
        if self.open.len() >= limits.max_depth {
            return Err(CoverageError::TooDeep {
                offset,
                limit: limits.max_depth,
            });
        }
        let element = Element {
            start,
            offset,
            max_value_bytes: limits.max_value_bytes,
        };
        if !self.root_seen {
            let name = element.name();
            if name != self.root {
                let shown = if looks_like_name(name) {
                    format!("<{}>", super::error::shorten(name))
                } else {
                    "binary data".to_owned()
                };
                return Err(not_coverage(
                    self.format,
                    format!("the root element is {shown}, not <{}>", self.root),
                ));
            }
            self.root_seen = true;
        }
        Ok(element)
    }

    /// Turns a quick-xml error into the most useful [`CoverageError`].
    fn parse_error<R: BufRead>(
        &self,
        reader: &mut Reader<Bounded<R>>,
        err: quick_xml::Error,
        skip: u64,
    ) -> CoverageError {
        let offset = reader.error_position() + skip;
        if let quick_xml::Error::Io(io) = err {
            let source = Arc::try_unwrap(io)
                .unwrap_or_else(|shared| io::Error::new(shared.kind(), shared.to_string()));
            return CoverageError::Io {
                offset: reader.buffer_position() + skip,
                source,
            };
        }
        if !self.root_seen {
            return not_coverage(self.format, format!("not well-formed XML at byte {offset}"));
        }
        // quick-xml reports a syntax error when the input ends inside markup.
        let at_end = reader.get_mut().fill_buf().is_ok_and(<[u8]>::is_empty);
        if matches!(err, quick_xml::Error::Syntax(_)) && at_end && !self.open.is_empty() {
            return CoverageError::Truncated {
                open: format!("<{}>", self.innermost()),
                at: format!("byte {}", reader.buffer_position() + skip),
            };
        }
        CoverageError::Malformed {
            offset,
            source: err,
        }
    }

    fn finish(self, offset: u64) -> Result<(), CoverageError> {
        if !self.open.is_empty() {
            return Err(CoverageError::Truncated {
                open: format!("<{}>", self.innermost()),
                at: format!("byte {offset}"),
            });
        }
        if !self.root_seen {
            let reason = if offset == 0 {
                "the input is empty"
            } else {
                "there is no root element"
            };
            return Err(not_coverage(self.format, reason.to_owned()));
        }
        Ok(())
    }
}

/// Whether `name` could be an XML element name; binary data that happens to contain `<` mostly
/// is not.
fn looks_like_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

#[cfg(test)]
mod tests {
    use super::{Element, Visitor, read_xml};
    use crate::coverage::{CoverageError, Format, Limits};

    /// Records what the reader hands over, one line per call.
    #[derive(Default)]
    struct Recorder(Vec<String>);

    impl Visitor for Recorder {
        fn start(&mut self, element: &Element<'_>) -> Result<(), CoverageError> {
            let mut line = format!("<{}", element.name());
            element.attributes(|key, value| {
                line = format!("{line} {key}={value}");
                Ok(())
            })?;
            self.0.push(line);
            Ok(())
        }
        fn end(&mut self, name: &str) -> Result<(), CoverageError> {
            self.0.push(format!("/{name}"));
            Ok(())
        }
        fn text(&mut self, text: &str) -> Result<(), CoverageError> {
            if !text.trim().is_empty() {
                self.0.push(format!("'{text}'"));
            }
            Ok(())
        }
    }

    fn read(xml: &[u8]) -> Result<Vec<String>, CoverageError> {
        let mut recorder = Recorder::default();
        read_xml(
            xml,
            Format::Cobertura,
            "coverage",
            &Limits::default(),
            &mut recorder,
        )?;
        Ok(recorder.0)
    }

    #[test]
    fn hands_over_elements_text_and_references() {
        let events = read(
            b"\xEF\xBB\xBF<?xml version=\"1.0\"?><!DOCTYPE coverage SYSTEM \"x.dtd\">\
              <coverage a=\"&lt;&#65;\"><source>/a&amp;b</source><x/></coverage>",
        )
        .unwrap();
        assert_eq!(
            events,
            [
                "<coverage a=<A",
                "<source",
                "'/a'",
                "'&'",
                "'b'",
                "/source",
                "<x",
                "/x",
                "/coverage"
            ]
        );
    }

    #[test]
    fn refuses_what_it_must() {
        let cases: [(&[u8], &str); 9] = [
            (b"", "the input is empty"),
            (b"<testsuites/>", "the root element is <testsuites>"),
            (b"hello", "text where the root element should be"),
            (b"<coverage><a>", "ends at byte 13 with <a> still open"),
            (b"<coverage><a", "with <coverage> still open"),
            (
                b"<!DOCTYPE c [<!ENTITY x \"y\">]><coverage/>",
                "declares entities",
            ),
            (b"<coverage>&x;</coverage>", "bad entity reference"),
            (b"\xFF\xFE<\0c\0", "UTF-16"),
            (b"<coverage>\0\0\0</coverage>", "binary data"),
        ];
        for (xml, message) in cases {
            let err = read(xml).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(message), "{text:?} lacks {message:?}");
        }
    }

    #[test]
    fn limits_hold() {
        let limits = Limits {
            max_value_bytes: 10,
            max_depth: 3,
        };
        let mut recorder = Recorder::default();
        let err = read_xml(
            &b"<coverage><a><b><c/></b></a></coverage>"[..],
            Format::Cobertura,
            "coverage",
            &limits,
            &mut recorder,
        )
        .unwrap_err();
        assert!(
            matches!(err, CoverageError::TooDeep { limit: 3, .. }),
            "{err}"
        );
        let err = read_xml(
            &b"<coverage a=\"01234567890\"/>"[..],
            Format::Cobertura,
            "coverage",
            &limits,
            &mut recorder,
        )
        .unwrap_err();
        assert!(matches!(err, CoverageError::ValueTooLong { .. }), "{err}");
        let huge = format!("<coverage>{}</coverage>", "x".repeat(200_000));
        let err = read_xml(
            huge.as_bytes(),
            Format::Cobertura,
            "coverage",
            &limits,
            &mut recorder,
        )
        .unwrap_err();
        assert!(matches!(err, CoverageError::MarkupTooLong { .. }), "{err}");
    }
}
