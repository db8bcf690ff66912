//! Entries stored compressed, each on its own, against a dictionary taken from the log's own
//! earlier entries.
//!
//! Envelopes are small JSON documents, base64 inside DSSE, most of whose bytes repeat from one
//! entry to the next (keys, kinds, project and asset names, signer ids). Compressed alone an
//! entry keeps about 0.7 of its bytes; against a dictionary of a few dozen earlier entries about
//! 0.3, close to what compressing whole chunks gives, while a read still inflates only the entry
//! it wants (a project's page of events touches one chunk per event: inflating whole chunks cost
//! those reads 70%).
//!
//! The dictionary is zstd "raw content": the bytes [`PREFIX`] and then samples of recent entries
//! as packed, at most [`DICTIONARY_BYTES`]. It is kept, followed by its SHA-256, under `D` + the first sequence whose
//! chunk uses it (that chunk's key), written in the same commit as that chunk, so a chunk never
//! names a dictionary that is not durable, and used for later commits once that commit is. A
//! dictionary is made once `after` entries were appended since the store opened (sampling one in
//! every `after / SAMPLES`), and again once [`RENEW_AFTER`] entries used it, so that it follows
//! what a ledger carries over years: at most [`DICTIONARY_BYTES`] per start and per
//! [`RENEW_AFTER`] entries. Chunks written before (or with `after` 0) are raw and read as they
//! are.

use super::StoreError;
use sha2::{Digest as _, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use zstd::zstd_safe::{CCtx, CDict, DCtx, DDict};

/// What every dictionary starts with: never zstd's dictionary magic, so zstd reads the rest as
/// raw content whatever the entries hold.
pub const PREFIX: &[u8] = b"lineage entry dictionary 1\n";
/// Most bytes of samples in one dictionary.
pub const DICTIONARY_BYTES: usize = 32 * 1024;
/// Samples kept to make the next dictionary from.
pub const SAMPLES: u64 = 64;
/// Entries using one dictionary before the next is made.
pub const RENEW_AFTER: u64 = 1 << 20;
/// Entries appended before the first dictionary, unless configured.
pub const DEFAULT_AFTER: u64 = 4096;
/// zstd's level. On packed bench entries against a dictionary, -1 keeps 0.197 of the envelope's
/// bytes in 3.2 µs an entry; 3 (zstd's default) 0.198 in 9.1 µs, most of it setting up each
/// frame: the writer pays it for every entry.
const LEVEL: i32 = -1;
/// Most dictionaries held ready to inflate with (each about its size again in zstd's tables).
const DECODERS_HELD: usize = 64;
/// Most bytes an entry inflates to (the entry decoder's own limit).
pub const LARGEST_ENTRY: u64 = 16 * 1024 * 1024;

/// A failure of zstd (or of a lock around it) as a store error.
fn io(e: impl crate::store::IntoStoreError) -> StoreError {
    e.into_store_error("zstd")
}

/// The dictionary a chunk is compressed with, ready to compress.
pub struct Encoder {
    pub id: u64,
    dictionary: CDict<'static>,
    context: CCtx<'static>,
}

/// The writer's side: the dictionary in use, and samples for the next.
pub struct Writing {
    pub current: Option<Encoder>,
    /// Whether `current` was made since the store opened.
    made_here: bool,
    pub samples: Samples,
}

/// Samples of the entries appended since the store opened, to make the next dictionary from.
pub struct Samples {
    kept: VecDeque<Vec<u8>>,
    /// Entries appended since the store opened.
    seen: u64,
    /// Entries before a dictionary is made; 0: entries are stored raw.
    after: u64,
}

impl Writing {
    /// The writer's side, with the last dictionary's record, if the store holds one.
    pub fn new(current: Option<(u64, Vec<u8>)>) -> Result<Writing, StoreError> {
        let current = current.map(|(id, record)| Encoder::new(id, checked(id, &record)?)).transpose()?;
        let samples = Samples { kept: VecDeque::new(), seen: 0, after: DEFAULT_AFTER };
        Ok(Writing { current, made_here: false, samples })
    }

    /// The id of a new dictionary for a commit whose first chunk starts at `first`, when one
    /// is due: once `after` entries were appended since the store opened (a dictionary of what
    /// the ledger carries now), then every [`RENEW_AFTER`] entries.
    pub fn due(&self, first: u64) -> Option<u64> {
        if self.samples.after == 0 || self.samples.seen < self.samples.after || self.samples.kept.is_empty() {
            return None;
        }
        match &self.current {
            Some(current) if self.made_here && first.saturating_sub(current.id) < RENEW_AFTER => None,
            _ => Some(first),
        }
    }

    /// Uses `encoder` from now on: the commit that holds its dictionary is durable.
    pub fn adopt(&mut self, encoder: Encoder) {
        self.current = Some(encoder);
        self.made_here = true;
    }

    /// Stores entries raw from now on (the configuration says so).
    pub fn stored_raw(&self) -> bool {
        self.samples.after == 0
    }
}

impl Samples {
    pub fn set_after(&mut self, after: u64) {
        self.after = after;
        self.kept.clear();
        self.seen = 0;
    }

    fn stride(&self) -> u64 {
        (self.after / SAMPLES).max(1)
    }

    /// Counts an entry appended; true when its sequence falls on the stride and it is to be
    /// kept as a sample ([`Samples::keep`]).
    pub fn wants(&mut self, sequence: u64) -> bool {
        self.seen += 1;
        self.after != 0 && sequence.is_multiple_of(self.stride())
    }

    /// Keeps an entry's bytes, as compressed chunks store them before compression.
    pub fn keep(&mut self, packed: &[u8]) {
        if self.kept.len() as u64 == SAMPLES {
            self.kept.pop_front();
        }
        // A sample's head is what entries share most (the envelope's start); a large entry
        // gives no more than its share.
        let share = DICTIONARY_BYTES / SAMPLES as usize * 4;
        self.kept.push_back(packed[..packed.len().min(share)].to_vec());
    }

    /// The dictionary's bytes from the samples, newest last (zstd reaches the end of a raw
    /// dictionary most cheaply).
    pub fn dictionary_bytes(&self) -> Vec<u8> {
        let mut taken = Vec::new();
        let mut room = DICTIONARY_BYTES;
        for sample in self.kept.iter().rev() {
            if room == 0 {
                break;
            }
            let part = &sample[..sample.len().min(room)];
            room -= part.len();
            taken.push(part);
        }
        let mut bytes = PREFIX.to_vec();
        for part in taken.into_iter().rev() {
            bytes.extend_from_slice(part);
        }
        bytes
    }
}

impl Encoder {
    pub fn new(id: u64, bytes: &[u8]) -> Result<Encoder, StoreError> {
        let dictionary = CDict::try_create(bytes, LEVEL).ok_or_else(|| corrupt_dictionary(id))?;
        let context = CCtx::try_create().ok_or_else(|| io("zstd could not make a compression context"))?;
        Ok(Encoder { id, dictionary, context })
    }

    /// One entry compressed (a zstd frame, which names its size).
    pub fn compress(&mut self, raw: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(raw.len()));
        self.context.compress_using_cdict(&mut out, raw, &self.dictionary).map_err(|code| {
            io(format!("zstd could not compress an entry: {}", zstd::zstd_safe::get_error_name(code)))
        })?;
        Ok(out)
    }
}

fn corrupt_dictionary(id: u64) -> StoreError {
    StoreError::Corrupt {
        sequence: id,
        reason: "the dictionary kept with it, which it and the entries after it up to the next dictionary are \
                 compressed with, is damaged"
            .into(),
    }
}

/// A dictionary as its record keeps it: its bytes, then their SHA-256. A frame against a raw
/// dictionary names none, so a damaged dictionary would otherwise show only as entries that do
/// not decode.
pub fn record(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out.extend_from_slice(&Sha256::digest(bytes));
    out
}

/// The dictionary's bytes from its record, when they are whole.
pub fn checked(id: u64, record: &[u8]) -> Result<&[u8], StoreError> {
    let Some(split) = record.len().checked_sub(32) else { return Err(corrupt_dictionary(id)) };
    let (bytes, digest) = record.split_at(split);
    if !bytes.starts_with(PREFIX) || Sha256::digest(bytes)[..] != digest[..] {
        return Err(corrupt_dictionary(id));
    }
    Ok(bytes)
}

thread_local! {
    /// A decompression context per thread: making one costs more than inflating an entry.
    static CONTEXT: std::cell::RefCell<Option<DCtx<'static>>> = const { std::cell::RefCell::new(None) };
}

/// The readers' side: dictionaries ready to inflate with, by id, read from the store when first
/// needed.
#[derive(Default)]
pub struct Decoders {
    ready: RwLock<HashMap<u64, Arc<DDict<'static>>>>,
    /// Held while a dictionary is read, so that one is read once.
    loading: Mutex<()>,
}

impl Decoders {
    /// The dictionary `id`, read with `read` (its stored bytes) the first time.
    pub fn get(
        &self,
        id: u64,
        read: impl FnOnce() -> Result<Option<Vec<u8>>, StoreError>,
    ) -> Result<Arc<DDict<'static>>, StoreError> {
        if let Some(ready) = self.ready.read().map_err(|_| io("dictionary lock poisoned"))?.get(&id) {
            return Ok(ready.clone());
        }
        let _loading = self.loading.lock().map_err(|_| io("dictionary lock poisoned"))?;
        if let Some(ready) = self.ready.read().map_err(|_| io("dictionary lock poisoned"))?.get(&id) {
            return Ok(ready.clone());
        }
        let bytes = read()?.ok_or_else(|| StoreError::Corrupt {
            sequence: id,
            reason: format!("its chunk names dictionary {id}, which the store does not hold"),
        })?;
        let bytes = checked(id, &bytes)?;
        let ready = Arc::new(DDict::try_create(bytes).ok_or_else(|| corrupt_dictionary(id))?);
        let mut all = self.ready.write().map_err(|_| io("dictionary lock poisoned"))?;
        // A store restarted often has a dictionary per start: those read are a bounded cache.
        if all.len() >= DECODERS_HELD {
            if let Some(any) = all.keys().next().copied() {
                all.remove(&any);
            }
        }
        all.insert(id, ready.clone());
        Ok(ready)
    }

    /// Forgets every dictionary read (the store's files were reopened and may differ).
    pub fn clear(&self) -> Result<(), StoreError> {
        self.ready.write().map_err(|_| io("dictionary lock poisoned"))?.clear();
        Ok(())
    }
}

/// Inflates the entry at `sequence`, compressed against `dictionary`; never more than
/// [`LARGEST_ENTRY`] bytes, whatever its frame claims.
pub fn inflate(sequence: u64, stored: &[u8], dictionary: &DDict<'static>) -> Result<Vec<u8>, StoreError> {
    let corrupt = |why: String| StoreError::Corrupt { sequence, reason: format!("its compressed bytes {why}") };
    let size = match zstd::zstd_safe::get_frame_content_size(stored) {
        Ok(Some(size)) if size <= LARGEST_ENTRY => size as usize,
        Ok(Some(size)) => return Err(corrupt(format!("claim {size} bytes, more than an entry holds"))),
        Ok(None) | Err(_) => return Err(corrupt("do not begin with a frame that names its size".into())),
    };
    let mut out = Vec::with_capacity(size);
    CONTEXT.with(|context| {
        let mut context = context.borrow_mut();
        if context.is_none() {
            *context = Some(DCtx::try_create().ok_or_else(|| io("zstd could not make a decompression context"))?);
        }
        let context = context.as_mut().expect("made above");
        match context.decompress_using_ddict(&mut out, stored, dictionary) {
            Ok(n) if n == size => Ok(()),
            Ok(n) => Err(corrupt(format!("inflate to {n} bytes where their frame says {size}"))),
            Err(code) => Err(corrupt(format!("do not inflate ({})", zstd::zstd_safe::get_error_name(code)))),
        }
    })?;
    Ok(out)
}
