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
    // Another project, of another producer alone, for the token scoped to it.
    let other_producer = app.register("p2-producer", "producer");
    let p2 = json!({"content_type": "social", "title": "t", "client_organization": CLIENT});
    assert_eq!(app.send(&other_producer.envelope(&pid("p2"), "project_created", p2)).status, 201);
    let note = p.send(&p.producer, "note_added", json!({"text": "n", "assets": ["img-1"]}));
    let (sequence, event_id) =
        (note.body["sequence"].as_u64().unwrap(), note.body["event_id"].as_str().unwrap().to_owned());
    let issue = |body: Value| -> String {
        let answer = app.client.post("/v1/tokens", body.to_string().as_bytes()).unwrap();
        assert_eq!(answer.status, 201);
        answer.body["token"].as_str().unwrap().to_owned()
    };
    app.organization("rival-brand", "client");
    let callers: Vec<(&str, Client)> = vec![
        ("none", Client::new(&app.url)),
        ("bad", Client::new(&app.url).with_token("lin_not-a-token")),
        (
            "other project",
            Client::new(&app.url).with_token(&issue(json!({"name": "other", "projects": ["acme-client:p2"]}))),
        ),
        ("client org", Client::new(&app.url).with_token(&issue(json!({"name": "client", "organization": CLIENT})))),
        (
            "other org",
            Client::new(&app.url).with_token(&issue(json!({"name": "rival", "organization": "rival-brand"}))),
        ),
        ("read", Client::new(&app.url).with_token(&issue(json!({"name": "reader"})))),
        ("admin", app.client.clone_with_token()),
    ];
    // Expected status per caller: none, bad, other project, client org, other org, read, admin.
    let project_read = [401, 401, 403, 200, 403, 200, 200];
    let whole_log = [401, 401, 403, 403, 403, 200, 200];
    let any_token = [401, 401, 200, 200, 200, 200, 200];
    let open = [200, 200, 200, 200, 200, 200, 200];
    // Found by sequence or event id, an entry out of scope is answered as a missing one.
    let entry_read = [401, 401, 404, 200, 404, 200, 200];
    let endpoints: Vec<(String, [u16; 7])> = vec![
        ("/healthz".into(), open),
        ("/readyz".into(), open),
        ("/openapi.json".into(), open),
        ("/v1/checkpoint".into(), open),
        ("/v1/vkey".into(), open),
        ("/v1/proofs/consistency?from=1".into(), open),
        ("/v1/head".into(), any_token),
        ("/v1/actors".into(), any_token),
        // A scoped token sees the members of its projects: the producer of p1, not the admin.
        ("/v1/actors/p1-producer".into(), [401, 401, 404, 200, 404, 200, 200]),
        ("/v1/actors/admin".into(), [401, 401, 404, 404, 404, 200, 200]),
        ("/v1/entries".into(), any_token),
        ("/v1/organizations".into(), any_token),
        ("/v1/export".into(), whole_log),
        (format!("/v1/entries/{sequence}"), entry_read),
        (format!("/v1/events/{event_id}"), entry_read),
        (format!("/v1/proofs/inclusion?sequence={sequence}"), entry_read),
        ("/v1/projects/acme-client:p1/events".into(), project_read),
        ("/v1/projects/acme-client:p1/status".into(), project_read),
        ("/v1/projects/acme-client:p1/history".into(), project_read),
        ("/v1/projects/acme-client:p1/assets/img-1/provenance".into(), project_read),
        ("/v1/projects/acme-client:p1/assets/img-1/audit".into(), project_read),
        ("/v1/projects/acme-client:p1/assets/img-1/disclosure".into(), project_read),
        ("/v1/projects/acme-client:p1/assets/img-1/evidence".into(), project_read),
        ("/v1/projects/acme-client:p1/governance".into(), project_read),
        (
            "/v1/projects/acme-client:p1/assets/img-1/readiness?medium=digital&format=jpeg&channel=web".into(),
            project_read,
        ),
    ];
    let mut checked = 0;
    for (path, expected) in &endpoints {
        for ((caller, client), want) in callers.iter().zip(expected) {
            let answer = client.get(path).unwrap();
            assert_eq!(answer.status, *want, "GET {path} as {caller}: {:?}", answer.body);
            if *want >= 400 {
                let problem = match want {
                    401 => "unauthorized",
                    404 => "not-found",
                    _ => "forbidden",
                };
                assert_eq!(answer.body["type"], format!("urn:lineage:problem:{problem}"), "GET {path} as {caller}");
            }
            checked += 1;
        }
    }
    for ((caller, client), want) in callers.iter().zip([401, 401, 403, 403, 403, 403, 201]) {
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
        Kind::ProjectCreated => json!({"content_type": "campaign", "title": "t", "client_organization": CLIENT}),
        Kind::ProjectAdopted => json!({"client_organization": CLIENT, "reason": "r"}),
        Kind::MemberAdded => json!({"actor_id": format!("nobody-{tag}"), "role": "producer"}),
        Kind::MemberRemoved => json!({"actor_id": format!("nobody-{tag}"), "reason": "r"}),
        Kind::PolicyAmended => json!({"rules": [{"rule": "qc.passed", "checks": ["grain"]}], "reason": "r"}),
        Kind::OrganizationRegistered => {
            json!({"organization_id": format!("org-{tag}"), "display_name": "o", "kind": "vendor"})
        }
        Kind::BriefRecorded => json!({"brief_id": format!("b-{tag}"), "title": "t", "text": "t"}),
        Kind::BriefRevised => json!({"brief_id": "brief-1", "text": "t", "reason": "r"}),
        Kind::ReferenceAdded => {
            json!({"reference_id": format!("r-{tag}"), "category": "visual", "title": "t", "source": "s", "rights": {"status": "owned", "reproduction": "allowed"}})
        }
        Kind::AssetImported => {
            json!({"asset": asset(format!("imp-{tag}")), "origin": "photograph", "source": "s", "rights": {"status": "owned", "reproduction": "allowed"}})
        }
        Kind::ModelVersionRegistered => {
            json!({"model_version_id": format!("mv-{tag}"), "provider": "p", "family": "f", "version": "1", "license": "l", "license_use": "commercial", "training_data_statement": "s"})
        }
        Kind::PipelineDefined => {
            json!({"pipeline_id": format!("pl-{tag}"), "name": "n", "steps": [{"name": "s", "tool": "t"}]})
        }
        Kind::PromptAuthored => json!({"prompt_id": format!("pr-{tag}"), "text": "t"}),
        Kind::ConfidentialErased => {
            json!({"event_id": "evt-1", "commitment": format!("sha256:{}", "0".repeat(64)), "reason": "r"})
        }
        Kind::GenerationRecorded => {
            json!({"generation_id": format!("g-{tag}"), "model_version": "mv-1", "prompt": "pr-1", "outputs": [asset(format!("a-{tag}"))]})
        }
        Kind::SelectionMade => {
            json!({"selection_id": format!("s-{tag}"), "round": 1, "selected": ["img-1"], "rationale": "r"})
        }
        Kind::PostEditApplied => {
            json!({"edit_id": format!("e-{tag}"), "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["img-1"], "output": asset(format!("o-{tag}"))})
        }
        Kind::QcReviewRecorded => {
            json!({"review_id": format!("q-{tag}"), "asset": "img-1", "digest": digest("img-1"), "checks": [{"check": "edges", "result": "pass"}], "proof_medium": "screen", "proof_size": "1", "verdict": "pass"})
        }
        Kind::ApprovalRecorded => {
            json!({"approval_id": format!("ap-{tag}"), "asset": "img-1", "digest": digest("img-1"), "decision": "approved"})
        }
        Kind::DeliveryRecorded => {
            json!({"delivery_id": format!("d-{tag}"), "master_asset": "img-1", "variant": asset(format!("v-{tag}")), "format": "jpeg", "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en", "usage": "commercial"})
        }
        Kind::StageMarked => json!({"stage": "production", "mark": "opened"}),
        Kind::NoteAdded => json!({"text": "t"}),
        Kind::EventRetracted => json!({"event_id": "never-was", "reason": "r"}),
        Kind::ActorRegistered => {
            json!({"actor_id": format!("new-{tag}"), "display_name": "n", "role": "producer", "organization": AGENCY, "keys": [{"key_id": format!("new-{tag}-k"), "public_key": lineage_ledger::crypto::keys::KeyFile::generate("x", "y").public_key_base64()}]})
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
            let project = if kind.is_system() { "system" } else { "acme-client:p1" };
            let tag = format!("{}-{}", role.as_str(), kind.as_str()).replace('_', "-");
            let answer = p.app.send(&signer.envelope(project, kind.as_str(), body(*kind, &tag)));
            // In the project, each crew member's project role is its registered role; the admin
            // is no member, so what its row does not allow it is refused as to a non-member.
            let refused_for_role = answer.body["type"] == "urn:lineage:problem:role-not-allowed"
                || (*role == Role::Admin && answer.body["type"] == "urn:lineage:problem:not-a-member");
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

/// Writes into a governed project by a member, a non-member of the same organisation, a removed
/// member and an actor of another organisation, for kinds each one's role allows: only the
/// member gets in. The others are told the same as for a project that does not exist, before
/// anything about the project is looked at.
#[test]
fn only_members_write_into_a_project() {
    let p = Production::new();
    let app = &p.app;
    app.organization("rival-brand", "client");
    let idle = app.register("idle-artist", "ai_artist");
    let rival = app.register_in("rival-artist", "ai_artist", "rival-brand");
    let removed = app.register("gone-artist", "ai_artist");
    let added = p.send(&p.producer, "member_added", json!({"actor_id": "gone-artist", "role": "ai_artist"}));
    assert_eq!(added.status, 201, "{:?}", added.body);
    let gone = p.send(&p.producer, "member_removed", json!({"actor_id": "gone-artist", "reason": "wrapped"}));
    assert_eq!(gone.status, 201, "{:?}", gone.body);
    let callers: Vec<(&str, &Signer, u16)> = vec![
        ("member", &p.artist, 201),
        ("non-member", &idle, 403),
        ("removed member", &removed, 403),
        ("other organisation", &rival, 403),
    ];
    type BodyOf = fn(&str) -> Value;
    let kinds: Vec<(&str, BodyOf)> = vec![
        ("note_added", |_| json!({"text": "t"})),
        ("prompt_authored", |tag| json!({"prompt_id": format!("pr-{tag}"), "text": "t"})),
        (
            "generation_recorded",
            |tag| json!({"generation_id": format!("g-{tag}"), "model_version": "mv-1", "prompt": "pr-1", "outputs": [asset(&format!("a-{tag}"))]}),
        ),
        (
            "selection_made",
            |tag| json!({"selection_id": format!("s-{tag}"), "round": 1, "selected": ["img-1"], "rationale": "r"}),
        ),
    ];
    for (who, signer, status) in &callers {
        for (kind, body) in &kinds {
            let tag = format!("{who}-{kind}").replace([' ', '_'], "-");
            for project in ["acme-client:p1", "no-such-project"] {
                let head = app.head();
                let answer = app.send(&signer.envelope(project, kind, body(&tag)));
                let want = if project == "acme-client:p1" { *status } else { 403 };
                assert_eq!(answer.status, want, "{who} {kind} in {project}: {:?}", answer.body);
                if want == 403 {
                    assert_eq!(answer.body["type"], "urn:lineage:problem:not-a-member", "{who} {kind} in {project}");
                    assert_eq!(answer.body["field"], "payload.project");
                    let detail = answer.body["detail"].as_str().unwrap();
                    assert_eq!(detail, format!("actor `{}` is not a member of project `{project}`", signer.key.actor));
                    assert_eq!(app.head(), head, "nothing is written");
                }
            }
        }
    }
    // Nothing about the project reaches a non-member: not the real digest, not the version,
    // not whether an event id is there.
    let real = p.send(&p.qc, "qc_review_recorded", json!({"review_id": "q-real", "asset": "img-1", "digest": digest("img-1"), "checks": [{"check": "edges", "result": "pass"}], "proof_medium": "screen", "proof_size": "1", "verdict": "pass"}));
    assert_eq!(real.status, 201);
    let outsider_qc = app.register("outside-qc", "qc_reviewer");
    let wrong_digest = json!({"review_id": "q-x", "asset": "img-1", "digest": digest("img-2"), "checks": [{"check": "edges", "result": "pass"}], "proof_medium": "screen", "proof_size": "1", "verdict": "pass"});
    let mut versioned = outsider_qc.payload("acme-client:p1", "note_added", json!({"text": "t"}));
    versioned["expected_version"] = json!(1);
    let mut retried = outsider_qc.payload("acme-client:p1", "note_added", json!({"text": "t"}));
    retried["event_id"] = real.body["event_id"].clone();
    for (probe, envelope) in [
        ("a digest mismatch", outsider_qc.envelope("acme-client:p1", "qc_review_recorded", wrong_digest.clone())),
        ("a stale expected_version", outsider_qc.sign(&versioned)),
        ("an event id in the project", outsider_qc.sign(&retried)),
    ] {
        let answer = app.send(&envelope);
        assert_eq!(answer.status, 403, "{probe}: {:?}", answer.body);
        assert_eq!(answer.body["type"], "urn:lineage:problem:not-a-member", "{probe}");
        assert!(answer.body.get("expected").is_none() && answer.body.get("actual").is_none(), "{probe}");
        assert!(!answer.body["detail"].as_str().unwrap().contains("sha256:"), "{probe}");
    }
    // A member hears of the digest it got wrong.
    let answer = app.send(&p.qc.envelope("acme-client:p1", "qc_review_recorded", wrong_digest));
    assert_eq!(answer.body["type"], "urn:lineage:problem:digest-mismatch");
    // A producer of another client cannot become a member by creating a project for this one.
    let rival_producer = app.register_in("rival-producer", "producer", "rival-brand");
    let head = app.head();
    let created = app.send(&rival_producer.envelope(
        "acme-client:for-the-client",
        "project_created",
        json!({"content_type": "social", "title": "t", "client_organization": CLIENT}),
    ));
    assert_eq!(created.status, 422, "{:?}", created.body);
    assert_eq!(created.body["type"], "urn:lineage:problem:invalid-event");
    assert_eq!(created.body["field"], "payload.body.client_organization");
    assert_eq!(app.head(), head, "nothing is written");
    let own = app.send(&rival_producer.envelope(
        "rival-brand:for-the-rival",
        "project_created",
        json!({"content_type": "social", "title": "t", "client_organization": "rival-brand"}),
    ));
    assert_eq!(own.status, 201, "for its own client it may: {:?}", own.body);
}

/// Readers scoped to an organisation see its projects (as client, or with a member of it), the
/// actors of those projects and its own, and nothing of the rest, in the feed too.
#[test]
fn an_organisation_token_sees_its_projects_only() {
    let p = Production::new();
    let app = &p.app;
    app.organization("post-house", "vendor");
    app.organization("rival-brand", "client");
    let retoucher = app.register_in("vendor-retoucher", "post_artist", "post-house");
    let rival_producer = app.register("rival-producer", "producer");
    let created = app.send(&rival_producer.envelope(
        "rival-brand:rival-job",
        "project_created",
        json!({"content_type": "social", "title": "t", "client_organization": "rival-brand"}),
    ));
    assert_eq!(created.status, 201, "{:?}", created.body);
    let token = |org: &str| {
        let answer =
            app.client.post("/v1/tokens", json!({"name": org, "organization": org}).to_string().as_bytes()).unwrap();
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        Client::new(&app.url).with_token(answer.body["token"].as_str().unwrap())
    };
    let (client, vendor, rival) = (token(CLIENT), token("post-house"), token("rival-brand"));
    assert_eq!(vendor.get("/v1/projects/acme-client:p1/status").unwrap().status, 403, "not a member yet");
    let added = p.send(&p.producer, "member_added", json!({"actor_id": "vendor-retoucher", "role": "post_artist"}));
    assert_eq!(added.status, 201);
    // (reader, project, may read)
    for (name, reader, project, readable) in [
        ("client", &client, "acme-client:p1", true),
        ("client", &client, "rival-brand:rival-job", false),
        ("vendor", &vendor, "acme-client:p1", true),
        ("vendor", &vendor, "rival-brand:rival-job", false),
        ("rival", &rival, "rival-brand:rival-job", true),
        ("rival", &rival, "acme-client:p1", false),
    ] {
        let answer = reader.get(&format!("/v1/projects/{project}/events")).unwrap();
        assert_eq!(answer.status, if readable { 200 } else { 403 }, "{name} reading {project}: {:?}", answer.body);
        let feed = reader.get("/v1/entries?limit=1000").unwrap();
        assert_eq!(feed.status, 200);
        let projects: std::collections::BTreeSet<String> = feed.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["project"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(projects.contains(project), readable, "{name}'s feed: {projects:?}");
        assert!(!projects.contains("system"), "{name}'s feed holds no system entries");
    }
    let actors = |reader: &Client| -> Vec<String> {
        let answer = reader.get("/v1/actors").unwrap();
        answer.body["actors"].as_array().unwrap().iter().map(|a| a["actor_id"].as_str().unwrap().to_owned()).collect()
    };
    let seen = actors(&rival);
    assert!(!seen.iter().any(|a| a.starts_with("p1-")), "the rival sees no one of p1: {seen:?}");
    assert!(seen.contains(&"rival-producer".to_owned()), "{seen:?}");
    let seen = actors(&vendor);
    assert!(seen.contains(&"vendor-retoucher".to_owned()) && seen.contains(&"p1-producer".to_owned()), "{seen:?}");
    assert!(!seen.contains(&"rival-producer".to_owned()), "{seen:?}");
    assert_eq!(rival.get("/v1/actors/p1-producer").unwrap().status, 404);
    // Removed from the project, the vendor reads it no more.
    let removed = p.send(&p.producer, "member_removed", json!({"actor_id": "vendor-retoucher", "reason": "done"}));
    assert_eq!(removed.status, 201);
    assert_eq!(vendor.get("/v1/projects/acme-client:p1/status").unwrap().status, 403);
    let _ = retoucher;
    // Entries, events and proofs of a project out of scope are answered as missing ones are,
    // naming no project: a scoped reader cannot list other clients' projects by sequence.
    let head = app.head();
    let mut foreign = None;
    for sequence in 0..head {
        let entry = app.get(&format!("/v1/entries/{sequence}"));
        if entry.body["project"] == "acme-client:p1" {
            foreign = Some((sequence, entry.body["event_id"].as_str().unwrap().to_owned()));
            break;
        }
    }
    let (sequence, event) = foreign.expect("an entry of p1");
    for path in [
        format!("/v1/entries/{sequence}"),
        format!("/v1/events/{event}"),
        format!("/v1/proofs/inclusion?sequence={sequence}"),
        format!("/v1/proofs/inclusion?event_id={event}"),
    ] {
        let answer = rival.get(&path).unwrap();
        assert_eq!(answer.status, 404, "{path}: {:?}", answer.body);
        assert_eq!(answer.body["type"], "urn:lineage:problem:not-found", "{path}");
        let missing = path.replace(&event, "no-such-event").replace(&format!("={sequence}"), "=999999");
        let missing = missing.replace(&format!("/v1/entries/{sequence}"), "/v1/entries/999999");
        let absent = rival.get(&missing).unwrap();
        assert_eq!(absent.status, 404, "{missing}: {:?}", absent.body);
        // The same answer as for what does not exist, but for the id asked about.
        let unnamed = |detail: &Value| {
            detail
                .as_str()
                .unwrap()
                .replace(&event, "ID")
                .replace("no-such-event", "ID")
                .replace(&sequence.to_string(), "N")
                .replace("999999", "N")
        };
        assert_eq!(unnamed(&answer.body["detail"]), unnamed(&absent.body["detail"]), "{path}");
    }
    // An evidence bundle holds only what its asset needs: the project's own client may have it,
    // and it names no actor, organisation or project of anyone else.
    let answer = client.get("/v1/projects/acme-client:p1/assets/img-1/evidence").unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let bundle: lineage_ledger::log::evidence::Bundle = serde_json::from_str(&answer.text).unwrap();
    let vkey = app.get("/v1/vkey").text;
    lineage_ledger::log::evidence::verify(&bundle, Some(vkey.trim())).expect("the bundle verifies");
    for needle in ["rival", "post-house"] {
        assert!(!answer.text.contains(needle), "the bundle names `{needle}`");
        let opened = bundle.entries.iter().map(|e| {
            let entry = e.to_entry().unwrap();
            String::from_utf8(lineage_ledger::log::open_entry(&entry).unwrap().0.payload).unwrap()
        });
        assert!(opened.clone().all(|payload| !payload.contains(needle)), "a payload names `{needle}`");
    }
    assert_eq!(rival.get("/v1/projects/acme-client:p1/assets/img-1/evidence").unwrap().status, 403);
}

/// A project id cannot be taken ahead or across clients: a new project is named in its client's
/// namespace, and a token names only projects that exist.
#[test]
fn project_ids_cannot_be_taken_ahead_or_across_clients() {
    let p = Production::new();
    let app = &p.app;
    app.organization("rival-brand", "client");
    let rival_producer = app.register_in("rival-producer", "producer", "rival-brand");
    app.organization("post-house", "vendor");
    let vendor_producer = app.register_in("vendor-producer", "producer", "post-house");
    let wanted = pid("spring-2027");
    let tokens_before = app.get("/v1/tokens").body["tokens"].as_array().unwrap().len();
    // A token for the project before it exists is not issued.
    let ahead =
        app.client.post("/v1/tokens", json!({"name": "ahead", "projects": [wanted]}).to_string().as_bytes()).unwrap();
    assert_eq!(ahead.status, 400, "{:?}", ahead.body);
    assert_eq!(ahead.body["type"], "urn:lineage:problem:invalid-token-request");
    assert_eq!(ahead.body["field"], "projects");
    assert!(ahead.body["detail"].as_str().unwrap().contains("does not exist"), "{:?}", ahead.body);
    assert_eq!(app.get("/v1/tokens").body["tokens"].as_array().unwrap().len(), tokens_before, "nothing issued");
    // (case, signer, project id, client organisation, status, problem type, field)
    let head = app.head();
    let cases = [
        (
            "another client's producer, the id in this client's namespace, for its own client",
            &rival_producer,
            wanted.as_str(),
            "rival-brand",
            422,
            "invalid-payload",
            "payload.project",
        ),
        (
            "another client's producer, for this client",
            &rival_producer,
            wanted.as_str(),
            CLIENT,
            422,
            "invalid-event",
            "payload.body.client_organization",
        ),
        (
            "this client's producer, an id outside the namespace",
            &p.producer,
            "spring-2027",
            CLIENT,
            422,
            "invalid-payload",
            "payload.project",
        ),
        (
            "this client's producer, an id in another client's namespace",
            &p.producer,
            "rival-brand:spring-2027",
            CLIENT,
            422,
            "invalid-payload",
            "payload.project",
        ),
        ("a name with a colon", &p.producer, "acme-client:a:b", CLIENT, 422, "invalid-payload", "payload.project"),
        ("an empty name", &p.producer, "acme-client:", CLIENT, 422, "invalid-payload", "payload.project"),
        (
            "a vendor's producer, for this client",
            &vendor_producer,
            wanted.as_str(),
            CLIENT,
            422,
            "invalid-event",
            "payload.body.client_organization",
        ),
    ];
    for (case, signer, project, client, status, problem, field) in cases {
        let answer = app.send(&signer.envelope(
            project,
            "project_created",
            json!({"content_type": "social", "title": "t", "client_organization": client}),
        ));
        assert_eq!(answer.status, status, "{case}: {:?}", answer.body);
        assert_eq!(answer.body["type"], format!("urn:lineage:problem:{problem}"), "{case}: {:?}", answer.body);
        assert_eq!(answer.body["field"], field, "{case}");
        assert_eq!(app.head(), head, "{case}: nothing is written");
    }
    // The rightful producer creates it; the rival has its own namespace for the same name.
    let created = app.send(&p.producer.envelope(
        &wanted,
        "project_created",
        json!({"content_type": "social", "title": "t", "client_organization": CLIENT}),
    ));
    assert_eq!(created.status, 201, "{:?}", created.body);
    let own = app.send(&rival_producer.envelope(
        "rival-brand:spring-2027",
        "project_created",
        json!({"content_type": "social", "title": "t", "client_organization": "rival-brand"}),
    ));
    assert_eq!(own.status, 201, "{:?}", own.body);
    // Now that it exists, a token may name it.
    let scoped =
        app.client.post("/v1/tokens", json!({"name": "now", "projects": [wanted]}).to_string().as_bytes()).unwrap();
    assert_eq!(scoped.status, 201, "{:?}", scoped.body);
}
