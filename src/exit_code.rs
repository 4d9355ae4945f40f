//! The one table of process exit codes.
//!
//! Every way `rxdist` can end maps to exactly one of these constants, and nothing else in the
//! crate chooses a number. The table is part of the public interface (scripts branch on it), so
//! a code, once given a meaning, keeps it.
//!
//! | code | name | meaning |
//! |-----:|------|---------|
//! | 0 | `SUCCESS` | the command did what was asked |
//! | 1 | `TEST_FAILURES` | tests ran and at least one failed (used by `run`) |
//! | 2 | `USAGE` | bad arguments, environment variables or `.rxdist.yml` |
//! | 3 | `INPUT` | an input could not be read at all: malformed, truncated, binary or UTF-16 XML, bad JSON, a corrupt history |
//! | 4 | `INPUT_PARTIAL` | some inputs were broken; everything readable was still used and written |
//! | 5 | `NO_TESTS` | there was nothing to plan or run, or `run` ran no test |
//! | 6 | `COLLECTION` | test collection (`--collect pytest`, or `run`'s own) failed |
//! | 7 | `IO` | reading or writing a file failed (permissions, disk full, missing file) |
//! | 8 | `TARGET_UNREACHABLE` | `--total auto --target-duration` cannot be met; the plan is still printed |
//! | 9 | `INFRASTRUCTURE` | `run`: the test command could not start, or worker processes kept dying past `--max-worker-restarts` |
//! | 10 | `GLOBAL_TIMEOUT` | `run`: `--global-timeout` was reached; finished results were written |
//! | 11 | `TIMINGS_UNAVAILABLE` | `timings fetch --require-timings`: no usable timings could be fetched from GitHub |
//! | 101 | `INTERNAL` | a bug in rxdist: please report it |
//! | 130 | `INTERRUPTED` | stopped by Ctrl-C (SIGINT) |
//! | 143 | `TERMINATED` | stopped by SIGTERM (a cancelled CI job) |

/// The command did what was asked.
pub const SUCCESS: u8 = 0;
/// Tests ran and at least one failed.
pub const TEST_FAILURES: u8 = 1;
/// Bad arguments, environment variables or configuration file.
pub const USAGE: u8 = 2;
/// An input could not be read at all.
pub const INPUT: u8 = 3;
/// Some inputs were broken; everything readable was still used.
pub const INPUT_PARTIAL: u8 = 4;
/// Nothing to plan or run.
pub const NO_TESTS: u8 = 5;
/// Test collection failed.
pub const COLLECTION: u8 = 6;
/// A file could not be read or written.
pub const IO: u8 = 7;
/// The target duration cannot be reached with any shard count.
pub const TARGET_UNREACHABLE: u8 = 8;
/// The test command could not start, or workers kept dying.
pub const INFRASTRUCTURE: u8 = 9;
/// The global timeout of `run` was reached.
pub const GLOBAL_TIMEOUT: u8 = 10;
/// `timings fetch --require-timings` found no usable timings.
pub const TIMINGS_UNAVAILABLE: u8 = 11;
/// A bug in rxdist.
pub const INTERNAL: u8 = 101;
/// Interrupted by SIGINT.
pub const INTERRUPTED: u8 = 130;
/// Terminated by SIGTERM.
pub const TERMINATED: u8 = 143;
