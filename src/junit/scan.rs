//! The markup walk shared by the reader and the merge index: bytes in, element starts and ends
//! (with their byte offsets) out to a [`Visitor`].
//!
//! It owns everything both need to agree on: encoding sniffing, the root check, the depth and
//! markup limits, the refusal of entity declarations and wide encodings, the stack of open
//! elements, and the mapping of parser failures to [`JunitError`]s (truncation above all). Text,
//! CDATA sections and comments are stepped over by [`super::input`] without being buffered; a
//! visitor can also ask for an element's whole body to be skipped unread. Start tags in the
//! normal form ([`super::tag`]), nearly all of a real report's, are read from the buffer
//! without quick-xml, so end tags are matched here rather than by quick-xml. It never
//! interprets an element beyond the root's name: that is the visitor's business.

use std::borrow::Cow;
use std::io::{self, BufRead, Read};
use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::errors::IllFormedError;
use quick_xml::events::{BytesEnd, BytesStart, Event};

use super::error::JunitError;
use super::input::{
    Lookahead, Sniffed, declares_entities, is_wide_encoding, skip_body, skip_text, sniff,
};
use super::reader::Limits;
use super::tag::NormalTag;

/// Longest start tag read without quick-xml (see [`read_normal_start`]); a longer one takes
/// the parser's path.
const NORMAL_TAG_WINDOW: usize = 4096;

/// A start tag as a walk hands it to a [`Visitor`].
#[derive(Clone, Copy)]
pub(super) struct StartTag<'a, 'b> {
    /// The tag.
    pub(super) start: &'a BytesStart<'b>,
    /// Its normal form, when the walk read it as one (a tag it did not may still be in that
    /// form: one longer than the walk looks, or the root).
    pub(super) normal: Option<&'a NormalTag>,
}

impl<'a, 'b> From<&'a BytesStart<'b>> for StartTag<'a, 'b> {
    fn from(start: &'a BytesStart<'b>) -> Self {
        StartTag {
            start,
            normal: None,
        }
    }
}

/// What a walk hands a [`Visitor`] besides the elements.
pub(super) trait Visitor {
    /// What the visitor remembers about each open element.
    type Kind: Copy;

    /// An element starts: `tag` is its start tag, found at `offset..end` (absolute byte offsets in
    /// the input), `parent` the kind of the enclosing element. `empty` for `<x/>`, in which
    /// case [`Visitor::end`] follows at once. Returns the element's kind and whether its body
    /// should be skipped unread (only honoured for non-empty elements).
    fn start(
        &mut self,
        parent: Option<Self::Kind>,
        tag: StartTag<'_, '_>,
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
    walk_with(input, limits, visitor, true)
}

/// [`walk`], reading normal start tags without quick-xml when `normal_tags` (tests compare
/// the two ways).
fn walk_with<R: Read, V: Visitor>(
    input: R,
    limits: &Limits,
    visitor: &mut V,
    normal_tags: bool,
) -> Result<Stats, JunitError> {
    let (mut reader, base) = open(input)?;
    let mut walk = Walk {
        base,
        open: Open::default(),
        root_seen: false,
        declared: None,
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
        // The prologue (declaration, DOCTYPE, root) is left to the parser.
        let normal = if normal_tags && walk.root_seen {
            read_normal_start(&mut reader, &mut walk, visitor, limits, offset)?
        } else {
            None
        };
        let skip = match normal {
            Some(skip) => skip,
            None => match read_event(&mut reader, &mut buf, &mut walk, visitor, limits, offset)? {
                Some(skip) => skip,
                None => break,
            },
        };
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

/// Reads the next markup through quick-xml and hands it to `visitor`; returns whether the
/// body of the element it opened is to be skipped, or `None` at the end of the input.
fn read_event<R: Read, V: Visitor>(
    reader: &mut Reader<Lookahead<R>>,
    buf: &mut Vec<u8>,
    walk: &mut Walk<V::Kind>,
    visitor: &mut V,
    limits: &Limits,
    offset: u64,
) -> Result<Option<bool>, JunitError> {
    let markup_limit = markup_limit(limits);
    buf.clear();
    reader.get_mut().limit_markup(markup_limit);
    let event = reader.read_event_into(buf);
    let too_long = reader.get_ref().markup_limit_exceeded();
    reader.get_mut().unlimit_markup();
    let event = match event {
        Ok(Event::Eof) => return Ok(None),
        Ok(event) => event,
        Err(_) if too_long => {
            return Err(JunitError::MarkupTooLong {
                offset,
                limit: markup_limit,
            });
        }
        Err(err) => return Err(walk.parse_error(reader, err)),
    };
    let end = walk.base + reader.buffer_position();
    walk.event(visitor, limits, &event, offset, end).map(Some)
}

/// Reads the start tag at `offset`, the reader's position, straight from its buffer when it
/// is in the normal form ([`NormalTag`]) and valid UTF-8: such a tag is well-formed whatever
/// surrounds it, and quick-xml would hand over the same bytes, after searching, copying and
/// validating them once more. Most tags of real reports are in that form. Returns whether the
/// body of the element is to be skipped, or `None`, having consumed nothing, for any other
/// markup.
fn read_normal_start<R: Read, V: Visitor>(
    reader: &mut Reader<Lookahead<R>>,
    walk: &mut Walk<V::Kind>,
    visitor: &mut V,
    limits: &Limits,
    offset: u64,
) -> Result<Option<bool>, JunitError> {
    let ahead = match reader.get_mut().fill_to(NORMAL_TAG_WINDOW) {
        Ok(ahead) => ahead,
        Err(source) => return Err(JunitError::Io { offset, source }),
    };
    let window = &ahead[..ahead.len().min(NORMAL_TAG_WINDOW)];
    if !(window.first() == Some(&b'<')
        && window
            .get(1)
            .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_'))
    {
        return Ok(None);
    }
    // A normal tag's values hold no `>`, so the first one ends it.
    let Some(close) = memchr::memchr(b'>', window) else {
        return Ok(None);
    };
    let (inner, empty) = match window[1..close].strip_suffix(b"/") {
        Some(inner) => (inner, true),
        None => (&window[1..close], false),
    };
    let Some(tag) = NormalTag::parse(inner) else {
        return Ok(None);
    };
    let Ok(inner) = std::str::from_utf8(inner) else {
        return Ok(None);
    };
    let length = close + 1;
    let start = BytesStart::from_content(inner, tag.name_end);
    let tag = StartTag {
        start: &start,
        normal: Some(&tag),
    };
    let skip = walk.start(visitor, limits, tag, offset, offset + length as u64, empty)?;
    reader.stream().consume(length);
    Ok(Some(skip))
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
    // End tags are matched by the walk, which also sees the start tags quick-xml does not.
    reader.config_mut().check_end_names = false;
    reader.config_mut().allow_unmatched_ends = true;
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
    /// The encoding the XML declaration names, when it is not UTF-8: what to tell the user
    /// should the document hold bytes that are not UTF-8.
    declared: Option<String>,
}

impl<K: Copy> Walk<K> {
    fn start<V: Visitor<Kind = K>>(
        &mut self,
        visitor: &mut V,
        limits: &Limits,
        tag: StartTag<'_, '_>,
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
        let qname = tag.start.name();
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
        let (kind, skip) = visitor.start(parent, tag, offset, end, empty)?;
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
            Event::Start(start) | Event::Empty(start) => {
                let tag = StartTag {
                    start,
                    normal: None,
                };
                let empty = matches!(event, Event::Empty(_));
                self.start(visitor, limits, tag, offset, end, empty)
            }
            Event::End(end_tag) => {
                self.check_end(end_tag, offset)?;
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
                if let Some(Ok(encoding)) = decl.encoding() {
                    if is_wide_encoding(&encoding) {
                        return Err(JunitError::Utf16 {
                            evidence: "the XML declaration says so",
                        });
                    }
                    let encoding = encoding.trim();
                    if !encoding.eq_ignore_ascii_case("utf-8")
                        && !encoding.eq_ignore_ascii_case("utf8")
                    {
                        self.declared = Some(encoding.to_owned());
                    }
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

    /// Checks that `end_tag`, found at `offset`, closes the innermost open element.
    fn check_end(&self, end_tag: &BytesEnd<'_>, offset: u64) -> Result<(), JunitError> {
        let found = end_tag.name();
        let found: &str = found.as_ref();
        let error = if self.open.depth() == 0 {
            IllFormedError::UnmatchedEndTag(found.to_owned())
        } else if found != self.open.innermost() {
            IllFormedError::MismatchedEndTag {
                expected: self.open.innermost().to_owned(),
                found: found.to_owned(),
            }
        } else {
            return Ok(());
        };
        Err(JunitError::Malformed {
            offset,
            source: quick_xml::Error::IllFormed(error),
        })
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
        if let (quick_xml::Error::Encoding(_), Some(encoding)) = (&err, &self.declared) {
            return JunitError::DeclaredEncoding {
                encoding: encoding.clone(),
                offset,
            };
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
    tag: impl Into<StartTag<'e, 'e>>,
    offset: u64,
    limits: &Limits,
    strict: bool,
    mut visit: impl FnMut(&str, Cow<'e, str>) -> Result<(), JunitError>,
) -> Result<(), JunitError> {
    let tag = tag.into();
    let start = tag.start;
    if let Some(normal) = tag.normal {
        // Distinct keys, and values with nothing to unescape: slices of the tag.
        let inner: &'e str = start;
        for attribute in normal.attributes() {
            let key = &inner[attribute.key];
            let key = key.split_once(':').map_or(key, |(_, local)| local);
            let value = &inner[attribute.value];
            check_length(key, value, offset, limits)?;
            visit(key, Cow::Borrowed(value))?;
        }
        return Ok(());
    }
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
        check_length(key, &raw, offset, limits)?;
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

/// The error for the attribute `key` of the tag at `offset` when its raw `value` is longer
/// than the limit.
pub(super) fn check_length(
    key: &str,
    value: &str,
    offset: u64,
    limits: &Limits,
) -> Result<(), JunitError> {
    if value.len() > limits.max_attribute_bytes {
        return Err(JunitError::AttributeTooLong {
            attribute: key.to_owned(),
            offset,
            length: value.len(),
            limit: limits.max_attribute_bytes,
        });
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

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use proptest::prelude::*;

    use super::{JunitError, Limits, StartTag, Visitor, for_each_attribute, walk_with};

    /// Writes down everything a walk reports, attributes included.
    #[derive(Default)]
    struct Record(String);

    impl Visitor for Record {
        type Kind = ();

        fn start(
            &mut self,
            parent: Option<()>,
            tag: StartTag<'_, '_>,
            offset: u64,
            end: u64,
            empty: bool,
        ) -> Result<((), bool), JunitError> {
            let name = tag.start.name();
            let name: &str = name.as_ref();
            let raw: &str = tag.start;
            let _ = write!(
                self.0,
                "start {name} {raw:?} {offset}..{end} {empty} {parent:?} ["
            );
            // Through the attribute reader the visitors use, which takes the recognised form
            // when there is one: unescaped values, local names, the length limit.
            let attributes = for_each_attribute(tag, offset, &limits(), true, |key, value| {
                let _ = write!(self.0, "{key}={value:?} ");
                Ok(())
            });
            if let Err(err) = attributes {
                let _ = write!(self.0, "bad attributes: {err}");
            }
            // Skipping the body of `skip` elements exercises the walk's skipping too.
            let _ = writeln!(self.0, "]");
            Ok(((), name == "skip"))
        }

        fn end(&mut self, _kind: (), offset: u64, end: u64) {
            let _ = writeln!(self.0, "end {offset}..{end}");
        }

        fn text(&mut self, _kind: (), offset: u64) {
            let _ = writeln!(self.0, "text {offset}");
        }
    }

    fn limits() -> Limits {
        Limits {
            max_attribute_bytes: 3000,
            max_depth: 8,
        }
    }

    fn record(document: &[u8], normal_tags: bool) -> String {
        let mut record = Record::default();
        let result = walk_with(document, &limits(), &mut record, normal_tags);
        let _ = write!(
            record.0,
            "{:?}",
            result.map(|_| ()).map_err(|err| err.to_string())
        );
        record.0
    }

    /// Pieces of markup, well-formed or not, in and out of the normal form.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(r#"<testcase classname="a.b" name="t[1]" time="0.5"/>"#.to_owned()),
            Just(r#"<testcase name="a" time="1" />"#.to_owned()),
            Just(r#"<testcase name="a">"#.to_owned()),
            Just("</testcase>".to_owned()),
            Just("</testcase >".to_owned()),
            Just("</testsuite>".to_owned()),
            Just(r#"<testsuite name="s" tests="2">"#.to_owned()),
            Just(r#"<property name="k" value="v"/>"#.to_owned()),
            Just(r#"<failure message="a &amp; b">trace</failure>"#.to_owned()),
            Just("<failure message='single'/>".to_owned()),
            Just(r#"<x a="1" a="2"/>"#.to_owned()),
            Just(r#"<x a="1"b="2"/>"#.to_owned()),
            Just(r#"<x a="b>c"/>"#.to_owned()),
            Just(r#"<x a="b/"/>"#.to_owned()),
            Just(r#"<x a="unterminated/>"#.to_owned()),
            Just("<x\tname=\"a\"/>".to_owned()),
            Just(r#"<x a="é"/>"#.to_owned()),
            Just(r#"<ns:x ns:a="1"/>"#.to_owned()),
            Just(r#"<x a:b:c="1" xmlns:q="u"/>"#.to_owned()),
            Just("<x/ >".to_owned()),
            Just("<skip><a/></b>&amp;</skip>".to_owned()),
            Just("<![CDATA[<y/>]]>".to_owned()),
            Just("<!-- <y/> -->".to_owned()),
            Just("text".to_owned()),
            Just("  \n".to_owned()),
            Just("<".to_owned()),
            Just("</>".to_owned()),
            "[a-z]{1,3}".prop_map(|name| format!("<{name}>")),
            "[a-z]{1,3}".prop_map(|name| format!("</{name}>")),
            (0..5000_usize).prop_map(|n| format!(r#"<long v="{}"/>"#, "v".repeat(n))),
        ]
    }

    proptest! {
        #[test]
        fn normal_tags_read_without_the_parser_give_the_same_walk(
            pieces in proptest::collection::vec(piece(), 0..24),
            bad_byte in proptest::option::of(0..400_usize),
            cut in proptest::option::of(0..2000_usize),
        ) {
            let mut document = br#"<?xml version="1.0"?><testsuites name="r">"#.to_vec();
            for piece in &pieces {
                document.extend_from_slice(piece.as_bytes());
            }
            document.extend_from_slice(b"</testsuites>");
            if let Some(at) = bad_byte.filter(|&at| at < document.len()) {
                document[at] = 0xFF;
            }
            if let Some(cut) = cut {
                document.truncate(document.len().saturating_sub(cut));
            }
            prop_assert_eq!(record(&document, true), record(&document, false));
        }
    }

    #[test]
    fn end_tags_must_close_the_innermost_element() {
        let crossed = record(b"<testsuites><a><b></a></b></testsuites>", true);
        assert!(
            crossed.ends_with(r#"Err("malformed XML at byte 18")"#),
            "{crossed}"
        );
        let unmatched = record(b"<testsuites></testsuites></x>", true);
        assert!(
            unmatched.ends_with(r#"Err("malformed XML at byte 25")"#),
            "{unmatched}"
        );
        // Normal start tags are matched like the others.
        let normal = record(br#"<testsuites><a k="v"><b k="v"></a></testsuites>"#, true);
        assert!(
            normal.ends_with(r#"Err("malformed XML at byte 30")"#),
            "{normal}"
        );
    }
}
