//! The projections of recently queried projects, kept within a memory budget.
//!
//! A projection is a fold of one project's committed entries, so any of them can be dropped and
//! folded again from the store. A query catches its project's projection up to the durable
//! length, folding only the entries committed since the previous query; once the estimated size
//! of all cached projections passes the budget, the least recently queried projects are dropped.
//! The writer does not keep them up to date: appends pay nothing for read models nobody reads,
//! and memory no longer grows with the log. A query `as_of` an earlier point reads the same
//! projection up to the events that point covers.

use crate::domain::ProjectId;
use crate::projections::ProjectProjection;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

/// A project's projection and the log size it reflects.
#[derive(Debug, Default)]
pub struct Folded {
    pub projection: ProjectProjection,
    /// Every entry of the project below this log size is folded in, and none at or past it.
    pub size: u64,
}

/// One project's place in the cache: folded under its write lock, read under its read lock.
pub(super) type Slot = Arc<RwLock<Folded>>;

pub(super) struct ProjectionCache {
    budget: usize,
    lru: Mutex<Lru>,
}

#[derive(Default)]
struct Lru {
    slots: HashMap<ProjectId, Cached>,
    /// Projects by when they were last queried, oldest first.
    by_use: BTreeMap<u64, ProjectId>,
    clock: u64,
    /// The sum of the slots' `bytes`.
    bytes: usize,
}

struct Cached {
    slot: Slot,
    used: u64,
    bytes: usize,
}

impl ProjectionCache {
    pub fn new(budget: usize) -> ProjectionCache {
        ProjectionCache { budget, lru: Mutex::new(Lru::default()) }
    }

    /// The project's slot, empty when it was not cached; marks it as the most recently used.
    pub fn slot(&self, project: &ProjectId) -> Slot {
        let mut lru = self.lru.lock().expect("projection cache lock");
        let Lru { slots, by_use, clock, .. } = &mut *lru;
        *clock += 1;
        let cached =
            slots.entry(project.clone()).or_insert_with(|| Cached { slot: Slot::default(), used: 0, bytes: 0 });
        by_use.remove(&cached.used);
        cached.used = *clock;
        by_use.insert(*clock, project.clone());
        cached.slot.clone()
    }

    /// Records what the project's slot holds after a query — its size, or that there is no
    /// such project (the slot is then dropped, so that queries for projects that do not exist
    /// take no room) — and drops the least recently used others until the total fits the
    /// budget. The slot just queried stays even when it alone is over budget: dropping it
    /// would fold the whole project again on every query.
    pub fn settle(&self, project: &ProjectId, slot: &Slot, bytes: usize, exists: bool) {
        let mut lru = self.lru.lock().expect("projection cache lock");
        let lru = &mut *lru;
        match lru.slots.get_mut(project) {
            // Dropped or replaced meanwhile: the caller's copy is its own.
            Some(cached) if !Arc::ptr_eq(&cached.slot, slot) => return,
            None => return,
            Some(cached) if exists => {
                lru.bytes = lru.bytes - cached.bytes + bytes;
                cached.bytes = bytes;
            }
            Some(_) => {
                lru.remove(project);
                return;
            }
        }
        while lru.bytes > self.budget {
            let Some(oldest) = lru.by_use.values().find(|p| *p != project).cloned() else { break };
            lru.remove(&oldest);
        }
    }

    /// Drops every projection (after the writer read the log back from the store).
    pub fn clear(&self) {
        *self.lru.lock().expect("projection cache lock") = Lru::default();
    }

    /// How many projects are cached and their estimated bytes.
    #[cfg(test)]
    pub fn usage(&self) -> (usize, usize) {
        let lru = self.lru.lock().expect("projection cache lock");
        (lru.slots.len(), lru.bytes)
    }
}

impl Lru {
    fn remove(&mut self, project: &ProjectId) {
        if let Some(cached) = self.slots.remove(project) {
            self.by_use.remove(&cached.used);
            self.bytes -= cached.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(cache: &ProjectionCache) -> Vec<String> {
        let lru = cache.lru.lock().unwrap();
        lru.by_use.values().map(|p| p.to_string()).collect()
    }

    /// Queries in turn (project, bytes it then holds, whether it exists) against a 100-byte
    /// budget, and the projects cached after each, least recently used first.
    #[test]
    fn the_least_recently_queried_projects_go_first() {
        let cache = ProjectionCache::new(100);
        let steps: [(&str, usize, bool, &[&str]); 8] = [
            ("a", 40, true, &["a"]),
            ("b", 40, true, &["a", "b"]),
            ("a", 50, true, &["b", "a"]),
            ("c", 30, true, &["a", "c"]),
            ("missing", 0, false, &["a", "c"]),
            ("c", 70, true, &["c"]),
            ("d", 500, true, &["d"]),
            ("d", 500, true, &["d"]),
        ];
        for (i, (project, bytes, exists, after)) in steps.into_iter().enumerate() {
            let project = ProjectId::parse(project).unwrap();
            let slot = cache.slot(&project);
            cache.settle(&project, &slot, bytes, exists);
            assert_eq!(cached(&cache), after, "step {i}");
            let lru = cache.lru.lock().unwrap();
            assert_eq!(lru.bytes, lru.slots.values().map(|c| c.bytes).sum::<usize>(), "step {i}");
        }
        cache.clear();
        assert_eq!(cache.usage(), (0, 0));
    }

    #[test]
    fn a_slot_dropped_while_it_was_folded_is_not_counted() {
        let cache = ProjectionCache::new(100);
        let a = ProjectId::parse("a").unwrap();
        let held = cache.slot(&a);
        cache.clear();
        let fresh = cache.slot(&a);
        cache.settle(&a, &held, 80, true);
        assert_eq!(cache.usage(), (1, 0), "the held slot is the caller's own");
        cache.settle(&a, &fresh, 10, true);
        assert_eq!(cache.usage(), (1, 10));
    }
}
