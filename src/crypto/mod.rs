//! Signatures, keys and hashes: DSSE envelopes, key files, the Merkle tree.

pub mod checkpoint;
pub mod dsse;
pub mod keys;
pub mod merkle;
