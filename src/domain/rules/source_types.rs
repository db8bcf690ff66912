//! What made an asset's pixels cannot be declared, nor laundered through bytes: an output's
//! declared digital source type must be the one its making derives, and bytes the project
//! already holds keep the type their first making gave them (`docs/compliance.md`).

use super::*;
use crate::domain::source_type::{made_by, SourceType};

/// The outputs an event records, with the field path of each (`…digest` or
/// `…digital_source_type` appended).
fn outputs(body: &Body) -> Vec<(&AssetOutput, String)> {
    match body {
        Body::GenerationRecorded(b) => {
            b.outputs.iter().enumerate().map(|(i, o)| (o, format!("body.outputs[{i}]"))).collect()
        }
        Body::PostEditApplied(b) => vec![(&b.output, "body.output".into())],
        Body::DeliveryRecorded(b) => vec![(&b.variant, "body.variant".into())],
        Body::AssetImported(b) => vec![(&b.asset, "body.asset".into())],
        _ => vec![],
    }
}

/// The type the event's making derives for its outputs, from its inputs' types.
fn derived(view: &View<'_>, project: &ProjectId, body: &Body) -> SourceType {
    let inputs: Vec<&Id> = match body {
        Body::GenerationRecorded(b) => b.input_assets.iter().collect(),
        Body::PostEditApplied(b) => b.inputs.iter().collect(),
        Body::DeliveryRecorded(b) => vec![&b.master_asset],
        _ => vec![],
    };
    let terms: Vec<SourceType> =
        inputs.iter().map(|i| view.asset(project, i).map_or(SourceType::DigitalCreation, |a| a.term)).collect();
    made_by(body, &terms).0
}

/// Refuses an output whose declared type is not the derived one, or whose bytes the project
/// holds under an asset of another type. Costs a lookup per output; derives only when an
/// output declares or repeats bytes.
pub(super) fn check(view: &View<'_>, project: &ProjectId, body: &Body) -> Result<(), DecideError> {
    let mut made: Option<SourceType> = None;
    for (output, field) in outputs(body) {
        let known = view.first_asset_with_bytes(project, &output.digest.bytes());
        if output.digital_source_type.is_none() && known.is_none() {
            continue;
        }
        let derived = *made.get_or_insert_with(|| derived(view, project, body));
        if let Some(declared) = output.digital_source_type.filter(|d| d.0 != derived) {
            return Err(Refusal::InvalidBecause {
                field: format!("{field}.digital_source_type"),
                rule: "a declared digital source type must be the one its making derives (docs/compliance.md, the derivation table)",
                because: format!(
                    "`{}` declares {}, but its making derives {} ({})",
                    output.asset_id,
                    declared.0.term(),
                    derived.term(),
                    derived.says().to_lowercase()
                ),
            }
            .into());
        }
        let held = known.and_then(|key| view.asset_at(project, &key)).map(|a| a.term).filter(|t| *t != derived);
        if let Some(held) = held {
            return Err(Refusal::InvalidBecause {
                field: format!("{field}.digest"),
                rule: "bytes the project holds keep the digital source type their first making gave them (docs/compliance.md)",
                because: format!(
                    "these bytes are already recorded as an asset whose making derives {}; this {} would make them {}",
                    held.term(),
                    body.kind().as_str().replace('_', " "),
                    derived.term()
                ),
            }
            .into());
        }
    }
    Ok(())
}
