//! Reads of the durable log: entries by sequence, event id, stream and time, and the
//! projections of a project, now or as of an earlier size. Every read is clamped to the length
//! the writer has published.

use super::projection_cache::Slot;
use super::writer::StoreEvents;
use super::Ledger;
use crate::domain::state::Facts;
use crate::domain::{Changes, ProjectId, View};
use crate::log::{open_entry, Entry};
use crate::projections::ProjectProjection;
use crate::store::{LogStore, StoreError};
use std::sync::Arc;

/// How many entries one read of a stream asks the store for.
const PAGE: usize = 4096;

impl Ledger {
    /// The number of durable entries.
    /// Append requests waiting for the writer or being committed.
    pub fn waiting_requests(&self) -> usize {
        self.waiting.total()
    }

    pub fn len(&self) -> u64 {
        self.published.len()
    }

    /// The number of durable entries as it grows: `changed().await` wakes a reader at the next
    /// commit.
    pub fn durable(&self) -> tokio::sync::watch::Receiver<u64> {
        self.published.durable()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn entry(&self, sequence: u64) -> Result<Option<Entry>, StoreError> {
        if sequence >= self.len() {
            return Ok(None);
        }
        self.store.entry(sequence)
    }

    /// The payload of the durable entry at `sequence`, read as stored; `None` when there is no
    /// such entry or it cannot be read (the projections' walks skip what they cannot load).
    pub fn payload_at(&self, sequence: u64) -> Option<crate::domain::Payload> {
        let entry = self.entry(sequence).ok().flatten()?;
        open_entry(&entry).ok().map(|(_, payload)| payload)
    }

    pub fn entry_by_event(&self, event_id: &str) -> Result<Option<Entry>, StoreError> {
        match self.store.sequence_of_event(event_id)? {
            Some(seq) => self.entry(seq),
            None => Ok(None),
        }
    }

    pub fn range(&self, from: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let len = self.len();
        if from >= len {
            return Ok(vec![]);
        }
        self.store.range(from, limit.min((len - from) as usize))
    }

    pub fn project_entries(&self, project: &str, from_version: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let len = self.len();
        let mut out = Vec::new();
        for seq in self.store.project_sequences(project, from_version, limit)? {
            if seq >= len {
                break;
            }
            if let Some(entry) = self.store.entry(seq)? {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// Runs `f` on a project's projections as of the durable length, with the log size they
    /// reflect; `None` when the project has no entries. The projections are cached (within
    /// `projection_cache_bytes`) and caught up with the entries committed since they were
    /// last read.
    pub fn with_project<T>(
        &self,
        project: &ProjectId,
        f: impl FnOnce(&ProjectProjection, u64) -> T,
    ) -> Result<Option<T>, StoreError> {
        let cache = &self.published.projections;
        let slot = self.caught_up(project)?;
        let folded = slot.read().expect("projection lock");
        let exists = !folded.projection.events.is_empty();
        let result = exists.then(|| f(&folded.projection, folded.size));
        let bytes = folded.projection.heap_bytes();
        drop(folded);
        cache.settle(project, &slot, bytes, exists);
        Ok(result)
    }

    /// The project's cached slot, caught up with the durable log.
    fn caught_up(&self, project: &ProjectId) -> Result<Slot, StoreError> {
        let cache = &self.published.projections;
        let slot = cache.slot(project);
        let size = self.len();
        if slot.read().expect("projection lock").size < size {
            let mut folded = slot.write().expect("projection lock");
            if folded.size < size {
                self.fold_project(project.as_str(), &mut folded.projection, size)?;
                folded.size = size;
            }
        }
        Ok(slot)
    }

    /// Folds into `projection` the project's entries after those it holds, up to the log size
    /// `size`. Versions are dense from 1, so the projection's event count says where to go on.
    fn fold_project(&self, project: &str, projection: &mut ProjectProjection, size: u64) -> Result<(), StoreError> {
        // Actors' roles and organisations never change, so the system stream as it stands now
        // says who signed each entry as it said then.
        let system = self.published.system();
        let log = StoreEvents(self.store.as_ref());
        loop {
            let from = projection.events.len() as u64 + 1;
            let page = self.project_entries(project, from, PAGE)?;
            let read = page.len();
            for entry in page.into_iter().take_while(|e| e.sequence < size) {
                let (_, payload) = open_entry(&entry)
                    .map_err(|e| StoreError::Corrupt { sequence: entry.sequence, reason: e.to_string() })?;
                let facts = {
                    let changes = Changes::default();
                    let view = View { base: &projection.rules, changes: &changes, events: &log };
                    Facts::of(&view, &payload).map_err(StoreError::Lookup)?
                };
                projection.apply(&entry, &payload);
                projection.apply_rules(&entry, &payload, &system, facts);
            }
            if read < PAGE || projection.events.len() as u64 + 1 - from < read as u64 {
                return Ok(());
            }
        }
    }

    /// A project's projections as of a log size, folded from all its stored entries without the
    /// cache: what the cached answers must equal.
    #[cfg(test)]
    pub fn fold_anew(&self, project: &str, size: u64) -> Result<ProjectProjection, StoreError> {
        let mut projection = ProjectProjection::default();
        self.fold_project(project, &mut projection, size)?;
        Ok(projection)
    }

    /// Every entry of a stream among the first `size` entries of the log, in order.
    pub fn stream_below(&self, project: &str, size: u64) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::new();
        loop {
            // Versions are dense from 1, so what is kept so far says where the next page starts.
            let page = self.project_entries(project, out.len() as u64 + 1, PAGE)?;
            let (read, before) = (page.len(), out.len());
            out.extend(page.into_iter().take_while(|e| e.sequence < size));
            if read < PAGE || out.len() - before < read {
                return Ok(out);
            }
        }
    }

    /// The number of entries received at or before `time` (receive times never decrease).
    pub fn size_at(&self, time: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> {
        let target = time.timestamp_micros();
        let (mut lo, mut hi) = (0u64, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let received = self.store.entry(mid)?.map(|e| e.received_at_us).unwrap_or(i64::MAX);
            if received <= target {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Sequences of the entries of `project` that name `asset`.
    pub fn asset_sequences(&self, project: &str, asset: &str) -> Result<Vec<u64>, StoreError> {
        let len = self.len();
        Ok(self.store.asset_sequences(project, asset)?.into_iter().filter(|s| *s < len).collect())
    }

    /// The verdict of the full check of the start ([`super::start_check`]).
    pub fn start_check(&self) -> super::StartCheck {
        self.published.start_check()
    }

    pub fn store(&self) -> &Arc<dyn LogStore> {
        &self.store
    }
}
