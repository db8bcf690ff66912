//! Checkpoints in the C2SP `tlog-checkpoint` format, signed as a C2SP `signed-note` with the
//! ledger's ed25519 key.
//!
//! ```text
//! <origin>
//! <tree size>
//! <base64 root hash>
//!
//! — <key name> <base64(key hash[4] || signature[64])>
//! ```

use super::merkle::Hash;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// The algorithm byte of ed25519 keys in signed notes.
const ED25519: u8 = 0x01;

/// A note verifier: the key's name and its public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    pub name: String,
    pub key: VerifyingKey,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the note is not a checkpoint: {0}")]
    Malformed(&'static str),
    #[error("the verifier key is malformed: {0}")]
    BadVerifierKey(&'static str),
    #[error("no signature by key `{0}`")]
    NotSigned(String),
    #[error("the signature by key `{0}` does not verify")]
    BadSignature(String),
}

/// The 4-byte key hash of an ed25519 note key.
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519]);
    h.update(key.to_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

impl NoteVerifier {
    /// The `vkey` text: `<name>+<hex key hash>+<base64(0x01 || public key)>`.
    pub fn vkey(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(&self.key.to_bytes());
        format!("{}+{}+{}", self.name, hex::encode(key_hash(&self.name, &self.key)), B64.encode(bytes))
    }

    pub fn parse(vkey: &str) -> Result<NoteVerifier, CheckpointError> {
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CheckpointError::BadVerifierKey("expected name+hash+key"));
        };
        let bytes = B64.decode(key).map_err(|_| CheckpointError::BadVerifierKey("key is not base64"))?;
        if bytes.len() != 33 || bytes[0] != ED25519 {
            return Err(CheckpointError::BadVerifierKey("not an ed25519 key"));
        }
        let key = VerifyingKey::from_bytes(bytes[1..].try_into().expect("32 bytes"))
            .map_err(|_| CheckpointError::BadVerifierKey("not a valid ed25519 key"))?;
        let verifier = NoteVerifier { name: name.to_owned(), key };
        if hex::encode(key_hash(name, &key)) != hash {
            return Err(CheckpointError::BadVerifierKey("key hash does not match"));
        }
        Ok(verifier)
    }
}

/// A tree head: origin, size and root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note body: three lines, each ending in a newline.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root))
    }

    /// The signed note.
    pub fn sign(&self, name: &str, key: &SigningKey) -> String {
        sign_body(&self.body(), name, key)
    }

    /// Parses a signed note and checks the signature of `verifier`. The note must be exactly a
    /// checkpoint and that one signature, as [`Checkpoint::sign`] writes them: a line the
    /// verifier does not read (an extension line, another or a repeated signature, anything
    /// after the signature, a missing final newline, a size written with a sign or leading zeros)
    /// refuses it, so that nothing passes as verified that was not.
    pub fn open(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, CheckpointError> {
        let (checkpoint, _) = Self::open_lenient(note, verifier)?;
        exactly(note, &checkpoint.body())?;
        Ok(checkpoint)
    }

    /// The checkpoint and its extension lines, when `verifier`'s signature holds.
    fn open_lenient(note: &str, verifier: &NoteVerifier) -> Result<(Checkpoint, Vec<String>), CheckpointError> {
        let (body, signatures) =
            note.split_once("\n\n").ok_or(CheckpointError::Malformed("no blank line before the signatures"))?;
        let body = format!("{body}\n");
        let mut lines = body.lines();
        let origin = lines.next().filter(|l| !l.is_empty()).ok_or(CheckpointError::Malformed("no origin"))?;
        let size = lines
            .next()
            .and_then(|l| l.parse::<u64>().ok())
            .ok_or(CheckpointError::Malformed("the second line is not a tree size"))?;
        let root = lines
            .next()
            .and_then(|l| B64.decode(l).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or(CheckpointError::Malformed("the third line is not a base64 SHA-256 hash"))?;
        let wanted = key_hash(&verifier.name, &verifier.key);
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(CheckpointError::Malformed("a signature line must start with an em dash"));
            };
            let (name, blob) = rest.split_once(' ').ok_or(CheckpointError::Malformed("signature line"))?;
            let blob = B64.decode(blob).map_err(|_| CheckpointError::Malformed("signature is not base64"))?;
            if name != verifier.name || blob.len() != 68 || blob[..4] != wanted {
                continue;
            }
            let signature = Signature::from_bytes(blob[4..].try_into().expect("64 bytes"));
            return match verifier.key.verify(body.as_bytes(), &signature) {
                Ok(()) => {
                    Ok((Checkpoint { origin: origin.to_owned(), size, root }, lines.map(str::to_owned).collect()))
                }
                Err(_) => Err(CheckpointError::BadSignature(verifier.name.clone())),
            };
        }
        Err(CheckpointError::NotSigned(verifier.name.clone()))
    }
}

/// The signed note of a body.
fn sign_body(body: &str, name: &str, key: &SigningKey) -> String {
    let signature = key.sign(body.as_bytes());
    let mut blob = key_hash(name, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&signature.to_bytes());
    format!("{body}\n\u{2014} {name} {}\n", B64.encode(blob))
}

/// Refuses a note that is not exactly `body` and one signature line.
fn exactly(note: &str, body: &str) -> Result<(), CheckpointError> {
    let signatures = note.strip_prefix(body).and_then(|rest| rest.strip_prefix('\n'));
    let one = signatures.and_then(|s| s.strip_suffix('\n')).is_some_and(|line| !line.contains('\n'));
    if !one {
        return Err(CheckpointError::Malformed(
            "the note holds more than the checkpoint and its one signature, or writes them otherwise",
        ));
    }
    Ok(())
}

/// The extension line that names the subject map's root (`crate::crypto::map`).
pub const MAP_EXTENSION: &str = "lineage-map ";

/// A checkpoint that also names the root of the subject map of the same log size: one
/// extension line, `lineage-map <base64 map root>` (a C2SP extension line, which a checkpoint
/// reader that knows nothing of maps skips).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapCheckpoint {
    pub checkpoint: Checkpoint,
    pub map_root: Hash,
}

impl MapCheckpoint {
    pub fn body(&self) -> String {
        format!("{}{MAP_EXTENSION}{}\n", self.checkpoint.body(), B64.encode(self.map_root))
    }

    pub fn sign(&self, name: &str, key: &SigningKey) -> String {
        sign_body(&self.body(), name, key)
    }

    /// Opens a map checkpoint as strictly as [`Checkpoint::open`] does a checkpoint.
    pub fn open(note: &str, verifier: &NoteVerifier) -> Result<MapCheckpoint, CheckpointError> {
        let (checkpoint, extensions) = Checkpoint::open_lenient(note, verifier)?;
        let map_root = match extensions.as_slice() {
            [line] => line
                .strip_prefix(MAP_EXTENSION)
                .and_then(|r| B64.decode(r).ok())
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or(CheckpointError::Malformed("the fourth line is not `lineage-map <base64 root>`"))?,
            _ => return Err(CheckpointError::Malformed("a map checkpoint has one extension line, the map's root")),
        };
        let opened = MapCheckpoint { checkpoint, map_root };
        exactly(note, &opened.body())?;
        Ok(opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_opens_and_a_changed_one_does_not() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let verifier = NoteVerifier { name: "example.com/log".into(), key: key.verifying_key() };
        assert_eq!(NoteVerifier::parse(&verifier.vkey()).unwrap(), verifier);
        let checkpoint = Checkpoint { origin: "example.com/log".into(), size: 42, root: [9; 32] };
        let note = checkpoint.sign(&verifier.name, &key);
        assert_eq!(Checkpoint::open(&note, &verifier).unwrap(), checkpoint);
        let changed = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(Checkpoint::open(&changed, &verifier), Err(CheckpointError::BadSignature(verifier.name.clone())));
        let other = SigningKey::from_bytes(&[8; 32]);
        let resigned = checkpoint.sign(&verifier.name, &other);
        assert!(Checkpoint::open(&resigned, &verifier).is_err(), "a note signed by another key is refused");
        for garbage in ["", "\n\n", "a\nb\nc\n\n", "o\n1\nAAAA\n\n\u{2014} x y\n"] {
            assert!(Checkpoint::open(garbage, &verifier).is_err(), "{garbage:?}");
        }
        // Lines the verifier does not read.
        let signature_line = note.lines().last().unwrap().to_owned();
        let padded = checkpoint.body().replacen("\n42\n", "\n042\n", 1);
        let unread = [
            format!("{note}junk\n"),
            format!("{note}{signature_line}\n"),
            format!("{note}\u{2014} other.example/log AAAAAAAA\n"),
            note.trim_end_matches('\n').to_owned(),
            note.replacen("\n\n", "\nextension line\n\n", 1),
            format!("{padded}\n{signature_line}\n"),
        ];
        for case in unread {
            assert!(Checkpoint::open(&case, &verifier).is_err(), "{case:?}");
        }
    }

    #[test]
    fn a_map_checkpoint_opens_as_itself_and_never_as_a_plain_checkpoint() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let verifier = NoteVerifier { name: "example.com/log".into(), key: key.verifying_key() };
        let checkpoint = Checkpoint { origin: "example.com/log".into(), size: 42, root: [9; 32] };
        let mapped = MapCheckpoint { checkpoint: checkpoint.clone(), map_root: [3; 32] };
        let note = mapped.sign(&verifier.name, &key);
        assert_eq!(MapCheckpoint::open(&note, &verifier).unwrap(), mapped);
        assert!(Checkpoint::open(&note, &verifier).is_err());
        assert!(MapCheckpoint::open(&checkpoint.sign(&verifier.name, &key), &verifier).is_err());
        let other_root = note.replacen(&B64.encode([3u8; 32]), &B64.encode([4u8; 32]), 1);
        assert_eq!(
            MapCheckpoint::open(&other_root, &verifier),
            Err(CheckpointError::BadSignature(verifier.name.clone()))
        );
        let two = note.replacen("\n\n", &format!("\n{MAP_EXTENSION}{}\n\n", B64.encode([3u8; 32])), 1);
        assert!(MapCheckpoint::open(&two, &verifier).is_err());
    }
}
