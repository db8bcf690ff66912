//! Where every log starts: the ledger's own actor and key, which sign only the genesis entry,
//! and that entry, which registers the bootstrap admin. One place for what the server writes at
//! first start and what every offline verifier assumes before the first entry.

use super::event::Role;
use super::ids::{ActorId, KeyId, Label, PublicKeyBytes};
use super::state::SystemState;
use chrono::{DateTime, Utc};

/// The actor whose key (`ledger.key`) signs checkpoints and the genesis entry.
pub const LEDGER_ACTOR: &str = "ledger";
pub const LEDGER_KEY_ID: &str = "ledger";
/// The bootstrap admin the genesis entry registers.
pub const ADMIN_ACTOR: &str = "admin";
pub const ADMIN_KEY_ID: &str = "admin-1";
/// The event id of the genesis entry.
pub const GENESIS_EVENT: &str = "genesis-admin";

/// The system state before the first entry: only the ledger itself, with its public key.
pub fn genesis_state(ledger_key: PublicKeyBytes) -> SystemState {
    SystemState::genesis(
        ActorId::parse(LEDGER_ACTOR).expect("constant id"),
        KeyId::parse(LEDGER_KEY_ID).expect("constant id"),
        ledger_key,
    )
}

/// The payload of the genesis entry: the ledger registers the bootstrap admin with its key.
pub fn genesis_payload(admin_key: &PublicKeyBytes, occurred_at: DateTime<Utc>) -> serde_json::Value {
    let display_name = Label::parse("Bootstrap admin").expect("constant label");
    serde_json::json!({
        "event_id": GENESIS_EVENT,
        "project": super::ids::SYSTEM_PROJECT,
        "kind": "actor_registered",
        "schema_version": 1,
        "actor": LEDGER_ACTOR,
        "occurred_at": occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "body": {
            "actor_id": ADMIN_ACTOR,
            "display_name": display_name.as_str(),
            "role": Role::Admin.as_str(),
            "keys": [{"key_id": ADMIN_KEY_ID, "public_key": admin_key.to_base64()}],
        }
    })
}
