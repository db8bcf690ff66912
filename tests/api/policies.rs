//! Every workflow rule refuses without its evidence and accepts once the evidence exists.

use crate::helpers::*;
use lineage_ledger::cli::client::Signer;
use serde_json::{json, Value};

/// A project of the given content type, with a brief declaring `jpeg` and a generated master `m`.
fn project(p: &Production, id: &str, content_type: &str) {
    let steps: Vec<(&Signer, &str, Value)> = vec![
        (&p.producer, "project_created", json!({"content_type": content_type, "title": "T"})),
        (
            &p.producer,
            "brief_recorded",
            json!({"brief_id": "b", "title": "t", "text": "t", "deliverable_formats": ["jpeg"]}),
        ),
        (
            &p.artist,
            "model_version_registered",
            json!({"model_version_id": "mv", "provider": "p", "family": "f", "version": "1", "license": "l", "training_data_statement": "s"}),
        ),
        (&p.artist, "prompt_authored", json!({"prompt_id": "pr", "text": "t"})),
        (
            &p.integration,
            "generation_recorded",
            json!({"generation_id": "g", "model_version": "mv", "prompt": "pr", "outputs": [asset("m")]}),
        ),
    ];
    for (signer, kind, body) in steps {
        assert_eq!(p.app.send(&signer.envelope(id, kind, body)).status, 201, "{kind}");
    }
}

fn qc(p: &Production, project: &str, id: &str, verdict: &str, checks: &[&str], medium: &str) -> u16 {
    let checks: Vec<Value> = checks.iter().map(|c| json!({"check": c, "result": "pass"})).collect();
    let body = json!({"review_id": id, "asset": "m", "digest": digest("m"), "checks": checks, "proof_medium": medium, "proof_size": "A2", "verdict": verdict});
    p.app.send(&p.qc.envelope(project, "qc_review_recorded", body)).status
}

fn approve(
    p: &Production,
    signer: &Signer,
    project: &str,
    id: &str,
    decision: &str,
) -> lineage_ledger::cli::client::Answer {
    p.app.send(&signer.envelope(
        project,
        "approval_recorded",
        json!({"approval_id": id, "asset": "m", "digest": digest("m"), "decision": decision}),
    ))
}

fn deliver(p: &Production, project: &str, id: &str, format: &str, medium: &str) -> lineage_ledger::cli::client::Answer {
    p.app.send(&p.integration.envelope(
        project,
        "delivery_recorded",
        json!({
        "delivery_id": id, "master_asset": "m", "variant": asset(&format!("{project}-{id}")), "format": format,
        "channel": "web", "medium": medium, "dimensions": {"width": 1, "height": 1}, "locale": "en"}),
    ))
}

fn assert_refused(p: &Production, answer: lineage_ledger::cli::client::Answer, rule: &str) {
    assert_eq!(answer.status, 422, "{rule}: {:?}", answer.body);
    assert_eq!(answer.body["type"], "urn:lineage:problem:policy-violation");
    assert!(answer.body["detail"].as_str().unwrap().contains(rule), "{:?}", answer.body);
    let _ = p;
}

#[test]
fn campaign_deliveries_need_a_creative_directors_approval() {
    let p = Production::new();
    project(&p, "c1", "campaign");
    let head = p.app.head();
    assert_refused(&p, deliver(&p, "c1", "d1", "jpeg", "digital"), "campaign.creative-director-approval");
    assert_refused(&p, deliver(&p, "c1", "d1", "jpeg", "digital"), "campaign.creative-director-approval");
    assert_eq!(p.app.head(), head);
    // Another role's approval is not the creative director's.
    assert_eq!(approve(&p, &p.brand, "c1", "a0", "approved").status, 201);
    assert_refused(&p, deliver(&p, "c1", "d1", "jpeg", "digital"), "campaign.creative-director-approval");
    let approval = approve(&p, &p.director, "c1", "a1", "approved");
    assert_eq!(approval.status, 201);
    assert_eq!(deliver(&p, "c1", "d1", "jpeg", "digital").status, 201);
    // The latest decision counts, and a retracted approval does not.
    assert_eq!(approve(&p, &p.director, "c1", "a2", "changes_requested").status, 201);
    assert_refused(&p, deliver(&p, "c1", "d2", "jpeg", "digital"), "campaign.creative-director-approval");
    let again = approve(&p, &p.director, "c1", "a3", "approved");
    assert_eq!(deliver(&p, "c1", "d2", "jpeg", "digital").status, 201);
    let retract = p.app.send(&p.director.envelope(
        "c1",
        "event_retracted",
        json!({"event_id": again.body["event_id"], "reason": "wrong asset"}),
    ));
    assert_eq!(retract.status, 201, "{:?}", retract.body);
    assert_refused(&p, deliver(&p, "c1", "d3", "jpeg", "digital"), "campaign.creative-director-approval");
}

#[test]
fn print_and_large_format_deliveries_need_a_print_proof() {
    let p = Production::new();
    project(&p, "c2", "campaign");
    assert_eq!(approve(&p, &p.director, "c2", "a1", "approved").status, 201);
    assert_refused(&p, deliver(&p, "c2", "d1", "tiff", "print"), "print.proof");
    assert_eq!(qc(&p, "c2", "q1", "pass", &["resolution"], "screen"), 201);
    assert_refused(&p, deliver(&p, "c2", "d1", "tiff", "large_format"), "print.proof");
    assert_eq!(qc(&p, "c2", "q2", "fail", &["resolution"], "print"), 201);
    assert_refused(&p, deliver(&p, "c2", "d1", "tiff", "print"), "print.proof");
    assert_eq!(qc(&p, "c2", "q3", "pass", &["resolution"], "large_format"), 201);
    assert_eq!(deliver(&p, "c2", "d1", "tiff", "print").status, 201);
    assert_eq!(deliver(&p, "c2", "d2", "pdf", "large_format").status, 201);
}

#[test]
fn social_approvals_need_a_passing_qc_review_first() {
    let p = Production::new();
    project(&p, "s1", "social");
    assert_refused(&p, approve(&p, &p.client, "s1", "a1", "approved"), "social.qc-before-approval");
    assert_eq!(approve(&p, &p.client, "s1", "a1", "changes_requested").status, 201, "only approving needs the review");
    assert_eq!(qc(&p, "s1", "q1", "fail", &["anatomy"], "screen"), 201);
    assert_refused(&p, approve(&p, &p.client, "s1", "a2", "approved"), "social.qc-before-approval");
    assert_eq!(qc(&p, "s1", "q2", "pass", &["anatomy"], "screen"), 201);
    assert_eq!(approve(&p, &p.client, "s1", "a2", "approved").status, 201);
    assert_eq!(deliver(&p, "s1", "d1", "png", "digital").status, 201, "social deliveries have no other rule");
}

#[test]
fn ecomm_deliveries_need_product_qc_both_approvals_and_a_brief_format() {
    let p = Production::new();
    project(&p, "e1", "ecomm");
    assert_refused(&p, deliver(&p, "e1", "d1", "jpeg", "digital"), "ecomm.qc-product-and-colour");
    assert_eq!(qc(&p, "e1", "q1", "pass", &["product_accuracy"], "screen"), 201);
    assert_refused(&p, deliver(&p, "e1", "d1", "jpeg", "digital"), "ecomm.qc-product-and-colour");
    assert_eq!(qc(&p, "e1", "q2", "pass", &["product_accuracy", "colour_accuracy"], "screen"), 201);
    assert_refused(&p, deliver(&p, "e1", "d1", "jpeg", "digital"), "ecomm.brand-and-client-approval");
    assert_eq!(approve(&p, &p.brand, "e1", "a1", "approved").status, 201);
    assert_refused(&p, deliver(&p, "e1", "d1", "jpeg", "digital"), "ecomm.brand-and-client-approval");
    assert_eq!(approve(&p, &p.client, "e1", "a2", "approved").status, 201);
    assert_refused(&p, deliver(&p, "e1", "d1", "png", "digital"), "ecomm.brief-formats");
    assert_eq!(deliver(&p, "e1", "d1", "jpeg", "digital").status, 201);
    let revised = p.app.send(&p.producer.envelope(
        "e1",
        "brief_revised",
        json!({"brief_id": "b", "text": "t2", "deliverable_formats": ["png"], "reason": "r"}),
    ));
    assert_eq!(revised.status, 201);
    assert_eq!(deliver(&p, "e1", "d2", "png", "digital").status, 201, "the revised formats count");
    assert_refused(&p, deliver(&p, "e1", "d3", "jpeg", "digital"), "ecomm.brief-formats");
}

#[test]
fn the_policies_are_documented() {
    let doc = std::fs::read_to_string("docs/policies.md").unwrap_or_default();
    for (rule, _, _) in lineage_ledger::domain::policy::RULES {
        assert!(doc.contains(rule), "docs/policies.md documents {rule}");
    }
}
