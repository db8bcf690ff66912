//! An envelope as a client sends it: parsing and opening never panic, and what opens verifies
//! without panicking against any key.
#![no_main]
use lineage_ledger::crypto::dsse::Envelope;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::from_json(data) {
        if let Ok(opened) = envelope.open() {
            let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
            let _ = opened.verify(&key);
        }
    }
});
