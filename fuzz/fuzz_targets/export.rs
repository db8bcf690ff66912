//! An export file of any bytes: its verification never panics.
#![no_main]
use lineage_ledger::log::export::verify;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = verify(std::io::Cursor::new(data), None, true);
});
