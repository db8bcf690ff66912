//! The workflow policies of governed projects, and the ways around them that went through
//! before: each attempt is refused with its status, problem type and rule (or field), nothing is
//! written, and the readiness endpoint, asked about the same delivery, gives the same verdict.
//! Each case starts from a project whose master `m` is ready to deliver and changes one thing.

use crate::helpers::*;
use lineage_ledger::cli::client::{Answer, Signer};
use serde_json::{json, Value};

/// One project of the table, on a shared crew.
struct Ctx<'a> {
    p: &'a Production,
    project: String,
    rival: &'a Signer,
    outsider: &'a Signer,
    miscast: &'a Signer,
}

fn ok(answer: Answer, what: &str) -> Answer {
    assert!(answer.status == 201 || answer.status == 200, "{what}: {} {:?}", answer.status, answer.body);
    answer
}

impl Ctx<'_> {
    fn env(&self, signer: &Signer, kind: &str, body: Value) -> Vec<u8> {
        signer.envelope(&self.project, kind, body)
    }
    /// Signed with `occurred_at` moved by `shift` seconds.
    fn env_at(&self, signer: &Signer, kind: &str, body: Value, shift: i64) -> Vec<u8> {
        let mut payload = signer.payload(&self.project, kind, body);
        let at = chrono::Utc::now() + chrono::Duration::seconds(shift);
        payload["occurred_at"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        signer.sign(&payload)
    }
    fn send(&self, envelope: Vec<u8>, what: &str) -> Answer {
        ok(self.p.app.send(&envelope), what)
    }
    fn event_id(answer: &Answer) -> String {
        answer.body["event_id"].as_str().expect("an event id").to_owned()
    }

    fn model(&self, id: &str, usage: &str) {
        let body = json!({"model_version_id": id, "provider": "p", "family": "f", "version": "1", "license": format!("licence {usage}"), "license_use": usage, "training_data_statement": "s"});
        self.send(self.env(&self.p.artist, "model_version_registered", body), "model");
    }
    fn reference(&self, id: &str, reproduction: &str) {
        let body = json!({"reference_id": id, "category": "visual", "title": "t", "source": "s", "rights": {"status": "licensed", "reproduction": reproduction}});
        self.send(self.env(&self.p.director, "reference_added", body), "reference");
    }
    fn prompt(&self, id: &str, references: &[&str]) {
        self.send(
            self.env(
                &self.p.artist,
                "prompt_authored",
                json!({"prompt_id": id, "text": "t", "references": references}),
            ),
            "prompt",
        );
    }
    /// Generates `asset` with a model and prompt, from inputs; returns the event id.
    fn generate_with(&self, asset_id: &str, model: &str, prompt: &str, inputs: &[&str]) -> String {
        let body = json!({"generation_id": format!("gen-{asset_id}"), "model_version": model, "prompt": prompt, "input_assets": inputs, "outputs": [asset(asset_id)]});
        Self::event_id(&self.send(self.env(&self.p.integration, "generation_recorded", body), "generation"))
    }
    /// Generates `asset_id` claiming the bytes of `bytes_of` (its digest).
    fn generate_as(&self, asset_id: &str, bytes_of: &str) -> String {
        let output = json!({"asset_id": asset_id, "digest": digest(bytes_of), "media_type": "image/png"});
        let body = json!({"generation_id": format!("gen-{asset_id}"), "model_version": "mv", "prompt": "pr", "outputs": [output]});
        Self::event_id(&self.send(self.env(&self.p.integration, "generation_recorded", body), "generation"))
    }
    fn generate(&self, asset_id: &str) -> String {
        self.generate_with(asset_id, "mv", "pr", &[])
    }
    /// A post edit of `inputs` into `output`; returns the event id.
    fn edit(&self, output: &str, inputs: &[&str], model: Option<&str>) -> String {
        let mut body = json!({"edit_id": format!("ed-{output}"), "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": inputs, "output": asset(output)});
        if let Some(model) = model {
            body["model_version"] = json!(model);
            body["performed_by"] = json!("ai");
            body["generative"] = json!(true);
        }
        Self::event_id(&self.send(self.env(&self.p.post, "post_edit_applied", body), "edit"))
    }
    fn qc_body(id: &str, target: &str, results: &[(&str, &str)], medium: &str, scale: Option<u16>) -> Value {
        let checks: Vec<Value> = results.iter().map(|(c, r)| json!({"check": c, "result": r})).collect();
        let verdict = if results.iter().any(|(_, r)| *r == "fail") { "fail" } else { "pass" };
        let mut body = json!({"review_id": id, "asset": target, "digest": digest(target), "checks": checks, "proof_medium": medium, "proof_size": "A2", "verdict": verdict});
        if let Some(scale) = scale {
            body["proof_scale_percent"] = json!(scale);
        }
        body
    }
    fn qc_env(&self, id: &str, target: &str, results: &[(&str, &str)], medium: &str, scale: Option<u16>) -> Vec<u8> {
        self.env(&self.p.qc, "qc_review_recorded", Self::qc_body(id, target, results, medium, scale))
    }
    fn qc(&self, id: &str, target: &str, results: &[(&str, &str)], medium: &str, scale: Option<u16>) -> String {
        Self::event_id(&self.send(self.qc_env(id, target, results, medium, scale), "qc"))
    }
    fn approval_env(&self, signer: &Signer, id: &str, target: &str, decision: &str) -> Vec<u8> {
        self.env(
            signer,
            "approval_recorded",
            json!({"approval_id": id, "asset": target, "digest": digest(target), "decision": decision}),
        )
    }
    fn approve(&self, signer: &Signer, id: &str, target: &str, decision: &str) -> String {
        Self::event_id(&self.send(self.approval_env(signer, id, target, decision), "approval"))
    }
    fn select(&self, signer: &Signer, id: &str, selected: &[&str], rejected: &[&str]) -> String {
        let body =
            json!({"selection_id": id, "round": 1, "selected": selected, "rejected": rejected, "rationale": "r"});
        Self::event_id(&self.send(self.env(signer, "selection_made", body), "selection"))
    }
    fn retract_env(&self, signer: &Signer, event: &str) -> Vec<u8> {
        self.env(signer, "event_retracted", json!({"event_id": event, "reason": "r"}))
    }
    fn amend_env(&self, signer: &Signer, rules: Value) -> Vec<u8> {
        self.env(signer, "policy_amended", json!({"rules": rules, "reason": "stricter"}))
    }
    fn delivery_body(id: &str, master: &str, medium: &str, format: &str, usage: &str) -> Value {
        json!({"delivery_id": id, "master_asset": master, "variant": asset(&format!("{id}-variant")), "format": format,
               "channel": "web", "medium": medium, "dimensions": {"width": 1, "height": 1}, "locale": "en", "usage": usage})
    }
    fn deliver_env(&self, target: &Delivery) -> Vec<u8> {
        let body = Self::delivery_body("d", target.master, target.medium, target.format, target.usage);
        self.env_at(&self.p.integration, "delivery_recorded", body, target.shift)
    }

    /// The project's master `m`, from a commercial model, QC-passed on screen and approved by
    /// the creative director, the client and brand compliance: deliverable digitally.
    fn ready(&self) {
        self.model("mv", "commercial");
        self.prompt("pr", &[]);
        self.generate("m");
        self.evidence("m");
    }
    /// As [`Ctx::ready`], with the evidence dated two minutes ago.
    fn ready_before(&self) {
        self.model("mv", "commercial");
        self.prompt("pr", &[]);
        self.generate("m");
        let review = Self::qc_body(
            "qc-m",
            "m",
            &[("anatomy", "pass"), ("product_accuracy", "pass"), ("colour_accuracy", "pass")],
            "screen",
            Some(100),
        );
        self.send(self.env_at(&self.p.qc, "qc_review_recorded", review, -120), "qc");
        for (signer, id) in
            [(&self.p.director, "ap-cd-m"), (&self.p.client, "ap-client-m"), (&self.p.brand, "ap-brand-m")]
        {
            let body = json!({"approval_id": id, "asset": "m", "digest": digest("m"), "decision": "approved"});
            self.send(self.env_at(signer, "approval_recorded", body, -120), "approval");
        }
    }
    /// The evidence a digital delivery of `target`, recorded with the bytes of `bytes_of`, needs:
    /// its own, at those bytes.
    fn evidence_as(&self, target: &str, bytes_of: &str) {
        let checks = json!([{"check": "anatomy", "result": "pass"}, {"check": "product_accuracy", "result": "pass"}, {"check": "colour_accuracy", "result": "pass"}]);
        let review = json!({"review_id": format!("qc-{target}"), "asset": target, "digest": digest(bytes_of), "checks": checks,
                            "proof_medium": "screen", "proof_size": "A2", "proof_scale_percent": 100, "verdict": "pass"});
        self.send(self.env(&self.p.qc, "qc_review_recorded", review), "qc");
        for (signer, role) in [(&self.p.director, "cd"), (&self.p.client, "client"), (&self.p.brand, "brand")] {
            let body = json!({"approval_id": format!("ap-{role}-{target}"), "asset": target, "digest": digest(bytes_of), "decision": "approved"});
            self.send(self.env(signer, "approval_recorded", body), "approval");
        }
    }
    /// A delivery of `m` whose variant claims the bytes of `bytes_of`.
    fn deliver_bytes_env(&self, bytes_of: &str) -> Vec<u8> {
        let mut body = Self::delivery_body("d", "m", "digital", "jpeg", "commercial");
        body["variant"]["digest"] = json!(digest(bytes_of));
        self.env(&self.p.integration, "delivery_recorded", body)
    }
    /// The evidence a digital delivery of `target` needs in every content type.
    fn evidence(&self, target: &str) {
        self.qc(
            &format!("qc-{target}"),
            target,
            &[("anatomy", "pass"), ("product_accuracy", "pass"), ("colour_accuracy", "pass")],
            "screen",
            Some(100),
        );
        self.approve(&self.p.director, &format!("ap-cd-{target}"), target, "approved");
        self.approve(&self.p.client, &format!("ap-client-{target}"), target, "approved");
        self.approve(&self.p.brand, &format!("ap-brand-{target}"), target, "approved");
    }
}

/// A delivery the table attempts, and asks readiness about.
#[derive(Clone, Copy)]
struct Delivery {
    master: &'static str,
    medium: &'static str,
    format: &'static str,
    usage: &'static str,
    /// Seconds its `occurred_at` is moved from now.
    shift: i64,
}

const DIGITAL: Delivery = Delivery { master: "m", medium: "digital", format: "jpeg", usage: "commercial", shift: 0 };

enum Attempt {
    /// A delivery on its own, asked of readiness first.
    Deliver(Delivery),
    /// Any single event.
    Single(Vec<u8>),
    /// A batch; when it holds a delivery, readiness is asked about that one.
    Batch(Vec<Vec<u8>>, Option<Delivery>),
}

struct Expect {
    status: u16,
    problem: &'static str,
    /// The policy rule, for a policy violation; otherwise the field.
    rule_or_field: &'static str,
    index: Option<usize>,
}

const fn policy(rule: &'static str) -> Expect {
    Expect { status: 422, problem: "policy-violation", rule_or_field: rule, index: None }
}

type Case = (&'static str, &'static str, fn(&Ctx) -> Attempt, Expect);

fn cases() -> Vec<Case> {
    vec![
        (
            "a later failing QC review of the same digest",
            "campaign",
            |c| {
                c.ready();
                c.qc("qc-late", "m", &[("anatomy", "fail")], "screen", Some(100));
                Attempt::Deliver(DIGITAL)
            },
            policy("qc.passed"),
        ),
        (
            "a later pass of another check does not clear a failure",
            "campaign",
            |c| {
                c.ready();
                c.qc("qc-late", "m", &[("anatomy", "fail")], "screen", Some(100));
                c.qc("qc-later", "m", &[("edges", "pass")], "screen", Some(100));
                Attempt::Deliver(DIGITAL)
            },
            policy("qc.passed"),
        ),
        (
            "a large-format delivery proofed only at 10% scale",
            "campaign",
            |c| {
                c.ready();
                c.qc("qc-lf", "m", &[("resolution", "pass")], "large_format", Some(10));
                Attempt::Deliver(Delivery { medium: "large_format", format: "pdf", ..DIGITAL })
            },
            policy("proof.large-format"),
        ),
        (
            "a large-format delivery proofed only in print",
            "campaign",
            |c| {
                c.ready();
                c.qc("qc-print", "m", &[("resolution", "pass")], "print", Some(100));
                Attempt::Deliver(Delivery { medium: "large_format", format: "pdf", ..DIGITAL })
            },
            policy("proof.large-format"),
        ),
        (
            "a print delivery proofed only on screen",
            "campaign",
            |c| {
                c.ready();
                Attempt::Deliver(Delivery { medium: "print", format: "tiff", ..DIGITAL })
            },
            policy("proof.print"),
        ),
        (
            "a print proof that failed after one that passed",
            "campaign",
            |c| {
                c.ready();
                c.qc("qc-print", "m", &[("resolution", "pass")], "print", Some(100));
                c.qc("qc-print-2", "m", &[("resolution", "fail")], "print", Some(100));
                Attempt::Deliver(Delivery { medium: "print", format: "tiff", ..DIGITAL })
            },
            policy("qc.passed"),
        ),
        (
            "a candidate the creative director rejected",
            "campaign",
            |c| {
                c.ready();
                c.select(&c.p.director, "sel", &[], &["m"]);
                Attempt::Deliver(DIGITAL)
            },
            policy("selection.not-rejected"),
        ),
        (
            "a retouch of a rejected candidate",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("raw");
                c.select(&c.p.director, "sel", &[], &["raw"]);
                c.edit("m", &["raw"], None);
                c.evidence("m");
                Attempt::Deliver(DIGITAL)
            },
            policy("selection.not-rejected"),
        ),
        (
            "a reinstatement by someone other than a creative director",
            "campaign",
            |c| {
                c.ready();
                c.select(&c.p.director, "sel", &[], &["m"]);
                c.select(&c.p.artist, "sel-2", &["m"], &[]);
                Attempt::Deliver(DIGITAL)
            },
            policy("selection.not-rejected"),
        ),
        (
            "a retracted generation of the master",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                let generation = c.generate("m");
                c.evidence("m");
                c.send(c.retract_env(&c.p.producer, &generation), "retract");
                Attempt::Deliver(DIGITAL)
            },
            policy("ancestry.not-retracted"),
        ),
        (
            "an approval of an asset whose ancestry holds a retracted edit",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("raw");
                let first = c.edit("mid", &["raw"], None);
                c.edit("m", &["mid"], None);
                c.send(c.retract_env(&c.p.producer, &first), "retract");
                c.qc("qc-m", "m", &[("anatomy", "pass")], "screen", Some(100));
                Attempt::Single(c.approval_env(&c.p.director, "ap", "m", "approved"))
            },
            policy("ancestry.not-retracted"),
        ),
        (
            "a master made with a non-commercial model",
            "campaign",
            |c| {
                c.model("mv", "non_commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                c.evidence("m");
                Attempt::Deliver(DIGITAL)
            },
            policy("rights.commercial"),
        ),
        (
            "a non-commercial model two generations up",
            "campaign",
            |c| {
                c.model("mv-nc", "non_commercial");
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate_with("plate", "mv-nc", "pr", &[]);
                c.generate_with("m", "mv", "pr", &["plate"]);
                c.evidence("m");
                Attempt::Deliver(DIGITAL)
            },
            policy("rights.commercial"),
        ),
        (
            "a reference for reference only in the prompt",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.reference("ref-ro", "reference_only");
                c.prompt("pr", &["ref-ro"]);
                c.generate("m");
                c.evidence("m");
                Attempt::Deliver(DIGITAL)
            },
            policy("rights.commercial"),
        ),
        (
            "an AI upres with a non-commercial model",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.model("mv-nc", "non_commercial");
                c.prompt("pr", &[]);
                c.generate("raw");
                c.edit("m", &["raw"], Some("mv-nc"));
                c.evidence("m");
                Attempt::Deliver(DIGITAL)
            },
            policy("rights.commercial"),
        ),
        (
            "a campaign delivery with no QC at all",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                c.approve(&c.p.director, "ap-cd", "m", "approved");
                c.approve(&c.p.client, "ap-client", "m", "approved");
                Attempt::Deliver(DIGITAL)
            },
            policy("qc.passed"),
        ),
        (
            "a social delivery with neither QC nor approval",
            "social",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                Attempt::Deliver(DIGITAL)
            },
            policy("qc.passed"),
        ),
        (
            "a social approval before any QC",
            "social",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                Attempt::Single(c.approval_env(&c.p.client, "ap", "m", "approved"))
            },
            policy("qc.before-approval"),
        ),
        (
            "the stale master after a later edit (approval drift)",
            "campaign",
            |c| {
                c.ready();
                c.edit("m-v2", &["m"], None);
                Attempt::Deliver(DIGITAL)
            },
            policy("master.current"),
        ),
        (
            "evidence about another digest",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                c.generate("other");
                c.evidence("other");
                Attempt::Deliver(DIGITAL)
            },
            policy("qc.passed"),
        ),
        (
            "QC that says it happened after the delivery",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                let review = Ctx::qc_body("qc-later", "m", &[("anatomy", "pass")], "screen", Some(100));
                c.send(c.env_at(&c.p.qc, "qc_review_recorded", review, 120), "qc in two minutes");
                c.approve(&c.p.director, "ap-cd", "m", "approved");
                c.approve(&c.p.client, "ap-client", "m", "approved");
                Attempt::Deliver(DIGITAL)
            },
            policy("qc.passed"),
        ),
        (
            "a delivery backdated before its evidence",
            "campaign",
            |c| {
                c.ready();
                Attempt::Deliver(Delivery { shift: -86_400, ..DIGITAL })
            },
            policy("qc.passed"),
        ),
        (
            "evidence dated an hour ahead of the ledger's clock",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                let review = Ctx::qc_body("qc-future", "m", &[("anatomy", "pass")], "screen", Some(100));
                Attempt::Single(c.env_at(&c.p.qc, "qc_review_recorded", review, 3600))
            },
            Expect { status: 422, problem: "invalid-event", rule_or_field: "payload.occurred_at", index: None },
        ),
        (
            "a batch that delivers before its QC",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                c.approve(&c.p.director, "ap-cd", "m", "approved");
                c.approve(&c.p.client, "ap-client", "m", "approved");
                let review = c.qc_env("qc-m", "m", &[("anatomy", "pass")], "screen", Some(100));
                Attempt::Batch(vec![c.deliver_env(&DIGITAL), review], Some(DIGITAL))
            },
            Expect { index: Some(0), ..policy("qc.passed") },
        ),
        (
            "a batch with a failing QC before the delivery",
            "campaign",
            |c| {
                c.ready();
                let review = c.qc_env("qc-fail", "m", &[("anatomy", "fail")], "screen", Some(100));
                Attempt::Batch(vec![review, c.deliver_env(&DIGITAL)], Some(DIGITAL))
            },
            Expect { index: Some(1), ..policy("qc.passed") },
        ),
        (
            "a batch in which the producer retracts the failing QC",
            "campaign",
            |c| {
                c.ready();
                let failing = c.qc("qc-fail", "m", &[("anatomy", "fail")], "screen", Some(100));
                Attempt::Batch(vec![c.retract_env(&c.p.producer, &failing), c.deliver_env(&DIGITAL)], Some(DIGITAL))
            },
            Expect {
                status: 403,
                problem: "retraction-not-allowed",
                rule_or_field: "payload.body.event_id",
                index: Some(0),
            },
        ),
        (
            "the producer retracting the creative director's rejection",
            "campaign",
            |c| {
                c.ready();
                let rejection = c.select(&c.p.director, "sel", &[], &["m"]);
                Attempt::Single(c.retract_env(&c.p.producer, &rejection))
            },
            Expect {
                status: 403,
                problem: "retraction-not-allowed",
                rule_or_field: "payload.body.event_id",
                index: None,
            },
        ),
        (
            "the producer retracting the client's refusal",
            "campaign",
            |c| {
                c.ready();
                let refusal = c.approve(&c.p.client, "ap-client-2", "m", "rejected");
                Attempt::Single(c.retract_env(&c.p.producer, &refusal))
            },
            Expect {
                status: 403,
                problem: "retraction-not-allowed",
                rule_or_field: "payload.body.event_id",
                index: None,
            },
        ),
        (
            "a retraction of a member's removal",
            "campaign",
            |c| {
                let removal = c.send(
                    c.env(
                        &c.p.producer,
                        "member_removed",
                        json!({"actor_id": c.p.post.key.actor, "reason": "off the job"}),
                    ),
                    "removal",
                );
                Attempt::Single(c.retract_env(&c.p.producer, &Ctx::event_id(&removal)))
            },
            Expect {
                status: 403,
                problem: "retraction-not-allowed",
                rule_or_field: "payload.body.event_id",
                index: None,
            },
        ),
        (
            "a retraction of a policy amendment",
            "campaign",
            |c| {
                let amendment =
                    c.send(c.amend_env(&c.p.brand, json!([{"rule": "approval.brand-compliance"}])), "amend");
                Attempt::Single(c.retract_env(&c.p.brand, &Ctx::event_id(&amendment)))
            },
            Expect {
                status: 403,
                problem: "retraction-not-allowed",
                rule_or_field: "payload.body.event_id",
                index: None,
            },
        ),
        (
            "a later change request by the client",
            "campaign",
            |c| {
                c.ready();
                c.approve(&c.p.client, "ap-client-2", "m", "changes_requested");
                Attempt::Deliver(DIGITAL)
            },
            policy("approval.client"),
        ),
        (
            "the creative director's approval retracted by its author",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                c.qc("qc-m", "m", &[("anatomy", "pass")], "screen", Some(100));
                c.approve(&c.p.client, "ap-client", "m", "approved");
                let approval = c.approve(&c.p.director, "ap-cd", "m", "approved");
                c.send(c.retract_env(&c.p.director, &approval), "retract");
                Attempt::Deliver(DIGITAL)
            },
            policy("approval.creative-director"),
        ),
        (
            "another client's actor as the creative director",
            "campaign",
            |c| {
                Attempt::Single(c.env(
                    &c.p.producer,
                    "member_added",
                    json!({"actor_id": c.rival.key.actor, "role": "creative_director"}),
                ))
            },
            Expect { status: 422, problem: "invalid-event", rule_or_field: "payload.body.actor_id", index: None },
        ),
        (
            "another client's approver added as client approver",
            "campaign",
            |c| {
                Attempt::Single(c.env(
                    &c.p.producer,
                    "member_added",
                    json!({"actor_id": c.rival.key.actor, "role": "client_approver"}),
                ))
            },
            Expect { status: 422, problem: "invalid-event", rule_or_field: "payload.body.role", index: None },
        ),
        (
            "a client approver of the client who is not a member",
            "campaign",
            |c| {
                c.ready();
                Attempt::Single(c.approval_env(c.outsider, "ap-out", "m", "approved"))
            },
            Expect { status: 403, problem: "not-a-member", rule_or_field: "payload.project", index: None },
        ),
        (
            "a removed member's approval",
            "campaign",
            |c| {
                c.ready();
                c.send(
                    c.env(&c.p.producer, "member_removed", json!({"actor_id": c.p.client.key.actor, "reason": "left"})),
                    "removal",
                );
                Attempt::Single(c.approval_env(&c.p.client, "ap-late", "m", "approved"))
            },
            Expect { status: 403, problem: "not-a-member", rule_or_field: "payload.project", index: None },
        ),
        (
            "a creative director added as an AI artist approving",
            "campaign",
            |c| {
                c.ready();
                c.send(
                    c.env(&c.p.producer, "member_added", json!({"actor_id": c.miscast.key.actor, "role": "ai_artist"})),
                    "add",
                );
                Attempt::Single(c.approval_env(c.miscast, "ap-miscast", "m", "approved"))
            },
            Expect { status: 403, problem: "role-not-allowed", rule_or_field: "payload.kind", index: None },
        ),
        (
            "an AI artist adding a member",
            "campaign",
            |c| {
                Attempt::Single(c.env(
                    &c.p.artist,
                    "member_added",
                    json!({"actor_id": c.outsider.key.actor, "role": "client_approver"}),
                ))
            },
            Expect { status: 403, problem: "role-not-allowed", rule_or_field: "payload.kind", index: None },
        ),
        (
            "a non-member adding itself",
            "campaign",
            |c| {
                Attempt::Single(c.env(
                    c.outsider,
                    "member_added",
                    json!({"actor_id": c.outsider.key.actor, "role": "client_approver"}),
                ))
            },
            Expect { status: 403, problem: "not-a-member", rule_or_field: "payload.project", index: None },
        ),
        (
            "a policy amendment that lowers a threshold",
            "campaign",
            |c| {
                Attempt::Single(
                    c.amend_env(&c.p.producer, json!([{"rule": "proof.large-format", "min_scale_percent": 10}])),
                )
            },
            Expect { status: 422, problem: "policy-not-stricter", rule_or_field: "payload.body.rules[0]", index: None },
        ),
        (
            "a policy amendment that asks for nothing new",
            "campaign",
            |c| Attempt::Single(c.amend_env(&c.p.producer, json!([{"rule": "approval.client"}]))),
            Expect { status: 422, problem: "policy-not-stricter", rule_or_field: "payload.body.rules[0]", index: None },
        ),
        (
            "the client's stricter rule, without brand approval",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                c.send(c.amend_env(&c.p.brand, json!([{"rule": "approval.brand-compliance"}])), "amend");
                c.qc("qc-m", "m", &[("anatomy", "pass")], "screen", Some(100));
                c.approve(&c.p.director, "ap-cd", "m", "approved");
                c.approve(&c.p.client, "ap-client", "m", "approved");
                Attempt::Deliver(DIGITAL)
            },
            policy("approval.brand-compliance"),
        ),
        (
            "a print proof below a raised threshold",
            "campaign",
            |c| {
                c.send(c.amend_env(&c.p.producer, json!([{"rule": "proof.print", "min_scale_percent": 200}])), "amend");
                c.ready();
                c.qc("qc-print", "m", &[("resolution", "pass")], "print", Some(100));
                Attempt::Deliver(Delivery { medium: "print", format: "tiff", ..DIGITAL })
            },
            policy("proof.print"),
        ),
        (
            "a QC review that passes with a failing check",
            "campaign",
            |c| {
                c.ready();
                let mut review = Ctx::qc_body("qc-odd", "m", &[("anatomy", "fail")], "screen", Some(100));
                review["verdict"] = json!("pass");
                Attempt::Single(c.env(&c.p.qc, "qc_review_recorded", review))
            },
            Expect { status: 422, problem: "invalid-event", rule_or_field: "payload.body.verdict", index: None },
        ),
        (
            "a print proof without its scale",
            "campaign",
            |c| {
                c.ready();
                Attempt::Single(c.qc_env("qc-noscale", "m", &[("resolution", "pass")], "print", None))
            },
            Expect {
                status: 422,
                problem: "invalid-event",
                rule_or_field: "payload.body.proof_scale_percent",
                index: None,
            },
        ),
        (
            "an e-comm delivery whose product accuracy was not checked",
            "ecomm",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                c.qc("qc-m", "m", &[("colour_accuracy", "pass")], "screen", Some(100));
                c.approve(&c.p.brand, "ap-brand", "m", "approved");
                c.approve(&c.p.client, "ap-client", "m", "approved");
                Attempt::Deliver(DIGITAL)
            },
            policy("qc.passed"),
        ),
        (
            "an e-comm delivery in a format no brief declares",
            "ecomm",
            |c| {
                c.send(
                    c.env(
                        &c.p.producer,
                        "brief_recorded",
                        json!({"brief_id": "b", "title": "t", "text": "t", "deliverable_formats": ["png"]}),
                    ),
                    "brief",
                );
                c.ready();
                Attempt::Deliver(DIGITAL)
            },
            policy("brief.formats"),
        ),
        (
            "a delivery dated before a later failing QC review",
            "campaign",
            |c| {
                c.ready_before();
                c.qc("qc-late", "m", &[("anatomy", "fail")], "screen", Some(100));
                Attempt::Deliver(Delivery { shift: -60, ..DIGITAL })
            },
            policy("qc.passed"),
        ),
        (
            "a failing QC review dated minutes ahead",
            "campaign",
            |c| {
                c.ready();
                let review = Ctx::qc_body("qc-ahead", "m", &[("anatomy", "fail")], "screen", Some(100));
                c.send(c.env_at(&c.p.qc, "qc_review_recorded", review, 240), "qc in four minutes");
                Attempt::Deliver(DIGITAL)
            },
            policy("qc.passed"),
        ),
        (
            "a delivery dated before a later rejection",
            "campaign",
            |c| {
                c.ready_before();
                c.select(&c.p.director, "sel", &[], &["m"]);
                Attempt::Deliver(Delivery { shift: -60, ..DIGITAL })
            },
            policy("selection.not-rejected"),
        ),
        (
            "a delivery dated before the client asked for changes",
            "campaign",
            |c| {
                c.ready_before();
                c.approve(&c.p.client, "ap-changes", "m", "changes_requested");
                Attempt::Deliver(Delivery { shift: -60, ..DIGITAL })
            },
            policy("approval.client"),
        ),
        (
            "an approval dated before a later failing QC review",
            "social",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                let review = Ctx::qc_body("qc-m", "m", &[("anatomy", "pass")], "screen", Some(100));
                c.send(c.env_at(&c.p.qc, "qc_review_recorded", review, -120), "qc");
                c.qc("qc-late", "m", &[("anatomy", "fail")], "screen", Some(100));
                let body =
                    json!({"approval_id": "ap-early", "asset": "m", "digest": digest("m"), "decision": "approved"});
                Attempt::Single(c.env_at(&c.p.director, "approval_recorded", body, -60))
            },
            policy("qc.before-approval"),
        ),
        (
            "the approved bytes under a new asset id",
            "campaign",
            |c| {
                c.ready();
                c.generate_as("m3", "m");
                Attempt::Deliver(Delivery { master: "m3", ..DIGITAL })
            },
            policy("qc.passed"),
        ),
        (
            "a delivery whose variant is the bytes of an asset that failed QC and was rejected",
            "campaign",
            |c| {
                c.ready();
                c.generate("bad");
                c.qc("qc-bad", "bad", &[("anatomy", "fail")], "screen", Some(100));
                c.select(&c.p.director, "sel-bad", &[], &["bad"]);
                Attempt::Single(c.deliver_bytes_env("bad"))
            },
            Expect { status: 422, problem: "invalid-event", rule_or_field: "payload.body.variant.digest", index: None },
        ),
        (
            "a delivery whose variant is the bytes of an asset that passed everything",
            "campaign",
            |c| {
                c.ready();
                c.generate("other");
                c.evidence("other");
                Attempt::Single(c.deliver_bytes_env("other"))
            },
            Expect { status: 422, problem: "invalid-event", rule_or_field: "payload.body.variant.digest", index: None },
        ),
        (
            "an edit's output passed under its own id, whose bytes then fail QC as another asset",
            "campaign",
            |c| {
                c.ready();
                let body = json!({"edit_id": "ed-m2", "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["m"],
                                  "output": {"asset_id": "m2", "digest": digest("bad"), "media_type": "image/png"}});
                c.send(c.env(&c.p.post, "post_edit_applied", body), "edit");
                c.evidence_as("m2", "bad");
                c.generate("bad");
                c.qc("qc-bad", "bad", &[("anatomy", "fail")], "screen", Some(100));
                Attempt::Deliver(Delivery { master: "m2", ..DIGITAL })
            },
            policy("qc.passed"),
        ),
        (
            "the bytes of an asset a creative director rejected, under a new id with evidence of its own",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("r");
                c.select(&c.p.director, "sel-r", &[], &["r"]);
                c.generate_as("m2", "r");
                c.evidence_as("m2", "r");
                Attempt::Deliver(Delivery { master: "m2", ..DIGITAL })
            },
            policy("selection.not-rejected"),
        ),
        (
            "an asset with evidence of its own, whose bytes another generation then made and was retracted",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate_as("m2", "r");
                c.evidence_as("m2", "r");
                let generation = c.generate("r");
                c.send(c.retract_env(&c.p.producer, &generation), "retract");
                Attempt::Deliver(Delivery { master: "m2", ..DIGITAL })
            },
            policy("ancestry.not-retracted"),
        ),
        (
            "changes requested by the client on the same bytes recorded as another asset",
            "campaign",
            |c| {
                c.ready();
                c.generate_as("twin", "m");
                let body = json!({"approval_id": "ap-twin", "asset": "twin", "digest": digest("m"), "decision": "changes_requested"});
                c.send(c.env(&c.p.client, "approval_recorded", body), "approval");
                Attempt::Deliver(DIGITAL)
            },
            policy("approval.client"),
        ),
        (
            "rejected and retracted bytes under a new asset id",
            "social",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                let generation = c.generate("m");
                c.evidence("m");
                c.select(&c.p.director, "sel", &[], &["m"]);
                c.send(c.retract_env(&c.p.producer, &generation), "retract");
                c.generate_as("m3", "m");
                Attempt::Deliver(Delivery { master: "m3", ..DIGITAL })
            },
            policy("ancestry.not-retracted"),
        ),
        (
            "an edit that keeps the approved bytes",
            "campaign",
            |c| {
                c.ready();
                let body = json!({"edit_id": "ed-same", "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["m"],
                                  "output": {"asset_id": "m2", "digest": digest("m"), "media_type": "image/png"}});
                c.send(c.env(&c.p.post, "post_edit_applied", body), "edit");
                Attempt::Deliver(Delivery { master: "m2", ..DIGITAL })
            },
            policy("qc.passed"),
        ),
        (
            "one person approving as client and as creative director",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                c.qc("qc-m", "m", &[("anatomy", "pass")], "screen", Some(100));
                c.approve(&c.p.client, "ap-client", "m", "approved");
                let client = c.p.client.key.actor.clone();
                c.send(
                    c.env(&c.p.producer, "member_removed", json!({"actor_id": client, "reason": "recast"})),
                    "removal",
                );
                c.send(
                    c.env(&c.p.producer, "member_added", json!({"actor_id": client, "role": "creative_director"})),
                    "recast",
                );
                c.approve(&c.p.client, "ap-as-cd", "m", "approved");
                Attempt::Deliver(DIGITAL)
            },
            policy("approval.client"),
        ),
        (
            "a policy amendment with a parameter its rule does not take",
            "campaign",
            |c| {
                Attempt::Single(
                    c.amend_env(&c.p.producer, json!([{"rule": "approval.brand-compliance", "min_scale_percent": 5}])),
                )
            },
            Expect {
                status: 422,
                problem: "invalid-payload",
                rule_or_field: "payload.body.rules[0].min_scale_percent",
                index: None,
            },
        ),
        (
            "a policy amendment listing a check twice",
            "campaign",
            |c| {
                Attempt::Single(
                    c.amend_env(&c.p.producer, json!([{"rule": "qc.passed", "checks": ["anatomy", "anatomy"]}])),
                )
            },
            Expect {
                status: 422,
                problem: "invalid-payload",
                rule_or_field: "payload.body.rules[0].checks[1]",
                index: None,
            },
        ),
        (
            "the ledger's own actor as a member",
            "campaign",
            |c| {
                Attempt::Single(c.env(&c.p.producer, "member_added", json!({"actor_id": "ledger", "role": "producer"})))
            },
            Expect { status: 422, problem: "invalid-event", rule_or_field: "payload.body.actor_id", index: None },
        ),
        (
            "a non-commercial model run by the generation's pipeline",
            "campaign",
            |c| {
                c.model("mv", "commercial");
                c.model("mv-nc", "non_commercial");
                c.prompt("pr", &[]);
                let pipeline = json!({"pipeline_id": "pl", "name": "upscale", "steps": [{"name": "s", "tool": "t"}], "model_versions": ["mv-nc"]});
                c.send(c.env(&c.p.artist, "pipeline_defined", pipeline), "pipeline");
                let body = json!({"generation_id": "gen-m", "model_version": "mv", "prompt": "pr", "pipeline": "pl", "outputs": [asset("m")]});
                c.send(c.env(&c.p.integration, "generation_recorded", body), "generation");
                c.evidence("m");
                Attempt::Deliver(DIGITAL)
            },
            policy("rights.commercial"),
        ),
        (
            "a failed check cleared by a later 'not applicable'",
            "campaign",
            |c| {
                c.ready();
                c.qc("qc-late", "m", &[("anatomy", "fail")], "screen", Some(100));
                c.qc("qc-na", "m", &[("anatomy", "not_applicable")], "screen", Some(100));
                Attempt::Deliver(DIGITAL)
            },
            policy("qc.passed"),
        ),
        (
            "QC whose only check was not applicable",
            "social",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                c.qc("qc-na", "m", &[("anatomy", "not_applicable")], "screen", Some(100));
                Attempt::Deliver(DIGITAL)
            },
            policy("qc.passed"),
        ),
        (
            "a large-format proof that found every check not applicable",
            "campaign",
            |c| {
                c.ready();
                c.qc("qc-lf", "m", &[("resolution", "not_applicable")], "large_format", Some(100));
                Attempt::Deliver(Delivery { medium: "large_format", format: "pdf", ..DIGITAL })
            },
            policy("proof.large-format"),
        ),
    ]
}

fn readiness(p: &Production, project: &str, d: &Delivery) -> Value {
    let at =
        (chrono::Utc::now() + chrono::Duration::seconds(d.shift)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let path = format!(
        "/v1/projects/{project}/assets/{}/readiness?medium={}&format={}&channel=web&usage={}&occurred_at={}",
        d.master,
        d.medium,
        d.format,
        d.usage,
        at.replace('+', "%2B")
    );
    let answer = p.app.get(&path);
    assert_eq!(answer.status, 200, "{path}: {:?}", answer.body);
    answer.body
}

fn first_failure(readiness: &Value) -> Option<String> {
    readiness["rules"].as_array()?.iter().find(|r| r["passed"] == false).map(|r| r["rule"].as_str().unwrap().to_owned())
}

#[test]
fn every_way_around_the_rules_is_refused_and_readiness_agrees() {
    let p = Production::new();
    p.app.organization("rival-brand", "client");
    let rival = p.app.register_in("rival-approver", "client_approver", "rival-brand");
    let outsider = p.app.register_in("client-outsider", "client_approver", CLIENT);
    let miscast = p.app.register("miscast-director", "creative_director");
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for (n, (name, content, setup, expect)) in cases.into_iter().enumerate() {
        let project = pid(&format!("walk-{n}"));
        p.create(&project, content);
        let ctx = Ctx { p: &p, project: project.clone(), rival: &rival, outsider: &outsider, miscast: &miscast };
        let attempt = setup(&ctx);
        let delivery = match &attempt {
            Attempt::Deliver(d) => Some(*d),
            Attempt::Batch(_, d) => *d,
            Attempt::Single(_) => None,
        };
        let before = delivery.map(|d| readiness(&p, &project, &d));
        let head = p.app.head();
        let answer = match attempt {
            Attempt::Deliver(d) => p.app.send(&ctx.deliver_env(&d)),
            Attempt::Single(envelope) => p.app.send(&envelope),
            Attempt::Batch(envelopes, _) => p.app.batch(&envelopes),
        };
        let body = &answer.body;
        assert_eq!(answer.status, expect.status, "{name}: {body:?}");
        assert_eq!(body["type"], format!("urn:lineage:problem:{}", expect.problem), "{name}: {body:?}");
        if expect.problem == "policy-violation" {
            assert_eq!(body["rule"], expect.rule_or_field, "{name}: {body:?}");
            assert!(body["detail"].as_str().unwrap().contains(expect.rule_or_field), "{name}: {body:?}");
        } else {
            assert_eq!(body["field"], expect.rule_or_field, "{name}: {body:?}");
        }
        // The offending envelope's position in the request (0 for a single append).
        assert_eq!(body["index"].as_u64(), Some(expect.index.unwrap_or(0) as u64), "{name}: {body:?}");
        assert_eq!(p.app.head(), head, "{name}: nothing is written");
        if let (Some(before), Some(d)) = (before, delivery) {
            // Readiness sees the log, not a batch's earlier events: for a batch it is asked only
            // that the refusal left it as it was.
            if expect.index.is_none() {
                assert_eq!(before["ready"], false, "{name}: readiness before: {before:?}");
            }
            let after = readiness(&p, &project, &d);
            assert_eq!(after["rules"], before["rules"], "{name}: a refused attempt changes nothing");
            // A single delivery refused by the policy is refused by the rule readiness fails first.
            if expect.index.is_none() && expect.problem == "policy-violation" {
                assert_eq!(first_failure(&before).as_deref(), Some(expect.rule_or_field), "{name}: {before:?}");
            }
        }
    }
}

#[test]
fn with_the_evidence_in_place_the_same_deliveries_go_through_and_readiness_says_so() {
    let p = Production::new();
    let rival = p.app.register("unused-rival", "client_approver");
    let ctx_for =
        |project: &str| Ctx { p: &p, project: project.to_owned(), rival: &rival, outsider: &rival, miscast: &rival };
    // (content type, what is recorded, the delivery)
    type Accepted = (&'static str, fn(&Ctx), Delivery);
    let accepted: Vec<Accepted> = vec![
        ("campaign", |c| c.ready(), DIGITAL),
        (
            "campaign",
            |c| {
                c.ready();
                c.qc("qc-lf", "m", &[("resolution", "pass")], "large_format", Some(50));
            },
            Delivery { medium: "large_format", format: "pdf", ..DIGITAL },
        ),
        (
            "campaign",
            |c| {
                c.ready();
                c.qc("qc-print", "m", &[("resolution", "pass")], "print", Some(100));
            },
            Delivery { medium: "print", format: "tiff", ..DIGITAL },
        ),
        (
            "campaign",
            |c| {
                c.ready();
                c.select(&c.p.director, "sel", &[], &["m"]);
                c.select(&c.p.director, "sel-2", &["m"], &[]);
            },
            DIGITAL,
        ),
        (
            "campaign",
            |c| {
                c.ready();
                c.qc("qc-late", "m", &[("anatomy", "fail")], "screen", Some(100));
                c.qc("qc-fixed", "m", &[("anatomy", "pass")], "screen", Some(100));
            },
            DIGITAL,
        ),
        (
            "campaign",
            |c| {
                c.model("mv", "non_commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                c.evidence("m");
            },
            Delivery { usage: "non_commercial", ..DIGITAL },
        ),
        (
            "social",
            |c| {
                c.model("mv", "commercial");
                c.prompt("pr", &[]);
                c.generate("m");
                c.qc("qc-m", "m", &[("anatomy", "pass")], "screen", Some(100));
            },
            DIGITAL,
        ),
        (
            "ecomm",
            |c| {
                c.send(
                    c.env(
                        &c.p.producer,
                        "brief_recorded",
                        json!({"brief_id": "b", "title": "t", "text": "t", "deliverable_formats": ["jpeg"]}),
                    ),
                    "brief",
                );
                c.ready();
            },
            DIGITAL,
        ),
    ];
    for (n, (content, setup, delivery)) in accepted.into_iter().enumerate() {
        let project = pid(&format!("ok-{n}"));
        p.create(&project, content);
        let ctx = ctx_for(&project);
        setup(&ctx);
        let ready = readiness(&p, &project, &delivery);
        assert_eq!(ready["ready"], true, "case {n}: {ready:?}");
        assert!(ready["rules"].as_array().unwrap().iter().all(|r| r["passed"] == true));
        let answer = p.app.send(&ctx.deliver_env(&delivery));
        assert_eq!(answer.status, 201, "case {n}: {:?}", answer.body);
    }
}

#[test]
fn approval_drift_is_reported_on_the_project_and_the_asset() {
    let p = Production::new();
    let c =
        Ctx { p: &p, project: "acme-client:drift".into(), rival: &p.client, outsider: &p.client, miscast: &p.client };
    p.create("acme-client:drift", "social");
    c.ready();
    let edit = c.edit("m-v2", &["m"], None);
    let governance = p.app.get("/v1/projects/acme-client:drift/governance");
    assert_eq!(governance.status, 200, "{:?}", governance.body);
    let drift = governance.body["approval_drift"].as_array().unwrap();
    assert_eq!(drift.len(), 3, "the three standing approvals of m: {drift:?}");
    assert!(drift
        .iter()
        .all(|d| d["asset"] == "m" && d["superseded_by"] == "m-v2" && d["edit_event"] == edit.as_str()));
    let ready = readiness(&p, "acme-client:drift", &DIGITAL);
    assert_eq!(ready["approval_drift"].as_array().unwrap().len(), 3);
    // Social does not block the stale master; a project that says so does.
    assert_eq!(ready["ready"], true, "{ready:?}");
    c.send(c.amend_env(&p.producer, json!([{"rule": "master.current"}])), "amend");
    let ready = readiness(&p, "acme-client:drift", &DIGITAL);
    assert_eq!(first_failure(&ready).as_deref(), Some("master.current"));
    assert_eq!(governance.body["rule_set"], "social@3");
    let amended = p.app.get("/v1/projects/acme-client:drift/governance").body;
    assert_eq!(amended["amended_by"].as_array().unwrap().len(), 1);
    assert!(amended["rules"].as_array().unwrap().iter().any(|r| r["rule"] == "master.current"));
}

#[test]
fn the_policies_are_documented() {
    let doc = std::fs::read_to_string("docs/policies.md").unwrap_or_default();
    for rule in lineage_ledger::domain::policy::rule_names() {
        assert!(doc.contains(&format!("`{rule}`")), "docs/policies.md documents {rule}");
    }
    for (rule, _, _) in lineage_ledger::domain::policy::legacy::RULES {
        assert!(doc.contains(rule), "docs/policies.md documents the legacy rule {rule}");
    }
}

#[test]
fn readiness_refuses_a_time_the_append_would_refuse() {
    let p = Production::new();
    let path = |at: &str| {
        format!("/v1/projects/acme-client:p1/assets/img-1/readiness?medium=digital&format=jpeg&channel=web&occurred_at={at}")
    };
    let ahead = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for at in [ahead.as_str(), "9999-12-31T23:59:59Z"] {
        let answer = p.app.get(&path(at));
        assert_eq!(answer.status, 400, "{at}: {:?}", answer.body);
        assert_eq!(answer.body["field"], "occurred_at", "{at}: {:?}", answer.body);
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(p.app.get(&path(&now)).status, 200);
}
