//! What the rules need to know about the ledger so far, and how each accepted event changes it.
//!
//! `apply` cannot fail: it is only called with events the rules accepted (or that were accepted
//! when they were written, on replay). Events of one request are staged in a [`Changes`] overlay
//! and merged only once the whole request is accepted, so a refused request leaves no trace.
//!
//! A folder by subject: the state's fields are `pub(super)`, open to these files and closed to
//! the rest of the crate, which reads the state through [`View`] and the methods here.

mod apply;
pub mod codec;
mod keys;
mod ledger;
mod project;
mod seal;
mod system;
mod view;

pub use apply::*;
pub use keys::*;
pub use ledger::*;
pub use project::*;
pub use system::*;
pub use view::*;

pub use super::compact::{KeyMap, KeySet};
use super::event::RuleSpec;
use super::event::*;
use super::ids::{ActorId, Digest, EventId, Id, KeyId, Label, OrganizationId, ProjectId, PublicKeyBytes};
use super::payload::Payload;
pub use super::refusal::LookupFailed;
use super::source_type::{inputs_of, made_by, SourceType};
use std::collections::{BTreeMap, HashMap, HashSet};
