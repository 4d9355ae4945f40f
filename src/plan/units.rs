//! Building the units the partitioner moves around.

/// How finely tests may be spread over shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Granularity {
    /// Every test may go to any shard.
    Test,
    /// A file's tests always stay together.
    File,
    /// Files stay together unless one alone would unbalance the plan.
    #[default]
    Auto,
}
