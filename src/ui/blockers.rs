//! What still blocks delivery: every asset a person selected or approved that is the latest of
//! its line (no later edit took it as its base, not itself a delivered variant), judged for each
//! deliverable format of the briefs and each medium by the append's own evaluator — the answer
//! `…/readiness` gives, for the whole project at once. A page's judgements share one budget of
//! work — that of one request (`limits::MAX_WORK_PER_REQUEST` steps) and [`PAGE_JUDGING`] of
//! time: what it does not reach is shown as not judged, never judged at a greater cost.

use super::facts::ProjectFacts;
use crate::domain::event::{DeliveryMedium, Usage};
use crate::domain::ids::{Id, Label};
use crate::domain::policy::{self, Intent};
use crate::domain::{Changes, NoEvents, ProjectId, View};
use crate::projections::ProjectProjection;

/// At most this many candidates are judged for a project's page, and for each project of the
/// projects list; at most this many formats (the briefs' first, in order) for each: a page's
/// work is bounded whatever the briefs and selections hold.
pub const MAX_CANDIDATES: usize = 100;
pub const LISTED_CANDIDATES: usize = 20;
pub const MAX_FORMATS: usize = 6;
pub const MEDIA: [DeliveryMedium; 3] = [DeliveryMedium::Digital, DeliveryMedium::Print, DeliveryMedium::LargeFormat];

/// One candidate for delivery and how each way of delivering it is judged.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub asset: String,
    pub selected: bool,
    pub approved: bool,
    pub delivered: bool,
    /// For each (format, medium): `None` when ready, else the first failing rule and what it
    /// misses.
    pub ways: Vec<Way>,
    /// Whether the page's budget of work ran out before this candidate was judged whole.
    pub unjudged: bool,
}

/// How long a page may spend judging, whatever the steps counted: an evaluation walks an
/// asset's whole ancestry (up to `limits::MAX_LINEAGE_LINKS` links, milliseconds), so steps alone
/// do not bound a page of a hundred candidates.
pub const PAGE_JUDGING: std::time::Duration = std::time::Duration::from_millis(250);

/// The work a page's judgements have spent so far: steps, as the rules count them, and time.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    spent: u64,
    started: std::time::Instant,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { spent: 0, started: std::time::Instant::now() }
    }
}

impl Budget {
    pub fn spent(&self) -> bool {
        self.spent > crate::domain::limits::MAX_WORK_PER_REQUEST || self.started.elapsed() > PAGE_JUDGING
    }
}

/// A format and a medium, and the first rule that blocks delivering that way with what it
/// misses (`None`: ready).
pub type Way = (String, DeliveryMedium, Option<(String, String)>);

impl Candidate {
    pub fn ready_somewhere(&self) -> bool {
        self.ways.iter().any(|(_, _, failure)| failure.is_none())
    }
}

/// The project's candidates, judged (at most `limit` of them, each for at most [`MAX_FORMATS`]
/// formats); the count of all of them too.
pub fn judge(
    p: &ProjectProjection,
    project: &ProjectId,
    facts: &ProjectFacts,
    limit: usize,
    budget: &mut Budget,
) -> (Vec<Candidate>, usize) {
    let mut formats: Vec<String> = Vec::new();
    for format in facts.briefs.iter().flat_map(|b| b.formats.iter()) {
        if formats.len() == MAX_FORMATS {
            break;
        }
        if !formats.contains(format) {
            formats.push(format.clone());
        }
    }
    let candidates: Vec<_> = facts
        .assets
        .iter()
        .filter(|a| !a.retracted && a.master.is_none() && !a.edited_further)
        .filter(|a| a.selected || a.approvals.iter().any(|x| !x.retracted))
        .collect();
    let total = candidates.len();
    let changes = Changes::default();
    let view = View { base: &p.rules, changes: &changes, events: &NoEvents };
    let now_us = chrono::Utc::now().timestamp_micros();
    let judged = candidates
        .into_iter()
        .take(limit)
        .map(|a| {
            let id = Id::parse(&a.id).ok();
            let mut ways = Vec::new();
            let mut unjudged = false;
            for format in &formats {
                let (Some(id), Ok(label)) = (&id, Label::parse(format)) else { continue };
                for medium in MEDIA {
                    if budget.spent() {
                        unjudged = true;
                        break;
                    }
                    let intent = Intent::Delivery {
                        master: id,
                        medium,
                        format: &label,
                        usage: Usage::Commercial,
                        occurred_at_us: now_us,
                    };
                    let assessment = crate::domain::limits::metered(|| policy::evaluate(&view, project, intent));
                    let failure =
                        assessment.first_failure().map(|(rule, missing)| (rule.to_owned(), missing.to_owned()));
                    ways.push((format.clone(), medium, failure));
                }
            }
            Candidate {
                asset: a.id.clone(),
                selected: a.selected,
                approved: a
                    .approvals
                    .iter()
                    .any(|x| !x.retracted && x.decision == crate::domain::event::Decision::Approved),
                delivered: !a.delivered_as.is_empty(),
                ways,
                unjudged,
            }
        })
        .collect();
    (judged, total)
}

/// The medium as the API names it.
pub fn medium_name(medium: DeliveryMedium) -> &'static str {
    match medium {
        DeliveryMedium::Digital => "digital",
        DeliveryMedium::Print => "print",
        DeliveryMedium::LargeFormat => "large format",
    }
}
