//! Finishing and delivery: post edits, QC reviews, approvals, deliveries, stage marks and notes.

use super::*;

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
    /// Whether a generative model made pixels of the output (generative fill, outpainting, an
    /// upscaler that invents detail): the signer's claim, recorded as such. Required in a new
    /// event (schema_version 2); an entry written before reads as generative when it names a
    /// model version ([`PostEditApplied::is_generative`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generative: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Text>,
}

impl PostEditApplied {
    /// Whether the edit was generative: as claimed, or (for an entry written before the claim
    /// existed) whether it names a model version.
    pub fn is_generative(&self) -> bool {
        self.generative.unwrap_or(self.model_version.is_some())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
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
