//! What an entry of an asset's audit trail says about the asset, in words a reader checks
//! against the entry itself: the verdict of a review, the decision of an approval, whether a
//! selection kept or rejected it, which event made it or took it as an input.

use crate::domain::event::{wire_name as name, Body};
use crate::domain::{Id, Payload};

/// What an event recorded for other assets says against bytes (`digest`) that `asset` shares:
/// the asset it made with those bytes, or the review, approval or selection of it.
pub fn what_it_says_of_bytes(payload: &Payload, digest: &crate::domain::Digest) -> String {
    let made = match &payload.body {
        Body::GenerationRecorded(b) => b
            .outputs
            .iter()
            .find(|o| &o.digest == digest)
            .map(|o| format!("made asset `{}` in generation `{}`", o.asset_id, b.generation_id)),
        Body::PostEditApplied(b) if &b.output.digest == digest => {
            Some(format!("made asset `{}` in post edit `{}`", b.output.asset_id, b.edit_id))
        }
        Body::AssetImported(b) if &b.asset.digest == digest => {
            Some(format!("imported asset `{}` ({}, from {})", b.asset.asset_id, name(&b.origin), b.source))
        }
        Body::DeliveryRecorded(b) if &b.variant.digest == digest => Some(format!(
            "made asset `{}`, delivered in `{}` from `{}`",
            b.variant.asset_id, b.delivery_id, b.master_asset
        )),
        _ => None,
    };
    let said = made.unwrap_or_else(|| match &payload.body {
        Body::QcReviewRecorded(b) => format!("{}, of asset `{}`", what_it_says(payload, &b.asset), b.asset),
        Body::ApprovalRecorded(b) => format!("{}, of asset `{}`", what_it_says(payload, &b.asset), b.asset),
        Body::SelectionMade(b) => {
            format!("selection `{}`: rejected an asset recorded with these bytes", b.selection_id)
        }
        other => format!("a `{}` event", other.kind().as_str()),
    });
    format!("against the same bytes, recorded as another asset: {said}")
}

/// What the event says about `asset`.
pub fn what_it_says(payload: &Payload, asset: &Id) -> String {
    match &payload.body {
        Body::QcReviewRecorded(b) => {
            let failed: Vec<String> =
                b.checks.iter().filter(|c| name(&c.result) == "fail").map(|c| name(&c.check)).collect();
            let scale = b.proof_scale_percent.map(|s| format!(" at {s}%")).unwrap_or_default();
            let why = if failed.is_empty() { String::new() } else { format!(" ({} failed)", failed.join(", ")) };
            format!(
                "QC review `{}`: {}{why}, {} proof{scale}, of {}",
                b.review_id,
                name(&b.verdict),
                name(&b.proof_medium),
                b.digest
            )
        }
        Body::ApprovalRecorded(b) => format!("approval `{}`: {}, of {}", b.approval_id, name(&b.decision), b.digest),
        Body::SelectionMade(b) if b.rejected.contains(asset) => format!("selection `{}`: rejected", b.selection_id),
        Body::SelectionMade(b) => format!("selection `{}`: selected", b.selection_id),
        Body::GenerationRecorded(b) if b.outputs.iter().any(|o| &o.asset_id == asset) => {
            format!("made by generation `{}` with model version `{}`", b.generation_id, b.model_version)
        }
        Body::GenerationRecorded(b) => format!("an input of generation `{}`", b.generation_id),
        Body::PostEditApplied(b) if &b.output.asset_id == asset => {
            format!("made by post edit `{}` ({}, {})", b.edit_id, name(&b.technique), name(&b.performed_by))
        }
        Body::PostEditApplied(b) => format!("an input of post edit `{}`", b.edit_id),
        Body::DeliveryRecorded(b) if &b.variant.asset_id == asset => {
            format!(
                "delivered in `{}` ({}, {}) from master `{}`",
                b.delivery_id,
                name(&b.medium),
                b.format,
                b.master_asset
            )
        }
        Body::DeliveryRecorded(b) => {
            format!("master of delivery `{}` ({}, {})", b.delivery_id, name(&b.medium), b.format)
        }
        Body::AssetImported(b) => format!("imported: {}, from {}", name(&b.origin), b.source),
        Body::NoteAdded(_) => "a note".into(),
        Body::EventRetracted(b) => format!("retracts `{}`: {}", b.event_id, b.reason),
        Body::ConfidentialErased(b) => {
            format!("erases the clear text of {} in `{}`: {}", b.commitment, b.event_id, b.reason)
        }
        Body::KeyRevoked(b) => format!("revokes key `{}` of `{}`: {}", b.key_id, b.actor_id, b.reason),
        other => format!("a `{}` event", other.kind().as_str()),
    }
}
