//! The strict input profile of new events (docs/signing.md, "The strict profile"), and the
//! ledger an event is signed for: each lax input a review found is refused with the problem,
//! the field, and nothing written.

use crate::helpers::*;
use lineage_ledger::crypto::dsse::Envelope;
use serde_json::{json, Value};

/// Signs a payload as given (the signer's key), for inputs the `Signer` would not make.
fn signed(signer: &lineage_ledger::cli::client::Signer, payload: &[u8]) -> Vec<u8> {
    Envelope::sign(payload, &signer.key.key_id, &signer.key.key).to_json()
}

#[test]
fn every_lax_input_a_review_found_is_refused_naming_its_field() {
    let p = Production::new();
    let note = |f: &dyn Fn(&mut Value)| {
        let mut payload = p.artist.payload(&p.project, "note_added", json!({"text": "t", "assets": ["img-1"]}));
        f(&mut payload);
        signed(&p.artist, &serde_json::to_vec(&payload).unwrap())
    };
    let time = |t: &'static str| note(&move |v: &mut Value| v["occurred_at"] = json!(t));
    let raw = |text: String| signed(&p.artist, text.as_bytes());
    let payload_text = |body: &str| {
        let mut payload = p.artist.payload(&p.project, "note_added", json!({}));
        payload["body"] = json!("BODY");
        serde_json::to_string(&payload).unwrap().replace("\"BODY\"", body)
    };
    let pipeline = |tool: &str, settings: &str| {
        let mut payload = p.artist.payload(&p.project, "pipeline_defined", json!({}));
        payload["body"] = json!("BODY");
        let body = format!(
            r#"{{"pipeline_id":"pl-x","name":"n","steps":[{{"name":"s","tool":{tool},"settings":{settings}}}]}}"#
        );
        serde_json::to_string(&payload).unwrap().replace("\"BODY\"", &body)
    };
    // (case, envelope, problem type, field)
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("year 0000", time("0000-01-01T00:00:00Z"), "invalid-payload", "payload.occurred_at"),
        ("a leap second", time("2026-12-31T23:59:60Z"), "invalid-payload", "payload.occurred_at"),
        ("a lowercase t and z", time("2026-11-27t09:30:00z"), "invalid-payload", "payload.occurred_at"),
        ("a space for T", time("2026-11-27 09:30:00Z"), "invalid-payload", "payload.occurred_at"),
        (
            "a key twice, nested",
            raw(pipeline(r#""t""#, r#"{"seed":1,"seed":2}"#)),
            "invalid-payload",
            "payload.body.steps[0].settings.seed",
        ),
        (
            "a key twice, in the body",
            raw(payload_text(r#"{"text":"a","text":"b"}"#)),
            "invalid-payload",
            "payload.body.text",
        ),
        (
            "NUL in text",
            note(&|v: &mut Value| v["body"]["text"] = json!("before\u{0}after")),
            "invalid-payload",
            "payload.body.text",
        ),
        (
            "an override in text",
            note(&|v: &mut Value| v["body"]["text"] = json!("\u{202e}desrever")),
            "invalid-payload",
            "payload.body.text",
        ),
        (
            "a line break in a label",
            raw(pipeline(r#""two\nlines""#, "{}")),
            "invalid-payload",
            "payload.body.steps[0].tool",
        ),
        (
            "an override in a label",
            raw(pipeline("\"\u{202e}lbl\"", "{}")),
            "invalid-payload",
            "payload.body.steps[0].tool",
        ),
        (
            "no ledger named",
            note(&|v: &mut Value| drop(v.as_object_mut().unwrap().remove("ledger"))),
            "invalid-payload",
            "payload.ledger",
        ),
        (
            "another ledger named",
            note(&|v: &mut Value| v["ledger"] = json!("lineage.local/staging")),
            "wrong-ledger",
            "payload.ledger",
        ),
    ];
    for (case, envelope, problem, field) in cases {
        let head = p.app.head();
        let answer = p.app.send(&envelope);
        assert_eq!(answer.status, 422, "{case}: {:?}", answer.body);
        assert_eq!(answer.body["type"], format!("urn:lineage:problem:{problem}"), "{case}: {:?}", answer.body);
        assert_eq!(answer.body["field"], field, "{case}: {:?}", answer.body);
        assert_eq!(p.app.head(), head, "{case}: nothing is written");
    }
    // In a batch, the position is named too.
    let good = p.artist.envelope(&p.project, "note_added", json!({"text": "fine"}));
    let answer = p.app.batch(&[good.clone(), time("2026-12-31T23:59:60Z")]);
    assert_eq!((answer.status, answer.body["index"].as_u64()), (422, Some(1)), "{:?}", answer.body);
    // Free text keeps what right-to-left text needs; a numeric offset is RFC 3339.
    let rtl = note(&|v: &mut Value| {
        v["body"]["text"] = json!("line one\n\u{2067}\u{5e9}\u{5dc}\u{5d5}\u{5dd}\u{2069} \u{200f}")
    });
    assert_eq!(p.app.send(&rtl).status, 201);
    assert_eq!(p.app.send(&time("2026-11-27T10:30:00+01:00")).status, 201);
}

#[test]
fn an_event_signed_for_one_ledger_is_refused_by_another_where_the_same_key_is_registered() {
    let staging = Production::new();
    let production = Production::on(spawn_app(), "p1");
    assert_ne!(staging.app.ledger, production.app.ledger, "two ledgers, two names");
    // The same person, with the same key, registered and a member on both.
    let key = lineage_ledger::crypto::keys::KeyFile::generate("lea", "lea-1");
    for app in [&staging, &production] {
        let registered = app.app.send(&app.app.admin.envelope(
            "system",
            "actor_registered",
            json!({"actor_id": "lea", "display_name": "Lea", "role": "post_artist", "organization": AGENCY,
                   "keys": [{"key_id": "lea-1", "public_key": key.public_key_base64()}]}),
        ));
        assert_eq!(registered.status, 201, "{:?}", registered.body);
        let added = app.send(&app.producer, "member_added", json!({"actor_id": "lea", "role": "post_artist"}));
        assert_eq!(added.status, 201, "{:?}", added.body);
    }
    let on_staging = staging.app.signer(key.clone());
    let envelope = on_staging.envelope(&staging.project, "note_added", json!({"text": "signed for staging"}));
    assert_eq!(staging.app.send(&envelope).status, 201);
    // Replayed into production, as it is: refused, nothing written.
    let head = production.app.head();
    let replayed = production.app.send(&envelope);
    assert_eq!(replayed.status, 422, "{:?}", replayed.body);
    assert_eq!(replayed.body["type"], "urn:lineage:problem:wrong-ledger");
    assert_eq!(replayed.body["field"], "payload.ledger");
    assert!(replayed.body["detail"].as_str().unwrap().contains(&production.app.ledger), "{:?}", replayed.body);
    assert_eq!(production.app.head(), head);
    // The same content signed for production goes in.
    let on_production = production.app.signer(key);
    let answer = production.send(&on_production, "note_added", json!({"text": "signed for production"}));
    assert_eq!(answer.status, 201, "{:?}", answer.body);
}
