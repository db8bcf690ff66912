//! Bearer tokens for reads. Only the SHA-256 of a token is stored; a token is looked up by its
//! hash, so the lookup's timing depends on the hash, never on the secret's bytes. A token may
//! expire and may be revoked; it is named in lists by its id, the first 16 hex digits of its
//! hash, which tells nothing of the secret.

use crate::store::{StoreError, TokenRecord, TokenStore};
use rand_core::RngCore as _;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub struct Tokens {
    grants: RwLock<HashMap<[u8; 32], TokenRecord>>,
    store: Arc<dyn TokenStore>,
}

/// The name the token written to `DATA/admin.token` at first start carries.
pub const BOOTSTRAP_ADMIN: &str = "bootstrap admin";

/// What a token may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadScope {
    Everything,
    /// These projects only.
    Projects(Vec<String>),
    /// The projects of an organisation: those made for it and those it has members in.
    Organization(String),
}

/// A token as issued: the secret is shown once and never stored.
pub struct Issued {
    pub token: String,
    pub id: String,
    pub record: TokenRecord,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued").field("id", &self.id).field("record", &self.record).finish_non_exhaustive()
    }
}

/// Why a bearer token does not let its holder in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the bearer token is not valid")]
    Unknown,
    #[error("the bearer token has expired")]
    Expired,
    #[error("the bearer token was revoked")]
    Revoked,
}

pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The id a token is listed and revoked by.
pub fn id_of(hash: &[u8; 32]) -> String {
    hex::encode(&hash[..8])
}

/// What a token may do beyond reading its projects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grant {
    /// Issue and revoke tokens, and everything else.
    pub admin: bool,
    /// Read the clear texts of confidential fields.
    pub confidential: bool,
}

impl Grant {
    pub const ADMIN: Grant = Grant { admin: true, confidential: true };
    pub const READ: Grant = Grant { admin: false, confidential: false };
}

impl Tokens {
    pub fn load(store: Arc<dyn TokenStore>) -> Result<Tokens, StoreError> {
        let grants = store.tokens()?.into_iter().collect();
        Ok(Tokens { grants: RwLock::new(grants), store })
    }

    /// Issues a token; `expires_at_us` `None` for one that does not expire.
    pub fn issue(
        &self,
        name: &str,
        scope: ReadScope,
        grant: Grant,
        expires_at_us: Option<i64>,
    ) -> Result<Issued, StoreError> {
        let (projects, organization) = match scope {
            ReadScope::Everything => (None, None),
            ReadScope::Projects(list) => (Some(list), None),
            ReadScope::Organization(org) => (None, Some(org)),
        };
        let mut secret = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut secret);
        let token = format!("lin_{}", hex::encode(secret));
        let record = TokenRecord {
            name: name.to_owned(),
            projects,
            admin: grant.admin,
            confidential: grant.confidential || grant.admin,
            created_at_us: chrono::Utc::now().timestamp_micros(),
            expires_at_us,
            revoked_at_us: None,
            organization,
        };
        let digest = hash(&token);
        self.store.put_token(digest, &record)?;
        self.grants.write().expect("token lock").insert(digest, record.clone());
        Ok(Issued { token, id: id_of(&digest), record })
    }

    /// The grant of a token that is known, not expired and not revoked.
    pub fn check(&self, token: &str) -> Result<TokenRecord, Refused> {
        self.check_hash(&hash(token))
    }

    /// The grant of a token known by its hash (what a UI session holds), if it still lets in.
    pub fn check_hash(&self, digest: &[u8; 32]) -> Result<TokenRecord, Refused> {
        let grants = self.grants.read().expect("token lock");
        let record = grants.get(digest).ok_or(Refused::Unknown)?;
        if record.revoked_at_us.is_some() {
            return Err(Refused::Revoked);
        }
        if record.expires_at_us.is_some_and(|at| at <= chrono::Utc::now().timestamp_micros()) {
            return Err(Refused::Expired);
        }
        Ok(record.clone())
    }

    /// Every grant, with its id, oldest first.
    pub fn list(&self) -> Vec<(String, TokenRecord)> {
        let grants = self.grants.read().expect("token lock");
        let mut out: Vec<(String, TokenRecord)> = grants.iter().map(|(h, r)| (id_of(h), r.clone())).collect();
        out.sort_by(|a, b| a.1.created_at_us.cmp(&b.1.created_at_us).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Revokes the token with this id (durably); `None` when there is none. Revoking a revoked
    /// token keeps its first revocation.
    pub fn revoke(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        let mut grants = self.grants.write().expect("token lock");
        let Some((digest, record)) = grants.iter_mut().find(|(h, _)| id_of(h) == id) else { return Ok(None) };
        if record.revoked_at_us.is_none() {
            let mut revoked = record.clone();
            revoked.revoked_at_us = Some(chrono::Utc::now().timestamp_micros());
            self.store.put_token(*digest, &revoked)?;
            *record = revoked;
        }
        Ok(Some(record.clone()))
    }

    /// Revokes every bootstrap admin token still valid: when `DATA/admin.token` is gone, the
    /// one it held must not go on working beside the new one.
    pub fn revoke_bootstrap(&self) -> Result<usize, StoreError> {
        let ids: Vec<String> = self
            .list()
            .into_iter()
            .filter(|(_, r)| r.admin && r.name == BOOTSTRAP_ADMIN && r.revoked_at_us.is_none())
            .map(|(id, _)| id)
            .collect();
        for id in &ids {
            self.revoke(id)?;
        }
        Ok(ids.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn a_token_lets_in_until_it_expires_or_is_revoked() {
        let tokens = Tokens::load(Arc::new(MemoryStore::new())).unwrap();
        let now = chrono::Utc::now().timestamp_micros();
        let lasting = tokens.issue("lasting", ReadScope::Everything, Grant::READ, None).unwrap();
        let expired = tokens.issue("expired", ReadScope::Everything, Grant::READ, Some(now - 1)).unwrap();
        let revoked = tokens
            .issue("revoked", ReadScope::Projects(vec!["p".into()]), Grant::READ, Some(now + 60_000_000))
            .unwrap();
        assert_eq!(tokens.check(&lasting.token).map(|r| r.name), Ok("lasting".into()));
        assert_eq!(tokens.check(&expired.token), Err(Refused::Expired));
        assert!(tokens.check(&revoked.token).is_ok());
        assert_eq!(tokens.revoke(&revoked.id).unwrap().map(|r| r.revoked_at_us.is_some()), Some(true));
        assert_eq!(tokens.check(&revoked.token), Err(Refused::Revoked));
        assert_eq!(tokens.check("lin_nothing"), Err(Refused::Unknown));
        assert_eq!(tokens.revoke("0000000000000000").unwrap(), None);
        let mut listed: Vec<String> = tokens.list().into_iter().map(|(id, _)| id).collect();
        listed.sort();
        let mut issued = vec![lasting.id, expired.id, revoked.id];
        issued.sort();
        assert_eq!(listed, issued);
        assert!(listed.iter().all(|id| id.len() == 16 && !lasting.token.contains(id.as_str())));
    }

    #[test]
    fn the_bootstrap_admin_tokens_are_revoked_together() {
        let tokens = Tokens::load(Arc::new(MemoryStore::new())).unwrap();
        let first = tokens.issue(BOOTSTRAP_ADMIN, ReadScope::Everything, Grant::ADMIN, None).unwrap();
        let reader = tokens.issue("reader", ReadScope::Everything, Grant::READ, None).unwrap();
        assert_eq!(tokens.revoke_bootstrap().unwrap(), 1);
        assert_eq!(tokens.check(&first.token), Err(Refused::Revoked));
        assert!(tokens.check(&reader.token).is_ok());
        assert_eq!(tokens.revoke_bootstrap().unwrap(), 0);
    }
}
