//! One record of the log, and its exact bytes: what the per-project chain and the Merkle tree
//! commit to. The byte layout is a contract documented in `docs/formats.md`.

use crate::crypto::dsse::{Envelope, EnvelopeError, Opened};
use crate::domain::{Payload, PayloadError};
use sha2::{Digest as _, Sha256};

/// Why an envelope (submitted or stored) does not open into a payload.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(transparent)]
    Payload(#[from] PayloadError),
}

/// Opens a stored entry: its envelope and its payload, read at whatever schema version it was
/// written.
pub fn open_entry(entry: &Entry) -> Result<(Opened, Payload), OpenError> {
    let opened = Envelope::from_json(&entry.envelope)?.open()?;
    let payload = Payload::read(&opened.payload)?;
    Ok((opened, payload))
}

/// An accepted event as the log keeps it.
#[derive(Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct Entry {
    /// Global position, from 0; also the entry's leaf index in the Merkle tree.
    pub sequence: u64,
    /// The stream: a project id, or `system`.
    pub project: String,
    /// Position in the project's stream, from 1.
    pub version: u64,
    /// When the ledger received it: microseconds since the Unix epoch, UTC.
    pub received_at_us: i64,
    /// The DSSE envelope exactly as submitted.
    pub envelope: Vec<u8>,
    /// `hash` of the previous entry of the same project; 32 zero bytes for the first.
    pub prev_hash: [u8; 32],
    /// SHA-256 of [`Entry::leaf_bytes`].
    pub hash: [u8; 32],
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("sequence", &self.sequence)
            .field("project", &self.project)
            .field("version", &self.version)
            .field("hash", &hex::encode(self.hash))
            .finish_non_exhaustive()
    }
}

/// The first byte of every leaf: the layout's version.
pub const LEAF_FORMAT: u8 = 1;

impl Entry {
    /// Builds an entry and computes its hash.
    pub fn new(
        sequence: u64,
        project: String,
        version: u64,
        received_at_us: i64,
        envelope: Vec<u8>,
        prev_hash: [u8; 32],
    ) -> Entry {
        let mut entry = Entry { sequence, project, version, received_at_us, envelope, prev_hash, hash: [0; 32] };
        entry.hash = entry.computed_hash();
        entry
    }

    /// The leaf: `01 || u64 sequence || u32 len || project || u64 version || i64 received_at_us
    /// || prev_hash[32] || u32 len || envelope`, integers big-endian.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 8 + 4 + self.project.len() + 8 + 8 + 32 + 4 + self.envelope.len());
        self.leaf_parts(|part| out.extend_from_slice(part));
        out
    }

    /// The leaf's parts in order: hashes take them one by one, without copying the envelope
    /// into a buffer first.
    fn leaf_parts(&self, mut put: impl FnMut(&[u8])) {
        put(&[LEAF_FORMAT]);
        put(&self.sequence.to_be_bytes());
        put(&(self.project.len() as u32).to_be_bytes());
        put(self.project.as_bytes());
        put(&self.version.to_be_bytes());
        put(&self.received_at_us.to_be_bytes());
        put(&self.prev_hash);
        put(&(self.envelope.len() as u32).to_be_bytes());
        put(&self.envelope);
    }

    pub fn computed_hash(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        self.leaf_parts(|part| hasher.update(part));
        hasher.finalize().into()
    }

    /// RFC 9162 leaf hash: SHA-256(0x00 || leaf).
    pub fn leaf_hash(&self) -> [u8; 32] {
        let mut hasher = crate::crypto::merkle::leaf_hasher();
        self.leaf_parts(|part| hasher.update(part));
        hasher.finalize().into()
    }

    pub fn received_at(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_micros(self.received_at_us).unwrap_or_default()
    }

    pub fn encode(&self) -> Vec<u8> {
        bincode::encode_to_vec(self, bincode::config::standard()).expect("entries encode")
    }

    pub fn decode(bytes: &[u8]) -> Result<Entry, bincode::error::DecodeError> {
        // A damaged length prefix must not make the decoder allocate without bound.
        let config = bincode::config::standard().with_limit::<{ 16 * 1024 * 1024 }>();
        let (entry, read) = bincode::decode_from_slice(bytes, config)?;
        if read != bytes.len() {
            return Err(bincode::error::DecodeError::OtherString(format!(
                "{} trailing bytes after the entry",
                bytes.len() - read
            )));
        }
        Ok(entry)
    }
}
