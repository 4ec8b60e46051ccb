//! A fast hasher for the analysis' own maps: keys are names, titles and
//! vertices of the code being analysed, hashed millions of times on a big
//! codebase, where the standard library's SipHash (built to resist
//! collision attacks on untrusted keys) is a tenth of the run time. This
//! is the multiply-rotate hash rustc uses for its own tables.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
pub type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

/// An odd constant with well-mixed bits (from the golden ratio).
const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            // The tail's length in its top byte: "a" and "a\0" differ.
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            last[7] ^= rest.len() as u8;
            self.add(u64::from_le_bytes(last));
        }
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
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    fn hash(value: impl Hash) -> u64 {
        let mut hasher = FastHasher::default();
        value.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn strings_differing_past_a_word_or_in_length_hash_apart() {
        assert_ne!(hash("keystone::params"), hash("keystone::paramz"));
        assert_ne!(hash("a"), hash("a\0"));
        assert_ne!(hash(("ab", "c")), hash(("a", "bc")));
        assert_eq!(hash("nova::api"), hash(String::from("nova::api")));
    }

    #[test]
    fn a_map_keyed_by_many_names_finds_each() {
        let mut map: FastMap<String, usize> = FastMap::default();
        for at in 0..10_000 {
            map.insert(format!("class{at}::params"), at);
        }
        assert!((0..10_000).all(|at| map[&format!("class{at}::params")] == at));
    }
}
