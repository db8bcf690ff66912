//! AI disclosure derived from an asset's ancestry, never declared: its IPTC digital source type,
//! what people did, the models that made pixels of it, and a statement. The derivation table is
//! `docs/compliance.md`'s; each row is one arm of [`made_by`] or [`composed`], named by its
//! [`Derivation`].

use crate::domain::event::{Body, PerformedBy};
pub use crate::domain::source_type::{inputs_of, made_by, Derivation, SourceType, IPTC_PREFIX};
use crate::domain::{ActorId, Payload};
use crate::projections::graph::{NodeKind, Subgraph};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What people did in an asset's making.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HumanPart {
    /// A brief set the creative direction.
    Directed,
    /// A person wrote a prompt it was generated from.
    Prompted,
    /// A person selected it, or an asset it was made from, among others.
    Selected,
    /// A person edited it, or an asset it was made from, with non-generative tools.
    Edited,
    /// A person approved it, or an asset it was made from.
    Approved,
}

/// An asset's derived disclosure.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Disclosure {
    pub asset: String,
    /// The IPTC digital source type, as its full URI.
    pub digital_source_type: String,
    #[schema(value_type = String)]
    pub term: SourceType,
    /// The row of the derivation table that gave the term.
    #[schema(value_type = String)]
    pub derivation: Derivation,
    /// Whether a generative model made some of its pixels (EU AI Act, Art. 50).
    pub ai_generated: bool,
    /// The model versions that made pixels of it or of what it was made from.
    pub models: Vec<String>,
    pub human: Vec<HumanPart>,
    pub statement: String,
}

/// Derives the disclosure of the root of an ancestors walk. `load` reads the payload of an
/// entry; `is_person` says whether an actor is a person (not an integration).
pub fn disclose(
    ancestry: &Subgraph,
    load: impl Fn(u64) -> Option<Payload>,
    is_person: impl Fn(&ActorId) -> bool,
) -> Disclosure {
    disclose_read(ancestry, &read_entries(ancestry, load), is_person)
}

/// The payloads of the entries of an ancestry, each read once, in log order (a post edit's
/// entry makes both its node and its output's).
pub fn read_entries(ancestry: &Subgraph, load: impl Fn(u64) -> Option<Payload>) -> BTreeMap<u64, Payload> {
    let sequences: BTreeSet<u64> = ancestry.nodes.iter().filter_map(|n| n.sequence).collect();
    sequences.into_iter().filter_map(|s| Some((s, load(s)?))).collect()
}

/// The entry that made each asset of an ancestry, by asset id.
pub fn makers<'a>(ancestry: &'a Subgraph, payloads: &'a BTreeMap<u64, Payload>) -> HashMap<&'a str, &'a Payload> {
    ancestry
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Asset)
        .filter_map(|n| Some((n.id.as_str(), payloads.get(&n.sequence?)?)))
        .collect()
}

/// The derived type of every asset of an ancestry, with the derivation-table row that gave it.
pub fn terms<'a>(
    ancestry: &'a Subgraph,
    makers: &HashMap<&'a str, &'a Payload>,
) -> HashMap<&'a str, (SourceType, Derivation)> {
    match ancestry.nodes.first() {
        Some(root) => derive_all(root.id.as_str(), makers),
        None => HashMap::new(),
    }
}

/// [`disclose`] on entries already read ([`read_entries`]).
pub fn disclose_read(
    ancestry: &Subgraph,
    payloads: &BTreeMap<u64, Payload>,
    is_person: impl Fn(&ActorId) -> bool,
) -> Disclosure {
    // The walk's first node is its root, the asset itself.
    let root = ancestry.nodes.first().map(|n| n.id.clone()).unwrap_or_default();
    let makers = makers(ancestry, payloads);
    let derived = derive_all(&root, &makers);
    let (term, derivation) =
        derived.get(root.as_str()).copied().unwrap_or((SourceType::DigitalCreation, Derivation::Unknown));
    // The events of the ancestry that still stand, in log order (the latest decision of each
    // decider counts; a retracted event is no part people took, though what it made keeps the
    // type its making gives it).
    let standing: BTreeSet<u64> = ancestry
        .nodes
        .iter()
        .filter(|n| n.kind != NodeKind::Asset && n.kind != NodeKind::Actor && !n.retracted)
        .filter_map(|n| n.sequence)
        .collect();
    let events: Vec<&Payload> = standing.iter().filter_map(|s| payloads.get(s)).collect();
    let lineage: BTreeSet<&str> = makers.keys().copied().collect();
    let models = models(makers.values().chain(events.iter()).copied());
    let human = human_part(&events, &lineage, &is_person);
    let statement = statement(term, &models, &human);
    Disclosure {
        asset: root,
        digital_source_type: term.uri(),
        term,
        derivation,
        ai_generated: term.is_synthetic(),
        models,
        human,
        statement,
    }
}

/// The type of every asset of the lineage, inputs before what is made from them (iteratively:
/// a lineage runs to thousands of links).
fn derive_all<'a>(root: &'a str, makers: &HashMap<&'a str, &'a Payload>) -> HashMap<&'a str, (SourceType, Derivation)> {
    let mut done: HashMap<&str, (SourceType, Derivation)> = HashMap::new();
    let mut stack: Vec<(&str, bool)> = vec![(root, false)];
    while let Some((asset, inputs_done)) = stack.pop() {
        if done.contains_key(asset) {
            continue;
        }
        let Some(maker) = makers.get(asset) else {
            done.insert(asset, (SourceType::DigitalCreation, Derivation::Unknown));
            continue;
        };
        let inputs = inputs_of(&maker.body);
        if !inputs_done {
            stack.push((asset, true));
            stack.extend(inputs.iter().filter(|i| !done.contains_key(*i)).map(|i| (*i, false)));
            continue;
        }
        let types: Vec<SourceType> =
            inputs.iter().map(|i| done.get(i).map_or(SourceType::DigitalCreation, |d| d.0)).collect();
        done.insert(asset, made_by(&maker.body, &types));
    }
    done
}

/// The model versions of the ancestry: those of its generations, of the pipelines they ran and
/// of its post edits (generative or not: a model an edit names is part of the asset's making).
fn models<'a>(payloads: impl Iterator<Item = &'a Payload>) -> Vec<String> {
    let mut out = BTreeSet::new();
    for payload in payloads {
        match &payload.body {
            Body::GenerationRecorded(b) => {
                out.insert(b.model_version.to_string());
            }
            Body::PipelineDefined(b) => out.extend(b.model_versions.iter().map(|m| m.to_string())),
            Body::PostEditApplied(b) => out.extend(b.model_version.iter().map(|m| m.to_string())),
            _ => {}
        }
    }
    out.into_iter().collect()
}

/// What people did: from the events of the ancestry that stand (briefs, prompts, post edits,
/// selections, approvals, in log order), signed by people. A selection or an approval counts as
/// its decider's latest decision on that asset.
fn human_part(events: &[&Payload], lineage: &BTreeSet<&str>, is_person: &impl Fn(&ActorId) -> bool) -> Vec<HumanPart> {
    let mut out = BTreeSet::new();
    let edited = |b: &crate::domain::event::PostEditApplied| b.performed_by != PerformedBy::Ai && !b.is_generative();
    // (decider, asset) -> whether the decider's latest decision on it keeps or approves it.
    let (mut selections, mut approvals) = (HashMap::new(), HashMap::new());
    for payload in events.iter().filter(|p| is_person(&p.actor)) {
        match &payload.body {
            Body::BriefRecorded(_) | Body::BriefRevised(_) => {
                out.insert(HumanPart::Directed);
            }
            Body::PromptAuthored(_) => {
                out.insert(HumanPart::Prompted);
            }
            Body::PostEditApplied(b) if edited(b) => {
                out.insert(HumanPart::Edited);
            }
            Body::SelectionMade(b) => {
                let decided = b.selected.iter().map(|a| (a, true)).chain(b.rejected.iter().map(|a| (a, false)));
                for (asset, kept) in decided.filter(|(a, _)| lineage.contains(a.as_str())) {
                    selections.insert((payload.actor.clone(), asset.to_string()), kept);
                }
            }
            Body::ApprovalRecorded(b) if lineage.contains(b.asset.as_str()) => {
                let approved = b.decision == crate::domain::event::Decision::Approved;
                approvals.insert((payload.actor.clone(), b.asset.to_string()), approved);
            }
            _ => {}
        }
    }
    if selections.values().any(|kept| *kept) {
        out.insert(HumanPart::Selected);
    }
    if approvals.values().any(|approved| *approved) {
        out.insert(HumanPart::Approved);
    }
    out.into_iter().collect()
}

/// The disclosure statement: what made it, with which models, and what people did.
fn statement(term: SourceType, models: &[String], human: &[HumanPart]) -> String {
    let mut out = term.says().to_owned();
    if term.is_synthetic() && !models.is_empty() {
        out.push_str(&format!(" (model version {})", models.join(", ")));
    }
    out.push('.');
    if !human.is_empty() {
        let words: Vec<&str> = human
            .iter()
            .map(|h| match h {
                HumanPart::Directed => "directed",
                HumanPart::Prompted => "prompted",
                HumanPart::Selected => "selected",
                HumanPart::Edited => "edited",
                HumanPart::Approved => "approved",
            })
            .collect();
        out.push_str(&format!(" People {}.", join(&words)));
    }
    out
}

/// `a`, `a and b`, `a, b and c`.
fn join(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
