//! An evidence bundle proves it is complete (docs/transparency.md, "Completeness"): for a
//! delivered asset, leaving out any entry it holds fails verification and names what is
//! missing; so do a later failing review and a retraction cut out of a newer bundle, lists
//! taken from an older map revision, and a bundle's checkpoint swapped for an older one. A
//! bundle names no other client's actors, so that scoped tokens may have it.

use crate::helpers::*;
use lineage_ledger::log::evidence::{verify, Bundle};
use serde_json::{json, Value};

fn bundle_of(app: &TestApp, project: &str, asset: &str) -> (Bundle, String) {
    let answer = app.get(&format!("/v1/projects/{project}/assets/{asset}/evidence"));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    (serde_json::from_str(&answer.text).unwrap(), answer.text)
}

fn vkey(app: &TestApp) -> String {
    app.get("/v1/vkey").text.trim().to_owned()
}

/// The kind of a bundle's entry.
fn kind_of(bundle: &Bundle, i: usize) -> String {
    let entry = bundle.entries[i].to_entry().unwrap();
    lineage_ledger::log::open_entry(&entry).unwrap().1.kind().as_str().to_owned()
}

/// Why a bundle without its entry at `i` fails, or `None` when it verifies.
fn without(bundle: &Bundle, i: usize, vkey: &str) -> Option<String> {
    let mut cut = bundle.clone();
    cut.entries.remove(i);
    verify(&cut, Some(vkey)).err().map(|e| e.to_string())
}

#[test]
fn leaving_out_any_entry_of_a_delivered_assets_bundle_fails_by_name() {
    let app = spawn_app();
    let admin = lineage_ledger::crypto::keys::KeyFile::load(&app.data().admin_key()).unwrap();
    lineage_ledger::cli::demo::run_all(&app.client, admin, "aurora").unwrap();
    let (bundle, text) = bundle_of(&app, "aurora-outdoor:aurora", "hero-billboard");
    let vkey = vkey(&app);
    let proven = verify(&bundle, Some(&vkey)).expect("the bundle verifies");
    assert!(proven.subjects >= 5, "{}", proven.subjects);
    // The other clients' productions ran in the same ledger: nothing of theirs is here.
    for other in ["brightwave", "northpeak"] {
        assert!(!text.to_lowercase().contains(other), "the bundle names {other}");
    }
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..bundle.entries.len() {
        let kind = kind_of(&bundle, i);
        let said = without(&bundle, i, &vkey).unwrap_or_else(|| panic!("a bundle without its {kind} (#{i}) verified"));
        assert!(said.contains("is not in the bundle"), "without its {kind}: {said}");
        if said.contains("of `") {
            seen.insert(kind);
        }
    }
    // Each of these is named with the subject it is an entry of.
    for kind in [
        "qc_review_recorded",
        "approval_recorded",
        "selection_made",
        "delivery_recorded",
        "member_added",
        "project_created",
        "actor_registered",
        "brief_recorded",
    ] {
        assert!(seen.contains(kind), "leaving out a {kind} is named by its subject: {seen:?}");
    }
}

/// `img-1` reviewed, approved by the brand and the client, and selected.
fn reviewed(p: &Production) -> (String, String) {
    let review = json!({"review_id": "qc-1", "asset": "img-1", "digest": digest("img-1"), "checks": [{"check": "anatomy", "result": "pass"}],
                        "proof_medium": "screen", "proof_size": "100%", "proof_scale_percent": 100, "verdict": "pass"});
    assert_eq!(p.send(&p.qc, "qc_review_recorded", review).status, 201);
    let mut approvals = Vec::new();
    for (signer, id) in [(&p.brand, "ap-brand"), (&p.client, "ap-client")] {
        let body = json!({"approval_id": id, "asset": "img-1", "digest": digest("img-1"), "decision": "approved"});
        let answer = p.send(signer, "approval_recorded", body);
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        approvals.push(answer.body["event_id"].as_str().unwrap().to_owned());
    }
    let selection =
        json!({"selection_id": "sel-1", "round": 1, "selected": ["img-1"], "rejected": ["img-2"], "rationale": "best"});
    assert_eq!(p.send(&p.director, "selection_made", selection).status, 201);
    (approvals[0].clone(), approvals[1].clone())
}

fn index_of(bundle: &Bundle, kind: &str, text: &str) -> usize {
    (0..bundle.entries.len())
        .find(|i| {
            let entry = bundle.entries[*i].to_entry().unwrap();
            let payload = lineage_ledger::log::open_entry(&entry).unwrap().0.payload;
            kind_of(bundle, *i) == kind && String::from_utf8(payload).unwrap().contains(text)
        })
        .unwrap_or_else(|| panic!("no {kind} with {text}"))
}

#[test]
fn a_later_failing_review_and_a_retraction_cannot_be_cut_out_nor_hidden_behind_an_older_revision() {
    let p = Production::new();
    let (brand_approval, _) = reviewed(&p);
    let vkey = vkey(&p.app);
    let (older, _) = bundle_of(&p.app, &p.project, "img-1");
    verify(&older, Some(&vkey)).expect("the older bundle verifies");
    let failed = json!({"review_id": "qc-2", "asset": "img-1", "digest": digest("img-1"), "checks": [{"check": "anatomy", "result": "fail", "note": "six fingers"}],
                        "proof_medium": "print", "proof_size": "A0", "proof_scale_percent": 100, "verdict": "fail"});
    assert_eq!(p.send(&p.qc, "qc_review_recorded", failed).status, 201);
    let retraction = json!({"event_id": brand_approval, "reason": "approved the wrong file"});
    assert_eq!(p.send(&p.brand, "event_retracted", retraction).status, 201);
    let amended = json!({"rules": [{"rule": "approval.brand-compliance"}], "reason": "stricter"});
    assert_eq!(p.send(&p.brand, "policy_amended", amended).status, 201);
    let (newer, _) = bundle_of(&p.app, &p.project, "img-1");
    verify(&newer, Some(&vkey)).expect("the newer bundle verifies");
    assert!(newer.tree_size > older.tree_size);

    // Each cut out alone: named, with its subject.
    let cases = [
        // The review's id as the payload spells it: a signer's event ids carry random hex, and
        // `qc-2` alone is in every one of the reviewer's when that hex starts with 2.
        ("qc_review_recorded", "\"review_id\":\"qc-2\"", "asset:acme-client:p1/img-1"),
        ("event_retracted", "approved the wrong file", "governance:acme-client:p1"),
        ("policy_amended", "stricter", "governance:acme-client:p1"),
    ];
    for (kind, text, subject) in cases {
        let said = without(&newer, index_of(&newer, kind, text), &vkey).expect("it verified");
        assert!(said.contains(&format!("of `{subject}` is not in the bundle")), "without the {kind}: {said}");
    }
    // Cut out of the entries and of their subjects' lists too: the map does not hold those lists.
    let mut cut = newer.clone();
    for (kind, text, _) in cases {
        let i = index_of(&cut, kind, text);
        let sequence = cut.entries[i].sequence;
        cut.entries.remove(i);
        for subject in &mut cut.subjects {
            subject.sequences.retain(|s| *s != sequence);
        }
    }
    let said = verify(&cut, Some(&vkey)).unwrap_err().to_string();
    assert!(said.contains("the ledger's subject map does not hold the bundle's lists"), "{said}");
    // The older lists and map proof with the newer checkpoint, or the older checkpoint with the
    // newer entries: neither verifies.
    let mut stale = cut.clone();
    stale.subjects = older.subjects.clone();
    stale.map_proof = older.map_proof.clone();
    let said = verify(&stale, Some(&vkey)).unwrap_err().to_string();
    assert!(said.contains("does not hold the bundle's lists"), "{said}");
    let mut rewound = newer.clone();
    rewound.checkpoint = older.checkpoint.clone();
    rewound.tree_size = older.tree_size;
    let said = verify(&rewound, Some(&vkey)).unwrap_err().to_string();
    // Refused either way: as entries the older log does not hold, or (when that log is shorter
    // than a listed entry, as it is when the older bundle was read before the map caught up) as
    // entries its lists name that the checkpointed bundle cannot hold.
    let refused = said.contains("not in the checkpointed log") || said.contains("is not in the bundle");
    assert!(refused, "{said}");
    // A plain checkpoint, which names no map, is no map checkpoint.
    let mut plain = newer.clone();
    plain.checkpoint = p.app.get("/v1/checkpoint").text;
    assert!(verify(&plain, Some(&vkey)).unwrap_err().to_string().contains("the map checkpoint"));
}

#[test]
fn a_revoked_signers_key_history_is_in_the_bundle_and_cannot_be_cut_out() {
    let p = Production::new();
    reviewed(&p);
    let actor = p.qc.key.actor.clone();
    let revoke = p.app.send(&p.app.admin.envelope(
        "system",
        "key_revoked",
        json!({"actor_id": actor, "key_id": p.qc.key.key_id, "reason": "laptop lost"}),
    ));
    assert_eq!(revoke.status, 201, "{:?}", revoke.body);
    let (bundle, _) = bundle_of(&p.app, &p.project, "img-1");
    let vkey = vkey(&p.app);
    verify(&bundle, Some(&vkey)).expect("the bundle verifies");
    let said = without(&bundle, index_of(&bundle, "key_revoked", "laptop lost"), &vkey).expect("it verified");
    assert!(said.contains(&format!("of `actor:{actor}` is not in the bundle")), "{said}");
    // Its subject's list cut too: named by the map.
    let mut cut = bundle.clone();
    let i = index_of(&cut, "key_revoked", "laptop lost");
    let sequence = cut.entries.remove(i).sequence;
    cut.subjects.iter_mut().for_each(|s| s.sequences.retain(|q| *q != sequence));
    assert!(verify(&cut, Some(&vkey)).unwrap_err().to_string().contains("does not hold the bundle's lists"));
    // The audit trail lists the revocation itself, and the same lists as the bundle proves.
    let trail = p.app.get(&format!("/v1/projects/{}/assets/img-1/audit", p.project));
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    let entries = trail.body["entries"].as_array().unwrap();
    let revocation = entries.iter().find(|e| e["kind"] == "key_revoked").expect("the revocation is listed");
    assert!(revocation["says"].as_str().unwrap().contains("laptop lost"), "{revocation}");
    let completeness = &trail.body["completeness"];
    assert_eq!(completeness["tree_size"], bundle.tree_size, "{completeness}");
    let listed: Vec<(String, Vec<u64>)> = serde_json::from_value::<Vec<Value>>(completeness["subjects"].clone())
        .unwrap()
        .iter()
        .map(|s| (s["subject"].as_str().unwrap().to_owned(), serde_json::from_value(s["sequences"].clone()).unwrap()))
        .collect();
    assert!(listed.iter().any(|(s, _)| *s == format!("actor:{actor}")), "{listed:?}");
    let in_trail: Vec<u64> = entries.iter().map(|e| e["sequence"].as_u64().unwrap()).collect();
    for (subject, sequences) in &listed {
        let proven = bundle.subjects.iter().find(|s| s.subject == *subject).expect("the bundle lists it too");
        assert_eq!(&proven.sequences, sequences, "{subject}");
        if subject.starts_with("asset:") {
            assert!(sequences.iter().all(|s| in_trail.contains(s)), "{subject}: {sequences:?} in {in_trail:?}");
        }
    }
    // Its subject dropped altogether: the signer's keys are not shown complete.
    let mut dropped = bundle.clone();
    dropped.subjects.retain(|s| s.subject != format!("actor:{actor}"));
    let said = verify(&dropped, Some(&vkey)).unwrap_err().to_string();
    assert!(said.contains("does not hold the bundle's lists") || said.contains(&format!("`actor:{actor}`")), "{said}");
}

#[test]
fn a_scoped_token_gets_its_projects_bundles_and_nothing_of_other_clients() {
    let p = Production::new();
    reviewed(&p);
    p.app.organization("rival-brand", "client");
    let rival = p.app.register_in("rival-producer", "producer", "rival-brand");
    let created = p.app.send(&rival.envelope(
        "rival-brand:secret",
        "project_created",
        json!({"content_type": "social", "title": "Secret", "client_organization": "rival-brand"}),
    ));
    assert_eq!(created.status, 201, "{:?}", created.body);
    let issue = |grant: Value| p.app.reader(grant);
    let path = format!("/v1/projects/{}/assets/img-1/evidence", p.project);
    for grant in [json!({"name": "client", "organization": CLIENT}), json!({"name": "one", "projects": [p.project]})] {
        let answer = issue(grant.clone()).get(&path).unwrap();
        assert_eq!(answer.status, 200, "{grant}: {:?}", answer.body);
        assert!(!answer.text.contains("rival"), "{grant}: the bundle names the rival");
        let bundle: Bundle = serde_json::from_str(&answer.text).unwrap();
        verify(&bundle, Some(&vkey(&p.app))).expect("the bundle verifies");
    }
    let rival_reader = issue(json!({"name": "rival", "organization": "rival-brand"}));
    assert_eq!(rival_reader.get(&path).unwrap().status, 403);
}

/// What the verdict of a delivered variant weighs beyond the asset's own entries is in its
/// bundle, and cutting any of it out is named: a post edit that supersedes the master after the
/// delivery, a reference recorded with the bytes of an ancestor (for reference only), another
/// brief of the project (a delivery's format is judged against every brief).
#[test]
fn what_a_verdict_weighs_after_the_delivery_is_in_the_bundle_and_cannot_be_cut_out() {
    let p = Production::new();
    reviewed(&p);
    let body = json!({"approval_id": "ap-cd", "asset": "img-1", "digest": digest("img-1"), "decision": "approved"});
    assert_eq!(p.send(&p.director, "approval_recorded", body).status, 201);
    let delivery = json!({"delivery_id": "d-1", "master_asset": "img-1",
        "variant": {"asset_id": "img-1-web", "digest": digest("img-1-web"), "media_type": "image/jpeg"},
        "format": "jpeg", "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1},
        "locale": "en", "usage": "commercial"});
    let delivered = p.send(&p.integration, "delivery_recorded", delivery);
    assert_eq!(delivered.status, 201, "{:?}", delivered.body);
    let edit = json!({"edit_id": "ed-later", "technique": "retouch", "tool": "t", "performed_by": "human",
        "generative": false, "inputs": ["img-1"], "output": asset("img-1b")});
    assert_eq!(p.send(&p.post, "post_edit_applied", edit).status, 201);
    let reference = json!({"reference_id": "ref-same-bytes", "category": "visual", "title": "t", "source": "s",
        "rights": {"status": "licensed", "reproduction": "reference_only"}, "digest": digest("img-1")});
    let referenced = p.send(&p.director, "reference_added", reference);
    assert_eq!(referenced.status, 201, "{:?}", referenced.body);
    let brief = json!({"brief_id": "brief-2", "title": "Second", "text": "More.", "deliverable_formats": ["png"]});
    assert_eq!(p.send(&p.producer, "brief_recorded", brief).status, 201);
    let (bundle, _) = bundle_of(&p.app, &p.project, "img-1-web");
    let vkey = vkey(&p.app);
    verify(&bundle, Some(&vkey)).expect("the bundle verifies");
    let img_1 = format!("bytes:{}/{}", p.project, digest("img-1"));
    for (kind, text, subject) in [
        ("post_edit_applied", "ed-later", format!("asset:{}/img-1", p.project)),
        ("reference_added", "ref-same-bytes", img_1),
        ("brief_recorded", "brief-2", format!("briefs:{}", p.project)),
    ] {
        let said = without(&bundle, index_of(&bundle, kind, text), &vkey).expect("it verified");
        assert!(said.contains(&format!("of `{subject}` is not in the bundle")), "without the {kind}: {said}");
    }
}

/// A project with no brief: its `briefs:` subject is its creation alone, and the bundle of an
/// asset imported into it verifies.
#[test]
fn a_project_without_briefs_gives_bundles_that_verify() {
    let p = Production::new();
    let project = pid("no-briefs");
    p.create(&project, "social");
    let rights = json!({"status": "owned", "reproduction": "allowed"});
    let imported = p.app.send(&p.post.envelope(
        &project,
        "asset_imported",
        json!({"asset": asset("photo"), "origin": "photograph", "source": "a studio", "rights": rights}),
    ));
    assert_eq!(imported.status, 201, "{:?}", imported.body);
    let (bundle, _) = bundle_of(&p.app, &project, "photo");
    verify(&bundle, Some(&vkey(&p.app))).expect("the bundle verifies");
    let briefs = bundle.subjects.iter().find(|s| s.subject == format!("briefs:{project}")).expect("listed");
    assert_eq!(briefs.sequences.len(), 1, "the project's creation alone");
}
