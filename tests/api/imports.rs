//! Assets that were not generated: a photograph, a packshot, a CG render enters a project and is
//! an input like any other asset; its rights travel to what is made from it.

use crate::helpers::*;
use serde_json::json;

fn imported(id: &str, origin: &str, reproduction: &str) -> serde_json::Value {
    json!({"asset": asset(id), "origin": origin, "source": "studio shoot 14, frame 203",
           "rights": {"status": "owned", "reproduction": reproduction}})
}

#[test]
fn an_imported_photograph_is_an_asset_that_post_edits_and_generations_take_as_input() {
    let p = Production::new();
    for (signer, id, origin) in
        [(&p.post, "photo-1", "photograph"), (&p.producer, "pack-1", "packshot"), (&p.integration, "cg-1", "cg_render")]
    {
        let answer = p.send(signer, "asset_imported", imported(id, origin, "allowed"));
        assert_eq!(answer.status, 201, "{origin}: {:?}", answer.body);
    }
    let composite = p.send(
        &p.post,
        "post_edit_applied",
        json!({"edit_id": "comp-1", "technique": "compositing", "tool": "Nuke", "performed_by": "human", "generative": false,
               "inputs": ["pack-1", "img-1"], "output": asset("comp-out")}),
    );
    assert_eq!(composite.status, 201, "{:?}", composite.body);
    let generation = p.send(
        &p.integration,
        "generation_recorded",
        json!({"generation_id": "gen-i2i", "model_version": "mv-1", "prompt": "pr-1",
               "input_assets": ["photo-1"], "outputs": [asset("i2i-out")]}),
    );
    assert_eq!(generation.status, 201, "{:?}", generation.body);
    // The provenance of the composite names the packshot, made by its import entry.
    let provenance = p.app.get(&format!("/v1/projects/{}/assets/comp-out/provenance", p.project));
    assert_eq!(provenance.status, 200, "{:?}", provenance.body);
    let nodes = provenance.body["graph"]["nodes"].as_array().unwrap();
    let pack = nodes.iter().find(|n| n["id"] == "pack-1").expect("the packshot is an ancestor");
    assert_eq!(pack["kind"], "asset");
    assert!(pack["sequence"].as_u64().is_some(), "the packshot's making entry is named: {pack:?}");
    // Its own provenance summary names its digest, and counts its own reviews as its own.
    let review = json!({"review_id": "qc-pack", "asset": "pack-1", "digest": digest("pack-1"),
        "checks": [{"check": "colour_accuracy", "result": "pass"}], "proof_medium": "screen", "proof_size": "1", "verdict": "pass"});
    assert_eq!(p.send(&p.qc, "qc_review_recorded", review).status, 201);
    let own = p.app.get(&format!("/v1/projects/{}/assets/pack-1/provenance", p.project)).body;
    assert_eq!(own["summary"]["digest"], digest("pack-1"), "{own}");
    assert_eq!(own["summary"]["reviews"][0]["review_id"], "qc-pack", "{own}");
    // Its audit trail says what it is.
    let audit = p.app.get(&format!("/v1/projects/{}/assets/pack-1/audit", p.project));
    assert_eq!(audit.status, 200, "{:?}", audit.body);
    let says = audit.body["entries"][0]["says"].as_str().unwrap();
    assert!(says.contains("imported: packshot"), "{says}");
    // And its stage is production.
    let status = p.app.get(&format!("/v1/projects/{}/status", p.project));
    assert_eq!(status.status, 200, "{:?}", status.body);
}

#[test]
fn an_asset_imported_for_reference_only_restricts_what_is_made_from_it() {
    let p = Production::new();
    let answer = p.send(&p.post, "asset_imported", imported("mood-photo", "stock_photograph", "reference_only"));
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let edit = p.send(
        &p.post,
        "post_edit_applied",
        json!({"edit_id": "over-1", "technique": "compositing", "tool": "Nuke", "performed_by": "human", "generative": false,
               "inputs": ["img-1", "mood-photo"], "output": asset("over-out")}),
    );
    assert_eq!(edit.status, 201, "{:?}", edit.body);
    let readiness = p.app.get(&format!(
        "/v1/projects/{}/assets/over-out/readiness?medium=digital&format=jpeg&channel=web&usage=commercial",
        p.project
    ));
    assert_eq!(readiness.status, 200, "{:?}", readiness.body);
    let text = readiness.body.to_string();
    assert!(text.contains("mood-photo") && text.contains("reference only"), "{text}");
}
