//! The markup walk shared by the reader and the merge index: bytes in, element starts and ends
//! (with their byte offsets) out to a [`Visitor`].
//!
//! It owns everything both need to agree on: encoding sniffing, the root check, the depth and
//! markup limits, the refusal of entity declarations and wide encodings, the stack of open
//! elements, and the mapping of parser failures to [`JunitError`]s (truncation above all). Text,
//! CDATA sections and comments are stepped over by [`super::input`] without being buffered; a
//! visitor can also ask for an element's whole body to be skipped unread. It never interprets
//! an element beyond the root's name: that is the visitor's business.

use std::borrow::Cow;
use std::io::{self, Read};
use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::error::JunitError;
use super::input::{
    Lookahead, Sniffed, declares_entities, is_wide_encoding, skip_body, skip_text, sniff,
};
use super::reader::Limits;

/// What a walk hands a [`Visitor`] besides the elements.
pub(super) trait Visitor {
    /// What the visitor remembers about each open element.
    type Kind: Copy;

    /// An element starts: `start` is its tag, found at `offset..end` (absolute byte offsets in
    /// the input), `parent` the kind of the enclosing element. `empty` for `<x/>`, in which
    /// case [`Visitor::end`] follows at once. Returns the element's kind and whether its body
    /// should be skipped unread (only honoured for non-empty elements).
    fn start(
        &mut self,
        parent: Option<Self::Kind>,
        start: &BytesStart<'_>,
        offset: u64,
        end: u64,
        empty: bool,
    ) -> Result<(Self::Kind, bool), JunitError>;

    /// An element ends: `offset..end` spans its end tag (its whole tag when it was empty).
    fn end(&mut self, kind: Self::Kind, offset: u64, end: u64);

    /// Character data other than whitespace (CDATA sections count) was found inside `kind` at
    /// `offset`. Called at most once per run of text between two tags.
    fn text(&mut self, kind: Self::Kind, offset: u64) {
        let _ = (kind, offset);
    }
}

/// Internal measurements, for tests that check memory stays bounded.
#[derive(Debug, Default)]
pub(super) struct Stats {
    /// Largest capacity the event buffer reached.
    pub(super) max_event_buffer: usize,
}

/// The markup limit for `limits`: a tag holds a handful of attributes, each within the
/// attribute limit.
pub(super) fn markup_limit(limits: &Limits) -> u64 {
    (limits.max_attribute_bytes as u64)
        .saturating_mul(8)
        .max(64 * 1024)
}

/// Walks the document in `input`, reporting every element to `visitor`. Everything reported
/// before an error stays valid: an element's end is reported only once its end tag was read.
pub(super) fn walk<R: Read, V: Visitor>(
    input: R,
    limits: &Limits,
    visitor: &mut V,
) -> Result<Stats, JunitError> {
    let (mut reader, base) = open(input)?;
    let markup_limit = markup_limit(limits);
    let mut walk = Walk {
        base,
        open: Open::default(),
        root_seen: false,
    };
    let mut stats = Stats::default();
    let mut buf = Vec::with_capacity(4096);
    loop {
        let text_start = base + reader.buffer_position();
        let (saw_text, complete) =
            skip_text(&mut reader).map_err(|source| walk.io_error(&reader, source))?;
        if saw_text {
            match walk.open.innermost_kind() {
                Some(kind) => visitor.text(kind, text_start),
                None if !walk.root_seen => {
                    return Err(JunitError::NotXml {
                        offset: text_start,
                        reason: "text where the root element should be",
                        source: None,
                    });
                }
                None => {}
            }
        }
        if !complete {
            return Err(walk.truncated(base + reader.buffer_position()));
        }
        let offset = base + reader.buffer_position();
        buf.clear();
        reader.get_mut().limit_markup(markup_limit);
        let event = reader.read_event_into(&mut buf);
        let too_long = reader.get_ref().markup_limit_exceeded();
        reader.get_mut().unlimit_markup();
        let event = match event {
            Ok(Event::Eof) => break,
            Ok(event) => event,
            Err(_) if too_long => {
                return Err(JunitError::MarkupTooLong {
                    offset,
                    limit: markup_limit,
                });
            }
            Err(err) => return Err(walk.parse_error(&mut reader, err)),
        };
        let end = base + reader.buffer_position();
        let skip = walk.event(visitor, limits, &event, offset, end)?;
        stats.max_event_buffer = stats.max_event_buffer.max(buf.capacity());
        if skip {
            let name = walk.open.innermost();
            if !skip_body(&mut reader, name).map_err(|source| walk.io_error(&reader, source))? {
                return Err(walk.truncated(base + reader.buffer_position()));
            }
        }
    }
    walk.finish(base + reader.buffer_position())?;
    Ok(stats)
}

/// Sniffs the encoding and sets up the parser; also returns the length of a byte order mark,
/// the offset of the parser's first byte.
fn open<R: Read>(input: R) -> Result<(Reader<Lookahead<R>>, u64), JunitError> {
    let mut input = Lookahead::new(input);
    let sniffed = sniff(&mut input).map_err(|source| JunitError::Io { offset: 0, source })?;
    match sniffed {
        Sniffed::Utf8 => {}
        Sniffed::Wide(evidence) => return Err(JunitError::Utf16 { evidence }),
        Sniffed::Binary(at) => {
            return Err(JunitError::NotXml {
                offset: at as u64,
                reason: "binary data (a NUL byte)",
                source: None,
            });
        }
    }
    // Offsets are reported from the start of the input, byte order mark included.
    let base = input.position();
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    reader.config_mut().expand_empty_elements = false;
    Ok((reader, base))
}

/// The names and kinds of the open elements.
struct Open<K> {
    /// Names of the open elements, concatenated; `open` indexes into it.
    names: String,
    open: Vec<(usize, K)>,
}

impl<K> Default for Open<K> {
    fn default() -> Self {
        Open {
            names: String::new(),
            open: Vec::new(),
        }
    }
}

impl<K: Copy> Open<K> {
    fn push(&mut self, name: &str, kind: K) {
        self.open.push((self.names.len(), kind));
        self.names.push_str(name);
    }

    fn pop(&mut self) -> Option<K> {
        let (start, kind) = self.open.pop()?;
        self.names.truncate(start);
        Some(kind)
    }

    fn depth(&self) -> usize {
        self.open.len()
    }

    /// The name of the innermost open element (empty when none is open).
    fn innermost(&self) -> &str {
        self.open
            .last()
            .map_or("", |&(start, _)| &self.names[start..])
    }

    fn innermost_kind(&self) -> Option<K> {
        self.open.last().map(|&(_, kind)| kind)
    }
}

/// The walk's own state between events.
struct Walk<K> {
    /// Offset of the first byte the parser saw (after a byte order mark).
    base: u64,
    open: Open<K>,
    root_seen: bool,
}

impl<K: Copy> Walk<K> {
    fn start<V: Visitor<Kind = K>>(
        &mut self,
        visitor: &mut V,
        limits: &Limits,
        start: &BytesStart<'_>,
        offset: u64,
        end: u64,
        empty: bool,
    ) -> Result<bool, JunitError> {
        if self.open.depth() >= limits.max_depth {
            return Err(JunitError::TooDeep {
                offset,
                limit: limits.max_depth,
            });
        }
        let qname = start.name();
        let name = qname.as_ref();
        if !self.root_seen {
            if !looks_like_name(name) {
                return Err(JunitError::NotXml {
                    offset,
                    reason: "binary data where the root element should be",
                    source: None,
                });
            }
            let local = qname.local_name();
            if local.as_ref() != "testsuites" && local.as_ref() != "testsuite" {
                return Err(JunitError::UnexpectedRoot {
                    root: name.to_owned(),
                });
            }
            self.root_seen = true;
        }
        let parent = self.open.innermost_kind();
        let (kind, skip) = visitor.start(parent, start, offset, end, empty)?;
        if empty {
            visitor.end(kind, offset, end);
            Ok(false)
        } else {
            self.open.push(name, kind);
            Ok(skip)
        }
    }

    /// Handles one markup event found at `offset..end`; returns whether the body of the
    /// element it opened is to be skipped.
    fn event<V: Visitor<Kind = K>>(
        &mut self,
        visitor: &mut V,
        limits: &Limits,
        event: &Event<'_>,
        offset: u64,
        end: u64,
    ) -> Result<bool, JunitError> {
        match event {
            Event::Start(start) => self.start(visitor, limits, start, offset, end, false),
            Event::Empty(start) => self.start(visitor, limits, start, offset, end, true),
            Event::End(_) => {
                if let Some(kind) = self.open.pop() {
                    visitor.end(kind, offset, end);
                }
                Ok(false)
            }
            Event::DocType(doctype) => {
                if declares_entities(AsRef::<str>::as_ref(doctype).as_bytes()) {
                    return Err(JunitError::EntityDeclaration { offset });
                }
                if self.root_seen {
                    return Err(JunitError::Misplaced {
                        offset,
                        what: "a DOCTYPE after the root element",
                    });
                }
                Ok(false)
            }
            Event::Decl(decl) => {
                if let Some(Ok(encoding)) = decl.encoding()
                    && is_wide_encoding(&encoding)
                {
                    return Err(JunitError::Utf16 {
                        evidence: "the XML declaration says so",
                    });
                }
                Ok(false)
            }
            Event::Eof
            | Event::Text(_)
            | Event::CData(_)
            | Event::Comment(_)
            | Event::PI(_)
            | Event::GeneralRef(_) => Ok(false),
        }
    }

    fn io_error<R>(&self, reader: &Reader<R>, source: io::Error) -> JunitError {
        JunitError::Io {
            offset: self.base + reader.buffer_position(),
            source,
        }
    }

    /// Turns a quick-xml error into the most useful [`JunitError`].
    fn parse_error<R: Read>(
        &self,
        reader: &mut Reader<Lookahead<R>>,
        err: quick_xml::Error,
    ) -> JunitError {
        let offset = self.base + reader.error_position();
        if let quick_xml::Error::Io(io) = err {
            let source = Arc::try_unwrap(io)
                .unwrap_or_else(|shared| io::Error::new(shared.kind(), shared.to_string()));
            return self.io_error(reader, source);
        }
        if !self.root_seen {
            return JunitError::NotXml {
                offset,
                reason: "not well-formed XML",
                source: Some(err),
            };
        }
        // quick-xml reports a syntax error when the input ends inside markup; the only other
        // cause is an unrecognisable `<!`, which leaves input behind.
        let at_end = reader.get_mut().fill_to(1).is_ok_and(<[u8]>::is_empty);
        if matches!(err, quick_xml::Error::Syntax(_)) && at_end && self.open.depth() > 0 {
            return JunitError::Truncated {
                element: self.open.innermost().to_owned(),
                offset: self.base + reader.buffer_position(),
            };
        }
        JunitError::Malformed {
            offset,
            source: err,
        }
    }

    /// The error for input that ends at `offset`, inside the innermost open element.
    fn truncated(&self, offset: u64) -> JunitError {
        if self.open.depth() == 0 {
            JunitError::NotXml {
                offset,
                reason: "the input ends inside a comment or CDATA section",
                source: None,
            }
        } else {
            JunitError::Truncated {
                element: self.open.innermost().to_owned(),
                offset,
            }
        }
    }

    fn finish(&self, offset: u64) -> Result<(), JunitError> {
        if self.open.depth() > 0 {
            return Err(self.truncated(offset));
        }
        if !self.root_seen {
            let reason = if offset == self.base {
                "the input is empty"
            } else {
                "there is no root element"
            };
            return Err(JunitError::NotXml {
                offset,
                reason,
                source: None,
            });
        }
        Ok(())
    }
}

/// Calls `visit` with the local name and value of each attribute of the tag found at
/// `offset`, enforcing the length limit. Values are unescaped; an entity reference other than
/// the predefined ones and character references is an error when `strict`, and otherwise
/// leaves the value as written. Duplicate attributes are all visited, in order.
pub(super) fn for_each_attribute<'e>(
    start: &'e BytesStart<'_>,
    offset: u64,
    limits: &Limits,
    strict: bool,
    mut visit: impl FnMut(&str, Cow<'e, str>) -> Result<(), JunitError>,
) -> Result<(), JunitError> {
    // Duplicate-attribute checks cost a set per element; a duplicate is harmless to both
    // users of this walk (the reader takes the last, the merge writes the last), so they are
    // off.
    for attribute in start.attributes().with_checks(false) {
        let attribute = attribute.map_err(|err| JunitError::Malformed {
            offset,
            source: quick_xml::Error::InvalidAttr(err),
        })?;
        let key = attribute.key.local_name();
        let key = key.as_ref();
        let raw = attribute.value;
        if raw.len() > limits.max_attribute_bytes {
            return Err(JunitError::AttributeTooLong {
                attribute: key.to_owned(),
                offset,
                length: raw.len(),
                limit: limits.max_attribute_bytes,
            });
        }
        let value = if raw.contains('&') {
            match quick_xml::escape::unescape(&raw) {
                Ok(value) => Cow::Owned(value.into_owned()),
                Err(source) if strict => {
                    return Err(JunitError::BadEntityReference {
                        offset,
                        attribute: key.to_owned(),
                        source,
                    });
                }
                Err(_) => raw,
            }
        } else {
            raw
        };
        visit(key, value)?;
    }
    Ok(())
}

/// Whether `name` could be an XML element or attribute name; binary data that happens to
/// contain `<` mostly is not.
pub(super) fn looks_like_name(name: &str) -> bool {
    // Almost every name is ASCII: check its bytes without decoding.
    let bytes = name.as_bytes();
    if bytes.is_ascii() {
        return bytes
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    }
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}
