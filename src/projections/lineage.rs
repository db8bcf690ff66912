//! The lineage of an asset: every entry it depends on, back to the brief, and every entry that
//! says something about it or about those dependencies (selections, QC reviews, approvals,
//! notes, retractions).

use crate::domain::event::Body;
use crate::domain::state::{created_records, derivation_refs, named_assets, Namespace};
use crate::domain::{EventId, Id, Payload};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// The records of one project, indexed for lineage queries.
#[derive(Default)]
pub struct ProjectGraph<'a> {
    created: HashMap<(Namespace, &'a Id), (u64, &'a Body)>,
    mentions: HashMap<&'a Id, Vec<u64>>,
    revisions: HashMap<&'a Id, Vec<u64>>,
    retractions: HashMap<&'a EventId, Vec<u64>>,
    events: HashMap<u64, &'a EventId>,
    sequences: HashMap<&'a EventId, u64>,
    project_created: Option<u64>,
}

impl<'a> ProjectGraph<'a> {
    /// Indexes a project's entries: `(sequence, payload)` in ledger order.
    pub fn new(entries: &'a [(u64, Payload)]) -> ProjectGraph<'a> {
        let mut graph = ProjectGraph::default();
        for (sequence, payload) in entries {
            let sequence = *sequence;
            graph.events.insert(sequence, &payload.event_id);
            graph.sequences.insert(&payload.event_id, sequence);
            for (ns, id, _) in created_records(&payload.body) {
                graph.created.insert((ns, id), (sequence, &payload.body));
            }
            for asset in named_assets(&payload.body) {
                graph.mentions.entry(asset).or_default().push(sequence);
            }
            match &payload.body {
                Body::ProjectCreated(_) => graph.project_created = Some(sequence),
                Body::BriefRevised(b) => graph.revisions.entry(&b.brief_id).or_default().push(sequence),
                Body::EventRetracted(b) => graph.retractions.entry(&b.event_id).or_default().push(sequence),
                _ => {}
            }
        }
        graph
    }

    /// The sequence of an event of the project.
    pub fn sequence_of(&self, event: &EventId) -> Option<u64> {
        self.sequences.get(event).copied()
    }

    /// The sequences of the retractions of the entries at `sequences`.
    pub fn retractions_of(&self, sequences: &[u64]) -> Vec<u64> {
        sequences
            .iter()
            .filter_map(|s| self.events.get(s))
            .flat_map(|e| self.retractions.get(e).into_iter().flatten().copied())
            .collect()
    }

    /// The sequences of every entry in the asset's lineage, or `None` when the project has no
    /// such asset.
    pub fn lineage(&self, asset: &Id) -> Option<BTreeSet<u64>> {
        self.created.get(&(Namespace::Asset, asset))?;
        Some(self.walk(vec![(Namespace::Asset, asset)]))
    }

    /// The sequences of every entry the records an entry is made from depend on (their lineage,
    /// as [`ProjectGraph::lineage`]): what a bundle carrying that entry needs for it to be whole
    /// backwards.
    pub fn lineage_of_entry(&self, body: &'a Body) -> BTreeSet<u64> {
        self.walk(derivation_refs(body))
    }

    fn walk(&self, start: Vec<(Namespace, &'a Id)>) -> BTreeSet<u64> {
        let mut out: BTreeSet<u64> = self.project_created.into_iter().collect();
        let mut queue: VecDeque<(Namespace, &Id)> = start.into_iter().collect();
        let mut seen = BTreeSet::new();
        while let Some((ns, id)) = queue.pop_front() {
            if !seen.insert((ns, id)) {
                continue;
            }
            if ns == Namespace::Asset {
                out.extend(self.mentions.get(id).into_iter().flatten());
            }
            if ns == Namespace::Brief {
                out.extend(self.revisions.get(id).into_iter().flatten());
            }
            let Some(&(sequence, body)) = self.created.get(&(ns, id)) else { continue };
            out.insert(sequence);
            queue.extend(derivation_refs(body));
        }
        let retractions: Vec<u64> = out
            .iter()
            .filter_map(|s| self.events.get(s))
            .flat_map(|e| self.retractions.get(e).into_iter().flatten().copied())
            .collect();
        out.extend(retractions);
        out
    }
}
