//! The rules' table of tests.

use super::*;
use crate::domain::ids::PublicKeyBytes;
use crate::domain::payload::Payload;
use crate::domain::state::{Changes, Events, Facts, LedgerState, LookupFailed, NoEvents, SystemState};
use crate::domain::{ActorId, EventId};
use serde_json::{json, Value};

const KEY: [u8; 32] = [
    0x3b, 0x6a, 0x27, 0xbc, 0xce, 0xb6, 0xa4, 0x2d, 0x62, 0xa3, 0xa8, 0xd0, 0x2a, 0x6f, 0x0d, 0x73, 0x65, 0x32, 0x15,
    0x77, 0x1d, 0xe2, 0x43, 0xa6, 0x3a, 0xc0, 0x48, 0xa1, 0x8b, 0x59, 0xda, 0x29,
];

fn payload(project: &str, actor: &str, kind: &str, body: Value) -> Payload {
    let json = json!({"event_id": format!("e-{}", rand_id()), "project": project, "kind": kind,
        "schema_version": 1, "actor": actor, "occurred_at": "2026-01-01T00:00:00Z", "body": body});
    // Read as stored: at schema_version 1 the project is a legacy one, whose reference
    // rules are the governed projects' too.
    Payload::read(&serde_json::to_vec(&json).unwrap()).unwrap()
}

/// Where an event lands, for rules that do not look at it.
fn at() -> Position {
    Position { version: 1, received_at_us: 0 }
}

/// The refusal of a decision whose lookups cannot fail.
fn refused(e: DecideError) -> Refusal {
    match e {
        DecideError::Refused(r) => r,
        DecideError::Lookup(e) => panic!("{e}"),
    }
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn asset(id: &str, digest: &str) -> Value {
    json!({"asset_id": id, "digest": format!("sha256:{}", digest.repeat(64)), "media_type": "image/png"})
}

/// A project `p` with a brief, a reference, a model version, a prompt and assets `a` and `b`.
fn state() -> LedgerState {
    let system = SystemState::genesis(
        ActorId::parse("ledger").unwrap(),
        KeyId::parse("ledger").unwrap(),
        PublicKeyBytes::from_bytes(KEY).unwrap(),
    );
    let mut state = LedgerState::new(system);
    for (kind, body) in [
        ("project_created", json!({"content_type": "campaign", "title": "t"})),
        ("brief_recorded", json!({"brief_id": "brief", "title": "t", "text": "t"})),
        (
            "reference_added",
            json!({"reference_id": "ref", "category": "visual", "title": "t", "source": "s", "rights": {"status": "owned"}}),
        ),
        (
            "model_version_registered",
            json!({"model_version_id": "mv", "provider": "p", "family": "f", "version": "1", "license": "l", "training_data_statement": "s"}),
        ),
        ("prompt_authored", json!({"prompt_id": "pr", "text": "t"})),
        (
            "generation_recorded",
            json!({"generation_id": "g", "model_version": "mv", "prompt": "pr", "outputs": [asset("a", "a"), asset("b", "b")]}),
        ),
    ] {
        let p = payload("p", "x", kind, body);
        let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
        decide(&view, &p, at()).unwrap_or_else(|r| panic!("{kind}: {r}"));
        state.apply(&p, at(), Facts::default());
    }
    state
}

type Case = (&'static str, Value, Result<(), (&'static str, &'static str)>);

/// Decides one event against the fixture; `Ok(())` or the refusal's slug and field.
fn check(kind: &str, body: Value, expected: Result<(), (&str, &str)>) {
    let state = state();
    let project = if kind.starts_with("actor") || kind.starts_with("key") { "system" } else { "p" };
    let p = payload(project, "x", kind, body.clone());
    let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
    let got = decide(&view, &p, at()).map_err(refused).map_err(|r| {
        let field = match &r {
            Refusal::UnknownReference { field, .. }
            | Refusal::DuplicateId { field, .. }
            | Refusal::DigestMismatch { field, .. }
            | Refusal::Invalid { field, .. } => field.clone(),
            _ => String::new(),
        };
        (r.slug(), field)
    });
    let expected = expected.map_err(|(slug, field)| (slug, field.to_owned()));
    assert_eq!(got, expected, "{kind} {body}");
}

#[test]
fn references_resolve_inside_the_project() {
    let ok = Ok(());
    let unknown = |field| Err(("unknown-reference", field));
    let cases: Vec<Case> = vec![
        (
            "prompt_authored",
            json!({"prompt_id": "pr2", "text": "t", "parent_prompt": "pr", "references": ["ref"], "brief_id": "brief"}),
            ok,
        ),
        (
            "prompt_authored",
            json!({"prompt_id": "pr2", "text": "t", "parent_prompt": "nope"}),
            unknown("body.parent_prompt"),
        ),
        (
            "prompt_authored",
            json!({"prompt_id": "pr2", "text": "t", "references": ["ref", "nope"]}),
            unknown("body.references[1]"),
        ),
        ("prompt_authored", json!({"prompt_id": "pr2", "text": "t", "brief_id": "nope"}), unknown("body.brief_id")),
        (
            "generation_recorded",
            json!({"generation_id": "g2", "model_version": "mv", "prompt": "pr", "input_assets": ["a"], "outputs": [asset("c", "c")]}),
            ok,
        ),
        (
            "generation_recorded",
            json!({"generation_id": "g2", "model_version": "mv", "prompt": "pr", "input_assets": ["z"], "outputs": [asset("c", "c")]}),
            unknown("body.input_assets[0]"),
        ),
        (
            "generation_recorded",
            json!({"generation_id": "g2", "model_version": "mv", "prompt": "pr", "pipeline": "pl", "outputs": [asset("c", "c")]}),
            unknown("body.pipeline"),
        ),
        (
            "pipeline_defined",
            json!({"pipeline_id": "pl", "name": "n", "steps": [{"name": "s", "tool": "t"}], "model_versions": ["mv", "mv9"]}),
            unknown("body.model_versions[1]"),
        ),
        (
            "post_edit_applied",
            json!({"edit_id": "e", "technique": "retouch", "tool": "t", "performed_by": "human", "inputs": ["a", "b"], "output": asset("c", "c")}),
            ok,
        ),
        (
            "post_edit_applied",
            json!({"edit_id": "e", "technique": "upres", "tool": "t", "performed_by": "ai", "inputs": ["a"], "output": asset("c", "c"), "model_version": "mv0"}),
            unknown("body.model_version"),
        ),
        (
            "delivery_recorded",
            json!({"delivery_id": "d", "master_asset": "q", "variant": asset("v", "e"), "format": "jpeg", "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en"}),
            unknown("body.master_asset"),
        ),
        (
            "approval_recorded",
            json!({"approval_id": "ap", "asset": "zz", "digest": format!("sha256:{}", "a".repeat(64)), "decision": "approved"}),
            unknown("body.asset"),
        ),
        ("note_added", json!({"text": "t", "assets": ["a", "b"]}), ok),
        ("event_retracted", json!({"event_id": "missing", "reason": "r"}), unknown("body.event_id")),
        ("brief_revised", json!({"brief_id": "brief", "text": "t", "reason": "r"}), ok),
    ];
    for (kind, body, expected) in cases {
        check(kind, body, expected);
    }
}

#[test]
fn new_records_are_new_and_digests_match() {
    let cases: Vec<Case> = vec![
        (
            "generation_recorded",
            json!({"generation_id": "g", "model_version": "mv", "prompt": "pr", "outputs": [asset("c", "c")]}),
            Err(("duplicate-id", "body.generation_id")),
        ),
        (
            "generation_recorded",
            json!({"generation_id": "g2", "model_version": "mv", "prompt": "pr", "outputs": [asset("a", "c")]}),
            Err(("duplicate-id", "body.outputs")),
        ),
        (
            "generation_recorded",
            json!({"generation_id": "g2", "model_version": "mv", "prompt": "pr", "outputs": []}),
            Err(("invalid-event", "body.outputs")),
        ),
        (
            "post_edit_applied",
            json!({"edit_id": "e", "technique": "cg", "tool": "t", "performed_by": "human", "inputs": [], "output": asset("c", "c")}),
            Err(("invalid-event", "body.inputs")),
        ),
        (
            "post_edit_applied",
            json!({"edit_id": "e", "technique": "cg", "tool": "t", "performed_by": "human", "inputs": ["a"], "output": asset("b", "c")}),
            Err(("duplicate-id", "body.output.asset_id")),
        ),
        (
            "qc_review_recorded",
            json!({"review_id": "r", "asset": "a", "digest": format!("sha256:{}", "a".repeat(64)), "checks": [{"check": "edges", "result": "pass"}], "proof_medium": "print", "proof_size": "A3", "verdict": "pass"}),
            Ok(()),
        ),
        (
            "qc_review_recorded",
            json!({"review_id": "r", "asset": "a", "digest": format!("sha256:{}", "b".repeat(64)), "checks": [{"check": "edges", "result": "pass"}], "proof_medium": "print", "proof_size": "A3", "verdict": "pass"}),
            Err(("digest-mismatch", "body.digest")),
        ),
        (
            "qc_review_recorded",
            json!({"review_id": "r", "asset": "a", "digest": format!("sha256:{}", "a".repeat(64)), "checks": [], "proof_medium": "print", "proof_size": "A3", "verdict": "pass"}),
            Err(("invalid-event", "body.checks")),
        ),
        (
            "qc_review_recorded",
            json!({"review_id": "r", "asset": "a", "digest": format!("sha256:{}", "a".repeat(64)), "checks": [{"check": "edges", "result": "pass"}, {"check": "edges", "result": "fail"}], "proof_medium": "print", "proof_size": "A3", "verdict": "fail"}),
            Err(("invalid-event", "body.checks")),
        ),
        (
            "selection_made",
            json!({"selection_id": "s", "round": 1, "selected": [], "rationale": "r"}),
            Err(("invalid-event", "body.selected")),
        ),
        (
            "selection_made",
            json!({"selection_id": "s", "round": 1, "selected": ["a"], "rejected": ["b"], "rationale": "r"}),
            Ok(()),
        ),
        (
            "selection_made",
            json!({"selection_id": "s", "round": 1, "selected": ["a"], "rejected": ["a"], "rationale": "r"}),
            Err(("invalid-event", "body.rejected")),
        ),
        ("prompt_authored", json!({"prompt_id": "pr", "text": "t"}), Err(("duplicate-id", "body.prompt_id"))),
        ("project_created", json!({"content_type": "ecomm", "title": "t"}), Err(("project-exists", ""))),
        (
            "key_added",
            json!({"actor_id": "ghost", "key": {"key_id": "k2", "public_key": "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="}}),
            Err(("unknown-actor", "")),
        ),
        (
            "key_revoked",
            json!({"actor_id": "ledger", "key_id": "nope", "reason": "r"}),
            Err(("invalid-event", "body.key_id")),
        ),
        ("key_revoked", json!({"actor_id": "ledger", "key_id": "ledger", "reason": "r"}), Ok(())),
        (
            "actor_registered",
            json!({"actor_id": "ledger", "display_name": "d", "role": "admin", "keys": [{"key_id": "k9", "public_key": "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="}]}),
            Err(("actor-exists", "")),
        ),
        (
            "actor_registered",
            json!({"actor_id": "new", "display_name": "d", "role": "admin", "keys": [{"key_id": "ledger", "public_key": "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="}]}),
            Err(("invalid-event", "body.keys")),
        ),
        (
            "actor_registered",
            json!({"actor_id": "new", "display_name": "d", "role": "admin", "keys": []}),
            Err(("invalid-event", "body.keys")),
        ),
    ];
    for (kind, body, expected) in cases {
        check(kind, body, expected);
    }
}

#[test]
fn a_staged_request_sees_its_own_events_and_leaves_no_trace_until_merged() {
    let mut state = state();
    let before = state.clone();
    let mut changes = Changes::default();
    let first = payload("p", "x", "prompt_authored", json!({"prompt_id": "pr2", "text": "t"}));
    let second = payload("p", "x", "prompt_authored", json!({"prompt_id": "pr3", "text": "t", "parent_prompt": "pr2"}));
    for p in [&first, &second] {
        let view = View { base: &state, changes: &changes, events: &NoEvents };
        decide(&view, p, at()).unwrap();
        changes.stage(&state, p, at(), Facts::default());
    }
    assert_eq!(state, before, "staging changes nothing");
    state.merge(changes);
    let again = payload("p", "x", "prompt_authored", json!({"prompt_id": "pr3", "text": "t"}));
    let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
    assert_eq!(refused(decide(&view, &again, at()).unwrap_err()).slug(), "duplicate-id");
}

#[test]
fn the_signer_must_own_an_active_key_and_a_role_that_allows_the_kind() {
    let state = state();
    let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
    let key = KeyId::parse("ledger").unwrap();
    let note = payload("p", "ledger", "note_added", json!({"text": "t"}));
    assert_eq!(check_signer(&view, &note, &key), Ok(()));
    let brief = payload("p", "ledger", "brief_recorded", json!({"brief_id": "b2", "title": "t", "text": "t"}));
    assert_eq!(check_signer(&view, &brief, &key).unwrap_err().slug(), "role-not-allowed");
    let someone = payload("p", "someone", "note_added", json!({"text": "t"}));
    assert_eq!(check_signer(&view, &someone, &key).unwrap_err().slug(), "key-not-actors");
    assert_eq!(check_signer(&view, &note, &KeyId::parse("other").unwrap()).unwrap_err().slug(), "unknown-key");
    let mut revoked = state.clone();
    revoked.apply(
        &payload("system", "ledger", "key_revoked", json!({"actor_id": "ledger", "key_id": "ledger", "reason": "r"})),
        at(),
        Facts::default(),
    );
    let view = View { base: &revoked, changes: &Changes::default(), events: &NoEvents };
    assert_eq!(check_signer(&view, &note, &key).unwrap_err().slug(), "revoked-key");
}

/// Events the log holds, by (project, event id).
struct Logged(Vec<(&'static str, String)>);

impl Events for Logged {
    fn version_in_project(&self, project: &ProjectId, event: &EventId) -> Result<Option<u64>, LookupFailed> {
        Ok(self.0.iter().position(|(p, e)| *p == project.as_str() && e == event.as_str()).map(|i| i as u64 + 1))
    }
}

#[test]
fn a_retraction_names_an_event_of_its_project_not_yet_retracted() {
    let base = state();
    let note = payload("p", "x", "note_added", json!({"text": "t"}));
    let logged = Logged(vec![("p", "in-p".into()), ("q", "in-q".into())]);
    let retract = |id: &str| payload("p", "x", "event_retracted", json!({"event_id": id, "reason": "r"}));
    // (staged before it in the same request, target, expected refusal slug)
    let cases: [(&[&Payload], String, Option<&str>); 5] = [
        (&[], "in-p".into(), None),
        (&[], "in-q".into(), Some("unknown-reference")),
        (&[], "nowhere".into(), Some("unknown-reference")),
        (&[&note], note.event_id.to_string(), None),
        (&[&retract("in-p")], "in-p".into(), Some("already-retracted")),
    ];
    for (i, (staged, target, expected)) in cases.into_iter().enumerate() {
        let mut changes = Changes::default();
        for earlier in staged {
            let view = View { base: &base, changes: &changes, events: &logged };
            decide(&view, earlier, at()).unwrap_or_else(|r| panic!("case {i}: {r}"));
            changes.stage(&base, earlier, at(), Facts::default());
        }
        let view = View { base: &base, changes: &changes, events: &logged };
        assert_eq!(decide(&view, &retract(&target), at()).err().map(|r| refused(r).slug()), expected, "case {i}");
    }
}

/// A delivery whose variant claims another asset's bytes: refused in a project of rule set
/// version 3 (created by an event that names its ledger), accepted in one created before.
#[test]
fn a_variant_carries_its_masters_bytes_in_a_project_of_the_current_rule_set() {
    let variant_of_b = json!({"delivery_id": "d", "master_asset": "a", "variant": asset("v", "b"), "format": "jpeg",
        "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en"});
    let own_bytes = json!({"delivery_id": "d", "master_asset": "a", "variant": asset("v", "a"), "format": "jpeg",
        "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en"});
    for (named, refused) in [(false, false), (true, true)] {
        let mut state = state();
        // The project as if created now (its creation names its ledger), or before.
        let mut json = json!({"event_id": "e-created", "project": "q", "kind": "project_created",
            "schema_version": 1, "actor": "x", "occurred_at": "2026-01-01T00:00:00Z",
            "body": {"content_type": "social", "title": "t"}});
        if named {
            json["ledger"] = json!("l");
        }
        let created = Payload::read(&serde_json::to_vec(&json).unwrap()).unwrap();
        state.apply(&created, at(), Facts::default());
        for (kind, body) in [
            (
                "model_version_registered",
                json!({"model_version_id": "mv", "provider": "p", "family": "f", "version": "1", "license": "l", "training_data_statement": "s"}),
            ),
            ("prompt_authored", json!({"prompt_id": "pr", "text": "t"})),
            (
                "generation_recorded",
                json!({"generation_id": "g", "model_version": "mv", "prompt": "pr", "outputs": [asset("a", "a"), asset("b", "b")]}),
            ),
        ] {
            state.apply(&payload("q", "x", kind, body), at(), Facts::default());
        }
        let project = "q";
        let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
        let got = decide(&view, &payload(project, "x", "delivery_recorded", variant_of_b.clone()), at());
        assert_eq!(got.is_err(), refused, "named {named}: {got:?}");
        if let Err(e) = got {
            assert!(matches!(refused_of(e), Refusal::Invalid { field, .. } if field == "body.variant.digest"));
        }
        let own = decide(&view, &payload(project, "x", "delivery_recorded", own_bytes.clone()), at());
        assert!(own.is_ok(), "named {named}: the master's own bytes: {own:?}");
    }
}

fn refused_of(e: DecideError) -> Refusal {
    refused(e)
}

/// Past the work limit the rules stop weighing: every rule then says so, and the limit
/// refuses the entry; unmetered reads (views) are never cut short.
#[test]
fn past_the_work_limit_the_rules_stop_and_say_so() {
    use crate::domain::limits::{check_work, metered, tick, MAX_WORK_PER_REQUEST};
    use crate::domain::policy::{ancestry, evaluate, Intent};
    let state = state();
    let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
    let project = ProjectId::parse("p").unwrap();
    let (a, format) = (Id::parse("a").unwrap(), crate::domain::ids::Label::parse("jpeg").unwrap());
    let intent = Intent::Delivery {
        master: &a,
        medium: DeliveryMedium::Digital,
        format: &format,
        usage: Usage::Commercial,
        occurred_at_us: 0,
    };
    let (assessment, refused) = metered(|| {
        tick(MAX_WORK_PER_REQUEST as usize + 1);
        (evaluate(&view, &project, intent), check_work())
    });
    assert!(matches!(refused, Err(Refusal::LimitExceeded { .. })));
    assert!(assessment.outcomes.iter().all(|o| !o.passed()), "{assessment:?}");
    // Not metered: a walk is whole, and nothing is refused.
    tick(MAX_WORK_PER_REQUEST as usize + 1);
    assert_eq!(ancestry(&view, &project, &a), vec![a.clone()]);
    assert!(check_work().is_ok());
}
