//! The subject map: a sparse Merkle tree over 256-bit keys, compacted so that a subtree holding
//! one leaf is that leaf (as in the Jellyfish and nervos trees), with the hashes of
//! `docs/transparency.md` ("The subject map"):
//!
//! ```text
//! blind    = HMAC-SHA-256(the ledger's map secret, subject)
//! key      = SHA-256(0x03 || blind[32] || subject)
//! leaf     = SHA-256(0x00 || key[32] || count as u64 big-endian || head[32])
//! node     = SHA-256(0x01 || left[32] || right[32])
//! empty    = 32 zero bytes
//! chain_0  = 32 zero bytes
//! chain_i  = SHA-256(0x02 || chain_(i-1) || sequence_i as u64 big-endian || leaf hash_i)
//! ```
//!
//! A subject's key needs its blind, which only the ledger can compute and which a bundle
//! discloses for the subjects it proves: a proof's siblings are hashes of other subjects' leaves
//! that no one without their blinds can recompute, so they say nothing of which subjects exist
//! or what their entries are.
//!
//! A key's path goes left on a 0 bit, most significant bit first. An inclusion proof is the
//! siblings from the root down to the key's leaf; since a leaf and a node hash differently, a
//! proof cannot stop above or below where the tree holds the key. Keys are never removed, so a
//! position that held a node never holds a leaf again.
//!
//! Like [`super::merkle`], this knows nothing of events or stores: nodes are read through
//! [`MapNodes`], whose reads may fail, and an update returns the nodes it writes.

use super::merkle::Hash;
use sha2::{Digest as _, Sha256};

pub type Key = [u8; 32];

/// The hash of an empty subtree.
pub const EMPTY: Hash = [0; 32];

/// A node as stored, at a depth and a path prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapNode {
    Empty,
    /// The subtree holds one key: its leaf.
    Leaf {
        key: Key,
        hash: Hash,
    },
    /// The subtree holds two keys or more.
    Node {
        hash: Hash,
    },
}

impl MapNode {
    pub fn hash(&self) -> Hash {
        match self {
            MapNode::Empty => EMPTY,
            MapNode::Leaf { hash, .. } | MapNode::Node { hash } => *hash,
        }
    }
}

/// What an update writes: each node at its position.
pub type Writes = Vec<(Position, MapNode)>;

/// Where a node is: its depth (0 is the root) and the first `depth` bits of the keys below it
/// (the other bits zero).
pub type Position = (u16, Key);

/// How the map's nodes are read.
pub trait MapNodes {
    type Error;
    fn map_node(&self, at: &Position) -> Result<MapNode, Self::Error>;
}

/// The key of a subject, from its name and its blind.
pub fn key_of(subject: &str, blind: &Hash) -> Key {
    tagged(0x03, &[blind, subject.as_bytes()])
}

/// The ledger's secret that blinds subjects: derived from the ledger's signing key, so that it
/// is kept (and lost) with it, and never written anywhere else.
#[derive(Clone)]
pub struct Blinding {
    secret: [u8; 32],
}

impl std::fmt::Debug for Blinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Blinding(…)")
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Hash {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl Blinding {
    /// The map secret of a ledger whose signing key has this seed.
    pub fn of_seed(seed: &[u8; 32]) -> Blinding {
        Blinding { secret: hmac_sha256(seed, b"lineage subject map blinding") }
    }

    pub fn blind(&self, subject: &str) -> Hash {
        hmac_sha256(&self.secret, subject.as_bytes())
    }

    /// A subject's key, blinded.
    pub fn key(&self, subject: &str) -> Key {
        key_of(subject, &self.blind(subject))
    }

    /// Names the secret without disclosing it: a stored map computed with another secret (or
    /// before subjects were blinded) is computed again.
    pub fn keying(&self) -> Hash {
        tagged(0x05, &[&self.secret])
    }
}

/// SHA-256 of a tag byte and the parts after it: the three hashes of the map differ by tag.
fn tagged(tag: u8, parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    h.update([tag]);
    parts.iter().for_each(|part| h.update(part));
    h.finalize().into()
}

pub fn leaf_hash(key: &Key, count: u64, head: &Hash) -> Hash {
    tagged(0x00, &[key, &count.to_be_bytes(), head])
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    tagged(0x01, &[left, right])
}

/// The head of a subject's chain after the entry at `sequence`, whose leaf hash in the log's
/// tree is `leaf` (the chain binds the entries themselves, not only their places).
pub fn chain(head: &Hash, sequence: u64, leaf: &Hash) -> Hash {
    tagged(0x02, &[head, &sequence.to_be_bytes(), leaf])
}

/// The head of a chain of these entries: (sequence, leaf hash) in ledger order.
pub fn chain_of(entries: &[(u64, Hash)]) -> Hash {
    entries.iter().fold(EMPTY, |head, (s, leaf)| chain(&head, *s, leaf))
}

fn bit(key: &Key, depth: u16) -> bool {
    key[usize::from(depth / 8)] >> (7 - depth % 8) & 1 == 1
}

fn child(at: &Position, right: bool) -> Position {
    let (depth, mut prefix) = *at;
    if right {
        prefix[usize::from(depth / 8)] |= 1 << (7 - depth % 8);
    }
    (depth + 1, prefix)
}

/// Sets leaves (`key`, leaf hash), each key once, sorted by key. Returns the new root and the
/// nodes to write; it reads only nodes as they were before.
pub fn update<N: MapNodes>(nodes: &N, leaves: &[(Key, Hash)]) -> Result<(Hash, Writes), N::Error> {
    let mut writes = Vec::new();
    if leaves.is_empty() {
        return Ok((nodes.map_node(&(0, EMPTY))?.hash(), writes));
    }
    let root = update_at(nodes, &(0, EMPTY), leaves, &mut writes)?;
    Ok((root, writes))
}

fn update_at<N: MapNodes>(
    nodes: &N,
    at: &Position,
    leaves: &[(Key, Hash)],
    writes: &mut Writes,
) -> Result<Hash, N::Error> {
    let existing = nodes.map_node(at)?;
    let mut merged;
    let mut leaves = leaves;
    // A leaf already here moves down with the new ones, unless one of them replaces it.
    if let MapNode::Leaf { key, hash } = existing {
        if !leaves.iter().any(|(k, _)| *k == key) {
            merged = leaves.to_vec();
            merged.push((key, hash));
            merged.sort_by_key(|l| l.0);
            leaves = &merged;
        }
    }
    if leaves.len() == 1 && !matches!(existing, MapNode::Node { .. }) {
        let (key, hash) = leaves[0];
        writes.push((*at, MapNode::Leaf { key, hash }));
        return Ok(hash);
    }
    let split = leaves.partition_point(|(k, _)| !bit(k, at.0));
    let (left, right) = leaves.split_at(split);
    let mut side = |right_side: bool, part: &[(Key, Hash)]| -> Result<Hash, N::Error> {
        let position = child(at, right_side);
        if part.is_empty() {
            Ok(nodes.map_node(&position)?.hash())
        } else {
            update_at(nodes, &position, part, writes)
        }
    };
    let l = side(false, left)?;
    let r = side(true, right)?;
    let hash = node_hash(&l, &r);
    writes.push((*at, MapNode::Node { hash }));
    Ok(hash)
}

/// The root of the map holding exactly these leaves (sorted by key, each key once), from the
/// definition: what a monitor holding the whole log computes to check a map checkpoint.
pub fn root_of(leaves: &[(Key, Hash)]) -> Hash {
    subtree(leaves, 0).hash()
}

/// The depth at which the map is kept in buckets: the nodes above it are few (2^16 at this
/// depth) and kept whole ([`Upper`]); below it each bucket's subtree is computed from its
/// subjects when needed. Storage only: the root does not depend on it.
pub const BUCKET_DEPTH: u16 = 16;

/// Whether a key lies under a position (its first `depth` bits are the prefix's).
pub fn under(key: &Key, (depth, prefix): &Position) -> bool {
    (0..*depth).all(|d| bit(key, d) == bit(prefix, d))
}

/// The bucket of a key: its first [`BUCKET_DEPTH`] bits.
pub fn bucket_of(key: &Key) -> u16 {
    u16::from_be_bytes([key[0], key[1]])
}

/// The subtree at depth `depth` holding exactly these leaves (sorted by key, all under one
/// position of that depth).
pub fn subtree(leaves: &[(Key, Hash)], depth: u16) -> MapNode {
    fn at(leaves: &[(Key, Hash)], depth: u16) -> Hash {
        match leaves {
            [] => EMPTY,
            [(_, hash)] => *hash,
            _ => {
                let split = leaves.partition_point(|(k, _)| !bit(k, depth));
                node_hash(&at(&leaves[..split], depth + 1), &at(&leaves[split..], depth + 1))
            }
        }
    }
    match leaves {
        [] => MapNode::Empty,
        [(key, hash)] => MapNode::Leaf { key: *key, hash: *hash },
        _ => MapNode::Node { hash: at(leaves, depth) },
    }
}

/// A node from its two halves: a subtree holding one key is that key's leaf.
fn combine(left: &MapNode, right: &MapNode) -> MapNode {
    match (left, right) {
        (MapNode::Empty, other) | (other, MapNode::Empty) if !matches!(other, MapNode::Node { .. }) => *other,
        _ => MapNode::Node { hash: node_hash(&left.hash(), &right.hash()) },
    }
}

/// The map's nodes above [`BUCKET_DEPTH`], each bucket's subtree at the bottom.
pub struct Upper {
    /// `levels[d]` holds the 2^d nodes of depth `d`.
    levels: Vec<Vec<MapNode>>,
}

impl Default for Upper {
    fn default() -> Self {
        Upper { levels: (0..=BUCKET_DEPTH).map(|d| vec![MapNode::Empty; 1 << d]).collect() }
    }
}

impl Upper {
    pub fn bucket(&self, bucket: u16) -> MapNode {
        self.levels[usize::from(BUCKET_DEPTH)][usize::from(bucket)]
    }

    /// Sets buckets' subtrees and hashes again the nodes above them.
    pub fn set(&mut self, buckets: &[(u16, MapNode)]) {
        let mut touched: Vec<usize> = Vec::with_capacity(buckets.len());
        for (bucket, node) in buckets {
            self.levels[usize::from(BUCKET_DEPTH)][usize::from(*bucket)] = *node;
            touched.push(usize::from(*bucket));
        }
        for depth in (0..usize::from(BUCKET_DEPTH)).rev() {
            touched = touched.iter().map(|i| i / 2).collect();
            touched.dedup();
            for i in &touched {
                let below = &self.levels[depth + 1];
                let node = combine(&below[2 * i], &below[2 * i + 1]);
                self.levels[depth][*i] = node;
            }
        }
    }

    pub fn root(&self) -> Hash {
        self.levels[0][0].hash()
    }

    /// The node at a position of depth [`BUCKET_DEPTH`] or less.
    pub fn node(&self, (depth, prefix): &Position) -> Option<MapNode> {
        if *depth > BUCKET_DEPTH {
            return None;
        }
        let bits = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        let index = if *depth == 0 { 0 } else { bits >> (32 - depth) };
        Some(self.levels[usize::from(*depth)][index as usize])
    }
}

/// What the map holds at a key: its leaf with the siblings from the root down, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found { leaf: Hash, siblings: Vec<Hash> },
    Absent,
}

pub fn prove<N: MapNodes>(nodes: &N, key: &Key) -> Result<Lookup, N::Error> {
    let mut at: Position = (0, EMPTY);
    let mut siblings = Vec::new();
    loop {
        match nodes.map_node(&at)? {
            MapNode::Empty => return Ok(Lookup::Absent),
            MapNode::Leaf { key: held, hash } => {
                return Ok(if held == *key { Lookup::Found { leaf: hash, siblings } } else { Lookup::Absent });
            }
            MapNode::Node { .. } => {
                if at.0 == 256 {
                    return Ok(Lookup::Absent);
                }
                let right = bit(key, at.0);
                siblings.push(nodes.map_node(&child(&at, !right))?.hash());
                at = child(&at, right);
            }
        }
    }
}

/// The root a leaf and its siblings (root first) lead to.
pub fn root_from(key: &Key, leaf: &Hash, siblings: &[Hash]) -> Option<Hash> {
    if siblings.len() > 256 {
        return None;
    }
    let mut hash = *leaf;
    for (depth, sibling) in siblings.iter().enumerate().rev() {
        hash = if bit(key, depth as u16) { node_hash(sibling, &hash) } else { node_hash(&hash, sibling) };
    }
    Some(hash)
}

/// One step of a proof of several keys at once: the pruned tree in pre-order, left before right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A node holding two keys or more: its left subtree follows, then its right.
    Node,
    /// The next key's leaf (keys in ascending order).
    Leaf,
    /// A subtree holding none of the keys, by its hash.
    Hash(Hash),
}

/// The steps that prove every key of `keys` (ascending, each once) in the map, or the first key
/// the map does not hold.
pub fn prove_all<N: MapNodes>(nodes: &N, keys: &[Key]) -> Result<Result<Vec<Step>, Key>, N::Error> {
    let mut steps = Vec::new();
    let outcome = prove_at(nodes, &(0, EMPTY), keys, &mut steps)?;
    Ok(outcome.map(|()| steps))
}

fn prove_at<N: MapNodes>(
    nodes: &N,
    at: &Position,
    keys: &[Key],
    steps: &mut Vec<Step>,
) -> Result<Result<(), Key>, N::Error> {
    let node = nodes.map_node(at)?;
    let Some(first) = keys.first() else {
        steps.push(Step::Hash(node.hash()));
        return Ok(Ok(()));
    };
    match node {
        MapNode::Empty => Ok(Err(*first)),
        MapNode::Leaf { key, .. } => match keys.iter().find(|k| **k != key) {
            Some(missing) => Ok(Err(*missing)),
            None => {
                steps.push(Step::Leaf);
                Ok(Ok(()))
            }
        },
        MapNode::Node { .. } => {
            steps.push(Step::Node);
            let split = keys.partition_point(|k| !bit(k, at.0));
            if let Err(missing) = prove_at(nodes, &child(at, false), &keys[..split], steps)? {
                return Ok(Err(missing));
            }
            prove_at(nodes, &child(at, true), &keys[split..], steps)
        }
    }
}

/// The root that `steps` lead to with these leaves (keys ascending, each once), or `None` when
/// the steps are not a proof of exactly these keys, each on its own path.
pub fn root_from_all(leaves: &[(Key, Hash)], steps: &[Step]) -> Option<Hash> {
    let mut at = 0;
    let mut next = 0;
    let root = root_at(leaves, steps, &mut at, &mut next, (0, EMPTY))?;
    (at == steps.len() && next == leaves.len()).then_some(root)
}

fn root_at(
    leaves: &[(Key, Hash)],
    steps: &[Step],
    at: &mut usize,
    next: &mut usize,
    position: Position,
) -> Option<Hash> {
    let step = *steps.get(*at)?;
    *at += 1;
    match step {
        Step::Hash(hash) => Some(hash),
        Step::Leaf => {
            let (key, leaf) = leaves.get(*next)?;
            *next += 1;
            let (depth, prefix) = position;
            // The leaf sits on its key's own path.
            (0..depth).all(|d| bit(key, d) == bit(&prefix, d)).then_some(*leaf)
        }
        Step::Node if position.0 < 256 => {
            let left = root_at(leaves, steps, at, next, child(&position, false))?;
            let right = root_at(leaves, steps, at, next, child(&position, true))?;
            Some(node_hash(&left, &right))
        }
        Step::Node => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A key in these tests, whose blinds do not matter.
    fn key_of(subject: &str) -> Key {
        super::key_of(subject, &EMPTY)
    }

    #[derive(Default)]
    struct Memory(HashMap<Position, MapNode>);

    impl MapNodes for Memory {
        type Error = std::convert::Infallible;
        fn map_node(&self, at: &Position) -> Result<MapNode, Self::Error> {
            Ok(self.0.get(at).copied().unwrap_or(MapNode::Empty))
        }
    }

    fn set(map: &mut Memory, leaves: &mut [(Key, Hash)]) -> Hash {
        leaves.sort_by_key(|l| l.0);
        let (root, writes) = update(map, leaves).unwrap();
        map.0.extend(writes);
        root
    }

    #[test]
    fn updates_in_batches_agree_with_the_definition_and_prove_every_key() {
        let mut map = Memory::default();
        let mut all: HashMap<Key, Hash> = HashMap::new();
        for round in 0..6u64 {
            // New keys and changed ones, one batch per round.
            let mut batch: Vec<(Key, Hash)> = (0..(round * 7 + 1))
                .map(|i| {
                    let key = key_of(&format!("subject-{}", (i * 3 + round) % 20));
                    (key, leaf_hash(&key, round + i, &chain_of(&[(round, [1; 32]), (i, [2; 32])])))
                })
                .collect::<HashMap<_, _>>()
                .into_iter()
                .collect();
            let root = set(&mut map, &mut batch);
            all.extend(batch);
            let mut sorted: Vec<(Key, Hash)> = all.iter().map(|(k, h)| (*k, *h)).collect();
            sorted.sort_by_key(|l| l.0);
            assert_eq!(root, root_of(&sorted), "round {round}");
            for (key, leaf) in &sorted {
                let Lookup::Found { leaf: found, siblings } = prove(&map, key).unwrap() else { panic!("absent") };
                assert_eq!(found, *leaf);
                assert_eq!(root_from(key, leaf, &siblings), Some(root));
                // A proof cut short or made longer leads elsewhere.
                if let Some((_, shorter)) = siblings.split_last() {
                    assert_ne!(root_from(key, leaf, shorter), Some(root));
                }
                let mut longer = siblings.clone();
                longer.push(EMPTY);
                assert_ne!(root_from(key, leaf, &longer), Some(root));
            }
            assert_eq!(prove(&map, &key_of("never")).unwrap(), Lookup::Absent);
            // All keys at once, and every subset of a few: the same root.
            let keys: Vec<Key> = sorted.iter().map(|(k, _)| *k).collect();
            let steps = prove_all(&map, &keys).unwrap().unwrap();
            assert_eq!(root_from_all(&sorted, &steps), Some(root));
            for skip in 0..sorted.len() {
                let some: Vec<(Key, Hash)> =
                    sorted.iter().enumerate().filter(|(i, _)| i % 3 != skip % 3).map(|(_, l)| *l).collect();
                let keys: Vec<Key> = some.iter().map(|(k, _)| *k).collect();
                let steps = prove_all(&map, &keys).unwrap().unwrap();
                assert_eq!(root_from_all(&some, &steps), Some(root));
                if let Some((_, fewer)) = some.split_last() {
                    assert_eq!(root_from_all(fewer, &steps), None, "a key left out of the leaves");
                }
                if !some.is_empty() {
                    let changed: Vec<(Key, Hash)> = some.iter().map(|(k, _)| (*k, EMPTY)).collect();
                    assert_ne!(root_from_all(&changed, &steps), Some(root));
                }
            }
            let mut with_absent = keys.clone();
            with_absent.push(key_of("never"));
            with_absent.sort();
            assert_eq!(prove_all(&map, &with_absent).unwrap(), Err(key_of("never")));
        }
    }

    #[test]
    fn buckets_under_the_upper_nodes_give_the_same_root_and_nodes() {
        let mut all: Vec<(Key, Hash)> = (0..300u32)
            .map(|i| {
                let key = key_of(&format!("s{i}"));
                (key, leaf_hash(&key, 1, &chain_of(&[(u64::from(i), [3; 32])])))
            })
            .collect();
        // Two keys in one bucket and deeper: they share the first 16 bits.
        let mut twin = all[0].0;
        twin[31] ^= 1;
        all.push((twin, leaf_hash(&twin, 2, &EMPTY)));
        all.sort_by_key(|l| l.0);
        let mut upper = Upper::default();
        assert_eq!(upper.root(), EMPTY);
        let mut buckets: std::collections::BTreeMap<u16, Vec<(Key, Hash)>> = Default::default();
        for (key, leaf) in &all {
            buckets.entry(bucket_of(key)).or_default().push((*key, *leaf));
        }
        // In two batches, as two revisions would.
        let (first, second): (Vec<_>, Vec<_>) = buckets.iter().partition(|(b, _)| **b % 2 == 0);
        for half in [first, second] {
            let set: Vec<(u16, MapNode)> = half.iter().map(|(b, l)| (**b, subtree(l, BUCKET_DEPTH))).collect();
            upper.set(&set);
        }
        assert_eq!(upper.root(), root_of(&all));
        let mut map = Memory::default();
        let (_, writes) = update(&map, &all).unwrap();
        map.0.extend(writes);
        // Along each key's path, down to its leaf or the buckets (a proof reads no further).
        for key in all.iter().map(|(k, _)| k) {
            for depth in 0..=BUCKET_DEPTH {
                let mut prefix = *key;
                for d in depth..256 {
                    prefix[usize::from(d / 8)] &= !(1 << (7 - d % 8));
                }
                let at = (depth, prefix);
                let stored = map.map_node(&at).unwrap();
                assert_eq!(upper.node(&at), Some(stored), "{at:?}");
                if matches!(stored, MapNode::Leaf { .. }) {
                    break;
                }
            }
        }
    }

    #[test]
    fn keys_sharing_a_long_prefix_split_where_they_differ() {
        let mut map = Memory::default();
        let a = [0u8; 32];
        let mut b = [0u8; 32];
        b[31] = 1;
        let mut leaves = vec![(a, leaf_hash(&a, 1, &EMPTY)), (b, leaf_hash(&b, 2, &EMPTY))];
        let root = set(&mut map, &mut leaves);
        assert_eq!(root, root_of(&leaves));
        let Lookup::Found { siblings, .. } = prove(&map, &b).unwrap() else { panic!("absent") };
        assert_eq!(siblings.len(), 256);
        assert_eq!(root_from(&b, &leaves[1].1, &siblings), Some(root));
    }
}
