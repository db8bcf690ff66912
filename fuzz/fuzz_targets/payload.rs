//! A signed payload: a submission's parse and a stored entry's read never panic, and agree on
//! what both accept.
#![no_main]
use lineage_ledger::domain::Payload;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let submitted = Payload::parse(data);
    let stored = Payload::read(data);
    if let Ok(payload) = &submitted {
        assert_eq!(stored.as_ref().ok(), Some(payload), "what a submission parses, a reading reads alike");
        let _ = payload.to_json();
    }
});
