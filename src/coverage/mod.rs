//! Coverage report merging, pure: the reports of every shard in, one merged report out.
//!
//! Three formats, each read and written by its own module: Cobertura XML (`cobertura`), LCOV
//! (`lcov`) and JaCoCo XML (`jacoco`). Reports of one format are merged into one table
//! keyed by normalised file path (`paths`), so the same file measured in different checkouts
//! is one file; every count and rate of the output is recounted from that table, never summed
//! from the inputs' totals. Output is sorted and deterministic.
//!
//! The readers stream (quick-xml events, LCOV lines) within [`Limits`]; memory is bounded by
//! the merged table. A broken input (truncated, not coverage, UTF-16) is reported in its
//! [`InputReport`] and everything read from it before the damage is kept; the other inputs are
//! still merged. This module reads only the readers it is handed and writes only the writer it
//! is handed: no file system, no environment, no clock.

mod cobertura;
mod error;
mod format;
mod jacoco;
mod lcov;
mod merge;
mod numbers;
mod paths;
mod xml;

pub use error::CoverageError;
pub use format::{Format, sniff};
pub use merge::merge;
pub use paths::{CI_ROOTS, PathMap};

/// Bounds that keep untrusted input from taking unbounded memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest attribute value, text or LCOV line in bytes. Markup (one tag) may be eight
    /// times as long, at least 64 KiB.
    pub max_value_bytes: usize,
    /// Deepest XML element nesting accepted.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_value_bytes: 64 * 1024,
            max_depth: 64,
        }
    }
}

/// How to merge.
#[derive(Debug, Clone, Default)]
pub struct CoverageOptions {
    /// `--path-map FROM=TO` rules, applied in order after the built-in normalisation; the first
    /// that matches wins.
    pub path_maps: Vec<PathMap>,
    /// Bounds on the inputs.
    pub limits: Limits,
    /// Threads reading inputs at once (0 or 1: one). Each reads a run of consecutive inputs
    /// into its own table, so memory grows with the threads; the output does not change.
    pub threads: usize,
}

/// One report to merge.
#[derive(Debug)]
pub struct CoverageInput<R> {
    /// How the report is named in messages (its path).
    pub label: String,
    /// The (decompressed) report.
    pub reader: R,
}

/// A covered-of-valid count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ratio {
    /// Lines or branches covered.
    pub covered: u64,
    /// Lines or branches measured.
    pub valid: u64,
}

/// What happened to one input.
#[derive(Debug)]
pub struct InputReport {
    /// The input's label.
    pub label: String,
    /// Distinct files taken from it.
    pub files: usize,
    /// Why it could not be read completely; files read before the problem are still merged.
    pub problem: Option<CoverageError>,
}

/// What a merge did.
#[derive(Debug)]
pub struct CoverageReport {
    /// One entry per input, in the order given.
    pub inputs: Vec<InputReport>,
    /// Distinct files in the merged report.
    pub files: usize,
    /// Lines covered of lines measured, over the merged report.
    pub lines: Ratio,
    /// Branches covered of branches measured, over the merged report.
    pub branches: Ratio,
    /// Things the user should know: best-evidence branch merging, suspected unnormalised
    /// paths, conservative JaCoCo merging, dropped records. One line each.
    pub warnings: Vec<String>,
}
