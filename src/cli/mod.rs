//! Command-line definitions (clap derive) and nothing else.
//!
//! These structs are the raw, low-level view of the arguments; [`crate::settings`] validates
//! them and merges them with the configuration file, so the rest of rxdist never sees clap.

mod args;

pub use args::{
    Cli, CollectRunner, Command, DistArg, FetchArgs, FlakyResult, FrameworkArg, GranularityArg,
    MergeArgs, PlanArgs, PlanCommand, PlanFormat, RecordArgs, RetryPolicyArg, RunArgs, RunnerArg,
    ShardArgs, ShardFormat, ShowArgs, ShowFormat, TimingsCommand,
};
