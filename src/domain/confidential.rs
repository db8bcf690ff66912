//! Confidential text: a prompt, a negative prompt, a brief's text, the names of talent. A payload
//! holds it in the clear, or only a salted **commitment** to it, so that the clear text can be
//! kept apart from the log and erased for good while every signature, chain and proof still
//! verifies (`docs/confidential.md`):
//!
//! ```text
//! commitment = "sha256:" || hex(SHA-256("lineage-confidential\n" || project || "\n" || salt[32] || text))
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

/// The commitment to `text` with `salt`, in `project`: bound to the project, so that a
/// commitment copied into another project's event is one no text there can meet (an erasure
/// there, or a text kept there, is never about this project's).
pub fn commitment_of(project: &str, salt: &[u8; 32], text: &str) -> Digest {
    let mut hash = Sha256::new();
    hash.update(COMMITMENT_PREFIX);
    hash.update(project.as_bytes());
    hash.update(b"\n");
    hash.update(salt);
    hash.update(text.as_bytes());
    Digest::from_bytes(&hash.finalize().into())
}

/// Why a clear text cannot stand in for a confidential field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClearTextError {
    #[error("the text {0}")]
    Invalid(super::ids::ValueError),
    #[error("the text holds {what} (U+{code:04X}) at byte {at}, which no text of a new payload may hold")]
    Forbidden { what: &'static str, code: u32, at: usize },
}

/// Checks a clear text as the payload's text it stands in for would be checked: a [`Text`]
/// (at most 20,000 characters), with no character a new payload may not hold.
pub fn check_clear_text(text: &str) -> Result<(), ClearTextError> {
    Text::parse(text).map_err(ClearTextError::Invalid)?;
    match text.char_indices().find_map(|(at, c)| super::profile::forbidden_anywhere(c).map(|w| (at, c, w))) {
        Some((at, c, what)) => Err(ClearTextError::Forbidden { what, code: c as u32, at }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_held_in_the_clear_or_by_its_commitment_and_nothing_else() {
        let clear: Confidential = serde_json::from_str("\"a red shoe\"").unwrap();
        assert_eq!(clear, Confidential::Clear(Text::parse("a red shoe").unwrap()));
        let c = commitment_of("p", &[7; 32], "a red shoe");
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
        assert_ne!(commitment_of("p", &[8; 32], "a red shoe"), c, "the salt counts");
        let committed = Confidential::Committed(Committed { commitment: c.clone() });
        let brief = crate::domain::event::Body::BriefRecorded(crate::domain::event::BriefRecorded {
            brief_id: crate::domain::Id::parse("b").unwrap(),
            title: crate::domain::ids::Label::parse("t").unwrap(),
            text: committed.clone(),
            talent: vec![Confidential::Clear(Text::parse("x").unwrap()), committed],
            deliverable_formats: vec![],
            channels: vec![],
            training_and_mining: None,
        });
        assert_eq!(brief.committed(), vec![("/body/text".to_owned(), c.clone()), ("/body/talent/1".to_owned(), c)]);
        assert!(check_clear_text("a red shoe\non ice").is_ok());
        for bad in ["", "a\u{0}b", "a\u{202e}b", "\u{1b}[31m"] {
            assert!(check_clear_text(bad).is_err(), "{bad:?}");
        }
        assert!(check_clear_text(&"x".repeat(20_001)).is_err());
    }
}
