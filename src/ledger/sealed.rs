//! The writer's state sealed at a point of the log, so that a start replays only the entries
//! after it instead of the whole log.
//!
//! A sealed state holds what a replay up to `next` entries would hold — the rules' state, every
//! stream's head, the last receive time — and the point itself: the leaf hash of entry
//! `next - 1` and the Merkle root of the first `next` entries. It is read only when the store
//! agrees on that point, and only by a process keying ids as the one that sealed it. Its bytes
//! are `MAGIC ‖ body ‖ HMAC-SHA-256(key, MAGIC ‖ body)`, the key derived from the ledger's
//! signing seed: a file damaged or written by anyone without the key is not read (the start
//! replays the whole log instead).
//!
//! The body is canonical (maps in the order of their keys), so that the background check of a
//! start ([`super::start_check`]) compares the authentication of the body it read with that of
//! the body a replay of the same entries gives.

use crate::domain::state::codec::{In, Out, Unsealed};
use crate::domain::{LedgerState, ProjectId};
use crate::log::replay::Chain;
use std::collections::HashMap;

const MAGIC: &[u8] = b"lineage sealed state v1\n";

/// The key a sealed state is authenticated with.
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl SealKey {
    pub fn of_seed(seed: &[u8; 32]) -> SealKey {
        SealKey(hmac(seed, &[b"lineage sealed state"]))
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// A point of the log and the state a replay reaches there.
pub struct Point<'a> {
    pub next: u64,
    pub last_leaf: [u8; 32],
    pub root: [u8; 32],
    pub last_received: i64,
    pub chains: &'a HashMap<ProjectId, Chain>,
    pub ledger: &'a LedgerState,
}

impl<'a> Point<'a> {
    /// Where a replay stands, the last entry received at `last_received`.
    pub fn of_replay(replay: &'a crate::log::replay::Replay, last_received: i64) -> Point<'a> {
        Point {
            next: replay.next,
            last_leaf: replay.last_leaf,
            root: replay.frontier.root(),
            last_received,
            chains: &replay.chains,
            ledger: &replay.ledger,
        }
    }

    /// The canonical body.
    pub fn body(&self) -> Vec<u8> {
        let mut out = Out::default();
        self.write(&mut out);
        out.bytes
    }

    fn write(&self, out: &mut Out) {
        out.raw(&crate::domain::state::keys_fingerprint());
        out.u64(self.next);
        out.raw(&self.last_leaf);
        out.raw(&self.root);
        out.i64(self.last_received);
        out.sorted(self.chains.iter(), |out, project, chain| {
            out.str(project.as_str());
            out.u64(chain.version);
            out.raw(&chain.head);
            out.i64(chain.received_at_us);
        });
        self.ledger.seal(out);
    }
}

/// What a start read from the sealed state: the entries it covers, and its body's [`digest`].
#[derive(Debug, Clone, Copy)]
pub struct Resumed {
    pub covered: u64,
    pub digest: [u8; 32],
}

/// A point's sealed bytes, encoded in place into room for `expected` bytes: the magic line, the
/// body, its authentication.
pub fn seal_body(key: &SealKey, point: Point<'_>, expected: usize) -> Vec<u8> {
    let mut out = Out { bytes: Vec::with_capacity(expected) };
    out.raw(MAGIC);
    point.write(&mut out);
    let mac = digest(key, &out.bytes[MAGIC.len()..]);
    out.raw(&mac);
    out.bytes
}

/// What a body is known by: its authentication, which [`open`] checks and the start's check
/// compares with the body its replay gives (one pass over the bytes, not two).
pub fn digest(key: &SealKey, body: &[u8]) -> [u8; 32] {
    hmac(&key.0, &[MAGIC, body])
}

/// A sealed state read back.
pub struct Unsealing {
    pub next: u64,
    pub last_leaf: [u8; 32],
    pub root: [u8; 32],
    pub last_received: i64,
    pub chains: HashMap<ProjectId, Chain>,
    pub ledger: LedgerState,
    /// Its body's [`digest`].
    pub digest: [u8; 32],
}

/// Why a sealed state is not read.
#[derive(Debug, thiserror::Error)]
pub enum NotRead {
    #[error("it is not a sealed state of this release")]
    Format,
    #[error("its authentication does not verify (damaged, or sealed with another key)")]
    Mac,
    #[error("it was sealed by a process keying ids otherwise")]
    Keys,
    #[error(transparent)]
    Unsealed(#[from] Unsealed),
}

/// The entries a sealed state says it covers, read without checking it (for tools that wait
/// for a seal).
pub fn covered(bytes: &[u8]) -> Option<u64> {
    let mut input = In::new(bytes.strip_prefix(MAGIC)?);
    input.hash().ok()?;
    input.u64().ok()
}

pub fn open(key: &SealKey, bytes: &[u8]) -> Result<Unsealing, NotRead> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(NotRead::Format)?;
    let split = rest.len().checked_sub(32).ok_or(NotRead::Format)?;
    let (body, mac) = rest.split_at(split);
    let expected = digest(key, body);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], mac)) {
        return Err(NotRead::Mac);
    }
    let mut input = In::new(body);
    if input.hash()? != crate::domain::state::keys_fingerprint() {
        return Err(NotRead::Keys);
    }
    let next = input.u64()?;
    let last_leaf = input.hash()?;
    let root = input.hash()?;
    let last_received = input.i64()?;
    let mut chains = HashMap::new();
    for _ in 0..input.len(56)? {
        let project = input.parsed(ProjectId::parse)?;
        let version = input.u64()?;
        let head = input.hash()?;
        chains.insert(project, Chain { version, head, received_at_us: input.i64()? });
    }
    let ledger = LedgerState::unseal(&mut input)?;
    input.end()?;
    Ok(Unsealing { next, last_leaf, root, last_received, chains, ledger, digest: expected })
}
