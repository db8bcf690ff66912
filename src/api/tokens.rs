//! Bearer tokens for reads. Only the SHA-256 of a token is stored; a token is looked up by its
//! hash, so the lookup's timing depends on the hash, never on the secret's bytes.

use crate::store::{StoreError, TokenRecord, TokenStore};
use rand_core::RngCore as _;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub struct Tokens {
    grants: RwLock<HashMap<[u8; 32], TokenRecord>>,
    store: Arc<dyn TokenStore>,
}

/// A token as issued: the secret is shown once and never stored.
pub struct Issued {
    pub token: String,
    pub record: TokenRecord,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued").field("record", &self.record).finish_non_exhaustive()
    }
}

pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    pub fn load(store: Arc<dyn TokenStore>) -> Result<Tokens, StoreError> {
        let grants = store.tokens()?.into_iter().collect();
        Ok(Tokens { grants: RwLock::new(grants), store })
    }

    pub fn issue(&self, name: &str, projects: Option<Vec<String>>, admin: bool) -> Result<Issued, StoreError> {
        let mut secret = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut secret);
        let token = format!("lin_{}", hex::encode(secret));
        let record = TokenRecord {
            name: name.to_owned(),
            projects,
            admin,
            created_at_us: chrono::Utc::now().timestamp_micros(),
        };
        let digest = hash(&token);
        self.store.put_token(digest, &record)?;
        self.grants.write().expect("token lock").insert(digest, record.clone());
        Ok(Issued { token, record })
    }

    pub fn check(&self, token: &str) -> Option<TokenRecord> {
        self.grants.read().expect("token lock").get(&hash(token)).cloned()
    }
}
