//! The live feeds open, per token: each catching-up feed reads the log from where it starts, so
//! their number bounds what they take from other readers.

use std::collections::HashMap;
use std::sync::Mutex;

/// Feeds open at once, in all and per token.
pub const MAX_FEEDS: usize = 64;
pub const MAX_FEEDS_PER_TOKEN: usize = 4;

/// The feeds open, per token id.
#[derive(Default)]
pub struct OpenFeeds(Mutex<HashMap<String, usize>>);

impl OpenFeeds {
    /// A place for one more feed of `token`; `Err(Some(n))` when the token holds as many as it
    /// may (n), `Err(None)` when the server does.
    pub fn take(&self, token: &str) -> Result<(), Option<usize>> {
        let mut open = self.0.lock().expect("not poisoned");
        let own = open.get(token).copied().unwrap_or(0);
        if own >= MAX_FEEDS_PER_TOKEN {
            return Err(Some(own));
        }
        if open.values().sum::<usize>() >= MAX_FEEDS {
            return Err(None);
        }
        *open.entry(token.to_owned()).or_default() += 1;
        Ok(())
    }

    /// Gives back a place [`Self::take`] gave.
    pub fn give_back(&self, token: &str) {
        let mut open = self.0.lock().expect("not poisoned");
        if let Some(n) = open.get_mut(token) {
            *n -= 1;
            if *n == 0 {
                open.remove(token);
            }
        }
    }
}
