//! The on-disk history format.

use super::History;

/// Why a history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Placeholder; the timings work replaces this enum.
    #[error("not implemented")]
    Todo,
}

/// Encodes a history into the bytes of a history file.
pub fn encode(history: &History) -> Result<Vec<u8>, StoreError> {
    let _ = history;
    unimplemented!("owned by the timings work")
}

/// Decodes the bytes of a history file.
pub fn decode(bytes: &[u8]) -> Result<History, StoreError> {
    let _ = bytes;
    unimplemented!("owned by the timings work")
}
