//! Key files: an actor's signing key on disk, written with mode 0600.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::Path;

/// A private key and whose it is. The seed never appears in `Debug` output.
#[derive(Clone)]
pub struct KeyFile {
    pub actor: String,
    pub key_id: String,
    pub key: SigningKey,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileJson {
    actor: String,
    key_id: String,
    /// Standard base64 of the 32-byte ed25519 seed.
    seed: String,
    public_key: String,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("actor", &self.actor)
            .field("key_id", &self.key_id)
            .field("public_key", &self.public_key_base64())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("key file {path} is not a lineage key file: {reason}")]
    Format { path: String, reason: String },
}

impl KeyFile {
    pub fn generate(actor: &str, key_id: &str) -> KeyFile {
        KeyFile { actor: actor.into(), key_id: key_id.into(), key: SigningKey::generate(&mut rand_core::OsRng) }
    }

    pub fn from_seed(actor: &str, key_id: &str, seed: [u8; 32]) -> KeyFile {
        KeyFile { actor: actor.into(), key_id: key_id.into(), key: SigningKey::from_bytes(&seed) }
    }

    pub fn public_key_base64(&self) -> String {
        B64.encode(self.key.verifying_key().to_bytes())
    }

    pub fn load(path: &Path) -> Result<KeyFile, KeyFileError> {
        let display = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| KeyFileError::Io { path: display.clone(), source })?;
        let format = |reason: String| KeyFileError::Format { path: display.clone(), reason };
        let json: KeyFileJson = serde_json::from_slice(&text).map_err(|e| format(e.to_string()))?;
        let seed = B64.decode(&json.seed).map_err(|e| format(format!("seed: {e}")))?;
        let seed: [u8; 32] = seed.try_into().map_err(|_| format("seed must be 32 bytes".into()))?;
        let file = KeyFile::from_seed(&json.actor, &json.key_id, seed);
        if file.public_key_base64() != json.public_key {
            return Err(format("public_key does not match the seed".into()));
        }
        Ok(file)
    }

    /// Writes the key file, readable by its owner only; refuses to overwrite.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = KeyFileJson {
            actor: self.actor.clone(),
            key_id: self.key_id.clone(),
            seed: B64.encode(self.key.to_bytes()),
            public_key: self.public_key_base64(),
        };
        let mut text = serde_json::to_vec_pretty(&json).expect("key files serialize");
        text.push(b'\n');
        write_private(path, &text)
    }
}

/// Creates a new file with mode 0600 and syncs it.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_seed() {
        let key = KeyFile::from_seed("a", "k", [0xab; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains(&B64.encode([0xab; 32])) && !shown.contains(&hex::encode([0xab; 32])), "{shown}");
        assert!(shown.contains("public_key"));
    }
}
