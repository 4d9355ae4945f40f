//! Pass 2: writes the merged report, seeking back into the inputs for every piece.
//!
//! Suites, `properties` and testcases that fold retries are written here, in the normal form
//! the module documentation gives; the start tags of everything copied are written again from
//! their attributes; everything between tags is streamed through [`super::sanitize`].

use std::collections::HashSet;
use std::io::{BufWriter, Read, Seek, Write};

use quick_xml::events::BytesStart;
use sha2::{Digest, Sha256};

use super::group::{FOLDED, GROUP_FIRST, LEADER, MergedSuite, Plan, ROLE, SINGLE};
use super::index::{
    Case, Counts, HAS_BODY, HAS_FLAKY, HAS_RERUN, Hash, Index, NONE, NORMAL_TAG, Piece, PieceKind,
    TIME_AS_WRITTEN, hash,
};
use super::sanitize::{self, Mode};
use super::source::{Source, Tag, Text, Tokenizer};
use super::{MergeError, MergeInput};
use crate::junit::Outcome;
use crate::junit::tag::NormalTag;
use crate::junit::time::format_millis;

/// Attributes of suites that are recounted rather than copied.
const COUNTERS: [&str; 6] = [
    "tests",
    "failures",
    "errors",
    "skipped",
    "assertions",
    "time",
];

/// Bytes written to `out` at a time. Large: a caller that buffers too (a `BufWriter` of up to
/// this size) then passes each chunk straight through instead of copying it once more, and
/// the output is hundreds of MB.
pub(super) const OUT_BUFFER: usize = 1 << 20;

/// Writes the merged report of `inputs` to `out`; returns how many suites it holds and notes
/// about anything left out.
pub(super) fn emit<R: Read + Seek, W: Write>(
    inputs: &mut [MergeInput<R>],
    index: &Index,
    plan: &Plan,
    out: W,
) -> Result<(usize, Vec<String>), MergeError> {
    let mut out = BufWriter::with_capacity(OUT_BUFFER, out);
    let mut emitter = Emitter {
        src: Source::new(inputs),
        index,
        plan,
        tok: Tokenizer::default(),
        tag: Vec::new(),
        stray_text: 0,
        scratch: Vec::new(),
    };
    out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .map_err(MergeError::Write)?;
    emitter.suite(&mut out, 0, 0)?;
    out.flush().map_err(MergeError::Write)?;
    let mut notes = Vec::new();
    if emitter.stray_text > 0 {
        notes.push(format!(
            "text directly inside {} retried testcases (outside their child elements) was left out",
            emitter.stray_text
        ));
    }
    Ok((plan.merged.len() - 1, notes))
}

/// What a walk over a testcase's children does with one child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Child {
    /// Leave it out.
    Skip,
    /// Write it as it is.
    Copy,
    /// Write it under another name.
    Rename(&'static str),
    /// Stop the walk and return where this child's tag is.
    Find,
}

/// Where a child found by [`Child::Find`] is.
struct Found {
    offset: u64,
    tag_len: usize,
    empty: bool,
}

struct Emitter<'a, 'i, R> {
    src: Source<'i, R>,
    index: &'a Index,
    plan: &'a Plan,
    tok: Tokenizer,
    /// The start tag being written again.
    tag: Vec<u8>,
    /// Leader testcases with text outside their children.
    stray_text: usize,
    /// A property written aside (see [`PropertySink`]).
    scratch: Vec<u8>,
}

type Out<'o> = &'o mut dyn Write;

/// An input and the offset and length of a start tag in it.
type TagSource = (u32, (u64, u32));

impl<R: Read + Seek> Emitter<'_, '_, R> {
    /// Writes merged suite `number` at nesting `depth`.
    fn suite(&mut self, out: Out<'_>, number: u32, depth: usize) -> Result<(), MergeError> {
        let plan = self.plan;
        let merged: &MergedSuite = &plan.merged[number as usize];
        let element = if number == 0 {
            "testsuites"
        } else {
            "testsuite"
        };
        let tagged = self.tag_source(merged, number == 0)?;
        indent(out, depth)?;
        match tagged {
            Some((input, (offset, length))) => {
                self.read_tag(input as usize, offset, length as usize)?;
                write_suite_tag(out, element, &self.tag, &merged.counts)
                    .map_err(|err| self.write_or_changed(err))?;
            }
            None => write_suite_tag(out, element, b"<x>", &merged.counts)
                .map_err(|err| self.write_or_changed(err))?,
        }
        let mut open = false;
        self.properties(out, merged, depth + 1, &mut open)?;
        for &member in &merged.members {
            self.cases(out, member, depth + 1, &mut open)?;
        }
        for &child in &merged.children {
            opened(out, &mut open)?;
            self.suite(out, child, depth + 1)?;
        }
        for piece in pieces(self.index, merged, PieceKind::Extra) {
            opened(out, &mut open)?;
            indent(out, depth + 1)?;
            self.copy_piece(out, piece.0, &piece.1)?;
            newline(out)?;
        }
        for (kind, element) in [
            (PieceKind::Out, "system-out"),
            (PieceKind::Err, "system-err"),
        ] {
            let pieces = pieces(self.index, merged, kind);
            if pieces.is_empty() {
                continue;
            }
            opened(out, &mut open)?;
            indent(out, depth + 1)?;
            write_all(out, format!("<{element}>").as_bytes())?;
            for (input, piece) in pieces {
                self.src
                    .seek(input, piece.start + u64::from(piece.tag_len))?;
                self.copy_content(out)?;
            }
            write_all(out, format!("</{element}>\n").as_bytes())?;
        }
        if open {
            indent(out, depth)?;
            write_all(out, format!("</{element}>\n").as_bytes())
        } else {
            write_all(out, b"/>\n")
        }
    }

    /// The input and tag whose attributes a merged suite takes: its first member's; for the
    /// root, the first `<testsuites>` that has attributes other than counters (so that an
    /// output of rxdist, whose root may have only counters, passes its inputs' root on).
    fn tag_source(
        &mut self,
        merged: &MergedSuite,
        root: bool,
    ) -> Result<Option<TagSource>, MergeError> {
        for &member in &merged.members {
            let suite = &self.index.suites[member as usize];
            let Some((offset, length)) = suite.tag else {
                continue;
            };
            if !root {
                return Ok(Some((suite.input, (offset, length))));
            }
            self.read_tag(suite.input as usize, offset, length as usize)?;
            let start = parse_tag(&self.tag).map_err(|err| self.write_or_changed(err))?;
            let named = attributes(&start)
                .map_err(|err| self.write_or_changed(err))?
                .iter()
                .any(|(key, _)| !COUNTERS.contains(key));
            if named {
                return Ok(Some((suite.input, (offset, length))));
            }
        }
        Ok(None)
    }

    /// Writes the members' properties, each distinct one once.
    fn properties(
        &mut self,
        out: Out<'_>,
        merged: &MergedSuite,
        depth: usize,
        open: &mut bool,
    ) -> Result<(), MergeError> {
        let pieces = pieces(self.index, merged, PieceKind::Property);
        if pieces.is_empty() {
            return Ok(());
        }
        opened(out, open)?;
        indent(out, depth)?;
        write_all(out, b"<properties>\n")?;
        let mut seen = HashSet::with_hasher(foldhash::fast::FixedState::default());
        for (input, piece) in pieces {
            // Identical as written means identical: write it aside, then keep it if new.
            let mut sink = PropertySink::new(std::mem::take(&mut self.scratch));
            self.copy_piece(&mut sink, input, &piece)?;
            let (key, kept) = sink.finish();
            if seen.insert(key) {
                indent(out, depth + 1)?;
                match &kept {
                    Some(bytes) => write_all(out, bytes)?,
                    None => self.copy_piece(out, input, &piece)?,
                }
                newline(out)?;
            }
            self.scratch = kept.unwrap_or_default();
        }
        indent(out, depth)?;
        write_all(out, b"</properties>\n")
    }

    /// Writes the testcases of input suite `member` (not those of its child suites).
    fn cases(
        &mut self,
        out: Out<'_>,
        member: u32,
        depth: usize,
        open: &mut bool,
    ) -> Result<(), MergeError> {
        let suite = &self.index.suites[member as usize];
        let input = suite.input as usize;
        for number in suite.cases.clone() {
            let case = &self.index.cases[number as usize];
            if case.suite != member {
                continue;
            }
            let role = case.role & ROLE;
            if case.role & GROUP_FIRST != 0 {
                opened(out, open)?;
                self.group(out, number, depth)?;
            } else if role == SINGLE {
                opened(out, open)?;
                self.single(out, input, case, depth)?;
            }
        }
        Ok(())
    }

    /// Writes a testcase as the producer wrote it.
    fn single(
        &mut self,
        out: Out<'_>,
        input: usize,
        case: &Case,
        depth: usize,
    ) -> Result<(), MergeError> {
        indent(out, depth)?;
        let empty = case.flags & HAS_BODY == 0;
        let length = case.tag_len() as usize;
        self.src.seek(input, case.start())?;
        // Most tags are written straight from the buffer; a tag longer than it is read aside.
        let buffered = self.src.fill_to(length)?;
        let written = if buffered.len() >= length {
            let tag = &buffered[..length];
            if tag.first() != Some(&b'<') || tag.last() != Some(&b'>') {
                return Err(self.src.changed());
            }
            let written = write_case_tag(out, tag, case.time_ms, empty, case.flags);
            self.src.consume(length);
            written
        } else {
            self.read_tag(input, case.start(), length)?;
            write_case_tag(out, &self.tag, case.time_ms, empty, case.flags)
        };
        written.map_err(|err| self.write_or_changed(err))?;
        if !empty {
            self.copy_content(out)?;
            write_all(out, b"</testcase>")?;
        }
        newline(out)
    }

    /// Writes the group of same-identity testcases whose first member is `first`.
    fn group(&mut self, out: Out<'_>, first: u32, depth: usize) -> Result<(), MergeError> {
        let cases = &self.index.cases;
        let mut members = vec![first];
        while let Some(&last) = members.last() {
            let next = cases[last as usize].next;
            if next == NONE {
                break;
            }
            members.push(next);
        }
        let Some(&leader) = members
            .iter()
            .find(|&&m| cases[m as usize].role & ROLE == LEADER)
        else {
            return Ok(());
        };
        let folded = |range: &[u32]| -> Vec<u32> {
            range
                .iter()
                .copied()
                .filter(|&m| cases[m as usize].role & ROLE == FOLDED)
                .collect()
        };
        let split = members.iter().position(|&m| m == leader).unwrap_or(0);
        let before = folded(&members[..split]);
        let after = folded(&members[split + 1..]);
        let case = &cases[leader as usize];
        if before.is_empty() && after.is_empty() {
            let input = self.index.suites[case.suite as usize].input as usize;
            return self.single(out, input, case, depth);
        }
        let kinds = if case.outcome == Outcome::Passed {
            ("flakyFailure", "flakyError")
        } else {
            ("rerunFailure", "rerunError")
        };
        let leader_input = self.index.suites[case.suite as usize].input as usize;
        let body = case.start() + u64::from(case.tag_len());
        let has_body = case.flags & HAS_BODY != 0;
        indent(out, depth)?;
        self.read_tag(leader_input, case.start(), case.tag_len() as usize)?;
        write_case_tag(out, &self.tag, case.time_ms, false, case.flags)
            .map_err(|err| self.write_or_changed(err))?;
        newline(out)?;
        if has_body {
            let mut stray = false;
            self.walk(out, leader_input, body, depth + 1, &mut stray, |local| {
                copy_if(!is_attempt(local) && !is_output(local))
            })?;
            self.stray_text += usize::from(stray);
        }
        for &member in &before {
            self.contribution(out, member, kinds, depth + 1)?;
        }
        if has_body && case.flags & (HAS_FLAKY | HAS_RERUN) != 0 {
            self.walk(out, leader_input, body, depth + 1, &mut false, |local| {
                copy_if(is_attempt(local))
            })?;
        }
        for &member in &after {
            self.contribution(out, member, kinds, depth + 1)?;
        }
        if has_body {
            self.walk(out, leader_input, body, depth + 1, &mut false, |local| {
                copy_if(is_output(local))
            })?;
        }
        indent(out, depth)?;
        write_all(out, b"</testcase>\n")
    }

    /// Writes what folded attempt `member` adds to its leader: the attempts it already held,
    /// renamed to `kinds` (failure, error), then its own failure or error as one of `kinds`
    /// with its outputs inside.
    fn contribution(
        &mut self,
        out: Out<'_>,
        member: u32,
        kinds: (&'static str, &'static str),
        depth: usize,
    ) -> Result<(), MergeError> {
        let case = &self.index.cases[member as usize];
        let input = self.index.suites[case.suite as usize].input as usize;
        let body = case.start() + u64::from(case.tag_len());
        if case.flags & HAS_BODY == 0 {
            return Ok(());
        }
        if case.flags & (HAS_FLAKY | HAS_RERUN) != 0 {
            self.walk(out, input, body, depth, &mut false, |local| match local {
                b"flakyFailure" | b"rerunFailure" => Child::Rename(kinds.0),
                b"flakyError" | b"rerunError" => Child::Rename(kinds.1),
                _ => Child::Skip,
            })?;
        }
        let (result, element) = match case.outcome {
            Outcome::Failed => (&b"failure"[..], kinds.0),
            Outcome::Error => (&b"error"[..], kinds.1),
            Outcome::Passed | Outcome::Skipped => return Ok(()),
        };
        let found = self.walk(out, input, body, depth, &mut false, |local| {
            if local == result {
                Child::Find
            } else {
                Child::Skip
            }
        })?;
        let Some(found) = found else {
            return Err(self.src.changed());
        };
        indent(out, depth)?;
        self.read_tag(input, found.offset, found.tag_len)?;
        write_attempt_tag(out, element, &self.tag, case.time_ms)
            .map_err(|err| self.write_or_changed(err))?;
        if !found.empty {
            indent(out, depth + 1)?;
            write_all(out, b"<stackTrace>")?;
            self.copy_content(out)?;
            write_all(out, b"</stackTrace>\n")?;
        }
        self.walk(out, input, body, depth + 1, &mut false, |local| {
            copy_if(is_output(local))
        })?;
        indent(out, depth)?;
        write_all(out, format!("</{element}>\n").as_bytes())
    }

    /// Walks the children of the element whose content starts at `body` in `input`, writing
    /// each one (on its own line at `depth`) as `choose` says, until the element's end tag or a
    /// [`Child::Find`]. Text between children is left out; `stray` is set if any was more than
    /// whitespace.
    fn walk(
        &mut self,
        out: Out<'_>,
        input: usize,
        body: u64,
        depth: usize,
        stray: &mut bool,
        mut choose: impl FnMut(&[u8]) -> Child,
    ) -> Result<Option<Found>, MergeError> {
        self.src.seek(input, body)?;
        loop {
            let mut text: Text<'_, dyn Write> = Text::Skip { content: false };
            let tag = self.tok.next(&mut self.src, &mut text)?;
            if let Text::Skip { content: true } = text {
                *stray = true;
            }
            let empty = match tag {
                Tag::End => return Ok(None),
                Tag::Start { empty } => empty,
            };
            match choose(self.tok.local_name()) {
                Child::Skip => {
                    if !empty {
                        self.skip_content()?;
                    }
                }
                Child::Find => {
                    let tag_len = self.tok.tag.len();
                    return Ok(Some(Found {
                        offset: self.src.position() - tag_len as u64,
                        tag_len,
                        empty,
                    }));
                }
                choice @ (Child::Copy | Child::Rename(_)) => {
                    let rename = match choice {
                        Child::Rename(name) => Some(name),
                        _ => None,
                    };
                    indent(out, depth)?;
                    self.tag.clear();
                    self.tag.extend_from_slice(&self.tok.tag);
                    self.element_from_tag(out, empty, false, rename)?;
                    newline(out)?;
                }
            }
        }
    }

    /// Writes the suite child `piece` of `input`: its tag again, its content copied, its end
    /// tag.
    fn copy_piece(&mut self, out: Out<'_>, input: usize, piece: &Piece) -> Result<(), MergeError> {
        self.read_tag(input, piece.start, piece.tag_len as usize)?;
        self.element_from_tag(out, piece.empty, piece.normal, None)
    }

    /// Writes the element whose start tag is in `self.tag` and whose content follows in the
    /// source.
    fn element_from_tag(
        &mut self,
        out: Out<'_>,
        empty: bool,
        normal: bool,
        rename: Option<&str>,
    ) -> Result<(), MergeError> {
        write_tag(out, &self.tag, rename, empty, normal)
            .map_err(|err| self.write_or_changed(err))?;
        if !empty {
            // The content is read through the tokenizer: `self.tag` still holds this tag.
            self.copy_content(out)?;
            write_all(out, b"</")?;
            match rename {
                Some(name) => write_all(out, name.as_bytes())?,
                None => write_all(out, tag_name(&self.tag))?,
            }
            write_all(out, b">")?;
        }
        Ok(())
    }

    fn write_or_changed(&self, err: TagError) -> MergeError {
        match err {
            TagError::Write(err) => MergeError::Write(err),
            TagError::Changed => self.src.changed(),
        }
    }

    /// Reads the `length` bytes of a tag at `offset` in `input` into `self.tag`.
    fn read_tag(&mut self, input: usize, offset: u64, length: usize) -> Result<(), MergeError> {
        self.src.seek(input, offset)?;
        self.src.read_into(length, &mut self.tag)?;
        if self.tag.first() != Some(&b'<') || self.tag.last() != Some(&b'>') {
            return Err(self.src.changed());
        }
        Ok(())
    }

    /// Copies content (text, CDATA, child elements) up to the end tag that closes it, which is
    /// consumed but not written.
    fn copy_content(&mut self, out: Out<'_>) -> Result<(), MergeError> {
        let mut depth = 0usize;
        loop {
            let tag = self.tok.next(&mut self.src, &mut Text::Copy(&mut *out))?;
            match tag {
                Tag::Start { empty } => {
                    write_tag(out, &self.tok.tag, None, empty, false)
                        .map_err(|err| self.write_or_changed(err))?;
                    depth += usize::from(!empty);
                }
                Tag::End => {
                    if depth == 0 {
                        return Ok(());
                    }
                    depth -= 1;
                    write_all(out, b"</")?;
                    write_all(out, self.tok.name())?;
                    write_all(out, b">")?;
                }
            }
        }
    }

    /// Consumes content up to the end tag that closes it.
    fn skip_content(&mut self) -> Result<(), MergeError> {
        let mut depth = 0usize;
        loop {
            let mut text: Text<'_, dyn Write> = Text::Skip { content: false };
            match self.tok.next(&mut self.src, &mut text)? {
                Tag::Start { empty } => depth += usize::from(!empty),
                Tag::End if depth == 0 => return Ok(()),
                Tag::End => depth -= 1,
            }
        }
    }
}

/// The pieces of `kind` of every member of `merged`, in order, with their input.
fn pieces(index: &Index, merged: &MergedSuite, kind: PieceKind) -> Vec<(usize, Piece)> {
    merged
        .members
        .iter()
        .flat_map(|&member| {
            let suite = &index.suites[member as usize];
            index.pieces[suite.pieces.start as usize..suite.pieces.end as usize]
                .iter()
                .filter(move |piece| piece.kind == kind)
                .map(move |piece| (suite.input as usize, piece.clone()))
        })
        .collect()
}

/// [`Child::Copy`] when `copy`, else [`Child::Skip`].
fn copy_if(copy: bool) -> Child {
    if copy { Child::Copy } else { Child::Skip }
}

fn is_attempt(local: &[u8]) -> bool {
    matches!(
        local,
        b"flakyFailure" | b"flakyError" | b"rerunFailure" | b"rerunError"
    )
}

fn is_output(local: &[u8]) -> bool {
    matches!(local, b"system-out" | b"system-err")
}

/// Most bytes of a property kept aside while it is written; a longer one is digested as it
/// goes and read again if it is to be written.
const PROPERTY_BUFFER: usize = 64 * 1024;

/// Where a property is written first, to learn whether an identical one was already written.
struct PropertySink {
    kept: Vec<u8>,
    /// Set once the property outgrew [`PROPERTY_BUFFER`]: everything so far went in here.
    digest: Option<Sha256>,
}

impl PropertySink {
    fn new(mut buffer: Vec<u8>) -> Self {
        buffer.clear();
        PropertySink {
            kept: buffer,
            digest: None,
        }
    }

    /// A 128-bit key of the bytes written, and the bytes when they were kept.
    fn finish(self) -> (Hash, Option<Vec<u8>>) {
        match self.digest {
            None => (hash(&[&self.kept]), Some(self.kept)),
            Some(digest) => {
                let sum = digest.finalize();
                let word =
                    |at: usize| u64::from_le_bytes(sum[at..at + 8].try_into().unwrap_or_default());
                ([word(0), word(8)], None)
            }
        }
    }
}

impl Write for PropertySink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.digest {
            Some(digest) => digest.update(buf),
            None if self.kept.len() + buf.len() <= PROPERTY_BUFFER => {
                self.kept.extend_from_slice(buf);
            }
            None => {
                let mut digest = Sha256::new();
                digest.update(&self.kept);
                digest.update(buf);
                self.kept.clear();
                self.digest = Some(digest);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_all(out: Out<'_>, bytes: &[u8]) -> Result<(), MergeError> {
    out.write_all(bytes).map_err(MergeError::Write)
}

fn newline(out: Out<'_>) -> Result<(), MergeError> {
    write_all(out, b"\n")
}

/// Two spaces per level.
fn indent(out: Out<'_>, depth: usize) -> Result<(), MergeError> {
    const SPACES: &[u8] = &[b' '; 256];
    write_all(out, &SPACES[..(2 * depth).min(SPACES.len())])
}

/// Ends a start tag whose element turns out to have content.
fn opened(out: Out<'_>, open: &mut bool) -> Result<(), MergeError> {
    if !*open {
        *open = true;
        write_all(out, b">\n")?;
    }
    Ok(())
}

/// Why a tag could not be written again.
enum TagError {
    Write(std::io::Error),
    /// The bytes are not a tag the first pass could have accepted.
    Changed,
}

impl From<std::io::Error> for TagError {
    fn from(err: std::io::Error) -> Self {
        TagError::Write(err)
    }
}

/// The element name of a tag's bytes.
fn tag_name(tag: &[u8]) -> &[u8] {
    let rest = &tag[1.min(tag.len())..];
    let length = rest
        .iter()
        .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>'))
        .unwrap_or(rest.len());
    &rest[..length]
}

/// Where the ` time="..."` of a tag in normal form (its inner bytes) starts, and where its
/// closing quote is. Values hold no quotes in normal form, so quotes pair up: each key sits
/// between the previous closing quote (and a space) and its `="`.
fn normal_time(inner: &[u8]) -> Option<(usize, usize)> {
    let mut quotes = memchr::memchr_iter(b'"', inner);
    let mut key_start = memchr::memchr(b' ', inner)? + 1;
    while let (Some(open), Some(close)) = (quotes.next(), quotes.next()) {
        if inner.get(key_start..open) == Some(b"time=") {
            return Some((key_start - 1, close));
        }
        key_start = close + 2;
    }
    None
}

/// A start tag's bytes without its `<`, its `>` or `/>`, and the whitespace before them.
fn tag_inner(tag: &[u8]) -> &[u8] {
    let end = tag
        .len()
        .saturating_sub(if tag.ends_with(b"/>") { 2 } else { 1 });
    let inner = tag.get(1..end).unwrap_or_default();
    &inner[..NormalTag::trimmed_len(inner)]
}

/// Parses a start tag's bytes (`<` to `>` or `/>`).
fn parse_tag(tag: &[u8]) -> Result<BytesStart<'_>, TagError> {
    let inner_end = tag
        .len()
        .saturating_sub(if tag.ends_with(b"/>") { 2 } else { 1 });
    let inner = tag.get(1..inner_end).ok_or(TagError::Changed)?;
    let inner = std::str::from_utf8(inner).map_err(|_| TagError::Changed)?;
    let name_len = tag_name(tag).len();
    Ok(BytesStart::from_content(inner, name_len))
}

/// Writes milliseconds as [`format_millis`] does, without allocating.
fn write_millis(out: Out<'_>, millis: u64) -> std::io::Result<()> {
    let mut digits = [0u8; 24];
    let mut at = digits.len();
    let mut push = |digit: u64| {
        at -= 1;
        digits[at] = b'0' + (digit % 10) as u8;
    };
    let (mut whole, fraction) = (millis / 1000, millis % 1000);
    let mut fraction_digits = 3;
    let mut fraction_value = fraction;
    while fraction_value != 0 && fraction_value % 10 == 0 {
        fraction_value /= 10;
        fraction_digits -= 1;
    }
    if fraction != 0 {
        for _ in 0..fraction_digits {
            push(fraction_value);
            fraction_value /= 10;
        }
        at -= 1;
        digits[at] = b'.';
    }
    loop {
        at -= 1;
        digits[at] = b'0' + (whole % 10) as u8;
        whole /= 10;
        if whole == 0 {
            break;
        }
    }
    out.write_all(&digits[at..])
}

/// Writes a start tag again: `<name` (or `rename`), each attribute (the last of duplicates,
/// its value made safe), then `>` or `/>`. `normal` says the tag is known to be in normal
/// form, so it is copied without looking.
fn write_tag(
    out: Out<'_>,
    tag: &[u8],
    rename: Option<&str>,
    empty: bool,
    normal: bool,
) -> Result<(), TagError> {
    let inner = tag_inner(tag);
    let name_end = if normal {
        Some(memchr::memchr(b' ', inner).unwrap_or(inner.len()))
    } else {
        NormalTag::parse(inner).map(|tag| tag.name_end)
    };
    if let Some(name_end) = name_end {
        out.write_all(b"<")?;
        match rename {
            Some(name) => out.write_all(name.as_bytes())?,
            None => out.write_all(&inner[..name_end])?,
        }
        out.write_all(&inner[name_end..])?;
        out.write_all(if empty { b"/>" } else { b">" })?;
        return Ok(());
    }
    let start = parse_tag(tag)?;
    out.write_all(b"<")?;
    match rename {
        Some(name) => out.write_all(name.as_bytes())?,
        None => out.write_all(tag_name(tag))?,
    }
    for (key, value) in attributes(&start)? {
        write_attribute(out, key, &value)?;
    }
    out.write_all(if empty { b"/>" } else { b">" })?;
    Ok(())
}

/// The attributes of `start` as (name, raw value), keeping only the last of duplicates.
fn attributes<'s>(
    start: &'s BytesStart<'_>,
) -> Result<Vec<(&'s str, std::borrow::Cow<'s, str>)>, TagError> {
    let mut all = Vec::with_capacity(8);
    for attribute in start.attributes().with_checks(false) {
        let attribute = attribute.map_err(|_| TagError::Changed)?;
        all.push((attribute.key.0, attribute.value));
    }
    // Duplicates are rare and tags short: compare pairs, and sort only for long tags.
    let duplicated = if all.len() <= 16 {
        (1..all.len()).any(|i| all[..i].iter().any(|(key, _)| *key == all[i].0))
    } else {
        let mut keys: Vec<&str> = all.iter().map(|(key, _)| *key).collect();
        keys.sort_unstable();
        keys.windows(2).any(|pair| pair[0] == pair[1])
    };
    if duplicated {
        let mut kept = Vec::with_capacity(all.len());
        for (i, attribute) in all.iter().enumerate() {
            if !all[i + 1..].iter().any(|(key, _)| *key == attribute.0) {
                kept.push(attribute.clone());
            }
        }
        return Ok(kept);
    }
    Ok(all)
}

/// Writes ` key="value"` with the value (raw, as the producer escaped it) made safe.
fn write_attribute(out: Out<'_>, key: &str, raw: &str) -> std::io::Result<()> {
    out.write_all(b" ")?;
    out.write_all(key.as_bytes())?;
    out.write_all(b"=\"")?;
    let raw = raw.as_bytes();
    sanitize::sanitize(raw, raw.len(), Mode::Attribute, out)?;
    out.write_all(b"\"")
}

/// Writes a suite's start tag (without its `>`): the attributes of `tag` but its counters,
/// the recounted ones right after `name` (or first, when there is no name).
fn write_suite_tag(
    out: Out<'_>,
    element: &str,
    tag: &[u8],
    counts: &Counts,
) -> Result<(), TagError> {
    let start = parse_tag(tag)?;
    let attributes = attributes(&start)?;
    let counters = counters(counts);
    let has_name = attributes.iter().any(|(key, _)| *key == "name");
    out.write_all(b"<")?;
    out.write_all(element.as_bytes())?;
    if !has_name {
        out.write_all(counters.as_bytes())?;
    }
    for (key, value) in &attributes {
        if COUNTERS.contains(key) {
            continue;
        }
        write_attribute(out, key, value)?;
        if *key == "name" {
            out.write_all(counters.as_bytes())?;
        }
    }
    Ok(())
}

/// The recounted counter attributes, each with a leading space.
fn counters(counts: &Counts) -> String {
    use std::fmt::Write as _;
    let mut text = format!(
        " tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
        counts.tests, counts.failures, counts.errors, counts.skipped
    );
    if let Some(assertions) = counts.assertions {
        let _ = write!(text, " assertions=\"{assertions}\"");
    }
    let _ = write!(text, " time=\"{}\"", format_millis(counts.time_ms));
    text
}

/// Writes a testcase's start tag again, its `time` rounded to milliseconds (or left out when
/// it was not a duration).
fn write_case_tag(
    out: Out<'_>,
    tag: &[u8],
    time_ms: u32,
    empty: bool,
    flags: u8,
) -> Result<(), TagError> {
    let ending: &[u8] = if empty { b"/>" } else { b">" };
    let normal = flags & NORMAL_TAG != 0 && tag.starts_with(b"<testcase");
    if normal && flags & TIME_AS_WRITTEN != 0 {
        // Pass 1 found the tag, its `time` included, as it is written: copy it.
        out.write_all(b"<")?;
        out.write_all(tag_inner(tag))?;
        out.write_all(ending)?;
        return Ok(());
    }
    if normal {
        // Pass 1 found the tag in normal form: copy it around its `time`.
        let inner = tag_inner(tag);
        out.write_all(b"<")?;
        match normal_time(inner) {
            Some((at, close)) => {
                out.write_all(&inner[..at])?;
                if time_ms != NONE {
                    out.write_all(b" time=\"")?;
                    write_millis(out, u64::from(time_ms))?;
                    out.write_all(b"\"")?;
                }
                out.write_all(&inner[close + 1..])?;
            }
            None => out.write_all(inner)?,
        }
        out.write_all(ending)?;
        return Ok(());
    }
    let start = parse_tag(tag)?;
    out.write_all(b"<testcase")?;
    for (key, value) in attributes(&start)? {
        if key != "time" {
            write_attribute(out, key, &value)?;
        } else if time_ms != NONE {
            out.write_all(b" time=\"")?;
            write_millis(out, u64::from(time_ms))?;
            out.write_all(b"\"")?;
        }
    }
    out.write_all(ending)?;
    Ok(())
}

/// Writes the start tag of a folded attempt and a newline: `element`, the attributes of the
/// failure or error in `tag`, and the attempt's `time` unless the failure had one.
fn write_attempt_tag(
    out: Out<'_>,
    element: &str,
    tag: &[u8],
    time_ms: u32,
) -> Result<(), TagError> {
    let start = parse_tag(tag)?;
    out.write_all(b"<")?;
    out.write_all(element.as_bytes())?;
    let mut has_time = false;
    for (key, value) in attributes(&start)? {
        has_time |= key == "time";
        write_attribute(out, key, &value)?;
    }
    if !has_time && time_ms != NONE {
        write!(out, " time=\"{}\"", format_millis(u64::from(time_ms)))?;
    }
    out.write_all(b">\n")?;
    Ok(())
}
