//! The top-level error, and the mapping of every way a command ends to an exit code.
//!
//! Module errors travel up unchanged inside [`Error`] (as `#[source]`), and [`Error::exit_code`]
//! is the only place that decides which code from [`crate::exit_code`] they become.

use std::path::PathBuf;

use crate::exit_code;
use crate::github::GithubError;
use crate::junit::JunitError;
use crate::runner::CollectError;
use crate::settings::{FileError, SettingsError};
use crate::timings::{ImportError, StoreError};

/// Anything that stops a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is missing or invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The configuration file is unreadable or invalid.
    #[error(transparent)]
    Config(#[from] FileError),
    /// Reading a file failed.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file failed.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A JUnit report could not be read at all.
    #[error("{path} is not a readable JUnit report")]
    Junit {
        /// The report.
        path: PathBuf,
        /// The cause.
        #[source]
        source: JunitError,
    },
    /// A durations file could not be imported.
    #[error("{path} is not a readable durations file")]
    Import {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: ImportError,
    },
    /// The history file is unusable; it was left untouched.
    #[error("cannot use the timing history {path} (it was left untouched)")]
    History {
        /// The history file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: StoreError,
    },
    /// Test collection failed.
    #[error(transparent)]
    Collect(#[from] CollectError),
    /// `rxdist run --runner template`'s command is no usable template.
    #[error(transparent)]
    Template(#[from] crate::runner::template::TemplateError),
    /// `rxdist run` could not prepare or start its workers.
    #[error("cannot run the tests")]
    Exec(#[source] crate::runner::executor::ExecError),
    /// `rxdist run`'s collection failed.
    #[error("{reason}")]
    RunCollect {
        /// What pytest said.
        reason: String,
    },
    /// Nothing to plan or record.
    #[error("no tests: {reason}")]
    NoTests {
        /// Why there are none.
        reason: String,
    },
    /// No file matched what `merge` was asked to read.
    #[error("no report matched {patterns}")]
    NoMatch {
        /// The patterns, quoted.
        patterns: String,
    },
    /// `timings fetch --require-timings` found no usable timings.
    #[error("no usable timings from GitHub (--require-timings)")]
    TimingsUnavailable(#[source] GithubError),
    /// None of the inputs could be read.
    #[error("none of the {count} inputs could be read")]
    NoReadableInput {
        /// How many inputs there were.
        count: usize,
    },
}

impl Error {
    /// The exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Settings(_) | Error::Config(_) | Error::Template(_) => exit_code::USAGE,
            Error::Read { .. } | Error::Write { .. } => exit_code::IO,
            Error::Junit { .. }
            | Error::Import { .. }
            | Error::History { .. }
            | Error::NoReadableInput { .. } => exit_code::INPUT,
            Error::Collect(_) | Error::RunCollect { .. } => exit_code::COLLECTION,
            Error::Exec(_) => exit_code::INFRASTRUCTURE,
            Error::NoTests { .. } | Error::NoMatch { .. } => exit_code::NO_TESTS,
            Error::TimingsUnavailable(_) => exit_code::TIMINGS_UNAVAILABLE,
        }
    }
}

/// How a command that did its job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Everything as asked.
    Success,
    /// Some inputs were broken; everything readable was used.
    PartialInput,
    /// `--total auto` could not meet the target; the closest plan was printed.
    TargetUnreachable,
    /// `run`: tests failed.
    TestFailures,
    /// `run`: no test ran.
    NoTests,
    /// `run`: stopped by SIGINT; finished results were written.
    Interrupted,
    /// `run`: stopped by SIGTERM; finished results were written.
    Terminated,
    /// `run`: the global timeout was reached.
    GlobalTimeout,
    /// `run`: the test command could not start, or workers kept dying.
    Infrastructure,
    /// `run`: pytest could not collect anything (a usage error, a broken conftest).
    CollectionFailed,
}

impl Completion {
    /// The exit code for this completion.
    pub fn exit_code(self) -> u8 {
        match self {
            Completion::Success => exit_code::SUCCESS,
            Completion::PartialInput => exit_code::INPUT_PARTIAL,
            Completion::TargetUnreachable => exit_code::TARGET_UNREACHABLE,
            Completion::TestFailures => exit_code::TEST_FAILURES,
            Completion::NoTests => exit_code::NO_TESTS,
            Completion::Interrupted => exit_code::INTERRUPTED,
            Completion::Terminated => exit_code::TERMINATED,
            Completion::GlobalTimeout => exit_code::GLOBAL_TIMEOUT,
            Completion::Infrastructure => exit_code::INFRASTRUCTURE,
            Completion::CollectionFailed => exit_code::COLLECTION,
        }
    }
}
