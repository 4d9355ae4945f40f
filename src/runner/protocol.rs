//! The contract between rxdist and the pytest plugin it loads into every worker process.
//!
//! rxdist writes a [`BatchSpec`] as JSON and names it in `RXDIST_BATCH`; the plugin
//! (`plugin/rxdist_worker.py`) selects that batch's tests and appends one JSON line per
//! [`Event`] to the spec's events file. A line that does not parse is kept as a protocol
//! warning, never fatal: the process exit status and the events that did parse are enough to
//! account for every test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The plugin's source, written next to the batch files and loaded with `-p`.
pub const PLUGIN_SOURCE: &str = include_str!("plugin/rxdist_worker.py");
/// The module name the plugin is written under.
pub const PLUGIN_MODULE: &str = "rxdist_worker";

/// What one pytest process must run.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BatchSpec {
    /// Where the plugin appends its events.
    pub events: PathBuf,
    /// Files this batch runs, each whole (`None`) or restricted by a [`FileRule`]. `None` (the
    /// field) means every file pytest collects (collection runs and catch-all batches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<BTreeMap<String, Option<FileRule>>>,
    /// Runs the files rxdist does not know about (new since the history was recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catch_all: Option<CatchAll>,
    /// Which tests to set aside instead of running, for rxdist to schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defer: Option<Defer>,
    /// Stop this process after this many failed tests: what is left of `--maxfail` when the
    /// process starts, so `-x` stops at the first failure, not a poll later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maxfail: Option<usize>,
    /// rxdist measures coverage: write coverage.py's data to disk after the process's first
    /// test and then at most once a second, so that a process that dies keeps the coverage of
    /// the tests it finished.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub coverage: bool,
}

/// Part of a file: the named tests, or all tests but the named ones (which other batches run;
/// this is how tests added since the history was recorded still run exactly once).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FileRule {
    /// Only these node ids.
    Only(Vec<String>),
    /// Every node id but these.
    Except(Vec<String>),
}

/// The batch that runs unknown files.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CatchAll {
    /// Files other batches run.
    pub known: Vec<String>,
    /// `(index, total)`: only files whose path hashes to this bucket (see [`file_bucket`]), so
    /// that new files spread over the shards instead of piling onto one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<(usize, usize)>,
    /// Only files in these slices (see [`file_slice`]): how a run with no history and no
    /// collection splits the unknown files into batches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slices: Option<Slices>,
}

/// A set of slices out of `of`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Slices {
    /// How many slices the files are cut into.
    pub of: usize,
    /// The slices this batch runs.
    pub take: Vec<usize>,
}

/// Which collected tests the plugin reports as deferred instead of running.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Defer {
    /// Tests with this marker run alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_marker: Option<String>,
    /// Whether `xdist_group` markers matter (`--dist loadgroup`).
    pub xdist_group: bool,
    /// Named groups with a concurrency limit.
    pub groups: Vec<DeferGroup>,
}

/// A concurrency group as the plugin matches it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeferGroup {
    /// The group's name.
    pub name: String,
    /// Tests with this marker belong to the group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// Node-id patterns (`fnmatch`: `*` also matches `/`).
    pub tests: Vec<String>,
}

/// The bucket of a file for catch-all batches: the first 8 bytes of the SHA-256 of its path,
/// big-endian, modulo `total`. The plugin computes the same; changing this moves new files
/// between shards, so it is frozen.
pub fn file_bucket(path: &str, total: usize) -> usize {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(path.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % total as u64) as usize
}

/// The slice of a file for batches of unknown files: like [`file_bucket`] but of the SHA-256
/// of `rxdist-slice:` + path, so slices cut across shard buckets. Frozen, like the bucket.
pub fn file_slice(path: &str, total: usize) -> usize {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"rxdist-slice:");
    hasher.update(path.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % total as u64) as usize
}

/// One line of the events file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "e", rename_all = "lowercase")]
pub enum Event {
    /// Options from the user's arguments or `addopts` the plugin took over.
    Options {
        /// Option name to its value.
        #[serde(default)]
        taken: BTreeMap<String, serde_json::Value>,
        /// pytest's version.
        #[serde(default)]
        pytest: String,
        /// The Python interpreter running pytest.
        #[serde(default)]
        python: Option<String>,
    },
    /// What this process will run, and what it set aside.
    Collected {
        /// Node ids it will run, in order.
        items: Vec<String>,
        /// Tests set aside for rxdist to schedule.
        #[serde(default)]
        deferred: Vec<Deferred>,
    },
    /// A file or directory failed to collect.
    #[serde(rename = "collecterror")]
    CollectError {
        /// The collector's node id (usually the file path).
        path: String,
        /// One-line reason.
        message: String,
        /// Full report.
        #[serde(default)]
        details: String,
    },
    /// A module was skipped at import.
    #[serde(rename = "collectskip")]
    CollectSkip {
        /// The module's node id (its path).
        path: String,
        /// The skip reason.
        #[serde(default)]
        message: String,
    },
    /// A test started.
    Start {
        /// Node id.
        id: String,
        /// Its file, as pytest reports the location.
        #[serde(default)]
        file: Option<String>,
        /// Its line (pytest's 0-based value).
        #[serde(default)]
        line: Option<u64>,
    },
    /// A test finished (all of its phases).
    Finish(Box<Finished>),
    /// The session ended normally (pytest's exit status).
    Done {
        /// pytest's exit status.
        exit: i32,
    },
}

/// A test the plugin set aside.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Deferred {
    /// Node id.
    pub id: String,
    /// Marked serial.
    #[serde(default)]
    pub serial: bool,
    /// Its `xdist_group` name, under `--dist loadgroup`.
    #[serde(default)]
    pub xdist_group: Option<String>,
    /// Concurrency groups it belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Outcome of one test, as the plugin reports it.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PytestOutcome {
    /// Passed.
    Passed,
    /// Failed in its call phase (or strict xpass).
    Failed,
    /// Failed in setup or teardown.
    Error,
    /// Skipped.
    Skipped,
    /// Expected failure that failed.
    Xfailed,
    /// Expected failure that passed (non-strict).
    Xpassed,
}

/// A finished test.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Finished {
    /// Node id.
    pub id: String,
    /// Outcome.
    pub outcome: PytestOutcome,
    /// Seconds over all phases.
    #[serde(default)]
    pub duration: f64,
    /// xunit1 `classname`.
    #[serde(default)]
    pub classname: String,
    /// xunit1 `name`.
    #[serde(default)]
    pub name: String,
    /// xunit1 `file`.
    #[serde(default)]
    pub file: Option<String>,
    /// xunit1 `line` (pytest's 0-based value, written as pytest writes it).
    #[serde(default)]
    pub line: Option<u64>,
    /// One-line message.
    #[serde(default)]
    pub message: Option<String>,
    /// Full report.
    #[serde(default)]
    pub details: Option<String>,
    /// A teardown error after a failed call.
    #[serde(default)]
    pub teardown: Option<String>,
    /// Captured standard output.
    #[serde(default)]
    pub stdout: Option<String>,
    /// Captured standard error.
    #[serde(default)]
    pub stderr: Option<String>,
    /// Captured log records.
    #[serde(default)]
    pub log: Option<String>,
    /// `record_property` pairs.
    #[serde(default)]
    pub properties: Vec<(String, String)>,
}

/// Splits a growing events file into complete lines and parses them; a partial last line waits
/// for the next read.
#[derive(Debug, Default)]
pub struct EventReader {
    pending: Vec<u8>,
}

impl EventReader {
    /// Feeds newly read bytes; returns the events of every complete line, and the text of any
    /// line that did not parse.
    pub fn feed(&mut self, bytes: &[u8]) -> (Vec<Event>, Vec<String>) {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut bad = Vec::new();
        let mut start = 0;
        while let Some(offset) = memchr::memchr(b'\n', &self.pending[start..]) {
            let line = &self.pending[start..start + offset];
            start += offset + 1;
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Event>(line) {
                Ok(event) => events.push(event),
                Err(_) => bad.push(String::from_utf8_lossy(line).into_owned()),
            }
        }
        self.pending.drain(..start);
        (events, bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_lines_wait_for_the_rest() {
        let mut reader = EventReader::default();
        let (events, bad) = reader.feed(b"{\"e\":\"start\",\"id\":\"a.py::t\"}\n{\"e\":\"do");
        assert_eq!(
            events,
            vec![Event::Start {
                id: "a.py::t".into(),
                file: None,
                line: None,
            }]
        );
        assert!(bad.is_empty());
        let (events, _) = reader.feed(b"ne\",\"exit\":0}\n");
        assert_eq!(events, vec![Event::Done { exit: 0 }]);
    }

    #[test]
    fn a_bad_line_is_reported_not_fatal() {
        let mut reader = EventReader::default();
        let (events, bad) = reader.feed(b"garbage\n{\"e\":\"done\",\"exit\":1}\n");
        assert_eq!(events, vec![Event::Done { exit: 1 }]);
        assert_eq!(bad, vec!["garbage".to_owned()]);
    }

    #[test]
    fn finish_events_parse_with_optional_fields_absent() {
        let mut reader = EventReader::default();
        let (events, _) = reader.feed(
            br#"{"e":"finish","id":"t.py::a","outcome":"xfailed","duration":0.5,"classname":"t","name":"a","file":"t.py","line":3,"message":"why"}
"#,
        );
        let Event::Finish(finished) = &events[0] else {
            panic!("not a finish event: {events:?}");
        };
        assert_eq!(finished.outcome, PytestOutcome::Xfailed);
        assert_eq!(finished.line, Some(3));
        assert_eq!(finished.message.as_deref(), Some("why"));
        assert!(finished.stdout.is_none());
    }

    #[test]
    fn file_bucket_is_frozen() {
        // The plugin computes the same function in Python; these values pin it.
        let buckets: Vec<usize> = ["tests/test_a.py", "tests/test_b.py", "x.py"]
            .iter()
            .map(|path| file_bucket(path, 7))
            .collect();
        assert_eq!(buckets, frozen_buckets());
    }

    #[test]
    fn file_slice_is_frozen() {
        // Computed independently with Python's hashlib, as the plugin does.
        let slices: Vec<usize> = ["tests/test_a.py", "tests/test_b.py", "x.py"]
            .iter()
            .map(|path| file_slice(path, 32))
            .collect();
        assert_eq!(slices, frozen_slices());
    }

    fn frozen_slices() -> Vec<usize> {
        vec![27, 15, 22]
    }

    fn frozen_buckets() -> Vec<usize> {
        vec![4, 6, 5]
    }

    #[test]
    fn batch_spec_serializes_rules_compactly() {
        let mut files = BTreeMap::new();
        files.insert("a.py".to_owned(), None);
        files.insert(
            "b.py".to_owned(),
            Some(FileRule::Except(vec!["b.py::x".into()])),
        );
        let spec = BatchSpec {
            events: PathBuf::from("/tmp/e"),
            files: Some(files),
            ..BatchSpec::default()
        };
        assert_eq!(
            serde_json::to_string(&spec).unwrap(),
            r#"{"events":"/tmp/e","files":{"a.py":null,"b.py":{"except":["b.py::x"]}}}"#
        );
        let measured = BatchSpec {
            events: PathBuf::from("/tmp/e"),
            coverage: true,
            ..BatchSpec::default()
        };
        assert_eq!(
            serde_json::to_string(&measured).unwrap(),
            r#"{"events":"/tmp/e","coverage":true}"#
        );
    }
}
