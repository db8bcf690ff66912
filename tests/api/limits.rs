//! The documented limits of a submission (docs/limits.md): every way of naming more than a
//! limit allows is refused with `limit-exceeded`, the field at fault and its position in a
//! batch, and nothing is written.

use crate::helpers::*;
use lineage_ledger::domain::limits::{
    MAX_ASSETS_PER_BYTES, MAX_LINEAGE_LINKS, MAX_NAMES_PER_ENTRY, MAX_NAMES_PER_REQUEST,
};
use serde_json::{json, Value};

const LIMIT: &str = "urn:lineage:problem:limit-exceeded";

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// The production with `n` more assets, `a0`..: generated in as few generations as the limit
/// allows.
fn with_assets(n: usize) -> Production {
    let crew = Production::new();
    let per_generation = MAX_NAMES_PER_ENTRY - 3;
    for (g, chunk) in ids("a", n).chunks(per_generation).enumerate() {
        let outputs: Vec<Value> = chunk.iter().map(|a| asset(a)).collect();
        let answer = crew.send(
            &crew.integration,
            "generation_recorded",
            json!({"generation_id": format!("bulk-{g}"), "model_version": "mv-1", "prompt": "pr-1", "pipeline": "pl-1", "outputs": outputs}),
        );
        assert_eq!(answer.status, 201, "{:?}", answer.body);
    }
    crew
}

/// Sends the envelopes (one alone, or a batch); expects `limit-exceeded` naming `field` (and
/// `index` in a batch), and the log no longer.
fn refused(crew: &Production, envelopes: Vec<Vec<u8>>, field: &str, index: Option<usize>) {
    let before = crew.app.head();
    let answer = if envelopes.len() == 1 { crew.app.send(&envelopes[0]) } else { crew.app.batch(&envelopes) };
    assert_eq!(answer.status, 422, "{field}: {:?}", answer.body);
    assert_eq!(answer.body["type"], LIMIT, "{field}: {:?}", answer.body);
    assert_eq!(answer.body["field"], field, "{:?}", answer.body);
    // A single event's refusal may name its position, 0.
    let at = answer.body["index"].as_u64().map(|i| i as usize);
    assert_eq!(at.filter(|_| index.is_some()).or(index), index, "{:?}", answer.body);
    assert!(index.is_some() || at.unwrap_or(0) == 0, "{:?}", answer.body);
    assert!(answer.body["detail"].as_str().unwrap().contains("docs/limits.md"), "{:?}", answer.body);
    assert_eq!(crew.app.head(), before, "{field}: nothing is written");
}

#[test]
fn every_way_of_naming_more_than_an_entry_may_is_refused() {
    let crew = with_assets(MAX_NAMES_PER_ENTRY + 1);
    let all = ids("a", MAX_NAMES_PER_ENTRY + 1);
    let most = &all[..MAX_NAMES_PER_ENTRY];
    let note = |assets: &[String]| crew.envelope(&crew.artist, "note_added", json!({"text": "t", "assets": assets}));
    let repeated = vec!["a0".to_owned(); MAX_NAMES_PER_ENTRY + 1];
    let outputs: Vec<Value> = ids("new", 60).iter().map(|a| asset(a)).collect();
    // (case, the entry, the field named)
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a note naming one asset too many", note(&all), "payload.body.assets"),
        ("a note naming one asset 257 times", note(&repeated), "payload.body.assets"),
        (
            "a generation whose inputs and outputs pass it",
            crew.envelope(
                &crew.integration,
                "generation_recorded",
                json!({"generation_id": "g-big", "model_version": "mv-1", "prompt": "pr-1", "input_assets": &all[..200], "outputs": outputs}),
            ),
            "payload.body.outputs",
        ),
        (
            "a selection whose rejections pass it",
            crew.envelope(
                &crew.director,
                "selection_made",
                json!({"selection_id": "s-big", "round": 1, "selected": &all[..200], "rejected": &all[200..], "rationale": "r"}),
            ),
            "payload.body.rejected",
        ),
        (
            "a post edit of too many inputs",
            crew.envelope(
                &crew.post,
                "post_edit_applied",
                json!({"edit_id": "e-big", "technique": "compositing", "tool": "t", "performed_by": "human", "generative": false, "inputs": all, "output": asset("comp")}),
            ),
            "payload.body.inputs",
        ),
        (
            "a brief of too many formats",
            crew.envelope(
                &crew.producer,
                "brief_recorded",
                json!({"brief_id": "b-big", "title": "t", "text": "t", "deliverable_formats": ids("f", MAX_NAMES_PER_ENTRY + 1)}),
            ),
            "payload.body.deliverable_formats",
        ),
    ];
    for (case, envelope, field) in cases {
        eprintln!("{case}");
        refused(&crew, vec![envelope], field, None);
    }
    // Exactly the limit is accepted.
    let answer = crew.app.send(&note(most));
    assert_eq!(answer.status, 201, "{:?}", answer.body);
}

#[test]
fn a_batch_names_no_more_than_a_request_may_and_the_refusal_says_where() {
    let crew = with_assets(MAX_NAMES_PER_ENTRY);
    let assets = ids("a", MAX_NAMES_PER_ENTRY);
    let notes = MAX_NAMES_PER_REQUEST / MAX_NAMES_PER_ENTRY;
    let batch: Vec<Vec<u8>> = (0..=notes)
        .map(|_| crew.envelope(&crew.artist, "note_added", json!({"text": "t", "assets": assets})))
        .collect();
    // The entry that takes the total past the limit is named.
    refused(&crew, batch.clone(), "payload.body", Some(notes));
    let answer = crew.app.batch(&batch[..notes]);
    assert_eq!(answer.status, 201, "{:?}", answer.body);
}

#[test]
fn a_lineage_grows_to_its_limit_and_no_further_in_separate_requests_or_one() {
    let per_edit = MAX_NAMES_PER_ENTRY - 2;
    let crew = with_assets(per_edit);
    let base = ids("a", per_edit - 1);
    // Each edit takes the last one's output and the same other inputs: its lineage holds the
    // last one's links and its own inputs.
    let edit = |k: usize| {
        let mut inputs = vec![if k == 0 { "a0".to_owned() } else { format!("out-{}", k - 1) }];
        inputs.extend(base.iter().skip(usize::from(k == 0)).cloned());
        crew.envelope(
            &crew.post,
            "post_edit_applied",
            json!({"edit_id": format!("edit-{k}"), "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": inputs, "output": asset(&format!("out-{k}"))}),
        )
    };
    let links_per_edit = per_edit - 1;
    let within = MAX_LINEAGE_LINKS / links_per_edit;
    for k in 0..within - 1 {
        let answer = crew.app.send(&edit(k));
        assert_eq!(answer.status, 201, "edit {k}: {:?}", answer.body);
    }
    // The last edit within the limit and the first past it, in one batch: refused at the second.
    refused(&crew, vec![edit(within - 1), edit(within)], "payload.body.inputs", Some(1));
    let answer = crew.app.send(&edit(within - 1));
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    refused(&crew, vec![edit(within)], "payload.body.inputs", None);
    // A delivery of it makes a variant one link deeper: held to the same limit once the
    // master is at it (an edit of 32 more inputs takes it to exactly 4,096 links).
    let to_the_limit = MAX_LINEAGE_LINKS - (253 + 254 * (within - 1)) - 1;
    let mut inputs = vec![format!("out-{}", within - 1)];
    inputs.extend(base.iter().take(to_the_limit).cloned());
    let at_limit = crew.envelope(
        &crew.post,
        "post_edit_applied",
        json!({"edit_id": "at-limit", "technique": "retouch", "tool": "t",
        "performed_by": "human", "generative": false, "inputs": inputs, "output": asset("at-limit")}),
    );
    let answer = crew.app.send(&at_limit);
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let delivery = crew.envelope(&crew.integration, "delivery_recorded", json!({"delivery_id": "d-deep", "master_asset": "at-limit",
        "variant": asset("v-deep"), "format": "jpeg", "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1},
        "locale": "en", "usage": "commercial"}));
    refused(&crew, vec![delivery], "payload.body.master_asset", None);
    // A generation taking that output and a few more as inputs is held to the same limit.
    let mut inputs = vec![format!("out-{}", within - 1)];
    inputs.extend(base.iter().take(MAX_LINEAGE_LINKS - (within * links_per_edit)).cloned());
    let generation = crew.envelope(
        &crew.integration,
        "generation_recorded",
        json!({"generation_id": "g-deep", "model_version": "mv-1", "prompt": "pr-1", "input_assets": inputs, "outputs": [asset("deep")]}),
    );
    refused(&crew, vec![generation], "payload.body.input_assets", None);
}

#[test]
fn the_same_bytes_are_recorded_under_a_bounded_number_of_asset_ids() {
    let crew = Production::new();
    let same = |id: String| json!({"asset_id": id, "digest": digest("one-file"), "media_type": "image/png"});
    // Within one generation, then across events: the asset past the limit is refused.
    let outputs: Vec<Value> = (0..=MAX_ASSETS_PER_BYTES).map(|i| same(format!("copy-{i}"))).collect();
    let generation = |id: &str, outputs: &[Value]| {
        crew.envelope(
            &crew.integration,
            "generation_recorded",
            json!({"generation_id": id, "model_version": "mv-1", "prompt": "pr-1", "outputs": outputs}),
        )
    };
    refused(&crew, vec![generation("g-copies", &outputs)], "payload.body.outputs", None);
    let answer = crew.app.send(&generation("g-copies", &outputs[..MAX_ASSETS_PER_BYTES]));
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let edit = crew.envelope(
        &crew.post,
        "post_edit_applied",
        json!({"edit_id": "e-copy", "technique": "retouch", "tool": "t",
        "performed_by": "human", "generative": false, "inputs": ["img-1"], "output": same("one-more".into())}),
    );
    refused(&crew, vec![edit], "payload.body.output.digest", None);
}

#[test]
fn one_request_takes_no_more_than_its_share_of_work_however_few_names_it_carries() {
    let per_edit = MAX_NAMES_PER_ENTRY - 2;
    let crew = with_assets(per_edit);
    let base = ids("a", per_edit - 1);
    // A master some 4,000 links deep, ready for delivery.
    for k in 0..16 {
        let mut inputs = vec![if k == 0 { "a0".to_owned() } else { format!("out-{}", k - 1) }];
        inputs.extend(base.iter().skip(usize::from(k == 0)).cloned());
        let edit = json!({"edit_id": format!("edit-{k}"), "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": inputs, "output": asset(&format!("out-{k}"))});
        assert_eq!(crew.send(&crew.post, "post_edit_applied", edit).status, 201);
    }
    let master = "out-15";
    let review = json!({"review_id": "qc-deep", "asset": master, "digest": digest(master), "checks": [{"check": "anatomy", "result": "pass"}],
                        "proof_medium": "screen", "proof_size": "100%", "proof_scale_percent": 100, "verdict": "pass"});
    assert_eq!(crew.send(&crew.qc, "qc_review_recorded", review).status, 201);
    for (signer, id) in [(&crew.director, "ap-cd"), (&crew.client, "ap-client")] {
        let body = json!({"approval_id": id, "asset": master, "digest": digest(master), "decision": "approved"});
        assert_eq!(crew.send(signer, "approval_recorded", body).status, 201);
    }
    let delivery = |n: usize| {
        crew.envelope(
            &crew.integration,
            "delivery_recorded",
            json!({"delivery_id": format!("d-{n}"), "master_asset": master,
            "variant": asset(&format!("v-{n}")), "format": "jpeg", "channel": format!("c{n}"), "medium": "digital",
            "dimensions": {"width": 1, "height": 1}, "locale": "en", "usage": "commercial"}),
        )
    };
    // Two names an entry, a thousand entries: within the names, past the work.
    let batch: Vec<Vec<u8>> = (0..1000).map(delivery).collect();
    let before = crew.app.head();
    let answer = crew.app.batch(&batch);
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    assert_eq!(answer.body["type"], LIMIT);
    assert_eq!(answer.body["field"], "payload.body");
    let at = answer.body["index"].as_u64().unwrap();
    assert!((1..100).contains(&at), "refused early, at {at}: {:?}", answer.body);
    assert!(answer.body["detail"].as_str().unwrap().contains("steps of work"), "{:?}", answer.body);
    assert_eq!(crew.app.head(), before, "nothing is written");
    // A few go through.
    let answer = crew.app.batch(&batch[..10]);
    assert_eq!(answer.status, 201, "{:?}", answer.body);
}

#[test]
fn a_request_is_one_organisations() {
    let crew = Production::new();
    crew.app.organization("post-house", "vendor");
    let retoucher = crew.app.register_in("vendor-retoucher", "post_artist", "post-house");
    let added =
        crew.send(&crew.producer, "member_added", json!({"actor_id": "vendor-retoucher", "role": "post_artist"}));
    assert_eq!(added.status, 201);
    // A note of the agency's, one of the vendor's: two organisations in one request.
    let agency = crew.envelope(&crew.artist, "note_added", json!({"text": "ours"}));
    let vendor = crew.envelope(&retoucher, "note_added", json!({"text": "theirs"}));
    let before = crew.app.head();
    let answer = crew.app.batch(&[agency.clone(), vendor.clone()]);
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    assert_eq!(answer.body["type"], "urn:lineage:problem:invalid-event");
    assert_eq!((answer.body["field"].as_str(), answer.body["index"].as_u64()), (Some("payload.actor"), Some(1)));
    assert_eq!(crew.app.head(), before, "nothing is written");
    // An envelope of another organisation already in the log, put first, is refused the same.
    assert_eq!(crew.app.send(&vendor).status, 201);
    let fresh = crew.envelope(&crew.artist, "note_added", json!({"text": "ours, again"}));
    let answer = crew.app.batch(&[vendor, fresh]);
    assert_eq!((answer.status, answer.body["index"].as_u64()), (422, Some(1)), "{:?}", answer.body);
    // Each on its own, or with the admin's (an actor of no organisation), goes through.
    assert_eq!(crew.app.batch(&[agency]).status, 201);
}
