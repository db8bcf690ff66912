//! The read view the rules see: the state with a request's staged changes on top.

use super::*;

/// A read view of the ledger as it would be with the staged changes: what the rules see.
pub struct View<'a> {
    pub base: &'a LedgerState,
    pub changes: &'a Changes,
    pub events: &'a dyn Events,
}

impl View<'_> {
    /// The project's state, then what the request staged on it: lists read in this order are in
    /// log order.
    pub(super) fn both(&self, project: &ProjectId) -> impl Iterator<Item = &ProjectState> {
        self.base.project(project).into_iter().chain(self.changes.projects.get(project))
    }

    /// QC reviews of a digest that were not retracted, oldest first.
    pub fn reviews(&self, project: &ProjectId, digest: &Digest) -> Vec<&Review> {
        let all: Vec<&Review> = self.both(project).flat_map(|p| p.reviews.get(digest).into_iter().flatten()).collect();
        crate::domain::limits::tick(all.len());
        all.into_iter().filter(|r| !self.is_retracted(project, &r.event)).collect()
    }

    /// Approvals of a digest that were not retracted, oldest first.
    pub fn approvals(&self, project: &ProjectId, digest: &Digest) -> Vec<&Approval> {
        let all: Vec<&Approval> =
            self.both(project).flat_map(|p| p.approvals.get(digest).into_iter().flatten()).collect();
        crate::domain::limits::tick(all.len());
        all.into_iter().filter(|a| !self.is_retracted(project, &a.event)).collect()
    }

    /// Every approval of the project that was not retracted, oldest first.
    pub fn all_approvals(&self, project: &ProjectId) -> Vec<&Approval> {
        let mut all: Vec<&Approval> = self.both(project).flat_map(|p| p.approvals.values().flatten()).collect();
        crate::domain::limits::tick(all.len());
        all.retain(|a| !self.is_retracted(project, &a.event));
        all
    }

    /// The deliverable formats every brief of the project declares, as last revised.
    pub fn brief_formats(&self, project: &ProjectId) -> Vec<Label> {
        let formats = self.all_brief_formats(project);
        crate::domain::limits::tick(formats.len());
        formats
    }

    fn all_brief_formats(&self, project: &ProjectId) -> Vec<Label> {
        if self.rule_set(project) >= 3 {
            return self.current_brief_formats(project);
        }
        let mut briefs: HashMap<&IdKey, &Vec<Label>> = HashMap::new();
        for state in self.both(project) {
            briefs.extend(&state.briefs);
        }
        briefs.into_values().flatten().cloned().collect()
    }

    /// The deliverable formats of every brief whose recording was not retracted, each as its
    /// latest recording or revision not retracted set them (rule set version 3).
    fn current_brief_formats(&self, project: &ProjectId) -> Vec<Label> {
        let mut history: HashMap<&IdKey, Vec<&(EventId, Vec<Label>)>> = HashMap::new();
        for state in self.both(project) {
            for (brief, entries) in &state.brief_history {
                history.entry(brief).or_default().extend(entries);
            }
        }
        let mut out = Vec::new();
        for entries in history.into_values() {
            let recorded = entries.first().is_some_and(|(event, _)| !self.is_retracted(project, event));
            if let Some((_, formats)) =
                entries.iter().rev().find(|(event, _)| !self.is_retracted(project, event)).filter(|_| recorded)
            {
                out.extend(formats.iter().cloned());
            }
        }
        out
    }

    pub fn system(&self) -> &SystemState {
        self.changes.system.as_ref().unwrap_or(&self.base.system)
    }
    pub fn project_exists(&self, id: &ProjectId) -> bool {
        self.content_type(id).is_some()
    }
    pub fn content_type(&self, id: &ProjectId) -> Option<ContentType> {
        self.changes
            .projects
            .get(id)
            .and_then(|p| p.content_type)
            .or_else(|| self.base.project(id).and_then(|p| p.content_type))
    }
    /// The client organisation of a governed project; `None` for a legacy project or none.
    pub fn client(&self, id: &ProjectId) -> Option<&OrganizationId> {
        let staged = self.changes.projects.get(id).and_then(|p| p.client.as_ref());
        staged.or_else(|| self.base.project(id).and_then(|p| p.client.as_ref()))
    }
    pub fn is_governed(&self, id: &ProjectId) -> bool {
        self.client(id).is_some()
    }
    /// The actor's standing in the project: a member with a role, removed, or never added.
    pub fn membership(&self, project: &ProjectId, actor: &ActorId) -> Option<Membership> {
        let staged = self.changes.projects.get(project).and_then(|p| p.members.get(actor));
        staged.or_else(|| self.base.project(project).and_then(|p| p.members.get(actor))).copied()
    }
    pub fn member_role(&self, project: &ProjectId, actor: &ActorId) -> Option<Role> {
        match self.membership(project, actor) {
            Some(Membership::Member(role)) => Some(role),
            _ => None,
        }
    }
    /// The current members and their roles.
    pub fn members(&self, project: &ProjectId) -> Vec<(&ActorId, Role)> {
        let mut all: BTreeMap<&ActorId, Membership> = BTreeMap::new();
        for state in self.both(project) {
            all.extend(state.members.iter().map(|(a, m)| (a, *m)));
        }
        all.into_iter()
            .filter_map(|(a, m)| match m {
                Membership::Member(role) => Some((a, role)),
                Membership::Removed => None,
            })
            .collect()
    }
    /// The policy amendments, in log order.
    pub fn amendments(&self, project: &ProjectId) -> Vec<&(EventId, RuleSpec)> {
        let all: Vec<&(EventId, RuleSpec)> = self.both(project).flat_map(|p| p.amendments.iter()).collect();
        crate::domain::limits::tick(all.len());
        all
    }
    pub fn record(&self, project: &ProjectId, ns: Namespace, id: &Id) -> Option<Record> {
        let key = record_key(ns, id.as_str());
        // The staged state first: a brief revised in this request has its new formats there.
        let staged = self.changes.projects.get(project);
        staged.into_iter().chain(self.base.project(project)).find_map(|p| p.record_by_key(ns, &key))
    }
    /// Whether the record exists, without reading what it holds.
    pub fn has_record(&self, project: &ProjectId, ns: Namespace, id: &Id) -> bool {
        let key = record_key(ns, id.as_str());
        self.both(project).any(|p| p.has_record_by_key(ns, &key))
    }
    pub fn asset(&self, project: &ProjectId, id: &Id) -> Option<AssetRecord> {
        let key = record_key(Namespace::Asset, id.as_str());
        self.both(project).find_map(|p| p.assets.get(&key).copied())
    }
    /// The version of the rule sets a governed project is judged by (2 or 3; 0 for a legacy
    /// project or none).
    pub fn rule_set(&self, id: &ProjectId) -> u32 {
        let staged = self.changes.projects.get(id).map(|p| p.rule_set).filter(|v| *v != 0);
        staged.or_else(|| self.base.project(id).map(|p| p.rule_set)).unwrap_or(0)
    }
    /// Every asset recorded with these bytes, by the rules' key, in log order.
    /// The first asset recorded with these bytes, if any (one lookup, nothing collected).
    pub fn first_asset_with_bytes(&self, project: &ProjectId, digest: &[u8; 32]) -> Option<IdKey> {
        let key = bytes_key(digest);
        crate::domain::limits::tick(1);
        self.both(project).find_map(|p| p.bytes.get(&key).copied())
    }

    pub fn assets_with_bytes(&self, project: &ProjectId, digest: &[u8; 32]) -> Vec<IdKey> {
        let key = bytes_key(digest);
        let mut out: Vec<IdKey> = self.both(project).filter_map(|p| p.bytes.get(&key).copied()).collect();
        for state in self.both(project) {
            out.extend(state.bytes_more.get(&key).into_iter().flatten().copied());
        }
        crate::domain::limits::tick(out.len());
        out
    }
    /// The reference recorded with these bytes, if one was, and whether it is for reference
    /// only.
    pub fn reference_bytes(&self, project: &ProjectId, digest: &[u8; 32]) -> Option<&(Id, bool)> {
        let key = bytes_key(digest);
        self.both(project).find_map(|p| p.reference_bytes.get(&key))
    }
    /// The imported asset recorded with these bytes, if one was.
    pub fn imported_bytes(&self, project: &ProjectId, digest: &[u8; 32]) -> Option<&Id> {
        let key = bytes_key(digest);
        self.both(project).find_map(|p| p.imported_bytes.get(&key))
    }
    /// An asset by the rules' key.
    pub fn asset_at(&self, project: &ProjectId, key: &IdKey) -> Option<AssetRecord> {
        self.both(project).find_map(|p| p.assets.get(key).copied())
    }
    /// The assets an asset (by the rules' key) was made from.
    pub fn parents_at(&self, project: &ProjectId, key: &IdKey) -> Vec<&Id> {
        self.both(project).find_map(|p| p.parents.get(key)).map(|p| p.iter().collect()).unwrap_or_default()
    }
    /// The creative directors' decisions on an asset (by the rules' key) not retracted, oldest
    /// first.
    /// The latest creative director's decision on an asset (by the rules' key) not retracted that
    /// `counts`, without collecting the others: the newest first, staged ones before stored ones.
    pub fn latest_director_decision_at(
        &self,
        project: &ProjectId,
        key: &IdKey,
        counts: impl Fn(&DirectorDecision) -> bool,
    ) -> Option<&DirectorDecision> {
        let staged = self.changes.projects.get(project).and_then(|p| p.director_decisions.get(key));
        let stored = self.base.project(project).and_then(|p| p.director_decisions.get(key));
        staged
            .into_iter()
            .flat_map(|d| d.iter().rev())
            .chain(stored.into_iter().flat_map(|d| d.iter().rev()))
            .inspect(|_| crate::domain::limits::tick(1))
            .find(|d| counts(d) && !self.is_retracted(project, &d.event))
    }
    pub fn director_decisions_at(&self, project: &ProjectId, key: &IdKey) -> Vec<&DirectorDecision> {
        let all: Vec<&DirectorDecision> =
            self.both(project).flat_map(|p| p.director_decisions.get(key).into_iter().flatten()).collect();
        all.into_iter().filter(|d| !self.is_retracted(project, &d.event)).collect()
    }
    /// The assets an asset was made from (none for a generation's output without inputs).
    pub fn parents(&self, project: &ProjectId, asset: &Id) -> Vec<&Id> {
        let key = record_key(Namespace::Asset, asset.as_str());
        let parents: Vec<&Id> =
            self.both(project).find_map(|p| p.parents.get(&key)).map(|p| p.iter().collect()).unwrap_or_default();
        crate::domain::limits::tick(1 + parents.len());
        parents
    }
    /// Why an asset (or another record) may not go into a commercial delivery, if it may not.
    pub fn restriction(&self, project: &ProjectId, ns: Namespace, id: &Id) -> Option<&Restriction> {
        let key = record_key(ns, id.as_str());
        self.both(project).find_map(|p| p.restricted.get(&key))
    }
    /// The creative directors' selection decisions on an asset not retracted, oldest first.
    pub fn director_decisions(&self, project: &ProjectId, asset: &Id) -> Vec<&DirectorDecision> {
        let key = record_key(Namespace::Asset, asset.as_str());
        let all: Vec<&DirectorDecision> =
            self.both(project).flat_map(|p| p.director_decisions.get(&key).into_iter().flatten()).collect();
        crate::domain::limits::tick(all.len());
        all.into_iter().filter(|d| !self.is_retracted(project, &d.event)).collect()
    }
    /// The post edits made on top of an asset and not retracted, oldest first.
    pub fn superseded_by(&self, project: &ProjectId, asset: &Id) -> Vec<&Supersession> {
        let key = record_key(Namespace::Asset, asset.as_str());
        let all: Vec<&Supersession> =
            self.both(project).flat_map(|p| p.superseded_by.get(&key).into_iter().flatten()).collect();
        crate::domain::limits::tick(all.len());
        all.into_iter().filter(|s| !self.is_retracted(project, &s.event)).collect()
    }
    /// The retracted event that made an asset, if it was retracted.
    pub fn retracted_maker(&self, project: &ProjectId, asset: &AssetRecord) -> Option<&EventId> {
        self.both(project).find_map(|p| p.retracted_versions.get(&asset.made_at))
    }
    /// Who may retract an event, for the events whose retraction is limited.
    pub fn guard(&self, project: &ProjectId, event: &EventId) -> Option<&Guard> {
        self.both(project).find_map(|p| p.guarded.get(event))
    }
    /// The project version of an event of the project, staged or in the log.
    pub fn version_of_event(&self, project: &ProjectId, id: &EventId) -> Result<Option<u64>, LookupFailed> {
        if let Some((_, _, version)) = self.changes.events.iter().find(|(p, e, _)| p == project && e == id) {
            return Ok(Some(*version));
        }
        self.events.version_in_project(project, id)
    }
    pub fn has_event(&self, project: &ProjectId, id: &EventId) -> Result<bool, LookupFailed> {
        Ok(self.version_of_event(project, id)?.is_some())
    }
    pub fn is_retracted(&self, project: &ProjectId, id: &EventId) -> bool {
        self.changes.projects.get(project).is_some_and(|p| p.is_retracted(id))
            || self.base.project(project).is_some_and(|p| p.is_retracted(id))
    }
}
