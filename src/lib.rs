//! rxdist: duration-balanced test sharding for CI.
//!
//! # Module map
//!
//! Dependencies point one way, top to bottom:
//!
//! | module | concern | does I/O |
//! |--------|---------|----------|
//! | [`cli`] | clap definitions, nothing else | no |
//! | [`settings`] | CLI + `RXDIST_*` env + `.rxdist.yml` + CI variables, merged and validated | reads the config file |
//! | [`commands`] | one function per subcommand: gathers inputs, calls the pure modules, writes outputs | yes |
//! | [`ci`] | which CI we are on and what shard it says this job is; GitHub job summaries, annotations and outputs as text | reads the environment snapshot it is handed |
//! | [`github`] | the only HTTP code: finding, downloading and checking a timing history uploaded as a GitHub artifact (async inside, a plain function outside) | network |
//! | [`runner`] | subprocesses: test collection, and `rxdist run` (scheduler, executor, pytest plugin, reporter) | spawns processes |
//! | [`plan`] | partitioning tests into shards | no (pure) |
//! | [`timings`] | the timing history: model, recording, estimation, storage format | no, but for [`timings::store`] byte encoding |
//! | [`identity`] | JUnit testcase to runnable test id | no (pure) |
//! | [`junit`] | streaming JUnit XML reading, digesting and writing, and the two-pass streaming merge | no (pure) |
//! | [`coverage`] | Cobertura, LCOV and JaCoCo reports: streaming reading, merging, writing | no (pure) |
//! | [`env`](mod@env) | the registry of environment variables and the one place they are read | reads the environment |
//! | [`atomic`] | writing output files atomically | yes |
//! | [`exit_code`] | the exit-code table | no |

pub mod atomic;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod coverage;
pub mod env;
pub mod error;
pub mod exit_code;
pub mod github;
pub mod identity;
pub mod junit;
pub mod plan;
pub mod runner;
pub mod settings;
pub mod timings;

/// The entry point of the `rxdist` binary: parses arguments, runs the command, and returns the
/// exit code from [`exit_code`].
pub fn main() -> std::process::ExitCode {
    commands::main()
}
