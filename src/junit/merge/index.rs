//! Pass 1: where everything is. Walks each input once (the walk the reader uses, so the same
//! limits and refusals apply) and records offsets and small facts, never text: a [`Case`] per
//! complete testcase, a [`Suite`] per suite element (plus one per input for its root), and
//! [`CounterMismatch`]es where a producer's counters disagree with its own testcases.

use std::borrow::Cow;
use std::io::{Read, Seek, SeekFrom};

use super::{CounterMismatch, MAX_COUNTER_MISMATCHES};
use crate::junit::reader::worse;
use crate::junit::scan::{self, StartTag, Visitor, for_each_attribute, looks_like_name};
use crate::junit::tag::NormalTag;
use crate::junit::time::{is_written_form, plain_millis, to_millis};
use crate::junit::{JunitError, Limits, Outcome, parse_time};

/// "None" for the `u32` fields of [`Case`] and [`Suite`].
pub(super) const NONE: u32 = u32::MAX;

/// A 128-bit hash, as two words so that records stay 8-byte aligned.
pub(super) type Hash = [u64; 2];

/// Hashes `parts`, each prefixed by its length so that no two different lists of parts are
/// the same bytes to the hash. XXH3's 128-bit hash: one pass over the bytes, and the same on
/// every machine. Identities are a few tens of bytes, hashed in one call from a copy on the
/// stack; longer ones (properties) are streamed, with the same result.
pub(super) fn hash(parts: &[&[u8]]) -> Hash {
    const SHORT: usize = 256;
    let mut short = [0u8; SHORT];
    let mut at = 0;
    for part in parts {
        let end = at + 8 + part.len();
        if end > SHORT {
            return hash_streamed(parts);
        }
        short[at..at + 8].copy_from_slice(&(part.len() as u64).to_le_bytes());
        short[at + 8..end].copy_from_slice(part);
        at = end;
    }
    words(xxhash_rust::xxh3::xxh3_128(&short[..at]))
}

/// [`hash`] of parts too long to copy.
fn hash_streamed(parts: &[&[u8]]) -> Hash {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    words(hasher.digest128())
}

fn words(hash: u128) -> Hash {
    [hash as u64, (hash >> 64) as u64]
}

/// Bytes of a [`Hash`], to hash it again.
pub(super) fn hash_bytes(hash: &Hash) -> [u8; 16] {
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&hash[0].to_le_bytes());
    bytes[8..].copy_from_slice(&hash[1].to_le_bytes());
    bytes
}

/// [`Case::flags`]: the testcase has children or text (it is not written `<testcase/>`).
pub(super) const HAS_BODY: u8 = 1;
/// [`Case::flags`]: it holds `flakyFailure`/`flakyError` elements.
pub(super) const HAS_FLAKY: u8 = 2;
/// [`Case::flags`]: it holds `rerunFailure`/`rerunError` elements.
pub(super) const HAS_RERUN: u8 = 4;
/// [`Case::flags`]: it is pytest's teardown-error testcase.
pub(super) const TEARDOWN: u8 = 8;
/// [`Case::flags`]: its start tag is in the form the merge writes (see `tag::NormalTag`).
pub(super) const NORMAL_TAG: u8 = 16;
/// [`Case::flags`]: its `time` is absent or already written as the merge writes it, so a
/// [`NORMAL_TAG`] is written again byte for byte.
pub(super) const TIME_AS_WRITTEN: u8 = 32;

/// Bits of [`Case::at`] that hold the length of the start tag; the offset takes the rest.
const TAG_LEN_BITS: u32 = 24;

/// Longest testcase start tag the merge indexes (16 MiB; the reader's default markup limit
/// is 512 KiB).
pub(super) const MAX_CASE_TAG: u64 = (1 << TAG_LEN_BITS) - 1;

/// Largest offset of a testcase the merge indexes (1 TiB).
pub(super) const MAX_CASE_OFFSET: u64 = (1 << (64 - TAG_LEN_BITS)) - 1;

/// One complete testcase: 40 bytes, as there may be millions.
#[derive(Debug, Clone)]
pub(super) struct Case {
    /// Offset of its `<testcase` (the high bits) and length of its start tag (the low
    /// [`TAG_LEN_BITS`]).
    at: u64,
    /// Its identity: in pass 1 of classname, name and the teardown flag; after grouping, with
    /// its suite's identity.
    pub(super) hash: Hash,
    /// Its [`Suite`].
    pub(super) suite: u32,
    /// Its time in milliseconds, [`NONE`] when absent or unusable.
    pub(super) time_ms: u32,
    /// The next testcase of the same identity, [`NONE`] at the end (set by grouping).
    pub(super) next: u32,
    /// How it ended.
    pub(super) outcome: Outcome,
    /// [`HAS_BODY`], [`HAS_FLAKY`], [`HAS_RERUN`], [`TEARDOWN`], [`NORMAL_TAG`],
    /// [`TIME_AS_WRITTEN`].
    pub(super) flags: u8,
    /// What grouping decided (see `group::Role`).
    pub(super) role: u8,
}

const _: () = assert!(std::mem::size_of::<Case>() == 40);

impl Case {
    /// Offset of its `<testcase`.
    pub(super) fn start(&self) -> u64 {
        self.at >> TAG_LEN_BITS
    }

    /// Length of its start tag.
    pub(super) fn tag_len(&self) -> u32 {
        (self.at & MAX_CASE_TAG) as u32
    }
}

/// What a [`Piece`] of a suite is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PieceKind {
    /// A child of its `<properties>`.
    Property,
    /// Its `<system-out>`.
    Out,
    /// Its `<system-err>`.
    Err,
    /// Any other child element, copied as it is.
    Extra,
}

/// A child element of a suite, other than testcases and suites.
#[derive(Debug, Clone)]
pub(super) struct Piece {
    pub(super) kind: PieceKind,
    /// Offset of its start tag.
    pub(super) start: u64,
    /// Length of its start tag.
    pub(super) tag_len: u32,
    /// Whether it is an empty-element tag.
    pub(super) empty: bool,
    /// Whether its start tag is in the form the merge writes (see `tag::NormalTag`).
    pub(super) normal: bool,
}

/// Counters of a suite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) tests: u64,
    pub(super) failures: u64,
    pub(super) errors: u64,
    pub(super) skipped: u64,
    pub(super) flaky: u64,
    pub(super) time_ms: u64,
    /// Sum of `assertions`, `None` when no testcase carried the attribute.
    pub(super) assertions: Option<u64>,
}

impl Counts {
    pub(super) fn add(&mut self, other: &Counts) {
        self.tests += other.tests;
        self.failures += other.failures;
        self.errors += other.errors;
        self.skipped += other.skipped;
        self.flaky += other.flaky;
        self.time_ms = self.time_ms.saturating_add(other.time_ms);
        self.assertions = match (self.assertions, other.assertions) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
    }

    /// Counts `case` as written with `outcome` (it may have taken another attempt's), with
    /// its `assertions` count ([`NONE`] when it has none).
    pub(super) fn add_case(&mut self, case: &Case, flaky: bool, assertions: u32) {
        self.tests += 1;
        match case.outcome {
            Outcome::Passed => {}
            Outcome::Failed => self.failures += 1,
            Outcome::Error => self.errors += 1,
            Outcome::Skipped => self.skipped += 1,
        }
        self.flaky += u64::from(flaky);
        if case.time_ms != NONE {
            self.time_ms += u64::from(case.time_ms);
        }
        if assertions != NONE {
            self.assertions = Some(self.assertions.unwrap_or(0) + u64::from(assertions));
        }
    }
}

/// A `<testsuite>` element of one input, or an input's root.
#[derive(Debug)]
pub(super) struct Suite {
    /// The input it is in.
    pub(super) input: u32,
    /// The enclosing suite, [`NONE`] for an input's root.
    pub(super) parent: u32,
    /// Offset and length of its start tag; `None` for the root of an input whose root element
    /// is a `<testsuite>` (that suite is the root's only child).
    pub(super) tag: Option<(u64, u32)>,
    /// Hash of its `name`.
    pub(super) name: Hash,
    /// Hash of its `hostname`, if it has one.
    pub(super) hostname: Option<Hash>,
    /// The testcases inside it, at any depth, are in this range of [`Index::cases`].
    pub(super) cases: std::ops::Range<u32>,
    /// Its properties, outputs and unknown children, in document order: a range of
    /// [`Index::pieces`].
    pub(super) pieces: std::ops::Range<u32>,
    /// The producer's counters, kept when the suite has neither testcases nor suites.
    pub(super) counters_only: Option<Counts>,
    /// The suite it was joined into (set by grouping).
    pub(super) merged: u32,
}

/// What one input contributed, for its [`super::InputReport`].
pub(super) struct InputRead {
    pub(super) testcases: usize,
    pub(super) problem: Option<JunitError>,
}

/// Everything pass 1 found, over all inputs.
#[derive(Default)]
pub(super) struct Index {
    pub(super) cases: Vec<Case>,
    /// The `assertions` count of each testcase that has one, by its number in
    /// [`Index::cases`], in increasing order: few producers write one, so a testcase has no
    /// field for it.
    pub(super) assertions: Vec<(u32, u32)>,
    /// Every suite's [`Piece`]s, each suite's together (see [`Suite::pieces`]): one table
    /// rather than a growing list per suite, whose doublings would copy and leave slack.
    pub(super) pieces: Vec<Piece>,
    pub(super) suites: Vec<Suite>,
    /// Per input: whether `hostname` is part of suite identity there.
    pub(super) hostname_is_project: Vec<bool>,
    /// Per input: its root suite.
    pub(super) roots: Vec<u32>,
    pub(super) mismatches: Vec<CounterMismatch>,
    /// Mismatches found beyond [`MAX_COUNTER_MISMATCHES`].
    pub(super) more_mismatches: usize,
    pub(super) notes: Vec<String>,
}

impl Index {
    /// Indexes one input, read from its start.
    pub(super) fn add_input<R: Read + Seek>(
        &mut self,
        number: usize,
        label: &str,
        reader: &mut R,
        limits: &Limits,
    ) -> InputRead {
        let first_case = self.cases.len();
        let first_suite = self.suites.len();
        let mut visitor = Indexer {
            index: self,
            label,
            input: number as u32,
            limits,
            frames: Vec::new(),
            staged: Vec::new(),
            case: None,
            playwright: false,
            bad_times: 0,
            stray_text: 0,
        };
        let problem = match reader.seek(SeekFrom::Start(0)) {
            Ok(_) => scan::walk(&mut *reader, limits, &mut visitor).err(),
            Err(source) => Some(JunitError::Io { offset: 0, source }),
        };
        // Suites left open by a broken input end where its testcases end, with the pieces
        // read so far.
        let cases_end = visitor.index.cases.len() as u32;
        while let Some(frame) = visitor.frames.pop() {
            visitor.index.suites[frame.suite as usize].cases.end = cases_end;
            visitor.keep_pieces(&frame);
        }
        let (playwright, bad_times, stray_text) =
            (visitor.playwright, visitor.bad_times, visitor.stray_text);
        if bad_times > 0 {
            self.notes.push(format!(
                "{label}: {bad_times} testcases have a time that is not a duration; they are written without one"
            ));
        }
        if stray_text > 0 {
            self.notes.push(format!(
                "{label}: text directly inside {stray_text} suites or testcases' parents was left out"
            ));
        }
        let project = playwright || self.hostnames_differ(first_suite);
        self.hostname_is_project.push(project);
        if self.roots.len() == number {
            // The input had no root element at all: an empty root keeps the numbering.
            self.push_root(number as u32, None);
        }
        InputRead {
            testcases: self.cases.len() - first_case,
            problem,
        }
    }

    fn push_root(&mut self, input: u32, tag: Option<(u64, u32)>) -> u32 {
        let index = self.suites.len() as u32;
        let cases = self.cases.len() as u32;
        self.suites.push(Suite {
            input,
            parent: NONE,
            tag,
            name: hash(&[]),
            hostname: None,
            cases: cases..cases,
            pieces: 0..0,
            counters_only: None,
            merged: NONE,
        });
        self.roots.push(index);
        index
    }

    /// Whether two suites of the same parent and name, from `first_suite` on, have different
    /// hostnames.
    fn hostnames_differ(&self, first_suite: usize) -> bool {
        // Nearly always one machine wrote the whole input: then no two hostnames differ.
        let mut hosts = self.suites[first_suite..]
            .iter()
            .filter_map(|suite| suite.hostname);
        let first = hosts.next();
        if hosts.all(|host| Some(host) == first) {
            return false;
        }
        let mut seen: crate::timings::hash::IdMap<(u32, Hash), Hash> =
            crate::timings::hash::IdMap::default();
        self.suites[first_suite..].iter().any(|suite| {
            suite
                .hostname
                .is_some_and(|host| *seen.entry((suite.parent, suite.name)).or_insert(host) != host)
        })
    }
}

/// What an open element is, to the indexer.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A suite element, or the `<testsuites>` root (both carry their [`Suite`]).
    Suite(u32),
    /// The testcase being read.
    Case,
    /// A child of a testcase.
    CaseChild,
    /// A suite's `<properties>`.
    Properties(u32),
    /// A child of a suite that is kept as a [`Piece`]: its suite, kind, tag offset and length,
    /// and whether the tag is in normal form.
    Piece(u32, PieceKind, u64, u32, bool),
    /// Anything deeper.
    Inner,
}

/// The claimed counters of an open suite, and the recount so far.
struct Frame {
    suite: u32,
    /// Where its pieces start in [`Indexer::staged`].
    staged_from: usize,
    name: String,
    claims: [Option<String>; 5],
    /// Its `time`, for a suite that turns out to have only counters.
    time: Option<String>,
    counted: Counts,
    has_children: bool,
    /// Hash of its `hostname`.
    hostname: Option<Hash>,
}

/// Counter attributes checked against the recount, in [`Frame::claims`] order.
const CLAIMED: [&str; 5] = ["tests", "failures", "errors", "skipped", "assertions"];

/// The testcase being read.
struct CaseBuilder {
    start: u64,
    tag_len: u32,
    hash: Hash,
    time_ms: u32,
    assertions: u32,
    outcome: Outcome,
    flags: u8,
}

struct Indexer<'a> {
    index: &'a mut Index,
    label: &'a str,
    input: u32,
    limits: &'a Limits,
    frames: Vec<Frame>,
    /// Pieces of the open suites, outermost first; a suite's move to [`Index::pieces`] when it
    /// closes, so that each suite's end up together there although nested suites interleave
    /// them in the document.
    staged: Vec<Piece>,
    case: Option<CaseBuilder>,
    /// The root is a `<testsuites>` with an `id` attribute.
    playwright: bool,
    bad_times: usize,
    stray_text: usize,
}

impl Visitor for Indexer<'_> {
    type Kind = Kind;

    fn start(
        &mut self,
        parent: Option<Kind>,
        start: StartTag<'_, '_>,
        offset: u64,
        end: u64,
        _empty: bool,
    ) -> Result<(Kind, bool), JunitError> {
        let name = start.start.name();
        // A normal tag's name was checked when it was recognised.
        if start.normal.is_none() && !looks_like_name(name.as_ref()) {
            return Err(JunitError::Misplaced {
                offset,
                what: "an element name that is not a name",
            });
        }
        let local = name.local_name();
        let local = local.as_ref();
        let tag_len = (end - offset) as u32;
        let kind = match parent {
            None => {
                let tag = (local == "testsuites").then_some((offset, tag_len));
                if local == "testsuites" {
                    // Checked before it is recorded: a tag that fails is never written.
                    let frame = self.read_suite(NONE, start, offset)?;
                    let root = self.index.push_root(self.input, tag);
                    self.push_frame(Frame {
                        suite: root,
                        ..frame
                    });
                    Kind::Suite(root)
                } else {
                    let root = self.index.push_root(self.input, tag);
                    self.push_frame(Frame {
                        suite: root,
                        staged_from: 0,
                        name: String::new(),
                        claims: Default::default(),
                        time: None,
                        counted: Counts::default(),
                        has_children: true,
                        hostname: None,
                    });
                    Kind::Suite(self.new_suite(root, start, offset, tag_len)?)
                }
            }
            Some(Kind::Suite(suite)) => match local {
                "testsuite" => Kind::Suite(self.new_suite(suite, start, offset, tag_len)?),
                "testcase" => {
                    self.case = Some(self.read_case(start, offset, tag_len)?);
                    Kind::Case
                }
                "properties" => {
                    self.check(start, offset)?;
                    Kind::Properties(suite)
                }
                _ => {
                    let normal = self.check(start, offset)?;
                    let piece = match local {
                        "system-out" => PieceKind::Out,
                        "system-err" => PieceKind::Err,
                        _ => PieceKind::Extra,
                    };
                    Kind::Piece(suite, piece, offset, tag_len, normal)
                }
            },
            Some(Kind::Properties(suite)) => {
                let normal = self.check(start, offset)?;
                Kind::Piece(suite, PieceKind::Property, offset, tag_len, normal)
            }
            Some(Kind::Case) => {
                self.case_child(start, offset, local)?;
                Kind::CaseChild
            }
            Some(Kind::CaseChild | Kind::Piece(..) | Kind::Inner) => {
                self.check(start, offset)?;
                Kind::Inner
            }
        };
        Ok((kind, false))
    }

    fn end(&mut self, kind: Kind, offset: u64, _end: u64) {
        match kind {
            Kind::Suite(_) => self.close_suite(),
            Kind::Case => self.close_case(),
            Kind::Piece(suite, piece, start, tag_len, normal) => {
                let empty = offset == start;
                if empty && matches!(piece, PieceKind::Out | PieceKind::Err) {
                    return;
                }
                // A piece's suite is the innermost open one.
                debug_assert_eq!(self.frames.last().map(|frame| frame.suite), Some(suite));
                self.staged.push(Piece {
                    kind: piece,
                    start,
                    tag_len,
                    empty,
                    normal,
                });
            }
            Kind::CaseChild | Kind::Properties(_) | Kind::Inner => {}
        }
    }

    fn text(&mut self, kind: Kind, _offset: u64) {
        match kind {
            Kind::Case => {
                if let Some(case) = self.case.as_mut() {
                    case.flags |= HAS_BODY;
                }
            }
            Kind::Suite(_) | Kind::Properties(_) => self.stray_text += 1,
            Kind::CaseChild | Kind::Piece(..) | Kind::Inner => {}
        }
    }
}

impl Indexer<'_> {
    /// Applies the attribute checks to an element whose attributes are otherwise unused.
    /// Returns whether the tag is in the form the merge writes.
    fn check(&self, start: StartTag<'_, '_>, offset: u64) -> Result<bool, JunitError> {
        self.attributes(start, offset, |_, _| {})
    }

    /// Calls `visit` with each attribute's local name and (leniently) unescaped value, after
    /// the length check and a check that its name is a name. Returns whether the tag is in
    /// the form the merge writes.
    fn attributes<'e>(
        &self,
        start: StartTag<'e, '_>,
        offset: u64,
        mut visit: impl FnMut(&str, Cow<'e, str>),
    ) -> Result<bool, JunitError> {
        let not_a_name = JunitError::Misplaced {
            offset,
            what: "an attribute name that is not a name",
        };
        let inner: &'e str = start.start;
        let parsed;
        let normal = match start.normal {
            Some(normal) => Some(normal),
            None => {
                parsed = NormalTag::parse(inner.as_bytes());
                parsed.as_ref()
            }
        };
        if let Some(normal) = normal {
            // Nothing to unescape in a tag of this form: no parser needed.
            for attribute in normal.attributes() {
                // Recognised keys are ASCII names; the local part follows a prefix.
                let key = &inner[attribute.key];
                let key = match key.bytes().position(|b| b == b':') {
                    Some(colon) => &key[colon + 1..],
                    None => key,
                };
                let value = &inner[attribute.value];
                scan::check_length(key, value, offset, self.limits)?;
                if !key
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                {
                    return Err(not_a_name);
                }
                visit(key, Cow::Borrowed(value));
            }
            return Ok(true);
        }
        for_each_attribute(start, offset, self.limits, false, |key, value| {
            if !looks_like_name(key) {
                return Err(JunitError::Misplaced {
                    offset,
                    what: "an attribute name that is not a name",
                });
            }
            visit(key, value);
            Ok(())
        })?;
        Ok(false)
    }

    /// Reads the frame of a suite from its start tag: name, claimed counters; also returns
    /// the hashes of its name and hostname. Notes a Playwright root (`id` on `<testsuites>`).
    fn read_suite(
        &mut self,
        suite: u32,
        start: StartTag<'_, '_>,
        offset: u64,
    ) -> Result<Frame, JunitError> {
        let mut frame = Frame {
            suite,
            staged_from: 0,
            name: String::new(),
            claims: Default::default(),
            time: None,
            counted: Counts::default(),
            has_children: false,
            hostname: None,
        };
        let mut id = false;
        self.attributes(start, offset, |key, value| match key {
            "name" => frame.name = value.into_owned(),
            "hostname" => frame.hostname = Some(hash(&[value.as_bytes()])),
            "id" => id = true,
            "time" => frame.time = Some(value.into_owned()),
            _ => {
                if let Some(slot) = CLAIMED.iter().position(|&claimed| claimed == key) {
                    frame.claims[slot] = Some(value.into_owned());
                }
            }
        })?;
        if self.frames.is_empty() && id {
            self.playwright = true;
        }
        Ok(frame)
    }

    /// Records a new suite inside `parent` and opens its frame.
    fn new_suite(
        &mut self,
        parent: u32,
        start: StartTag<'_, '_>,
        offset: u64,
        tag_len: u32,
    ) -> Result<u32, JunitError> {
        let suite = self.index.suites.len() as u32;
        // Checked before it is recorded: a tag that fails is never written.
        let frame = self.read_suite(suite, start, offset)?;
        let cases = self.index.cases.len() as u32;
        self.index.suites.push(Suite {
            input: self.input,
            parent,
            tag: Some((offset, tag_len)),
            name: hash(&[frame.name.as_bytes()]),
            hostname: frame.hostname,
            cases: cases..cases,
            pieces: 0..0,
            counters_only: None,
            merged: NONE,
        });
        if let Some(parent) = self.frames.last_mut() {
            parent.has_children = true;
        }
        self.push_frame(frame);
        Ok(suite)
    }

    fn push_frame(&mut self, frame: Frame) {
        self.frames.push(Frame {
            staged_from: self.staged.len(),
            ..frame
        });
    }

    /// Moves the pieces of `frame`'s suite, which has just closed, to [`Index::pieces`].
    fn keep_pieces(&mut self, frame: &Frame) {
        let first = self.index.pieces.len() as u32;
        self.index
            .pieces
            .extend(self.staged.drain(frame.staged_from..));
        self.index.suites[frame.suite as usize].pieces = first..self.index.pieces.len() as u32;
    }

    /// Closes the innermost suite: checks its counters, keeps them if it has nothing else,
    /// and adds its counts to its parent's.
    fn close_suite(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        self.keep_pieces(&frame);
        let suite = &mut self.index.suites[frame.suite as usize];
        suite.cases.end = self.index.cases.len() as u32;
        let counted = if frame.has_children {
            self.check_claims(&frame);
            frame.counted
        } else {
            let claimed = |slot: usize| {
                frame.claims[slot]
                    .as_deref()
                    .and_then(|raw| raw.trim().parse::<u64>().ok())
            };
            let counts = Counts {
                tests: claimed(0).unwrap_or(0),
                failures: claimed(1).unwrap_or(0),
                errors: claimed(2).unwrap_or(0),
                skipped: claimed(3).unwrap_or(0),
                flaky: 0,
                time_ms: frame
                    .time
                    .as_deref()
                    .and_then(parse_time)
                    .map_or(0, to_millis),
                assertions: claimed(4),
            };
            let suite = &mut self.index.suites[frame.suite as usize];
            suite.counters_only = Some(counts);
            counts
        };
        if let Some(parent) = self.frames.last_mut() {
            parent.counted.add(&counted);
        }
    }

    /// Records a [`CounterMismatch`] for every claimed counter that differs from the recount.
    fn check_claims(&mut self, frame: &Frame) {
        let counted = [
            Some(frame.counted.tests),
            Some(frame.counted.failures),
            Some(frame.counted.errors),
            Some(frame.counted.skipped),
            frame.counted.assertions,
        ];
        for ((attribute, claim), counted) in CLAIMED.iter().zip(&frame.claims).zip(counted) {
            let Some(claim) = claim else { continue };
            // A producer that counts assertions nowhere but on the suite cannot be checked.
            let Some(counted) = counted else { continue };
            if claim.trim().parse::<u64>().ok() == Some(counted) {
                continue;
            }
            if self.index.mismatches.len() >= MAX_COUNTER_MISMATCHES {
                self.index.more_mismatches += 1;
                continue;
            }
            self.index.mismatches.push(CounterMismatch {
                input: self.label.to_owned(),
                suite: frame.name.clone(),
                attribute,
                claimed: claim.clone(),
                counted: counted.to_string(),
            });
        }
    }

    fn read_case(
        &mut self,
        start: StartTag<'_, '_>,
        offset: u64,
        tag_len: u32,
    ) -> Result<CaseBuilder, JunitError> {
        // The bounds of a testcase's record; the reader's limits keep far inside them.
        if u64::from(tag_len) > MAX_CASE_TAG {
            return Err(JunitError::MarkupTooLong {
                offset,
                limit: MAX_CASE_TAG,
            });
        }
        if offset > MAX_CASE_OFFSET {
            return Err(JunitError::Io {
                offset,
                source: std::io::Error::new(
                    std::io::ErrorKind::FileTooLarge,
                    "the merge reads testcases in the first TiB of an input",
                ),
            });
        }
        let mut name = Cow::Borrowed("");
        let mut classname = Cow::Borrowed("");
        let mut time = None;
        let mut time_as_written = true;
        let mut assertions = NONE;
        let normal = self.attributes(start, offset, |key, value| match key {
            "name" => name = value,
            "classname" => classname = value,
            "time" => {
                let plain = plain_millis(&value);
                time_as_written =
                    plain.is_some_and(|millis| millis < u64::from(NONE)) && is_written_form(&value);
                time = Some(plain.or_else(|| parse_time(&value).map(to_millis)));
            }
            "assertions" => {
                assertions = value
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|&n| n != NONE)
                    .unwrap_or(NONE);
            }
            _ => {}
        })?;
        let time_ms = match time {
            None => NONE,
            Some(None) => {
                self.bad_times += 1;
                NONE
            }
            Some(Some(millis)) => millis.min(u64::from(NONE - 1)) as u32,
        };
        if let Some(frame) = self.frames.last_mut() {
            frame.has_children = true;
        }
        Ok(CaseBuilder {
            start: offset,
            tag_len,
            hash: hash(&[classname.as_bytes(), name.as_bytes()]),
            time_ms,
            assertions,
            outcome: Outcome::Passed,
            flags: match (normal, time_as_written) {
                (true, true) => NORMAL_TAG | TIME_AS_WRITTEN,
                (true, false) => NORMAL_TAG,
                (false, _) => 0,
            },
        })
    }

    fn case_child(
        &mut self,
        start: StartTag<'_, '_>,
        offset: u64,
        local: &str,
    ) -> Result<(), JunitError> {
        let mut teardown = false;
        self.attributes(start, offset, |key, value| {
            if local == "error" && key == "message" {
                teardown = value.starts_with("failed on teardown with ");
            }
        })?;
        let Some(case) = self.case.as_mut() else {
            return Ok(());
        };
        case.flags |= HAS_BODY;
        let outcome = match local {
            "failure" => Some(Outcome::Failed),
            "error" => Some(Outcome::Error),
            "skipped" => Some(Outcome::Skipped),
            "flakyFailure" | "flakyError" => {
                case.flags |= HAS_FLAKY;
                None
            }
            "rerunFailure" | "rerunError" => {
                case.flags |= HAS_RERUN;
                None
            }
            _ => None,
        };
        if let Some(outcome) = outcome {
            case.outcome = worse(case.outcome, outcome);
        }
        if teardown {
            case.flags |= TEARDOWN;
        }
        Ok(())
    }

    fn close_case(&mut self) {
        let Some(mut case) = self.case.take() else {
            return;
        };
        if case.flags & TEARDOWN != 0 {
            // A distinct identity from the call's testcase of the same names.
            case.hash = hash(&[b"pytest teardown", &hash_bytes(&case.hash)]);
        }
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        if case.assertions != NONE {
            let number = self.index.cases.len() as u32;
            self.index.assertions.push((number, case.assertions));
        }
        let record = Case {
            at: case.start << TAG_LEN_BITS | u64::from(case.tag_len),
            hash: case.hash,
            suite: frame.suite,
            time_ms: case.time_ms,
            next: NONE,
            outcome: case.outcome,
            flags: case.flags,
            role: 0,
        };
        frame.counted.add_case(
            &record,
            record.outcome == Outcome::Passed && record.flags & HAS_FLAKY != 0,
            case.assertions,
        );
        self.index.cases.push(record);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{hash, hash_streamed};

    proptest! {
        #[test]
        fn short_and_streamed_hashes_agree(
            parts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..5)
        ) {
            let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(hash(&parts), hash_streamed(&parts));
        }
    }

    #[test]
    fn where_parts_split_changes_the_hash() {
        assert_ne!(hash(&[b"ab", b"c"]), hash(&[b"a", b"bc"]));
        assert_ne!(hash(&[b"abc"]), hash(&[b"abc", b""]));
        assert_ne!(hash(&[]), hash(&[b""]));
    }
}
