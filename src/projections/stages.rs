//! Stage status: which of the six production stages are active, reopened or done, derived from
//! event kinds and explicit stage marks. Stages overlap and move in both directions.

use crate::domain::event::{Body, Stage, StageMark, Technique};
use crate::domain::state::named_assets;
use serde::Serialize;
use std::collections::BTreeSet;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StageStatus {
    pub stages: Vec<StageInfo>,
}

impl Default for StageStatus {
    fn default() -> Self {
        StageStatus {
            stages: STAGES
                .iter()
                .map(|&stage| StageInfo {
                    stage,
                    state: StageState::NotStarted,
                    first_activity: None,
                    last_activity: None,
                    event_count: 0,
                    assets: BTreeSet::new(),
                    times_reopened: 0,
                })
                .collect(),
        }
    }
}

fn index(stage: Stage) -> usize {
    STAGES.iter().position(|s| *s == stage).expect("every stage is listed")
}

impl StageStatus {
    fn is_open(&self, stage: Stage) -> bool {
        matches!(self.stages[index(stage)].state, StageState::Active | StageState::Reopened)
    }

    /// The stage an event belongs to. Generations count in production while production is open,
    /// otherwise in exploration; finishing edits (upres, colour, cleanup), reviews and
    /// approvals in refinement; reviews in whichever later stage is open.
    pub fn stage_of(&self, body: &Body) -> Option<Stage> {
        Some(match body {
            Body::ProjectCreated(_) | Body::BriefRecorded(_) | Body::BriefRevised(_) | Body::ReferenceAdded(_) => {
                Stage::Ideation
            }
            Body::ModelVersionRegistered(_) | Body::PipelineDefined(_) => Stage::Rnd,
            Body::PromptAuthored(_) | Body::GenerationRecorded(_) | Body::SelectionMade(_) => {
                if self.is_open(Stage::Production) {
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
                .find(|s| self.is_open(*s))
                .unwrap_or(Stage::Refinement),
            Body::ApprovalRecorded(_) => Stage::Refinement,
            Body::DeliveryRecorded(_) => Stage::Delivery,
            Body::StageMarked(b) => b.stage,
            _ => return None,
        })
    }

    /// Folds one event in (cannot fail).
    pub fn apply(&mut self, body: &Body, occurred_at: &str) -> Option<Stage> {
        let stage = self.stage_of(body)?;
        let info = &mut self.stages[index(stage)];
        match body {
            Body::StageMarked(b) => match b.mark {
                StageMark::Opened => {
                    if info.state != StageState::Reopened {
                        info.state = StageState::Active
                    }
                }
                StageMark::Completed => info.state = StageState::Completed,
                StageMark::Reopened => {
                    info.state = StageState::Reopened;
                    info.times_reopened += 1;
                }
            },
            _ => match info.state {
                StageState::NotStarted => info.state = StageState::Active,
                // Work on a finished stage reopens it.
                StageState::Completed => {
                    info.state = StageState::Reopened;
                    info.times_reopened += 1;
                }
                _ => {}
            },
        }
        info.event_count += 1;
        if info.first_activity.is_none() {
            info.first_activity = Some(occurred_at.to_owned());
        }
        info.last_activity = Some(occurred_at.to_owned());
        info.assets.extend(named_assets(body).into_iter().map(|a| a.to_string()));
        Some(stage)
    }

    /// Stages open at the same time.
    pub fn overlapping(&self) -> Vec<Stage> {
        STAGES.iter().copied().filter(|s| self.is_open(*s)).collect()
    }
}
