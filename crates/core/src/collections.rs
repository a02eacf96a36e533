//! Hash maps for sans-IO crates: the standard hasher with fixed keys.
//!
//! `std`'s default `RandomState` draws its keys from the operating system (under WASI it imports
//! `random_get`): a sans-IO crate takes no randomness, and the same input must give the same
//! output everywhere. `DefaultHasher::new()` is the same `SipHash` with fixed keys. Nothing here is
//! exposed to keys an attacker picks in bulk beyond one report, whose size is already bounded.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, DefaultHasher};

/// The hasher: `SipHash` with fixed keys.
pub type FixedState = BuildHasherDefault<DefaultHasher>;

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
}
