//! Every refusal: exact status, problem type and field, and an unchanged ledger head.

use crate::helpers::*;
use base64::Engine as _;
use serde_json::{json, Value};

enum Request {
    Single(Vec<u8>),
    Batch(Vec<Vec<u8>>),
    Raw { content_type: &'static str, bytes: Vec<u8> },
}

struct Case {
    name: &'static str,
    request: Request,
    status: u16,
    problem: &'static str,
    field: Option<&'static str>,
}

fn case(name: &'static str, request: Request, status: u16, problem: &'static str, field: Option<&'static str>) -> Case {
    Case { name, request, status, problem, field }
}

fn check(app: &TestApp, cases: Vec<Case>) {
    for case in cases {
        let head = app.head();
        let answer = match &case.request {
            Request::Single(e) => app.send(e),
            Request::Batch(es) => app.batch(es),
            Request::Raw { content_type, bytes } => {
                let response =
                    ureq::post(&format!("{}/v1/events", app.url)).set("Content-Type", content_type).send_bytes(bytes);
                let response = match response {
                    Ok(r) => r,
                    Err(ureq::Error::Status(_, r)) => r,
                    Err(e) => panic!("{}: {e}", case.name),
                };
                assert_eq!(response.content_type(), "application/problem+json", "{}", case.name);
                let status = response.status();
                let text = response.into_string().unwrap_or_default();
                lineage_ledger::cli::client::Answer {
                    status,
                    body: serde_json::from_str(&text).unwrap_or(Value::Null),
                    text,
                }
            }
        };
        assert_eq!(answer.status, case.status, "{}: {:?}", case.name, answer.body);
        assert_eq!(
            answer.body["type"],
            format!("urn:lineage:problem:{}", case.problem),
            "{}: {:?}",
            case.name,
            answer.body
        );
        assert_eq!(answer.body["status"], case.status, "{}", case.name);
        assert!(documented(case.problem, case.status), "{}: {} is not in PROBLEM_TYPES", case.name, case.problem);
        assert!(answer.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", case.name);
        if let Some(field) = case.field {
            assert_eq!(answer.body["field"], field, "{}: {:?}", case.name, answer.body);
        }
        if matches!(case.request, Request::Single(_)) && answer.status != 503 {
            assert_eq!(answer.body["index"], 0, "{}: a single append's envelope is envelope 0", case.name);
        }
        assert_eq!(app.head(), head, "{}: nothing was written", case.name);
    }
}

pub fn documented(slug: &str, status: u16) -> bool {
    lineage_ledger::api::problem::ProblemType::ALL.iter().any(|p| p.slug() == slug && p.status().as_u16() == status)
}

fn tamper(envelope: &[u8], change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(envelope).unwrap();
    change(&mut value);
    serde_json::to_vec(&value).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn refusals_write_nothing() {
    let p = Production::new();
    // A second project whose asset the first may not reference.
    p.send(&p.producer, "note_added", json!({"text": "warm-up"}));
    p.create("acme-client:p2", "social");
    let p2 = |signer: &lineage_ledger::cli::client::Signer, kind: &str, body: Value| {
        p.app.send(&signer.envelope("acme-client:p2", kind, body))
    };
    assert_eq!(p2(&p.artist, "model_version_registered", json!({"model_version_id": "mv-1", "provider": "p", "family": "f", "version": "1", "license": "l", "license_use": "commercial", "training_data_statement": "s"})).status, 201);
    assert_eq!(p2(&p.artist, "prompt_authored", json!({"prompt_id": "pr-1", "text": "x"})).status, 201);
    let in_p2 = p2(
        &p.integration,
        "generation_recorded",
        json!({"generation_id": "g", "model_version": "mv-1", "prompt": "pr-1", "outputs": [asset("only-in-p2")]}),
    );
    assert_eq!(in_p2.status, 201);
    let p2_event = in_p2.body["event_id"].as_str().unwrap().to_owned();
    let retracted = p.send(&p.producer, "note_added", json!({"text": "to retract"}));
    let retracted_id = retracted.body["event_id"].as_str().unwrap().to_owned();
    assert_eq!(p.send(&p.producer, "event_retracted", json!({"event_id": retracted_id, "reason": "typo"})).status, 201);
    // A photograph the project holds, whose bytes nothing may make again.
    let photo = json!({"asset": asset("photo-known"), "origin": "photograph", "source": "s", "rights": {"status": "owned", "reproduction": "allowed"}});
    assert_eq!(p.send(&p.post, "asset_imported", photo).status, 201);

    let e = |signer: &lineage_ledger::cli::client::Signer, kind: &str, body: Value| {
        Request::Single(p.envelope(signer, kind, body))
    };
    let raw = |signer: &lineage_ledger::cli::client::Signer, payload: Value| Request::Single(signer.sign(&payload));
    let with = |kind: &str, body: Value, change: &dyn Fn(&mut Value)| {
        let mut payload = p.producer.payload(&p.project, kind, body);
        change(&mut payload);
        Request::Single(p.producer.sign(&payload))
    };
    let note = json!({"text": "hello"});
    let good_note = p.envelope(&p.producer, "note_added", note.clone());
    let qc_body = |digest: String| {
        json!({"review_id": "qc-x", "asset": "img-1", "digest": digest,
        "checks": [{"check": "anatomy", "result": "pass"}], "proof_medium": "screen", "proof_size": "100%", "verdict": "pass"})
    };

    let mut stale = p.producer.payload(&p.project, "note_added", note.clone());
    stale["expected_version"] = json!(2);
    let reused = p.producer.payload(&p.project, "note_added", json!({"text": "original"}));
    assert_eq!(p.app.send(&p.producer.sign(&reused)).status, 201);
    let mut reused_other = reused.clone();
    reused_other["body"]["text"] = json!("changed");

    let stranger = p.app.signer(lineage_ledger::crypto::keys::KeyFile::generate("p1-producer", "nobody-key"));
    // Another actor's key id on the producer's signature: the signature is checked first.
    let other_key_id = tamper(&good_note, |v| v["signatures"][0]["keyid"] = json!(p.director.key.key_id));
    // The director's key signing a payload that names the producer.
    let other_key = p.director.sign(&p.producer.payload(&p.project, "note_added", note.clone()));
    let over_long = "x".repeat(201);

    let cases = vec![
        // The envelope.
        case("malformed JSON", Request::Raw { content_type: "application/json", bytes: b"{\"payloadType\":".to_vec() }, 400, "malformed-json", None),
        case("invalid UTF-8", Request::Raw { content_type: "application/json", bytes: b"{\"payloadType\":\"\xff\xfe\"}".to_vec() }, 400, "malformed-json", None),
        case("wrong content type", Request::Raw { content_type: "text/plain", bytes: good_note.clone() }, 415, "unsupported-media-type", None),
        case("body over the limit", Request::Raw { content_type: "application/json", bytes: vec![b' '; 300 * 1024] }, 413, "body-too-large", None),
        case("deeply nested JSON", Request::Raw { content_type: "application/json", bytes: format!("{{\"payloadType\":{}{}}}", "[".repeat(5000), "]".repeat(5000)).into_bytes() }, 400, "invalid-envelope", Some("payloadType")),
        case("deeply nested payload", e(&p.producer, "note_added", json!({"text": "x", "assets": serde_json::from_str::<Value>(&format!("{}{}", "[".repeat(120), "]".repeat(120))).unwrap()})), 422, "invalid-payload", Some("payload.body.assets[0]")),
        case("unknown envelope field", Request::Single(tamper(&good_note, |v| v["extra"] = json!(1))), 400, "invalid-envelope", None),
        case("wrong payloadType", Request::Single(tamper(&good_note, |v| v["payloadType"] = json!("application/json"))), 400, "unsupported-payload-type", Some("payloadType")),
        case("bad base64", Request::Single(tamper(&good_note, |v| v["payload"] = json!("not base64!"))), 400, "invalid-base64", Some("payload")),
        case("bad signature base64", Request::Single(tamper(&good_note, |v| v["signatures"][0]["sig"] = json!("%%%"))), 400, "invalid-base64", Some("signatures[0].sig")),
        case("two signatures", Request::Single(tamper(&good_note, |v| { let s = v["signatures"][0].clone(); v["signatures"].as_array_mut().unwrap().push(s); })), 400, "invalid-envelope", Some("signatures")),
        case("no signature", Request::Single(tamper(&good_note, |v| v["signatures"] = json!([]))), 400, "invalid-envelope", Some("signatures")),
        case("short signature", Request::Single(tamper(&good_note, |v| v["signatures"][0]["sig"] = json!(b64(&[1; 10])))), 400, "invalid-envelope", Some("signatures[0].sig")),
        case("keyid with path characters", Request::Single(tamper(&good_note, |v| v["signatures"][0]["keyid"] = json!("../etc/passwd"))), 400, "invalid-envelope", Some("signatures[0].keyid")),
        // The signature and the signer.
        case("signature over other bytes", Request::Single(tamper(&good_note, |v| v["payload"] = json!(b64(br#"{"other":true}"#)))), 422, "invalid-payload", None),
        case("signature over another payload", Request::Single(tamper(&good_note, |v| {
            let other = p.producer.payload(&p.project, "note_added", json!({"text": "forged"}));
            v["payload"] = json!(b64(&serde_json::to_vec(&other).unwrap()));
        })), 403, "bad-signature", Some("signatures[0].sig")),
        case("unknown key", Request::Single(stranger.envelope(&p.project, "note_added", note.clone())), 403, "unknown-key", Some("signatures[0].keyid")),
        case("another actor's key id on the signature", Request::Single(other_key_id), 403, "bad-signature", Some("signatures[0].sig")),
        case("another actor's key", Request::Single(other_key), 403, "key-not-actors", Some("payload.actor")),
        case("wrong role", e(&p.qc, "generation_recorded", json!({"generation_id": "g9", "model_version": "mv-1", "prompt": "pr-1", "outputs": [asset("img-9")]})), 403, "role-not-allowed", Some("payload.kind")),
        case("post artist approving", e(&p.post, "approval_recorded", json!({"approval_id": "a1", "asset": "img-1", "digest": digest("img-1"), "decision": "approved"})), 403, "role-not-allowed", Some("payload.kind")),
        case("brand compliance generating", e(&p.brand, "generation_recorded", json!({"generation_id": "g9", "model_version": "mv-1", "prompt": "pr-1", "outputs": [asset("img-9")]})), 403, "role-not-allowed", Some("payload.kind")),
        case("client approver creating a project", Request::Single(p.client.envelope("acme-client:p3", "project_created", json!({"content_type": "campaign", "title": "x", "client_organization": CLIENT}))), 403, "role-not-allowed", Some("payload.kind")),
        // The payload.
        case("payload is not JSON", raw(&p.producer, json!("just a string")), 422, "invalid-payload", None),
        case("unknown kind", with("note_added", note.clone(), &|v| v["kind"] = json!("asset_teleported")), 422, "unknown-kind", Some("payload.kind")),
        case("unknown header field", with("note_added", note.clone(), &|v| v["colour"] = json!("teal")), 422, "invalid-payload", None),
        case("unknown body field", e(&p.producer, "note_added", json!({"text": "x", "mood": "sad"})), 422, "invalid-payload", Some("payload.body.mood")),
        case("no occurred_at", Request::Single({
            let mut payload = p.producer.payload(&p.project, "note_added", json!({"text": "when?"}));
            payload.as_object_mut().unwrap().remove("occurred_at");
            p.producer.sign(&payload)
        }), 422, "invalid-payload", Some("payload.occurred_at")),
        case("missing field", e(&p.producer, "brief_recorded", json!({"brief_id": "b2", "title": "t"})), 422, "invalid-payload", Some("payload.body.text")),
        case("missing header field", with("note_added", note.clone(), &|v| { v.as_object_mut().unwrap().remove("actor"); }), 422, "invalid-payload", None),
        case("wrong type", e(&p.director, "selection_made", json!({"selection_id": "s", "round": "one", "selected": ["img-1"], "rationale": "r"})), 422, "invalid-payload", Some("payload.body.round")),
        case("negative number", e(&p.director, "selection_made", json!({"selection_id": "s", "round": -1, "selected": ["img-1"], "rationale": "r"})), 422, "invalid-payload", Some("payload.body.round")),
        case("malformed timestamp", with("note_added", note.clone(), &|v| v["occurred_at"] = json!("yesterday")), 422, "invalid-payload", Some("payload.occurred_at")),
        case("malformed digest", e(&p.qc, "qc_review_recorded", qc_body("sha256:abc".into())), 422, "invalid-payload", Some("payload.body.digest")),
        case("over-long string", e(&p.producer, "brief_recorded", json!({"brief_id": "b2", "title": over_long, "text": "t"})), 422, "invalid-payload", Some("payload.body.title")),
        case("empty string", e(&p.producer, "note_added", json!({"text": ""})), 422, "invalid-payload", Some("payload.body.text")),
        case("id with path characters", e(&p.producer, "brief_recorded", json!({"brief_id": "../b2", "title": "t", "text": "t"})), 422, "invalid-payload", Some("payload.body.brief_id")),
        case("project id with a slash", with("note_added", note.clone(), &|v| v["project"] = json!("p1/../p2")), 422, "invalid-payload", Some("payload.project")),
        case("unknown enum value", e(&p.producer, "stage_marked", json!({"stage": "teleportation", "mark": "opened"})), 422, "invalid-payload", Some("payload.body.stage")),
        case("schema version 2", with("note_added", note.clone(), &|v| v["schema_version"] = json!(2)), 422, "unsupported-schema-version", Some("payload.schema_version")),
        case("system kind in a project", e(&p.producer, "key_revoked", json!({"actor_id": "a", "key_id": "k", "reason": "r"})), 422, "wrong-stream", Some("payload.project")),
        case("project kind in the system stream", Request::Single(p.producer.envelope("system", "note_added", note.clone())), 422, "wrong-stream", Some("payload.project")),
        case("invalid public key", Request::Single(p.app.admin.envelope("system", "actor_registered", json!({"actor_id": "x", "display_name": "x", "role": "producer", "organization": AGENCY, "keys": [{"key_id": "x1", "public_key": b64(&[0xff; 31])}]}))), 422, "invalid-payload", Some("payload.body.keys[0].public_key")),
        case(
            "small-order public key",
            Request::Single(p.app.admin.envelope("system", "actor_registered", json!({"actor_id": "weak", "display_name": "w", "role": "producer", "organization": AGENCY,
                "keys": [{"key_id": "weak-1", "public_key": b64(&{ let mut k = [0u8; 32]; k[0] = 1; k })}]}))),
            422,
            "invalid-payload",
            Some("payload.body.keys[0].public_key"),
        ),
        // The rules.
        case("unknown project", Request::Single(p.producer.envelope("nowhere", "note_added", note.clone())), 403, "not-a-member", Some("payload.project")),
        case("unknown project, as the admin", Request::Single(p.app.admin.envelope("nowhere", "note_added", note.clone())), 422, "project-not-found", Some("payload.project")),
        case("project exists", e(&p.producer, "project_created", json!({"content_type": "campaign", "title": "again", "client_organization": CLIENT})), 409, "project-exists", Some("payload.project")),
        case("unknown asset", e(&p.director, "selection_made", json!({"selection_id": "s", "round": 1, "selected": ["img-1", "ghost"], "rationale": "r"})), 422, "unknown-reference", Some("payload.body.selected[1]")),
        case("another project's asset", e(&p.producer, "note_added", json!({"text": "x", "assets": ["only-in-p2"]})), 422, "unknown-reference", Some("payload.body.assets[0]")),
        case("unknown prompt", e(&p.integration, "generation_recorded", json!({"generation_id": "g2", "model_version": "mv-1", "prompt": "pr-404", "outputs": [asset("img-3")]})), 422, "unknown-reference", Some("payload.body.prompt")),
        case("unknown model version", e(&p.integration, "generation_recorded", json!({"generation_id": "g2", "model_version": "mv-404", "prompt": "pr-1", "outputs": [asset("img-3")]})), 422, "unknown-reference", Some("payload.body.model_version")),
        case("unknown parent prompt", e(&p.artist, "prompt_authored", json!({"prompt_id": "pr-2", "text": "t", "parent_prompt": "pr-0"})), 422, "unknown-reference", Some("payload.body.parent_prompt")),
        case("unknown brief", e(&p.director, "brief_revised", json!({"brief_id": "brief-9", "text": "t", "reason": "r"})), 422, "unknown-reference", Some("payload.body.brief_id")),
        case("imported asset without reproduction", e(&p.post, "asset_imported", json!({"asset": asset("photo-x"), "origin": "photograph", "source": "s", "rights": {"status": "owned"}})), 422, "invalid-payload", Some("payload.body.rights.reproduction")),
        case("imported asset of no known origin", e(&p.post, "asset_imported", json!({"asset": asset("photo-x"), "origin": "dream", "source": "s", "rights": {"status": "owned", "reproduction": "allowed"}})), 422, "invalid-payload", Some("payload.body.origin")),
        case("imported asset with a generated asset's id", e(&p.post, "asset_imported", json!({"asset": asset("img-1"), "origin": "photograph", "source": "s", "rights": {"status": "owned", "reproduction": "allowed"}})), 409, "duplicate-id", Some("payload.body.asset.asset_id")),
        case("generated bytes imported as a photograph", e(&p.post, "asset_imported", json!({"asset": {"asset_id": "laundered", "digest": digest("img-1"), "media_type": "image/png"}, "origin": "photograph", "source": "s", "rights": {"status": "owned", "reproduction": "allowed"}})), 422, "invalid-event", Some("payload.body.asset.digest")),
        case("an edit making imported bytes", e(&p.post, "post_edit_applied", json!({"edit_id": "ed-y", "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["img-1"], "output": {"asset_id": "y-out", "digest": digest("photo-known"), "media_type": "image/png"}})), 422, "invalid-event", Some("payload.body.output.digest")),
        case("a generation making imported bytes", e(&p.integration, "generation_recorded", json!({"generation_id": "g-y", "model_version": "mv-1", "prompt": "pr-1", "outputs": [asset("fresh-y"), {"asset_id": "y-gen", "digest": digest("photo-known"), "media_type": "image/png"}]})), 422, "invalid-event", Some("payload.body.outputs[1].digest")),
        case("a generation declaring a photograph", e(&p.integration, "generation_recorded", json!({"generation_id": "g-d", "model_version": "mv-1", "prompt": "pr-1", "outputs": [asset("d-1"), {"asset_id": "d-2", "digest": digest("d-2"), "media_type": "image/png", "digital_source_type": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]})), 422, "invalid-event", Some("payload.body.outputs[1].digital_source_type")),
        case("a generative fill declared a human edit", e(&p.post, "post_edit_applied", json!({"edit_id": "ed-d", "technique": "retouch", "tool": "t", "performed_by": "human", "generative": true, "model_version": "mv-1", "inputs": ["photo-known"], "output": {"asset_id": "d-3", "digest": digest("d-3"), "media_type": "image/png", "digital_source_type": "http://cv.iptc.org/newscodes/digitalsourcetype/humanEdits"}})), 422, "invalid-event", Some("payload.body.output.digital_source_type")),
        case("a photograph declared AI-generated", e(&p.post, "asset_imported", json!({"asset": {"asset_id": "d-4", "digest": digest("d-4"), "media_type": "image/jpeg", "digital_source_type": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}, "origin": "photograph", "source": "s", "rights": {"status": "owned", "reproduction": "allowed"}})), 422, "invalid-event", Some("payload.body.asset.digital_source_type")),
        case("a delivery declaring a capture of an AI master", e(&p.integration, "delivery_recorded", json!({"delivery_id": "dl-d", "master_asset": "img-1", "variant": {"asset_id": "d-5", "digest": digest("d-5"), "media_type": "image/jpeg", "digital_source_type": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}, "format": "jpeg", "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en", "usage": "non_commercial"})), 422, "invalid-event", Some("payload.body.variant.digital_source_type")),
        case("a retired source type", e(&p.integration, "generation_recorded", json!({"generation_id": "g-r", "model_version": "mv-1", "prompt": "pr-1", "outputs": [{"asset_id": "d-6", "digest": digest("d-6"), "media_type": "image/png", "digital_source_type": "http://cv.iptc.org/newscodes/digitalsourcetype/softwareImage"}]})), 422, "invalid-payload", Some("payload.body.outputs[0].digital_source_type")),
        case("a source type not IPTC's", e(&p.integration, "generation_recorded", json!({"generation_id": "g-r", "model_version": "mv-1", "prompt": "pr-1", "outputs": [{"asset_id": "d-6", "digest": digest("d-6"), "media_type": "image/png", "digital_source_type": "trainedAlgorithmicMedia"}]})), 422, "invalid-payload", Some("payload.body.outputs[0].digital_source_type")),
        case("a generated image's bytes as a person's edit of a photograph", e(&p.post, "post_edit_applied", json!({"edit_id": "ed-l", "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["photo-known"], "output": {"asset_id": "l-out", "digest": digest("img-1"), "media_type": "image/png"}})), 422, "invalid-event", Some("payload.body.output.digest")),
        case("imported asset by a QC reviewer", e(&p.qc, "asset_imported", json!({"asset": asset("photo-x"), "origin": "photograph", "source": "s", "rights": {"status": "owned", "reproduction": "allowed"}})), 403, "role-not-allowed", Some("payload.kind")),
        case("duplicate asset id", e(&p.integration, "generation_recorded", json!({"generation_id": "g2", "model_version": "mv-1", "prompt": "pr-1", "outputs": [asset("img-1")]})), 409, "duplicate-id", Some("payload.body.outputs")),
        case("duplicate output in one event", e(&p.integration, "generation_recorded", json!({"generation_id": "g2", "model_version": "mv-1", "prompt": "pr-1", "outputs": [asset("img-7"), asset("img-7")]})), 409, "duplicate-id", Some("payload.body.outputs")),
        case("duplicate prompt id", e(&p.artist, "prompt_authored", json!({"prompt_id": "pr-1", "text": "t"})), 409, "duplicate-id", Some("payload.body.prompt_id")),
        case("generation without outputs", e(&p.integration, "generation_recorded", json!({"generation_id": "g2", "model_version": "mv-1", "prompt": "pr-1", "outputs": []})), 422, "invalid-event", Some("payload.body.outputs")),
        case("post edit without its generative claim", e(&p.post, "post_edit_applied", json!({"edit_id": "ed-x", "technique": "retouch", "tool": "t", "performed_by": "human", "inputs": ["img-1"], "output": asset("ed-x-out")})), 422, "invalid-payload", Some("payload.body.generative")),
        case("generative edit naming no model version", e(&p.post, "post_edit_applied", json!({"edit_id": "ed-x", "technique": "retouch", "tool": "t", "performed_by": "ai", "generative": true, "inputs": ["img-1"], "output": asset("ed-x-out")})), 422, "invalid-event", Some("payload.body.model_version")),
        case("selected and rejected", e(&p.director, "selection_made", json!({"selection_id": "s", "round": 1, "selected": ["img-1"], "rejected": ["img-1"], "rationale": "r"})), 422, "invalid-event", Some("payload.body.rejected")),
        case("digest of other bytes", e(&p.qc, "qc_review_recorded", qc_body(digest("something else"))), 422, "digest-mismatch", Some("payload.body.digest")),
        case("retraction of a missing event", e(&p.producer, "event_retracted", json!({"event_id": "never-was", "reason": "r"})), 422, "unknown-reference", Some("payload.body.event_id")),
        case("retraction of another project's event", e(&p.producer, "event_retracted", json!({"event_id": p2_event, "reason": "r"})), 422, "unknown-reference", Some("payload.body.event_id")),
        case("retraction twice", e(&p.producer, "event_retracted", json!({"event_id": retracted_id, "reason": "again"})), 422, "already-retracted", Some("payload.body.event_id")),
        case("a key for the ledger's own actor", Request::Single(p.app.admin.envelope("system", "key_added", json!({"actor_id": "ledger", "key": {"key_id": "ledger-2", "public_key": p.producer.key.public_key_base64()}}))), 422, "invalid-event", Some("payload.body.actor_id")),
        case("a key id taken already", Request::Single(p.app.admin.envelope("system", "key_added", json!({"actor_id": p.artist.key.actor, "key": {"key_id": p.producer.key.key_id, "public_key": lineage_ledger::crypto::keys::KeyFile::generate("x", "x-1").public_key_base64()}}))), 422, "invalid-event", Some("payload.body.key")),
        case("key for an unknown actor", Request::Single(p.app.admin.envelope("system", "key_added", json!({"actor_id": "ghost", "key": {"key_id": "g1", "public_key": p.producer.key.public_key_base64()}}))), 422, "unknown-actor", Some("payload.body.actor_id")),
        case("actor registered twice", Request::Single(p.app.admin.envelope("system", "actor_registered", json!({"actor_id": "p1-qc", "display_name": "x", "role": "producer", "organization": AGENCY, "keys": [{"key_id": "fresh-1", "public_key": p.producer.key.public_key_base64()}]}))), 409, "actor-exists", Some("payload.body.actor_id")),
        case("reused key id", Request::Single(p.app.admin.envelope("system", "actor_registered", json!({"actor_id": "fresh", "display_name": "x", "role": "producer", "organization": AGENCY, "keys": [{"key_id": p.qc.key.key_id, "public_key": p.producer.key.public_key_base64()}]}))), 422, "invalid-event", Some("payload.body.keys")),
        case("expected version conflict", Request::Single(p.producer.sign(&stale)), 409, "version-conflict", Some("payload.expected_version")),
        case("event id reused with other bytes", Request::Single(p.producer.sign(&reused_other)), 409, "event-id-conflict", Some("payload.event_id")),
        // Batches.
        case("empty batch", Request::Batch(vec![]), 422, "empty-batch", Some("envelopes")),
        case("batch over the limit", Request::Batch((0..1001).map(|_| good_note.clone()).collect()), 413, "batch-too-large", Some("envelopes")),
        case("batch with one bad event", Request::Batch(vec![good_note.clone(), p.envelope(&p.producer, "note_added", json!({"text": "x", "assets": ["ghost"]}))]), 422, "unknown-reference", Some("payload.body.assets[0]")),
        case("batch with a malformed envelope", Request::Batch(vec![good_note.clone(), tamper(&good_note, |v| v["payload"] = json!("???"))]), 400, "invalid-base64", Some("payload")),
    ];
    assert!(cases.len() >= 60, "{} cases", cases.len());
    check(&p.app, cases);
}

#[test]
fn batch_problems_name_the_position() {
    let p = Production::new();
    let good = p.envelope(&p.producer, "note_added", json!({"text": "fine"}));
    let bad = tamper(&good, |v| v["payloadType"] = json!("x"));
    let answer = p.app.batch(&[good.clone(), good, bad]);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["index"], 2);
}
