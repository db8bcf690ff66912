//! The bytes a [`LedgerState`] is sealed in (see [`super::sealed`]): fixed-width integers,
//! length-prefixed strings, every map in the order of its keys. The same state always encodes
//! to the same bytes, whatever order its hash tables hold their entries in, so that two states
//! are compared by the digests of their encodings.

use super::super::ids::ValueError;

/// Why sealed bytes could not be read back into a state.
#[derive(Debug, thiserror::Error)]
pub enum Unsealed {
    #[error("the sealed state ends early")]
    Short,
    #[error("the sealed state holds {0} bytes past its end")]
    Trailing(usize),
    #[error("the sealed state holds an unknown tag {0}")]
    Tag(u8),
    #[error("the sealed state holds an invalid value")]
    Value(#[source] ValueError),
    #[error("the sealed state holds an invalid term")]
    Term(#[source] serde_json::Error),
    #[error("the sealed state holds a string that is not UTF-8")]
    Utf8(#[source] std::str::Utf8Error),
}

/// Bytes being written.
#[derive(Default)]
pub struct Out {
    pub bytes: Vec<u8>,
}

impl Out {
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    pub fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }
    pub fn u16(&mut self, v: u16) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn raw(&mut self, v: &[u8]) {
        self.bytes.extend_from_slice(v);
    }
    /// A count of what follows.
    pub fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }
    pub fn str(&mut self, v: &str) {
        self.len(v.len());
        self.raw(v.as_bytes());
    }
    /// A value of a documented term (an enum of the payloads), as its JSON text: the terms'
    /// spelling is their stable form.
    pub fn term<T: serde::Serialize>(&mut self, v: &T) {
        let text = serde_json::to_string(v).expect("terms serialise");
        self.str(&text);
    }
    pub fn opt<T>(&mut self, v: Option<&T>, mut f: impl FnMut(&mut Out, &T)) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                f(self, v);
            }
        }
    }
    pub fn seq<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Out, &T)) {
        self.len(items.len());
        for item in items {
            f(self, item);
        }
    }
    /// A compact map's entries in the order of their keys, without sorting the map again.
    pub fn keymap<K: super::super::compact::UniformKey, V: Copy>(
        &mut self,
        map: &super::super::compact::KeyMap<K, V>,
        mut f: impl FnMut(&mut Out, &K, &V),
    ) {
        self.len(map.len());
        map.for_each_sorted(|k, v| f(self, k, v));
    }

    /// Entries in the order of their keys (each key once).
    pub fn sorted<K: Ord, V>(&mut self, entries: impl Iterator<Item = (K, V)>, mut f: impl FnMut(&mut Out, K, V)) {
        let mut entries: Vec<(K, V)> = entries.collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.len(entries.len());
        for (k, v) in entries {
            f(self, k, v);
        }
    }
}

/// Bytes being read.
pub struct In<'a> {
    bytes: &'a [u8],
}

impl<'a> In<'a> {
    pub fn new(bytes: &'a [u8]) -> In<'a> {
        In { bytes }
    }
    /// Fails unless every byte was read.
    pub fn end(&self) -> Result<(), Unsealed> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(Unsealed::Trailing(self.bytes.len()))
        }
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Unsealed> {
        if n > self.bytes.len() {
            return Err(Unsealed::Short);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], Unsealed> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }
    pub fn u8(&mut self) -> Result<u8, Unsealed> {
        Ok(self.take(1)?[0])
    }
    pub fn bool(&mut self) -> Result<bool, Unsealed> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(Unsealed::Tag(tag)),
        }
    }
    pub fn u16(&mut self) -> Result<u16, Unsealed> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub fn u32(&mut self) -> Result<u32, Unsealed> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> Result<u64, Unsealed> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub fn i64(&mut self) -> Result<i64, Unsealed> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    pub fn key(&mut self) -> Result<[u8; 16], Unsealed> {
        self.array()
    }
    pub fn hash(&mut self) -> Result<[u8; 32], Unsealed> {
        self.array()
    }
    /// A count of items of at least `least` bytes each: never more than the bytes left could
    /// hold, so that a damaged count cannot ask for more memory than the input.
    pub fn len(&mut self, least: usize) -> Result<usize, Unsealed> {
        let n = usize::try_from(self.u64()?).map_err(|_| Unsealed::Short)?;
        if n.saturating_mul(least.max(1)) > self.bytes.len() {
            return Err(Unsealed::Short);
        }
        Ok(n)
    }
    pub fn str(&mut self) -> Result<&'a str, Unsealed> {
        let n = self.len(1)?;
        std::str::from_utf8(self.take(n)?).map_err(Unsealed::Utf8)
    }
    /// A value parsed from its string by the type's own check.
    pub fn parsed<T>(&mut self, parse: impl FnOnce(&str) -> Result<T, ValueError>) -> Result<T, Unsealed> {
        parse(self.str()?).map_err(Unsealed::Value)
    }
    pub fn term<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, Unsealed> {
        serde_json::from_str(self.str()?).map_err(Unsealed::Term)
    }
    pub fn opt<T>(&mut self, f: impl FnOnce(&mut In<'a>) -> Result<T, Unsealed>) -> Result<Option<T>, Unsealed> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(f(self)?)),
            tag => Err(Unsealed::Tag(tag)),
        }
    }
    /// A sequence of items of at least `least` bytes each.
    pub fn seq<T>(
        &mut self,
        least: usize,
        mut f: impl FnMut(&mut In<'a>) -> Result<T, Unsealed>,
    ) -> Result<Vec<T>, Unsealed> {
        let n = self.len(least)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(f(self)?);
        }
        Ok(out)
    }
}
