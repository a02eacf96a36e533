//! Hash maps for sans-IO crates: a fixed, fast hasher.
//!
//! `std`'s default `RandomState` draws its keys from the operating system (under WASI it imports
//! `random_get`): a sans-IO crate takes no randomness, and the same input must give the same
//! output everywhere. [`FixedHasher`] is a multiply-rotate hash in the manner of rustc's
//! `FxHasher`: no keys at all, several times faster than `SipHash` on the short strings the
//! actions hash (test names, fingerprints). Keyless means an attacker can choose colliding keys;
//! so could they with `SipHash` under fixed (public) keys, and one report's size bounds the work.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A keyless multiply-rotate hasher (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedHasher {
    hash: u64,
}

const SEED: u64 = 0xf135_7aea_2e62_a9c5;

impl FixedHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FixedHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
        // The length keeps "a\0" and "a" apart.
        self.add(bytes.len() as u64);
    }

    #[inline]
    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves the high bits best mixed; the table indexes by the low ones.
        self.hash.rotate_left(26)
    }
}

/// Builds [`FixedHasher`]s.
pub type FixedState = BuildHasherDefault<FixedHasher>;

/// A `HashMap` with [`FixedState`]; make one with `FixedHashMap::default()`.
pub type FixedHashMap<K, V> = HashMap<K, V, FixedState>;

/// A `HashSet` with [`FixedState`]; make one with `FixedHashSet::default()`.
pub type FixedHashSet<T> = HashSet<T, FixedState>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn the_same_key_hashes_the_same_in_every_map() {
        let (one, two) = (FixedState::default(), FixedState::default());
        assert_eq!(one.hash_one("finding"), two.hash_one("finding"));
        let mut map: FixedHashMap<&str, u32> = FixedHashMap::default();
        map.insert("a", 1);
        assert_eq!(map.get("a"), Some(&1));
    }

    #[test]
    fn near_keys_hash_apart_and_spread_over_the_low_bits() {
        let state = FixedState::default();
        let names: Vec<String> = (0..10_000)
            .map(|index| format!("test_get_{index:04}"))
            .collect();
        let mut hashes: Vec<u64> = names.iter().map(|name| state.hash_one(name)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), names.len(), "no two of 10,000 names collide");
        // A table of 16,384 buckets indexes by the low 14 bits: no bucket holds many.
        let mut buckets = vec![0u32; 1 << 14];
        for hash in &hashes {
            buckets[usize::try_from(hash & ((1 << 14) - 1)).unwrap()] += 1;
        }
        assert!(
            buckets.iter().max().copied().unwrap_or(0) <= 8,
            "{:?}",
            buckets.iter().max()
        );
        assert_ne!(state.hash_one(("a", "")), state.hash_one(("", "a")));
        assert_ne!(state.hash_one("a\0"), state.hash_one("a"));
    }
}
