//! The whole ledger's state, the changes a request stages on it and the log's events as the
//! rules ask about them.

use super::*;

/// Who works on a governed project: its client and its current members. Readers are scoped by
/// it (an organisation's projects), so the writer publishes it with each durable commit that
/// changes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Governance {
    pub client: Option<OrganizationId>,
    pub members: BTreeMap<ActorId, Role>,
}

/// The governance of every governed project.
pub type Directory = BTreeMap<ProjectId, Governance>;

/// What the list of projects shows of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub content_type: Option<ContentType>,
    /// The client organisation; `None` for a legacy project.
    pub client: Option<OrganizationId>,
    /// The number of the project's entries.
    pub events: u64,
    /// When the ledger received its last entry (microseconds since the epoch).
    pub last_received_us: i64,
}

/// Everything the rules consult: the system stream and every project.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerState {
    pub system: SystemState,
    pub(super) projects: HashMap<ProjectId, ProjectState>,
}

impl LedgerState {
    pub fn new(system: SystemState) -> Self {
        LedgerState { system, projects: HashMap::new() }
    }
    pub fn project(&self, id: &ProjectId) -> Option<&ProjectState> {
        self.projects.get(id)
    }
    /// The listing of a project, given its stream's length and last entry's time.
    pub fn listing(&self, id: &ProjectId, events: u64, last_received_us: i64) -> Option<Listing> {
        let p = self.projects.get(id)?;
        Some(Listing { content_type: p.content_type, client: p.client.clone(), events, last_received_us })
    }
    pub fn project_ids(&self) -> impl Iterator<Item = &ProjectId> {
        self.projects.keys()
    }
    pub fn project_count(&self) -> usize {
        self.projects.len()
    }

    /// Applies an event that was accepted (on replay, or right after the rules passed it).
    pub fn apply(&mut self, payload: &Payload, at: Position, facts: Facts) {
        if payload.project.is_system() {
            self.system.apply(&payload.body);
        } else {
            let signer = Signer::of(&self.system, &payload.actor);
            self.projects.entry(payload.project.clone()).or_default().apply(None, payload, at, facts, signer);
        }
    }

    /// Applies a project's event with its signer as `system` knows them: for a state that holds
    /// projects without their system stream (a projection's).
    pub fn apply_project(&mut self, payload: &Payload, at: Position, facts: Facts, system: &SystemState) {
        let signer = Signer::of(system, &payload.actor);
        self.projects.entry(payload.project.clone()).or_default().apply(None, payload, at, facts, signer);
    }

    /// The governance of every governed project.
    pub fn directory(&self) -> Directory {
        self.projects
            .iter()
            .filter(|(_, p)| p.client.is_some())
            .map(|(id, p)| {
                let members = p
                    .members
                    .iter()
                    .filter_map(|(a, m)| match m {
                        Membership::Member(role) => Some((a.clone(), *role)),
                        Membership::Removed => None,
                    })
                    .collect();
                (id.clone(), Governance { client: p.client.clone(), members })
            })
            .collect()
    }

    /// An estimate of the heap bytes its projects hold.
    pub fn heap_bytes(&self) -> usize {
        self.projects.values().map(ProjectState::heap_bytes).sum()
    }

    pub fn merge(&mut self, changes: Changes) {
        if let Some(system) = changes.system {
            self.system = system;
        }
        for (id, staged) in changes.projects {
            self.projects.entry(id).or_default().merge(staged);
        }
    }
}

/// The events of one request, staged on top of a [`LedgerState`] they have not changed yet.
#[derive(Debug, Default)]
pub struct Changes {
    // The system stream is small (actors and keys), so a request that touches it works on a copy.
    pub(super) system: Option<SystemState>,
    pub(super) projects: HashMap<ProjectId, ProjectState>,
    /// The request's events so far, by project, with their versions (a request holds at most a
    /// thousand).
    pub(super) events: Vec<(ProjectId, EventId, u64)>,
}

impl Changes {
    /// Stages an accepted event.
    pub fn stage(&mut self, base: &LedgerState, payload: &Payload, at: Position, facts: Facts) {
        self.events.push((payload.project.clone(), payload.event_id.clone(), at.version));
        if payload.project.is_system() {
            self.system.get_or_insert_with(|| base.system.clone()).apply(&payload.body);
        } else {
            let system = self.system.as_ref().unwrap_or(&base.system);
            let signer = Signer::of(system, &payload.actor);
            let staged = self.projects.entry(payload.project.clone()).or_default();
            staged.apply(base.project(&payload.project), payload, at, facts, signer);
        }
    }
}

/// The log's events as far as the rules ask about them: a retraction must name an event of its
/// project, and applying it needs that event's version. Answered from an index of the log (the
/// store's, or a replay's) rather than kept in the state, which would hold a key for every
/// event ever accepted. The index may fail to answer, and says so.
pub trait Events {
    /// The project version of the event, when it was accepted into the project before the
    /// request being decided.
    fn version_in_project(&self, project: &ProjectId, event: &EventId) -> Result<Option<u64>, LookupFailed>;
}

/// For checks that never ask (signers, evidence bundles): no event is known.
pub struct NoEvents;

impl Events for NoEvents {
    fn version_in_project(&self, _: &ProjectId, _: &EventId) -> Result<Option<u64>, LookupFailed> {
        Ok(None)
    }
}
