//! The log as data, and everything an offline verifier needs: the entry and its leaf bytes, the
//! one admission check every entry passes, replaying a log in order, the export format and its
//! verification, evidence bundles and their verification. Nothing here reads a store or runs a
//! ledger: `lineage verify` and `lineage verify-evidence` are built from this folder alone.

pub mod admission;
pub mod completeness;
pub mod entry;
pub mod evidence;
pub mod export;
pub mod replay;
pub mod subjects;

#[cfg(test)]
mod robustness;

pub use entry::{open_entry, Entry, OpenError};
