//! The authorization matrix: every endpoint × every kind of caller, and every event kind × every
//! role, against what `docs/security.md` and `docs/roles.md` say.

use crate::helpers::*;
use lineage_ledger::cli::client::{Client, Signer};
use lineage_ledger::domain::roles::may_submit;
use lineage_ledger::domain::{Kind, Role};
use serde_json::{json, Value};

#[test]
fn every_endpoint_for_every_caller() {
    let p = Production::new();
    let app = &p.app;
    let note = p.send(&p.producer, "note_added", json!({"text": "n", "assets": ["img-1"]}));
    let (sequence, event_id) =
        (note.body["sequence"].as_u64().unwrap(), note.body["event_id"].as_str().unwrap().to_owned());
    let issue = |body: Value| -> String {
        let answer = app.client.post("/v1/tokens", body.to_string().as_bytes()).unwrap();
        assert_eq!(answer.status, 201);
        answer.body["token"].as_str().unwrap().to_owned()
    };
    let callers: Vec<(&str, Client)> = vec![
        ("none", Client::new(&app.url)),
        ("bad", Client::new(&app.url).with_token("lin_not-a-token")),
        ("other project", Client::new(&app.url).with_token(&issue(json!({"name": "other", "projects": ["p2"]})))),
        ("read", Client::new(&app.url).with_token(&issue(json!({"name": "reader"})))),
        ("admin", app.client.clone_with_token()),
    ];
    // Expected status per caller: none, bad, other project, read, admin.
    let project_read = [401, 401, 403, 200, 200];
    let any_token = [401, 401, 200, 200, 200];
    let open = [200, 200, 200, 200, 200];
    let endpoints: Vec<(String, [u16; 5])> = vec![
        ("/healthz".into(), open),
        ("/readyz".into(), open),
        ("/openapi.json".into(), open),
        ("/v1/checkpoint".into(), open),
        ("/v1/vkey".into(), open),
        ("/v1/proofs/consistency?from=1".into(), open),
        ("/v1/head".into(), any_token),
        ("/v1/actors".into(), any_token),
        ("/v1/actors/admin".into(), any_token),
        ("/v1/entries".into(), project_read),
        ("/v1/export".into(), project_read),
        (format!("/v1/entries/{sequence}"), project_read),
        (format!("/v1/events/{event_id}"), project_read),
        (format!("/v1/proofs/inclusion?sequence={sequence}"), project_read),
        ("/v1/projects/p1/events".into(), project_read),
        ("/v1/projects/p1/status".into(), project_read),
        ("/v1/projects/p1/history".into(), project_read),
        ("/v1/projects/p1/assets/img-1/provenance".into(), project_read),
        ("/v1/projects/p1/assets/img-1/audit".into(), project_read),
        ("/v1/projects/p1/assets/img-1/evidence".into(), project_read),
    ];
    let mut checked = 0;
    for (path, expected) in &endpoints {
        for ((caller, client), want) in callers.iter().zip(expected) {
            let answer = client.get(path).unwrap();
            assert_eq!(answer.status, *want, "GET {path} as {caller}: {:?}", answer.body);
            if *want >= 400 {
                let problem = if *want == 401 { "unauthorized" } else { "forbidden" };
                assert_eq!(answer.body["type"], format!("urn:lineage:problem:{problem}"), "GET {path} as {caller}");
            }
            checked += 1;
        }
    }
    for ((caller, client), want) in callers.iter().zip([401, 401, 403, 403, 201]) {
        let answer = client.post("/v1/tokens", br#"{"name": "x"}"#).unwrap();
        assert_eq!(answer.status, want, "POST /v1/tokens as {caller}");
        checked += 1;
    }
    assert_eq!(checked, (endpoints.len() + 1) * callers.len());
}

/// A body for each kind that parses; whether it passes the rules does not matter here.
fn body(kind: Kind, tag: &str) -> Value {
    let asset = |id: String| json!({"asset_id": id, "digest": digest(&id), "media_type": "image/png"});
    match kind {
        Kind::ProjectCreated => json!({"content_type": "campaign", "title": "t"}),
        Kind::BriefRecorded => json!({"brief_id": format!("b-{tag}"), "title": "t", "text": "t"}),
        Kind::BriefRevised => json!({"brief_id": "brief-1", "text": "t", "reason": "r"}),
        Kind::ReferenceAdded => {
            json!({"reference_id": format!("r-{tag}"), "category": "visual", "title": "t", "source": "s", "rights": {"status": "owned"}})
        }
        Kind::ModelVersionRegistered => {
            json!({"model_version_id": format!("mv-{tag}"), "provider": "p", "family": "f", "version": "1", "license": "l", "training_data_statement": "s"})
        }
        Kind::PipelineDefined => {
            json!({"pipeline_id": format!("pl-{tag}"), "name": "n", "steps": [{"name": "s", "tool": "t"}]})
        }
        Kind::PromptAuthored => json!({"prompt_id": format!("pr-{tag}"), "text": "t"}),
        Kind::GenerationRecorded => {
            json!({"generation_id": format!("g-{tag}"), "model_version": "mv-1", "prompt": "pr-1", "outputs": [asset(format!("a-{tag}"))]})
        }
        Kind::SelectionMade => {
            json!({"selection_id": format!("s-{tag}"), "round": 1, "selected": ["img-1"], "rationale": "r"})
        }
        Kind::PostEditApplied => {
            json!({"edit_id": format!("e-{tag}"), "technique": "retouch", "tool": "t", "performed_by": "human", "inputs": ["img-1"], "output": asset(format!("o-{tag}"))})
        }
        Kind::QcReviewRecorded => {
            json!({"review_id": format!("q-{tag}"), "asset": "img-1", "digest": digest("img-1"), "checks": [{"check": "edges", "result": "pass"}], "proof_medium": "screen", "proof_size": "1", "verdict": "pass"})
        }
        Kind::ApprovalRecorded => {
            json!({"approval_id": format!("ap-{tag}"), "asset": "img-1", "digest": digest("img-1"), "decision": "approved"})
        }
        Kind::DeliveryRecorded => {
            json!({"delivery_id": format!("d-{tag}"), "master_asset": "img-1", "variant": asset(format!("v-{tag}")), "format": "jpeg", "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en"})
        }
        Kind::StageMarked => json!({"stage": "production", "mark": "opened"}),
        Kind::NoteAdded => json!({"text": "t"}),
        Kind::EventRetracted => json!({"event_id": "never-was", "reason": "r"}),
        Kind::ActorRegistered => {
            json!({"actor_id": format!("new-{tag}"), "display_name": "n", "role": "producer", "keys": [{"key_id": format!("new-{tag}-k"), "public_key": lineage_ledger::crypto::keys::KeyFile::generate("x", "y").public_key_base64()}]})
        }
        Kind::KeyAdded => {
            json!({"actor_id": "p1-producer", "key": {"key_id": format!("extra-{tag}"), "public_key": lineage_ledger::crypto::keys::KeyFile::generate("x", "y").public_key_base64()}})
        }
        Kind::KeyRevoked => json!({"actor_id": "p1-qc", "key_id": "not-a-key", "reason": "r"}),
    }
}

#[test]
fn every_kind_for_every_role() {
    let p = Production::new();
    let signers: Vec<(Role, &Signer)> = vec![
        (Role::Producer, &p.producer),
        (Role::CreativeDirector, &p.director),
        (Role::AiArtist, &p.artist),
        (Role::PostArtist, &p.post),
        (Role::QcReviewer, &p.qc),
        (Role::BrandCompliance, &p.brand),
        (Role::ClientApprover, &p.client),
        (Role::Integration, &p.integration),
        (Role::Admin, &p.app.admin),
    ];
    let mut combinations = 0;
    for (role, signer) in &signers {
        for kind in Kind::ALL {
            let project = if kind.is_system() { "system" } else { "p1" };
            let tag = format!("{}-{}", role.as_str(), kind.as_str()).replace('_', "-");
            let answer = p.app.send(&signer.envelope(project, kind.as_str(), body(*kind, &tag)));
            let refused_for_role = answer.body["type"] == "urn:lineage:problem:role-not-allowed";
            assert_eq!(
                !refused_for_role,
                may_submit(*role, *kind),
                "{} signing {}: {:?}",
                role.as_str(),
                kind.as_str(),
                answer.body
            );
            if refused_for_role {
                assert_eq!(answer.status, 403);
            }
            combinations += 1;
        }
    }
    assert_eq!(combinations, 9 * Kind::ALL.len());
}
