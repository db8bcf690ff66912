//! W3C PROV-JSON of an asset's ancestry: its assets, briefs, references, model versions,
//! pipelines and prompts as entities; generations, post edits, deliveries, selections, QC reviews
//! and approvals as activities; the actors who signed them as agents (people as `prov:Person`,
//! integrations as `prov:SoftwareAgent`). Documented in `docs/compliance.md`.

use crate::domain::event::Body;
use crate::domain::{ActorId, Payload};
use crate::projections::graph::{EdgeKind, NodeKind, NodeView, Subgraph};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The prefix of every record of the document: `urn:lineage:<origin>/<project>/`.
const PREFIX: &str = "ln";

/// Whether a node of `kind` is an activity (something that happened) rather than an entity.
fn is_activity(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Generation
            | NodeKind::PostEdit
            | NodeKind::Delivery
            | NodeKind::Selection
            | NodeKind::QcReview
            | NodeKind::Approval
    )
}

/// The qualified name of a node: `ln:<kind>-<id>` (an id's ':' percent-encoded).
fn name(node_key: &str) -> String {
    let (kind, id) = node_key.split_once(':').unwrap_or(("node", node_key));
    format!("{PREFIX}:{kind}-{}", id.replace('%', "%25").replace(':', "%3A"))
}

/// The PROV-JSON document of an ancestors walk of `project` in the ledger `origin`. `load`
/// reads the payload of an entry (for activities' times); `is_person` tells people from
/// integrations.
pub fn document(
    origin: &str,
    project: &str,
    ancestry: &Subgraph,
    load: impl Fn(u64) -> Option<Payload>,
    is_person: impl Fn(&ActorId) -> bool,
) -> Value {
    let kinds: HashMap<&str, NodeKind> = ancestry.nodes.iter().map(|n| (&*n.key, n.kind)).collect();
    let (mut entity, mut activity, mut agent) = (Map::new(), Map::new(), Map::new());
    for node in &ancestry.nodes {
        let record = record(node, &load, &is_person);
        match node.kind {
            NodeKind::Actor => agent.insert(name(&node.key), record),
            kind if is_activity(kind) => activity.insert(name(&node.key), record),
            _ => entity.insert(name(&node.key), record),
        };
    }
    let mut relations: [(&str, Map<String, Value>); 6] = [
        ("wasGeneratedBy", Map::new()),
        ("used", Map::new()),
        ("wasDerivedFrom", Map::new()),
        ("wasAssociatedWith", Map::new()),
        ("wasAttributedTo", Map::new()),
        ("wasInfluencedBy", Map::new()),
    ];
    for (i, edge) in ancestry.edges.iter().enumerate() {
        let (from, to) = (name(&edge.from), name(&edge.to));
        let from_kind = kinds.get(&*edge.from).copied();
        let (slot, body) = match edge.kind {
            EdgeKind::GeneratedBy => (0, json!({"prov:entity": from, "prov:activity": to})),
            EdgeKind::Used | EdgeKind::PromptedBy if from_kind.is_some_and(is_activity) => {
                (1, json!({"prov:activity": from, "prov:entity": to}))
            }
            // An entity that cites another (a prompt its references and brief, a pipeline the
            // model versions it runs): only an activity uses, so the entity was influenced.
            EdgeKind::Used | EdgeKind::PromptedBy => (5, json!({"prov:influencee": from, "prov:influencer": to})),
            // An asset reviewed, approved or selected: the activity used it.
            EdgeKind::ReviewedBy | EdgeKind::ApprovedBy | EdgeKind::SelectedIn | EdgeKind::RejectedIn => {
                let role = edge.kind.as_str();
                (1, json!({"prov:activity": to, "prov:entity": from, "prov:role": role}))
            }
            EdgeKind::DerivedFrom => (2, json!({"prov:generatedEntity": from, "prov:usedEntity": to})),
            EdgeKind::SignedBy if from_kind.is_some_and(is_activity) => {
                (3, json!({"prov:activity": from, "prov:agent": to}))
            }
            EdgeKind::SignedBy => (4, json!({"prov:entity": from, "prov:agent": to})),
            // The master-to-variant edge repeats the variant's derivation, the other way round.
            EdgeKind::DeliveredAs => continue,
        };
        relations[slot].1.insert(format!("_:r{i}"), body);
    }
    let mut document = Map::new();
    document.insert(
        "prefix".into(),
        json!({PREFIX: format!("urn:lineage:{}/{}/", origin, project), "lineage": "urn:lineage:vocabulary#"}),
    );
    for (key, map) in [("entity", entity), ("activity", activity), ("agent", agent)] {
        if !map.is_empty() {
            document.insert(key.into(), Value::Object(map));
        }
    }
    for (key, map) in relations {
        if !map.is_empty() {
            document.insert(key.into(), Value::Object(map));
        }
    }
    Value::Object(document)
}

/// A node's record: its type, its id, and for what an entry made, the entry's sequence and
/// (activities) when it happened.
fn record(node: &NodeView, load: &impl Fn(u64) -> Option<Payload>, is_person: &impl Fn(&ActorId) -> bool) -> Value {
    let mut record = Map::new();
    let kind = node.kind.as_str();
    record.insert("prov:label".into(), json!(node.id));
    let prov_type = match node.kind {
        NodeKind::Actor => match ActorId::parse(&node.id) {
            Ok(actor) if !is_person(&actor) => "prov:SoftwareAgent".to_owned(),
            _ => "prov:Person".to_owned(),
        },
        _ => format!("lineage:{kind}"),
    };
    record.insert("prov:type".into(), json!({"$": prov_type, "type": "prov:QUALIFIED_NAME"}));
    if let Some(sequence) = node.sequence {
        record.insert("lineage:sequence".into(), json!({"$": sequence.to_string(), "type": "xsd:long"}));
        if is_activity(node.kind) {
            if let Some(payload) = load(sequence) {
                let at = payload.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                record.insert("prov:startTime".into(), json!(at));
                record.insert("prov:endTime".into(), json!(at));
            }
        }
        if node.kind == NodeKind::Asset {
            if let Some(digest) = load(sequence).and_then(|p| digest_of(&p.body, &node.id)) {
                record.insert("lineage:digest".into(), json!(digest));
            }
        }
    }
    if node.retracted {
        record.insert("lineage:retracted".into(), json!({"$": "true", "type": "xsd:boolean"}));
    }
    Value::Object(record)
}

/// The digest an asset's making event recorded for it.
fn digest_of(body: &Body, asset: &str) -> Option<String> {
    let digest = match body {
        Body::GenerationRecorded(b) => b.outputs.iter().find(|o| o.asset_id.as_str() == asset).map(|o| &o.digest),
        Body::PostEditApplied(b) => Some(&b.output.digest),
        Body::DeliveryRecorded(b) => Some(&b.variant.digest),
        Body::AssetImported(b) => Some(&b.asset.digest),
        _ => None,
    };
    digest.map(|d| d.to_string())
}
