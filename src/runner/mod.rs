//! Everything that runs other programs: for now, test collection.
//!
//! This is the only module that spawns processes; the planner and the history never do.

mod collect;

pub use collect::{CollectError, collect_pytest};
