//! A retraction counts everywhere: for each kind a governed project may retract, one row, and
//! for each view — status, provenance, summary, readiness, governance, audit — the check that
//! the retracted event is treated as docs/policies.md ("Retractions") says: kept and shown
//! retracted, counting for nothing — neither for nor against — while what it made stays recorded
//! and cannot be delivered, and rights restrictions it carried keep applying.

use crate::helpers::*;
use lineage_ledger::cli::client::Signer;
use serde_json::{json, Value};

/// One project of the table: an e-comm master `m` ready to deliver digitally as `jpeg`.
struct Row<'a> {
    p: &'a Production,
    project: String,
}

impl Row<'_> {
    fn send(&self, signer: &Signer, kind: &str, body: Value) -> String {
        let answer = self.p.app.send(&signer.envelope(&self.project, kind, body));
        assert!(answer.status == 201, "{kind}: {:?}", answer.body);
        answer.body["event_id"].as_str().unwrap().to_owned()
    }
    fn get(&self, path: &str) -> Value {
        let answer = self.p.app.get(&format!("/v1/projects/{}/{path}", self.project));
        assert_eq!(answer.status, 200, "{path}: {:?}", answer.body);
        answer.body
    }

    /// The brief, the model, the prompt, `m` generated and its evidence.
    fn ready(&self) -> Events {
        self.ready_reviewed_by(&self.p.qc)
    }

    /// As [`Row::ready`], `m`'s QC review recorded by `reviewer`.
    fn ready_reviewed_by(&self, reviewer: &Signer) -> Events {
        let p = self.p;
        let brief = self.send(
            &p.producer,
            "brief_recorded",
            json!({"brief_id": "b", "title": "t", "text": "t", "deliverable_formats": ["jpeg"]}),
        );
        let reference = self.send(&p.director, "reference_added", json!({"reference_id": "ref", "category": "visual", "title": "t", "source": "s", "rights": {"status": "owned", "reproduction": "allowed"}}));
        let model = self.send(&p.artist, "model_version_registered", json!({"model_version_id": "mv", "provider": "p", "family": "f", "version": "1", "license": "l", "license_use": "commercial", "training_data_statement": "s"}));
        let pipeline = self.send(
            &p.artist,
            "pipeline_defined",
            json!({"pipeline_id": "pl", "name": "n", "steps": [{"name": "s", "tool": "t"}], "model_versions": ["mv"]}),
        );
        let prompt = self.send(
            &p.artist,
            "prompt_authored",
            json!({"prompt_id": "pr", "text": "t", "references": ["ref"], "brief_id": "b"}),
        );
        let generation = self.send(&p.integration, "generation_recorded", json!({"generation_id": "g", "model_version": "mv", "prompt": "pr", "pipeline": "pl", "outputs": [asset("m")]}));
        let review = self.send(
            reviewer,
            "qc_review_recorded",
            json!({"review_id": "qc-m", "asset": "m", "digest": digest("m"),
            "checks": [{"check": "product_accuracy", "result": "pass"}, {"check": "colour_accuracy", "result": "pass"}],
            "proof_medium": "screen", "proof_size": "100%", "proof_scale_percent": 100, "verdict": "pass"}),
        );
        let brand = self.send(
            &p.brand,
            "approval_recorded",
            json!({"approval_id": "ap-brand", "asset": "m", "digest": digest("m"), "decision": "approved"}),
        );
        let client = self.send(
            &p.client,
            "approval_recorded",
            json!({"approval_id": "ap-client", "asset": "m", "digest": digest("m"), "decision": "approved"}),
        );
        Events { brief, reference, model, pipeline, prompt, generation, review, brand, _client: client }
    }

    /// A passing review of `asset` and the approvals it needs.
    fn evidence(&self, asset: &str) {
        let p = self.p;
        self.send(
            &p.qc,
            "qc_review_recorded",
            json!({"review_id": format!("qc-{asset}"), "asset": asset, "digest": digest(asset),
            "checks": [{"check": "product_accuracy", "result": "pass"}, {"check": "colour_accuracy", "result": "pass"}],
            "proof_medium": "screen", "proof_size": "100%", "proof_scale_percent": 100, "verdict": "pass"}),
        );
        for (signer, role) in [(&p.brand, "brand"), (&p.client, "client")] {
            self.send(signer, "approval_recorded", json!({"approval_id": format!("ap-{role}-{asset}"), "asset": asset, "digest": digest(asset), "decision": "approved"}));
        }
    }

    fn readiness(&self, asset: &str) -> Value {
        self.get(&format!("assets/{asset}/readiness?medium=digital&format=jpeg&channel=web&usage=commercial"))
    }
    fn first_failure(&self, asset: &str) -> Option<String> {
        let ready = self.readiness(asset);
        ready["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["passed"] == false)
            .map(|r| r["rule"].as_str().unwrap().to_owned())
    }
    fn activity(&self) -> u64 {
        self.get("status")["stages"].as_array().unwrap().iter().map(|s| s["event_count"].as_u64().unwrap()).sum()
    }
}

struct Events {
    brief: String,
    reference: String,
    model: String,
    pipeline: String,
    prompt: String,
    generation: String,
    review: String,
    brand: String,
    _client: String,
}

/// What a row expects of the views once its event is retracted.
struct Expect {
    /// The asset whose provenance, summary, readiness and audit trail are read.
    asset: &'static str,
    /// The provenance node the event made (`<kind>:<id>`), shown retracted.
    node: Option<&'static str>,
    /// An id the summary lists as retracted, or a review or approval it flags so.
    summary: Option<&'static str>,
    /// The rule readiness fails at first, once retracted; `None`: unchanged (ready).
    readiness: Option<&'static str>,
    /// Whether the event names the asset, so that its audit trail shows it retracted.
    audited: bool,
    /// Whether the event counts as stage activity (so that the status counts one less).
    has_stage: bool,
}

/// (kind, set-up returning the event to retract and who retracts it, expectations)
type Case = (&'static str, for<'a> fn(&Row<'a>) -> (String, &'a Signer), Expect);

fn cases() -> Vec<Case> {
    let e =
        |asset, node, summary, readiness, audited| Expect { asset, node, summary, readiness, audited, has_stage: true };
    vec![
        (
            "brief_recorded",
            |r| (r.ready().brief, &r.p.producer),
            e("m", Some("brief:b"), Some("b"), Some("brief.formats"), false),
        ),
        (
            "brief_revised",
            |r| {
                r.ready();
                let revised = r.send(
                    &r.p.producer,
                    "brief_revised",
                    json!({"brief_id": "b", "text": "t", "deliverable_formats": ["jpeg", "png"], "reason": "r"}),
                );
                // The revision is what lets `png` through: with it retracted, jpeg stays.
                (revised, &r.p.producer)
            },
            e("m", None, None, None, false),
        ),
        (
            "reference_added",
            |r| (r.ready().reference, &r.p.producer),
            e("m", Some("reference:ref"), Some("ref"), None, false),
        ),
        (
            "model_version_registered",
            |r| (r.ready().model, &r.p.producer),
            e("m", Some("model_version:mv"), Some("mv"), None, false),
        ),
        ("pipeline_defined", |r| (r.ready().pipeline, &r.p.producer), e("m", Some("pipeline:pl"), None, None, false)),
        ("prompt_authored", |r| (r.ready().prompt, &r.p.producer), e("m", Some("prompt:pr"), Some("pr"), None, false)),
        (
            "generation_recorded",
            |r| (r.ready().generation, &r.p.producer),
            e("m", Some("generation:g"), Some("m"), Some("ancestry.not-retracted"), true),
        ),
        (
            "selection_made",
            |r| {
                r.ready();
                r.send(
                    &r.p.director,
                    "selection_made",
                    json!({"selection_id": "s-1", "round": 1, "selected": [], "rejected": ["m"], "rationale": "r"}),
                );
                let reinstated = r.send(
                    &r.p.director,
                    "selection_made",
                    json!({"selection_id": "s-2", "round": 2, "selected": ["m"], "rationale": "r"}),
                );
                (reinstated, &r.p.director)
            },
            e("m", Some("selection:s-2"), None, Some("selection.not-rejected"), true),
        ),
        (
            "post_edit_applied",
            |r| {
                r.ready();
                let edit = r.send(&r.p.post, "post_edit_applied", json!({"edit_id": "ed", "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["m"], "output": asset("m2")}));
                r.evidence("m2");
                (edit, &r.p.producer)
            },
            e("m2", Some("post_edit:ed"), Some("m2"), Some("ancestry.not-retracted"), true),
        ),
        (
            "asset_imported",
            |r| {
                r.ready();
                let import = r.send(&r.p.post, "asset_imported", json!({"asset": asset("ph"), "origin": "photograph", "source": "s", "rights": {"status": "owned", "reproduction": "allowed"}}));
                r.send(&r.p.post, "post_edit_applied", json!({"edit_id": "ed-ph", "technique": "compositing", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["m", "ph"], "output": asset("m3")}));
                r.evidence("m3");
                (import, &r.p.producer)
            },
            e("m3", Some("asset:ph"), Some("ph"), Some("ancestry.not-retracted"), false),
        ),
        // Only its author may retract a review, and brand compliance is the reviewing role that may retract.
        (
            "qc_review_recorded",
            |r| (r.ready_reviewed_by(&r.p.brand).review, &r.p.brand),
            e("m", Some("qc_review:qc-m"), Some("qc-m"), Some("qc.passed"), true),
        ),
        (
            "approval_recorded",
            |r| (r.ready().brand, &r.p.brand),
            e("m", Some("approval:ap-brand"), Some("ap-brand"), Some("approval.brand-compliance"), true),
        ),
        (
            "delivery_recorded",
            |r| {
                r.ready();
                let delivery = r.send(&r.p.integration, "delivery_recorded", json!({"delivery_id": "d", "master_asset": "m", "variant": asset("v"),
                    "format": "jpeg", "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en", "usage": "commercial"}));
                // The variant, reviewed and approved, could be delivered again as a master.
                r.evidence("v");
                (delivery, &r.p.producer)
            },
            e("v", Some("delivery:d"), Some("v"), Some("ancestry.not-retracted"), true),
        ),
        (
            "stage_marked",
            |r| {
                r.ready();
                (
                    r.send(&r.p.producer, "stage_marked", json!({"stage": "ideation", "mark": "completed"})),
                    &r.p.producer,
                )
            },
            e("m", None, None, None, false),
        ),
        (
            "note_added",
            |r| {
                r.ready();
                (r.send(&r.p.artist, "note_added", json!({"text": "about m", "assets": ["m"]})), &r.p.producer)
            },
            Expect { asset: "m", node: None, summary: None, readiness: None, audited: true, has_stage: false },
        ),
    ]
}

#[test]
fn a_retracted_event_of_every_kind_counts_for_nothing_in_every_view() {
    let p = Production::new();
    for (n, (kind, setup, expect)) in cases().into_iter().enumerate() {
        let row = Row { p: &p, project: pid(&format!("retract-{n}")) };
        p.create(&row.project, "ecomm");
        let (event, retractor) = setup(&row);
        let readiness_before = row.first_failure(expect.asset);
        let activity = row.activity();
        let governance = row.get("governance");
        let stages_before = row.get("status")["stages"].clone();
        row.send(retractor, "event_retracted", json!({"event_id": event, "reason": "recorded by mistake"}));

        // status: the retracted event no longer counts as activity (a stage mark no longer moves).
        let expected = activity - u64::from(expect.has_stage);
        assert_eq!(row.activity(), expected, "{kind}: status");
        if kind == "stage_marked" {
            let ideation = |stages: &Value| {
                stages.as_array().unwrap().iter().find(|s| s["stage"] == "ideation").unwrap()["state"].clone()
            };
            assert_eq!(ideation(&stages_before), "completed", "{kind}");
            assert_eq!(ideation(&row.get("status")["stages"]), "active", "{kind}: the mark no longer counts");
        }
        // provenance: the node the event made is shown retracted.
        let provenance = row.get(&format!("assets/{}/provenance", expect.asset));
        if let Some(node) = expect.node {
            let found = provenance["graph"]["nodes"].as_array().unwrap().iter().find(|v| v["key"] == node);
            assert_eq!(found.map(|v| v["retracted"].clone()), Some(json!(true)), "{kind}: provenance {node}");
        }
        // summary: listed as retracted (records), or flagged (reviews, approvals).
        if let Some(id) = expect.summary {
            let summary = &provenance["summary"];
            let listed = summary["retracted"].as_array().unwrap().iter().any(|v| v == id);
            let flagged = ["reviews", "approvals"].iter().any(|list| {
                summary[*list]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| (r["review_id"] == id || r["approval_id"] == id) && r["retracted"] == true)
            });
            assert!(listed || flagged, "{kind}: summary shows `{id}` retracted: {summary:?}");
        }
        // readiness: what the retracted event gave no longer counts; nothing becomes readier.
        assert_eq!(readiness_before, None, "{kind}: ready before the retraction");
        let after = row.first_failure(expect.asset);
        match expect.readiness {
            Some(rule) => assert_eq!(after.as_deref(), Some(rule), "{kind}: readiness"),
            None => assert_eq!(after, None, "{kind}: readiness unchanged"),
        }
        // governance: the retraction changes neither members nor policy; drift is judged without it.
        let now = row.get("governance");
        assert_eq!(now["members"], governance["members"], "{kind}: governance members");
        assert_eq!(now["rules"], governance["rules"], "{kind}: governance rules");
        if kind == "post_edit_applied" {
            assert_ne!(governance["approval_drift"], json!([]), "{kind}: the edit drifted m's approvals");
            assert_eq!(now["approval_drift"], json!([]), "{kind}: retracted, it drifts nothing");
        }
        // audit: the trail shows the entry retracted.
        if expect.audited {
            let trail = row.get(&format!("assets/{}/audit", expect.asset));
            let entry = trail["entries"].as_array().unwrap().iter().find(|e| e["event_id"] == event.as_str()).cloned();
            assert_eq!(entry.map(|e| e["retracted"].clone()), Some(json!(true)), "{kind}: audit");
            // ... and the retraction itself, after it, saying what it took back.
            let retraction =
                trail["entries"].as_array().unwrap().iter().find(|e| e["kind"] == "event_retracted").cloned();
            let says = retraction.as_ref().and_then(|e| e["says"].as_str()).unwrap_or_default();
            assert!(
                says.starts_with(&format!("retracts `{}`", event.as_str())),
                "{kind}: the retraction is listed: {trail:?}"
            );
            assert_eq!(
                retraction.map(|e| e["signature"].clone()),
                Some(json!("valid")),
                "{kind}: verified as any entry"
            );
        }
    }
}

/// The finding: a brief revision that added a format, retracted, no longer lets that format
/// through.
#[test]
fn a_retracted_brief_revision_no_longer_counts() {
    let p = Production::new();
    let row = Row { p: &p, project: pid("brief-revision") };
    p.create(&row.project, "ecomm");
    row.ready();
    let revised = row.send(
        &p.producer,
        "brief_revised",
        json!({"brief_id": "b", "text": "t", "deliverable_formats": ["jpeg", "png"], "reason": "r"}),
    );
    let png = "assets/m/readiness?medium=digital&format=png&channel=web&usage=commercial";
    assert_eq!(row.get(png)["ready"], true);
    row.send(&p.producer, "event_retracted", json!({"event_id": revised, "reason": "not agreed"}));
    let ready = row.get(png);
    assert_eq!(ready["ready"], false, "{ready:?}");
    let delivery = json!({"delivery_id": "d", "master_asset": "m", "variant": asset("v"), "format": "png", "channel": "web",
        "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en", "usage": "commercial"});
    let answer = p.app.send(&p.integration.envelope(&row.project, "delivery_recorded", delivery));
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    assert_eq!(answer.body["rule"], "brief.formats");
}
