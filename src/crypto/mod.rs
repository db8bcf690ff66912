//! Signatures, keys and hashes: DSSE envelopes, key files, the Merkle tree, the subject map.

pub mod checkpoint;
pub mod dsse;
pub mod keys;
pub mod map;
pub mod merkle;
pub mod multiproof;
