//! An evidence bundle of any bytes: reading and verifying it never panics.
#![no_main]
use lineage_ledger::log::evidence::{verify, Bundle};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = serde_json::from_slice::<Bundle>(data) {
        let _ = verify(&bundle, None);
    }
});
