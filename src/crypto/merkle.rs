//! RFC 9162 Merkle tree: hashing, an incremental frontier, proofs and their verification.
//!
//! The tree is kept as its *complete subtrees*: node `(level, index)` is the hash of leaves
//! `index·2^level .. (index+1)·2^level`, stored once all its leaves exist. Any other subtree the
//! proofs need is combined from those, so nothing is ever recomputed over the whole log.

use sha2::{Digest as _, Sha256};

pub type Hash = [u8; 32];

/// A stored node: `(level, index)`.
pub type NodeId = (u8, u64);

pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = leaf_hasher();
    h.update(leaf);
    h.finalize().into()
}

/// SHA-256 already fed the leaf prefix (0x00): for a leaf hashed part by part.
pub fn leaf_hasher() -> Sha256 {
    let mut h = Sha256::new();
    h.update([0u8]);
    h
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The hash of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The right edge of the tree: the roots of its complete subtrees, largest first. Appending a
/// leaf yields the nodes that became complete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// `(level, hash)` of each complete subtree on the right edge, from the left.
    roots: Vec<(u8, Hash)>,
}

impl Frontier {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds a leaf; returns every node that became complete, the leaf first.
    pub fn push(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let index = self.size;
        let mut created = vec![((0u8, index), leaf)];
        let mut level = 0u8;
        let mut hash = leaf;
        let mut position = index;
        while let Some(&(top_level, top)) = self.roots.last() {
            if top_level != level {
                break;
            }
            self.roots.pop();
            hash = node_hash(&top, &hash);
            level += 1;
            position /= 2;
            created.push(((level, position), hash));
        }
        self.roots.push((level, hash));
        self.size += 1;
        created
    }

    /// The root of the tree so far (RFC 9162 MTH).
    pub fn root(&self) -> Hash {
        let mut iter = self.roots.iter().rev();
        match iter.next() {
            None => empty_root(),
            Some(&(_, last)) => iter.fold(last, |acc, (_, left)| node_hash(left, &acc)),
        }
    }

    /// Rebuilds the frontier of a tree of `size` leaves from its stored nodes.
    pub fn from_nodes(size: u64, node: impl Fn(NodeId) -> Option<Hash>) -> Option<Frontier> {
        let mut roots = Vec::new();
        let mut start = 0u64;
        for level in (0..64u8).rev() {
            if size & (1u64 << level) != 0 {
                roots.push((level, node((level, start >> level))?));
                start += 1u64 << level;
            }
        }
        Some(Frontier { size, roots })
    }
}

/// Where proofs read stored nodes from. A read may fail (a store's I/O); a node that is not
/// there is `None`.
pub trait Nodes {
    type Error;
    fn node(&self, id: NodeId) -> Result<Option<Hash>, Self::Error>;
}

/// Nodes held in memory, looked up by a function that cannot fail.
pub struct InMemory<F>(pub F);

impl<F: Fn(NodeId) -> Option<Hash>> Nodes for InMemory<F> {
    type Error = std::convert::Infallible;
    fn node(&self, id: NodeId) -> Result<Option<Hash>, Self::Error> {
        Ok((self.0)(id))
    }
}

pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n > 1);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH of leaves `start .. start+size`, from stored complete subtrees; `None` when a node is
/// missing.
pub fn subtree<N: Nodes>(nodes: &N, start: u64, size: u64) -> Result<Option<Hash>, N::Error> {
    if size == 0 {
        return Ok(Some(empty_root()));
    }
    if size.is_power_of_two() && start.is_multiple_of(size) {
        return nodes.node((size.trailing_zeros() as u8, start / size));
    }
    let k = largest_power_of_two_below(size);
    let (Some(left), Some(right)) = (subtree(nodes, start, k)?, subtree(nodes, start + k, size - k)?) else {
        return Ok(None);
    };
    Ok(Some(node_hash(&left, &right)))
}

/// RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves; `None` when
/// the leaf is not in that tree or a node is missing.
pub fn inclusion_proof<N: Nodes>(nodes: &N, index: u64, size: u64) -> Result<Option<Vec<Hash>>, N::Error> {
    if index >= size {
        return Ok(None);
    }
    let mut proof = Vec::new();
    let (mut start, mut n, mut m) = (0u64, size, index);
    // Walks from the root down, collecting siblings; reversed at the end (leaf first).
    while n > 1 {
        let k = largest_power_of_two_below(n);
        let sibling = if m < k {
            let sibling = subtree(nodes, start + k, n - k)?;
            n = k;
            sibling
        } else {
            let sibling = subtree(nodes, start, k)?;
            start += k;
            m -= k;
            n -= k;
            sibling
        };
        let Some(sibling) = sibling else { return Ok(None) };
        proof.push(sibling);
    }
    proof.reverse();
    Ok(Some(proof))
}

/// RFC 9162 §2.1.4.1 consistency proof between trees of `old` and `new` leaves; `None` when the
/// sizes allow none or a node is missing.
pub fn consistency_proof<N: Nodes>(nodes: &N, old: u64, new: u64) -> Result<Option<Vec<Hash>>, N::Error> {
    if old == 0 || old > new {
        return Ok(None);
    }
    let mut proof = Vec::new();
    Ok(subproof(nodes, old, 0, new, true, &mut proof)?.map(|()| proof))
}

fn subproof<N: Nodes>(
    nodes: &N,
    m: u64,
    start: u64,
    n: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<Option<()>, N::Error> {
    if m == n {
        if !complete {
            let Some(hash) = subtree(nodes, start, n)? else { return Ok(None) };
            out.push(hash);
        }
        return Ok(Some(()));
    }
    let k = largest_power_of_two_below(n);
    let (inner, sibling) = if m <= k {
        (subproof(nodes, m, start, k, complete, out)?, subtree(nodes, start + k, n - k)?)
    } else {
        (subproof(nodes, m - k, start + k, n - k, false, out)?, subtree(nodes, start, k)?)
    };
    let (Some(()), Some(sibling)) = (inner, sibling) else { return Ok(None) };
    out.push(sibling);
    Ok(Some(()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the leaf index {index} is not below the tree size {size}")]
    IndexBeyondSize { index: u64, size: u64 },
    #[error("a hash is not 32 bytes")]
    HashLength,
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the root")]
    RootMismatch,
    #[error("the sizes do not allow a consistency proof ({old} to {new})")]
    Sizes { old: u64, new: u64 },
}

fn as_hash(bytes: &[u8]) -> Result<Hash, ProofError> {
    bytes.try_into().map_err(|_| ProofError::HashLength)
}

/// RFC 9162 §2.1.3.2: checks that `leaf` is leaf `index` of the tree of `size` with `root`.
pub fn verify_inclusion(index: u64, size: u64, leaf: &[u8], proof: &[Vec<u8>], root: &[u8]) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexBeyondSize { index, size });
    }
    let (leaf, root) = (as_hash(leaf)?, as_hash(root)?);
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = leaf;
    for p in proof {
        let p = as_hash(p)?;
        if s_n == 0 {
            return Err(ProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(&p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, &p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongLength);
    }
    if r == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// RFC 9162 §2.1.4.2: checks that the tree of `new` leaves with `new_root` extends the tree of
/// `old` leaves with `old_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &[u8],
    new_root: &[u8],
    proof: &[Vec<u8>],
) -> Result<(), ProofError> {
    if old == 0 || old > new {
        return Err(ProofError::Sizes { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root { Ok(()) } else { Err(ProofError::RootMismatch) };
    }
    let (old_root, new_root) = (as_hash(old_root)?, as_hash(new_root)?);
    let mut path: Vec<Hash> = proof.iter().map(|p| as_hash(p)).collect::<Result<_, _>>()?;
    if old.is_power_of_two() {
        path.insert(0, old_root);
    }
    if path.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let (mut f_n, mut s_n) = (old - 1, new - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (path[0], path[0]);
    for c in &path[1..] {
        if s_n == 0 {
            return Err(ProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongLength);
    }
    if f_r == old_root && s_r == new_root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn tree(leaves: usize) -> (HashMap<NodeId, Hash>, Vec<Hash>) {
        let mut frontier = Frontier::default();
        let mut nodes = HashMap::new();
        let mut roots = vec![frontier.root()];
        for i in 0..leaves {
            nodes.extend(frontier.push(leaf_hash(&(i as u64).to_be_bytes())));
            roots.push(frontier.root());
        }
        (nodes, roots)
    }

    /// The RFC's recursive definition, computed from the leaves.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = largest_power_of_two_below(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn incremental_roots_match_the_definition_and_proofs_verify() {
        let (nodes, roots) = tree(70);
        let find = |id: NodeId| nodes.get(&id).copied();
        let lookup = InMemory(find);
        let leaves: Vec<Hash> = (0..70u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for size in 0..=70usize {
            assert_eq!(roots[size], mth(&leaves[..size]), "root of {size}");
            assert_eq!(subtree(&lookup, 0, size as u64).unwrap(), Some(roots[size]));
            assert_eq!(Frontier::from_nodes(size as u64, find).map(|f| f.root()), Some(roots[size]));
            for index in 0..size as u64 {
                let proof: Vec<Vec<u8>> =
                    inclusion_proof(&lookup, index, size as u64).unwrap().unwrap().iter().map(|h| h.to_vec()).collect();
                verify_inclusion(index, size as u64, &leaves[index as usize], &proof, &roots[size]).unwrap();
            }
            for old in 1..=size as u64 {
                let proof: Vec<Vec<u8>> =
                    consistency_proof(&lookup, old, size as u64).unwrap().unwrap().iter().map(|h| h.to_vec()).collect();
                verify_consistency(old, size as u64, &roots[old as usize], &roots[size], &proof)
                    .unwrap_or_else(|e| panic!("{old} -> {size}: {e}"));
            }
        }
    }

    #[test]
    fn tampered_proofs_fail() {
        let (nodes, roots) = tree(13);
        let lookup = InMemory(|id: NodeId| nodes.get(&id).copied());
        let leaf = leaf_hash(&5u64.to_be_bytes());
        let mut proof: Vec<Vec<u8>> =
            inclusion_proof(&lookup, 5, 13).unwrap().unwrap().iter().map(|h| h.to_vec()).collect();
        assert_eq!(verify_inclusion(6, 13, &leaf, &proof, &roots[13]), Err(ProofError::RootMismatch));
        proof[1][0] ^= 1;
        assert_eq!(verify_inclusion(5, 13, &leaf, &proof, &roots[13]), Err(ProofError::RootMismatch));
        proof.pop();
        assert!(verify_inclusion(5, 13, &leaf, &proof, &roots[13]).is_err());
        assert_eq!(
            verify_inclusion(13, 13, &leaf, &[], &roots[13]),
            Err(ProofError::IndexBeyondSize { index: 13, size: 13 })
        );
    }
}
