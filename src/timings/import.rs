//! Importing duration files written by other tools (pytest-split, knapsack).

/// Why a duration file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Placeholder; the timings work replaces this enum.
    #[error("not implemented")]
    Todo,
}

/// Reads pytest-split `.test_durations` or knapsack `knapsack_*_report.json` bytes.
pub fn read_durations_json(bytes: &[u8]) -> Result<Vec<(String, f64)>, ImportError> {
    let _ = bytes;
    unimplemented!("owned by the timings work")
}
