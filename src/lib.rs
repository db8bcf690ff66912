//! lineage: an event-sourced, tamper-evident ledger of AI-assisted creative production.
//! See `ARCHITECTURE.md` for the map.

pub mod api;
pub mod bench;
pub mod cli;
pub mod client;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod entry;
pub mod evidence;
pub mod export;
pub mod ledger;
pub mod memory;
pub mod projections;
pub mod schema;
pub mod startup;
pub mod store;
pub mod tokens;

#[cfg(test)]
mod robustness;
