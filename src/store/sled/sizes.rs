//! What the store's database holds, by kind of record, for `lineage fsck`'s size breakdown.

use super::*;

/// Records of one kind and their bytes: keys and values as given to sled, before its own
/// overhead (node headers, its log's segments, space not yet reclaimed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: &'static str,
    pub records: u64,
    pub bytes: u64,
}

impl SledStore {
    /// The records of the log tree by kind (layout.rs), and the token grants.
    pub fn parts(&self) -> Result<Vec<Part>, StoreError> {
        let names = [
            "entry chunks",
            "index records",
            "Merkle nodes",
            "checkpoint",
            "older records",
            "token grants",
            "dictionaries",
        ];
        let mut parts: Vec<Part> = names.iter().map(|name| Part { name, records: 0, bytes: 0 }).collect();
        let database = self.database()?;
        let mut count = |part: usize, key: &[u8], value: &[u8]| {
            parts[part].records += 1;
            parts[part].bytes += (key.len() + value.len()) as u64;
        };
        for record in database.log.iter() {
            let (key, value) = record.map_err(io)?;
            let part = match key.first() {
                Some(b'E') => 0,
                Some(b'M') => 1,
                Some(b'n') => 2,
                Some(b'c') => 3,
                Some(&layout::DICTIONARY) => 6,
                _ => 4,
            };
            count(part, &key, &value);
        }
        for record in database.tokens.iter() {
            let (key, value) = record.map_err(io)?;
            count(5, &key, &value);
        }
        Ok(parts)
    }
}
