//! Browser sessions: a read token exchanged once for a random session id, which the browser
//! holds in an HttpOnly, SameSite=Strict cookie. The server keeps only the SHA-256 of the id,
//! with the hash of the token it stands for — so that revoking or expiring the token ends the
//! session too — in memory, bounded: a restart signs everyone out.

use rand_core::RngCore as _;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// The cookie a session id travels in.
pub const COOKIE: &str = "lineage_session";
/// How long a session lasts at most (the token's own expiry may end it sooner).
pub const LIFETIME_SECS: i64 = 12 * 3600;

struct Session {
    token_hash: [u8; 32],
    expires_at_us: i64,
}

/// The sessions open now, at most `capacity` (the oldest to expire make room for new ones).
pub struct Sessions {
    open: Mutex<HashMap<[u8; 32], Session>>,
    capacity: usize,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::with_capacity(10_000)
    }
}

impl Sessions {
    pub fn with_capacity(capacity: usize) -> Sessions {
        Sessions { open: Mutex::new(HashMap::new()), capacity: capacity.max(1) }
    }

    /// Opens a session for a token (by its hash), ending with the token or after
    /// [`LIFETIME_SECS`]; returns the id the cookie carries.
    pub fn open(&self, token_hash: [u8; 32], token_expires_at_us: Option<i64>) -> String {
        let mut secret = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut secret);
        let id = hex::encode(secret);
        let now = chrono::Utc::now().timestamp_micros();
        let lifetime = now.saturating_add(LIFETIME_SECS * 1_000_000);
        let expires_at_us = token_expires_at_us.map_or(lifetime, |t| t.min(lifetime));
        let mut open = self.open.lock().expect("session lock");
        if open.len() >= self.capacity {
            open.retain(|_, s| s.expires_at_us > now);
        }
        if open.len() >= self.capacity {
            // Full of live sessions: the one closest to its end makes room (linear, and only
            // when the table is full).
            let oldest = open.iter().min_by_key(|(_, s)| s.expires_at_us).map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                open.remove(&oldest);
            }
        }
        open.insert(hash(&id), Session { token_hash, expires_at_us });
        id
    }

    /// The hash of the token a live session stands for.
    pub fn token_of(&self, id: &str) -> Option<[u8; 32]> {
        let now = chrono::Utc::now().timestamp_micros();
        let mut open = self.open.lock().expect("session lock");
        let key = hash(id);
        match open.get(&key) {
            Some(s) if s.expires_at_us > now => Some(s.token_hash),
            Some(_) => {
                open.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn close(&self, id: &str) {
        self.open.lock().expect("session lock").remove(&hash(id));
    }

    pub fn len(&self) -> usize {
        self.open.lock().expect("session lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_stands_for_its_token_until_closed_or_expired() {
        let sessions = Sessions::with_capacity(2);
        let now = chrono::Utc::now().timestamp_micros();
        let a = sessions.open([1; 32], None);
        assert_eq!(sessions.token_of(&a), Some([1; 32]));
        assert_eq!(sessions.token_of("not a session"), None);
        let expired = sessions.open([2; 32], Some(now - 1));
        assert_eq!(sessions.token_of(&expired), None);
        sessions.close(&a);
        assert_eq!(sessions.token_of(&a), None);
        // Bounded: a third live session pushes out the one nearest its end.
        let b = sessions.open([3; 32], Some(now + 10_000_000));
        let c = sessions.open([4; 32], None);
        let d = sessions.open([5; 32], None);
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions.token_of(&b), None);
        assert_eq!((sessions.token_of(&c), sessions.token_of(&d)), (Some([4; 32]), Some([5; 32])));
    }
}
