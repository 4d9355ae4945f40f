//! A fast hasher for test ids and file keys.
//!
//! The history is a hash map of up to millions of ids some 60-100 bytes long, and the planner
//! looks up every collected test. The standard library's `SipHash` spends most of a lookup
//! hashing such keys; this hasher folds eight bytes per 64x64→128-bit multiply, which mixes
//! every input bit into both halves of the result. It is not resistant to deliberately
//! colliding keys, which is acceptable here: the ids come from the user's own test suite.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hash map keyed by test ids or file keys.
pub(super) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Odd constants with well-spread bits (from the fractional parts of the golden ratio and pi).
const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;
const FINISHER: u64 = 0x243F_6A88_85A3_08D3;

/// Multiplies as 128 bits and folds the halves together: every input bit reaches every
/// output bit, unlike a plain wrapping multiply whose low bits ignore the high input bits.
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// See the module documentation.
#[derive(Clone, Copy)]
pub(super) struct IdHasher {
    state: u64,
}

impl Default for IdHasher {
    fn default() -> Self {
        IdHasher { state: FINISHER }
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.state = fold(self.state ^ u64::from_le_bytes(word), MULTIPLIER);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // The tail's length goes into the otherwise unused top byte, so "a" and "a\0"
            // differ.
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            word[7] = rest.len() as u8;
            self.state = fold(self.state ^ u64::from_le_bytes(word), MULTIPLIER);
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.state = fold(self.state ^ u64::from(byte), MULTIPLIER);
    }

    fn write_usize(&mut self, value: usize) {
        self.state = fold(self.state ^ value as u64, MULTIPLIER);
    }

    fn finish(&self) -> u64 {
        fold(self.state, FINISHER)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::BuildHasher as _;

    use super::*;

    #[test]
    fn similar_ids_spread_over_buckets() {
        let build = BuildHasherDefault::<IdHasher>::default();
        let ids: Vec<String> = (0..100_000)
            .map(|i| format!("tests/a.py::test_{i}"))
            .collect();
        // Bucket indices come from the low bits: 100k keys into 2^17 buckets should fill most.
        let buckets: HashSet<u64> = ids
            .iter()
            .map(|id| build.hash_one(id) & ((1 << 17) - 1))
            .collect();
        assert!(buckets.len() > 60_000, "{}", buckets.len());
        let tops: HashSet<u64> = ids.iter().map(|id| build.hash_one(id) >> 57).collect();
        assert_eq!(tops.len(), 128);
        assert_ne!(build.hash_one("a"), build.hash_one("a\0"));
        assert_ne!(build.hash_one(""), build.hash_one("\0"));
    }
}
