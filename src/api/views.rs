//! Response bodies.

use crate::crypto::dsse::Envelope;
use crate::log::Entry;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

/// One entry of the log, with its payload decoded for reading.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EntryView {
    /// Global position from 0; also the Merkle leaf index.
    pub sequence: u64,
    pub project: String,
    /// Position in the project's stream, from 1.
    pub version: u64,
    /// When the ledger received the event (RFC 3339, UTC, microseconds).
    pub received_at: String,
    pub event_id: String,
    pub kind: String,
    pub actor: String,
    pub key_id: String,
    /// Hex SHA-256 of the previous entry of the project (zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of this entry's leaf bytes.
    pub hash: String,
    /// Hex RFC 9162 leaf hash, SHA-256(0x00 || leaf bytes).
    pub leaf_hash: String,
    /// The DSSE envelope, byte for byte as it was submitted.
    #[schema(value_type = Object)]
    pub envelope: Box<RawValue>,
    /// The signed payload, decoded from base64: the JSON the signer signed, byte for byte.
    #[schema(value_type = Object)]
    pub payload: Box<RawValue>,
}

/// What a view shows of an entry's envelope and payload.
pub struct EntryHead {
    event_id: String,
    kind: String,
    actor: String,
    key_id: String,
    payload: Box<RawValue>,
}

impl EntryHead {
    /// From a submission, opened and parsed already.
    pub fn of(sub: &crate::ledger::Submission) -> Option<EntryHead> {
        let payload = RawValue::from_string(String::from_utf8(sub.opened.payload.clone()).ok()?).ok()?;
        Some(EntryHead {
            event_id: sub.payload.event_id.to_string(),
            kind: sub.payload.kind().as_str().to_owned(),
            actor: sub.payload.actor.to_string(),
            key_id: sub.opened.key_id.to_string(),
            payload,
        })
    }

    fn unreadable() -> EntryHead {
        EntryHead {
            event_id: String::new(),
            kind: String::new(),
            actor: String::new(),
            key_id: String::new(),
            payload: RawValue::from_string("null".into()).expect("null is JSON"),
        }
    }
}

/// The header fields a view shows, read without parsing the body into domain types.
#[derive(Deserialize)]
struct PayloadHead {
    event_id: String,
    kind: String,
    actor: String,
}

impl EntryView {
    pub fn of(entry: &Entry) -> EntryView {
        // A stored payload was parsed and checked when it was appended: the view reads only its
        // header fields and returns its bytes as they are.
        let head = Envelope::from_json(&entry.envelope).and_then(|e| e.open()).ok().and_then(|opened| {
            let head: PayloadHead = serde_json::from_slice(&opened.payload).ok()?;
            let payload = RawValue::from_string(String::from_utf8(opened.payload).ok()?).ok()?;
            Some(EntryHead {
                event_id: head.event_id,
                kind: head.kind,
                actor: head.actor,
                key_id: opened.key_id.to_string(),
                payload,
            })
        });
        EntryView::with_head(entry, head.unwrap_or_else(EntryHead::unreadable))
    }

    /// The view of an entry whose envelope was just opened.
    pub fn with_head(entry: &Entry, head: EntryHead) -> EntryView {
        let EntryHead { event_id, kind, actor, key_id, payload } = head;
        let envelope = std::str::from_utf8(&entry.envelope)
            .ok()
            .and_then(|text| RawValue::from_string(text.to_owned()).ok())
            .unwrap_or_else(|| RawValue::from_string("null".into()).expect("null is JSON"));
        EntryView {
            sequence: entry.sequence,
            project: entry.project.clone(),
            version: entry.version,
            received_at: entry.received_at().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            event_id,
            kind,
            actor,
            key_id,
            prev_hash: hex::encode(entry.prev_hash),
            hash: hex::encode(entry.hash),
            leaf_hash: hex::encode(entry.leaf_hash()),
            envelope,
            payload,
        }
    }
}

/// A page of entries; `next` is the cursor for the following page, absent at the end.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EntryPage {
    pub entries: Vec<EntryView>,
    /// The cursor of the next page: pass it as `after` (absent on the last page).
    pub next: Option<u64>,
}

/// The entries a batch produced, in the order of the envelopes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchResult {
    pub entries: Vec<AppendedEntry>,
}

/// The size of the log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Head {
    /// Number of durable entries; the next entry gets this sequence.
    pub size: u64,
    /// Hex hash of the last entry, absent when the log is empty.
    pub last_hash: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyView {
    pub key_id: String,
    pub public_key: String,
    pub revoked: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActorView {
    pub actor_id: String,
    pub display_name: String,
    /// The role it was registered with (in a governed project, its project role decides).
    pub role: String,
    /// Absent for the bootstrap admin and actors registered before organisations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    pub keys: Vec<KeyView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActorList {
    pub actors: Vec<ActorView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationView {
    pub organization_id: String,
    pub display_name: String,
    /// `agency`, `client` or `vendor`.
    pub kind: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationList {
    pub organizations: Vec<OrganizationView>,
}

/// A request for a read token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Who or what the token is for.
    pub name: String,
    /// Projects the token may read; absent for every project.
    #[serde(default)]
    pub projects: Option<Vec<String>>,
    /// Instead of `projects`: the projects of this organisation (made for it as client, or with
    /// a member of it), as membership changes.
    #[serde(default)]
    pub organization: Option<String>,
    /// Days until it expires, 1 to 3650 (default 90).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// Whether it reads the clear texts of confidential fields (prompts, briefs, talent) of the
    /// projects it may read (default false).
    #[serde(default)]
    pub confidential: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedToken {
    /// The bearer token; shown once, stored only as a hash.
    pub token: String,
    /// What the token is listed and revoked by (`GET /v1/tokens`, `DELETE /v1/tokens/{id}`).
    pub id: String,
    pub name: String,
    pub projects: Option<Vec<String>>,
    pub organization: Option<String>,
    pub confidential: bool,
    /// RFC 3339; absent when it does not expire.
    pub expires_at: Option<String>,
}

/// A token as listed: never its secret.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub projects: Option<Vec<String>>,
    pub organization: Option<String>,
    pub admin: bool,
    pub confidential: bool,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

/// Microseconds since the Unix epoch as RFC 3339.
pub fn rfc3339(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl TokenView {
    pub fn of(id: String, record: &crate::store::TokenRecord) -> TokenView {
        TokenView {
            id,
            name: record.name.clone(),
            projects: record.projects.clone(),
            organization: record.organization.clone(),
            admin: record.admin,
            confidential: record.confidential,
            created_at: rfc3339(record.created_at_us),
            expires_at: record.expires_at_us.map(rfc3339),
            revoked_at: record.revoked_at_us.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    /// On `/readyz`, after a start that resumed from the sealed state: the full check of the
    /// entries it covers, running or passed (a failed one answers 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_check: Option<StartCheckView>,
}

/// The background check of a start that resumed from a sealed state (docs/operations.md).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StartCheckView {
    /// `running` or `passed`.
    pub state: String,
    /// The entries the sealed state covers, which the check replays.
    pub covered: u64,
    /// How long the check took, once it passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
}

/// A batch of envelopes appended atomically.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchRequest {
    pub envelopes: Vec<crate::crypto::dsse::Envelope>,
}

/// An inclusion proof (RFC 9162 §2.1.3) of one entry in the tree of `tree_size` entries.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Hex RFC 9162 leaf hash.
    pub leaf_hash: String,
    /// Hex root of the tree of `tree_size` entries.
    pub root_hash: String,
    /// Hex hashes, from the leaf up.
    pub hashes: Vec<String>,
    /// The signed checkpoint of `tree_size` entries, when `tree_size` is the latest checkpoint's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// A consistency proof (RFC 9162 §2.1.4) between the trees of `from` and `to` entries.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    /// Hex root of the tree of `from` entries.
    pub from_root: String,
    /// Hex root of the tree of `to` entries.
    pub to_root: String,
    /// Hex hashes.
    pub hashes: Vec<String>,
}

/// An appended entry with, when asked for, its inclusion proof.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AppendedEntry {
    #[serde(flatten)]
    pub entry: EntryView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inclusion: Option<InclusionProof>,
}

/// One project as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectListing {
    pub project: String,
    /// The title its `project_created` gave it.
    pub title: Option<String>,
    /// `campaign`, `social` or `ecomm`.
    pub content_type: Option<String>,
    /// The client organisation the project is made for; absent for a legacy project.
    pub client_organization: Option<String>,
    /// Whether membership and the rule sets of its content type govern it (not a legacy project).
    pub governed: bool,
    /// The number of entries in its stream.
    pub events: u64,
    /// When the ledger received its last entry (RFC 3339).
    pub last_activity: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectList {
    pub projects: Vec<ProjectListing>,
}
