//! How the rules remember ids: namespaces, records and keyed 16-byte keys.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    Brief,
    Reference,
    ModelVersion,
    Pipeline,
    Prompt,
    Asset,
    Generation,
    Selection,
    PostEdit,
    QcReview,
    Approval,
    Delivery,
}

impl Namespace {
    pub fn noun(self) -> &'static str {
        match self {
            Namespace::Brief => "brief",
            Namespace::Reference => "reference",
            Namespace::ModelVersion => "model version",
            Namespace::Pipeline => "pipeline",
            Namespace::Prompt => "prompt",
            Namespace::Asset => "asset",
            Namespace::Generation => "generation",
            Namespace::Selection => "selection",
            Namespace::PostEdit => "post edit",
            Namespace::QcReview => "QC review",
            Namespace::Approval => "approval",
            Namespace::Delivery => "delivery",
        }
    }
}

/// What is remembered of one record of a project.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Plain,
    Brief { formats: Vec<Label> },
    Asset { digest: Digest },
}

/// An id as the rules remember it: 16 bytes of a keyed hash of it (two SipHash-2-4), no
/// allocation of its own (a large project remembers millions). The keys are secret — derived
/// from the ledger's seed, or drawn at random once per process —, so that
/// nobody can choose ids whose 128-bit keys collide; by chance, two of a billion ids collide with
/// a probability below 10⁻²⁰.
pub type IdKey = [u8; 16];

/// The keys of [`keyed`]: drawn at random unless a ledger gave its own first
/// ([`use_ledger_keys`]).
static KEYS: std::sync::OnceLock<[u64; 4]> = std::sync::OnceLock::new();

fn keys() -> &'static [u64; 4] {
    KEYS.get_or_init(|| {
        let mut bytes = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        keys_of(&bytes)
    })
}

fn keys_of(bytes: &[u8; 32]) -> [u64; 4] {
    std::array::from_fn(|i| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes")))
}

/// Keys the process's ids with keys derived from a ledger's secret seed, so that a state sealed
/// by one process (which holds only keys, not ids) is read alike by the next. Returns whether
/// the process's keys are the ledger's: false when something was keyed before (another ledger
/// in the same process), which then keeps its keys.
pub fn use_ledger_keys(seed: &[u8; 32]) -> bool {
    use hmac::Mac as _;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(seed).expect("any key length");
    mac.update(b"lineage id keys v1");
    let derived = keys_of(&mac.finalize().into_bytes().into());
    *KEYS.get_or_init(|| derived) == derived
}

/// A digest of the process's id keys, which a sealed state names: a state keyed otherwise is
/// not read.
pub fn keys_fingerprint() -> [u8; 32] {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"lineage id keys fingerprint");
    for k in keys() {
        hasher.update(k.to_le_bytes());
    }
    hasher.finalize().into()
}

fn keyed(parts: &[&[u8]]) -> IdKey {
    use std::hash::Hasher as _;
    // Two SipHash-2-4 of independent secret 128-bit keys: a keyed function nobody without the
    // keys can aim collisions at, at a tenth of a SHA-256's cost (the rules key every id they
    // read or remember).
    let keys = keys();
    let half = |k0: u64, k1: u64| {
        #[allow(deprecated)]
        let mut hasher = std::hash::SipHasher::new_with_keys(k0, k1);
        for part in parts {
            hasher.write(part);
            hasher.write_u8(0xff);
        }
        hasher.finish()
    };
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&half(keys[0], keys[1]).to_le_bytes());
    key[8..].copy_from_slice(&half(keys[2], keys[3]).to_le_bytes());
    key
}

pub fn id_key(id: &str) -> IdKey {
    keyed(&[id.as_bytes()])
}

/// The key a record is remembered by: its namespace's tag and its id, keyed.
pub(super) fn record_key(ns: Namespace, id: &str) -> IdKey {
    keyed(&[&[ns as u8 + 1], id.as_bytes()])
}

/// The key a digest's bytes are remembered by.
pub fn bytes_key(digest: &[u8; 32]) -> IdKey {
    keyed(&[b"bytes", digest])
}

/// The key an asset is remembered by.
pub fn asset_key(id: &Id) -> IdKey {
    record_key(Namespace::Asset, id.as_str())
}
