//! Shard planning, pure: estimated tests in, a duration-balanced partition out.
//!
//! Tests are first gathered into units (a test, a file, a keep-together group; `auto` keeps a
//! file whole unless it alone would unbalance the plan). Units are partitioned by LPT, improved
//! by Karmarkar-Karp differencing and local search under a deterministic work budget (never a
//! clock, so every shard computes the same plan). The result does not depend on input order.

mod partition;
mod units;

pub use partition::{Plan, PlanRequest, PlanTest, Shard, plan};
pub use units::Granularity;
