//! What the pages show of a project, read in one pass over its entries: its title and client,
//! its briefs' formats and channels, every asset (how it was made, by which model version and
//! pipeline, selections, QC, approvals, deliveries, retractions). A page reads the project once; the cost is linear in the project's entries.

use crate::domain::event::{Body, CheckResult, ContentType, Decision, QcCheck, Verdict};
use crate::domain::{Payload, ProjectId};
use crate::ledger::Ledger;
use crate::log::open_entry;
use crate::store::StoreError;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Entries read per store call.
const PAGE: usize = 1000;

#[derive(Debug, Default)]
pub struct ProjectFacts {
    pub title: String,
    /// The client's name as the project gives it, and its organisation.
    pub client_name: Option<String>,
    pub client_organization: Option<String>,
    pub content_type: Option<ContentType>,
    pub briefs: Vec<Brief>,
    pub assets: Vec<Asset>,
    index: HashMap<String, usize>,
    /// Model versions registered in the project: id → "provider family version".
    pub models: BTreeMap<String, String>,
    pub events: u64,
    pub last_activity_us: i64,
}

#[derive(Debug, Clone)]
pub struct Brief {
    pub id: String,
    pub title: String,
    pub formats: Vec<String>,
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Asset {
    pub id: String,
    pub sequence: u64,
    /// `generation`, `post edit`, `import` or `delivery`.
    pub made_by: &'static str,
    pub digest: String,
    pub media_type: String,
    /// The model version and pipeline it comes from: its generation's, or (for an edit or a
    /// delivered variant) its base's.
    pub model_version: Option<String>,
    pub pipeline: Option<String>,
    /// Whether the latest selection that named it selected it, or rejected it.
    pub selected: bool,
    pub rejected: bool,
    pub reviews: Vec<Review>,
    pub approvals: Vec<Approval>,
    /// The variants delivered from it, and for a variant its master.
    pub delivered_as: Vec<String>,
    pub master: Option<String>,
    /// Whether a post edit took it as its base.
    pub edited_further: bool,
    /// Whether its making was retracted.
    pub retracted: bool,
}

#[derive(Debug, Clone)]
pub struct Review {
    pub passed: bool,
    pub failed: Vec<QcCheck>,
    pub large_format: bool,
    pub retracted: bool,
}

#[derive(Debug, Clone)]
pub struct Approval {
    pub decision: Decision,
    pub retracted: bool,
}

impl Asset {
    /// An asset as the event that recorded `output` made it (nothing yet of what followed).
    fn made(body: &Body, sequence: u64, output: &crate::domain::event::AssetOutput) -> Asset {
        let made_by = match body {
            Body::GenerationRecorded(_) => "generation",
            Body::AssetImported(_) => "import",
            Body::PostEditApplied(_) => "post edit",
            _ => "delivery",
        };
        Asset {
            id: output.asset_id.to_string(),
            sequence,
            made_by,
            digest: output.digest.to_string(),
            media_type: output.media_type.to_string(),
            ..Asset::default()
        }
    }
}

impl ProjectFacts {
    /// Reads the project's entries (all of them, in order) and folds them as they stand: an
    /// event a retraction took back counts for nothing (an asset it made is kept, marked
    /// retracted, and nothing it did to others stands). `retracted` holds those events'
    /// sequences (the projection knows them).
    pub fn read(ledger: &Ledger, project: &ProjectId, retracted: &HashSet<u64>) -> Result<ProjectFacts, StoreError> {
        let mut facts = ProjectFacts::default();
        let mut from = 1;
        loop {
            let page = ledger.project_entries(project.as_str(), from, PAGE)?;
            for entry in &page {
                let (_, payload) = open_entry(entry)
                    .map_err(|e| StoreError::Corrupt { sequence: entry.sequence, reason: e.to_string() })?;
                facts.apply(entry.sequence, entry.received_at_us, &payload, retracted.contains(&entry.sequence));
            }
            if page.len() < PAGE {
                return Ok(facts);
            }
            from += page.len() as u64;
        }
    }

    fn apply(&mut self, sequence: u64, received_at_us: i64, payload: &Payload, retracted: bool) {
        self.events += 1;
        self.last_activity_us = self.last_activity_us.max(received_at_us);
        if retracted {
            self.made_by_retracted(&payload.body, sequence);
            return;
        }
        match &payload.body {
            Body::ProjectCreated(b) => {
                self.title = b.title.to_string();
                self.client_name = b.client.as_ref().map(|c| c.to_string());
                self.client_organization = b.client_organization.as_ref().map(|c| c.to_string());
                self.content_type = Some(b.content_type);
            }
            Body::ProjectAdopted(b) => self.client_organization = Some(b.client_organization.to_string()),
            Body::BriefRecorded(b) => self.briefs.push(Brief {
                id: b.brief_id.to_string(),
                title: b.title.to_string(),
                formats: b.deliverable_formats.iter().map(|f| f.to_string()).collect(),
                channels: b.channels.iter().map(|c| c.to_string()).collect(),
            }),
            Body::BriefRevised(b) => {
                if let (Some(brief), Some(formats)) =
                    (self.briefs.iter_mut().find(|x| x.id == b.brief_id.as_str()), &b.deliverable_formats)
                {
                    brief.formats = formats.iter().map(|f| f.to_string()).collect();
                }
            }
            Body::ModelVersionRegistered(b) => {
                let name = format!("{} {} {}", b.provider, b.family, b.version);
                self.models.insert(b.model_version_id.to_string(), name);
            }
            body => self.apply_work(body, sequence),
        }
    }

    /// The assets a retracted event made: listed, marked retracted, with nothing else of it.
    fn made_by_retracted(&mut self, body: &Body, sequence: u64) {
        for output in crate::domain::state::recorded_outputs(body) {
            self.add(Asset { retracted: true, ..Asset::made(body, sequence, output) });
        }
    }

    fn apply_work(&mut self, body: &Body, sequence: u64) {
        let made = |o| Asset::made(body, sequence, o);
        match body {
            Body::GenerationRecorded(b) => {
                for o in &b.outputs {
                    let mut a = made(o);
                    a.model_version = Some(b.model_version.to_string());
                    a.pipeline = b.pipeline.as_ref().map(|p| p.to_string());
                    self.add(a);
                }
            }
            Body::AssetImported(b) => {
                let o = &b.asset;
                self.add(made(o));
            }
            Body::PostEditApplied(b) => {
                let o = &b.output;
                let mut a = made(o);
                if let Some(base) = b.inputs.first().and_then(|i| self.index.get(i.as_str()).copied()) {
                    self.assets[base].edited_further = true;
                    a.model_version = self.assets[base].model_version.clone();
                    a.pipeline = self.assets[base].pipeline.clone();
                }
                self.add(a);
            }
            Body::DeliveryRecorded(b) => {
                let o = &b.variant;
                let mut a = made(o);
                a.master = Some(b.master_asset.to_string());
                if let Some(&m) = self.index.get(b.master_asset.as_str()) {
                    self.assets[m].delivered_as.push(o.asset_id.to_string());
                    a.model_version = self.assets[m].model_version.clone();
                    a.pipeline = self.assets[m].pipeline.clone();
                }
                self.add(a);
            }
            Body::SelectionMade(b) => {
                for (ids, selected) in [(&b.selected, true), (&b.rejected, false)] {
                    for id in ids {
                        // The latest decision on an asset is the one that stands.
                        if let Some(&i) = self.index.get(id.as_str()) {
                            self.assets[i].selected = selected;
                            self.assets[i].rejected = !selected;
                        }
                    }
                }
            }
            Body::QcReviewRecorded(b) => {
                if let Some(&i) = self.index.get(b.asset.as_str()) {
                    let of = |r: CheckResult| b.checks.iter().filter(|c| c.result == r).map(|c| c.check).collect();
                    self.assets[i].reviews.push(Review {
                        passed: b.verdict == Verdict::Pass,
                        failed: of(CheckResult::Fail),
                        large_format: b.proof_medium == crate::domain::event::ProofMedium::LargeFormat,
                        retracted: false,
                    });
                }
            }
            Body::ApprovalRecorded(b) => {
                if let Some(&i) = self.index.get(b.asset.as_str()) {
                    self.assets[i].approvals.push(Approval { decision: b.decision, retracted: false });
                }
            }
            _ => {}
        }
    }

    fn add(&mut self, asset: Asset) {
        if self.index.contains_key(&asset.id) {
            return;
        }
        self.index.insert(asset.id.clone(), self.assets.len());
        self.assets.push(asset);
    }
}
