//! Read models folded from the entries: stage status, the provenance graph, per-event metadata
//! for history queries. Each is a pure fold (`apply` cannot fail) over committed entries. Each
//! remembers when (at which of the project's events) everything it holds appeared, so that the
//! one projection answers for now and `as_of` any earlier point without folding anything again:
//! [`ProjectProjection::visible`] says how many of the project's events a log size covers.

pub mod audit;
mod dot;
pub mod graph;
pub mod lineage;
pub mod stages;
pub mod summary;

use crate::domain::event::{Kind, Stage, StageMark};
use crate::domain::state::{Facts, Position};
use crate::domain::{LedgerState, Payload, ProjectId, SystemState};
use crate::log::Entry;
use std::collections::HashMap;

/// What history queries filter on, for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    pub sequence: u64,
    pub version: u64,
    pub kind: Kind,
    pub stage: Option<Stage>,
    /// For a stage mark: which.
    pub mark: Option<StageMark>,
    actor: u32,
    pub occurred_at_us: i64,
    pub received_at_us: i64,
    /// The position (among the project's events) of the retraction of this event, if one
    /// retracted it: views as of a later point leave it out of what counts.
    pub retracted_at: Option<u32>,
}

impl EventMeta {
    /// Whether the event was retracted among the project's first `within` events.
    pub fn retracted_within(&self, within: usize) -> bool {
        self.retracted_at.is_some_and(|at| (at as usize) < within)
    }
}

impl EventMeta {
    /// When the work happened, as RFC 3339 with milliseconds.
    pub fn occurred_at(&self) -> String {
        chrono::DateTime::from_timestamp_micros(self.occurred_at_us)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

/// The projections of one project.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectProjection {
    pub content_type: Option<crate::domain::event::ContentType>,
    pub stages: stages::StageStatus,
    pub graph: graph::Graph,
    pub events: Vec<EventMeta>,
    actors: Vec<String>,
    actor_index: HashMap<String, u32>,
    /// The rules' state of this project alone (its system state left empty): what readiness
    /// and approval drift are judged on, by the same evaluator as the append.
    pub rules: LedgerState,
}

impl Default for ProjectProjection {
    fn default() -> Self {
        ProjectProjection {
            content_type: None,
            stages: Default::default(),
            graph: Default::default(),
            events: Vec::new(),
            actors: Vec::new(),
            actor_index: HashMap::new(),
            rules: LedgerState::new(SystemState::default()),
        }
    }
}

impl ProjectProjection {
    /// Folds one committed entry into the rules' state, with what the system stream says of its
    /// signer and what was looked up for it.
    pub fn apply_rules(&mut self, entry: &Entry, payload: &Payload, system: &SystemState, facts: Facts) {
        let at = Position { version: entry.version, received_at_us: entry.received_at_us };
        self.rules.apply_project(payload, at, facts, system);
        // A retraction marks the event it retracts, at its own position.
        if let Some(version) = facts.retracted_version {
            let position = u32::try_from(entry.version.saturating_sub(1)).unwrap_or(u32::MAX);
            if let Some(meta) = usize::try_from(version.saturating_sub(1)).ok().and_then(|i| self.events.get_mut(i)) {
                meta.retracted_at.get_or_insert(position);
            }
        }
    }

    /// Folds one committed entry in.
    pub fn apply(&mut self, entry: &Entry, payload: &Payload) {
        if let Some(content) = payload.body.content_type() {
            self.content_type = Some(content);
        }
        let position = self.events.len() as u32;
        let (stage, mark) = self.stages.apply(&payload.body, position);
        self.graph.apply(entry.sequence, position, payload);
        let next = self.actors.len() as u32;
        let actor = *self.actor_index.entry(payload.actor.to_string()).or_insert(next);
        if actor == next {
            self.actors.push(payload.actor.to_string());
        }
        self.events.push(EventMeta {
            sequence: entry.sequence,
            version: entry.version,
            kind: payload.kind(),
            stage,
            mark,
            actor,
            occurred_at_us: payload.occurred_at.timestamp_micros(),
            received_at_us: entry.received_at_us,
            retracted_at: None,
        });
    }

    /// Folds a project's entries, in order.
    pub fn fold<'a>(entries: impl IntoIterator<Item = (&'a Entry, &'a Payload)>) -> ProjectProjection {
        let mut p = ProjectProjection::default();
        for (entry, payload) in entries {
            p.apply(entry, payload);
        }
        p
    }

    /// About how many bytes the projection holds on the heap: what a cache of projections
    /// counts against its budget. Cheap enough to ask after every fold (asset names of the
    /// stage sets are counted at a typical length rather than read).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.events.capacity() * size_of::<EventMeta>()
            + self.graph.heap_bytes()
            + self.stages.heap_bytes()
            + self.actors.iter().map(|a| 2 * (a.capacity() + size_of::<String>()) + 8).sum::<usize>()
            + self.rules.heap_bytes()
    }

    pub fn actor_of(&self, meta: &EventMeta) -> &str {
        &self.actors[meta.actor as usize]
    }

    /// How many of the project's events are among the first `size` entries of the log (all of
    /// them for the log's length): the cut-off an `as_of` view reads up to.
    pub fn visible(&self, size: u64) -> usize {
        self.events.partition_point(|m| m.sequence < size)
    }

    /// The stage status as of the project's first `events` events.
    pub fn stage_view(&self, events: usize) -> Vec<stages::StageInfo> {
        self.stages.view(&self.events[..events.min(self.events.len())])
    }
}

/// The projections of every project, and the last entry folded in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projections {
    projects: HashMap<ProjectId, ProjectProjection>,
    pub applied: u64,
}

impl Projections {
    pub fn apply(&mut self, entry: &Entry, payload: &Payload) {
        if !payload.project.is_system() {
            self.projects.entry(payload.project.clone()).or_default().apply(entry, payload);
        }
        self.applied = entry.sequence + 1;
    }

    pub fn project_count(&self) -> usize {
        self.projects.len()
    }

    pub fn project(&self, id: &ProjectId) -> Option<&ProjectProjection> {
        self.projects.get(id)
    }
}
