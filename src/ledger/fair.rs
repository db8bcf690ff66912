//! The writer's fair queue: requests wait per tenant (the organisation of the actor who signed
//! the request's first event), and each commit takes them round by round from the tenants that
//! have had the least of the ledger's time, within a budget of work. A tenant that has had more
//! than its share waits while a tenant that has had less is still sending (its requests are
//! being written, its next ones on their way), so that one organisation's heavy requests take
//! about as much of the writer as another's light ones, not all of it.
//!
//! Time is measured, not estimated: what preparing (before the queue) and deciding each request
//! took is charged to its tenant, and what writing a commit took is shared among its requests' tenants by their work. A tenant
//! that starts sending again after a pause begins level with the least charged of those active,
//! so that time spent idle is no credit, and no further ahead than a second, so that old debts
//! fade.

use super::persister::{Request, Tenant};
use hashbrown::HashMap;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The work a commit takes on at most, in names (an event counts one plus the ids it names): a
/// request heavier than this is committed alone.
pub(super) const BATCH_UNITS: usize = crate::domain::limits::MAX_NAMES_PER_REQUEST;
/// The time deciding a commit's requests is expected to take at most (by their tenants' recent
/// time per event): a request expected to take longer is committed alone, so that the light
/// requests of others are not decided, and answered, behind it.
const BATCH_SECONDS: f64 = 0.005;

/// How long after its last request was charged a tenant still counts as sending: its clients
/// answer within this and send again.
const ACTIVE_FOR: Duration = Duration::from_millis(10);
/// How far a tenant may be ahead of the least charged active one and still be served.
const SLACK: Duration = Duration::from_millis(2);
/// How long a tenant may go without a request before it is idle, and begins again level.
const IDLE_AFTER: Duration = Duration::from_millis(200);
/// How far ahead of the least charged of the others an idle tenant's charge may begin.
const MOST_AHEAD: Duration = Duration::from_secs(1);

struct Account {
    charged: Duration,
    /// Seconds an event of the tenant took to decide, lately (a moving average).
    per_event: f64,
    /// When a request of the tenant was last queued or charged.
    seen: Instant,
}

#[derive(Default)]
pub(super) struct FairQueue {
    waiting: HashMap<Tenant, VecDeque<Request>>,
    accounts: HashMap<Tenant, Account>,
    len: usize,
}

impl FairQueue {
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len(&self) -> usize {
        self.len
    }

    fn charged(&self, tenant: &Tenant) -> Duration {
        self.accounts.get(tenant).map(|a| a.charged).unwrap_or_default()
    }

    /// The least charged of the tenants sending now (waiting, or charged within
    /// [`ACTIVE_FOR`]), other than `except`.
    fn least_active(&self, now: Instant, except: Option<&Tenant>) -> Option<Duration> {
        self.accounts
            .iter()
            .filter(|(t, a)| {
                Some(*t) != except && (self.waiting.contains_key(*t) || now.duration_since(a.seen) <= ACTIVE_FOR)
            })
            .map(|(_, a)| a.charged)
            .min()
    }

    pub fn push(&mut self, request: Request) {
        let now = Instant::now();
        let tenant = request.tenant.clone();
        let idle = self.accounts.get(&tenant).is_none_or(|a| now.duration_since(a.seen) > IDLE_AFTER);
        if idle {
            let least = self.least_active(now, Some(&tenant));
            let own = self.charged(&tenant);
            let charged = least.map_or(Duration::ZERO, |least| own.clamp(least, least + MOST_AHEAD));
            let per_event = self.accounts.get(&tenant).map_or(0.0, |a| a.per_event);
            self.accounts.insert(tenant.clone(), Account { charged, per_event, seen: now });
        } else if let Some(account) = self.accounts.get_mut(&tenant) {
            account.seen = now;
        }
        self.waiting.entry(tenant).or_default().push_back(request);
        self.len += 1;
    }

    /// The next commit's requests: round by round, one from each waiting tenant within
    /// [`SLACK`] of the least charged active one, least charged first, until `max_events`
    /// events or [`BATCH_UNITS`] of work; a tenant whose next request does not fit waits for the
    /// next commit (a request heavier than the whole budget goes alone). Empty while what waits
    /// is held back ([`FairQueue::held_for`]).
    pub fn take(&mut self, max_events: usize) -> Vec<Request> {
        let now = Instant::now();
        let floor = self.least_active(now, None).unwrap_or_default();
        let mut order: Vec<(Duration, Tenant)> = self
            .waiting
            .keys()
            .map(|t| (self.charged(t), t.clone()))
            .filter(|(charged, _)| *charged <= floor + SLACK)
            .collect();
        order.sort();
        let (mut batch, mut events, mut units, mut expected) = (Vec::new(), 0usize, 0usize, 0.0f64);
        loop {
            let mut took = false;
            for (_, tenant) in &order {
                let Some(next) = self.waiting.get(tenant).and_then(|q| q.front()) else { continue };
                let (n, w, e) = (next.items.len(), next.units, self.expected(next));
                let full = events + n > max_events || units + w > BATCH_UNITS || expected + e > BATCH_SECONDS;
                if !batch.is_empty() && full {
                    continue;
                }
                let queue = self.waiting.get_mut(tenant).expect("a queue");
                batch.push(queue.pop_front().expect("a front"));
                self.len -= 1;
                (events, units, expected, took) = (events + n, units + w, expected + e, true);
            }
            if !took || units >= BATCH_UNITS || events >= max_events || expected >= BATCH_SECONDS {
                break;
            }
        }
        self.waiting.retain(|_, q| !q.is_empty());
        // Accounts of tenants idle for a minute are dropped: they begin level when they return.
        self.accounts.retain(|t, a| self.waiting.contains_key(t) || now.duration_since(a.seen) <= MOST_AHEAD * 60);
        batch
    }

    /// How long what waits is held back for a tenant that has had less and is about to send
    /// again: until that tenant stops counting as active. `None` when nothing is held back.
    pub fn held_for(&self) -> Option<Duration> {
        let now = Instant::now();
        let floor = self.least_active(now, None)?;
        if self.waiting.keys().any(|t| self.charged(t) <= floor + SLACK) {
            return None;
        }
        // The active tenants below the waiting ones stop counting as active in turn.
        self.accounts
            .iter()
            .filter(|(t, a)| !self.waiting.contains_key(*t) && a.charged <= floor + SLACK)
            .map(|(_, a)| ACTIVE_FOR.saturating_sub(now.duration_since(a.seen)))
            .min()
            .map(|d| d.max(Duration::from_micros(100)))
    }

    /// Charges the time deciding a request took to its tenant, weighted by how heavy its events
    /// are; returns its part of the commit, for [`FairQueue::share`].
    /// `decided` is how many of its events were decided (up to the one refused).
    pub fn charge_request(&mut self, request: &Request, spent: Duration, decided: usize) -> Work {
        let weight = weight(request.units, decided.max(1), spent);
        // Preparing it (opening, signatures, parsing) took the cores others' requests share.
        self.charge(&request.tenant, (spent + request.prepared_in).mul_f64(weight));
        // What an event of this tenant takes to decide, lately: how heavy its next requests are
        // expected to be.
        let per_event = spent.as_secs_f64() / decided.max(1) as f64;
        if let Some(account) = self.accounts.get_mut(&request.tenant) {
            account.per_event = account.per_event * 0.7 + per_event * 0.3;
        }
        Work { tenant: request.tenant.clone(), units: request.units, weight }
    }

    /// The time a request is expected to take to decide: its events at its tenant's recent time
    /// per event.
    fn expected(&self, request: &Request) -> f64 {
        let per_event = self.accounts.get(&request.tenant).map_or(0.0, |a| a.per_event);
        per_event * request.items.len() as f64
    }

    /// Charges the time a request took to its tenant.
    fn charge(&mut self, tenant: &Tenant, spent: Duration) {
        let now = Instant::now();
        let account = self.accounts.entry(tenant.clone()).or_insert(Account {
            charged: Duration::ZERO,
            per_event: 0.0,
            seen: now,
        });
        account.charged += spent;
        account.seen = now;
    }

    /// Shares the time writing a commit took among its requests' tenants, by their work,
    /// weighted as deciding them was.
    pub fn share(&mut self, work: &[Work], took: Duration) {
        let total: usize = work.iter().map(|w| w.units).sum::<usize>().max(1);
        for w in work {
            self.charge(&w.tenant, took.mul_f64(w.units as f64 / total as f64 * w.weight));
        }
    }
}

/// A request's part of a commit, for sharing the time writing it took.
#[derive(Debug, Clone)]
pub(super) struct Work {
    tenant: Tenant,
    units: usize,
    weight: f64,
}

/// Ids named per event at which a request's time counts once more: bulk work (entries naming
/// hundreds of ids) yields to the light events most requests carry (a generation names three or
/// four). At 32, four members sending notes of 256 names took 20–30% of another organisation's
/// single appends (the cores, the disk and the commits they share); at 8, 11–14%.
const NAMES_PER_EVENT_STEP: f64 = 8.0;
/// Time per event at which a request's time counts once more: an event whose rules take long
/// (a delivery walking a long lineage) yields to those that do not (about 20 µs).
const TIME_PER_EVENT_STEP: Duration = Duration::from_micros(50);

/// How much a request's time counts: 1 for light events, one more for every 8 ids its events
/// name on average and for every 50 µs deciding them took on average — so that the time of
/// heavy work counts more than its own length, and light work goes first when both wait.
fn weight(units: usize, events: usize, spent: Duration) -> f64 {
    let events = events.max(1) as f64;
    1.0 + (units as f64 / events) / NAMES_PER_EVENT_STEP
        + spent.as_secs_f64() / events / TIME_PER_EVENT_STEP.as_secs_f64()
}

/// How many requests each tenant has waiting for the writer (queued or being decided), bounded
/// per tenant so that one cannot fill the queue others need. A tenant's count is an atomic,
/// found under a read lock: requests of several threads do not wait on each other.
pub(super) struct Waiting {
    counts: std::sync::RwLock<HashMap<Tenant, std::sync::Arc<std::sync::atomic::AtomicUsize>>>,
    per_tenant: usize,
}

/// A tenant's place among those waiting, given back when dropped (answered or abandoned).
pub(super) struct Place {
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Waiting {
    pub fn new(per_tenant: usize) -> Waiting {
        Waiting { counts: Default::default(), per_tenant: per_tenant.max(1) }
    }

    fn count_of(&self, tenant: &Tenant) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
        if let Some(count) = self.counts.read().unwrap_or_else(|e| e.into_inner()).get(tenant) {
            return count.clone();
        }
        self.counts.write().unwrap_or_else(|e| e.into_inner()).entry(tenant.clone()).or_default().clone()
    }

    /// Requests waiting, of every tenant.
    pub fn total(&self) -> usize {
        let counts = self.counts.read().unwrap_or_else(|e| e.into_inner());
        counts.values().map(|c| c.load(std::sync::atomic::Ordering::Acquire)).sum()
    }

    /// A place for one more request of `tenant`, unless it has as many waiting as it may.
    pub fn take(&self, tenant: &Tenant) -> Option<Place> {
        use std::sync::atomic::Ordering;
        let count = self.count_of(tenant);
        let taken = count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.per_tenant).then_some(n + 1));
        taken.ok().map(|_| Place { count })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.count.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_waits_with_as_many_requests_as_it_may_and_others_still_find_room() {
        let waiting = Waiting::new(2);
        let (a, b) = (Some(crate::domain::OrganizationId::parse("a").unwrap()), None);
        let first = waiting.take(&a).expect("room");
        let second = waiting.take(&a).expect("room");
        assert!(waiting.take(&a).is_none(), "a has as many waiting as it may");
        assert!(waiting.take(&b).is_some(), "another tenant still finds room");
        drop(first);
        assert!(waiting.take(&a).is_some(), "an answered request gives its place back");
        drop(second);
    }
}
