//! What the rules remember of one project, and how a staged request merges into it.

use super::*;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectState {
    pub content_type: Option<ContentType>,
    /// The client organisation of a governed project; `None` for a legacy one.
    pub(super) client: Option<OrganizationId>,
    /// Records that are neither assets nor briefs, by [`record_key`] (16 bytes each: a project
    /// of generations holds two records per event, and these sets are most of its memory).
    pub(super) records: KeySet,
    /// Assets, by [`record_key`], with their digest and the version of the event that made them.
    pub(super) assets: KeyMap<IdKey, AssetRecord>,
    /// Briefs (a few per project), by [`record_key`], with their deliverable formats as last
    /// revised.
    pub(super) briefs: hashbrown::HashMap<IdKey, Vec<Label>>,
    /// Each brief's recording and revisions that set its formats, in log order, with their
    /// events: a retracted one no longer counts (rule set version 3).
    pub(super) brief_history: hashbrown::HashMap<IdKey, Vec<(EventId, Vec<Label>)>>,
    pub(super) retracted: HashSet<EventId>,
    /// The project versions of retracted events, with their ids.
    pub(super) retracted_versions: HashMap<u32, EventId>,
    pub(super) reviews: HashMap<Digest, Vec<Review>>,
    pub(super) approvals: HashMap<Digest, Vec<Approval>>,
    /// Everyone ever added, with their role while a member (a removal is kept as such).
    pub(super) members: HashMap<ActorId, Membership>,
    /// The policy amendments, in log order.
    pub(super) amendments: Vec<(EventId, RuleSpec)>,
    /// The assets an asset was made from, for the assets made from others (by [`record_key`]).
    pub(super) parents: HashMap<IdKey, Vec<Id>>,
    /// Records whose use is restricted, and why: model versions with a non-commercial licence,
    /// references for reference only, and the prompts and assets made from them.
    pub(super) restricted: HashMap<IdKey, Restriction>,
    /// The creative directors' selection decisions on an asset, in log order.
    pub(super) director_decisions: HashMap<IdKey, Vec<DirectorDecision>>,
    /// The post edits whose base (first input) an asset is, in log order.
    pub(super) superseded_by: HashMap<IdKey, Vec<Supersession>>,
    /// Events a retraction may not take back, or only their author may.
    pub(super) guarded: HashMap<EventId, Guard>,
    /// The version of the rule sets the project is judged by: 3 for a project created (or
    /// adopted) by an event that names its ledger, 2 for one created before (see
    /// [`crate::domain::policy::RULE_SET_VERSION`]); 0 for none or a legacy project.
    pub(super) rule_set: u32,
    /// The first asset recorded with each bytes, by [`bytes_key`] of its digest.
    pub(super) bytes: KeyMap<IdKey, IdKey>,
    /// The other assets recorded with the same bytes, in log order (by [`bytes_key`]).
    pub(super) bytes_more: HashMap<IdKey, Vec<IdKey>>,
    /// References recorded with the digest of their bytes (by [`bytes_key`]), and whether each
    /// is for reference only.
    pub(super) reference_bytes: HashMap<IdKey, (Id, bool)>,
    /// Assets imported (`asset_imported`), by [`bytes_key`] of their bytes: what a camera, a
    /// scanner or a person made, which no generation or edit makes again.
    pub(super) imported_bytes: HashMap<IdKey, Id>,
}

/// What the rules keep of an asset (40 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetRecord {
    pub digest: [u8; 32],
    /// The project version of the event that made it (a project holds fewer than 2³² events).
    pub made_at: u32,
    /// The digital source type its making derives ([`crate::domain::source_type::made_by`]).
    pub term: crate::domain::source_type::SourceType,
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

/// A project version as kept with each asset (saturating: a project holds fewer than 2³²
/// events).
pub(super) fn short_version(version: u64) -> u32 {
    u32::try_from(version).unwrap_or(u32::MAX)
}

impl ProjectState {
    pub fn record(&self, ns: Namespace, id: &Id) -> Option<Record> {
        self.record_by_key(ns, &record_key(ns, id.as_str()))
    }

    /// A record by its [`record_key`]. Assets and briefs are the only namespaces whose records
    /// carry something (see [`created_records`]), so one table is asked, not three.
    pub(super) fn record_by_key(&self, ns: Namespace, key: &IdKey) -> Option<Record> {
        match ns {
            Namespace::Asset => {
                self.assets.get(key).map(|asset| Record::Asset { digest: Digest::from_bytes(&asset.digest) })
            }
            Namespace::Brief => self.briefs.get(key).map(|formats| Record::Brief { formats: formats.clone() }),
            _ => self.records.contains_key(key).then_some(Record::Plain),
        }
    }

    pub(super) fn has_record_by_key(&self, ns: Namespace, key: &IdKey) -> bool {
        match ns {
            Namespace::Asset => self.assets.get(key).is_some(),
            Namespace::Brief => self.briefs.contains_key(key),
            _ => self.records.contains_key(key),
        }
    }

    pub(super) fn insert(&mut self, ns: Namespace, id: &Id, record: &Record, made_at: u32, term: SourceType) {
        let key = record_key(ns, id.as_str());
        match record {
            Record::Plain => {
                self.records.insert(key, ());
            }
            Record::Brief { formats } => {
                self.briefs.insert(key, formats.clone());
            }
            Record::Asset { digest } => {
                self.assets.insert(key, AssetRecord { digest: digest.bytes(), made_at, term });
            }
        }
    }
    pub fn is_retracted(&self, id: &EventId) -> bool {
        self.retracted.contains(id)
    }

    /// Moves everything a staged request added into this state.
    pub(super) fn merge(&mut self, staged: ProjectState) {
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
        self.imported_bytes.extend(staged.imported_bytes);
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
            + self.imported_bytes.len() * 64
            + self.bytes_more.values().map(|m| 48 + m.len() * 16).sum::<usize>()
    }
}
