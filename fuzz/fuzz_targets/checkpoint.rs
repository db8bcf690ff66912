//! A checkpoint note and a verifier key: neither parser panics.
#![no_main]
use lineage_ledger::crypto::checkpoint::{Checkpoint, NoteVerifier};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (note, vkey) = text.split_once('\u{0}').unwrap_or((&text, ""));
    let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
    let _ = Checkpoint::open(note, &NoteVerifier { name: "o".into(), key });
    let _ = NoteVerifier::parse(vkey);
});
