//! Evidence against bytes, where a second review found it did not follow them or a view did
//! not show it: a delivered variant's own verdicts, a reference's bytes, a retracted maker of
//! the same bytes in a bundle and an audit trail, a lineage deeper than the graph's default
//! depth, a retracted delivery in the status and in `verify-evidence --file`.

use crate::helpers::*;
use serde_json::{json, Value};

fn same(id: &str, of: &str) -> Value {
    json!({"asset_id": id, "digest": digest(of), "media_type": "image/png"})
}

/// `img-1` reviewed, approved by the creative director and the client: deliverable digitally.
fn ready(p: &Production) {
    let review = json!({"review_id": "qc-img-1", "asset": "img-1", "digest": digest("img-1"), "checks": [{"check": "anatomy", "result": "pass"}],
                        "proof_medium": "screen", "proof_size": "100%", "proof_scale_percent": 100, "verdict": "pass"});
    assert_eq!(p.send(&p.qc, "qc_review_recorded", review).status, 201);
    for (signer, id) in [(&p.director, "ap-cd"), (&p.client, "ap-client")] {
        let body = json!({"approval_id": id, "asset": "img-1", "digest": digest("img-1"), "decision": "approved"});
        assert_eq!(p.send(signer, "approval_recorded", body).status, 201);
    }
}

fn delivery(id: &str, variant: Value, usage: &str) -> Value {
    json!({"delivery_id": id, "master_asset": "img-1", "variant": variant, "format": "jpeg", "channel": id, "medium": "digital",
           "dimensions": {"width": 1, "height": 1}, "locale": "en", "usage": usage})
}

fn get(p: &Production, path: &str) -> Value {
    let answer = p.app.get(&format!("/v1/projects/{}/{path}", p.project));
    assert_eq!(answer.status, 200, "{path}: {:?}", answer.body);
    answer.body
}

#[test]
fn a_delivered_variants_own_verdicts_follow_its_bytes_into_the_next_delivery() {
    let p = Production::new();
    ready(&p);
    assert_eq!(p.send(&p.integration, "delivery_recorded", delivery("d1", same("v1", "z"), "commercial")).status, 201);
    let failed = json!({"review_id": "qc-v1", "asset": "v1", "digest": digest("z"), "checks": [{"check": "artifacts", "result": "fail"}],
                        "proof_medium": "screen", "proof_size": "100%", "proof_scale_percent": 100, "verdict": "fail"});
    assert_eq!(p.send(&p.qc, "qc_review_recorded", failed).status, 201);
    let head = p.app.head();
    let again = p.send(&p.integration, "delivery_recorded", delivery("d2", same("v2", "z"), "commercial"));
    assert_eq!(again.status, 422, "{:?}", again.body);
    assert_eq!(again.body["type"], "urn:lineage:problem:invalid-event");
    assert_eq!(again.body["field"], "payload.body.variant.digest");
    assert!(again.body["detail"].as_str().unwrap().contains("qc-v1"), "{:?}", again.body);
    assert_eq!(p.app.head(), head, "nothing is written");
}

#[test]
fn a_references_bytes_are_not_a_variant_and_reference_only_bytes_are_not_delivered_commercially() {
    let p = Production::new();
    let reference = json!({"reference_id": "ref-photo", "category": "visual", "title": "t", "source": "s", "digest": digest("photo"),
                           "rights": {"status": "licensed", "reproduction": "reference_only"}});
    assert_eq!(p.send(&p.director, "reference_added", reference).status, 201);
    ready(&p);
    let as_variant = p.send(&p.integration, "delivery_recorded", delivery("d1", same("v1", "photo"), "commercial"));
    assert_eq!(
        (as_variant.status, as_variant.body["field"].as_str()),
        (422, Some("payload.body.variant.digest")),
        "{:?}",
        as_variant.body
    );
    // A generated asset with the reference's bytes, made ready, is that reference reproduced.
    let copy = json!({"generation_id": "gen-copy", "model_version": "mv-1", "prompt": "pr-1", "outputs": [same("copy", "photo")]});
    assert_eq!(p.send(&p.integration, "generation_recorded", copy).status, 201);
    let readiness = get(&p, "assets/copy/readiness?medium=digital&format=jpeg&channel=web&usage=commercial");
    let rights =
        readiness["rules"].as_array().unwrap().iter().find(|r| r["rule"] == "rights.commercial").unwrap().clone();
    assert_eq!(rights["passed"], false, "{readiness:?}");
    assert!(rights["missing"].as_str().unwrap().contains("ref-photo"), "{rights:?}");
}

#[test]
fn a_retracted_maker_of_the_same_bytes_is_in_the_bundle_whole_and_said_so_in_the_audit_trail() {
    let p = Production::new();
    ready(&p);
    // img-2's post edit makes `twin` with img-1's bytes, then is retracted.
    let edit = json!({"edit_id": "ed-twin", "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["img-2"], "output": same("twin", "img-1")});
    let made = p.send(&p.post, "post_edit_applied", edit);
    assert_eq!(made.status, 201);
    let retract = json!({"event_id": made.body["event_id"], "reason": "wrong file"});
    assert_eq!(p.send(&p.producer, "event_retracted", retract).status, 201);
    let readiness = get(&p, "assets/img-1/readiness?medium=digital&format=jpeg&channel=web&usage=commercial");
    assert_eq!(readiness["ready"], false, "{readiness:?}");
    let trail = get(&p, "assets/img-1/audit");
    let says: Vec<&str> = trail["entries"].as_array().unwrap().iter().map(|e| e["says"].as_str().unwrap()).collect();
    assert!(says.iter().any(|s| s.contains("made asset `twin` in post edit `ed-twin`")), "{says:?}");
    let summary = get(&p, "assets/img-1/provenance")["summary"].clone();
    assert!(summary["retracted"].as_array().unwrap().iter().any(|v| v == "twin"), "{summary:?}");
    let bundle = p.app.get(&format!("/v1/projects/{}/assets/img-1/evidence", p.project));
    assert_eq!(bundle.status, 200);
    let bundle: lineage_ledger::log::evidence::Bundle = serde_json::from_str(&bundle.text).unwrap();
    let vkey = p.app.get("/v1/vkey").text;
    lineage_ledger::log::evidence::verify(&bundle, Some(vkey.trim()))
        .expect("whole backwards, with img-2's making entry");
}

#[test]
fn provenance_summarises_the_whole_ancestry_and_says_when_its_graph_is_cut() {
    let p = Production::new();
    let mut last = "img-1".to_owned();
    let edits: Vec<Vec<u8>> = (0..70)
        .map(|k| {
            let out = format!("c{k}");
            let body = json!({"edit_id": format!("e{k}"), "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": [last], "output": asset(&out)});
            last = out;
            p.envelope(&p.post, "post_edit_applied", body)
        })
        .collect();
    assert_eq!(p.app.batch(&edits).status, 201);
    // The generation that made img-1, 71 hops up, retracted.
    let generation =
        p.app.stream(&p.project).iter().find(|e| e["kind"] == "generation_recorded").unwrap()["event_id"].clone();
    assert_eq!(p.send(&p.producer, "event_retracted", json!({"event_id": generation, "reason": "r"})).status, 201);
    let provenance = get(&p, "assets/c69/provenance");
    assert_eq!(provenance["truncated"], true, "the graph stops at depth 64");
    let retracted = provenance["summary"]["retracted"].as_array().unwrap().clone();
    assert!(retracted.iter().any(|v| v == "img-1") && retracted.iter().any(|v| v == "gen-1"), "{retracted:?}");
    let whole = get(&p, "assets/c69/provenance?depth=1000");
    assert_eq!(whole["truncated"], false);
    let node = whole["graph"]["nodes"].as_array().unwrap().iter().find(|n| n["key"] == "asset:img-1").unwrap().clone();
    assert_eq!(node["retracted"], true, "what a retracted event made is shown retracted: {node:?}");
}

#[test]
fn a_retracted_delivery_leaves_the_status_and_does_not_deliver_a_file() {
    let p = Production::new();
    ready(&p);
    let delivered = p.send(&p.integration, "delivery_recorded", delivery("d1", asset("v1"), "commercial"));
    assert_eq!(delivered.status, 201);
    let stage = |status: &Value| {
        status["stages"].as_array().unwrap().iter().find(|s| s["stage"] == "delivery").unwrap().clone()
    };
    assert_eq!(stage(&get(&p, "status"))["assets"], json!(["img-1", "v1"]));
    let bundle_of = |p: &Production| p.app.get(&format!("/v1/projects/{}/assets/img-1/evidence", p.project)).text;
    let before = bundle_of(&p);
    assert_eq!(
        p.send(&p.producer, "event_retracted", json!({"event_id": delivered.body["event_id"], "reason": "recalled"}))
            .status,
        201
    );
    let delivery_stage = stage(&get(&p, "status"));
    assert_eq!(
        (delivery_stage["assets"].clone(), delivery_stage["event_count"].clone()),
        (json!([]), json!(0)),
        "{delivery_stage:?}"
    );
    // The file of the retracted delivery is not a delivered file of the master.
    let dir = p.app.dir.path();
    let (first, later, file) = (dir.join("before.json"), dir.join("after.json"), dir.join("v1.bin"));
    std::fs::write(&first, before).unwrap();
    std::fs::write(&later, bundle_of(&p)).unwrap();
    std::fs::write(&file, "v1").unwrap();
    let check = |bundle: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_lineage"))
            .args(["verify-evidence", bundle.to_str().unwrap(), "--file", file.to_str().unwrap()])
            .output()
            .unwrap()
    };
    assert!(check(&first).status.success(), "before the retraction, it was");
    let after = check(&later);
    assert!(!after.status.success());
    assert!(
        String::from_utf8_lossy(&after.stderr).contains("a delivery that was retracted"),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    assert!(after.stdout.is_empty(), "nothing is said to be verified: {}", String::from_utf8_lossy(&after.stdout));
}

#[test]
fn an_organisation_id_holds_no_colon() {
    let app = spawn_app();
    let answer = app.send(&app.admin.envelope(
        "system",
        "organization_registered",
        json!({"organization_id": "acme:sub", "display_name": "A", "kind": "client"}),
    ));
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    assert_eq!(answer.body["field"], "payload.body.organization_id");
}
