//! Sets and maps of [`IdKey`]s (and other keyed hashes) that cost about the bytes of their
//! entries: what the rules remember of every record, and the store's indexes, millions of each
//! in a large ledger.
//!
//! A hash table keeps a third to a half of its slots empty (it doubles when seven eighths are
//! used), which for millions of small keys was most of the server's memory. Here the entries
//! live in one sorted vector with a directory of where each range of keys starts (one `u32` per
//! 32 entries), so a lookup searches a few dozen entries; new entries wait in a small hash table
//! that is merged into the vector once it holds a sixteenth as many (each entry is then moved
//! about sixteen times over its life, in bulk).

use super::state::IdKey;
use std::hash::Hash;

/// Keys spread evenly over their range (outputs of keyed hashes), so that ranges of equal width
/// hold about as many. Any key is found whatever its spread; uneven keys are found slower.
pub trait UniformKey: Copy + Ord + Hash {
    /// Where the key falls in its range, scaled to `u64`, in the keys' order.
    fn spot(&self) -> u64;
}

impl UniformKey for IdKey {
    fn spot(&self) -> u64 {
        u64::from_be_bytes(self[..8].try_into().expect("8 bytes"))
    }
}

impl UniformKey for u64 {
    fn spot(&self) -> u64 {
        *self
    }
}

#[derive(Debug, Clone)]
pub struct KeyMap<K, V> {
    sorted: Vec<(K, V)>,
    /// `directory[b]` is the first entry of `sorted` whose key's spot, shifted right by
    /// `shift`, is at least `b`; one more at the end holds `sorted.len()` (a map holds fewer
    /// than 2³² entries: a project's records, or the log's entries).
    directory: Vec<u32>,
    shift: u32,
    recent: hashbrown::HashMap<K, V>,
}

impl<K, V> Default for KeyMap<K, V> {
    fn default() -> Self {
        KeyMap { sorted: Vec::new(), directory: Vec::new(), shift: 64, recent: hashbrown::HashMap::new() }
    }
}

/// Entries per directory range, on average.
const PER_RANGE: usize = 32;

impl<K, V> IntoIterator for KeyMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::iter::Chain<std::vec::IntoIter<(K, V)>, hashbrown::hash_map::IntoIter<K, V>>;
    fn into_iter(self) -> Self::IntoIter {
        self.sorted.into_iter().chain(self.recent)
    }
}

/// Fewest entries the table of recent ones holds before a merge: small maps never merge.
const LEAST_RECENT: usize = 1024;

impl<K: UniformKey, V: Copy> KeyMap<K, V> {
    pub fn len(&self) -> usize {
        self.sorted.len() + self.recent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        match self.position(key) {
            Ok(i) => Some(&self.sorted[i].1),
            Err(_) => self.recent.get(key),
        }
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// Sets the key's value; returns whether the key is new.
    pub fn insert(&mut self, key: K, value: V) -> bool {
        if let Ok(i) = self.position(&key) {
            self.sorted[i].1 = value;
            return false;
        }
        let new = self.recent.insert(key, value).is_none();
        self.merge_when_due();
        new
    }

    /// Adds the key with its value unless it is there already; returns whether it was added.
    pub fn insert_new(&mut self, key: K, value: V) -> bool {
        if self.position(&key).is_ok() {
            return false;
        }
        match self.recent.entry(key) {
            hashbrown::hash_map::Entry::Occupied(_) => false,
            hashbrown::hash_map::Entry::Vacant(slot) => {
                slot.insert(value);
                self.merge_when_due();
                true
            }
        }
    }

    fn merge_when_due(&mut self) {
        if self.recent.len() > (self.sorted.len() / 16).max(LEAST_RECENT) {
            self.merge();
        }
    }

    /// A map of these entries (the last of a key's wins), built at once: sorted in place (in
    /// linear time when they come sorted) and indexed.
    pub fn from_entries(mut entries: Vec<(K, V)>) -> Self {
        entries.sort_by_key(|entry| entry.0);
        entries.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1 = later.1;
            }
            same
        });
        entries.shrink_to_fit();
        let mut map = KeyMap { sorted: entries, ..KeyMap::default() };
        map.index();
        map
    }

    /// Every entry in the order of the keys: the sorted ones merged with the recent ones, which
    /// alone are sorted (a sixteenth of the map at most).
    pub fn for_each_sorted(&self, mut f: impl FnMut(&K, &V)) {
        let mut recent: Vec<(&K, &V)> = self.recent.iter().collect();
        recent.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut recent = recent.into_iter().peekable();
        for (key, value) in &self.sorted {
            while let Some((k, v)) = recent.next_if(|(k, _)| *k < key) {
                f(k, v);
            }
            f(key, value);
        }
        recent.for_each(|(k, v)| f(k, v));
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.sorted.iter().map(|(k, v)| (k, v)).chain(self.recent.iter())
    }

    /// About how many bytes the map holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(K, V)>();
        self.sorted.capacity() * entry + self.directory.capacity() * 4 + self.recent.capacity() * 8 / 7 * (entry + 1)
    }

    /// Where the key is in the sorted entries: searched within its directory range.
    fn position(&self, key: &K) -> Result<usize, usize> {
        let by_key = |entry: &(K, V)| entry.0.cmp(key);
        if self.directory.is_empty() {
            return self.sorted.binary_search_by(by_key);
        }
        let range = key.spot().checked_shr(self.shift).unwrap_or(0) as usize;
        let (low, high) = (self.directory[range] as usize, self.directory[range + 1] as usize);
        self.sorted[low..high].binary_search_by(by_key).map(|i| i + low).map_err(|i| i + low)
    }

    /// Rebuilds the directory over the sorted entries: a power of two of ranges, about
    /// [`PER_RANGE`] entries each.
    fn index(&mut self) {
        let n = self.sorted.len();
        let ranges = (n / PER_RANGE).next_power_of_two();
        self.shift = 64 - ranges.trailing_zeros();
        self.directory.clear();
        self.directory.reserve_exact(ranges + 1);
        let mut at = 0;
        for range in 0..ranges {
            while at < n && ((self.sorted[at].0.spot().checked_shr(self.shift).unwrap_or(0)) as usize) < range {
                at += 1;
            }
            self.directory.push(at as u32);
        }
        self.directory.push(n as u32);
    }

    /// Moves the recent entries into the sorted ones, merging from the back in place.
    fn merge(&mut self) {
        let mut fresh: Vec<(K, V)> = self.recent.drain().collect();
        fresh.sort_unstable_by_key(|entry| entry.0);
        let Some(&filler) = fresh.first() else { return };
        let old = self.sorted.len();
        // Grown by exactly what arrives: a doubled vector would give back the room saved.
        self.sorted.reserve_exact(fresh.len());
        self.sorted.resize(old + fresh.len(), filler);
        let (mut i, mut j) = (old, fresh.len());
        for k in (0..old + fresh.len()).rev() {
            if j == 0 {
                break;
            }
            if i > 0 && self.sorted[i - 1].0 > fresh[j - 1].0 {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = fresh[j - 1];
                j -= 1;
            }
        }
        self.index();
    }
}

impl<K: UniformKey, V: Copy + PartialEq> PartialEq for KeyMap<K, V> {
    /// The same entries, however they are split between sorted and recent.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<K: UniformKey, V: Copy> Extend<(K, V)> for KeyMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        for (key, value) in entries {
            self.insert(key, value);
        }
    }
}

/// A set of keys: a map to nothing.
pub type KeySet = KeyMap<IdKey, ()>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn key(n: u64) -> IdKey {
        super::super::state::id_key(&n.to_string())
    }

    /// Inserted in batches of the given sizes, then every key found with its last value and
    /// nothing else found, as a `HashMap` fed the same would.
    #[test]
    fn finds_what_a_hash_map_would() {
        for sizes in [vec![0], vec![1], vec![63, 1], vec![1025], vec![5000, 3000, 70_000], vec![2000; 20]] {
            let (mut map, mut model) = (KeyMap::<IdKey, u64>::default(), HashMap::new());
            let mut n = 0u64;
            for size in &sizes {
                for _ in 0..*size {
                    // Every third key is set again with a new value, every fifth is offered
                    // again but kept with its first value.
                    let k = if n % 3 == 2 || n % 5 == 4 { n - 1 } else { n };
                    if n % 5 == 4 {
                        let new = !model.contains_key(&key(k));
                        model.entry(key(k)).or_insert(n);
                        assert_eq!(map.insert_new(key(k), n), new, "{sizes:?} at {n}");
                    } else {
                        assert_eq!(map.insert(key(k), n), model.insert(key(k), n).is_none(), "{sizes:?} at {n}");
                    }
                    n += 1;
                }
            }
            assert_eq!(map.len(), model.len(), "{sizes:?}");
            assert!(model.iter().all(|(k, v)| map.get(k) == Some(v)), "{sizes:?}");
            assert!((n..n + 1000).all(|k| !map.contains_key(&key(k))), "{sizes:?}");
            assert!(map.sorted.windows(2).all(|w| w[0].0 < w[1].0), "{sizes:?}: sorted and unique");
            // In key order, however the entries are split between sorted and recent; and built
            // at once from them, the same map.
            let mut expected: Vec<(IdKey, u64)> = model.iter().map(|(k, v)| (*k, *v)).collect();
            expected.sort_unstable();
            let mut walked = Vec::new();
            map.for_each_sorted(|k, v| walked.push((*k, *v)));
            assert_eq!(walked, expected, "{sizes:?}");
            let rebuilt = KeyMap::from_entries(walked);
            assert!(rebuilt == map && rebuilt.len() == map.len(), "{sizes:?}");
        }
    }

    #[test]
    fn keys_that_are_not_uniform_are_found_too() {
        // Not uniform: every key starts with zero bytes, so that all of them share one range.
        let mut map: KeySet = KeyMap::default();
        let skewed = |n: u64| {
            let mut k = [0u8; 16];
            k[8..].copy_from_slice(&n.to_be_bytes());
            k
        };
        for n in 0..20_000 {
            map.insert(skewed(n * 2), ());
        }
        assert!((0..20_000).all(|n| map.contains_key(&skewed(n * 2)) && !map.contains_key(&skewed(n * 2 + 1))));
    }
}
