//! A stored entry's bytes: decoding never panics, and an entry decoded encodes to bytes that
//! decode to it again. (Not to the same bytes: the encoding's integers have longer spellings
//! that decode alike, which is harmless — an entry's hash covers its fields, not the stored
//! encoding — and which this target found.)
#![no_main]
use lineage_ledger::log::Entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = Entry::decode(data) {
        assert_eq!(Entry::decode(&entry.encode()).ok().as_ref(), Some(&entry), "an encoded entry decodes to itself");
        let _ = entry.leaf_hash();
        let _ = lineage_ledger::log::open_entry(&entry);
    }
});
