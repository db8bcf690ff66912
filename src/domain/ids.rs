//! Identifiers and bounded values. Each is built by `parse` and cannot hold an invalid value, so
//! code past the boundary never re-checks them.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// Why a value was refused; the caller adds the field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("must not be empty")]
    Empty,
    #[error("is {len} characters long, the limit is {max}")]
    TooLong { len: usize, max: usize },
    #[error("must match {pattern}")]
    Pattern { pattern: &'static str },
    #[error("{0}")]
    Invalid(&'static str),
    #[error("holds U+{code:04X} ({what}) at character {at}: a label is one line, read as it is stored")]
    ForbiddenInLabel { code: u32, what: &'static str, at: usize },
}

/// Longest identifier accepted anywhere.
pub const MAX_ID_LEN: usize = 128;
const ID_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$";

fn check_identifier(s: &str) -> Result<(), ValueError> {
    if s.is_empty() {
        return Err(ValueError::Empty);
    }
    let len = s.chars().count();
    if len > MAX_ID_LEN {
        return Err(ValueError::TooLong { len, max: MAX_ID_LEN });
    }
    let mut bytes = s.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(ValueError::Pattern { pattern: ID_PATTERN })
    }
}

/// What every text value here has: its text, and how it shows (as it is; quoted for debugging).
macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }
    };
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, ValueError> {
                check_identifier(s)?;
                Ok(Self(s.to_owned()))
            }
        }
        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, ValueError> {
                check_identifier(&s)?;
                Ok(Self(s))
            }
        }
        string_value!($name);
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                "Identifier".into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": ID_PATTERN,
                    "description": "1 to 128 characters: letters, digits, '.', '_', ':' and '-', starting with a letter or digit"
                })
            }
        }
    };
}

identifier!(
    /// The stream an event belongs to: a project, or [`SYSTEM_PROJECT`].
    ProjectId
);
identifier!(
    /// A client-chosen event id, unique across the ledger (a UUID or ULID is a good choice).
    EventId
);
identifier!(
    /// A registered person or service.
    ActorId
);
identifier!(
    /// The name of one public key of an actor; the DSSE `keyid`.
    KeyId
);
identifier!(
    /// A registered organisation: the agency, a client brand, a vendor.
    OrganizationId
);
identifier!(
    /// Any record id inside a project: asset, prompt, model version, pipeline, brief, reference,
    /// generation, selection, edit, review, approval, delivery.
    Id
);

/// The stream that holds actor and key events.
pub const SYSTEM_PROJECT: &str = "system";

impl ProjectId {
    pub fn system() -> Self {
        Self(SYSTEM_PROJECT.to_owned())
    }
    pub fn is_system(&self) -> bool {
        self.0 == SYSTEM_PROJECT
    }
}

const DIGEST_PATTERN: &str = "^sha256:[0-9a-f]{64}$";

/// Content address of a file: `sha256:` and 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let ok = s.len() == 71
            && s.starts_with("sha256:")
            && s[7..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValueError::Pattern { pattern: DIGEST_PATTERN })
        }
    }
    /// The 32 bytes of the hash.
    pub fn bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(&self.0[7..], &mut out).expect("a parsed digest is 64 hex digits");
        out
    }

    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(format!("sha256:{}", hex::encode(bytes)))
    }

    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        Self(format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes))))
    }
}
string_value!(Digest);
impl TryFrom<String> for Digest {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}
impl JsonSchema for Digest {
    fn schema_name() -> Cow<'static, str> {
        "Digest".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DIGEST_PATTERN,
            "description": "SHA-256 of the file's bytes"
        })
    }
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $max:expr, $strict:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX: usize = $max;
            pub fn parse(s: &str) -> Result<Self, ValueError> {
                Self::try_from(s.to_owned())
            }
        }
        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, ValueError> {
                if s.trim().is_empty() {
                    return Err(ValueError::Empty);
                }
                let len = s.chars().count();
                if len > Self::MAX {
                    return Err(ValueError::TooLong { len, max: Self::MAX });
                }
                // A new payload's text is held to the strict profile; a stored one reads as written.
                let strict: Option<fn(&str) -> Result<(), ValueError>> = $strict;
                if let Some(check) = strict.filter(|_| super::profile::is_strict()) {
                    check(&s)?;
                }
                Ok(Self(s))
            }
        }
        string_value!($name);
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "minLength": 1, "maxLength": $max })
            }
        }
    };
}

bounded_text!(
    /// A short human label: a title, a tool, a format, a channel (at most 200 characters; in a
    /// new payload one line without bidirectional formatting, [`super::profile`]).
    Label,
    200,
    Some(label_chars)
);
bounded_text!(
    /// Free text: a brief, a prompt, a rationale (at most 20,000 characters; lines, tabs and
    /// bidirectional marks and isolates allowed, [`super::profile`]).
    Text,
    20_000,
    None
);

/// What a label of a new payload may not hold ([`super::profile::forbidden_in_label`]).
fn label_chars(s: &str) -> Result<(), ValueError> {
    match s.chars().enumerate().find_map(|(i, c)| super::profile::forbidden_in_label(c).map(|w| (i, c, w))) {
        Some((at, c, what)) => Err(ValueError::ForbiddenInLabel { code: c as u32, what, at }),
        None => Ok(()),
    }
}

impl Label {
    /// A label given as new input (a token's name, say): held to the strict profile.
    pub fn parse_new(s: &str) -> Result<Self, ValueError> {
        super::profile::strictly(|| Self::parse(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        let cases: &[(&str, bool)] = &[
            ("a", true),
            ("spring-2027.hero_v2:final", true),
            ("", false),
            ("-lead", false),
            ("a/b", false),
            ("../etc", false),
            ("a b", false),
            ("é", false),
            (&"x".repeat(128), true),
            (&"x".repeat(129), false),
        ];
        for (input, ok) in cases {
            assert_eq!(Id::parse(input).is_ok(), *ok, "{input:?}");
        }
    }

    #[test]
    fn digests() {
        let good = format!("sha256:{}", "ab".repeat(32));
        assert!(Digest::parse(&good).is_ok());
        for bad in [
            "sha256:".to_owned(),
            format!("sha256:{}", "AB".repeat(32)),
            format!("sha512:{}", "ab".repeat(32)),
            format!("sha256:{}", "ab".repeat(33)),
        ] {
            assert!(Digest::parse(&bad).is_err(), "{bad}");
        }
        assert_eq!(Digest::of(b"").as_str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn text_bounds() {
        assert!(Label::parse(&"x".repeat(200)).is_ok());
        assert_eq!(Label::parse(&"x".repeat(201)), Err(ValueError::TooLong { len: 201, max: 200 }));
        assert_eq!(Label::parse("  "), Err(ValueError::Empty));
    }
}

/// An ed25519 public key, written as standard base64 of its 32 bytes; only valid curve points
/// are accepted. It holds the decoded key as well, so that no caller decodes it again.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicKeyBytes {
    bytes: [u8; 32],
    key: ed25519_dalek::VerifyingKey,
}

impl PartialEq for PublicKeyBytes {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for PublicKeyBytes {}

const PUBLIC_KEY_PATTERN: &str = "standard base64 of a 32-byte ed25519 public key";

impl PublicKeyBytes {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| ValueError::Pattern { pattern: PUBLIC_KEY_PATTERN })?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| ValueError::Pattern { pattern: PUBLIC_KEY_PATTERN })?;
        Self::from_bytes(bytes)
    }
    /// The key of 32 encoded bytes, with the checks of [`PublicKeyBytes::parse`].
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, ValueError> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| ValueError::Invalid("is not the encoding of a point of the ed25519 curve"))?;
        // A small-order key would let its holder make signatures that verify one way and not
        // another; such keys are refused outright.
        if key.is_weak() {
            return Err(ValueError::Invalid(
                "is of small order: a key of small order proves nothing about who signed with it",
            ));
        }
        Ok(Self { bytes, key })
    }
    /// What a key newly registered must also be, beyond a point of the curve that is not of small
    /// order: canonically encoded (decoding and encoding again gives the same bytes: y below p,
    /// no sign bit on x = 0) and in the prime-order subgroup (no small-order component). Keys
    /// that are not are refused by other verifiers' checks, or make them refuse most of their
    /// signatures (libsodium and OpenSSL both reject 7 of 8 signatures of a key with a component
    /// of order 8, signatures this ledger's cofactored rule accepts). Stored logs may hold keys
    /// registered before this was checked: reading them does not ask it.
    pub fn strict(&self) -> Result<(), &'static str> {
        let point = self.key.to_edwards();
        if point.compress().to_bytes() != self.bytes {
            return Err("is not a canonical encoding of its point (y must be below 2^255 - 19)");
        }
        if !point.is_torsion_free() {
            return Err(
                "has a small-order component (it is not in the prime-order subgroup): other verifiers would refuse most of its signatures",
            );
        }
        Ok(())
    }

    /// The public half of a signing key this process holds.
    pub fn from_key(key: ed25519_dalek::VerifyingKey) -> Self {
        Self { bytes: key.to_bytes(), key }
    }
    pub fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
    /// The decoded key, ready to verify with.
    pub fn key(&self) -> &ed25519_dalek::VerifyingKey {
        &self.key
    }
    pub fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.bytes)
    }
}
impl TryFrom<String> for PublicKeyBytes {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}
impl From<PublicKeyBytes> for String {
    fn from(v: PublicKeyBytes) -> String {
        v.to_base64()
    }
}
impl fmt::Debug for PublicKeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}
impl JsonSchema for PublicKeyBytes {
    fn schema_name() -> Cow<'static, str> {
        "Ed25519PublicKey".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[A-Za-z0-9+/]{43}=$",
            "description": "standard base64 of a 32-byte ed25519 public key"
        })
    }
}
