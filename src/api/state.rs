//! What every handler shares: the ledger, the token grants and the request limits.

use super::tokens::Tokens;
use crate::ledger::Ledger;
use std::sync::Arc;

/// Request size limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body of a single append, in bytes.
    pub body_bytes: usize,
    /// Largest body of a batch append, in bytes.
    pub batch_body_bytes: usize,
    /// Most envelopes in one batch.
    pub batch_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { body_bytes: 256 * 1024, batch_body_bytes: 16 * 1024 * 1024, batch_events: 1000 }
    }
}

pub struct AppState {
    pub ledger: Ledger,
    pub tokens: Arc<Tokens>,
    pub limits: Limits,
}
