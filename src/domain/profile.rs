//! The strict input profile of new submissions (`docs/signing.md`, "The strict profile"): what a
//! payload must be beyond its schema before the ledger signs off on it. Stored payloads written
//! before the profile keep reading as they were written: [`super::Payload::read`] does not ask
//! it, [`super::Payload::parse`] does.
//!
//! - no object, at any depth, names a key twice (JSON parsers disagree on which one wins, so two
//!   readers of the same signed bytes could see two events);
//! - no string, key or value, at any depth, holds a character that makes text read other than it
//!   is stored: the C0 controls but tab, line feed and carriage return, DEL, the C1 controls, and
//!   the bidirectional embeddings and overrides U+202A–U+202E;
//! - labels (titles, names, formats — [`super::ids::Label`]) hold no control character at all
//!   and no bidirectional formatting character (marks and isolates included): a label is one line
//!   read left to right as stored, and is checked while its payload is read with [`strictly`];
//! - `occurred_at` is RFC 3339 as `docs/signing.md` states it (checked in [`super::payload`]).

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

thread_local! {
    static STRICT: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (a payload being read) under the strict profile: labels read in it are checked for
/// what [`label_char_allowed`] refuses. Ends with `f`, also when it panics.
pub fn strictly<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            STRICT.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(STRICT.with(|s| s.replace(true)));
    f()
}

/// Whether the payload being read is held to the strict profile.
pub fn is_strict() -> bool {
    STRICT.with(Cell::get)
}

/// A character no string of a new payload may hold, with what it is.
pub fn forbidden_anywhere(c: char) -> Option<&'static str> {
    match c {
        '\t' | '\n' | '\r' => None,
        '\u{0}'..='\u{1f}' | '\u{7f}' => Some("a control character"),
        '\u{80}'..='\u{9f}' => Some("a C1 control character"),
        '\u{202a}'..='\u{202e}' => Some("a bidirectional embedding or override"),
        _ => None,
    }
}

/// A character a label may not hold (beyond [`forbidden_anywhere`]), with what it is.
pub fn forbidden_in_label(c: char) -> Option<&'static str> {
    match c {
        '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => Some("a tab or line break"),
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2066}'..='\u{2069}' => Some("a bidirectional mark or isolate"),
        _ => forbidden_anywhere(c),
    }
}

/// What the walk found wrong, at a JSON path (`body.parameters.seed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

/// Walks a whole JSON document once: the first key named twice in one object, or the first
/// string (key or value) holding a character [`forbidden_anywhere`] refuses. Linear in the
/// document, allocating only for keys with escapes and for the path of a violation; its depth is
/// bounded by the JSON parser's recursion limit.
pub fn check_document(bytes: &[u8]) -> Result<(), Violation> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut found = None;
    let _ = Walk { at: &Seg::Root, found: &mut found }.deserialize(&mut de);
    // Malformed JSON is named by the typed reading, which runs first.
    found.map_or(Ok(()), Err)
}

/// Where a value sits, rendered only for a violation.
enum Seg<'a> {
    Root,
    Key(&'a Seg<'a>, &'a str),
    Index(&'a Seg<'a>, usize),
}

impl Seg<'_> {
    fn path(&self) -> String {
        match self {
            Seg::Root => String::new(),
            Seg::Key(parent, key) => {
                let parent = parent.path();
                if parent.is_empty() {
                    (*key).to_owned()
                } else {
                    format!("{parent}.{key}")
                }
            }
            Seg::Index(parent, i) => format!("{}[{i}]", parent.path()),
        }
    }
}

/// One value of the document at `at`; records the first violation in `found` and stops.
struct Walk<'p, 'f> {
    at: &'p Seg<'p>,
    found: &'f mut Option<Violation>,
}

/// Why a string of a new payload is refused, if it is.
fn bad_string(s: &str, what: &str) -> Option<String> {
    let (at, c, why) = s.char_indices().find_map(|(i, c)| forbidden_anywhere(c).map(|w| (i, c, w)))?;
    Some(format!(
        "{what} holds U+{:04X} ({why}) at character {}: it would make the text read other than it is stored",
        c as u32,
        s[..at].chars().count()
    ))
}

/// Ends a walk at its first violation (recorded beside it).
#[derive(Debug)]
struct StopWalk;

impl fmt::Display for StopWalk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stopped at a violation")
    }
}
impl std::error::Error for StopWalk {}
impl serde::de::Error for StopWalk {
    fn custom<T: fmt::Display>(_: T) -> Self {
        StopWalk
    }
}

/// An object's key: borrowed from the document unless it holds an escape.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Key<'de>, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(s))
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(s.to_owned()))
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<(), E> {
        match bad_string(s, "the string") {
            Some(message) => {
                *self.found = Some(Violation { path: self.at.path(), message });
                Err(E::custom(StopWalk))
            }
            None => Ok(()),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            let at = Seg::Index(self.at, i);
            match seq.next_element_seed(Walk { at: &at, found: &mut *self.found })? {
                Some(()) => i += 1,
                None => return Ok(()),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Objects are small: their keys are compared in a list, through a set past a few dozen.
        let mut seen: Vec<Key<'de>> = Vec::new();
        let mut many: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let name = key.as_str();
            let twice = if seen.len() < 32 {
                seen.iter().any(|k| k.as_str() == name)
            } else {
                many.contains(name) || seen.iter().any(|k| k.as_str() == name)
            };
            let problem = bad_string(name, "the key").or_else(|| {
                twice.then(|| "the key appears twice in its object: readers disagree on which one counts".to_owned())
            });
            let at = Seg::Key(self.at, name);
            if let Some(message) = problem {
                *self.found = Some(Violation { path: at.path(), message });
                return Err(serde::de::Error::custom(StopWalk));
            }
            map.next_value_seed(Walk { at: &at, found: &mut *self.found })?;
            if seen.len() < 32 {
                seen.push(key);
            } else {
                many.insert(name.to_owned());
            }
        }
        Ok(())
    }
}
