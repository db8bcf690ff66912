//! The export format (JSON Lines; `docs/transparency.md`) and its offline verification.
//!
//! ```text
//! {"format":"lineage-export","version":1,"origin":…,"vkey":…,"ledger_public_key":…,"size":N}
//! {"sequence":0,"project":…,"version":1,"received_at_us":…,"envelope":"<base64>","prev_hash":"<hex>","hash":"<hex>"}
//! … one line per entry, in sequence order …
//! {"checkpoint":"<signed note>"}
//! ```

use super::entry::Entry;
use super::replay::{Broken, Depth, Replay};
use crate::crypto::checkpoint::{Checkpoint, NoteVerifier};
use crate::domain::ids::PublicKeyBytes;
use crate::domain::SystemState;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

pub const EXPORT_FORMAT: &str = "lineage-export";

/// One entry as exported: every field the leaf bytes cover, the envelope in base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRecord {
    pub sequence: u64,
    pub project: String,
    pub version: u64,
    /// Microseconds since the Unix epoch, UTC.
    pub received_at_us: i64,
    /// Standard base64 of the envelope's exact bytes.
    pub envelope: String,
    /// Hex.
    pub prev_hash: String,
    /// Hex SHA-256 of the leaf bytes, as stored.
    pub hash: String,
}

impl EntryRecord {
    pub fn of(entry: &Entry) -> EntryRecord {
        EntryRecord {
            sequence: entry.sequence,
            project: entry.project.clone(),
            version: entry.version,
            received_at_us: entry.received_at_us,
            envelope: B64.encode(&entry.envelope),
            prev_hash: hex::encode(entry.prev_hash),
            hash: hex::encode(entry.hash),
        }
    }

    /// The entry, with its hash as recorded (not recomputed: verification compares the two).
    pub fn to_entry(&self) -> Result<Entry, Broken> {
        let bad = |what: &str| Broken { sequence: self.sequence, reason: format!("{what} is malformed") };
        let hash32 = |s: &str| -> Option<[u8; 32]> { hex::decode(s).ok()?.try_into().ok() };
        Ok(Entry {
            sequence: self.sequence,
            project: self.project.clone(),
            version: self.version,
            received_at_us: self.received_at_us,
            envelope: B64.decode(&self.envelope).map_err(|_| bad("envelope"))?,
            prev_hash: hash32(&self.prev_hash).ok_or_else(|| bad("prev_hash"))?,
            hash: hash32(&self.hash).ok_or_else(|| bad("hash"))?,
        })
    }
}

/// The first line of an export, and the head of an evidence bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportHeader {
    pub format: String,
    pub version: u32,
    pub origin: String,
    /// The checkpoint verifier key (C2SP vkey).
    pub vkey: String,
    /// Standard base64 of the ledger's ed25519 public key, which signs the genesis entry.
    pub ledger_public_key: String,
    pub size: u64,
}

impl ExportHeader {
    /// The header of an export of the log that `checkpoint` signs.
    pub fn of(checkpoint: &Checkpoint, verifier: &NoteVerifier) -> ExportHeader {
        ExportHeader {
            format: EXPORT_FORMAT.into(),
            version: 1,
            origin: checkpoint.origin.clone(),
            vkey: verifier.vkey(),
            ledger_public_key: B64.encode(verifier.key.to_bytes()),
            size: checkpoint.size,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointLine {
    checkpoint: String,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("line {line}: {reason}")]
    Format { line: usize, reason: String },
    #[error("the verifier key: {0}")]
    Key(String),
    #[error("{0}")]
    Entry(#[from] Broken),
    #[error("reading: {0}")]
    Io(#[from] std::io::Error),
    #[error("the bundle is not complete: {0}")]
    Incomplete(#[from] super::completeness::Incomplete),
}

/// What a successful verification established.
#[derive(Debug)]
pub struct Verified {
    pub header: ExportHeader,
    pub size: u64,
    pub root: [u8; 32],
    pub entries: Vec<Entry>,
    pub note: String,
    /// The root of the subject map of these entries (`crate::crypto::map`), computed from them:
    /// a map checkpoint of the same size must name it.
    pub map_root: [u8; 32],
}

/// Every subject's count and chain head, entry by entry.
#[derive(Default)]
struct SubjectChains(std::collections::HashMap<crate::crypto::map::Key, (u64, [u8; 32])>);

impl SubjectChains {
    fn push(&mut self, entry: &Entry, payload: &crate::domain::Payload) {
        use crate::crypto::map;
        let leaf = entry.leaf_hash();
        for subject in super::subjects::of(payload) {
            let (count, head) = self.0.entry(map::key_of(&subject)).or_insert((0, map::EMPTY));
            *count += 1;
            *head = map::chain(head, entry.sequence, &leaf);
        }
    }

    fn root(&self) -> [u8; 32] {
        use crate::crypto::map;
        let mut leaves: Vec<_> =
            self.0.iter().map(|(key, (count, head))| (*key, map::leaf_hash(key, *count, head))).collect();
        leaves.sort_by_key(|l| l.0);
        map::root_of(&leaves)
    }
}

/// The system state before the first entry, from the ledger's public key as a file states it.
pub fn genesis_from(ledger_public_key: &str) -> Result<SystemState, VerifyError> {
    let key =
        PublicKeyBytes::parse(ledger_public_key).map_err(|e| VerifyError::Key(format!("ledger_public_key {e}")))?;
    Ok(crate::domain::genesis::genesis_state(key))
}

/// Checks the header's keys against each other and, when given, against the verifier key the
/// user trusts.
pub fn trusted_verifier(
    header_vkey: &str,
    ledger_public_key: &str,
    pinned: Option<&str>,
) -> Result<NoteVerifier, VerifyError> {
    let verifier = NoteVerifier::parse(header_vkey).map_err(|e| VerifyError::Key(e.to_string()))?;
    if B64.encode(verifier.key.to_bytes()) != ledger_public_key {
        return Err(VerifyError::Key("the vkey is not the ledger's public key".into()));
    }
    if let Some(pinned) = pinned {
        let pinned = NoteVerifier::parse(pinned).map_err(|e| VerifyError::Key(e.to_string()))?;
        if pinned != verifier {
            return Err(VerifyError::Key(format!(
                "the file is signed by `{}`, not by the trusted key",
                verifier.vkey()
            )));
        }
    }
    Ok(verifier)
}

/// The first line of an export.
pub fn header_line(header: &ExportHeader) -> Vec<u8> {
    line(header)
}

/// Appends one entry's line to `out`.
pub fn push_entry_line(out: &mut Vec<u8>, entry: &Entry) {
    serde_json::to_writer(&mut *out, &EntryRecord::of(entry)).expect("records serialize");
    out.push(b'\n');
}

/// The last line of an export.
pub fn checkpoint_line(note: &str) -> Vec<u8> {
    line(&CheckpointLine { checkpoint: note.to_owned() })
}

fn line(value: &impl Serialize) -> Vec<u8> {
    let mut out = serde_json::to_vec(value).expect("export lines serialize");
    out.push(b'\n');
    out
}

/// Writes an export: the header, the entries, the checkpoint (the lines the HTTP export streams).
pub fn write_export(
    out: &mut impl Write,
    header: &ExportHeader,
    entries: impl Iterator<Item = Entry>,
    note: &str,
) -> std::io::Result<()> {
    out.write_all(&header_line(header))?;
    let mut buffer = Vec::new();
    for entry in entries {
        buffer.clear();
        push_entry_line(&mut buffer, &entry);
        out.write_all(&buffer)?;
    }
    out.write_all(&checkpoint_line(note))
}

/// Verifies an export offline: every signature against the keys valid at its point of the log,
/// every chain, every rule, and the Merkle root against the signed checkpoint. Names the first
/// bad entry.
pub fn verify(input: impl BufRead, pinned_vkey: Option<&str>, keep_entries: bool) -> Result<Verified, VerifyError> {
    let mut lines = input.lines().enumerate();
    let format_error = |line: usize, reason: String| VerifyError::Format { line: line + 1, reason };
    let (n, first) = lines.next().ok_or_else(|| format_error(0, "the file is empty".into()))?;
    let header: ExportHeader = serde_json::from_str(&first?).map_err(|e| format_error(n, e.to_string()))?;
    if header.format != EXPORT_FORMAT || header.version != 1 {
        return Err(format_error(n, format!("not a {EXPORT_FORMAT} version 1 file")));
    }
    let verifier = trusted_verifier(&header.vkey, &header.ledger_public_key, pinned_vkey)?;
    let mut replay = Replay::new(genesis_from(&header.ledger_public_key)?, Depth::Full, &header.origin);
    let mut kept = Vec::new();
    let mut subjects = SubjectChains::default();
    while let Some((n, line)) = lines.next() {
        let line = line?;
        if let Ok(CheckpointLine { checkpoint }) = serde_json::from_str::<CheckpointLine>(&line) {
            let checkpoint = replay.check_checkpoint(&checkpoint, &verifier)?;
            if checkpoint.size != header.size {
                return Err(format_error(
                    n,
                    format!("the header says {} entries, the checkpoint {}", header.size, checkpoint.size),
                ));
            }
            // The checkpoint is the last line: whatever follows it was not checked, and a file
            // that carries more than was verified does not verify.
            if let Some((after, _)) = lines.next() {
                return Err(format_error(
                    after,
                    "the checkpoint line must be the last: nothing may follow it (an entry after it is covered by no checkpoint)".into(),
                ));
            }
            return Ok(Verified {
                header,
                size: checkpoint.size,
                root: checkpoint.root,
                entries: kept,
                note: checkpoint_note(&line),
                map_root: subjects.root(),
            });
        }
        let record: EntryRecord = serde_json::from_str(&line).map_err(|e| format_error(n, e.to_string()))?;
        let entry = record.to_entry()?;
        let payload = replay.push(&entry)?;
        subjects.push(&entry, &payload);
        if keep_entries {
            kept.push(entry);
        }
    }
    Err(Broken { sequence: replay.next, reason: "the file ends without a checkpoint".into() }.into())
}

fn checkpoint_note(line: &str) -> String {
    serde_json::from_str::<CheckpointLine>(line).map(|c| c.checkpoint).unwrap_or_default()
}
