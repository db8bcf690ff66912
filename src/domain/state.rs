//! What the rules need to know about the ledger so far, and how each accepted event changes it.
//!
//! `apply` cannot fail: it is only called with events the rules accepted (or that were accepted
//! when they were written, on replay). Events of one request are staged in a [`Changes`] overlay
//! and merged only once the whole request is accepted, so a refused request leaves no trace.

use super::event::*;
use super::ids::{ActorId, Digest, EventId, Id, KeyId, Label, ProjectId, PublicKeyBytes};
use super::payload::Payload;
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    Brief,
    Reference,
    ModelVersion,
    Pipeline,
    Prompt,
    Asset,
    Generation,
    Selection,
    Edit,
    Review,
    Approval,
    Delivery,
}

impl Namespace {
    pub fn noun(self) -> &'static str {
        match self {
            Namespace::Brief => "brief",
            Namespace::Reference => "reference",
            Namespace::ModelVersion => "model version",
            Namespace::Pipeline => "pipeline",
            Namespace::Prompt => "prompt",
            Namespace::Asset => "asset",
            Namespace::Generation => "generation",
            Namespace::Selection => "selection",
            Namespace::Edit => "post edit",
            Namespace::Review => "QC review",
            Namespace::Approval => "approval",
            Namespace::Delivery => "delivery",
        }
    }
}

/// What is remembered of one record of a project.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Plain,
    Brief { formats: Vec<Label> },
    Asset { digest: Digest },
}

/// An id as the rules remember it: 16 bytes of a keyed SHA-256 of it, no allocation of its own
/// (a large project remembers millions). The key is drawn at random once per process, so that
/// nobody can choose ids whose 128-bit keys collide; by chance, two of a billion ids collide with
/// a probability below 10⁻²⁰.
pub type IdKey = [u8; 16];

pub use super::compact::{KeyMap, KeySet};

fn keyed(parts: &[&[u8]]) -> IdKey {
    use sha2::Digest as _;
    static SECRET: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    let secret = SECRET.get_or_init(|| {
        let mut bytes = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        bytes
    });
    let mut hasher = sha2::Sha256::new();
    hasher.update(secret);
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize()[..16].try_into().expect("16 of 32 bytes")
}

pub fn id_key(id: &str) -> IdKey {
    keyed(&[id.as_bytes()])
}

/// The key a record is remembered by: its namespace's tag and its id, keyed.
fn record_key(ns: Namespace, id: &str) -> IdKey {
    keyed(&[&[ns as u8 + 1], id.as_bytes()])
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectState {
    pub content_type: Option<ContentType>,
    /// Records that are neither assets nor briefs, by [`record_key`] (16 bytes each: a project
    /// of generations holds two records per event, and these sets are most of its memory).
    records: KeySet,
    /// Assets, by [`record_key`], with their digest.
    assets: KeyMap<IdKey, [u8; 32]>,
    /// Briefs (a few per project), by [`record_key`], with their deliverable formats as last
    /// revised.
    briefs: hashbrown::HashMap<IdKey, Vec<Label>>,
    retracted: HashSet<EventId>,
    reviews: HashMap<Digest, Vec<Review>>,
    approvals: HashMap<Digest, Vec<Approval>>,
}

/// A QC review as the workflow policies see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub event: EventId,
    pub verdict: Verdict,
    pub passed: Vec<QcCheck>,
    pub medium: ProofMedium,
}

/// An approval as the workflow policies see it: the approver's role when it was signed.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub event: EventId,
    pub role: Option<Role>,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyState {
    pub public_key: PublicKeyBytes,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActorState {
    pub display_name: Label,
    pub role: Role,
    pub keys: BTreeMap<KeyId, KeyState>,
}

/// Actors and their keys, from the system stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemState {
    actors: BTreeMap<ActorId, ActorState>,
    key_owner: HashMap<KeyId, ActorId>,
}

impl SystemState {
    /// The state before any event: only the ledger itself, whose key signs the genesis entry.
    pub fn genesis(ledger_actor: ActorId, ledger_key_id: KeyId, ledger_key: PublicKeyBytes) -> Self {
        let mut state = SystemState::default();
        state.register(
            ledger_actor,
            Label::parse("lineage ledger").expect("constant label"),
            Role::Admin,
            &[PublicKey { key_id: ledger_key_id, public_key: ledger_key }],
        );
        state
    }

    pub fn actor(&self, id: &ActorId) -> Option<&ActorState> {
        self.actors.get(id)
    }
    pub fn actors(&self) -> impl Iterator<Item = (&ActorId, &ActorState)> {
        self.actors.iter()
    }
    pub fn key_owner(&self, key: &KeyId) -> Option<&ActorId> {
        self.key_owner.get(key)
    }
    /// The key, its owner and the owner's state.
    pub fn key(&self, key: &KeyId) -> Option<(&ActorId, &ActorState, &KeyState)> {
        let owner = self.key_owner.get(key)?;
        let actor = self.actors.get(owner)?;
        Some((owner, actor, actor.keys.get(key)?))
    }

    fn register(&mut self, id: ActorId, display_name: Label, role: Role, keys: &[PublicKey]) {
        let mut map = BTreeMap::new();
        for key in keys {
            map.insert(key.key_id.clone(), KeyState { public_key: key.public_key.clone(), revoked: false });
            self.key_owner.insert(key.key_id.clone(), id.clone());
        }
        self.actors.insert(id, ActorState { display_name, role, keys: map });
    }

    pub fn apply(&mut self, body: &Body) {
        match body {
            Body::ActorRegistered(b) => self.register(b.actor_id.clone(), b.display_name.clone(), b.role, &b.keys),
            Body::KeyAdded(b) => {
                if let Some(actor) = self.actors.get_mut(&b.actor_id) {
                    actor.keys.insert(
                        b.key.key_id.clone(),
                        KeyState { public_key: b.key.public_key.clone(), revoked: false },
                    );
                    self.key_owner.insert(b.key.key_id.clone(), b.actor_id.clone());
                }
            }
            Body::KeyRevoked(b) => {
                if let Some(key) = self.actors.get_mut(&b.actor_id).and_then(|a| a.keys.get_mut(&b.key_id)) {
                    key.revoked = true;
                }
            }
            _ => {}
        }
    }
}

/// The records one event creates, by namespace: used by `apply` and by the uniqueness rules.
pub fn created_records(body: &Body) -> Vec<(Namespace, &Id, Record)> {
    use Namespace as N;
    let asset = |o: &AssetOutput| Record::Asset { digest: o.digest.clone() };
    match body {
        Body::BriefRecorded(b) => {
            vec![(N::Brief, &b.brief_id, Record::Brief { formats: b.deliverable_formats.clone() })]
        }
        Body::ReferenceAdded(b) => vec![(N::Reference, &b.reference_id, Record::Plain)],
        Body::ModelVersionRegistered(b) => {
            vec![(N::ModelVersion, &b.model_version_id, Record::Plain)]
        }
        Body::PipelineDefined(b) => vec![(N::Pipeline, &b.pipeline_id, Record::Plain)],
        Body::PromptAuthored(b) => vec![(N::Prompt, &b.prompt_id, Record::Plain)],
        Body::GenerationRecorded(b) => {
            let mut out = vec![(N::Generation, &b.generation_id, Record::Plain)];
            out.extend(b.outputs.iter().map(|o| (N::Asset, &o.asset_id, asset(o))));
            out
        }
        Body::SelectionMade(b) => vec![(N::Selection, &b.selection_id, Record::Plain)],
        Body::PostEditApplied(b) => {
            vec![(N::Edit, &b.edit_id, Record::Plain), (N::Asset, &b.output.asset_id, asset(&b.output))]
        }
        Body::QcReviewRecorded(b) => vec![(N::Review, &b.review_id, Record::Plain)],
        Body::ApprovalRecorded(b) => vec![(N::Approval, &b.approval_id, Record::Plain)],
        Body::DeliveryRecorded(b) => {
            vec![(N::Delivery, &b.delivery_id, Record::Plain), (N::Asset, &b.variant.asset_id, asset(&b.variant))]
        }
        _ => vec![],
    }
}

impl ProjectState {
    pub fn record(&self, ns: Namespace, id: &Id) -> Option<Record> {
        self.record_by_key(ns, &record_key(ns, id.as_str()))
    }

    /// A record by its [`record_key`]. Assets and briefs are the only namespaces whose records
    /// carry something (see [`created_records`]), so one table is asked, not three.
    fn record_by_key(&self, ns: Namespace, key: &IdKey) -> Option<Record> {
        match ns {
            Namespace::Asset => self.assets.get(key).map(|digest| Record::Asset { digest: Digest::from_bytes(digest) }),
            Namespace::Brief => self.briefs.get(key).map(|formats| Record::Brief { formats: formats.clone() }),
            _ => self.records.contains_key(key).then_some(Record::Plain),
        }
    }

    fn insert(&mut self, ns: Namespace, id: &Id, record: &Record) {
        let key = record_key(ns, id.as_str());
        match record {
            Record::Plain => {
                self.records.insert(key, ());
            }
            Record::Brief { formats } => {
                self.briefs.insert(key, formats.clone());
            }
            Record::Asset { digest } => {
                self.assets.insert(key, digest.bytes());
            }
        }
    }
    pub fn is_retracted(&self, id: &EventId) -> bool {
        self.retracted.contains(id)
    }

    pub fn apply(&mut self, event_id: &EventId, body: &Body, role: Option<Role>) {
        match body {
            Body::QcReviewRecorded(b) => {
                self.insert(Namespace::Review, &b.review_id, &Record::Plain);
                let passed = b.checks.iter().filter(|c| c.result == CheckResult::Pass).map(|c| c.check).collect();
                let review = Review { event: event_id.clone(), verdict: b.verdict, passed, medium: b.proof_medium };
                self.reviews.entry(b.digest.clone()).or_default().push(review);
            }
            Body::ApprovalRecorded(b) => {
                self.insert(Namespace::Approval, &b.approval_id, &Record::Plain);
                let approval = Approval { event: event_id.clone(), role, decision: b.decision };
                self.approvals.entry(b.digest.clone()).or_default().push(approval);
            }
            Body::ProjectCreated(b) => self.content_type = Some(b.content_type),
            Body::BriefRevised(b) => {
                if let Some(formats) = &b.deliverable_formats {
                    self.insert(Namespace::Brief, &b.brief_id, &Record::Brief { formats: formats.clone() });
                }
            }
            Body::EventRetracted(b) => {
                self.retracted.insert(b.event_id.clone());
            }
            other => {
                for (ns, id, record) in created_records(other) {
                    self.insert(ns, id, &record);
                }
            }
        }
    }

    /// Moves everything a staged request added into this state.
    fn merge(&mut self, staged: ProjectState) {
        if staged.content_type.is_some() {
            self.content_type = staged.content_type;
        }
        self.records.extend(staged.records);
        self.assets.extend(staged.assets);
        self.briefs.extend(staged.briefs);
        self.retracted.extend(staged.retracted);
        for (digest, reviews) in staged.reviews {
            self.reviews.entry(digest).or_default().extend(reviews);
        }
        for (digest, approvals) in staged.approvals {
            self.approvals.entry(digest).or_default().extend(approvals);
        }
    }
}

/// Everything the rules consult: the system stream and every project.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerState {
    pub system: SystemState,
    projects: HashMap<ProjectId, ProjectState>,
}

impl LedgerState {
    pub fn new(system: SystemState) -> Self {
        LedgerState { system, projects: HashMap::new() }
    }
    pub fn project(&self, id: &ProjectId) -> Option<&ProjectState> {
        self.projects.get(id)
    }
    pub fn project_count(&self) -> usize {
        self.projects.len()
    }

    /// Applies an event that was accepted (on replay, or right after the rules passed it).
    pub fn apply(&mut self, payload: &Payload) {
        if payload.project.is_system() {
            self.system.apply(&payload.body);
        } else {
            let role = self.system.actor(&payload.actor).map(|a| a.role);
            self.projects.entry(payload.project.clone()).or_default().apply(&payload.event_id, &payload.body, role);
        }
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
    system: Option<SystemState>,
    projects: HashMap<ProjectId, ProjectState>,
    /// The request's events so far, by project (a request holds at most a thousand).
    events: Vec<(ProjectId, EventId)>,
}

/// A lookup of the log that could not be answered (the store failed to read): a decision that
/// needed it is neither an acceptance nor a refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the log could not be read: {0}")]
pub struct LookupFailed(pub String);

/// The log's events as far as the rules ask about them: a retraction must name an event of its
/// project. Answered from an index of the log (the store's, or a replay's) rather than kept in
/// the state, which would hold a key for every event ever accepted. The index may fail to
/// answer, and says so.
pub trait Events {
    /// Whether the event was accepted into the project before the request being decided.
    fn in_project(&self, project: &ProjectId, event: &EventId) -> Result<bool, LookupFailed>;
}

/// For checks that never ask (signers, evidence bundles): no event is known.
pub struct NoEvents;

impl Events for NoEvents {
    fn in_project(&self, _: &ProjectId, _: &EventId) -> Result<bool, LookupFailed> {
        Ok(false)
    }
}

/// A read view of the ledger as it would be with the staged changes: what the rules see.
pub struct View<'a> {
    pub base: &'a LedgerState,
    pub changes: &'a Changes,
    pub events: &'a dyn Events,
}

impl View<'_> {
    fn both(&self, project: &ProjectId) -> impl Iterator<Item = &ProjectState> {
        self.base.project(project).into_iter().chain(self.changes.projects.get(project))
    }

    /// QC reviews of a digest that were not retracted, oldest first.
    pub fn reviews(&self, project: &ProjectId, digest: &Digest) -> Vec<&Review> {
        let all: Vec<&Review> = self.both(project).flat_map(|p| p.reviews.get(digest).into_iter().flatten()).collect();
        all.into_iter().filter(|r| !self.is_retracted(project, &r.event)).collect()
    }

    /// Approvals of a digest that were not retracted, oldest first.
    pub fn approvals(&self, project: &ProjectId, digest: &Digest) -> Vec<&Approval> {
        let all: Vec<&Approval> =
            self.both(project).flat_map(|p| p.approvals.get(digest).into_iter().flatten()).collect();
        all.into_iter().filter(|a| !self.is_retracted(project, &a.event)).collect()
    }

    /// The deliverable formats every brief of the project declares, as last revised.
    pub fn brief_formats(&self, project: &ProjectId) -> Vec<Label> {
        let mut briefs: HashMap<&IdKey, &Vec<Label>> = HashMap::new();
        for state in self.both(project) {
            briefs.extend(&state.briefs);
        }
        briefs.into_values().flatten().cloned().collect()
    }

    pub fn system(&self) -> &SystemState {
        self.changes.system.as_ref().unwrap_or(&self.base.system)
    }
    pub fn project_exists(&self, id: &ProjectId) -> bool {
        self.content_type(id).is_some()
    }
    pub fn content_type(&self, id: &ProjectId) -> Option<ContentType> {
        self.changes
            .projects
            .get(id)
            .and_then(|p| p.content_type)
            .or_else(|| self.base.project(id).and_then(|p| p.content_type))
    }
    pub fn record(&self, project: &ProjectId, ns: Namespace, id: &Id) -> Option<Record> {
        let key = record_key(ns, id.as_str());
        // The staged state first: a brief revised in this request has its new formats there.
        let staged = self.changes.projects.get(project);
        staged.into_iter().chain(self.base.project(project)).find_map(|p| p.record_by_key(ns, &key))
    }
    pub fn has_event(&self, project: &ProjectId, id: &EventId) -> Result<bool, LookupFailed> {
        if self.changes.events.iter().any(|(p, e)| p == project && e == id) {
            return Ok(true);
        }
        self.events.in_project(project, id)
    }
    pub fn is_retracted(&self, project: &ProjectId, id: &EventId) -> bool {
        self.changes.projects.get(project).is_some_and(|p| p.is_retracted(id))
            || self.base.project(project).is_some_and(|p| p.is_retracted(id))
    }
}

impl Changes {
    /// Stages an accepted event.
    pub fn stage(&mut self, base: &LedgerState, payload: &Payload) {
        self.events.push((payload.project.clone(), payload.event_id.clone()));
        if payload.project.is_system() {
            self.system.get_or_insert_with(|| base.system.clone()).apply(&payload.body);
        } else {
            let role = self.system.as_ref().unwrap_or(&base.system).actor(&payload.actor).map(|a| a.role);
            self.projects.entry(payload.project.clone()).or_default().apply(&payload.event_id, &payload.body, role);
        }
    }
}

/// Every asset an event names, as subject, input or output, in the order it names them.
pub fn named_assets(body: &Body) -> Vec<&Id> {
    match body {
        Body::GenerationRecorded(b) => b.input_assets.iter().chain(b.outputs.iter().map(|o| &o.asset_id)).collect(),
        Body::SelectionMade(b) => b.selected.iter().chain(&b.rejected).collect(),
        Body::PostEditApplied(b) => b.inputs.iter().chain([&b.output.asset_id]).collect(),
        Body::QcReviewRecorded(b) => vec![&b.asset],
        Body::ApprovalRecorded(b) => vec![&b.asset],
        Body::DeliveryRecorded(b) => vec![&b.master_asset, &b.variant.asset_id],
        Body::NoteAdded(b) => b.assets.iter().collect(),
        _ => vec![],
    }
}
