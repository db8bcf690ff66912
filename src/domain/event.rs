//! The event catalogue: one typed body per kind, and the payload that carries it.
//!
//! A payload is the JSON document a client signs. It is parsed once, here, into types that cannot
//! hold invalid values; unknown fields are refused at every level.

use super::ids::{ActorId, Digest, EventId, Id, KeyId, Label, ProjectId, PublicKeyBytes, Text};
use chrono::{DateTime, Utc};
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<Label>,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rights {
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
            /// Actor and key events live in the system stream, everything else in a project.
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
            fn parse(kind: Kind, raw: &RawValue) -> Result<Body, PayloadError> {
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
    ActorRegistered(ActorRegistered) = "actor_registered", system: true;
    KeyAdded(KeyAdded) = "key_added", system: true;
    KeyRevoked(KeyRevoked) = "key_revoked", system: true;
}

/// A step that reads a stored body of one kind written at `from` as the body of version
/// `from + 1`: how entries written before a kind changed stay readable.
pub struct Upcaster {
    pub kind: Kind,
    pub from: u32,
    pub upcast: fn(&mut serde_json::Map<String, serde_json::Value>),
}

/// Every change of a kind's body since version 1, oldest first. A kind's current version is 1
/// plus the number of its upcasters.
pub const UPCASTERS: &[Upcaster] = &[];

impl Kind {
    /// The schema version a new payload of this kind must name.
    pub fn current_version(self) -> u32 {
        current_version(self, UPCASTERS)
    }
}

fn current_version(kind: Kind, upcasters: &[Upcaster]) -> u32 {
    1 + upcasters.iter().filter(|u| u.kind == kind).count() as u32
}

/// Which schema versions a reading accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accept {
    /// A submission: only the kind's current version.
    Current,
    /// A stored entry: any version ever written, upcast to the current one.
    Written,
}

/// The signed document: who did what, when, in which stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    pub event_id: EventId,
    pub project: ProjectId,
    pub actor: ActorId,
    pub occurred_at: DateTime<Utc>,
    pub expected_version: Option<u64>,
    pub body: Body,
}

/// The header of a payload as it arrives, before its body is read according to its kind.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Header<B> {
    pub event_id: EventId,
    pub project: ProjectId,
    pub kind: String,
    pub schema_version: u32,
    pub actor: ActorId,
    /// RFC 3339 time at which the work happened, as the client saw it.
    pub occurred_at: DateTime<Utc>,
    /// The project's version the client expects before this event (0 for a new project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
    pub body: B,
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
    #[error("kind `{kind}` belongs to a project stream; `system` holds only actor and key events")]
    ProjectKindInSystem { kind: &'static str },
}

impl PayloadError {
    fn field(field: String, inner: &serde_json::Error) -> Self {
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

impl Payload {
    /// Reads the exact bytes a client signed, for a new submission: the kind's current schema
    /// version only.
    pub fn parse(bytes: &[u8]) -> Result<Payload, PayloadError> {
        Self::decode(bytes, Accept::Current, UPCASTERS)
    }

    /// Reads a stored payload, written at any schema version its kind ever had: older bodies are
    /// upcast to the current version. Replay, idempotency and every fold read this way.
    pub fn read(bytes: &[u8]) -> Result<Payload, PayloadError> {
        Self::decode(bytes, Accept::Written, UPCASTERS)
    }

    fn decode(bytes: &[u8], accept: Accept, upcasters: &[Upcaster]) -> Result<Payload, PayloadError> {
        let header: Header<Box<RawValue>> = match serde_json::from_slice(bytes) {
            Ok(header) => header,
            Err(_) => {
                // Parsed again, slower, to name the field at fault.
                let mut de = serde_json::Deserializer::from_slice(bytes);
                let header = serde_path_to_error::deserialize(&mut de)
                    .map_err(|e| PayloadError::field(e.path().to_string(), e.inner()))?;
                de.end().map_err(|e| PayloadError::field(String::new(), &e))?;
                header
            }
        };
        let kind = Kind::parse(&header.kind).ok_or_else(|| PayloadError::UnknownKind(header.kind.clone()))?;
        let current = current_version(kind, upcasters);
        let readable = match accept {
            Accept::Current => header.schema_version == current,
            Accept::Written => (1..=current).contains(&header.schema_version),
        };
        if !readable {
            return Err(PayloadError::SchemaVersion {
                kind: kind.as_str(),
                got: header.schema_version,
                supported: current,
            });
        }
        match (kind.is_system(), header.project.is_system()) {
            (true, false) => {
                return Err(PayloadError::SystemKindOutsideSystem {
                    kind: kind.as_str(),
                    project: header.project.to_string(),
                })
            }
            (false, true) => return Err(PayloadError::ProjectKindInSystem { kind: kind.as_str() }),
            _ => {}
        }
        let body = if header.schema_version == current {
            Body::parse(kind, &header.body)?
        } else {
            let upcast = upcast(kind, header.schema_version, &header.body, upcasters)?;
            Body::parse(kind, &upcast)?
        };
        Ok(Payload {
            event_id: header.event_id,
            project: header.project,
            actor: header.actor,
            occurred_at: header.occurred_at,
            expected_version: header.expected_version,
            body,
        })
    }

    pub fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// The canonical JSON of this payload (what `lineage sign` and the demo sign).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(Header {
            event_id: self.event_id.clone(),
            project: self.project.clone(),
            kind: self.kind().as_str().to_owned(),
            schema_version: self.kind().current_version(),
            actor: self.actor.clone(),
            occurred_at: self.occurred_at,
            expected_version: self.expected_version,
            body: self.body.to_json(),
        })
        .expect("payloads serialize")
    }
}

/// A stored body of version `from`, brought to the kind's current version by its upcasters.
fn upcast(kind: Kind, from: u32, body: &RawValue, upcasters: &[Upcaster]) -> Result<Box<RawValue>, PayloadError> {
    let mut value: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(body.get()).map_err(|e| PayloadError::field("body".into(), &e))?;
    for step in upcasters.iter().filter(|u| u.kind == kind && u.from >= from) {
        (step.upcast)(&mut value);
    }
    let text = serde_json::to_string(&value).expect("JSON maps serialize");
    Ok(RawValue::from_string(text).expect("serialized JSON is JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `note_added` as if its v1 body had called the text `note`, renamed in v2, and v2's `assets`
    /// had been added in v3 (absent before, empty).
    fn history() -> Vec<Upcaster> {
        vec![
            Upcaster {
                kind: Kind::NoteAdded,
                from: 1,
                upcast: |body| {
                    if let Some(note) = body.remove("note") {
                        body.insert("text".into(), note);
                    }
                },
            },
            Upcaster {
                kind: Kind::NoteAdded,
                from: 2,
                upcast: |body| {
                    body.entry("assets").or_insert_with(|| serde_json::json!([]));
                },
            },
        ]
    }

    fn note(version: u32, body: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"event_id": "e1", "project": "p", "kind": "note_added",
            "schema_version": version, "actor": "a", "occurred_at": "2026-01-01T00:00:00Z", "body": body}))
        .unwrap()
    }

    #[test]
    fn a_stored_older_version_is_read_upcast_and_a_submission_must_be_current() {
        let upcasters = history();
        let current = note(3, serde_json::json!({"text": "hello", "assets": ["a"]}));
        // (case, payload, what is accepted, the text and asset count read, or the version refused)
        type Case = (&'static str, Vec<u8>, Accept, Result<(&'static str, usize), u32>);
        let cases: Vec<Case> = vec![
            ("v1 stored", note(1, serde_json::json!({"note": "hello"})), Accept::Written, Ok(("hello", 0))),
            ("v2 stored", note(2, serde_json::json!({"text": "hello"})), Accept::Written, Ok(("hello", 0))),
            ("v3 stored", current.clone(), Accept::Written, Ok(("hello", 1))),
            ("v3 submitted", current, Accept::Current, Ok(("hello", 1))),
            ("v1 submitted", note(1, serde_json::json!({"note": "hello"})), Accept::Current, Err(1)),
            ("v2 submitted", note(2, serde_json::json!({"text": "hello"})), Accept::Current, Err(2)),
            ("v4 stored", note(4, serde_json::json!({"text": "hello"})), Accept::Written, Err(4)),
            ("v0 stored", note(0, serde_json::json!({"text": "hello"})), Accept::Written, Err(0)),
        ];
        for (case, bytes, accept, expected) in cases {
            let got = Payload::decode(&bytes, accept, &upcasters);
            match (got, expected) {
                (Ok(p), Ok((text, assets))) => {
                    let Body::NoteAdded(b) = p.body else { panic!("{case}: {:?}", p.body) };
                    assert_eq!((b.text.as_str(), b.assets.len()), (text, assets), "{case}");
                }
                (Err(PayloadError::SchemaVersion { got, supported, .. }), Err(version)) => {
                    assert_eq!((got, supported), (version, 3), "{case}")
                }
                (got, expected) => panic!("{case}: {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn every_kind_is_at_version_one_and_reads_the_same_either_way() {
        for kind in Kind::ALL {
            assert_eq!(kind.current_version(), 1, "{}", kind.as_str());
        }
        let bytes = note(1, serde_json::json!({"text": "t"}));
        assert_eq!(Payload::parse(&bytes).unwrap(), Payload::read(&bytes).unwrap());
    }
}
