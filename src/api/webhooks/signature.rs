//! Standard Webhooks signatures (standardwebhooks.com): `webhook-signature` is a space-separated
//! list of `v1,<base64 HMAC-SHA-256 of "{webhook-id}.{webhook-timestamp}.{body}">`, one per secret
//! in force, under secrets written `whsec_<base64 of 32 random bytes>`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use rand_core::RngCore as _;
use sha2::Sha256;

/// An endpoint's signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret([u8; 32]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

const PREFIX: &str = "whsec_";

impl Secret {
    pub fn generate() -> Secret {
        let mut bytes = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut bytes);
        Secret(bytes)
    }

    /// `whsec_` and the base64 of the bytes: what the endpoint's owner gives their verifier.
    pub fn text(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(self.0))
    }

    pub fn parse(text: &str) -> Option<Secret> {
        let bytes = STANDARD.decode(text.strip_prefix(PREFIX)?).ok()?;
        Some(Secret(bytes.try_into().ok()?))
    }

    /// `v1,<base64 HMAC-SHA-256(secret, "{id}.{timestamp}.{body}")>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: one signature per secret in force (the current one, and the
/// previous one while a rotation's grace lasts), so that a receiver verifies with either.
pub fn header(secrets: &[&Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|s| s.sign(id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/integrations.md's vector, computed by the `standardwebhooks` Python package.
    #[test]
    fn signs_as_the_reference_libraries_do() {
        let secret = Secret::parse("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        let body = br#"{"type":"entry.note_added","timestamp":"2026-12-07T12:00:00.000000Z","data":{"sequence":42}}"#;
        assert_eq!(
            secret.sign("msg_wh_0123456789abcdef_42", 1_796_644_800, body),
            "v1,/Qb71IGZhQNHWV1H5VOkZbrx30BHYW2x//qAx7EKYVE="
        );
        // 24 bytes: not one of ours (ours are 32), refused.
        assert!(Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_none());
        let secret = Secret([7u8; 32]);
        assert_eq!(Secret::parse(&secret.text()), Some(secret.clone()));
        let signed = secret.sign("msg_1", 1_700_000_000, b"{\"a\":1}");
        assert!(signed.starts_with("v1,"));
        assert_eq!(header(&[&secret, &secret], "msg_1", 1_700_000_000, b"{\"a\":1}"), format!("{signed} {signed}"));
    }
}
