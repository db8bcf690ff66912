//! The export format (JSON Lines; `docs/transparency.md`) and its offline verification.
//!
//! ```text
//! {"format":"lineage-export","version":1,"origin":…,"vkey":…,"ledger_public_key":…,"size":N}
//! {"format":"lineage-export","version":2,"origin":…,"vkey":…,"ledger_public_key":…,"size":N}
//! {"sequence":0,"project":…,"version":1,"received_at_us":…,"envelope":"<base64>","prev_hash":"<hex>","hash":"<hex>"}
//! {"subject":"actor:…","blind":"<hex>"}   one per subject the entry above names first
//! … one line per entry, in sequence order, each followed by its new subjects' blinds …
//! {"checkpoint":"<signed note>"}
//! ```
//!
//! The blinds let whoever holds an export compute the subject map and check it against a map
//! checkpoint. Version 1 exports, from before subjects were blinded, carry none: they verify,
//! without a subject map root.

use super::entry::Entry;
use super::replay::{Broken, Depth, Replay};
use crate::crypto::checkpoint::{Checkpoint, NoteVerifier};
use crate::domain::ids::PublicKeyBytes;
use crate::domain::SystemState;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::io::BufRead;

pub const EXPORT_FORMAT: &str = "lineage-export";
/// Exports are written in this version; version 1 (without subjects' blinds) is still read.
pub const EXPORT_VERSION: u32 = 2;

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
        let envelope = B64.decode(&self.envelope).map_err(|_| malformed(self.sequence, "envelope"))?;
        let (prev_hash, hash) = hashes(self.sequence, &self.prev_hash, &self.hash)?;
        Ok(Entry {
            sequence: self.sequence,
            project: self.project.clone(),
            version: self.version,
            received_at_us: self.received_at_us,
            envelope,
            prev_hash,
            hash,
        })
    }
}

fn malformed(sequence: u64, what: &str) -> Broken {
    Broken { sequence, reason: format!("{what} is malformed") }
}

/// An entry record's `prev_hash` and `hash`, from hex (an export's or a bundle's).
pub(super) fn hashes(sequence: u64, prev_hash: &str, hash: &str) -> Result<([u8; 32], [u8; 32]), Broken> {
    let hash32 = |s: &str| -> Option<[u8; 32]> { hex::decode(s).ok()?.try_into().ok() };
    Ok((
        hash32(prev_hash).ok_or_else(|| malformed(sequence, "prev_hash"))?,
        hash32(hash).ok_or_else(|| malformed(sequence, "hash"))?,
    ))
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
            version: EXPORT_VERSION,
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

/// A subject's blind, after the entry that names the subject first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BlindLine {
    subject: String,
    /// Hex.
    blind: String,
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
    #[error("a disclosed confidential text {0}")]
    Disclosure(String),
}

/// What a successful verification established.
#[derive(Debug)]
pub struct Verified {
    pub header: ExportHeader,
    pub size: u64,
    pub root: [u8; 32],
    pub entries: Vec<Entry>,
    pub note: String,
    /// The root of the subject map of these entries (`crate::crypto::map`), computed from them
    /// and the export's blinds: a map checkpoint of the same size must name it. `None` for a
    /// version 1 export, which carries no blinds.
    pub map_root: Option<[u8; 32]>,
    /// The root of the subject map of the first `n` entries, when asked for with
    /// [`verify_with_map_at`]: what a map checkpoint of that size must name.
    pub map_root_at: Option<(u64, [u8; 32])>,
}

/// Every subject's blind, count and chain head, entry by entry; and the subjects the last entry
/// named first, whose blinds come next.
#[derive(Default)]
struct SubjectChains {
    subjects: std::collections::HashMap<String, SubjectChain>,
    awaiting: Vec<String>,
}

#[derive(Default)]
struct SubjectChain {
    blind: Option<[u8; 32]>,
    count: u64,
    head: [u8; 32],
}

impl SubjectChains {
    fn push(&mut self, entry: &Entry, payload: &crate::domain::Payload) {
        use crate::crypto::map;
        let leaf = entry.leaf_hash();
        for subject in super::subjects::of(payload) {
            let chain = self.subjects.entry(subject.clone()).or_default();
            if chain.count == 0 {
                self.awaiting.push(subject);
            }
            chain.count += 1;
            chain.head = map::chain(&chain.head, entry.sequence, &leaf);
        }
    }

    /// A blind line: the blind of a subject the entry before named first.
    fn blind(&mut self, line: BlindLine) -> Result<(), String> {
        let Some(at) = self.awaiting.iter().position(|s| *s == line.subject) else {
            return Err(format!("the blind of `{}` is not after the entry that names it first", line.subject));
        };
        let blind = hex::decode(&line.blind).ok().and_then(|b| b.try_into().ok());
        let blind = blind.ok_or_else(|| format!("the blind of `{}` is not 32 bytes in hex", line.subject))?;
        self.awaiting.swap_remove(at);
        self.subjects.get_mut(&line.subject).expect("an awaited subject is held").blind = Some(blind);
        Ok(())
    }

    /// Before the next entry (or the checkpoint): the last entry's new subjects each had a blind.
    fn blinded(&self) -> Result<(), String> {
        match self.awaiting.first() {
            Some(subject) => {
                Err(format!("the blind of `{subject}` is missing: it must follow the entry that names it first"))
            }
            None => Ok(()),
        }
    }

    fn root(&self) -> [u8; 32] {
        use crate::crypto::map;
        let mut leaves: Vec<_> = self
            .subjects
            .iter()
            .map(|(subject, c)| {
                let key = map::key_of(subject, &c.blind.unwrap_or_default());
                (key, map::leaf_hash(&key, c.count, &c.head))
            })
            .collect();
        leaves.sort_by_key(|l| l.0);
        map::root_of(&leaves)
    }
}

/// The blinds an export discloses, each subject's once, after the entry that names it first.
#[derive(Default)]
pub struct BlindLines {
    seen: std::collections::HashSet<String>,
}

impl BlindLines {
    /// Appends to `out` the blind lines of the subjects `payload` names first.
    pub fn push(&mut self, out: &mut Vec<u8>, payload: &crate::domain::Payload, blind_of: impl Fn(&str) -> [u8; 32]) {
        for subject in super::subjects::of(payload) {
            if !self.seen.contains(&subject) {
                let blind = hex::encode(blind_of(&subject));
                serde_json::to_writer(&mut *out, &BlindLine { subject: subject.clone(), blind })
                    .expect("records serialize");
                out.push(b'\n');
                self.seen.insert(subject);
            }
        }
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

/// Verifies an export offline: every signature against the keys valid at its point of the log,
/// every chain, every rule, and the Merkle root against the signed checkpoint. Names the first
/// bad entry.
pub fn verify(input: impl BufRead, pinned_vkey: Option<&str>, keep_entries: bool) -> Result<Verified, VerifyError> {
    verify_with_map_at(input, pinned_vkey, keep_entries, None)
}

/// [`verify`], and the subject map's root after the first `map_at` entries (a version 2 export
/// of at least that many), to compare with a map checkpoint of that size.
pub fn verify_with_map_at(
    input: impl BufRead,
    pinned_vkey: Option<&str>,
    keep_entries: bool,
    map_at: Option<u64>,
) -> Result<Verified, VerifyError> {
    let mut lines = input.lines().enumerate();
    let format_error = |line: usize, reason: String| VerifyError::Format { line: line + 1, reason };
    let (n, first) = lines.next().ok_or_else(|| format_error(0, "the file is empty".into()))?;
    let header: ExportHeader = serde_json::from_str(&first?).map_err(|e| format_error(n, e.to_string()))?;
    if header.format != EXPORT_FORMAT || !(1..=EXPORT_VERSION).contains(&header.version) {
        return Err(format_error(n, format!("not a {EXPORT_FORMAT} file of version 1 to {EXPORT_VERSION}")));
    }
    let blinded = header.version >= 2;
    let verifier = trusted_verifier(&header.vkey, &header.ledger_public_key, pinned_vkey)?;
    let mut replay = Replay::new(genesis_from(&header.ledger_public_key)?, Depth::Full, &header.origin);
    let mut kept = Vec::new();
    let mut subjects = SubjectChains::default();
    let mut root_at = None;
    while let Some((n, line)) = lines.next() {
        let line = line?;
        if blinded {
            if let Ok(blind) = serde_json::from_str::<BlindLine>(&line) {
                subjects.blind(blind).map_err(|reason| format_error(n, reason))?;
                continue;
            }
            subjects.blinded().map_err(|reason| format_error(n, reason))?;
            // Every entry below `map_at` and its subjects' blinds are in: the map of that size.
            if map_at == Some(replay.next) && root_at.is_none() {
                root_at = Some((replay.next, subjects.root()));
            }
        }
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
                map_root: blinded.then(|| subjects.root()),
                map_root_at: root_at,
            });
        }
        let record: EntryRecord = serde_json::from_str(&line).map_err(|e| format_error(n, e.to_string()))?;
        let entry = record.to_entry()?;
        let payload = replay.push(&entry)?;
        if blinded {
            subjects.push(&entry, &payload);
        }
        if keep_entries {
            kept.push(entry);
        }
    }
    Err(Broken { sequence: replay.next, reason: "the file ends without a checkpoint".into() }.into())
}

fn checkpoint_note(line: &str) -> String {
    serde_json::from_str::<CheckpointLine>(line).map(|c| c.checkpoint).unwrap_or_default()
}
