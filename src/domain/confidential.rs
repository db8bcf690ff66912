//! Confidential text: a prompt, a negative prompt, a brief's text, the names of talent. A payload
//! holds it in the clear, or only a salted **commitment** to it, so that the clear text can be
//! kept apart from the log and erased for good while every signature, chain and proof still
//! verifies (`docs/confidential.md`):
//!
//! ```text
//! commitment = "sha256:" || hex(SHA-256("lineage-confidential\n" || salt[32] || text, UTF-8))
//! ```
//!
//! In a payload a committed text is the object `{"commitment": "sha256:…"}` where the clear
//! text would be.

use super::ids::{Digest, Text};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// What a commitment hashes before the salt.
pub const COMMITMENT_PREFIX: &[u8] = b"lineage-confidential\n";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Confidential {
    /// The text in the clear, in the signed payload for good.
    Clear(Text),
    /// Only a commitment to the text: its clear text is kept apart, and can be erased.
    Committed(Committed),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Committed {
    /// `sha256:` and the hex SHA-256 of the prefix, the 32-byte salt and the text.
    pub commitment: Digest,
}

/// The commitment to `text` with `salt`.
pub fn commitment_of(salt: &[u8; 32], text: &str) -> Digest {
    let mut hash = Sha256::new();
    hash.update(COMMITMENT_PREFIX);
    hash.update(salt);
    hash.update(text.as_bytes());
    Digest::from_bytes(&hash.finalize().into())
}

/// The commitments a payload's JSON holds: every object of the one member `commitment` whose
/// value is a digest, in document order.
pub fn commitments_in(value: &serde_json::Value) -> Vec<Digest> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(map) => {
                if let (1, Some(serde_json::Value::String(c))) = (map.len(), map.get("commitment")) {
                    if let Ok(digest) = Digest::parse(c) {
                        out.push(digest);
                    }
                }
                stack.extend(map.values().rev());
            }
            serde_json::Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_held_in_the_clear_or_by_its_commitment_and_nothing_else() {
        let clear: Confidential = serde_json::from_str("\"a red shoe\"").unwrap();
        assert_eq!(clear, Confidential::Clear(Text::parse("a red shoe").unwrap()));
        let c = commitment_of(&[7; 32], "a red shoe");
        let committed: Confidential = serde_json::from_value(serde_json::json!({"commitment": c})).unwrap();
        assert_eq!(committed, Confidential::Committed(Committed { commitment: c.clone() }));
        for bad in [
            serde_json::json!({"commitment": "sha256:zz"}),
            serde_json::json!({"commitment": c, "text": "a red shoe"}),
            serde_json::json!(""),
            serde_json::json!(3),
        ] {
            assert!(serde_json::from_value::<Confidential>(bad.clone()).is_err(), "{bad}");
        }
        assert_ne!(commitment_of(&[8; 32], "a red shoe"), c, "the salt counts");
        let payload = serde_json::json!({"body": {"text": {"commitment": c}, "talent": [{"commitment": c}, "x"]}});
        assert_eq!(commitments_in(&payload), vec![c.clone(), c]);
    }
}
