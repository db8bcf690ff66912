//! One proof of several leaves of an RFC 9162 tree at once (`docs/transparency.md`, "Evidence
//! bundles"): the hashes of the subtrees that hold none of the leaves, in the order the tree's
//! recursion meets them (RFC 9162 §2.1.1: a tree of `n > 1` leaves splits at the largest power
//! of two below `n`; left before right). A subtree of one proven leaf is that leaf; a subtree
//! holding several is split again. The shape follows from the size and the leaves' indices
//! alone, so the proof is only hashes: with `k` leaves of a tree of `n`, at most about
//! `k · log2(n / k)` of them, where `k` separate proofs take `k · log2(n)`.

use super::merkle::{largest_power_of_two_below, node_hash, subtree, Hash, Nodes, ProofError};

/// The proof of the leaves at `indices` (ascending, each once, each below `size`); `None` when
/// they are not such, or a node is missing.
pub fn prove<N: Nodes>(nodes: &N, indices: &[u64], size: u64) -> Result<Option<Vec<Hash>>, N::Error> {
    let ascending = indices.windows(2).all(|w| w[0] < w[1]);
    if indices.is_empty() || !ascending || indices.last().is_some_and(|last| *last >= size) {
        return Ok(None);
    }
    let mut proof = Vec::new();
    Ok(prove_at(nodes, 0, size, indices, &mut proof)?.then_some(proof))
}

fn prove_at<N: Nodes>(nodes: &N, start: u64, n: u64, indices: &[u64], proof: &mut Vec<Hash>) -> Result<bool, N::Error> {
    if indices.is_empty() {
        let Some(hash) = subtree(nodes, start, n)? else { return Ok(false) };
        proof.push(hash);
        return Ok(true);
    }
    if n == 1 {
        return Ok(true);
    }
    let k = largest_power_of_two_below(n);
    let split = indices.partition_point(|i| *i < start + k);
    Ok(prove_at(nodes, start, k, &indices[..split], proof)?
        && prove_at(nodes, start + k, n - k, &indices[split..], proof)?)
}

/// The root that `leaves` (index and leaf hash, ascending by index, each once) and `proof` lead
/// to in a tree of `size` leaves; an error when the leaves are not such or the proof has too few
/// or too many hashes.
pub fn root_from(size: u64, leaves: &[(u64, Hash)], proof: &[Hash]) -> Result<Hash, ProofError> {
    if let Some((index, _)) = leaves.iter().find(|(index, _)| *index >= size) {
        return Err(ProofError::IndexBeyondSize { index: *index, size });
    }
    if leaves.is_empty() || leaves.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(ProofError::WrongLength);
    }
    let mut next = 0;
    let root = root_at(0, size, leaves, proof, &mut next)?;
    if next == proof.len() {
        Ok(root)
    } else {
        Err(ProofError::WrongLength)
    }
}

fn root_at(start: u64, n: u64, leaves: &[(u64, Hash)], proof: &[Hash], next: &mut usize) -> Result<Hash, ProofError> {
    if leaves.is_empty() {
        let hash = proof.get(*next).ok_or(ProofError::WrongLength)?;
        *next += 1;
        return Ok(*hash);
    }
    if n == 1 {
        return Ok(leaves[0].1);
    }
    let k = largest_power_of_two_below(n);
    let split = leaves.partition_point(|(i, _)| *i < start + k);
    let left = root_at(start, k, &leaves[..split], proof, next)?;
    let right = root_at(start + k, n - k, &leaves[split..], proof, next)?;
    Ok(node_hash(&left, &right))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::merkle::{leaf_hash, Frontier, InMemory};
    use std::collections::HashMap;

    #[test]
    fn every_set_of_leaves_proves_to_the_root_and_nothing_else_does() {
        for size in [1u64, 2, 3, 5, 8, 13, 70] {
            let mut nodes = HashMap::new();
            let mut frontier = Frontier::default();
            let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            for leaf in &leaves {
                nodes.extend(frontier.push(*leaf));
            }
            let store = InMemory(|id| nodes.get(&id).copied());
            let root = frontier.root();
            for pick in [vec![0], vec![size - 1], (0..size).step_by(3).collect(), (0..size).collect::<Vec<_>>()] {
                let held: Vec<(u64, Hash)> = pick.iter().map(|i| (*i, leaves[*i as usize])).collect();
                let proof = prove(&store, &pick, size).unwrap().unwrap();
                assert_eq!(root_from(size, &held, &proof), Ok(root), "size {size}, {pick:?}");
                // One leaf changed, left out, or another in its place; a hash more or less.
                let mut changed = held.clone();
                changed[0].1 = [9; 32];
                assert_ne!(root_from(size, &changed, &proof), Ok(root));
                if held.len() > 1 {
                    assert_ne!(root_from(size, &held[1..], &proof), Ok(root), "a leaf left out");
                }
                let mut longer = proof.clone();
                longer.push([0; 32]);
                assert_eq!(root_from(size, &held, &longer), Err(ProofError::WrongLength));
                if !proof.is_empty() {
                    assert_eq!(root_from(size, &held, &proof[1..]), Err(ProofError::WrongLength));
                }
            }
            assert_eq!(prove(&store, &[size], size).unwrap(), None);
            assert_eq!(prove(&store, &[], size).unwrap(), None);
        }
    }
}
