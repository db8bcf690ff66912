//! Stage status, provenance, audit trails and history of the demo campaign, checked against
//! expectation files in `tests/api/expected/` (written by hand from what the demo records).

use crate::helpers::*;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// One server with the demo campaign recorded as project `aurora`, shared by these tests.
fn aurora() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| {
        let app = spawn_app();
        let admin = lineage_ledger::crypto::keys::KeyFile::load(&app.data().admin_key()).unwrap();
        lineage_ledger::cli::demo::run(&app.client, admin, "aurora").expect("the demo runs");
        app
    })
}

/// Compares lines with an expectation file (comment lines start with `#`).
fn check(name: &str, actual: Vec<String>) {
    let path = format!("tests/api/expected/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let expected: Vec<&str> = text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    assert_eq!(actual, expected, "{path} differs from what the ledger answers");
}

fn status_lines(body: &Value) -> Vec<String> {
    let mut lines: Vec<String> = body["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let assets: Vec<&str> = s["assets"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
            let assets = if assets.is_empty() { "-".to_owned() } else { assets.join(",") };
            format!(
                "{} {} {} {} {assets}",
                s["stage"].as_str().unwrap(),
                s["state"].as_str().unwrap(),
                s["event_count"],
                s["times_reopened"]
            )
        })
        .collect();
    let overlapping: Vec<&str> = body["overlapping"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    lines.push(format!("overlapping {}", if overlapping.is_empty() { "-".to_owned() } else { overlapping.join(",") }));
    lines
}

fn node_keys(body: &Value) -> Vec<String> {
    let mut keys: Vec<String> =
        body["graph"]["nodes"].as_array().unwrap().iter().map(|n| n["key"].as_str().unwrap().to_owned()).collect();
    keys.sort();
    keys
}

#[test]
fn stage_status_of_the_demo() {
    let app = aurora();
    let status = app.get("/v1/projects/aurora-outdoor:aurora/status");
    assert_eq!(status.status, 200, "{:?}", status.body);
    assert_eq!(status.body["content_type"], "campaign");
    check("aurora-status.txt", status_lines(&status.body));
}

#[test]
fn as_of_shows_the_earlier_state() {
    let app = aurora();
    let edits = app.get("/v1/projects/aurora-outdoor:aurora/history?kind=post_edit_applied&limit=1");
    let retouch = edits.body["entries"][0]["sequence"].as_u64().unwrap();
    let earlier = app.get(&format!("/v1/projects/aurora-outdoor:aurora/status?as_of={retouch}"));
    assert_eq!(earlier.status, 200, "{:?}", earlier.body);
    assert_eq!(earlier.body["log_size"], retouch + 1);
    check("aurora-status-mid-production.txt", status_lines(&earlier.body));
    // As of a time: the retouch's receive time gives at least that state.
    let received = edits.body["entries"][0]["received_at"].as_str().unwrap().to_owned();
    let by_time = app.get(&format!("/v1/projects/aurora-outdoor:aurora/status?as_of={}", received.replace('+', "%2B")));
    assert_eq!(by_time.status, 200, "{:?}", by_time.body);
    assert!(by_time.body["log_size"].as_u64().unwrap() > retouch);
    // Provenance as of then: the master did not exist yet.
    assert_eq!(
        app.get(&format!("/v1/projects/aurora-outdoor:aurora/assets/hero-master-v2/provenance?as_of={retouch}")).status,
        404
    );
    assert_eq!(
        app.get(&format!("/v1/projects/aurora-outdoor:aurora/assets/hero-retouched/provenance?as_of={retouch}")).status,
        200
    );
    for (query, status, problem) in [
        ("as_of=999999", 422, "as-of-out-of-range"),
        ("as_of=2999-01-01T00:00:00Z", 422, "as-of-out-of-range"),
        ("as_of=yesterday", 400, "invalid-query"),
    ] {
        let answer = app.get(&format!("/v1/projects/aurora-outdoor:aurora/status?{query}"));
        assert_eq!(answer.status, status, "{query}");
        assert_eq!(answer.body["type"], format!("urn:lineage:problem:{problem}"), "{query}");
    }
}

#[test]
fn provenance_of_every_delivery() {
    let app = aurora();
    for asset in ["hero-billboard", "hero-ig-4x5", "hero-print-a4"] {
        let answer = app.get(&format!("/v1/projects/aurora-outdoor:aurora/assets/{asset}/provenance"));
        assert_eq!(answer.status, 200, "{asset}: {:?}", answer.body);
        check(&format!("aurora-provenance-{asset}.txt"), node_keys(&answer.body));
        let summary = &answer.body["summary"];
        assert_eq!(summary["briefs"], serde_json::json!(["brief-main"]));
        let models: Vec<&str> = summary["model_versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["model_version_id"].as_str().unwrap())
            .collect();
        assert!(models.contains(&"mv-aurora-lora-3"), "{models:?}");
        let lora = summary["model_versions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["model_version_id"] == "mv-aurora-lora-3")
            .unwrap();
        assert_eq!(lora["license"], "proprietary");
        assert!(lora["weights_digest"].as_str().unwrap().starts_with("sha256:"));
        // The variant itself was never reviewed; the master's passing review and approvals are upstream.
        assert_eq!(summary["reviews"].as_array().unwrap().len(), 0);
        let upstream: Vec<(&str, &str)> = summary["upstream_reviews"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["review_id"].as_str().unwrap(), r["verdict"].as_str().unwrap()))
            .collect();
        assert!(upstream.contains(&("qc-2", "pass")) && upstream.contains(&("qc-1", "fail")), "{upstream:?}");
        assert_eq!(summary["upstream_approvals"].as_array().unwrap().len(), 3);
        assert!(summary["tools"].as_array().unwrap().iter().any(|t| t == "Nuke 15"));
    }
    let master = app.get("/v1/projects/aurora-outdoor:aurora/assets/hero-master-v2/provenance");
    let reviews: Vec<&str> = master.body["summary"]["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["review_id"].as_str().unwrap())
        .collect();
    assert_eq!(reviews, ["qc-2", "qc-3"], "only the reviews of this exact digest hold for it");
    assert_eq!(master.body["summary"]["approvals"].as_array().unwrap().len(), 3);
}

#[test]
fn descendants_reach_every_variant() {
    let app = aurora();
    let answer = app.get("/v1/projects/aurora-outdoor:aurora/assets/img-12/provenance?direction=descendants");
    assert_eq!(answer.status, 200);
    check("aurora-descendants-img-12.txt", node_keys(&answer.body));
    let shallow = app.get("/v1/projects/aurora-outdoor:aurora/assets/img-12/provenance?direction=descendants&depth=2");
    assert!(node_keys(&shallow.body).len() < node_keys(&answer.body).len(), "the depth limit holds");
    let dot = app.get("/v1/projects/aurora-outdoor:aurora/assets/hero-billboard/provenance?format=dot");
    assert_eq!(dot.status, 200);
    assert!(dot.text.starts_with("digraph provenance {"), "{}", dot.text);
    assert!(
        dot.text.contains("\"asset:hero-billboard\" -> \"delivery:dl-billboard\" [label=\"generated_by\"]"),
        "{}",
        dot.text
    );
    for (query, status) in [("direction=sideways", 400), ("format=svg", 400), ("depth=-1", 400)] {
        assert_eq!(
            app.get(&format!("/v1/projects/aurora-outdoor:aurora/assets/img-12/provenance?{query}")).status,
            status,
            "{query}"
        );
    }
    assert_eq!(app.get("/v1/projects/aurora-outdoor:aurora/assets/ghost/provenance").status, 404);
}

#[test]
fn the_audit_trail_of_the_master() {
    let app = aurora();
    let answer = app.get("/v1/projects/aurora-outdoor:aurora/assets/hero-master-v2/audit");
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let entries = answer.body["entries"].as_array().unwrap();
    let lines: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                "{} {} {}{} | {}",
                e["kind"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
                e["signature"].as_str().unwrap(),
                if e["retracted"] == true { ", retracted" } else { "" },
                e["says"].as_str().unwrap(),
            )
        })
        .collect();
    check("aurora-audit-hero-master-v2.txt", lines);
    // What a reader needs to check each entry: its leaf hash and payload digest agree with the
    // entry as the log serves it, and its proof is where it says.
    use base64::Engine as _;
    for e in entries {
        let stored = app.get(&format!("/v1/entries/{}", e["sequence"]));
        assert_eq!(e["leaf_hash"], stored.body["leaf_hash"]);
        let envelope = &stored.body["envelope"];
        let payload = base64::engine::general_purpose::STANDARD.decode(envelope["payload"].as_str().unwrap()).unwrap();
        assert_eq!(e["payload_digest"].as_str().unwrap(), lineage_ledger::cli::client::digest_of(&payload));
        assert_eq!(app.get(e["proof"].as_str().unwrap()).status, 200);
        assert_eq!(e["key_revoked_since"], e["signature"] == "valid, key revoked since");
    }
    let sequences: Vec<u64> = entries.iter().map(|e| e["sequence"].as_u64().unwrap()).collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "ledger order");
    assert!(entries.iter().all(|e| e["hash"].as_str().unwrap().len() == 64));
    assert_eq!(app.get("/v1/projects/aurora-outdoor:aurora/assets/ghost/audit").status, 404);
}

#[test]
fn history_filters_and_pages() {
    let app = aurora();
    let count = |query: &str| -> usize {
        let answer = app.get(&format!("/v1/projects/aurora-outdoor:aurora/history?limit=1000&{query}"));
        assert_eq!(answer.status, 200, "{query}: {:?}", answer.body);
        answer.body["entries"].as_array().unwrap().len()
    };
    // 66 of the work (the packshot's import, the second round of skies, the casting prompt and
    // the erasure of its talent's name among them), 7 members added and one removed, a policy
    // amendment and the print proof.
    assert_eq!(count(""), 76);
    assert_eq!(count("kind=confidential_erased"), 1);
    assert_eq!(count("kind=asset_imported"), 1);
    assert_eq!(count("kind=generation_recorded"), 22);
    assert_eq!(count("actor=genpipe-9b8902"), 25);
    assert_eq!(count("stage=delivery"), 5);
    assert_eq!(count("asset=hero-master-v2"), 9);
    assert_eq!(count("kind=approval_recorded&asset=hero-master-v2"), 3);
    assert_eq!(count("from=2999-01-01T00:00:00Z"), 0);
    assert_eq!(count("to=2000-01-01T00:00:00Z"), 0);
    let first = app.get("/v1/projects/aurora-outdoor:aurora/history?kind=generation_recorded&limit=8");
    let next = first.body["next"].as_u64().unwrap();
    let second =
        app.get(&format!("/v1/projects/aurora-outdoor:aurora/history?kind=generation_recorded&limit=8&after={next}"));
    let third = app.get(&format!(
        "/v1/projects/aurora-outdoor:aurora/history?kind=generation_recorded&limit=8&after={}",
        second.body["next"]
    ));
    let ids = |v: &Value| -> Vec<String> {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["payload"]["body"]["generation_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut all = ids(&first.body);
    all.extend(ids(&second.body));
    all.extend(ids(&third.body));
    let expected: Vec<String> = (1..=22).map(|i| format!("gen-{i:02}")).collect();
    assert_eq!(all, expected, "three pages, in order, nothing twice");
    assert!(third.body["next"].is_null());
    for query in ["kind=teleport", "stage=post", "from=tuesday", "limit=0", "asset=a%2Fb"] {
        let answer = app.get(&format!("/v1/projects/aurora-outdoor:aurora/history?{query}"));
        assert_eq!(answer.status, 400, "{query}");
    }
    assert_eq!(app.get("/v1/projects/nowhere/history").status, 404);
}

/// With no room to keep projections between queries, queries that alternate between projects
/// fold them again from the store (and catch up the one kept), answering exactly what folding
/// the whole log at once answers.
#[test]
fn projections_dropped_for_lack_of_room_are_folded_again() {
    let north = Production::on(spawn_app_with(|s| s.ledger.projection_cache_bytes = 0), "north");
    let south = Production::on(north.app, "south");
    let app = &south.app;
    for round in 0..3 {
        for (project, signer) in [(pid("north"), &north.director), (pid("south"), &south.director)] {
            let reference = json!({"reference_id": format!("ref-{round}-more"), "category": "visual", "title": "More",
                "source": "board", "rights": {"status": "owned", "reproduction": "allowed"}});
            let sent = app.send(&signer.envelope(&project, "reference_added", reference));
            assert_eq!(sent.status, 201, "{:?}", sent.body);
            let now = app.get(&format!("/v1/projects/{project}/status"));
            assert_eq!(now.status, 200, "{:?}", now.body);
            // The production's 14 events (7 of its making, the crew's 7 memberships), and one more
            // reference each round.
            assert_eq!(now.body["events"], 15 + round, "{project}, round {round}");
            let head = app.head();
            assert_eq!(now.body["log_size"], head);
            assert_eq!(now.body, app.get(&format!("/v1/projects/{project}/status?as_of={}", head - 1)).body);
            let history = format!("/v1/projects/{project}/history?kind=reference_added");
            let folded = app.get(&format!("{history}&as_of={}", head - 1));
            assert_eq!(app.get(&history).body, folded.body);
            assert_eq!(folded.body["entries"].as_array().unwrap().len(), 2 + round);
        }
    }
    let system = app.get("/v1/projects/system/status");
    assert_eq!(system.status, 404, "the system stream has no production to project: {:?}", system.body);
}

#[test]
fn the_audit_trail_says_what_was_retracted_and_whose_key_was_revoked_later() {
    let p = Production::new();
    let review = json!({"review_id": "q-brand", "asset": "img-1", "digest": digest("img-1"), "checks": [{"check": "anatomy", "result": "fail"}], "proof_medium": "screen", "proof_size": "1", "verdict": "fail"});
    let recorded = p.send(&p.brand, "qc_review_recorded", review);
    assert_eq!(recorded.status, 201, "{:?}", recorded.body);
    let retraction =
        p.send(&p.brand, "event_retracted", json!({"event_id": recorded.body["event_id"], "reason": "wrong file"}));
    assert_eq!(retraction.status, 201, "{:?}", retraction.body);
    let revoked = p.app.send(&p.app.admin.envelope(
        "system",
        "key_revoked",
        json!({"actor_id": p.brand.key.actor, "key_id": p.brand.key.key_id, "reason": "left"}),
    ));
    assert_eq!(revoked.status, 201, "{:?}", revoked.body);
    let trail = p.app.get("/v1/projects/acme-client:p1/assets/img-1/audit");
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    let entry = trail.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_id"] == recorded.body["event_id"])
        .unwrap()
        .clone();
    assert_eq!(entry["retracted"], true, "{entry:?}");
    assert_eq!(entry["key_revoked_since"], true, "{entry:?}");
    assert_eq!(entry["signature"], "valid, key revoked since");
    assert_eq!(
        entry["says"],
        format!("QC review `q-brand`: fail (anatomy failed), screen proof, of {}", digest("img-1"))
    );
    // The retraction is listed at its place, signed by the same revoked key.
    let entries = trail.body["entries"].as_array().unwrap();
    let retraction = entries.iter().find(|e| e["kind"] == "event_retracted").expect("the retraction is listed");
    assert_eq!(retraction["says"], format!("retracts `{}`: wrong file", recorded.body["event_id"].as_str().unwrap()));
    assert_eq!(retraction["signature"], "valid, key revoked since");
    assert!(retraction["sequence"].as_u64() > entry["sequence"].as_u64());
    let others: Vec<&Value> = entries
        .iter()
        .filter(|e| e["event_id"] != recorded.body["event_id"] && e["kind"] != "event_retracted")
        .collect();
    assert!(others.iter().all(|e| e["retracted"] == false && e["key_revoked_since"] == false), "{others:?}");
}

/// Evidence against bytes follows them: an asset recorded with the bytes of another that failed
/// QC and was rejected shows that evidence in its provenance summary, its audit trail and its
/// evidence bundle, as the policy weighs it; what passed under another asset id is not shown as
/// its own.
#[test]
fn evidence_against_bytes_follows_them_into_summary_audit_and_bundle() {
    let p = Production::new();
    let same_bytes = |id: &str, of: &str| json!({"asset_id": id, "digest": digest(of), "media_type": "image/png"});
    let edit = json!({"edit_id": "ed-m2", "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["img-1"], "output": same_bytes("m2", "bad")});
    assert_eq!(p.send(&p.post, "post_edit_applied", edit).status, 201);
    let bad = json!({"generation_id": "gen-bad", "model_version": "mv-1", "prompt": "pr-1", "outputs": [asset("bad")]});
    assert_eq!(p.send(&p.integration, "generation_recorded", bad).status, 201);
    let review = json!({"review_id": "qc-bad", "asset": "bad", "digest": digest("bad"), "checks": [{"check": "anatomy", "result": "fail"}],
                        "proof_medium": "screen", "proof_size": "100%", "proof_scale_percent": 100, "verdict": "fail"});
    assert_eq!(p.send(&p.qc, "qc_review_recorded", review).status, 201);
    let rejection =
        json!({"selection_id": "sel-bad", "round": 1, "selected": [], "rejected": ["bad"], "rationale": "no"});
    assert_eq!(p.send(&p.director, "selection_made", rejection).status, 201);
    // img-1 approved; m3 claims its bytes under a new id.
    let approval =
        json!({"approval_id": "ap-img-1", "asset": "img-1", "digest": digest("img-1"), "decision": "approved"});
    assert_eq!(p.send(&p.director, "approval_recorded", approval).status, 201);
    let m3 = json!({"generation_id": "gen-m3", "model_version": "mv-1", "prompt": "pr-1", "outputs": [same_bytes("m3", "img-1")]});
    assert_eq!(p.send(&p.integration, "generation_recorded", m3).status, 201);

    let project = &p.project;
    let summary = p.app.get(&format!("/v1/projects/{project}/assets/m2/provenance")).body["summary"].clone();
    let reviews: Vec<&str> =
        summary["reviews"].as_array().unwrap().iter().map(|r| r["review_id"].as_str().unwrap()).collect();
    assert_eq!(reviews, ["qc-bad"], "the failed review of the same bytes counts against m2: {summary:?}");
    assert_eq!(summary["reviews"][0]["asset"], "bad");
    let m3 = p.app.get(&format!("/v1/projects/{project}/assets/m3/provenance")).body["summary"].clone();
    assert_eq!(m3["approvals"], json!([]), "img-1's approval is img-1's, not m3's: {m3:?}");

    let trail = p.app.get(&format!("/v1/projects/{project}/assets/m2/audit"));
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    let says: Vec<String> =
        trail.body["entries"].as_array().unwrap().iter().map(|e| e["says"].as_str().unwrap().to_owned()).collect();
    assert!(says.iter().any(|s| s.starts_with("against the same bytes") && s.contains("qc-bad")), "{says:?}");
    assert!(says.iter().any(|s| s.starts_with("against the same bytes") && s.contains("sel-bad")), "{says:?}");

    let bundle = p.app.get(&format!("/v1/projects/{project}/assets/m2/evidence"));
    assert_eq!(bundle.status, 200, "{:?}", bundle.body);
    let bundle: lineage_ledger::log::evidence::Bundle = serde_json::from_str(&bundle.text).unwrap();
    let ids: Vec<String> = bundle
        .entries
        .iter()
        .filter_map(|e| lineage_ledger::log::open_entry(&e.to_entry().unwrap()).ok())
        .map(|(_, payload)| payload.event_id.to_string())
        .collect();
    for event in trail.body["entries"].as_array().unwrap().iter().map(|e| e["event_id"].as_str().unwrap()) {
        assert!(ids.iter().any(|id| id == event), "the bundle holds every audited entry, {event} too");
    }
    let vkey = p.app.get("/v1/vkey").text;
    lineage_ledger::log::evidence::verify(&bundle, Some(vkey.trim())).expect("the bundle verifies");
}
