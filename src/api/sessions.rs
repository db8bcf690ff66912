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
/// Sessions one token may hold at once: signing in again past it ends that token's oldest
/// session, never another token's.
pub const PER_TOKEN: usize = 16;

struct Session {
    token_hash: [u8; 32],
    expires_at_us: i64,
}

/// The sessions open now, at most `capacity` (the oldest to expire make room for new ones).
pub struct Sessions {
    open: Mutex<Open>,
    capacity: usize,
}

#[derive(Default)]
struct Open {
    by_id: HashMap<[u8; 32], Session>,
    /// Each token's sessions, oldest first.
    by_token: HashMap<[u8; 32], std::collections::VecDeque<[u8; 32]>>,
}

impl Open {
    fn remove(&mut self, id: &[u8; 32]) {
        if let Some(session) = self.by_id.remove(id) {
            if let Some(ids) = self.by_token.get_mut(&session.token_hash) {
                ids.retain(|k| k != id);
                if ids.is_empty() {
                    self.by_token.remove(&session.token_hash);
                }
            }
        }
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::with_capacity(10_000)
    }
}

impl Sessions {
    pub fn with_capacity(capacity: usize) -> Sessions {
        Sessions { open: Mutex::new(Open::default()), capacity: capacity.max(1) }
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
        // The token's own oldest session makes room first.
        while open.by_token.get(&token_hash).is_some_and(|ids| ids.len() >= PER_TOKEN) {
            let oldest = open.by_token.get(&token_hash).and_then(|ids| ids.front().copied());
            match oldest {
                Some(oldest) => open.remove(&oldest),
                None => break,
            }
        }
        if open.by_id.len() >= self.capacity {
            let ended: Vec<[u8; 32]> =
                open.by_id.iter().filter(|(_, s)| s.expires_at_us <= now).map(|(k, _)| *k).collect();
            for id in ended {
                open.remove(&id);
            }
        }
        if open.by_id.len() >= self.capacity {
            // Full of live sessions: the one closest to its end makes room (linear, and only
            // when the table is full).
            let oldest = open.by_id.iter().min_by_key(|(_, s)| s.expires_at_us).map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                open.remove(&oldest);
            }
        }
        let key = hash(&id);
        open.by_id.insert(key, Session { token_hash, expires_at_us });
        open.by_token.entry(token_hash).or_default().push_back(key);
        id
    }

    /// The hash of the token a live session stands for.
    pub fn token_of(&self, id: &str) -> Option<[u8; 32]> {
        let now = chrono::Utc::now().timestamp_micros();
        let mut open = self.open.lock().expect("session lock");
        let key = hash(id);
        match open.by_id.get(&key) {
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
        self.open.lock().expect("session lock").by_id.len()
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

    #[test]
    fn one_token_signing_in_again_and_again_ends_only_its_own_sessions() {
        let sessions = Sessions::with_capacity(100);
        let other = sessions.open([9; 32], None);
        let first = sessions.open([1; 32], None);
        for _ in 0..(3 * PER_TOKEN) {
            sessions.open([1; 32], None);
        }
        assert_eq!(sessions.len(), PER_TOKEN + 1);
        assert_eq!(sessions.token_of(&other), Some([9; 32]));
        assert_eq!(sessions.token_of(&first), None, "the token's oldest made room");
    }
}
