//! The handlers under `/v1` and the health checks, one file per OpenAPI tag.

pub mod actors;
pub mod append;
pub mod compliance;
pub mod governance;
pub mod health;
pub mod projections;
pub mod read;
pub mod transparency;
