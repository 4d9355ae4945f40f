//! The partitioner.

use std::collections::BTreeMap;

use super::Granularity;

/// One test to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTest {
    /// The test id, printed as is.
    pub id: String,
    /// The file the test belongs to (its fixed setup cost is paid once per shard holding it).
    pub file: String,
    /// A keep-together group: tests sharing one always land on the same shard.
    pub group: Option<String>,
    /// Estimated duration in microseconds, excluding the file's setup.
    pub micros: u64,
}

/// Everything the partitioner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRequest {
    /// The tests (any order; duplicates are ignored).
    pub tests: Vec<PlanTest>,
    /// Per-file fixed setup cost in microseconds (absent means 0).
    pub file_setup: BTreeMap<String, u64>,
    /// How finely tests may be spread.
    pub granularity: Granularity,
    /// Number of shards (at least 1).
    pub total: usize,
}

/// One shard of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index.
    pub index: usize,
    /// Test ids, sorted.
    pub tests: Vec<String>,
    /// Predicted duration in microseconds, setup included.
    pub predicted_micros: u64,
}

/// A complete plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Number of shards.
    pub total: usize,
    /// `max(sum / total, largest indivisible unit)` in microseconds.
    pub lower_bound_micros: u64,
    /// The largest shard's predicted duration.
    pub makespan_micros: u64,
    /// Shards in index order.
    pub shards: Vec<Shard>,
}

/// Computes the plan.
pub fn plan(request: &PlanRequest) -> Plan {
    let _ = request;
    unimplemented!("owned by the plan work")
}
