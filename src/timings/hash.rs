//! The hash maps the history and the planner key by test ids and file keys.
//!
//! Up to millions of ids, 60 to 100 bytes each, are hashed on every record and plan; the
//! standard library's `SipHash` spends most of a lookup on that. foldhash's fixed-seed hasher is
//! several times faster and, with a fixed seed, keeps runs reproducible. It does not resist
//! deliberately colliding keys, which is fine: the ids come from the user's own test suite.

use std::collections::{HashMap, HashSet};

/// The hasher: foldhash with a fixed seed.
pub type IdHasher = foldhash::fast::FixedState;

/// A hash map keyed by test ids or file keys.
pub type IdMap<K, V> = HashMap<K, V, IdHasher>;

/// A hash set of test ids or file keys.
pub type IdSet<K> = HashSet<K, IdHasher>;
