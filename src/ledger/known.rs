//! What the rules may ask of the log while the writer decides ([`Known`]: the request's and its
//! batch's entries not written yet, the commit in flight, the store) and while a stored log is
//! replayed ([`StoreEvents`]).

use crate::domain::{EventId, Events, LookupFailed, ProjectId};
use crate::log::Entry;
use crate::store::{LogStore, StoreError};
use std::collections::HashMap;

/// The events the writer knows of while it decides a request: the request's earlier ones, those
/// of earlier requests in its batch, of the commit in flight, and the store's.
pub(super) struct Known<'a> {
    pub store: &'a dyn LogStore,
    pub local: &'a HashMap<EventId, u64>,
    pub pending: &'a HashMap<EventId, u64>,
    pub in_flight: Option<&'a InFlight>,
    /// Entries not written yet: the request's and its batch's.
    pub entries: [&'a [(Entry, EventId)]; 2],
}

impl Known<'_> {
    /// The sequence of the entry an event id made, written or not.
    pub fn sequence_of(&self, event: &EventId) -> Result<Option<u64>, StoreError> {
        let unwritten = self.local.get(event).or_else(|| self.pending.get(event));
        match unwritten.or_else(|| self.in_flight.and_then(|f| f.ids.get(event))) {
            Some(&sequence) => Ok(Some(sequence)),
            None => self.store.sequence_of_event(event.as_str()),
        }
    }

    /// The entry at a sequence, written or not.
    pub fn entry_at(&self, sequence: u64) -> Result<Option<Entry>, StoreError> {
        let in_flight = self.in_flight.map(|f| f.commit.entries.as_slice()).unwrap_or_default();
        let unwritten =
            self.entries.iter().flat_map(|e| e.iter()).chain(in_flight).find(|(e, _)| e.sequence == sequence);
        match unwritten {
            Some((entry, _)) => Ok(Some(entry.clone())),
            None => self.store.entry(sequence),
        }
    }
}

impl Events for Known<'_> {
    fn version_in_project(&self, project: &ProjectId, event: &EventId) -> Result<Option<u64>, LookupFailed> {
        let found = self.sequence_of(event).and_then(|s| s.map_or(Ok(None), |s| self.entry_at(s)));
        match found {
            Ok(entry) => Ok(entry.filter(|e| e.project == project.as_str()).map(|e| e.version)),
            Err(e) => Err(LookupFailed(e.to_string())),
        }
    }
}

/// The events of a stored log, for a replay of it (the writer's state at start).
pub(crate) struct StoreEvents<'a>(pub &'a dyn LogStore);

impl Events for StoreEvents<'_> {
    fn version_in_project(&self, project: &ProjectId, event: &EventId) -> Result<Option<u64>, LookupFailed> {
        let entry = match self.0.sequence_of_event(event.as_str()) {
            Ok(Some(sequence)) => self.0.entry(sequence),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        match entry {
            Ok(entry) => Ok(entry.filter(|e| e.project == project.as_str()).map(|e| e.version)),
            Err(e) => Err(LookupFailed(e.to_string())),
        }
    }
}

/// The commit being made durable while the writer decides the next batch: what it names is
/// known to the rules before it is in the store.
pub(super) struct InFlight {
    pub ids: HashMap<EventId, u64>,
    pub commit: std::sync::Arc<crate::store::Commit>,
    /// Who its requests are charged to, with their work: the time writing it takes is shared
    /// among them.
    pub work: Vec<super::fair::Work>,
}
