//! The event catalogue: one typed body per kind, declared once in the `catalogue!` macro. The
//! payload that carries a body, and how it is read, are in [`super::payload`]. Bodies refuse
//! unknown fields at every level and hold only valid values.
//!
//! Kept whole (about 750 lines): the catalogue of every kind's body, from which `schema/` and the
//! docs' tables are generated; one file keeps the catalogue one list.

use super::ids::{ActorId, Digest, EventId, Id, KeyId, Label, OrganizationId, PublicKeyBytes, Text};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Free-form settings (generation parameters, tool settings). Kept as JSON.
pub type Parameters = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentType {
    Campaign,
    Social,
    Ecomm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Producer,
    CreativeDirector,
    AiArtist,
    PostArtist,
    QcReviewer,
    BrandCompliance,
    ClientApprover,
    Integration,
    Admin,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Producer,
        Role::CreativeDirector,
        Role::AiArtist,
        Role::PostArtist,
        Role::QcReviewer,
        Role::BrandCompliance,
        Role::ClientApprover,
        Role::Integration,
        Role::Admin,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Producer => "producer",
            Role::CreativeDirector => "creative_director",
            Role::AiArtist => "ai_artist",
            Role::PostArtist => "post_artist",
            Role::QcReviewer => "qc_reviewer",
            Role::BrandCompliance => "brand_compliance",
            Role::ClientApprover => "client_approver",
            Role::Integration => "integration",
            Role::Admin => "admin",
        }
    }
}

/// The six production stages; they overlap and teams move back and forth between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Ideation,
    Rnd,
    Exploration,
    Production,
    Refinement,
    Delivery,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectCreated {
    pub content_type: ContentType,
    pub title: Label,
    /// The client's name as the brief gives it (display only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<Label>,
    /// The client organisation the project is made for (schema_version 2; required in a new
    /// event). A project created without one, at schema_version 1, is a legacy project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_organization: Option<OrganizationId>,
}

/// Brings a legacy project (created at schema_version 1, without a client organisation) under
/// governance: from this event on it has members, project roles and the workflow policy of its
/// content type at the current rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectAdopted {
    pub client_organization: OrganizationId,
    pub reason: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    /// The agency running productions.
    Agency,
    /// A client brand; projects are made for clients.
    Client,
    /// A post house, CG studio or other supplier.
    Vendor,
}

impl OrganizationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrganizationKind::Agency => "agency",
            OrganizationKind::Client => "client",
            OrganizationKind::Vendor => "vendor",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationRegistered {
    pub organization_id: OrganizationId,
    pub display_name: Label,
    pub kind: OrganizationKind,
}

/// Adds an actor to a governed project with a project role, which decides the kinds it may
/// submit there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberAdded {
    pub actor_id: ActorId,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRemoved {
    pub actor_id: ActorId,
    pub reason: Text,
}

/// Makes a governed project's workflow policy stricter: adds rules, or raises what a rule of
/// it requires. A policy is never relaxed by an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyAmended {
    pub rules: Vec<RuleSpec>,
    pub reason: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BriefRecorded {
    pub brief_id: Id,
    pub title: Label,
    pub text: Text,
    /// Formats the deliverables may take (for e-comm, the only ones a delivery may use).
    #[serde(default)]
    pub deliverable_formats: Vec<Label>,
    #[serde(default)]
    pub channels: Vec<Label>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BriefRevised {
    pub brief_id: Id,
    pub text: Text,
    /// When present, replaces the brief's deliverable formats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliverable_formats: Option<Vec<Label>>,
    pub reason: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceCategory {
    Visual,
    Cultural,
    BrandGuideline,
    BrandCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RightsStatus {
    Owned,
    Licensed,
    PublicDomain,
    Restricted,
    Unknown,
}

/// Whether a reference may be reproduced, or only looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reproduction {
    Allowed,
    /// Reference only, no reproduction: nothing made from it may be delivered commercially.
    ReferenceOnly,
}

/// What a licence or a delivery allows: commercial use, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    Commercial,
    NonCommercial,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rights {
    /// Whether it may be reproduced (schema_version 2 of `reference_added`; required in a new
    /// event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduction: Option<Reproduction>,
    pub status: RightsStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<Label>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceAdded {
    pub reference_id: Id,
    pub category: ReferenceCategory,
    pub title: Label,
    /// Where it comes from: a URL, a book, a brand book section.
    pub source: Text,
    pub rights: Rights,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelVersionRegistered {
    pub model_version_id: Id,
    pub provider: Label,
    pub family: Label,
    pub version: Label,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_digest: Option<Digest>,
    pub license: Label,
    /// What the licence allows (schema_version 2; required in a new event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_use: Option<Usage>,
    pub training_data_statement: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineStep {
    pub name: Label,
    pub tool: Label,
    #[serde(default)]
    pub settings: Parameters,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineDefined {
    pub pipeline_id: Id,
    pub name: Label,
    pub steps: Vec<PipelineStep>,
    /// Model versions the pipeline runs; each must be registered in the project.
    #[serde(default)]
    pub model_versions: Vec<Id>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptAuthored {
    pub prompt_id: Id,
    pub text: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<Text>,
    #[serde(default)]
    pub parameters: Parameters,
    #[serde(default)]
    pub references: Vec<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_prompt: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brief_id: Option<Id>,
}

/// A file the ledger learns about: a stable id and the digest of its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetOutput {
    pub asset_id: Id,
    pub digest: Digest,
    pub media_type: Label,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerationRecorded {
    pub generation_id: Id,
    pub model_version: Id,
    pub prompt: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default)]
    pub parameters: Parameters,
    #[serde(default)]
    pub input_assets: Vec<Id>,
    pub outputs: Vec<AssetOutput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectionMade {
    pub selection_id: Id,
    pub round: u32,
    pub selected: Vec<Id>,
    #[serde(default)]
    pub rejected: Vec<Id>,
    pub rationale: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Technique {
    Retouch,
    Cg,
    Compositing,
    Upres,
    Colour,
    Cleanup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PerformedBy {
    Human,
    Ai,
    Hybrid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostEditApplied {
    pub edit_id: Id,
    pub technique: Technique,
    pub tool: Label,
    pub performed_by: PerformedBy,
    pub inputs: Vec<Id>,
    pub output: AssetOutput,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QcCheck {
    ColourAccuracy,
    Anatomy,
    Physics,
    Material,
    Geometry,
    LightShadow,
    Perspective,
    Texture,
    ProductAccuracy,
    Grain,
    Artifacts,
    Resolution,
    Edges,
    Hallucination,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    Pass,
    Fail,
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckOutcome {
    pub check: QcCheck,
    pub result: CheckResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProofMedium {
    Screen,
    Print,
    LargeFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QcReviewRecorded {
    pub review_id: Id,
    pub asset: Id,
    /// The exact bytes reviewed; must be the asset's digest.
    pub digest: Digest,
    pub checks: Vec<CheckOutcome>,
    pub proof_medium: ProofMedium,
    /// The proof size, e.g. "100%", "A2", "6x3 m".
    pub proof_size: Label,
    /// The proof's scale against the delivered size, in percent (schema_version 2; required in
    /// a governed project for print and large-format proofs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_scale_percent: Option<u16>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    ChangesRequested,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRecorded {
    pub approval_id: Id,
    pub asset: Id,
    pub digest: Digest,
    pub decision: Decision,
    #[serde(default)]
    pub conditions: Vec<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMedium {
    Digital,
    Print,
    LargeFormat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRecorded {
    pub delivery_id: Id,
    pub master_asset: Id,
    /// The delivered file, a new asset derived from the master.
    pub variant: AssetOutput,
    pub format: Label,
    pub channel: Label,
    pub medium: DeliveryMedium,
    pub dimensions: Dimensions,
    pub locale: Label,
    /// Commercial use or not (schema_version 2; required in a new event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageMark {
    Opened,
    Completed,
    Reopened,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageMarked {
    pub stage: Stage,
    pub mark: StageMark,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteAdded {
    pub text: Text,
    /// Assets the note is about; each must exist in the project.
    #[serde(default)]
    pub assets: Vec<Id>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRetracted {
    pub event_id: EventId,
    pub reason: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicKey {
    pub key_id: KeyId,
    pub public_key: PublicKeyBytes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActorRegistered {
    pub actor_id: ActorId,
    pub display_name: Label,
    pub role: Role,
    pub keys: Vec<PublicKey>,
    /// The organisation the actor belongs to (schema_version 2; required in a new event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyAdded {
    pub actor_id: ActorId,
    pub key: PublicKey,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRevoked {
    pub actor_id: ActorId,
    pub key_id: KeyId,
    pub reason: Text,
}

/// Declares every kind once: its wire name, its body type, whether it lives in the system stream.
macro_rules! catalogue {
    ($( $variant:ident($body:ty) = $name:literal, system: $system:literal; )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind { $($variant,)* }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$variant => $name,)* }
            }
            pub fn parse(s: &str) -> Option<Kind> {
                match s { $($name => Some(Kind::$variant),)* _ => None }
            }
            /// Organisation, actor and key events live in the system stream, everything else in a project.
            pub fn is_system(self) -> bool {
                match self { $(Kind::$variant => $system,)* }
            }
            /// Writes the JSON Schema of this kind's body.
            pub fn body_schema(self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                match self { $(Kind::$variant => generator.subschema_for::<$body>(),)* }
            }
        }

        #[derive(Debug, Clone, PartialEq)]
        pub enum Body { $($variant($body),)* }

        impl Body {
            pub fn kind(&self) -> Kind {
                match self { $(Body::$variant(_) => Kind::$variant,)* }
            }
            pub(super) fn parse(kind: Kind, raw: &RawValue) -> Result<Body, PayloadError> {
                // The fast path first; a refused body is parsed again to name the field at fault.
                let fast = match kind {
                    $(Kind::$variant => serde_json::from_str(raw.get()).map(Body::$variant),)*
                };
                if let Ok(body) = fast {
                    return Ok(body);
                }
                let mut de = serde_json::Deserializer::from_str(raw.get());
                match kind {
                    $(Kind::$variant => serde_path_to_error::deserialize(&mut de)
                        .map(Body::$variant)
                        .map_err(|e| PayloadError::field(format!("body.{}", e.path()), e.inner())),)*
                }
            }
            /// The content type a `project_created` sets.
            pub fn content_type(&self) -> Option<ContentType> {
                match self { Body::ProjectCreated(b) => Some(b.content_type), _ => None }
            }
            pub fn to_json(&self) -> serde_json::Value {
                match self { $(Body::$variant(b) => serde_json::to_value(b).expect("bodies serialize"),)* }
            }
        }
    };
}

catalogue! {
    ProjectCreated(ProjectCreated) = "project_created", system: false;
    BriefRecorded(BriefRecorded) = "brief_recorded", system: false;
    BriefRevised(BriefRevised) = "brief_revised", system: false;
    ReferenceAdded(ReferenceAdded) = "reference_added", system: false;
    ModelVersionRegistered(ModelVersionRegistered) = "model_version_registered", system: false;
    PipelineDefined(PipelineDefined) = "pipeline_defined", system: false;
    PromptAuthored(PromptAuthored) = "prompt_authored", system: false;
    GenerationRecorded(GenerationRecorded) = "generation_recorded", system: false;
    SelectionMade(SelectionMade) = "selection_made", system: false;
    PostEditApplied(PostEditApplied) = "post_edit_applied", system: false;
    QcReviewRecorded(QcReviewRecorded) = "qc_review_recorded", system: false;
    ApprovalRecorded(ApprovalRecorded) = "approval_recorded", system: false;
    DeliveryRecorded(DeliveryRecorded) = "delivery_recorded", system: false;
    StageMarked(StageMarked) = "stage_marked", system: false;
    NoteAdded(NoteAdded) = "note_added", system: false;
    EventRetracted(EventRetracted) = "event_retracted", system: false;
    ProjectAdopted(ProjectAdopted) = "project_adopted", system: false;
    MemberAdded(MemberAdded) = "member_added", system: false;
    MemberRemoved(MemberRemoved) = "member_removed", system: false;
    PolicyAmended(PolicyAmended) = "policy_amended", system: false;
    OrganizationRegistered(OrganizationRegistered) = "organization_registered", system: true;
    ActorRegistered(ActorRegistered) = "actor_registered", system: true;
    KeyAdded(KeyAdded) = "key_added", system: true;
    KeyRevoked(KeyRevoked) = "key_revoked", system: true;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("payload field `{field}`: {message}")]
    Field { field: String, message: String },
    #[error("unknown event kind `{0}`")]
    UnknownKind(String),
    #[error("kind `{kind}` is at schema_version {supported}, the payload says {got}")]
    SchemaVersion { kind: &'static str, got: u32, supported: u32 },
    #[error("kind `{kind}` belongs to the `system` stream, the payload names project `{project}`")]
    SystemKindOutsideSystem { kind: &'static str, project: String },
    #[error("kind `{kind}` belongs to a project stream; `system` holds only organisation, actor and key events")]
    ProjectKindInSystem { kind: &'static str },
}

impl PayloadError {
    pub(super) fn field(field: String, inner: &serde_json::Error) -> Self {
        // serde_json appends " at line L column C", which says nothing the field path doesn't.
        let mut message = inner.to_string();
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        let field = if field.ends_with('.') { field.trim_end_matches('.').to_owned() } else { field };
        PayloadError::Field { field, message }
    }

    /// The field the error is about, where there is one.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            PayloadError::Field { field, .. } => Some(field),
            PayloadError::UnknownKind(_) => Some("kind"),
            PayloadError::SchemaVersion { .. } => Some("schema_version"),
            _ => Some("project"),
        }
    }
}

/// One rule of a workflow policy, as a policy amendment names it (what each requires, and the
/// one evaluator, are in [`super::policy`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "rule", deny_unknown_fields)]
pub enum RuleSpec {
    /// No generation or post edit in the ancestry of the asset was retracted.
    #[serde(rename = "ancestry.not-retracted")]
    NotRetracted,
    /// No asset in the ancestry of the master was rejected by a creative director without a
    /// later selection of theirs reinstating it.
    #[serde(rename = "selection.not-rejected")]
    NotRejected,
    /// A commercial delivery has no non-commercial model version and no reference-only
    /// reference in its ancestry.
    #[serde(rename = "rights.commercial")]
    CommercialRights,
    /// The master's digest passed QC: reviewed, no check category whose latest result failed,
    /// and the listed checks' latest results passed.
    #[serde(rename = "qc.passed")]
    QcPassed {
        #[serde(default)]
        checks: Vec<QcCheck>,
    },
    /// An approval that approves needs the digest to have passed QC first.
    #[serde(rename = "qc.before-approval")]
    QcBeforeApproval,
    /// A print delivery needs the latest print or large-format proof at this scale or more to
    /// have passed.
    #[serde(rename = "proof.print")]
    PrintProof { min_scale_percent: u16 },
    /// A large-format delivery needs the latest large-format proof at this scale or more to
    /// have passed.
    #[serde(rename = "proof.large-format")]
    LargeFormatProof { min_scale_percent: u16 },
    #[serde(rename = "approval.creative-director")]
    CreativeDirectorApproval,
    /// Counted only from a member of the project's client organisation.
    #[serde(rename = "approval.client")]
    ClientApproval,
    #[serde(rename = "approval.brand-compliance")]
    BrandComplianceApproval,
    /// The delivery's format is one the project's briefs declare.
    #[serde(rename = "brief.formats")]
    BriefFormats,
    /// The master was not superseded by a later post edit made on it (approval drift).
    #[serde(rename = "master.current")]
    CurrentMaster,
}

/// The name a value of one of the catalogue's enums has on the wire (`large_format`,
/// `changes_requested`, ...): for messages and views that name it as a client writes it.
pub fn wire_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
