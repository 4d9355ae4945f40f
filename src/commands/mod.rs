//! One function per subcommand: gather inputs, call the pure modules, write outputs.
//!
//! This is where files are read and written and where warnings are printed; the planner, the
//! history and the JUnit reader below it only transform data.

mod diagnostics;
mod entry;
mod fetch;
mod github;
mod inputs;
mod last_failed;
mod merge;
mod plan;
mod render;
mod run;
mod shard;
mod timings;

pub use entry::main;
