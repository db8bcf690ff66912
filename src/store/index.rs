//! The indexes a store keeps of its entries — event id → sequence, (project, asset) → the
//! sequences naming the asset, project → the sequence of each version — held in memory and
//! rebuilt from what each entry is [`Found`] by. One implementation serves the sled store and
//! the memory store, so that both answer every lookup alike.

use super::{Commit, StoreError};
use crate::domain::compact::KeyMap;
use std::collections::HashMap;
use std::hash::BuildHasher as _;

/// What one entry is found by: its event id, its stream and the assets it names, each once.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct Found {
    pub event_id: String,
    pub project: String,
    pub assets: Vec<String>,
}

/// What each entry of a commit is found by, in order. Its mentions must name entries of the
/// commit (whose first sequence is `first`) in their own project; an asset named twice by one
/// entry is found once.
pub fn found_in(commit: &Commit, first: u64) -> Result<Vec<Found>, StoreError> {
    let entries = &commit.entries;
    let mut assets: HashMap<u64, Vec<String>> = HashMap::new();
    // Every (sequence, asset) once: a set, so that the cost is linear in the mentions.
    let mut seen: std::collections::HashSet<(u64, &str)> = std::collections::HashSet::new();
    for (project, asset, sequence) in &commit.mentions {
        let entry = sequence.checked_sub(first).and_then(|i| entries.get(i as usize));
        if entry.is_none_or(|(e, _)| e.project != *project) {
            return Err(StoreError::Malformed(format!(
                "a mention of {asset} names no entry of {project} in the commit"
            )));
        }
        if seen.insert((*sequence, asset.as_str())) {
            assets.entry(*sequence).or_default().push(asset.clone());
        }
    }
    Ok(entries
        .iter()
        .map(|(entry, id)| Found {
            event_id: id.to_string(),
            project: entry.project.clone(),
            assets: assets.remove(&entry.sequence).unwrap_or_default(),
        })
        .collect())
}

/// Sequences by a 64-bit keyed hash of what finds them: small enough to hold every entry in
/// memory. A hash may stand for more than one key, so lookups confirm each candidate.
#[derive(Default)]
struct HashIndex {
    /// The first sequence of each hash, in 16 bytes an entry (a hash table would leave a third
    /// to a half of its slots empty).
    first: KeyMap<u64, u64>,
    // Keyed 64-bit hashes already: hashbrown's foldhash places them at a fraction of SipHash's
    // cost.
    more: hashbrown::HashMap<u64, Postings>,
}

/// The later sequences of one hash, ascending, each written as its distance from the one before
/// in LEB128: an asset named by many entries costs a byte or two for each, not eight.
#[derive(Default)]
struct Postings {
    bytes: Vec<u8>,
    last: u64,
}

impl Postings {
    fn push(&mut self, sequence: u64) {
        let mut delta = sequence.saturating_sub(self.last);
        self.last = sequence;
        loop {
            let low = (delta & 0x7f) as u8;
            delta >>= 7;
            if delta == 0 {
                self.bytes.push(low);
                return;
            }
            self.bytes.push(low | 0x80);
        }
    }

    /// The sequences, from the one before the first (`start`).
    fn iter(&self, start: u64) -> impl Iterator<Item = u64> + '_ {
        let mut at = 0;
        let mut current = start;
        std::iter::from_fn(move || {
            let (mut delta, mut shift) = (0u64, 0);
            loop {
                let byte = *self.bytes.get(at)?;
                at += 1;
                delta |= u64::from(byte & 0x7f) << shift;
                shift += 7;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            current += delta;
            Some(current)
        })
    }
}

impl HashIndex {
    /// The index of these (key, sequence) pairs, given in log order, built at once: sorted by
    /// key (in order of sequence within a key), the first of each key into the sorted map and the
    /// later ones into its postings. An index of millions is built in a fraction of the time
    /// adding them one by one takes.
    fn of_pairs(mut pairs: Vec<(u64, u64)>) -> HashIndex {
        // By key, then sequence: each pair once, so an unstable sort orders them alike.
        pairs.sort_unstable();
        let mut first: Vec<(u64, u64)> = Vec::with_capacity(pairs.len());
        let mut more: hashbrown::HashMap<u64, Postings> = hashbrown::HashMap::new();
        for (key, sequence) in pairs {
            match first.last() {
                Some(&(last, earliest)) if last == key => {
                    more.entry(key).or_insert_with(|| Postings { bytes: Vec::new(), last: earliest }).push(sequence)
                }
                _ => first.push((key, sequence)),
            }
        }
        HashIndex { first: KeyMap::from_entries(first), more }
    }

    fn add(&mut self, key: u64, sequence: u64) {
        if !self.first.insert_new(key, sequence) {
            let first = self.first.get(&key).copied().unwrap_or_default();
            self.more.entry(key).or_insert_with(|| Postings { bytes: Vec::new(), last: first }).push(sequence);
        }
    }

    /// In ascending order: sequences are added in log order.
    fn candidates(&self, key: u64) -> impl Iterator<Item = u64> + '_ {
        let first = self.first.get(&key).copied();
        let more = self.more.get(&key).zip(first).into_iter().flat_map(|(postings, first)| postings.iter(first));
        first.into_iter().chain(more)
    }
}

#[derive(Default)]
pub struct Indexes {
    hasher: std::collections::hash_map::RandomState,
    events: HashIndex,
    assets: HashIndex,
    /// Per project, the sequence of each version (version `v` at `v - 1`): entries are added in
    /// log order, in which a project's versions follow one another.
    streams: HashMap<String, Vec<u64>>,
}

impl Indexes {
    fn event_key(&self, event_id: &str) -> u64 {
        self.hasher.hash_one(event_id)
    }

    fn asset_key(&self, project: &str, asset: &str) -> u64 {
        self.hasher.hash_one((project, asset))
    }

    /// Adds the next entry of the log.
    pub fn add(&mut self, sequence: u64, found: &Found) {
        self.events.add(self.event_key(&found.event_id), sequence);
        // Records written before assets were kept unique may name one twice: each key is added
        // once, found through a set (linear in the entry's assets, however many).
        let mut added = hashbrown::HashSet::with_capacity(found.assets.len());
        for asset in &found.assets {
            let key = self.asset_key(&found.project, asset);
            if added.insert(key) {
                self.assets.add(key, sequence);
            }
        }
        match self.streams.get_mut(found.project.as_str()) {
            Some(sequences) => sequences.push(sequence),
            None => {
                self.streams.insert(found.project.clone(), vec![sequence]);
            }
        }
    }

    /// Sequences of a project's entries with `version >= from_version`, in order, at most `limit`.
    pub fn project_sequences(&self, project: &str, from_version: u64, limit: usize) -> Vec<u64> {
        let Some(sequences) = self.streams.get(project) else { return Vec::new() };
        let from = usize::try_from(from_version.saturating_sub(1)).unwrap_or(usize::MAX);
        sequences.get(from..).unwrap_or_default().iter().take(limit).copied().collect()
    }

    fn event_candidates(&self, event_id: &str) -> Vec<u64> {
        self.events.candidates(self.event_key(event_id)).collect()
    }

    fn asset_candidates(&self, project: &str, asset: &str) -> Vec<u64> {
        self.assets.candidates(self.asset_key(project, asset)).collect()
    }
}

/// The indexes of a whole log, given each entry in log order, built at once (see
/// [`HashIndex::of_pairs`]) rather than entry by entry, as a store does when it opens: 16 bytes
/// held per key until then.
#[derive(Default)]
pub struct IndexBuilder {
    indexes: Indexes,
    events: Vec<(u64, u64)>,
    assets: Vec<(u64, u64)>,
    added: hashbrown::HashSet<u64>,
}

impl IndexBuilder {
    pub fn push(&mut self, sequence: u64, found: &Found) {
        self.events.push((self.indexes.event_key(&found.event_id), sequence));
        self.added.clear();
        for asset in &found.assets {
            let key = self.indexes.asset_key(&found.project, asset);
            if self.added.insert(key) {
                self.assets.push((key, sequence));
            }
        }
        match self.indexes.streams.get_mut(found.project.as_str()) {
            Some(sequences) => sequences.push(sequence),
            None => {
                self.indexes.streams.insert(found.project.clone(), vec![sequence]);
            }
        }
    }

    /// The indexes, the event ids' and the assets' built side by side.
    pub fn finish(self) -> Indexes {
        let mut indexes = self.indexes;
        let (events, assets) = (self.events, self.assets);
        let (events, assets) = std::thread::scope(|scope| {
            let events = scope.spawn(move || HashIndex::of_pairs(events));
            let assets = HashIndex::of_pairs(assets);
            (events.join().expect("building an index does not panic"), assets)
        });
        indexes.events = events;
        indexes.assets = assets;
        indexes
    }
}

/// The indexes behind their lock, and the lookups that confirm each candidate against what the
/// store says the entry at that sequence is found by.
#[derive(Default)]
pub struct SharedIndexes(std::sync::RwLock<Indexes>);

impl SharedIndexes {
    pub fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Indexes>, StoreError> {
        self.0.read().map_err(|_| StoreError::Malformed("index lock poisoned".into()))
    }

    pub fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, Indexes>, StoreError> {
        self.0.write().map_err(|_| StoreError::Malformed("index lock poisoned".into()))
    }

    /// The sequence of the entry with this event id. The lock is not held while confirming.
    pub fn sequence_of_event(
        &self,
        event_id: &str,
        found: impl Fn(u64) -> Result<Option<Found>, StoreError>,
    ) -> Result<Option<u64>, StoreError> {
        let candidates = self.read()?.event_candidates(event_id);
        for sequence in candidates {
            if found(sequence)?.is_some_and(|f| f.event_id == event_id) {
                return Ok(Some(sequence));
            }
        }
        Ok(None)
    }

    /// Sequences of the entries of `project` that name `asset`, in order, each once.
    pub fn asset_sequences(
        &self,
        project: &str,
        asset: &str,
        found: impl Fn(u64) -> Result<Option<Found>, StoreError>,
    ) -> Result<Vec<u64>, StoreError> {
        let candidates = self.read()?.asset_candidates(project, asset);
        let mut out = Vec::with_capacity(candidates.len());
        for sequence in candidates {
            if found(sequence)?.is_some_and(|f| f.project == project && f.assets.iter().any(|a| a == asset)) {
                out.push(sequence);
            }
        }
        Ok(out)
    }

    pub fn project_sequences(&self, project: &str, from_version: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        Ok(self.read()?.project_sequences(project, from_version, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postings_keep_every_sequence_in_a_few_bytes_each() {
        let mut index = HashIndex::default();
        let sequences = [3u64, 4, 130, 131, 20_000, 1 << 40, (1 << 40) + 1];
        for s in sequences {
            index.add(11, s);
        }
        assert_eq!(index.candidates(11).collect::<Vec<_>>(), sequences);
        assert!(index.more[&11].bytes.len() <= 16, "{} bytes", index.more[&11].bytes.len());
    }

    #[test]
    fn a_hash_shared_by_several_keys_keeps_every_sequence_in_order() {
        let mut index = HashIndex::default();
        index.add(7, 1);
        index.add(9, 2);
        index.add(7, 5);
        index.add(7, 6);
        assert_eq!(index.candidates(7).collect::<Vec<_>>(), [1, 5, 6]);
        assert_eq!(index.candidates(9).collect::<Vec<_>>(), [2]);
        assert_eq!(index.candidates(8).count(), 0);
    }
}
