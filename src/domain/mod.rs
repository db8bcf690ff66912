//! The pure core: events, identifiers, state and rules. No I/O (but for the random key of the
//! rules' id hashes, drawn once per process); imports no actix, sled or utoipa.

pub mod compact;
pub mod confidential;
pub mod event;
pub mod genesis;
pub mod ids;
pub mod limits;
pub mod payload;
pub use rules::policy;
pub mod profile;
pub mod refusal;
pub mod roles;
pub mod rules;
pub mod source_type;
pub mod state;

pub use event::{Body, Kind, PayloadError, Role};
pub use ids::{ActorId, Digest, EventId, Id, KeyId, OrganizationId, ProjectId};
pub use payload::Payload;
pub use refusal::{DecideError, Refusal};
pub use state::{Changes, Events, LedgerState, LookupFailed, NoEvents, SystemState, View};
