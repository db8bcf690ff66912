//! What the rules need to know about the ledger so far, and how each accepted event changes it.
//!
//! `apply` cannot fail: it is only called with events the rules accepted (or that were accepted
//! when they were written, on replay). Events of one request are staged in a [`Changes`] overlay
//! and merged only once the whole request is accepted, so a refused request leaves no trace.
//!
//! Kept whole (about 1,200 lines): the state, its `apply` and the `View` the rules read through
//! share private fields, and a split would open them to the rest of the crate.

use super::event::RuleSpec;
use super::event::*;
use super::ids::{ActorId, Digest, EventId, Id, KeyId, Label, OrganizationId, ProjectId, PublicKeyBytes};
use super::payload::Payload;
pub use super::refusal::LookupFailed;
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

/// An id as the rules remember it: 16 bytes of a keyed hash of it (two SipHash-2-4), no
/// allocation of its own (a large project remembers millions). The keys are drawn at random once
/// per process, so that
/// nobody can choose ids whose 128-bit keys collide; by chance, two of a billion ids collide with
/// a probability below 10⁻²⁰.
pub type IdKey = [u8; 16];

pub use super::compact::{KeyMap, KeySet};

fn keyed(parts: &[&[u8]]) -> IdKey {
    use std::hash::Hasher as _;
    // Two SipHash-2-4 of independent random 128-bit keys: a keyed function nobody without the
    // keys can aim collisions at, at a tenth of a SHA-256's cost (the rules key every id they
    // read or remember).
    static KEYS: std::sync::OnceLock<[u64; 4]> = std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        let mut bytes = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        std::array::from_fn(|i| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes")))
    });
    let half = |k0: u64, k1: u64| {
        #[allow(deprecated)]
        let mut hasher = std::hash::SipHasher::new_with_keys(k0, k1);
        for part in parts {
            hasher.write(part);
            hasher.write_u8(0xff);
        }
        hasher.finish()
    };
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&half(keys[0], keys[1]).to_le_bytes());
    key[8..].copy_from_slice(&half(keys[2], keys[3]).to_le_bytes());
    key
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
    /// The client organisation of a governed project; `None` for a legacy one.
    client: Option<OrganizationId>,
    /// Records that are neither assets nor briefs, by [`record_key`] (16 bytes each: a project
    /// of generations holds two records per event, and these sets are most of its memory).
    records: KeySet,
    /// Assets, by [`record_key`], with their digest and the version of the event that made them.
    assets: KeyMap<IdKey, AssetRecord>,
    /// Briefs (a few per project), by [`record_key`], with their deliverable formats as last
    /// revised.
    briefs: hashbrown::HashMap<IdKey, Vec<Label>>,
    /// Each brief's recording and revisions that set its formats, in log order, with their
    /// events: a retracted one no longer counts (rule set version 3).
    brief_history: hashbrown::HashMap<IdKey, Vec<(EventId, Vec<Label>)>>,
    retracted: HashSet<EventId>,
    /// The project versions of retracted events, with their ids.
    retracted_versions: HashMap<u32, EventId>,
    reviews: HashMap<Digest, Vec<Review>>,
    approvals: HashMap<Digest, Vec<Approval>>,
    /// Everyone ever added, with their role while a member (a removal is kept as such).
    members: HashMap<ActorId, Membership>,
    /// The policy amendments, in log order.
    amendments: Vec<(EventId, RuleSpec)>,
    /// The assets an asset was made from, for the assets made from others (by [`record_key`]).
    parents: HashMap<IdKey, Vec<Id>>,
    /// Records whose use is restricted, and why: model versions with a non-commercial licence,
    /// references for reference only, and the prompts and assets made from them.
    restricted: HashMap<IdKey, Restriction>,
    /// The creative directors' selection decisions on an asset, in log order.
    director_decisions: HashMap<IdKey, Vec<DirectorDecision>>,
    /// The post edits whose base (first input) an asset is, in log order.
    superseded_by: HashMap<IdKey, Vec<Supersession>>,
    /// Events a retraction may not take back, or only their author may.
    guarded: HashMap<EventId, Guard>,
    /// The version of the rule sets the project is judged by: 3 for a project created (or
    /// adopted) by an event that names its ledger, 2 for one created before (see
    /// [`super::policy::RULE_SET_VERSION`]); 0 for none or a legacy project.
    rule_set: u32,
    /// The first asset recorded with each bytes, by [`bytes_key`] of its digest.
    bytes: KeyMap<IdKey, IdKey>,
    /// The other assets recorded with the same bytes, in log order (by [`bytes_key`]).
    bytes_more: HashMap<IdKey, Vec<IdKey>>,
    /// References recorded with the digest of their bytes (by [`bytes_key`]), and whether each
    /// is for reference only.
    reference_bytes: HashMap<IdKey, (Id, bool)>,
}

/// The key a digest's bytes are remembered by.
pub fn bytes_key(digest: &[u8; 32]) -> IdKey {
    keyed(&[b"bytes", digest])
}

/// The key an asset is remembered by.
pub fn asset_key(id: &Id) -> IdKey {
    record_key(Namespace::Asset, id.as_str())
}

/// What the rules keep of an asset (36 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetRecord {
    pub digest: [u8; 32],
    /// The project version of the event that made it (a project holds fewer than 2³² events).
    pub made_at: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Member(Role),
    Removed,
}

/// Why a record may not go into a commercial delivery, naming the restricted ancestor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    pub origin: String,
}

/// A creative director's decision on an asset in a selection.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectorDecision {
    pub event: EventId,
    pub selection: Id,
    pub rejected: bool,
    pub occurred_at_us: i64,
}

/// A post edit made on top of an asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Supersession {
    pub event: EventId,
    pub edit: Id,
    pub output: Id,
}

/// Who may retract an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// Governance (project creation and adoption, membership, policy, retractions): nobody.
    Governance,
    /// Evidence the policies count (QC reviews, approvals, creative directors' selections):
    /// only the actor who recorded it.
    Evidence { author: ActorId },
}

/// A QC review as the workflow policies see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub event: EventId,
    pub review: Id,
    pub asset: Id,
    pub verdict: Verdict,
    pub results: Vec<(QcCheck, CheckResult)>,
    pub medium: ProofMedium,
    pub scale_percent: Option<u16>,
    pub occurred_at_us: i64,
}

impl Review {
    pub fn passed(&self, check: QcCheck) -> bool {
        self.results.iter().any(|(c, r)| *c == check && *r == CheckResult::Pass)
    }
}

/// An approval as the workflow policies see it: the approver's role when it was signed (the
/// project role in a governed project) and whether the approver belongs to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub event: EventId,
    pub approval: Id,
    pub asset: Id,
    pub actor: ActorId,
    pub role: Option<Role>,
    pub of_client: bool,
    pub decision: Decision,
    pub occurred_at_us: i64,
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
    /// `None` for the bootstrap admin and actors registered before organisations existed.
    pub organization: Option<OrganizationId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationState {
    pub display_name: Label,
    pub kind: OrganizationKind,
}

/// Organisations, actors and their keys, from the system stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemState {
    organizations: BTreeMap<OrganizationId, OrganizationState>,
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
            None,
        );
        state
    }

    /// The state with an organisation registered as if by an event: for tests whose genesis
    /// needs a client to create projects for.
    #[cfg(test)]
    pub fn with_organization(mut self, id: &str, kind: OrganizationKind) -> Self {
        let organization = OrganizationState { display_name: Label::parse(id).expect("a label"), kind };
        self.organizations.insert(OrganizationId::parse(id).expect("an id"), organization);
        self
    }

    pub fn actor(&self, id: &ActorId) -> Option<&ActorState> {
        self.actors.get(id)
    }
    pub fn organization(&self, id: &OrganizationId) -> Option<&OrganizationState> {
        self.organizations.get(id)
    }
    pub fn organizations(&self) -> impl Iterator<Item = (&OrganizationId, &OrganizationState)> {
        self.organizations.iter()
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

    fn register(
        &mut self,
        id: ActorId,
        display_name: Label,
        role: Role,
        keys: &[PublicKey],
        organization: Option<OrganizationId>,
    ) {
        let mut map = BTreeMap::new();
        for key in keys {
            map.insert(key.key_id.clone(), KeyState { public_key: key.public_key.clone(), revoked: false });
            self.key_owner.insert(key.key_id.clone(), id.clone());
        }
        self.actors.insert(id, ActorState { display_name, role, keys: map, organization });
    }

    pub fn apply(&mut self, body: &Body) {
        match body {
            Body::OrganizationRegistered(b) => {
                let organization = OrganizationState { display_name: b.display_name.clone(), kind: b.kind };
                self.organizations.insert(b.organization_id.clone(), organization);
            }
            Body::ActorRegistered(b) => {
                self.register(b.actor_id.clone(), b.display_name.clone(), b.role, &b.keys, b.organization.clone())
            }
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
/// What a record an event makes is made from, by namespace: a generation's model version,
/// prompt, pipeline and input assets; a post edit's inputs and model version; a delivered
/// variant's master; a prompt's parent prompt, references and brief; a pipeline's model versions.
/// The edges an asset's lineage follows back, and that a bundle must hold the making entries of.
pub fn derivation_refs(body: &Body) -> Vec<(Namespace, &Id)> {
    use Namespace as N;
    let mut out = Vec::new();
    match body {
        Body::GenerationRecorded(b) => {
            out.push((N::ModelVersion, &b.model_version));
            out.push((N::Prompt, &b.prompt));
            out.extend(b.pipeline.iter().map(|p| (N::Pipeline, p)));
            out.extend(b.input_assets.iter().map(|a| (N::Asset, a)));
        }
        Body::PostEditApplied(b) => {
            out.extend(b.inputs.iter().map(|a| (N::Asset, a)));
            out.extend(b.model_version.iter().map(|m| (N::ModelVersion, m)));
        }
        Body::DeliveryRecorded(b) => out.push((N::Asset, &b.master_asset)),
        Body::PromptAuthored(b) => {
            out.extend(b.parent_prompt.iter().map(|p| (N::Prompt, p)));
            out.extend(b.references.iter().map(|r| (N::Reference, r)));
            out.extend(b.brief_id.iter().map(|r| (N::Brief, r)));
        }
        Body::PipelineDefined(b) => out.extend(b.model_versions.iter().map(|m| (N::ModelVersion, m))),
        _ => {}
    }
    out
}

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

/// Who signed an event being applied, as the system stream knows them.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    pub actor: &'a ActorId,
    /// The role the actor was registered with; `None` for an actor the system stream does not
    /// know (only in a partial view, such as an evidence bundle's).
    pub ledger_role: Option<Role>,
    pub organization: Option<&'a OrganizationId>,
}

impl<'a> Signer<'a> {
    pub fn of(system: &'a SystemState, actor: &'a ActorId) -> Signer<'a> {
        let state = system.actor(actor);
        Signer { actor, ledger_role: state.map(|a| a.role), organization: state.and_then(|a| a.organization.as_ref()) }
    }
}

/// Where an event lands: the project version it takes, and when the ledger received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub version: u64,
    pub received_at_us: i64,
}

/// What applying an event needs to know of the log beyond the event, looked up (which may fail)
/// before it is applied, so that `apply` itself cannot fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// For a retraction: the project version of the event it retracts.
    pub retracted_version: Option<u64>,
}

impl Facts {
    /// Looks up what applying `payload` needs.
    pub fn of(view: &View<'_>, payload: &Payload) -> Result<Facts, LookupFailed> {
        match &payload.body {
            Body::EventRetracted(b) => {
                Ok(Facts { retracted_version: view.version_of_event(&payload.project, &b.event_id)? })
            }
            _ => Ok(Facts::default()),
        }
    }
}

/// A project version as kept with each asset (saturating: a project holds fewer than 2³²
/// events).
fn short_version(version: u64) -> u32 {
    u32::try_from(version).unwrap_or(u32::MAX)
}

impl ProjectState {
    pub fn record(&self, ns: Namespace, id: &Id) -> Option<Record> {
        self.record_by_key(ns, &record_key(ns, id.as_str()))
    }

    /// A record by its [`record_key`]. Assets and briefs are the only namespaces whose records
    /// carry something (see [`created_records`]), so one table is asked, not three.
    fn record_by_key(&self, ns: Namespace, key: &IdKey) -> Option<Record> {
        match ns {
            Namespace::Asset => {
                self.assets.get(key).map(|asset| Record::Asset { digest: Digest::from_bytes(&asset.digest) })
            }
            Namespace::Brief => self.briefs.get(key).map(|formats| Record::Brief { formats: formats.clone() }),
            _ => self.records.contains_key(key).then_some(Record::Plain),
        }
    }

    fn has_record_by_key(&self, ns: Namespace, key: &IdKey) -> bool {
        match ns {
            Namespace::Asset => self.assets.get(key).is_some(),
            Namespace::Brief => self.briefs.contains_key(key),
            _ => self.records.contains_key(key),
        }
    }

    fn insert(&mut self, ns: Namespace, id: &Id, record: &Record, made_at: u32) {
        let key = record_key(ns, id.as_str());
        match record {
            Record::Plain => {
                self.records.insert(key, ());
            }
            Record::Brief { formats } => {
                self.briefs.insert(key, formats.clone());
            }
            Record::Asset { digest } => {
                self.assets.insert(key, AssetRecord { digest: digest.bytes(), made_at });
            }
        }
    }
    pub fn is_retracted(&self, id: &EventId) -> bool {
        self.retracted.contains(id)
    }

    /// Applies an accepted event. For the events of a request being staged, `self` is the
    /// overlay and `base` the state it lies on; what the event depends on is looked up in both.
    pub fn apply(
        &mut self,
        base: Option<&ProjectState>,
        payload: &Payload,
        at: Position,
        facts: Facts,
        signer: Signer<'_>,
    ) {
        let event_id = &payload.event_id;
        let occurred_at_us = payload.occurred_at.timestamp_micros();
        let governed = self.client.is_some() || base.is_some_and(|b| b.client.is_some());
        let member_role =
            match self.members.get(signer.actor).or_else(|| base.and_then(|b| b.members.get(signer.actor))) {
                Some(Membership::Member(role)) => Some(*role),
                _ => None,
            };
        // The role the rules judged the event by: the project role in a governed project.
        let role = if governed { member_role } else { signer.ledger_role };
        let client = self.client.clone().or_else(|| base.and_then(|b| b.client.clone()));
        let of_client = governed && signer.organization.is_some() && signer.organization == client.as_ref();
        let made_at = short_version(at.version);
        match &payload.body {
            Body::QcReviewRecorded(b) => {
                self.insert(Namespace::Review, &b.review_id, &Record::Plain, made_at);
                let review = Review {
                    event: event_id.clone(),
                    review: b.review_id.clone(),
                    asset: b.asset.clone(),
                    verdict: b.verdict,
                    results: b.checks.iter().map(|c| (c.check, c.result)).collect(),
                    medium: b.proof_medium,
                    scale_percent: b.proof_scale_percent,
                    occurred_at_us,
                };
                self.reviews.entry(b.digest.clone()).or_default().push(review);
                self.guarded.insert(event_id.clone(), Guard::Evidence { author: signer.actor.clone() });
            }
            Body::ApprovalRecorded(b) => {
                self.insert(Namespace::Approval, &b.approval_id, &Record::Plain, made_at);
                let approval = Approval {
                    event: event_id.clone(),
                    approval: b.approval_id.clone(),
                    asset: b.asset.clone(),
                    actor: signer.actor.clone(),
                    role,
                    of_client,
                    decision: b.decision,
                    occurred_at_us,
                };
                self.approvals.entry(b.digest.clone()).or_default().push(approval);
                self.guarded.insert(event_id.clone(), Guard::Evidence { author: signer.actor.clone() });
            }
            Body::ProjectCreated(b) => {
                self.content_type = Some(b.content_type);
                self.client = b.client_organization.clone();
                self.rule_set = rule_set_of(payload);
                self.guarded.insert(event_id.clone(), Guard::Governance);
                if self.client.is_some() && signer.ledger_role == Some(Role::Producer) {
                    self.members.insert(signer.actor.clone(), Membership::Member(Role::Producer));
                }
            }
            Body::ProjectAdopted(b) => {
                self.client = Some(b.client_organization.clone());
                self.rule_set = rule_set_of(payload);
                self.guarded.insert(event_id.clone(), Guard::Governance);
            }
            Body::MemberAdded(b) => {
                self.members.insert(b.actor_id.clone(), Membership::Member(b.role));
                self.guarded.insert(event_id.clone(), Guard::Governance);
            }
            Body::MemberRemoved(b) => {
                self.members.insert(b.actor_id.clone(), Membership::Removed);
                self.guarded.insert(event_id.clone(), Guard::Governance);
            }
            Body::PolicyAmended(b) => {
                self.amendments.extend(b.rules.iter().map(|r| (event_id.clone(), r.clone())));
                self.guarded.insert(event_id.clone(), Guard::Governance);
            }
            Body::BriefRevised(b) => {
                if let Some(formats) = &b.deliverable_formats {
                    self.insert(Namespace::Brief, &b.brief_id, &Record::Brief { formats: formats.clone() }, made_at);
                    let key = record_key(Namespace::Brief, b.brief_id.as_str());
                    self.brief_history.entry(key).or_default().push((event_id.clone(), formats.clone()));
                }
            }
            Body::EventRetracted(b) => {
                self.retracted.insert(b.event_id.clone());
                if let Some(version) = facts.retracted_version {
                    self.retracted_versions.insert(short_version(version), b.event_id.clone());
                }
                self.guarded.insert(event_id.clone(), Guard::Governance);
            }
            Body::SelectionMade(b) => {
                self.insert(Namespace::Selection, &b.selection_id, &Record::Plain, made_at);
                if role == Some(Role::CreativeDirector) {
                    let decisions = b.selected.iter().map(|a| (a, false)).chain(b.rejected.iter().map(|a| (a, true)));
                    for (asset, rejected) in decisions {
                        let decision = DirectorDecision {
                            event: event_id.clone(),
                            selection: b.selection_id.clone(),
                            rejected,
                            occurred_at_us,
                        };
                        self.director_decisions
                            .entry(record_key(Namespace::Asset, asset.as_str()))
                            .or_default()
                            .push(decision);
                    }
                    self.guarded.insert(event_id.clone(), Guard::Evidence { author: signer.actor.clone() });
                }
            }
            other => {
                if let Body::ReferenceAdded(b) = other {
                    if let Some(digest) = &b.digest {
                        let only = b.rights.reproduction == Some(Reproduction::ReferenceOnly);
                        self.reference_bytes.insert(bytes_key(&digest.bytes()), (b.reference_id.clone(), only));
                    }
                }
                if let Body::BriefRecorded(b) = other {
                    let key = record_key(Namespace::Brief, b.brief_id.as_str());
                    self.brief_history.entry(key).or_default().push((event_id.clone(), b.deliverable_formats.clone()));
                }
                let restriction = self.restriction_made(base, other);
                for (ns, id, record) in created_records(other) {
                    self.insert(ns, id, &record, made_at);
                    // A delivered variant with bytes already recorded (its master's, or an earlier
                    // variant's: the rules allow no others) adds nothing to weigh for them.
                    let repeated_variant = matches!(other, Body::DeliveryRecorded(_));
                    if let Record::Asset { digest } = &record {
                        self.index_bytes(base, record_key(ns, id.as_str()), &digest.bytes(), repeated_variant);
                    }
                    if ns == Namespace::Asset {
                        let key = record_key(ns, id.as_str());
                        let parents = parents_of(other);
                        if !parents.is_empty() {
                            self.parents.insert(key, parents.into_iter().cloned().collect());
                        }
                    }
                    if let Some(restriction) = &restriction {
                        if matches!(
                            ns,
                            Namespace::Asset
                                | Namespace::Prompt
                                | Namespace::ModelVersion
                                | Namespace::Reference
                                | Namespace::Pipeline
                        ) {
                            self.restricted.insert(record_key(ns, id.as_str()), restriction.clone());
                        }
                    }
                }
                if let Body::PostEditApplied(b) = other {
                    if let Some(base_input) = b.inputs.first() {
                        let supersession = Supersession {
                            event: event_id.clone(),
                            edit: b.edit_id.clone(),
                            output: b.output.asset_id.clone(),
                        };
                        self.superseded_by
                            .entry(record_key(Namespace::Asset, base_input.as_str()))
                            .or_default()
                            .push(supersession);
                    }
                }
            }
        }
    }

    /// Remembers which asset holds which bytes: the first asset of each, then the others.
    fn index_bytes(&mut self, base: Option<&ProjectState>, asset: IdKey, digest: &[u8; 32], variant: bool) {
        let key = bytes_key(digest);
        let known = self.bytes.contains_key(&key) || base.is_some_and(|b| b.bytes.contains_key(&key));
        if known && variant {
            return;
        }
        if known {
            self.bytes_more.entry(key).or_default().push(asset);
        } else {
            self.bytes.insert(key, asset);
        }
    }

    /// The restriction a record the event makes inherits or has of its own: the first restricted
    /// thing it is made from, or its own licence or rights.
    fn restriction_made(&self, base: Option<&ProjectState>, body: &Body) -> Option<Restriction> {
        let lookup = |ns: Namespace, id: &Id| -> Option<Restriction> {
            let key = record_key(ns, id.as_str());
            self.restricted.get(&key).or_else(|| base.and_then(|b| b.restricted.get(&key))).cloned()
        };
        let inherited = |from: &[(Namespace, &Id)]| from.iter().find_map(|(ns, id)| lookup(*ns, id));
        use Namespace as N;
        match body {
            Body::ModelVersionRegistered(b) if b.license_use == Some(Usage::NonCommercial) => Some(Restriction {
                origin: format!(
                    "model version `{}`, whose licence `{}` is non-commercial",
                    b.model_version_id, b.license
                ),
            }),
            Body::ReferenceAdded(b) if b.rights.reproduction == Some(Reproduction::ReferenceOnly) => {
                Some(Restriction {
                    origin: format!("reference `{}`, which is for reference only (no reproduction)", b.reference_id),
                })
            }
            // A prompt passes on the references it uses, not those of the prompt it rewrites:
            // a parent's text is not a reproduction of what the parent referenced.
            Body::PromptAuthored(b) => {
                let from: Vec<(Namespace, &Id)> = b.references.iter().map(|r| (N::Reference, r)).collect();
                inherited(&from)
            }
            // A pipeline runs its model versions: it carries their licences to what it makes.
            Body::PipelineDefined(b) => {
                let from: Vec<(Namespace, &Id)> = b.model_versions.iter().map(|m| (N::ModelVersion, m)).collect();
                inherited(&from)
            }
            Body::GenerationRecorded(b) => {
                let mut from = vec![(N::ModelVersion, &b.model_version), (N::Prompt, &b.prompt)];
                from.extend(b.pipeline.iter().map(|p| (N::Pipeline, p)));
                from.extend(b.input_assets.iter().map(|a| (N::Asset, a)));
                inherited(&from)
            }
            Body::PostEditApplied(b) => {
                let mut from: Vec<(Namespace, &Id)> = b.model_version.iter().map(|m| (N::ModelVersion, m)).collect();
                from.extend(b.inputs.iter().map(|a| (N::Asset, a)));
                inherited(&from)
            }
            Body::DeliveryRecorded(b) => inherited(&[(N::Asset, &b.master_asset)]),
            _ => None,
        }
    }

    /// Moves everything a staged request added into this state.
    fn merge(&mut self, staged: ProjectState) {
        if staged.content_type.is_some() {
            self.content_type = staged.content_type;
        }
        if staged.client.is_some() {
            self.client = staged.client;
        }
        self.records.extend(staged.records);
        self.assets.extend(staged.assets);
        self.briefs.extend(staged.briefs);
        for (brief, history) in staged.brief_history {
            self.brief_history.entry(brief).or_default().extend(history);
        }
        self.retracted.extend(staged.retracted);
        self.retracted_versions.extend(staged.retracted_versions);
        for (digest, reviews) in staged.reviews {
            self.reviews.entry(digest).or_default().extend(reviews);
        }
        for (digest, approvals) in staged.approvals {
            self.approvals.entry(digest).or_default().extend(approvals);
        }
        self.members.extend(staged.members);
        self.amendments.extend(staged.amendments);
        self.parents.extend(staged.parents);
        self.restricted.extend(staged.restricted);
        for (asset, decisions) in staged.director_decisions {
            self.director_decisions.entry(asset).or_default().extend(decisions);
        }
        for (asset, edits) in staged.superseded_by {
            self.superseded_by.entry(asset).or_default().extend(edits);
        }
        self.guarded.extend(staged.guarded);
        if staged.rule_set != 0 {
            self.rule_set = staged.rule_set;
        }
        self.reference_bytes.extend(staged.reference_bytes);
        // A staged first asset of some bytes was staged so because the base had none of them.
        self.bytes.extend(staged.bytes);
        for (key, more) in staged.bytes_more {
            self.bytes_more.entry(key).or_default().extend(more);
        }
    }

    /// An estimate of the heap bytes held (for the projection cache's budget).
    pub fn heap_bytes(&self) -> usize {
        let reviews: usize = self.reviews.values().map(|r| r.len() * 160).sum();
        let approvals: usize = self.approvals.values().map(|a| a.len() * 200).sum();
        self.records.heap_bytes()
            + self.assets.heap_bytes()
            + self.briefs.len() * 64
            + (self.retracted.len() + self.retracted_versions.len()) * 48
            + reviews
            + approvals
            + self.members.len() * 64
            + self.parents.len() * 64
            + self.restricted.len() * 120
            + self.director_decisions.len() * 96
            + self.superseded_by.len() * 112
            + self.guarded.len() * 64
            + self.bytes.heap_bytes()
            + self.bytes_more.values().map(|m| 48 + m.len() * 16).sum::<usize>()
    }
}

/// The version of the rule sets a project created or adopted by this event is judged by: events
/// that name their ledger (every new one) bring version 3, where evidence against bytes follows
/// them; those written before keep the version their log was written under.
fn rule_set_of(payload: &Payload) -> u32 {
    if payload.ledger.is_some() {
        3
    } else {
        2
    }
}

/// The assets an asset made by this event is made from.
fn parents_of(body: &Body) -> Vec<&Id> {
    match body {
        Body::GenerationRecorded(b) => b.input_assets.iter().collect(),
        Body::PostEditApplied(b) => b.inputs.iter().collect(),
        Body::DeliveryRecorded(b) => vec![&b.master_asset],
        _ => vec![],
    }
}

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
    projects: HashMap<ProjectId, ProjectState>,
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
    system: Option<SystemState>,
    projects: HashMap<ProjectId, ProjectState>,
    /// The request's events so far, by project, with their versions (a request holds at most a
    /// thousand).
    events: Vec<(ProjectId, EventId, u64)>,
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

/// A read view of the ledger as it would be with the staged changes: what the rules see.
pub struct View<'a> {
    pub base: &'a LedgerState,
    pub changes: &'a Changes,
    pub events: &'a dyn Events,
}

impl View<'_> {
    /// The project's state, then what the request staged on it: lists read in this order are in
    /// log order.
    fn both(&self, project: &ProjectId) -> impl Iterator<Item = &ProjectState> {
        self.base.project(project).into_iter().chain(self.changes.projects.get(project))
    }

    /// QC reviews of a digest that were not retracted, oldest first.
    pub fn reviews(&self, project: &ProjectId, digest: &Digest) -> Vec<&Review> {
        let all: Vec<&Review> = self.both(project).flat_map(|p| p.reviews.get(digest).into_iter().flatten()).collect();
        super::limits::tick(all.len());
        all.into_iter().filter(|r| !self.is_retracted(project, &r.event)).collect()
    }

    /// Approvals of a digest that were not retracted, oldest first.
    pub fn approvals(&self, project: &ProjectId, digest: &Digest) -> Vec<&Approval> {
        let all: Vec<&Approval> =
            self.both(project).flat_map(|p| p.approvals.get(digest).into_iter().flatten()).collect();
        super::limits::tick(all.len());
        all.into_iter().filter(|a| !self.is_retracted(project, &a.event)).collect()
    }

    /// Every approval of the project that was not retracted, oldest first.
    pub fn all_approvals(&self, project: &ProjectId) -> Vec<&Approval> {
        let mut all: Vec<&Approval> = self.both(project).flat_map(|p| p.approvals.values().flatten()).collect();
        super::limits::tick(all.len());
        all.retain(|a| !self.is_retracted(project, &a.event));
        all
    }

    /// The deliverable formats every brief of the project declares, as last revised.
    pub fn brief_formats(&self, project: &ProjectId) -> Vec<Label> {
        let formats = self.all_brief_formats(project);
        super::limits::tick(formats.len());
        formats
    }

    fn all_brief_formats(&self, project: &ProjectId) -> Vec<Label> {
        if self.rule_set(project) >= 3 {
            return self.current_brief_formats(project);
        }
        let mut briefs: HashMap<&IdKey, &Vec<Label>> = HashMap::new();
        for state in self.both(project) {
            briefs.extend(&state.briefs);
        }
        briefs.into_values().flatten().cloned().collect()
    }

    /// The deliverable formats of every brief whose recording was not retracted, each as its
    /// latest recording or revision not retracted set them (rule set version 3).
    fn current_brief_formats(&self, project: &ProjectId) -> Vec<Label> {
        let mut history: HashMap<&IdKey, Vec<&(EventId, Vec<Label>)>> = HashMap::new();
        for state in self.both(project) {
            for (brief, entries) in &state.brief_history {
                history.entry(brief).or_default().extend(entries);
            }
        }
        let mut out = Vec::new();
        for entries in history.into_values() {
            let recorded = entries.first().is_some_and(|(event, _)| !self.is_retracted(project, event));
            if let Some((_, formats)) =
                entries.iter().rev().find(|(event, _)| !self.is_retracted(project, event)).filter(|_| recorded)
            {
                out.extend(formats.iter().cloned());
            }
        }
        out
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
    /// The client organisation of a governed project; `None` for a legacy project or none.
    pub fn client(&self, id: &ProjectId) -> Option<&OrganizationId> {
        let staged = self.changes.projects.get(id).and_then(|p| p.client.as_ref());
        staged.or_else(|| self.base.project(id).and_then(|p| p.client.as_ref()))
    }
    pub fn is_governed(&self, id: &ProjectId) -> bool {
        self.client(id).is_some()
    }
    /// The actor's standing in the project: a member with a role, removed, or never added.
    pub fn membership(&self, project: &ProjectId, actor: &ActorId) -> Option<Membership> {
        let staged = self.changes.projects.get(project).and_then(|p| p.members.get(actor));
        staged.or_else(|| self.base.project(project).and_then(|p| p.members.get(actor))).copied()
    }
    pub fn member_role(&self, project: &ProjectId, actor: &ActorId) -> Option<Role> {
        match self.membership(project, actor) {
            Some(Membership::Member(role)) => Some(role),
            _ => None,
        }
    }
    /// The current members and their roles.
    pub fn members(&self, project: &ProjectId) -> Vec<(&ActorId, Role)> {
        let mut all: BTreeMap<&ActorId, Membership> = BTreeMap::new();
        for state in self.both(project) {
            all.extend(state.members.iter().map(|(a, m)| (a, *m)));
        }
        all.into_iter()
            .filter_map(|(a, m)| match m {
                Membership::Member(role) => Some((a, role)),
                Membership::Removed => None,
            })
            .collect()
    }
    /// The policy amendments, in log order.
    pub fn amendments(&self, project: &ProjectId) -> Vec<&(EventId, RuleSpec)> {
        let all: Vec<&(EventId, RuleSpec)> = self.both(project).flat_map(|p| p.amendments.iter()).collect();
        super::limits::tick(all.len());
        all
    }
    pub fn record(&self, project: &ProjectId, ns: Namespace, id: &Id) -> Option<Record> {
        let key = record_key(ns, id.as_str());
        // The staged state first: a brief revised in this request has its new formats there.
        let staged = self.changes.projects.get(project);
        staged.into_iter().chain(self.base.project(project)).find_map(|p| p.record_by_key(ns, &key))
    }
    /// Whether the record exists, without reading what it holds.
    pub fn has_record(&self, project: &ProjectId, ns: Namespace, id: &Id) -> bool {
        let key = record_key(ns, id.as_str());
        self.both(project).any(|p| p.has_record_by_key(ns, &key))
    }
    pub fn asset(&self, project: &ProjectId, id: &Id) -> Option<AssetRecord> {
        let key = record_key(Namespace::Asset, id.as_str());
        self.both(project).find_map(|p| p.assets.get(&key).copied())
    }
    /// The version of the rule sets a governed project is judged by (2 or 3; 0 for a legacy
    /// project or none).
    pub fn rule_set(&self, id: &ProjectId) -> u32 {
        let staged = self.changes.projects.get(id).map(|p| p.rule_set).filter(|v| *v != 0);
        staged.or_else(|| self.base.project(id).map(|p| p.rule_set)).unwrap_or(0)
    }
    /// Every asset recorded with these bytes, by the rules' key, in log order.
    pub fn assets_with_bytes(&self, project: &ProjectId, digest: &[u8; 32]) -> Vec<IdKey> {
        let key = bytes_key(digest);
        let mut out: Vec<IdKey> = self.both(project).filter_map(|p| p.bytes.get(&key).copied()).collect();
        for state in self.both(project) {
            out.extend(state.bytes_more.get(&key).into_iter().flatten().copied());
        }
        super::limits::tick(out.len());
        out
    }
    /// The reference recorded with these bytes, if one was, and whether it is for reference
    /// only.
    pub fn reference_bytes(&self, project: &ProjectId, digest: &[u8; 32]) -> Option<&(Id, bool)> {
        let key = bytes_key(digest);
        self.both(project).find_map(|p| p.reference_bytes.get(&key))
    }
    /// An asset by the rules' key.
    pub fn asset_at(&self, project: &ProjectId, key: &IdKey) -> Option<AssetRecord> {
        self.both(project).find_map(|p| p.assets.get(key).copied())
    }
    /// The assets an asset (by the rules' key) was made from.
    pub fn parents_at(&self, project: &ProjectId, key: &IdKey) -> Vec<&Id> {
        self.both(project).find_map(|p| p.parents.get(key)).map(|p| p.iter().collect()).unwrap_or_default()
    }
    /// The creative directors' decisions on an asset (by the rules' key) not retracted, oldest
    /// first.
    /// The latest creative director's decision on an asset (by the rules' key) not retracted that
    /// `counts`, without collecting the others: the newest first, staged ones before stored ones.
    pub fn latest_director_decision_at(
        &self,
        project: &ProjectId,
        key: &IdKey,
        counts: impl Fn(&DirectorDecision) -> bool,
    ) -> Option<&DirectorDecision> {
        let staged = self.changes.projects.get(project).and_then(|p| p.director_decisions.get(key));
        let stored = self.base.project(project).and_then(|p| p.director_decisions.get(key));
        staged
            .into_iter()
            .flat_map(|d| d.iter().rev())
            .chain(stored.into_iter().flat_map(|d| d.iter().rev()))
            .inspect(|_| super::limits::tick(1))
            .find(|d| counts(d) && !self.is_retracted(project, &d.event))
    }
    pub fn director_decisions_at(&self, project: &ProjectId, key: &IdKey) -> Vec<&DirectorDecision> {
        let all: Vec<&DirectorDecision> =
            self.both(project).flat_map(|p| p.director_decisions.get(key).into_iter().flatten()).collect();
        all.into_iter().filter(|d| !self.is_retracted(project, &d.event)).collect()
    }
    /// The assets an asset was made from (none for a generation's output without inputs).
    pub fn parents(&self, project: &ProjectId, asset: &Id) -> Vec<&Id> {
        let key = record_key(Namespace::Asset, asset.as_str());
        let parents: Vec<&Id> =
            self.both(project).find_map(|p| p.parents.get(&key)).map(|p| p.iter().collect()).unwrap_or_default();
        super::limits::tick(1 + parents.len());
        parents
    }
    /// Why an asset (or another record) may not go into a commercial delivery, if it may not.
    pub fn restriction(&self, project: &ProjectId, ns: Namespace, id: &Id) -> Option<&Restriction> {
        let key = record_key(ns, id.as_str());
        self.both(project).find_map(|p| p.restricted.get(&key))
    }
    /// The creative directors' selection decisions on an asset not retracted, oldest first.
    pub fn director_decisions(&self, project: &ProjectId, asset: &Id) -> Vec<&DirectorDecision> {
        let key = record_key(Namespace::Asset, asset.as_str());
        let all: Vec<&DirectorDecision> =
            self.both(project).flat_map(|p| p.director_decisions.get(&key).into_iter().flatten()).collect();
        super::limits::tick(all.len());
        all.into_iter().filter(|d| !self.is_retracted(project, &d.event)).collect()
    }
    /// The post edits made on top of an asset and not retracted, oldest first.
    pub fn superseded_by(&self, project: &ProjectId, asset: &Id) -> Vec<&Supersession> {
        let key = record_key(Namespace::Asset, asset.as_str());
        let all: Vec<&Supersession> =
            self.both(project).flat_map(|p| p.superseded_by.get(&key).into_iter().flatten()).collect();
        super::limits::tick(all.len());
        all.into_iter().filter(|s| !self.is_retracted(project, &s.event)).collect()
    }
    /// The retracted event that made an asset, if it was retracted.
    pub fn retracted_maker(&self, project: &ProjectId, asset: &AssetRecord) -> Option<&EventId> {
        self.both(project).find_map(|p| p.retracted_versions.get(&asset.made_at))
    }
    /// Who may retract an event, for the events whose retraction is limited.
    pub fn guard(&self, project: &ProjectId, event: &EventId) -> Option<&Guard> {
        self.both(project).find_map(|p| p.guarded.get(event))
    }
    /// The project version of an event of the project, staged or in the log.
    pub fn version_of_event(&self, project: &ProjectId, id: &EventId) -> Result<Option<u64>, LookupFailed> {
        if let Some((_, _, version)) = self.changes.events.iter().find(|(p, e, _)| p == project && e == id) {
            return Ok(Some(*version));
        }
        self.events.version_in_project(project, id)
    }
    pub fn has_event(&self, project: &ProjectId, id: &EventId) -> Result<bool, LookupFailed> {
        Ok(self.version_of_event(project, id)?.is_some())
    }
    pub fn is_retracted(&self, project: &ProjectId, id: &EventId) -> bool {
        self.changes.projects.get(project).is_some_and(|p| p.is_retracted(id))
            || self.base.project(project).is_some_and(|p| p.is_retracted(id))
    }
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
