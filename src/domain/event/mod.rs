//! The event catalogue: one typed body per kind, declared once in the `catalogue!` macro. The
//! payload that carries a body, and how it is read, are in [`super::payload`]. Bodies refuse
//! unknown fields at every level and hold only valid values.
//!
//! The bodies live by family (`governance`, `creative`, `finishing`); the list of every kind, from
//! which `schema/` and the docs' tables are generated, is the one `catalogue!` below.

use super::confidential::Confidential;
use super::ids::{ActorId, Digest, EventId, Id, KeyId, Label, OrganizationId, PublicKeyBytes, Text};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

mod creative;
mod finishing;
mod governance;

pub use creative::*;
pub use finishing::*;
pub use governance::*;

/// Free-form settings (generation parameters, tool settings). Kept as JSON.
pub type Parameters = serde_json::Map<String, serde_json::Value>;

/// Declares every kind once: its wire name, its body type, whether it lives in the system stream.
macro_rules! catalogue {
    ($( $variant:ident($body:ty) = $name:literal, system: $system:literal; )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind { $($variant,)* }

        impl Body {
    /// The committed confidential fields of an event (`crate::domain::confidential`): each
    /// field's JSON Pointer in the payload (`/body/text`, `/body/talent/0`) and its commitment.
    /// Only these take a clear text: an object of the same shape elsewhere (in free-form
    /// parameters, say) is not a confidential field.
    pub fn committed(&self) -> Vec<(String, Digest)> {
        let mut fields: Vec<(String, &Confidential)> = Vec::new();
        match self {
            Body::PromptAuthored(b) => {
                fields.push(("/body/text".into(), &b.text));
                fields.extend(b.negative_prompt.iter().map(|n| ("/body/negative_prompt".into(), n)));
            }
            Body::BriefRecorded(b) => {
                fields.push(("/body/text".into(), &b.text));
                fields.extend(b.talent.iter().enumerate().map(|(i, t)| (format!("/body/talent/{i}"), t)));
            }
            Body::BriefRevised(b) => fields.push(("/body/text".into(), &b.text)),
            _ => {}
        }
        fields
            .into_iter()
            .filter_map(|(field, value)| match value {
                Confidential::Committed(c) => Some((field, c.commitment.clone())),
                Confidential::Clear(_) => None,
            })
            .collect()
    }
}

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
    AssetImported(AssetImported) = "asset_imported", system: false;
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
    ConfidentialErased(ConfidentialErased) = "confidential_erased", system: false;
    ProjectAdopted(ProjectAdopted) = "project_adopted", system: false;
    MemberAdded(MemberAdded) = "member_added", system: false;
    MemberRemoved(MemberRemoved) = "member_removed", system: false;
    PolicyAmended(PolicyAmended) = "policy_amended", system: false;
    OrganizationRegistered(OrganizationRegistered) = "organization_registered", system: true;
    ActorRegistered(ActorRegistered) = "actor_registered", system: true;
    KeyAdded(KeyAdded) = "key_added", system: true;
    KeyRevoked(KeyRevoked) = "key_revoked", system: true;
}

impl Kind {
    /// The kinds that say who works on a project (its client and its members): what readers'
    /// scopes follow.
    pub fn is_membership(self) -> bool {
        matches!(self, Kind::ProjectCreated | Kind::ProjectAdopted | Kind::MemberAdded | Kind::MemberRemoved)
    }

    /// Membership, and the amendments of the policy a project is judged by: what an evidence
    /// bundle carries so that every signer's role and every rule are known.
    pub fn is_governance(self) -> bool {
        self.is_membership() || self == Kind::PolicyAmended
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("{}", if field.is_empty() { format!("the payload: {message}") } else { format!("payload field `{field}`: {message}") })]
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
        let mut field = if field.ends_with('.') { field.trim_end_matches('.').to_owned() } else { field };
        // A missing field is reported at its parent's path: the path names the field itself.
        if let Some(name) = message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
            field = if field.is_empty() { name.to_owned() } else { format!("{field}.{name}") };
            message = "is missing".to_owned();
        }
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

/// The name a value of one of the catalogue's enums has on the wire (`large_format`,
/// `changes_requested`, ...): for messages and views that name it as a client writes it.
pub fn wire_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
