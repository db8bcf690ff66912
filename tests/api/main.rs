//! End-to-end tests: each starts the real server on a random port with a temporary data
//! directory and talks HTTP to it.

mod append;
mod authorization;
mod blinding;
mod bytes;
mod completeness;
mod confidential;
mod contract;
mod crash;
mod credentials;
mod disclosure;
mod disk_full;
mod export;
mod feed;
mod hardening;
mod helpers;
mod imports;
mod legacy;
mod limits;
mod metrics;
mod operations;
mod people;
mod policies;
mod profile;
mod projections;
mod python_client;
mod reads;
mod refusals;
mod retractions;
mod rfc9162;
mod startup;
mod transparency;
mod ui;
mod verdicts;
mod webhooks;
