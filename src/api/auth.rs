//! Who reads, and what the token lets it read (the grant, judged against the durable log); how
//! a request is authenticated is [`super::bearer`].

use super::problem::{ApiError, ProblemType};
use crate::domain::state::ActorState;
use crate::domain::{ActorId, ProjectId};
use crate::ledger::Ledger;
use crate::store::TokenRecord;

/// A valid bearer token (or a browser session standing for one) and what it grants.
#[derive(Clone)]
pub struct Reader(TokenRecord, [u8; 32]);

impl Reader {
    /// The reader a token's grant stands for (`hash` the token's SHA-256).
    pub fn of_grant(grant: TokenRecord, hash: [u8; 32]) -> Reader {
        Reader(grant, hash)
    }

    /// The SHA-256 of the token, and its id (as tokens are listed).
    pub fn token(&self) -> ([u8; 32], String) {
        (self.1, crate::api::tokens::id_of(&self.1))
    }

    /// Whether the token may do everything.
    pub fn is_admin(&self) -> bool {
        self.0.admin
    }

    /// The same token reading no more than an organisation's projects: itself, if it already
    /// reads no more than that or some projects only.
    pub fn narrowed_to(&self, organization: &str) -> Reader {
        let mut grant = self.0.clone();
        if !self.is_scoped() {
            grant.organization = Some(organization.to_owned());
        }
        Reader(grant, self.1)
    }

    /// The token's name, as issued.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    fn forbidden(detail: String) -> ApiError {
        ApiError::new(ProblemType::Forbidden, detail)
    }

    /// The organisation the token is scoped to, if it is.
    pub fn organization(&self) -> Option<&str> {
        self.0.organization.as_deref()
    }

    /// Whether the token is limited to some projects (listed, or an organisation's).
    pub fn is_scoped(&self) -> bool {
        self.0.projects.is_some() || self.0.organization.is_some()
    }

    /// Whether the token may read a project: every project, a listed one, or one of its
    /// organisation's — made for it as client, or with a member of it — as the durable log
    /// says now.
    pub fn may_read(&self, ledger: &Ledger, project: &str) -> bool {
        // Never the system stream with a scoped token, whatever it lists.
        if self.is_scoped() && project == crate::domain::ids::SYSTEM_PROJECT {
            return false;
        }
        if let Some(list) = &self.0.projects {
            return list.iter().any(|p| p == project);
        }
        let Some(organization) = &self.0.organization else { return true };
        let Ok(id) = ProjectId::parse(project) else { return false };
        let directory = ledger.directory();
        let Some(governance) = directory.get(&id) else { return false };
        if governance.client.as_ref().is_some_and(|c| c.as_str() == organization) {
            return true;
        }
        ledger.with_system(|system| {
            governance.members.keys().any(|actor| {
                system.actor(actor).and_then(|a| a.organization.as_ref()).is_some_and(|o| o.as_str() == organization)
            })
        })
    }

    /// Whether an actor is among what a scoped token sees: of its organisation, or a member of a
    /// project it may read.
    pub fn may_see_actor(&self, ledger: &Ledger, actor: &ActorId, state: &ActorState) -> bool {
        if !self.is_scoped() {
            return true;
        }
        if let (Some(org), Some(own)) = (&self.0.organization, &state.organization) {
            if own.as_str() == org {
                return true;
            }
        }
        let directory = ledger.directory();
        directory.iter().any(|(project, g)| g.members.contains_key(actor) && self.may_read(ledger, project.as_str()))
    }

    pub fn project(&self, ledger: &Ledger, project: &str) -> Result<(), ApiError> {
        if self.may_read(ledger, project) {
            Ok(())
        } else {
            Err(Self::forbidden(format!("the token `{}` may not read project `{project}`", self.0.name)))
        }
    }

    /// An entry found by sequence or event id, for this token: one of a project the token may
    /// not read gets the answer a missing one gets, so that a scoped reader learns neither
    /// which project holds it nor whether an event id exists.
    pub fn entry(
        &self,
        ledger: &Ledger,
        entry: Option<crate::log::Entry>,
        what: &str,
    ) -> Result<crate::log::Entry, ApiError> {
        match entry {
            Some(entry) if self.may_read(ledger, &entry.project) => Ok(entry),
            _ if self.is_scoped() => Err(ApiError::not_found(format!(
                "{what} is not in the log, or not in a project the token `{}` may read",
                self.0.name
            ))),
            _ => Err(ApiError::not_found(format!("{what} is not in the log"))),
        }
    }

    /// Refuses a token scoped to some projects, saying why the endpoint needs one for every
    /// project.
    pub fn everything_for(&self, why: &str) -> Result<(), ApiError> {
        if self.is_scoped() {
            Err(Self::forbidden(format!("the token `{}` is scoped to some projects; {why}", self.0.name)))
        } else {
            Ok(())
        }
    }

    pub fn everything(&self) -> Result<(), ApiError> {
        self.everything_for("this endpoint needs a token for every project")
    }

    /// A token that may read the project and was granted its confidential clear texts.
    pub fn confidential(&self, ledger: &Ledger, project: &str) -> Result<(), ApiError> {
        self.project(ledger, project)?;
        if self.0.confidential || self.0.admin {
            Ok(())
        } else {
            Err(Self::forbidden(format!(
                "the token `{}` is not granted confidential texts: issue one with \"confidential\": true",
                self.0.name
            )))
        }
    }

    pub fn admin(&self) -> Result<(), ApiError> {
        if self.0.admin {
            Ok(())
        } else {
            Err(Self::forbidden(format!("the token `{}` is not an admin token", self.0.name)))
        }
    }
}
