//! The C2PA manifest the ledger derives for an asset (`docs/compliance.md`, "Content
//! Credentials"): a manifest definition as the C2PA SDK takes it — the actions of the event that
//! made the asset (`c2pa.actions.v2`, among the created assertions), its ingredients (the assets
//! that event took, and the prompts and model versions of the whole ancestry), the
//! training-and-mining choices of the briefs it was made under, and the ledger's own assertion:
//! the entry that made it, that entry's inclusion proof and the checkpoint it verifies against,
//! with the derived disclosure. Pure: signing it into a file is [`crate::outputs::signing`]'s.

use crate::domain::event::{Body, Permission, Technique, TrainingAndMining};
use crate::domain::Payload;
use crate::outputs::disclosure::{inputs_of, makers, terms, Disclosure, SourceType};
use crate::projections::graph::{NodeKind, Subgraph};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// The label of the ledger's own assertion.
pub const LEDGER_ASSERTION: &str = "lineage.ledger";

/// Where an asset's making entry stands in the log: what a Content Credentials reader needs to
/// verify it against the ledger's checkpoint (`docs/compliance.md`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LedgerRecord {
    /// The ledger (its checkpoint origin).
    pub ledger: String,
    pub project: String,
    pub asset: String,
    /// The `sha256:` digest of the asset's bytes, as recorded.
    pub digest: String,
    /// The entry that made the asset (for a delivered variant, the delivery).
    pub sequence: u64,
    pub event_id: String,
    pub kind: String,
    /// Hex RFC 9162 leaf hash of that entry.
    pub leaf_hash: String,
    /// Its inclusion proof in the tree of `tree_size` entries, hex hashes from the leaf up.
    pub tree_size: u64,
    pub root_hash: String,
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint (C2SP signed note) of `tree_size` entries.
    pub checkpoint: String,
    /// Where the ledger answers the asset's audit trail and evidence bundle.
    pub audit: String,
    pub evidence: String,
}

/// What the manifest is made from.
pub struct Sources<'a> {
    /// `urn:lineage:<origin>/<project>/`, the prefix of every record's id (as in PROV-JSON).
    pub namespace: String,
    pub ancestry: &'a Subgraph,
    /// The entries of the ancestry, read once.
    pub payloads: &'a BTreeMap<u64, Payload>,
    pub disclosure: &'a Disclosure,
    pub record: Option<LedgerRecord>,
}

/// The manifest definition (JSON, as `c2pa::Builder::with_definition` takes it) of the root of
/// the ancestry.
pub fn manifest(sources: &Sources<'_>) -> Value {
    let ancestry = sources.ancestry;
    let root = ancestry.nodes.first().map(|n| n.id.as_str()).unwrap_or_default();
    let makers = makers(ancestry, sources.payloads);
    let terms = terms(ancestry, &makers);
    let by_key: HashMap<(NodeKind, &str), &Payload> = ancestry
        .nodes
        .iter()
        .filter_map(|n| Some(((n.kind, n.id.as_str()), sources.payloads.get(&n.sequence?)?)))
        .collect();
    let id =
        |kind: &str, id: &str| format!("{}{kind}-{}", sources.namespace, id.replace('%', "%25").replace(':', "%3A"));
    let maker = makers.get(root).copied();
    let output = maker.and_then(|m| output_of(&m.body, root));
    let mut ingredients = Vec::new();
    // The assets the making event took: its base opened, the rest placed (a post edit or a
    // delivery); a generation's inputs are inputs to the model.
    let inputs = maker.map(|m| inputs_of(&m.body)).unwrap_or_default();
    let generated = matches!(maker.map(|m| &m.body), Some(Body::GenerationRecorded(_)));
    for (i, input) in inputs.iter().enumerate() {
        let relationship = match (generated, i) {
            (true, _) => "inputTo",
            (false, 0) => "parentOf",
            (false, _) => "componentOf",
        };
        let made = makers.get(input).and_then(|m| output_of(&m.body, input));
        let term = terms.get(input).map(|t| t.0);
        ingredients.push(asset_ingredient(&id("asset", input), input, made, term, relationship));
    }
    // Every prompt and model version of the ancestry, as inputs to the process that made it.
    for node in &ancestry.nodes {
        let payload = by_key.get(&(node.kind, node.id.as_str()));
        match (node.kind, payload.map(|p| &p.body)) {
            (NodeKind::Prompt, _) => ingredients.push(json!({
                "title": format!("prompt {}", node.id), "format": "text/plain", "relationship": "inputTo",
                "instance_id": id("prompt", &node.id), "description": "a prompt of the asset's ancestry (its text is in the ledger)",
            })),
            (NodeKind::ModelVersion, Some(Body::ModelVersionRegistered(m))) => {
                let weights = m.weights_digest.as_ref().map(|w| format!("; weights {w}")).unwrap_or_default();
                ingredients.push(json!({
                    "title": format!("{} {} {}", m.provider, m.family, m.version), "format": "application/octet-stream",
                    "relationship": "inputTo", "instance_id": id("model_version", &node.id),
                    "description": format!("model version {}; licence {}{weights}", node.id, m.license),
                }));
            }
            _ => {}
        }
    }
    let actions = maker.map(|m| actions(m, &by_key, &terms, root, &id)).unwrap_or_default();
    let mut assertions = vec![json!({"label": "c2pa.actions.v2", "data": {"actions": actions}, "created": true})];
    if let Some(entries) = training_and_mining(ancestry, &by_key) {
        assertions.push(json!({"label": "cawg.training-mining", "data": {"entries": entries}, "created": true}));
    }
    let mut ledger = json!({"disclosure": sources.disclosure});
    if let Some(record) = &sources.record {
        ledger["record"] = json!(record);
    }
    assertions.push(json!({"label": LEDGER_ASSERTION, "data": ledger, "created": true}));
    json!({
        "claim_version": 2,
        "claim_generator_info": [{"name": "lineage", "version": env!("CARGO_PKG_VERSION")}],
        "title": root,
        "format": output.map(|o| o.media_type.to_string()).unwrap_or_else(|| "application/octet-stream".to_owned()),
        "instance_id": id("asset", root),
        "ingredients": ingredients,
        "assertions": assertions,
    })
}

/// The output an event made of `asset`.
pub fn output_of<'a>(body: &'a Body, asset: &str) -> Option<&'a crate::domain::event::AssetOutput> {
    match body {
        Body::AssetImported(b) => Some(&b.asset),
        Body::GenerationRecorded(b) => b.outputs.iter().find(|o| o.asset_id.as_str() == asset),
        Body::PostEditApplied(b) => Some(&b.output),
        Body::DeliveryRecorded(b) => Some(&b.variant),
        _ => None,
    }
}

/// An ingredient for an asset of the ledger: no manifest of its own, its derived source type in
/// its metadata (C2PA 2.4 allows a source type on such an ingredient; the SDK carries it there).
fn asset_ingredient(
    instance_id: &str,
    asset: &str,
    made: Option<&crate::domain::event::AssetOutput>,
    term: Option<SourceType>,
    relationship: &str,
) -> Value {
    let mut ingredient = json!({
        "title": asset, "relationship": relationship, "instance_id": instance_id,
        "format": made.map_or("application/octet-stream", |o| o.media_type.as_str()),
    });
    if let Some(term) = term {
        let digest = made.map(|m| format!("; bytes {}", m.digest)).unwrap_or_default();
        ingredient["description"] = json!(format!("derived source type: {}{digest}", term.term()));
        ingredient["metadata"] = json!({"digitalSourceType": term.uri()});
    }
    ingredient
}

/// The actions of the event that made `root`: `c2pa.created` for an import or a generation,
/// `c2pa.opened` then `c2pa.placed` and the edit for a post edit, `c2pa.opened` then a resize or
/// transcode for a delivery.
fn actions(
    maker: &Payload,
    by_key: &HashMap<(NodeKind, &str), &Payload>,
    terms: &HashMap<&str, (SourceType, crate::outputs::disclosure::Derivation)>,
    root: &str,
    id: &impl Fn(&str, &str) -> String,
) -> Vec<Value> {
    let when = maker.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let term = terms.get(root).map_or(SourceType::DigitalCreation, |t| t.0);
    let action = |name: &str| json!({"action": name, "when": when});
    match &maker.body {
        Body::AssetImported(b) => {
            let mut created = action("c2pa.created");
            created["digitalSourceType"] = json!(term.uri());
            created["description"] =
                json!(format!("imported into the ledger: {}, from {}", words(&b.origin), b.source));
            vec![created]
        }
        Body::GenerationRecorded(b) => {
            let mut created = action("c2pa.created");
            created["digitalSourceType"] = json!(term.uri());
            created["softwareAgent"] = model_agent(b.model_version.as_str(), by_key);
            let mut used: Vec<String> =
                vec![id("prompt", b.prompt.as_str()), id("model_version", b.model_version.as_str())];
            used.extend(b.input_assets.iter().map(|a| id("asset", a.as_str())));
            created["parameters"] = json!({"ingredientIds": used});
            created["description"] = json!(format!("generation {}", b.generation_id));
            vec![created]
        }
        Body::PostEditApplied(b) => {
            let mut out = Vec::new();
            for (i, input) in b.inputs.iter().enumerate() {
                let mut step = action(if i == 0 { "c2pa.opened" } else { "c2pa.placed" });
                step["parameters"] = json!({"ingredientIds": [id("asset", input.as_str())]});
                out.push(step);
            }
            let mut edit = action(edit_action(b.technique));
            let performer = match b.performed_by {
                crate::domain::event::PerformedBy::Human => "a person",
                crate::domain::event::PerformedBy::Ai => "software",
                crate::domain::event::PerformedBy::Hybrid => "a person with software",
            };
            edit["description"] =
                json!(format!("post edit {}: {} by {performer} with {}", b.edit_id, words(&b.technique), b.tool));
            match (&b.model_version, b.is_generative()) {
                (Some(model), true) => {
                    edit["digitalSourceType"] = json!(SourceType::TrainedAlgorithmicMedia.uri());
                    edit["softwareAgent"] = model_agent(model.as_str(), by_key);
                }
                _ => edit["softwareAgent"] = json!({"name": b.tool.to_string()}),
            }
            out.push(edit);
            out
        }
        Body::DeliveryRecorded(b) => {
            let mut opened = action("c2pa.opened");
            opened["parameters"] = json!({"ingredientIds": [id("asset", b.master_asset.as_str())]});
            let mut out = vec![opened];
            let master = by_key
                .get(&(NodeKind::Asset, b.master_asset.as_str()))
                .and_then(|m| output_of(&m.body, b.master_asset.as_str()));
            if master.is_some_and(|m| (m.width, m.height) != (Some(b.dimensions.width), Some(b.dimensions.height))) {
                out.push(action("c2pa.resized"));
            }
            if master.is_some_and(|m| m.media_type != b.variant.media_type) {
                out.push(action("c2pa.transcoded"));
            }
            let mut published = action("c2pa.published");
            published["description"] =
                json!(format!("delivery {} for {} ({}, {})", b.delivery_id, b.channel, words(&b.medium), b.locale));
            out.push(published);
            out
        }
        _ => vec![],
    }
}

/// A model version as the software agent of an action: its provider, family and version.
fn model_agent(model: &str, by_key: &HashMap<(NodeKind, &str), &Payload>) -> Value {
    match by_key.get(&(NodeKind::ModelVersion, model)).map(|p| &p.body) {
        Some(Body::ModelVersionRegistered(m)) => {
            json!({"name": format!("{} {} ({model})", m.provider, m.family), "version": m.version.to_string()})
        }
        _ => json!({"name": model}),
    }
}

/// The C2PA action a post-production technique is.
fn edit_action(technique: Technique) -> &'static str {
    match technique {
        Technique::Colour => "c2pa.color_adjustments",
        Technique::Upres => "c2pa.resized",
        Technique::Cg => "c2pa.drawing",
        Technique::Retouch | Technique::Compositing | Technique::Cleanup => "c2pa.edited",
    }
}

/// A value of the ledger's vocabulary (an origin, a technique, a medium) in words.
fn words(value: &impl Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()
}

/// The training-and-mining entries of the briefs of the ancestry: for each use, the strictest
/// choice any of them made (not allowed over constrained over allowed); none when no brief says
/// anything.
fn training_and_mining(ancestry: &Subgraph, by_key: &HashMap<(NodeKind, &str), &Payload>) -> Option<Value> {
    let mut strictest = TrainingAndMining::default();
    let stricter = |a: Option<Permission>, b: Option<Permission>| a.max(b);
    for node in ancestry.nodes.iter().filter(|n| n.kind == NodeKind::Brief) {
        if let Some(Body::BriefRecorded(b)) = by_key.get(&(NodeKind::Brief, node.id.as_str())).map(|p| &p.body) {
            if let Some(t) = b.training_and_mining {
                strictest.ai_generative_training = stricter(strictest.ai_generative_training, t.ai_generative_training);
                strictest.ai_training = stricter(strictest.ai_training, t.ai_training);
                strictest.ai_inference = stricter(strictest.ai_inference, t.ai_inference);
                strictest.data_mining = stricter(strictest.data_mining, t.data_mining);
            }
        }
    }
    let uses = [
        ("cawg.ai_generative_training", strictest.ai_generative_training),
        ("cawg.ai_training", strictest.ai_training),
        ("cawg.ai_inference", strictest.ai_inference),
        ("cawg.data_mining", strictest.data_mining),
    ];
    let entries: serde_json::Map<String, Value> = uses
        .into_iter()
        .filter_map(|(name, permission)| {
            let word = match permission? {
                Permission::Allowed => "allowed",
                Permission::Constrained => "constrained",
                Permission::NotAllowed => "notAllowed",
            };
            Some((name.to_owned(), json!({"use": word})))
        })
        .collect();
    (!entries.is_empty()).then_some(Value::Object(entries))
}
