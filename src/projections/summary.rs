//! The answer a brand compliance team asks of a delivered asset: which brief, references,
//! prompts and pinned model versions it comes from, who and what touched it, and which QC
//! reviews and approvals hold for its exact digest.

use super::graph::{NodeKind, Subgraph};
use crate::domain::event::{Body, CheckResult};
use crate::domain::Payload;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelInfo {
    pub model_version_id: String,
    pub provider: String,
    pub family: String,
    pub version: String,
    pub weights_digest: Option<String>,
    pub license: String,
    pub training_data_statement: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReferenceInfo {
    pub reference_id: String,
    pub title: String,
    pub category: String,
    pub source: String,
    pub rights: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewInfo {
    pub review_id: String,
    pub asset: String,
    pub digest: String,
    pub verdict: String,
    pub proof_medium: String,
    pub proof_size: String,
    pub failed_checks: Vec<String>,
    pub retracted: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApprovalInfo {
    pub approval_id: String,
    pub asset: String,
    pub digest: String,
    pub decision: String,
    pub approver: String,
    pub retracted: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub asset: String,
    pub digest: Option<String>,
    pub briefs: Vec<String>,
    pub references: Vec<ReferenceInfo>,
    pub prompts: Vec<String>,
    pub model_versions: Vec<ModelInfo>,
    /// Actors who signed any event of the lineage.
    pub people: Vec<String>,
    /// Tools of post edits and pipeline steps in the lineage.
    pub tools: Vec<String>,
    /// The QC reviews the workflow policy weighs for this asset: its own, of its exact digest,
    /// and those that failed its bytes recorded as another asset (`asset` says which).
    pub reviews: Vec<ReviewInfo>,
    /// The approvals the policy weighs: the asset's own, of its exact digest, and those that
    /// refused its bytes recorded as another asset.
    pub approvals: Vec<ApprovalInfo>,
    /// QC reviews and approvals of the assets it derives from (other digests).
    pub upstream_reviews: Vec<ReviewInfo>,
    pub upstream_approvals: Vec<ApprovalInfo>,
    /// The ids of the summary's briefs, references, prompts, model versions, pipelines and
    /// assets whose recording was retracted: listed, counting for nothing.
    pub retracted: Vec<String>,
}

/// What a summary reads of a node besides its payload.
struct Node {
    kind: NodeKind,
    retracted: bool,
}

use crate::domain::event::wire_name as text;

/// Builds the summary from an ancestors walk; `load` reads the payload of an entry; `against` are
/// the payloads of the evidence against the asset's bytes recorded as other assets
/// ([`crate::domain::policy::against_bytes`]).
pub fn summarize(ancestors: &Subgraph, load: impl Fn(u64) -> Option<Payload>, against: &[Payload]) -> Summary {
    let root = ancestors.nodes.first().map(|n| n.id.clone()).unwrap_or_default();
    let digest = ancestors.nodes.first().and_then(|n| n.sequence).and_then(&load).and_then(|p| match p.body {
        Body::GenerationRecorded(b) => b.outputs.into_iter().find(|o| o.asset_id.as_str() == root).map(|o| o.digest),
        Body::PostEditApplied(b) => Some(b.output.digest),
        Body::DeliveryRecorded(b) => Some(b.variant.digest),
        Body::AssetImported(b) => Some(b.asset.digest),
        _ => None,
    });
    let mut s = Summary {
        asset: root,
        digest: digest.map(|d| d.to_string()),
        briefs: vec![],
        references: vec![],
        prompts: vec![],
        model_versions: vec![],
        people: vec![],
        tools: vec![],
        reviews: vec![],
        approvals: vec![],
        upstream_reviews: vec![],
        upstream_approvals: vec![],
        retracted: vec![],
    };
    let mut tools = BTreeSet::new();
    let mut people = BTreeSet::new();
    let nodes = ancestors.nodes.iter().filter_map(|node| {
        if node.kind == NodeKind::Actor {
            people.insert(node.id.clone());
            return None;
        }
        Some((node.sequence.and_then(&load)?, node.kind, node.retracted, false))
    });
    let nodes: Vec<_> = nodes.chain(against.iter().map(|p| (p.clone(), NodeKind::Asset, false, true))).collect();
    let mut retracted_records = BTreeSet::new();
    for (payload, kind, retracted, is_against) in nodes {
        let node = Node { kind, retracted };
        // What a retracted event made, and (against the asset's bytes) what a retracted maker of
        // the same bytes made.
        let retracted_maker = is_against
            && matches!(
                payload.body,
                Body::GenerationRecorded(_) | Body::PostEditApplied(_) | Body::DeliveryRecorded(_)
            );
        if (retracted || retracted_maker)
            && !matches!(payload.body, Body::QcReviewRecorded(_) | Body::ApprovalRecorded(_))
        {
            retracted_records.extend(
                crate::domain::state::created_records(&payload.body).into_iter().map(|(_, id, _)| id.to_string()),
            );
        }
        add(&mut s, &mut tools, &payload, &node, is_against);
    }
    s.retracted = retracted_records.into_iter().collect();
    s.people = people.into_iter().collect();
    s.tools = tools.into_iter().collect();
    s
}

/// Adds what one payload of the ancestry (or of the evidence against the asset's bytes, when
/// `is_against`) tells of the asset's making to the summary.
fn add(s: &mut Summary, tools: &mut BTreeSet<String>, payload: &Payload, node: &Node, is_against: bool) {
    match &payload.body {
        Body::BriefRecorded(b) if node.kind == NodeKind::Brief => s.briefs.push(b.brief_id.to_string()),
        Body::ReferenceAdded(b) => s.references.push(ReferenceInfo {
            reference_id: b.reference_id.to_string(),
            title: b.title.to_string(),
            category: text(&b.category),
            source: b.source.to_string(),
            rights: text(&b.rights.status),
        }),
        Body::PromptAuthored(b) => s.prompts.push(b.prompt_id.to_string()),
        Body::ModelVersionRegistered(b) => s.model_versions.push(ModelInfo {
            model_version_id: b.model_version_id.to_string(),
            provider: b.provider.to_string(),
            family: b.family.to_string(),
            version: b.version.to_string(),
            weights_digest: b.weights_digest.as_ref().map(|d| d.to_string()),
            license: b.license.to_string(),
            training_data_statement: b.training_data_statement.to_string(),
        }),
        Body::PipelineDefined(b) => tools.extend(b.steps.iter().map(|st| st.tool.to_string())),
        Body::PostEditApplied(b) if node.kind == NodeKind::PostEdit => {
            tools.insert(b.tool.to_string());
        }
        Body::QcReviewRecorded(b) => {
            let info = ReviewInfo {
                review_id: b.review_id.to_string(),
                asset: b.asset.to_string(),
                digest: b.digest.to_string(),
                verdict: text(&b.verdict),
                proof_medium: text(&b.proof_medium),
                proof_size: b.proof_size.to_string(),
                failed_checks: b
                    .checks
                    .iter()
                    .filter(|c| c.result == CheckResult::Fail)
                    .map(|c| text(&c.check))
                    .collect(),
                retracted: node.retracted,
            };
            // What the policy weighs: the asset's own at its digest, and what failed its bytes.
            if is_against || (info.asset == s.asset && Some(&info.digest) == s.digest.as_ref()) {
                s.reviews.push(info)
            } else {
                s.upstream_reviews.push(info)
            }
        }
        Body::ApprovalRecorded(b) => {
            let info = ApprovalInfo {
                approval_id: b.approval_id.to_string(),
                asset: b.asset.to_string(),
                digest: b.digest.to_string(),
                decision: text(&b.decision),
                approver: payload.actor.to_string(),
                retracted: node.retracted,
            };
            if is_against || (info.asset == s.asset && Some(&info.digest) == s.digest.as_ref()) {
                s.approvals.push(info)
            } else {
                s.upstream_approvals.push(info)
            }
        }
        _ => {}
    }
}
