//! Shard planning, pure: estimated tests in, a duration-balanced partition out.
//!
//! Tests are first gathered into units (a test, a file, a keep-together group; `auto` keeps a
//! file whole unless it alone would unbalance the plan). Units are partitioned by LPT, improved
//! by Karmarkar-Karp differencing and local search under a deterministic work budget (never a
//! clock, so every shard computes the same plan). The result does not depend on input order.
//! Durations are integer microseconds, so the arithmetic is exact and machine independent.
//!
//! [`plan`] partitions onto a given number of shards; [`choose_total`] finds the smallest
//! number of shards that meets a wall-time target.

mod kk;
mod loads;
mod lpt;
mod partition;
mod search;
#[cfg(test)]
mod tests;
mod total;
mod units;

pub use partition::{Plan, PlanRequest, PlanTest, Shard, plan, plan_owned};
pub use total::{TotalChoice, Unreachable, choose_total};
pub use units::Granularity;
