//! The handlers under `/v1` and the health checks, one file per resource (a tag may span
//! several: `compliance` is `compliance.rs`, `verdicts.rs` and `whence.rs`).

pub mod actors;
pub mod append;
pub mod compliance;
pub mod confidential;
pub mod feed;
pub mod governance;
pub mod health;
pub mod projections;
pub mod read;
pub mod transparency;
pub mod verdicts;
pub mod webhooks;
pub mod whence;
