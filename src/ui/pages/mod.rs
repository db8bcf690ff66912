//! One file per page. Each parses its request, reads through the API's own queries off the
//! async workers, and renders.

pub mod asset;
pub mod assets;
pub mod history;
pub mod models;
pub mod project;
pub mod projects;

use super::UiError;
use crate::api::problem::ApiError;
use crate::api::state::AppState;
use crate::domain::ProjectId;
use actix_web::web;
use std::collections::HashMap;

/// The highest page number a paged page takes (past it, pages are empty).
pub const MAX_PAGE: usize = 1_000_000;

/// Runs a page's reads in one of the long-read slots.
async fn read<T: Send + 'static>(
    state: &web::Data<AppState>,
    work: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, UiError> {
    let shared = state.clone();
    Ok(state.reads.run(move || work(&shared)).await?)
}

/// What the pages show of a project, as it stands: its retracted events (the projection knows
/// them) count for nothing.
fn facts_of(state: &AppState, project: &ProjectId) -> Result<crate::ui::facts::ProjectFacts, ApiError> {
    let retracted = crate::api::routes::projections::with_project(state, project, None, |p, at| {
        p.events[..at.events].iter().filter(|m| m.retracted_within(at.events)).map(|m| m.sequence).collect()
    })?;
    Ok(crate::ui::facts::ProjectFacts::read(&state.ledger, project, &retracted)?)
}

/// The project of a path, once the viewer may read it.
fn readable(viewer: &super::Viewer, state: &AppState, raw: &str) -> Result<ProjectId, UiError> {
    let project = crate::api::extract::parse_project(raw)?;
    viewer.reader.project(&state.ledger, project.as_str())?;
    Ok(project)
}

/// People's and organisations' names, by id, as the system stream registers them.
#[derive(Default)]
pub struct Names {
    actors: HashMap<String, String>,
    organizations: HashMap<String, String>,
}

impl Names {
    /// The names of the actors and organisations a page shows (looked up one by one: a page
    /// costs what it shows, not what the system stream holds).
    fn of<'a>(
        state: &AppState,
        actors: impl IntoIterator<Item = &'a str>,
        organizations: impl IntoIterator<Item = &'a str>,
    ) -> Names {
        use crate::domain::ids::{ActorId, OrganizationId};
        state.ledger.with_system(|system| {
            let mut names = Names::default();
            for id in actors {
                if names.actors.contains_key(id) {
                    continue;
                }
                let name = ActorId::parse(id).ok().and_then(|a| system.actor(&a).map(|a| a.display_name.to_string()));
                names.actors.insert(id.to_owned(), name.unwrap_or_else(|| id.to_owned()));
            }
            for id in organizations {
                let org = OrganizationId::parse(id).ok();
                let name = org.and_then(|o| system.organization(&o).map(|o| o.display_name.to_string()));
                names.organizations.insert(id.to_owned(), name.unwrap_or_else(|| id.to_owned()));
            }
            names
        })
    }

    pub fn actor<'a>(&'a self, id: &'a str) -> &'a str {
        self.actors.get(id).map_or(id, String::as_str)
    }

    pub fn organization<'a>(&'a self, id: &'a str) -> &'a str {
        self.organizations.get(id).map_or(id, String::as_str)
    }
}

/// The stage as people say it.
pub fn stage_name(stage: crate::domain::event::Stage) -> &'static str {
    use crate::domain::event::Stage;
    match stage {
        Stage::Ideation => "Ideation & references",
        Stage::Rnd => "R&D",
        Stage::Exploration => "Exploration",
        Stage::Production => "Production",
        Stage::Refinement => "Refinement",
        Stage::Delivery => "Delivery",
    }
}

/// A stage state's chip tone and words.
pub fn state_chip(state: crate::projections::stages::StageState) -> (&'static str, &'static str) {
    use crate::projections::stages::StageState;
    match state {
        StageState::NotStarted => ("idle", "not started"),
        StageState::Active => ("info", "active"),
        StageState::Completed => ("good", "completed"),
        StageState::Reopened => ("warn", "reopened"),
    }
}
