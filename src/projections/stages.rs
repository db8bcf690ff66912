//! Stage status: which of the six production stages are active, reopened or done, derived from
//! event kinds and explicit stage marks. Stages overlap and move in both directions.
//!
//! The fold keeps only what classifying the next event needs (each stage's state) and, for each
//! stage, the assets its events named with the position of the first event that named them. The
//! status shown is replayed from the events' metadata — the whole project, or its first events
//! for an `as_of` — so that both answers come from one function and no earlier state is kept.

use super::EventMeta;
use crate::domain::event::{Body, Stage, StageMark, Technique};
use crate::domain::state::named_assets;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub const STAGES: [Stage; 6] =
    [Stage::Ideation, Stage::Rnd, Stage::Exploration, Stage::Production, Stage::Refinement, Stage::Delivery];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    NotStarted,
    Active,
    Completed,
    Reopened,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StageInfo {
    #[schema(value_type = String)]
    pub stage: Stage,
    pub state: StageState,
    /// `occurred_at` of the stage's first and last event (RFC 3339).
    pub first_activity: Option<String>,
    pub last_activity: Option<String>,
    pub event_count: u64,
    /// Assets named by the stage's events.
    pub assets: BTreeSet<String>,
    pub times_reopened: u32,
}

impl StageInfo {
    fn new(stage: Stage) -> StageInfo {
        StageInfo {
            stage,
            state: StageState::NotStarted,
            first_activity: None,
            last_activity: None,
            event_count: 0,
            assets: BTreeSet::new(),
            times_reopened: 0,
        }
    }
}

/// The state a stage moves to with one of its events: an explicit mark, or any other event
/// (work on a finished stage reopens it). The one transition the fold and the replay share.
fn transition(state: StageState, mark: Option<StageMark>) -> (StageState, bool) {
    match (mark, state) {
        (Some(StageMark::Opened), StageState::Reopened) => (StageState::Reopened, false),
        (Some(StageMark::Opened), _) => (StageState::Active, false),
        (Some(StageMark::Completed), _) => (StageState::Completed, false),
        (Some(StageMark::Reopened), _) => (StageState::Reopened, true),
        (None, StageState::NotStarted) => (StageState::Active, false),
        (None, StageState::Completed) => (StageState::Reopened, true),
        (None, state) => (state, false),
    }
}

/// What the fold keeps of the stages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageStatus {
    states: [StageState; 6],
    /// Per stage, every asset its events named, with the positions (among the project's events)
    /// of the events that named it there.
    assets: [BTreeMap<String, Vec<u32>>; 6],
}

impl Default for StageStatus {
    fn default() -> Self {
        StageStatus { states: [StageState::NotStarted; 6], assets: Default::default() }
    }
}

fn index(stage: Stage) -> usize {
    STAGES.iter().position(|s| *s == stage).expect("every stage is listed")
}

fn is_open(state: StageState) -> bool {
    matches!(state, StageState::Active | StageState::Reopened)
}

impl StageStatus {
    /// The stage an event belongs to. Generations count in production while production is open,
    /// otherwise in exploration; finishing edits (upres, colour, cleanup), reviews and
    /// approvals in refinement; reviews in whichever later stage is open.
    pub fn stage_of(&self, body: &Body) -> Option<Stage> {
        let open = |stage: Stage| is_open(self.states[index(stage)]);
        Some(match body {
            Body::ProjectCreated(_) | Body::BriefRecorded(_) | Body::BriefRevised(_) | Body::ReferenceAdded(_) => {
                Stage::Ideation
            }
            Body::ModelVersionRegistered(_) | Body::PipelineDefined(_) => Stage::Rnd,
            Body::AssetImported(_) => Stage::Production,
            Body::PromptAuthored(_) | Body::GenerationRecorded(_) | Body::SelectionMade(_) => {
                if open(Stage::Production) {
                    Stage::Production
                } else {
                    Stage::Exploration
                }
            }
            Body::PostEditApplied(b) => match b.technique {
                Technique::Retouch | Technique::Cg | Technique::Compositing => Stage::Production,
                Technique::Upres | Technique::Colour | Technique::Cleanup => Stage::Refinement,
            },
            Body::QcReviewRecorded(_) => [Stage::Delivery, Stage::Refinement, Stage::Production, Stage::Exploration]
                .into_iter()
                .find(|s| open(*s))
                .unwrap_or(Stage::Refinement),
            Body::ApprovalRecorded(_) => Stage::Refinement,
            Body::DeliveryRecorded(_) => Stage::Delivery,
            Body::StageMarked(b) => b.stage,
            _ => return None,
        })
    }

    /// Folds in the event at `position` among the project's events (cannot fail); returns its
    /// stage and mark, which its metadata keeps.
    pub fn apply(&mut self, body: &Body, position: u32) -> (Option<Stage>, Option<StageMark>) {
        let Some(stage) = self.stage_of(body) else { return (None, None) };
        let mark = match body {
            Body::StageMarked(b) => Some(b.mark),
            _ => None,
        };
        let i = index(stage);
        self.states[i] = transition(self.states[i], mark).0;
        for asset in named_assets(body) {
            let positions = self.assets[i].entry(asset.to_string()).or_default();
            if positions.last() != Some(&position) {
                positions.push(position);
            }
        }
        (Some(stage), mark)
    }

    /// The six stages as the project's first events (`events`, in order) left them. An event
    /// retracted among them counts for nothing: it neither moves its stage nor counts as its
    /// activity.
    pub fn view(&self, events: &[EventMeta]) -> Vec<StageInfo> {
        let mut infos: Vec<StageInfo> = STAGES.iter().map(|&s| StageInfo::new(s)).collect();
        let within = events.len();
        for meta in events.iter().filter(|m| !m.retracted_within(within)) {
            let Some(stage) = meta.stage else { continue };
            let info = &mut infos[index(stage)];
            let (state, reopened) = transition(info.state, meta.mark);
            info.state = state;
            info.times_reopened += u32::from(reopened);
            info.event_count += 1;
            let occurred = meta.occurred_at();
            if info.first_activity.is_none() {
                info.first_activity = Some(occurred.clone());
            }
            info.last_activity = Some(occurred);
        }
        // An asset is the stage's when an event of it that counts (not retracted) named it.
        let counts = |p: u32| events.get(p as usize).is_some_and(|m| !m.retracted_within(within));
        for (info, assets) in infos.iter_mut().zip(&self.assets) {
            info.assets = assets
                .iter()
                .filter(|(_, positions)| positions.iter().any(|p| counts(*p)))
                .map(|(a, _)| a.clone())
                .collect();
        }
        infos
    }

    /// About how many bytes the asset maps hold on the heap (names counted at a typical length).
    pub fn heap_bytes(&self) -> usize {
        const STAGE_ASSET: usize = 96;
        let positions: usize = self.assets.iter().flat_map(|a| a.values()).map(|p| p.capacity() * 4).sum();
        self.assets.iter().map(BTreeMap::len).sum::<usize>() * STAGE_ASSET + positions
    }
}

/// Stages open at the same time, in a view.
pub fn overlapping(view: &[StageInfo]) -> Vec<Stage> {
    view.iter().filter(|info| is_open(info.state)).map(|info| info.stage).collect()
}
