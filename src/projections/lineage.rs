//! The lineage of an asset: the entries that made it and everything it was made from, back to
//! the brief. What was said about them afterwards (selections, QC reviews, approvals, notes,
//! revisions, retractions) is in their subjects (`crate::log::subjects`), which an evidence
//! bundle carries whole.

use crate::domain::event::Body;
use crate::domain::state::{created_records, derivation_refs, Namespace};
use crate::domain::{Id, Payload};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// The records a lineage walk has gone through.
#[derive(Default)]
pub struct Walked<'a>(std::collections::HashSet<(Namespace, &'a Id)>);

/// The records of one project, indexed for lineage queries.
#[derive(Default)]
pub struct ProjectGraph<'a> {
    created: HashMap<(Namespace, &'a Id), (u64, &'a Body)>,
    project_created: Option<u64>,
}

impl<'a> ProjectGraph<'a> {
    /// Indexes a project's entries: `(sequence, payload)` in ledger order.
    pub fn new(entries: &'a [(u64, Payload)]) -> ProjectGraph<'a> {
        let mut graph = ProjectGraph::default();
        for (sequence, payload) in entries {
            for (ns, id, _) in created_records(&payload.body) {
                graph.created.insert((ns, id), (*sequence, &payload.body));
            }
            if let Body::ProjectCreated(_) = &payload.body {
                graph.project_created = Some(*sequence);
            }
        }
        graph
    }

    /// The sequences of the entries that made the asset and everything it was made from, or
    /// `None` when the project has no such asset.
    pub fn lineage(&self, asset: &Id) -> Option<BTreeSet<u64>> {
        self.created.get(&(Namespace::Asset, asset))?;
        let mut out = BTreeSet::new();
        self.walk(vec![(Namespace::Asset, asset)], &mut Walked::default(), &mut out);
        Some(out)
    }

    /// The sequences of every entry the records an entry is made from depend on (their lineage,
    /// as [`ProjectGraph::lineage`]): what a bundle carrying that entry needs for it to be whole
    /// backwards.
    pub fn lineage_of_entry(&self, body: &'a Body) -> BTreeSet<u64> {
        let mut out = BTreeSet::new();
        self.walk(derivation_refs(body), &mut Walked::default(), &mut out);
        out
    }

    /// Adds to `out` the lineage of what an entry is made from, skipping the records `walked`
    /// already went through: many entries' lineages cost one walk of their union.
    pub fn extend_lineage(&self, body: &'a Body, walked: &mut Walked<'a>, out: &mut BTreeSet<u64>) {
        self.walk(derivation_refs(body), walked, out);
    }

    fn walk(&self, start: Vec<(Namespace, &'a Id)>, walked: &mut Walked<'a>, out: &mut BTreeSet<u64>) {
        out.extend(self.project_created);
        let mut queue: VecDeque<(Namespace, &Id)> = start.into_iter().collect();
        while let Some((ns, id)) = queue.pop_front() {
            if !walked.0.insert((ns, id)) {
                continue;
            }
            let Some(&(sequence, body)) = self.created.get(&(ns, id)) else { continue };
            out.insert(sequence);
            queue.extend(derivation_refs(body));
        }
    }
}
