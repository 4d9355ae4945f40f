//! Everything that runs other programs: test collection and `rxdist run`'s workers.
//!
//! This is the only module that spawns processes; the planner and the history never do.
//!
//! | file | concern |
//! |------|---------|
//! | `protocol` | the batch spec rxdist writes and the events the pytest plugin streams back |
//! | `schedule` | pure: which tests each process runs, when (modes, groups, serial, retries) |
//! | `executor` | the run loop: processes, timeouts, crashes, cancellation |
//! | `results` | every test's attempts and the shard report built from them |
//! | `reporter` | the console: one writer, progress bar or one line per test |
//! | `process`, `signals`, `workers` | process groups and signals, Ctrl-C, `-n` |
//! | `coverage` | one coverage.py data file per process, combined into one Cobertura XML |
//! | `collect` | `--collect pytest` for `plan` and `shard` |

mod collect;
pub mod coverage;
pub mod executor;
mod process;
pub mod protocol;
pub mod reporter;
pub mod results;
pub mod schedule;
pub mod signals;
pub mod workers;

pub use collect::{CollectError, collect_pytest};
