//! The campaign's last stages: refinement (QC reviews, proofs, approvals, a retracted note) and
//! delivery.

use super::{files, Crew, DemoError, Recording};
use serde_json::json;

/// Refinement: a failed and a passing QC review, a print proof, three approvals, a retracted
/// note.
pub(super) fn refinement(r: &mut Recording<'_>, c: &Crew) -> Result<(), DemoError> {
    r.send("open refinement", &c.producer, "stage_marked", json!({"stage": "refinement", "mark": "opened"}))?;
    let checks = |anatomy: &str| {
        json!([
            {"check": "colour_accuracy", "result": "pass"},
            {"check": "anatomy", "result": anatomy, "note": if anatomy == "fail" { "left hand has six fingers" } else { "ok" }},
            {"check": "product_accuracy", "result": "pass"},
            {"check": "light_shadow", "result": "pass"},
            {"check": "artifacts", "result": "pass"},
            {"check": "resolution", "result": "pass"},
            {"check": "edges", "result": "pass"},
            {"check": "hallucination", "result": "pass"},
        ])
    };
    r.send(
        "first QC review",
        &c.qc,
        "qc_review_recorded",
        json!({
        "review_id": "qc-1", "asset": "hero-master", "digest": r.files.digest("hero-master"),
        "checks": checks("fail"), "proof_medium": "large_format", "proof_size": "1.5x0.75 m section of the 6x3 m board",
        "proof_scale_percent": 25, "verdict": "fail"}),
    )?;
    r.day(10, 15, 0);
    r.send(
        "fix the hand",
        &c.post_artist,
        "post_edit_applied",
        json!({
        "edit_id": "ed-cleanup-1", "technique": "cleanup", "tool": "Photoshop 2027", "performed_by": "human", "generative": false,
        "inputs": ["hero-master"], "output": r.files.output("hero-master-v2"), "notes": "hand repainted"}),
    )?;
    r.day(11, 9, 0);
    r.send(
        "second QC review",
        &c.qc,
        "qc_review_recorded",
        json!({
        "review_id": "qc-2", "asset": "hero-master-v2", "digest": r.files.digest("hero-master-v2"),
        "checks": checks("pass"), "proof_medium": "large_format", "proof_size": "3x1.5 m section of the 6x3 m board",
        "proof_scale_percent": 50, "verdict": "pass"}),
    )?;
    r.send(
        "print proof",
        &c.qc,
        "qc_review_recorded",
        json!({
        "review_id": "qc-3", "asset": "hero-master-v2", "digest": r.files.digest("hero-master-v2"),
        "checks": [{"check": "colour_accuracy", "result": "pass"}, {"check": "grain", "result": "pass"}],
        "proof_medium": "print", "proof_size": "A4 contract proof", "proof_scale_percent": 100, "verdict": "pass"}),
    )?;
    r.send(
        "creative approval",
        &c.director,
        "approval_recorded",
        json!({
        "approval_id": "ap-cd", "asset": "hero-master-v2", "digest": r.files.digest("hero-master-v2"), "decision": "approved"}),
    )?;
    r.send(
        "brand approval",
        &c.brand,
        "approval_recorded",
        json!({
        "approval_id": "ap-brand", "asset": "hero-master-v2", "digest": r.files.digest("hero-master-v2"), "decision": "approved",
        "conditions": ["use only with the 2027 logo lock-up"]}),
    )?;
    r.send(
        "client approval",
        &c.client,
        "approval_recorded",
        json!({
        "approval_id": "ap-client", "asset": "hero-master-v2", "digest": r.files.digest("hero-master-v2"), "decision": "approved"}),
    )?;
    r.send("complete refinement", &c.producer, "stage_marked", json!({"stage": "refinement", "mark": "completed"}))?;
    let hold = r.send("a mistaken note", &c.producer, "note_added", json!({"text": "Hold delivery until Monday."}))?;
    let hold = hold.body["event_id"].as_str().unwrap_or_default().to_owned();
    r.send(
        "retract the note",
        &c.producer,
        "event_retracted",
        json!({"event_id": hold, "reason": "sent to the wrong project"}),
    )?;

    Ok(())
}

/// Delivery: three variants of the master; the vendor released. Returns the variants.
pub(super) fn delivery(r: &mut Recording<'_>, c: &Crew) -> Result<Vec<String>, DemoError> {
    r.send("open delivery", &c.producer, "stage_marked", json!({"stage": "delivery", "mark": "opened"}))?;
    let mut delivered = Vec::new();
    for d in files::DELIVERIES {
        r.send(
            &format!("deliver {}", d.id),
            &c.pipeline,
            "delivery_recorded",
            json!({
            "delivery_id": d.id, "master_asset": "hero-master-v2", "variant": r.files.output(d.variant),
            "format": d.format, "channel": d.channel, "medium": d.medium,
            "dimensions": {"width": d.width, "height": d.height}, "locale": d.locale, "usage": "commercial"}),
        )?;
        delivered.push(d.variant.to_owned());
    }
    r.day(13, 10, 0);
    r.send("complete delivery", &c.producer, "stage_marked", json!({"stage": "delivery", "mark": "completed"}))?;
    // The post house's work is done: it no longer writes into the project.
    r.send(
        "release the vendor",
        &c.producer,
        "member_removed",
        json!({"actor_id": c.post_artist.key.actor, "reason": "post production wrapped"}),
    )?;

    Ok(delivered)
}
