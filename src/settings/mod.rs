//! Validated settings: flags and `RXDIST_*` variables (already merged by clap), the CI's own
//! parallelism variables, `.rxdist.yml`, and defaults, in that order of precedence.
//!
//! Commands receive these plain structs and never look at clap types, the configuration file
//! or the environment themselves.

mod fetch;
mod file;
mod merge;
mod resolve;
mod run;

pub use fetch::{
    DEFAULT_API_URL, DEFAULT_ARTIFACT, DEFAULT_MAX_BYTES, FetchSettings, resolve_fetch,
};
pub use file::{ConfigFile, FileError, GroupConfig};
pub use merge::{MergeSettings, resolve_merge};
pub use resolve::{
    KeepTogether, PlanSettings, RecordSettings, SettingsError, ShardSettings, ShowSettings,
    TestSource, Total, resolve_plan, resolve_record, resolve_shard, resolve_show,
};
pub use run::{DEFAULT_COV_OUT, DEFAULT_JUNIT_OUT, RunSettings, resolve_run, run_args_from_shard};
