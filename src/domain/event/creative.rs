//! The creative work: briefs, references, model versions, pipelines, prompts, generations and
//! selections.

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BriefRecorded {
    pub brief_id: Id,
    pub title: Label,
    pub text: Confidential,
    /// The people the brief casts (models, voices), each by name: confidential.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub talent: Vec<Confidential>,
    /// Formats the deliverables may take (for e-comm, the only ones a delivery may use).
    #[serde(default)]
    pub deliverable_formats: Vec<Label>,
    #[serde(default)]
    pub channels: Vec<Label>,
    /// What the client allows of the project's content for AI training and data mining; the
    /// Content Credentials of every asset made under the brief carry it
    /// (`cawg.training-mining`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_and_mining: Option<TrainingAndMining>,
}

/// A rights holder's choices on AI training and data mining, as the Creator Assertions Working
/// Group's training-and-mining assertion names them. An absent use says nothing of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingAndMining {
    /// Training a generative model on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_generative_training: Option<Permission>,
    /// Training any AI model on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_training: Option<Permission>,
    /// Using it as an input to a model's inference (a prompt image, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_inference: Option<Permission>,
    /// Mining it as data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_mining: Option<Permission>,
}

/// Whether a use is allowed, not allowed, or allowed under conditions agreed elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Allowed,
    Constrained,
    NotAllowed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BriefRevised {
    pub brief_id: Id,
    pub text: Confidential,
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
    pub text: Confidential,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<Confidential>,
    #[serde(default)]
    pub parameters: Parameters,
    #[serde(default)]
    pub references: Vec<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_prompt: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brief_id: Option<Id>,
}

/// Where an asset that was not generated comes from: what its pixels were made by. The
/// disclosure of every asset made from it starts here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetOrigin {
    /// Taken with a camera: a photograph of a scene or a person.
    Photograph,
    /// A product photographed: a packshot.
    Packshot,
    /// A stock photograph, licensed from a library.
    StockPhotograph,
    /// Rendered from a 3D scene built by people (CG).
    CgRender,
    /// Drawn or painted by a person with software.
    Illustration,
    /// A scan of a print.
    ScanOfPrint,
    /// A scan of a negative film.
    ScanOfNegative,
    /// A scan of a slide (positive film).
    ScanOfSlide,
    /// A capture of a screen.
    ScreenCapture,
}

/// An asset that was not generated enters the project: a photograph, a packshot, a stock image,
/// a CG render, a scan. It can then be an input to generations and post edits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetImported {
    pub asset: AssetOutput,
    pub origin: AssetOrigin,
    /// Where it comes from: the photographer, the studio, the library and its item number.
    pub source: Label,
    /// Its rights; `reproduction` is required.
    pub rights: Rights,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Text>,
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
    /// What the signer says made its pixels, as the full URI of an IPTC digital source type
    /// (what a tool writes into the file's metadata): refused when the ledger's derivation from
    /// its ancestry says otherwise (`docs/compliance.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digital_source_type: Option<crate::domain::source_type::DeclaredSourceType>,
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
