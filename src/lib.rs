//! lineage: an event-sourced, tamper-evident ledger of AI-assisted creative production.
//! See `ARCHITECTURE.md` for the map.

pub mod api;
pub mod app;
pub mod cli;
pub mod crypto;
pub mod domain;
pub mod ledger;
pub mod log;
pub mod memory;
pub mod metrics;
pub mod outputs;
pub mod projections;
pub mod store;
pub mod ui;
