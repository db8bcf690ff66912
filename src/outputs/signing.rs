//! Content Credentials signed into a file with the C2PA SDK (the `c2pa` crate): the manifest
//! [`crate::outputs::credentials`] derives, embedded in a JPEG or PNG and signed with the
//! holder's certificate chain and private key (Ed25519 or ECDSA P-256, PKCS#8 PEM).

use c2pa::{create_signer, Builder, Context, SigningAlg};
use serde_json::Value;
use std::io::Cursor;

/// What signing a file can fail on.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("files of type `{0}` cannot be signed here: give a JPEG (image/jpeg) or a PNG (image/png)")]
    MediaType(String),
    #[error("the private key is neither Ed25519 nor ECDSA P-256 in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`)")]
    UnknownKey,
    #[error("the certificate chain or the private key was refused: {0}")]
    Credentials(#[source] Box<c2pa::Error>),
    #[error("the C2PA SDK could not sign the file: {0}")]
    Sign(#[source] Box<c2pa::Error>),
}

/// A certificate chain and its private key: what signs Content Credentials.
#[derive(Clone)]
pub struct SigningCredentials {
    pub chain_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for SigningCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key never reaches a log.
        f.debug_struct("SigningCredentials").field("chain_pem", &self.chain_pem.len()).finish_non_exhaustive()
    }
}

impl SigningCredentials {
    /// Reads and checks them: the key's algorithm is one this ledger signs with, and the C2PA
    /// SDK takes the pair.
    pub fn load(chain: &std::path::Path, key: &std::path::Path) -> Result<SigningCredentials, LoadError> {
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|source| LoadError::Read { path: path.to_owned(), source })
        };
        let credentials = SigningCredentials { chain_pem: read(chain)?, key_pem: read(key)? };
        let alg = algorithm(&credentials.key_pem).ok_or(LoadError::Key(SigningError::UnknownKey))?;
        create_signer::from_keys(&credentials.chain_pem, &credentials.key_pem, alg, None)
            .map_err(|e| LoadError::Key(SigningError::Credentials(Box::new(e))))?;
        Ok(credentials)
    }
}

/// Why signing credentials could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(SigningError),
}

/// The media types the ledger signs Content Credentials into.
pub const SIGNABLE: [&str; 2] = ["image/jpeg", "image/png"];

/// The algorithm of a PKCS#8 PEM private key, by the algorithm identifier it carries: Ed25519
/// (OID 1.3.101.112) or ECDSA on P-256 (id-ecPublicKey with prime256v1).
pub fn algorithm(key_pem: &[u8]) -> Option<SigningAlg> {
    use base64::Engine as _;
    let text = std::str::from_utf8(key_pem).ok()?;
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN PRIVATE KEY-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body.trim()).ok()?;
    let contains = |needle: &[u8]| der.windows(needle.len()).any(|w| w == needle);
    const ED25519: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];
    const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    if contains(&ED25519) {
        Some(SigningAlg::Ed25519)
    } else if contains(&P256) {
        Some(SigningAlg::Es256)
    } else {
        None
    }
}

/// `file` (of `media_type`) with `manifest` signed into it by the holder of the credentials
/// (their chain: the end-entity certificate first, then its issuers).
pub fn sign(
    manifest: &Value,
    media_type: &str,
    file: &[u8],
    credentials: &SigningCredentials,
) -> Result<Vec<u8>, SigningError> {
    let (chain_pem, key_pem) = (&credentials.chain_pem, &credentials.key_pem);
    if !SIGNABLE.contains(&media_type) {
        return Err(SigningError::MediaType(media_type.to_owned()));
    }
    let alg = algorithm(key_pem).ok_or(SigningError::UnknownKey)?;
    let signer =
        create_signer::from_keys(chain_pem, key_pem, alg, None).map_err(|e| SigningError::Credentials(Box::new(e)))?;
    let mut builder = Builder::from_context(Context::new())
        .with_definition(manifest.to_string())
        .map_err(|e| SigningError::Sign(Box::new(e)))?;
    let mut out = Cursor::new(Vec::with_capacity(file.len() + 64 * 1024));
    builder
        .sign(signer.as_ref(), media_type, &mut Cursor::new(file), &mut out)
        .map_err(|e| SigningError::Sign(Box::new(e)))?;
    Ok(out.into_inner())
}
