//! Who works and how: organisations, actors and their keys, projects, their members and
//! policy, and retractions.

use super::*;

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRetracted {
    pub event_id: EventId,
    pub reason: Text,
}

/// Erases for good the clear text of a confidential field an event of the project committed
/// to: the ledger destroys it where it keeps it apart from the log; the event and its
/// commitment stay, and verify as before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfidentialErased {
    /// The event whose payload holds the commitment.
    pub event_id: EventId,
    pub commitment: Digest,
    pub reason: Text,
}
