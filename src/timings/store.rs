//! The on-disk history format.
//!
//! A history file is valid zstd: a *skippable frame* carrying a small binary header (the
//! ASCII magic `RXDIST-HISTORY`, the format version as u16 little-endian, and the sha256 of the
//! JSON that follows), then one ordinary zstd frame holding a JSON document. Any zstd tool
//! skips the header, so `zstd -dc history` shows the JSON to a human; rxdist checks the version
//! before decompressing anything and the digest before trusting anything.
//!
//! The JSON groups tests by file key, so each file key is written once, and writes each test
//! as a compact row (see [`TEST_COLUMNS`]). Keys and rows are sorted and durations rounded to
//! microseconds, so encoding is deterministic: the same history always gives the same bytes,
//! which keeps CI caches and artifact digests stable.
//!
//! Encoding and decoding work on bytes; the caller reads files and writes them atomically.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::io::Read as _;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use sha2::{Digest as _, Sha256};

use super::History;
use super::hash::IdMap;
use super::history::{
    Backtest, FileTests, Predictor, RECENT_SAMPLES, REMEMBERED_RUNS, RecentOutcomes, Smoothed,
    TestEntry, narrow, round_micros, to_micros,
};

/// The format version this rxdist writes.
///
/// Version 2 scores the predictors' backtests on squared errors and has a mean predictor where
/// version 1 had absolute errors and a median (see [`super::Predictor`]).
pub const FORMAT_VERSION: u16 = 2;

/// The oldest format version this rxdist reads. A version 1 file reads as is except for its
/// backtests: their errors measure something else, so they are dropped and the next recorded
/// run starts them afresh (until then estimates use the default predictor). Its tests, setups
/// and run digests carry over, so upgrading loses no timing.
pub const OLDEST_READABLE_VERSION: u16 = 1;

/// Decompressed documents larger than this are refused by [`decode`]: a million tests take
/// about 70 MB, so this leaves room for thirty times that while stopping a zstd bomb.
pub const MAX_DECOMPRESSED_BYTES: u64 = 2 << 30;

/// The columns of a test row, as listed in the document for a human reader. `latest` holds the
/// last few durations, newest first, in whole microseconds.
pub const TEST_COLUMNS: [&str; 6] = [
    "id_suffix",
    "seconds",
    "samples",
    "last_seen",
    "recent",
    "latest",
];

/// The value of the document's `format` key.
const FORMAT_NAME: &str = "rxdist-history";

/// zstd's first skippable-frame magic number; decoders skip such frames unread.
const SKIPPABLE_MAGIC: u32 = 0x184D_2A50;

/// The magic at the start of the header payload.
const MAGIC: &[u8; 14] = b"RXDIST-HISTORY";

/// Header payload: magic, version, digest.
const HEADER_LEN: usize = MAGIC.len() + 2 + 32;

/// Skippable-frame magic and length, then the header payload.
const PREFIX_LEN: usize = 8 + HEADER_LEN;

/// A fixed level keeps output deterministic; 6 compresses a million tests to a few MB in well
/// under a second.
const ZSTD_LEVEL: i32 = 6;

/// Why a history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The bytes do not start with a history header.
    #[error(
        "not an rxdist history file (wrong magic); check the path, or delete the file so that \
         the next recording starts a fresh history"
    )]
    NotAHistory,
    /// The bytes end before the header or the compressed document does.
    #[error(
        "history file is truncated ({len} bytes); it was probably cut off while being written \
         or copied, restore it from the CI cache or delete it to start afresh"
    )]
    Truncated {
        /// How many bytes there were.
        len: usize,
    },
    /// Written by a newer rxdist.
    #[error(
        "history format version {found} is newer than this rxdist understands (up to \
         {FORMAT_VERSION}); upgrade rxdist"
    )]
    NewerVersion {
        /// The version in the file.
        found: u16,
    },
    /// Written in a format this rxdist no longer reads.
    #[error(
        "history format version {found} is too old for this rxdist (it reads versions \
         {OLDEST_READABLE_VERSION} to {FORMAT_VERSION}); delete the file and record again"
    )]
    OlderVersion {
        /// The version in the file.
        found: u16,
    },
    /// The compressed document could not be decompressed.
    #[error(
        "history is not valid zstd data (truncated or damaged); delete the file and record again"
    )]
    Decompress(#[source] std::io::Error),
    /// The document decompresses to more than the limit.
    #[error(
        "history decompresses to more than {limit} bytes, refusing to read further; the file \
         is damaged or not a history, delete it and record again"
    )]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The document does not match the digest in the header.
    #[error("history is corrupt (digest mismatch); delete the file and record again")]
    DigestMismatch,
    /// The document is not a valid history despite a matching digest.
    #[error("history content is invalid; delete the file and record again")]
    Content(#[source] serde_json::Error),
    /// Compression failed.
    #[error("could not compress the history")]
    Compress(#[source] std::io::Error),
    /// Rendering the document failed.
    #[error("could not render the history as JSON")]
    Render(#[source] fmt::Error),
}

/// The sha256 of a history's JSON document, as stored in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentDigest(pub [u8; 32]);

impl fmt::Display for ContentDigest {
    /// Lowercase hex, as `sha256sum` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// Whether `bytes` start like a history file (without validating the rest).
pub fn looks_like_history(bytes: &[u8]) -> bool {
    bytes.len() >= 8 + MAGIC.len()
        && bytes[..4] == SKIPPABLE_MAGIC.to_le_bytes()
        && bytes[8..8 + MAGIC.len()] == MAGIC[..]
}

/// Encodes a history into the bytes of a history file.
pub fn encode(history: &History) -> Result<Vec<u8>, StoreError> {
    let mut json = String::with_capacity(64 * history.len() + 1024);
    write_document(history, &mut json).map_err(StoreError::Render)?;
    let digest: [u8; 32] = Sha256::digest(json.as_bytes()).into();
    let frame = zstd::bulk::compress(json.as_bytes(), ZSTD_LEVEL).map_err(StoreError::Compress)?;
    let mut out = Vec::with_capacity(PREFIX_LEN + frame.len());
    out.extend_from_slice(&SKIPPABLE_MAGIC.to_le_bytes());
    out.extend_from_slice(&(HEADER_LEN as u32).to_le_bytes());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&digest);
    out.extend_from_slice(&frame);
    Ok(out)
}

/// Decodes the bytes of a history file.
pub fn decode(bytes: &[u8]) -> Result<History, StoreError> {
    decode_with_limit(bytes, MAX_DECOMPRESSED_BYTES)
}

/// Decodes the bytes of a history file, refusing documents larger than `limit` bytes.
pub fn decode_with_limit(bytes: &[u8], limit: u64) -> Result<History, StoreError> {
    let header = read_header(bytes)?;
    let json = decompress(&bytes[header.body..], limit)?;
    if <[u8; 32]>::from(Sha256::digest(&json)) != header.digest.0 {
        return Err(StoreError::DigestMismatch);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&json);
    let history = deserializer
        .deserialize_map(DocumentVisitor {
            version: header.version,
        })
        .map_err(StoreError::Content)?;
    deserializer.end().map_err(StoreError::Content)?;
    Ok(history)
}

/// The content digest recorded in a history file's header (not verified; [`decode`] does
/// that), for `rxdist timings show`.
pub fn digest(bytes: &[u8]) -> Result<ContentDigest, StoreError> {
    read_header(bytes).map(|header| header.digest)
}

/// What the header says.
struct Header {
    /// The format version, between [`OLDEST_READABLE_VERSION`] and [`FORMAT_VERSION`].
    version: u16,
    digest: ContentDigest,
    /// Where the zstd frame starts.
    body: usize,
}

fn read_header(bytes: &[u8]) -> Result<Header, StoreError> {
    let truncated = || StoreError::Truncated { len: bytes.len() };
    // A prefix of a valid header is a truncated file; anything else is not a history at all.
    let magic_at = |range: std::ops::Range<usize>, expected: &[u8]| {
        let end = range.end.min(bytes.len());
        let start = range.start.min(end);
        bytes[start..end] == expected[..end - start]
    };
    if !magic_at(0..4, &SKIPPABLE_MAGIC.to_le_bytes()) || !magic_at(8..8 + MAGIC.len(), MAGIC) {
        return Err(StoreError::NotAHistory);
    }
    if bytes.len() < 8 + MAGIC.len() + 2 {
        return Err(truncated());
    }
    let version = u16::from_le_bytes([bytes[8 + MAGIC.len()], bytes[9 + MAGIC.len()]]);
    if version > FORMAT_VERSION {
        return Err(StoreError::NewerVersion { found: version });
    }
    if version < OLDEST_READABLE_VERSION {
        return Err(StoreError::OlderVersion { found: version });
    }
    let frame_len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    if frame_len != HEADER_LEN {
        return Err(StoreError::NotAHistory);
    }
    if bytes.len() <= PREFIX_LEN {
        return Err(truncated());
    }
    let mut digest = [0; 32];
    digest.copy_from_slice(&bytes[PREFIX_LEN - 32..PREFIX_LEN]);
    Ok(Header {
        version,
        digest: ContentDigest(digest),
        body: PREFIX_LEN,
    })
}

/// Decompresses one zstd frame, reading at most `limit + 1` bytes so that a frame claiming or
/// producing more cannot exhaust memory.
fn decompress(frame: &[u8], limit: u64) -> Result<Vec<u8>, StoreError> {
    // Bytes after the one frame would be ignored by the decoder; a file with some is damaged
    // (or two writers raced), so say so rather than trust the first part.
    if let Ok(size) = zstd::zstd_safe::find_frame_compressed_size(frame)
        && size != frame.len()
    {
        return Err(StoreError::Decompress(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} bytes follow the compressed document",
                frame.len() - size
            ),
        )));
    }
    let declared = zstd::zstd_safe::get_frame_content_size(frame)
        .ok()
        .flatten();
    let decoder = zstd::stream::read::Decoder::with_buffer(frame)
        .map_err(StoreError::Decompress)?
        .single_frame();
    // Trust the declared size only for preallocation, and only up to the limit.
    let capacity = declared.unwrap_or(0).min(limit).min(1 << 30) as usize;
    let mut out = Vec::with_capacity(capacity);
    decoder
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|error| {
            // zstd reports a frame cut short as an unexpected end of file.
            if error.kind() == std::io::ErrorKind::UnexpectedEof {
                StoreError::Truncated {
                    len: frame.len() + PREFIX_LEN,
                }
            } else {
                StoreError::Decompress(error)
            }
        })?;
    if out.len() as u64 > limit {
        return Err(StoreError::TooLarge { limit });
    }
    Ok(out)
}

/// Appends `s` as a JSON string literal.
fn write_json_str(out: &mut String, s: &str) -> fmt::Result {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => write!(out, "\\u{:04x}", u32::from(c))?,
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}

/// Writes the JSON document: one line per test row so a human can page through it.
fn write_document(history: &History, out: &mut String) -> fmt::Result {
    // Files sorted by key, tests within a file by the rest of their id.
    let mut files: Vec<(&str, &FileTests)> = history
        .files
        .iter()
        .map(|(file, tests)| (&**file, tests))
        .collect();
    files.sort_unstable_by(|a, b| a.0.cmp(b.0));

    writeln!(
        out,
        "{{\"format\":\"{FORMAT_NAME}\",\"version\":{FORMAT_VERSION},\"runs\":{},\"test_count\":{},",
        history.runs,
        history.len()
    )?;
    out.push_str("\"test_columns\":[");
    for (i, column) in TEST_COLUMNS.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(out, column)?;
    }
    out.push_str("],\n");
    write_backtest("backtest", &history.backtest, out)?;
    out.push_str(",\n");
    write_backtest("file_backtest", &history.file_backtest, out)?;
    out.push_str(",\n\"recent_runs\":[");
    for (i, digest) in history.recent_runs.iter().enumerate() {
        out.push_str(if i > 0 { ",\n\"" } else { "\n\"" });
        write!(out, "{}", ContentDigest(*digest))?;
        out.push('"');
    }
    out.push_str("],\n\"files\":{");
    let mut rows: Vec<(&str, &TestEntry)> = Vec::new();
    for (i, &(file, tests)) in files.iter().enumerate() {
        out.push_str(if i > 0 { ",\n" } else { "\n" });
        write_json_str(out, file)?;
        out.push_str(":{");
        if let Some(setup) = tests.setup {
            write!(
                out,
                "\"setup\":{{\"seconds\":{},\"samples\":{}}},",
                setup.seconds, setup.samples
            )?;
        }
        rows.clear();
        rows.extend(tests.tests.iter().map(|(rest, entry)| (&**rest, entry)));
        rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out.push_str("\"tests\":[");
        for (i, (suffix, entry)) in rows.iter().enumerate() {
            out.push_str(if i > 0 { ",\n[" } else { "\n[" });
            write_json_str(out, suffix)?;
            write!(
                out,
                ",{},{},{},\"{}\",[",
                entry.seconds, entry.samples, entry.last_seen, entry.recent
            )?;
            for (i, &sample) in entry.latest[..entry.kept()].iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write!(out, "{}", to_micros(f64::from(sample)))?;
            }
            out.push_str("]]");
        }
        out.push_str("]}");
    }
    out.push_str("}}\n");
    Ok(())
}

/// Writes `"key":{…}`: the runs backtested, each predictor's error and, for a human reader,
/// the predictor chosen (checked against the errors when decoding).
fn write_backtest(key: &str, backtest: &Backtest, out: &mut String) -> fmt::Result {
    write!(
        out,
        "\"{key}\":{{\"runs\":{},\"chosen\":\"{}\",\"errors\":{{",
        backtest.runs(),
        backtest.chosen()
    )?;
    for (i, predictor) in Predictor::ALL.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write!(out, "\"{predictor}\":{}", backtest.error(predictor))?;
    }
    out.push_str("}}");
    Ok(())
}

/// A string borrowed from the document when it has no escapes, owned otherwise.
struct Text<'de>(Cow<'de, str>);

impl<'de: 'a, 'a> de::Deserialize<'de> for Text<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

/// A duration in seconds: finite, non-negative, rounded to microseconds.
fn seconds<E: de::Error>(value: f64) -> Result<f64, E> {
    if value.is_finite() && value >= 0.0 {
        Ok(round_micros(value))
    } else {
        Err(E::custom(format_args!(
            "duration {value} is not a non-negative number of seconds"
        )))
    }
}

/// Builds a [`History`] straight from the document, without an intermediate tree: a million
/// tests must decode fast and without doubling memory.
struct DocumentVisitor {
    /// The format version the header declares; the document must declare the same.
    version: u16,
}

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = History;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an rxdist history document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<History, A::Error> {
        let mut history = History::default();
        let mut format_seen = false;
        let mut version_seen = false;
        let mut declared_count: Option<usize> = None;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match &*key.0 {
                "format" => {
                    let format: Text<'de> = map.next_value()?;
                    if format.0 != FORMAT_NAME {
                        return Err(de::Error::custom(format_args!(
                            "format is {:?}, expected {FORMAT_NAME:?}",
                            format.0
                        )));
                    }
                    format_seen = true;
                }
                "version" => {
                    let version: u16 = map.next_value()?;
                    if version != self.version {
                        return Err(de::Error::custom(format_args!(
                            "document version {version} does not match the header's {}",
                            self.version
                        )));
                    }
                    version_seen = true;
                }
                "runs" => history.runs = map.next_value()?,
                "test_count" => declared_count = Some(map.next_value::<usize>()?),
                "recent_runs" => history.recent_runs = map.next_value_seed(RecentRunsSeed)?,
                // Version 1 backtests scored absolute errors: dropped (see
                // `OLDEST_READABLE_VERSION`).
                "backtest" | "file_backtest" if self.version == 1 => {
                    map.next_value::<IgnoredAny>()?;
                }
                "backtest" => history.backtest = backtest(&map.next_value()?)?,
                "file_backtest" => history.file_backtest = backtest(&map.next_value()?)?,
                "files" => map.next_value_seed(FilesSeed {
                    history: &mut history,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !format_seen || !version_seen {
            return Err(de::Error::custom("the format or version key is missing"));
        }
        if let Some(count) = declared_count
            && count != history.test_count
        {
            return Err(de::Error::custom(format_args!(
                "test_count says {count} but the document holds {}",
                history.test_count
            )));
        }
        let latest = history
            .files
            .values()
            .flat_map(|file| file.tests.values())
            .map(|test| test.last_seen)
            .max();
        if let Some(late) = latest.filter(|&late| late > history.runs) {
            return Err(de::Error::custom(format_args!(
                "a test was last seen in run {late} but only {} runs were recorded",
                history.runs
            )));
        }
        Ok(history)
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BacktestDoc<'a> {
    runs: u32,
    #[serde(borrow)]
    chosen: Text<'a>,
    errors: ErrorsDoc,
}

/// One field per [`Predictor`].
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorsDoc {
    mean: f64,
    ewma: f64,
    latest: f64,
}

fn backtest<E: de::Error>(doc: &BacktestDoc<'_>) -> Result<Backtest, E> {
    let mut backtest = Backtest {
        runs: doc.runs,
        errors: [0.0; Predictor::ALL.len()],
    };
    for predictor in Predictor::ALL {
        let error = match predictor {
            Predictor::Mean => doc.errors.mean,
            Predictor::Ewma => doc.errors.ewma,
            Predictor::Latest => doc.errors.latest,
        };
        backtest.errors[predictor as usize] = seconds(error)?;
    }
    if Predictor::from_name(&doc.chosen.0) != Some(backtest.chosen()) {
        return Err(E::custom(format_args!(
            "the backtest says it chose {:?} but its errors choose {:?}",
            doc.chosen.0,
            backtest.chosen().name()
        )));
    }
    Ok(backtest)
}

struct RecentRunsSeed;

impl<'de> DeserializeSeed<'de> for RecentRunsSeed {
    type Value = VecDeque<[u8; 32]>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        let hexes: Vec<Text<'de>> = de::Deserialize::deserialize(deserializer)?;
        let skip = hexes.len().saturating_sub(REMEMBERED_RUNS);
        hexes
            .iter()
            .skip(skip)
            .map(|hex| {
                parse_hex_digest(&hex.0).ok_or_else(|| {
                    de::Error::custom(format_args!("{:?} is not a sha256 hex digest", hex.0))
                })
            })
            .collect()
    }
}

fn parse_hex_digest(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut digest = [0; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        digest[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(digest)
}

struct FilesSeed<'a> {
    history: &'a mut History,
}

impl<'de> DeserializeSeed<'de> for FilesSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FilesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of file keys")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(file) = map.next_key::<Text<'de>>()? {
            let file = &*file.0;
            if file.contains("::") {
                return Err(de::Error::custom(format_args!(
                    "file key {file:?} contains \"::\""
                )));
            }
            let tests = map.next_value_seed(FileSeed { file })?;
            if tests.tests.is_empty() {
                return Err(de::Error::custom(format_args!(
                    "file key {file:?} has no tests"
                )));
            }
            self.history.test_count += tests.tests.len();
            if self.history.files.insert(file.into(), tests).is_some() {
                return Err(de::Error::custom(format_args!(
                    "file key {file:?} appears twice"
                )));
            }
        }
        Ok(())
    }
}

struct FileSeed<'a> {
    file: &'a str,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = FileTests;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<FileTests, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = FileTests;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a file object with tests")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FileTests, A::Error> {
        let mut file = FileTests::default();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match &*key.0 {
                "setup" => {
                    let setup: SetupDoc = map.next_value()?;
                    if setup.samples == 0 {
                        return Err(de::Error::custom("a setup cost has 0 samples"));
                    }
                    file.setup = Some(Smoothed {
                        seconds: seconds(setup.seconds)?,
                        samples: setup.samples,
                    });
                }
                "tests" => map.next_value_seed(TestsSeed {
                    file: self.file,
                    tests: &mut file.tests,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(file)
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupDoc {
    seconds: f64,
    samples: u32,
}

struct TestsSeed<'a> {
    file: &'a str,
    tests: &'a mut IdMap<Box<str>, TestEntry>,
}

impl<'de> DeserializeSeed<'de> for TestsSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for TestsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of test rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(row) = seq.next_element::<Row<'de>>()? {
            let suffix = &*row.suffix.0;
            if !(suffix.is_empty() || suffix.starts_with("::")) {
                return Err(de::Error::custom(format_args!(
                    "test suffix {suffix:?} of file {:?} neither is empty nor starts with \"::\"",
                    self.file
                )));
            }
            let id = format_args!("{}{suffix}", self.file);
            let recent = RecentOutcomes::from_letters(&row.recent.0)
                .filter(|_| row.recent.0.len() <= super::history::RECENT_OUTCOMES)
                .ok_or_else(|| {
                    de::Error::custom(format_args!(
                        "recent outcomes {:?} of {id:?} are not up to 10 of the letters p, f, e, s",
                        row.recent.0
                    ))
                })?;
            let kept = (row.samples as usize).min(RECENT_SAMPLES);
            if row.latest.len != kept {
                return Err(de::Error::custom(format_args!(
                    "test {id:?} has {} latest durations, expected {kept} for {} samples",
                    row.latest.len, row.samples
                )));
            }
            let entry = TestEntry {
                seconds: if row.samples == 0 {
                    0.0
                } else {
                    seconds(row.seconds)?
                },
                latest: row.latest.values,
                last_seen: row.last_seen,
                samples: row.samples,
                recent,
            };
            if self.tests.insert(suffix.into(), entry).is_some() {
                return Err(de::Error::custom(format_args!("test {id:?} appears twice")));
            }
        }
        Ok(())
    }
}

/// One test row, in the order of [`TEST_COLUMNS`].
#[derive(serde::Deserialize)]
struct Row<'a> {
    #[serde(borrow)]
    suffix: Text<'a>,
    seconds: f64,
    samples: u32,
    last_seen: u64,
    #[serde(borrow)]
    recent: Text<'a>,
    latest: Latest,
}

/// A row's latest durations, newest first, narrowed as [`TestEntry::latest`] keeps them.
struct Latest {
    values: [f32; RECENT_SAMPLES],
    len: usize,
}

impl<'de> de::Deserialize<'de> for Latest {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LatestVisitor;
        impl<'de> Visitor<'de> for LatestVisitor {
            type Value = Latest;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a list of at most {RECENT_SAMPLES} durations in microseconds"
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Latest, A::Error> {
                let mut latest = Latest {
                    values: [0.0; RECENT_SAMPLES],
                    len: 0,
                };
                while let Some(micros) = seq.next_element::<u64>()? {
                    let slot = latest.values.get_mut(latest.len).ok_or_else(|| {
                        de::Error::custom(format_args!(
                            "more than {RECENT_SAMPLES} latest durations"
                        ))
                    })?;
                    *slot = narrow(micros as f64 / 1e6);
                    latest.len += 1;
                }
                Ok(latest)
            }
        }
        deserializer.deserialize_seq(LatestVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::junit::Outcome;
    use crate::timings::{Observation, Retention};

    fn sample() -> History {
        let mut history = History::new();
        let runs: [&[(&str, f64, Outcome)]; 2] = [
            &[
                ("tests/a.py::setup_heavy", 3.5, Outcome::Passed),
                ("tests/a.py::b", 0.5, Outcome::Failed),
                ("tests/a.py::c[\"quoted\\\n\"]", 0.25, Outcome::Passed),
                ("tests/b.py", 1.0 / 3.0, Outcome::Skipped),
                ("com.example.FooTest::bar", 0.1, Outcome::Error),
            ],
            &[
                ("tests/a.py::b", 0.75, Outcome::Passed),
                ("tests/é.py::ünïcode", 2.0, Outcome::Passed),
            ],
        ];
        for run in runs {
            let run: Vec<Observation> = run
                .iter()
                .map(|&(id, s, o)| Observation {
                    id: id.into(),
                    seconds: Some(s),
                    outcome: Some(o),
                })
                .collect();
            history.record(&run, Retention::default());
        }
        history
    }

    /// A history file around an arbitrary document, with a correct digest.
    fn wrap(json: &str, version: u16) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&SKIPPABLE_MAGIC.to_le_bytes());
        out.extend_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&Sha256::digest(json.as_bytes()));
        out.extend_from_slice(&zstd::bulk::compress(json.as_bytes(), 1).expect("compress"));
        out
    }

    #[test]
    fn round_trips() {
        let history = sample();
        assert_eq!(history.file_setup("tests/a.py"), Some(3.125));
        let bytes = encode(&history).expect("encode");
        assert!(looks_like_history(&bytes));
        assert_eq!(decode(&bytes).expect("decode"), history);
        assert_eq!(
            decode(&encode(&History::new()).expect("encode")).expect("decode"),
            History::new()
        );
    }

    #[test]
    fn encoding_is_byte_deterministic() {
        let a = encode(&sample()).expect("encode");
        // Rebuilding the same history gives hash maps with a different iteration order.
        let b = encode(&sample()).expect("encode");
        let c = encode(&decode(&a).expect("decode")).expect("encode");
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn plain_zstd_shows_the_json_and_the_header_digest_matches_it() {
        let bytes = encode(&sample()).expect("encode");
        let json = zstd::stream::decode_all(&bytes[..]).expect("plain zstd reads it");
        let text = String::from_utf8(json.clone()).expect("utf-8");
        assert!(
            text.starts_with(r#"{"format":"rxdist-history","version":2,"runs":2,"test_count":6,"#),
            "{text}"
        );
        assert!(
            text.contains(r#""tests/a.py":{"setup":{"seconds":3.125,"samples":1},"tests":["#),
            "{text}"
        );
        assert!(
            text.contains(r#"["::b",0.625,2,2,"fp",[750000,500000]]"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#""backtest":{"runs":1,"chosen":"mean","errors":{"mean":0.111111,"ewma":0.111111,"latest":0.111111}}"#
            ),
            "{text}"
        );
        let expected: [u8; 32] = Sha256::digest(&json).into();
        assert_eq!(digest(&bytes).expect("header").0, expected);
        assert_eq!(digest(&bytes).expect("header").to_string().len(), 64);
        let document: serde_json::Value = serde_json::from_slice(&json).expect("valid JSON");
        assert_eq!(document["files"]["tests/b.py"]["tests"][0][1], 0.333_333);
    }

    #[test]
    fn a_changed_document_is_caught_by_its_digest() {
        let bytes = encode(&sample()).expect("encode");
        let json = zstd::stream::decode_all(&bytes[..]).expect("decompress");
        let tampered = String::from_utf8(json)
            .expect("utf-8")
            .replace("\"runs\":2", "\"runs\":3");
        let mut forged = wrap(&tampered, FORMAT_VERSION);
        forged[..PREFIX_LEN].copy_from_slice(&bytes[..PREFIX_LEN]);
        assert!(matches!(decode(&forged), Err(StoreError::DigestMismatch)));

        let mut flipped = bytes.clone();
        flipped[PREFIX_LEN - 1] ^= 1;
        let error = decode(&flipped).map(|_| ()).expect_err("corrupt");
        assert_eq!(
            error.to_string(),
            "history is corrupt (digest mismatch); delete the file and record again"
        );
    }

    #[test]
    fn rejects_other_files() {
        assert!(matches!(decode(b""), Err(StoreError::Truncated { len: 0 })));
        assert!(matches!(
            decode(b"{\"a\": 1}"),
            Err(StoreError::NotAHistory)
        ));
        let plain = zstd::bulk::compress(b"{}", 3).expect("compress");
        assert!(matches!(decode(&plain), Err(StoreError::NotAHistory)));
        assert!(!looks_like_history(&plain));
        let mut other_skippable = encode(&sample()).expect("encode");
        other_skippable[8] = b'X';
        assert!(matches!(
            decode(&other_skippable),
            Err(StoreError::NotAHistory)
        ));
    }

    #[test]
    fn newer_and_older_versions_say_what_to_do() {
        let newer = wrap("{}", FORMAT_VERSION + 1);
        let error = decode(&newer).map(|_| ()).expect_err("newer");
        assert!(matches!(error, StoreError::NewerVersion { found: 3 }));
        assert!(error.to_string().ends_with("upgrade rxdist"));
        assert!(matches!(
            decode(&wrap("{}", 0)),
            Err(StoreError::OlderVersion { found: 0 })
        ));
    }

    #[test]
    fn a_version_1_file_keeps_its_timings_and_drops_its_backtests() {
        let current = sample();
        assert!(current.backtest().runs() > 0 && current.file_backtest().runs() > 0);
        let json = zstd::stream::decode_all(&encode(&current).expect("encode")[..]).expect("json");
        // Version 1 wrote the same document except for the version and its median predictor.
        let old = String::from_utf8(json)
            .expect("utf-8")
            .replace(r#""version":2"#, r#""version":1"#)
            .replace(r#""mean":"#, r#""median":"#)
            .replace(r#""chosen":"mean""#, r#""chosen":"median""#);
        assert!(old.contains(r#""median":"#), "{old}");
        let read = decode(&wrap(&old, 1)).expect("version 1 reads");
        let mut expected = current.clone();
        expected.backtest = Backtest::default();
        expected.file_backtest = Backtest::default();
        assert_eq!(read, expected);
        // Written back, it is a version 2 file.
        let again = encode(&read).expect("encode");
        assert_eq!(decode(&again).expect("decode"), expected);
        assert!(
            zstd::stream::decode_all(&again[..])
                .map(|json| String::from_utf8_lossy(&json).contains(r#""version":2"#))
                .expect("json")
        );
    }

    #[test]
    fn truncated_files_are_reported_as_such() {
        let bytes = encode(&sample()).expect("encode");
        for cut in [
            3,
            10,
            PREFIX_LEN - 1,
            PREFIX_LEN,
            bytes.len() - 1,
            bytes.len() - 20,
        ] {
            let error = decode(&bytes[..cut]).map(|_| ()).expect_err("truncated");
            assert!(
                matches!(error, StoreError::Truncated { .. }),
                "cut at {cut}: {error:?}"
            );
        }
    }

    #[test]
    fn trailing_bytes_are_damage() {
        let mut bytes = encode(&sample()).expect("encode");
        bytes.extend_from_slice(b"junk");
        let error = decode(&bytes).map(|_| ()).expect_err("trailing");
        assert!(matches!(error, StoreError::Decompress(_)), "{error:?}");
    }

    #[test]
    fn a_zstd_bomb_is_capped() {
        let bomb = "0".repeat(4 << 20);
        let bytes = wrap(&bomb, FORMAT_VERSION);
        assert!(bytes.len() < 4096);
        let error = decode_with_limit(&bytes, 1 << 20)
            .map(|_| ())
            .expect_err("too large");
        assert!(matches!(error, StoreError::TooLarge { limit: 1_048_576 }));
    }

    #[test]
    fn invalid_documents_are_rejected_with_context() {
        let good_head = r#"{"format":"rxdist-history","version":2,"runs":1,"#;
        let cases = [
            ("not json", "expected"),
            (r#"{"format":"other","version":2}"#, "format is \"other\""),
            (r#"{"version":2}"#, "missing"),
            (
                r#"{"format":"rxdist-history","version":1}"#,
                "does not match the header's 2",
            ),
            (
                &format!(r#"{good_head}"files":{{"a.py":{{"tests":[["::x",1,1,1,"pz",[1]]]}}}}}}"#),
                "recent outcomes",
            ),
            (
                &format!(r#"{good_head}"files":{{"a.py":{{"tests":[["x",1,1,1,"p",[1]]]}}}}}}"#),
                "neither is empty",
            ),
            (
                &format!(r#"{good_head}"files":{{"a.py":{{"tests":[["::x",-1,1,1,"p",[1]]]}}}}}}"#),
                "non-negative",
            ),
            (
                &format!(r#"{good_head}"files":{{"a.py":{{"tests":[["::x",1,1,2,"p",[1]]]}}}}}}"#),
                "last seen in run 2",
            ),
            (
                &format!(r#"{good_head}"files":{{"a.py":{{"tests":[["::x",1,2,1,"p",[1]]]}}}}}}"#),
                "has 1 latest durations, expected 2",
            ),
            (
                &format!(
                    r#"{good_head}"files":{{"a.py":{{"tests":[["::x",1,9,1,"p",[1,1,1,1]]]}}}}}}"#
                ),
                "more than 3 latest",
            ),
            (
                &format!(
                    r#"{good_head}"backtest":{{"runs":1,"chosen":"ewma","errors":{{"mean":0.1,"ewma":0.2,"latest":0.3}}}}}}"#
                ),
                "says it chose \"ewma\" but its errors choose \"mean\"",
            ),
            (
                &format!(
                    r#"{good_head}"backtest":{{"runs":1,"chosen":"mean","errors":{{"mean":0.1,"ewma":0.2}}}}}}"#
                ),
                "missing field `latest`",
            ),
            (
                &format!(r#"{good_head}"files":{{"a::b":{{"tests":[]}}}}}}"#),
                "contains",
            ),
            (
                &format!(r#"{good_head}"test_count":5,"files":{{}}}}"#),
                "test_count says 5",
            ),
            (
                &format!(r#"{good_head}"recent_runs":["abc"]}}"#),
                "not a sha256",
            ),
            (
                &format!(
                    r#"{good_head}"files":{{"a.py":{{"tests":[["::x",1,1,1,"p",[1]],["::x",1,1,1,"p",[1]]]}}}}}}"#
                ),
                "appears twice",
            ),
        ];
        for (json, expected) in cases {
            let error = decode(&wrap(json, FORMAT_VERSION))
                .map(|_| ())
                .expect_err(json);
            let StoreError::Content(source) = &error else {
                panic!("{json}: {error:?}")
            };
            assert!(source.to_string().contains(expected), "{json}: {source}");
        }
    }
}
