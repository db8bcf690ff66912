//! Compliance verdicts and finding assets by their bytes: the demo's deliveries pass; each kind
//! of non-compliant delivery the API can make fails the check it should, naming why, and nothing
//! else; a later, stricter amendment does not fail a delivery made before it; a file's bytes
//! find their asset within the token's scope only.

use crate::helpers::*;
use lineage_ledger::cli::client::Signer;
use serde_json::{json, Value};

/// An e-comm project whose master `m` has its QC review and approvals, delivered as `v`.
struct Delivered<'a> {
    p: &'a Production,
    project: String,
    ids: std::collections::HashMap<&'static str, String>,
}

impl<'a> Delivered<'a> {
    fn send(&self, signer: &Signer, kind: &str, body: Value) -> String {
        let answer = self.p.app.send(&signer.envelope(&self.project, kind, body));
        assert_eq!(answer.status, 201, "{kind}: {:?}", answer.body);
        answer.body["event_id"].as_str().unwrap().to_owned()
    }

    fn new(p: &'a Production, name: &str) -> Delivered<'a> {
        Delivered::made(p, name, false)
    }

    /// With `behind_a_parent`, the prompt rewrites one that cites a reference-only reference.
    fn made(p: &'a Production, name: &str, behind_a_parent: bool) -> Delivered<'a> {
        let project = pid(name);
        p.create(&project, "ecomm");
        let mut d = Delivered { p, project, ids: Default::default() };
        d.send(
            &p.producer,
            "brief_recorded",
            json!({"brief_id": "b", "title": "t", "text": "t", "deliverable_formats": ["jpeg"]}),
        );
        d.send(&p.artist, "model_version_registered", json!({"model_version_id": "mv", "provider": "p", "family": "f", "version": "1", "license": "l", "license_use": "commercial", "training_data_statement": "s"}));
        if behind_a_parent {
            let rights = json!({"status": "licensed", "reproduction": "reference_only"});
            d.send(&p.director, "reference_added", json!({"reference_id": "ref-ro", "category": "visual", "title": "t", "source": "an archive", "rights": rights}));
            d.send(&p.artist, "prompt_authored", json!({"prompt_id": "pr-ro", "text": "t", "references": ["ref-ro"]}));
            d.send(
                &p.artist,
                "prompt_authored",
                json!({"prompt_id": "pr", "text": "t", "brief_id": "b", "parent_prompt": "pr-ro"}),
            );
        } else {
            d.send(&p.artist, "prompt_authored", json!({"prompt_id": "pr", "text": "t", "brief_id": "b"}));
        }
        let generation = d.send(
            &p.integration,
            "generation_recorded",
            json!({"generation_id": "g", "model_version": "mv", "prompt": "pr", "outputs": [asset("m")]}),
        );
        // Brand compliance reviews too, and may retract its own review.
        let review = d.send(
            &p.brand,
            "qc_review_recorded",
            json!({"review_id": "qc-m", "asset": "m", "digest": digest("m"),
            "checks": [{"check": "product_accuracy", "result": "pass"}, {"check": "colour_accuracy", "result": "pass"}],
            "proof_medium": "screen", "proof_size": "100%", "proof_scale_percent": 100, "verdict": "pass"}),
        );
        let brand = d.send(
            &p.brand,
            "approval_recorded",
            json!({"approval_id": "ap-brand", "asset": "m", "digest": digest("m"), "decision": "approved"}),
        );
        d.send(
            &p.client,
            "approval_recorded",
            json!({"approval_id": "ap-client", "asset": "m", "digest": digest("m"), "decision": "approved"}),
        );
        let delivery = d.send(&p.integration, "delivery_recorded", json!({"delivery_id": "dl", "master_asset": "m",
            "variant": {"asset_id": "v", "digest": digest(&format!("{name}-v")), "media_type": "image/jpeg"},
            "format": "jpeg", "channel": "web", "medium": "digital", "dimensions": {"width": 10, "height": 10}, "locale": "en", "usage": "commercial"}));
        d.ids.extend([("generation", generation), ("review", review), ("brand", brand), ("delivery", delivery)]);
        d
    }

    fn retract(&self, signer: &Signer, what: &str) {
        self.send(signer, "event_retracted", json!({"event_id": self.ids[what], "reason": "a test"}));
    }

    fn verdict(&self) -> Value {
        let answer = self.p.app.get(&format!("/v1/projects/{}/assets/v/verdict", self.project));
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body
    }
}

/// The checks a verdict fails, with their reasons.
fn failing(verdict: &Value) -> Vec<(String, Vec<String>)> {
    verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| {
            let reasons = c["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect();
            (c["check"].as_str().unwrap().to_owned(), reasons)
        })
        .collect()
}

/// (case, what happens after the delivery, the checks that fail and a word of each reason)
type Case = (&'static str, fn(&Delivered<'_>), Vec<(&'static str, &'static str)>);

fn cases() -> Vec<Case> {
    vec![
        ("a compliant delivery", |_| {}, vec![]),
        (
            "its brand approval retracted since",
            |d| d.retract(&d.p.brand, "brand"),
            vec![
                ("rules_at_delivery", "approval.brand-compliance"),
                ("not_retracted", "approval `ap-brand` was retracted"),
            ],
        ),
        (
            "its QC review retracted since",
            |d| d.retract(&d.p.brand, "review"),
            vec![("rules_at_delivery", "qc.passed"), ("not_retracted", "qc review `qc-m` was retracted")],
        ),
        (
            "the generation of its master retracted since",
            |d| d.retract(&d.p.producer, "generation"),
            vec![("rules_at_delivery", "ancestry.not-retracted"), ("not_retracted", "generation `g` was retracted")],
        ),
        (
            "the delivery itself retracted",
            |d| d.retract(&d.p.producer, "delivery"),
            vec![("not_retracted", "delivery `dl` was retracted")],
        ),
        (
            "its master edited since its approvals",
            |d| {
                d.send(
                    &d.p.post,
                    "post_edit_applied",
                    json!({"edit_id": "ed", "technique": "retouch", "tool": "t",
                "performed_by": "human", "generative": false, "inputs": ["m"], "output": asset("m2")}),
                );
            },
            vec![("rules_at_delivery", "master.current"), ("approval_drift", "post edit `ed` made `m2`")],
        ),
        (
            "a stricter rule amended in after it",
            |d| {
                d.send(
                    &d.p.brand,
                    "policy_amended",
                    json!({"rules": [{"rule": "approval.creative-director"}], "reason": "stricter from now on"}),
                );
            },
            vec![],
        ),
    ]
}

#[test]
fn each_kind_of_non_compliant_delivery_fails_its_check_and_only_that() {
    let p = Production::new();
    for (i, (name, after, expected)) in cases().into_iter().enumerate() {
        let d = Delivered::new(&p, &format!("verdict-{i}"));
        after(&d);
        let verdict = d.verdict();
        let failed = failing(&verdict);
        let names: Vec<&str> = failed.iter().map(|(c, _)| c.as_str()).collect();
        let wanted: Vec<&str> = expected.iter().map(|(c, _)| *c).collect();
        assert_eq!(names, wanted, "{name}: {verdict}");
        for ((check, reasons), (_, word)) in failed.iter().zip(&expected) {
            assert!(reasons.iter().any(|r| r.contains(word)), "{name}: {check} says {reasons:?}, not `{word}`");
        }
        let outcome = if expected.is_empty() { "pass" } else { "fail" };
        assert_eq!(verdict["verdict"], outcome, "{name}");
        assert_eq!(verdict["delivery"]["delivery_id"], "dl");
        assert_eq!(verdict["disclosure"]["term"], "trainedAlgorithmicMedia");
    }
    // A reference-only reference reached through a parent prompt: the append's rule does not
    // follow a prompt's parent (rule set 3), the verdict's walk of the whole ancestry does.
    let d = Delivered::made(&p, "verdict-parent", true);
    let verdict = d.verdict();
    assert_eq!(
        failing(&verdict),
        vec![(
            "rights".to_owned(),
            vec!["reference `ref-ro`, which is for reference only (no reproduction), is in its ancestry".to_owned()]
        )],
        "{verdict}"
    );
    // A verdict is of a delivered variant: not of its master, nor of what the project lacks.
    for asset in ["m", "ghost"] {
        let answer = p.app.get(&format!("/v1/projects/{}/assets/{asset}/verdict", pid("verdict-0")));
        assert_eq!(answer.status, 404, "{asset}: {:?}", answer.body);
        assert_eq!(answer.body["type"], "urn:lineage:problem:not-found");
    }
}

#[test]
fn the_demo_deliveries_pass_and_the_report_says_so_as_json_and_as_a_page() {
    let app = spawn_app();
    let admin = lineage_ledger::crypto::keys::KeyFile::load(&app.data().admin_key()).unwrap();
    lineage_ledger::cli::demo::run(&app.client, admin, "aurora").expect("the demo runs");
    let report = app.get("/v1/projects/aurora-outdoor:aurora/compliance");
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!((report.body["passed"].clone(), report.body["failed"].clone()), (json!(3), json!(0)), "{}", report.body);
    assert_eq!(report.body["title"], "Aurora trail shoe — spring launch");
    let assets: Vec<&str> =
        report.body["deliveries"].as_array().unwrap().iter().map(|v| v["asset"].as_str().unwrap()).collect();
    assert_eq!(assets, ["hero-ig-4x5", "hero-print-a4", "hero-billboard"]);
    let page = app.get("/v1/projects/aurora-outdoor:aurora/compliance?format=html");
    assert_eq!(page.status, 200);
    for text in [
        "<h1>Compliance report</h1>",
        "Aurora trail shoe — spring launch",
        "<code>hero-billboard</code>",
        "PASS",
        "rules at delivery",
        "compositeSynthetic",
    ] {
        assert!(page.text.contains(text), "the page shows {text}");
    }
    assert!(!page.text.contains("<script"), "a printable page runs nothing");
    let bad = app.get("/v1/projects/aurora-outdoor:aurora/compliance?format=pdf");
    assert_eq!((bad.status, bad.body["type"].as_str()), (400, Some("urn:lineage:problem:invalid-query")));
    // Pages: each verdict verifies a bundle, so a report comes a bounded page at a time.
    let first = app.get("/v1/projects/aurora-outdoor:aurora/compliance?limit=2").body;
    assert_eq!(first["deliveries"].as_array().unwrap().len(), 2);
    let next = first["next"].as_u64().expect("a next page");
    let rest = app.get(&format!("/v1/projects/aurora-outdoor:aurora/compliance?limit=2&after={next}")).body;
    let assets: Vec<&str> =
        rest["deliveries"].as_array().unwrap().iter().map(|v| v["asset"].as_str().unwrap()).collect();
    assert_eq!((assets, rest.get("next")), (vec!["hero-billboard"], None));
    for limit in ["0", "51"] {
        let refused = app.get(&format!("/v1/projects/aurora-outdoor:aurora/compliance?limit={limit}"));
        assert_eq!((refused.status, refused.body["field"].as_str()), (400, Some("limit")), "{limit}");
    }
}

#[test]
fn a_file_finds_its_asset_by_its_bytes_within_the_tokens_scope_only() {
    let p = Production::new();
    // A second client's project records the same bytes as `img-1` of the first.
    p.app.organization("other-client", "client");
    let other = p.app.register_in("other-producer", "producer", "other-client");
    let project = "other-client:copy";
    let created = p.app.send(&other.envelope(
        project,
        "project_created",
        json!({"content_type": "social", "title": "Copy", "client_organization": "other-client"}),
    ));
    assert_eq!(created.status, 201, "{:?}", created.body);
    let imported = p.app.send(&other.envelope(project, "asset_imported", json!({"asset": asset("img-1"), "origin": "photograph", "source": "a camera", "rights": {"status": "owned", "reproduction": "allowed"}})));
    assert_eq!(imported.status, 201, "{:?}", imported.body);
    let find = |client: &lineage_ledger::cli::client::Client, digest: &str| {
        client.get(&format!("/v1/assets?digest={digest}")).unwrap()
    };
    let all = find(&p.app.client, &digest("img-1"));
    assert_eq!(all.status, 200, "{:?}", all.body);
    let found: Vec<(&str, &str, &str)> = all.body["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (a["project"].as_str().unwrap(), a["asset"].as_str().unwrap(), a["disclosure"]["term"].as_str().unwrap())
        })
        .collect();
    assert!(found.contains(&(p.project.as_str(), "img-1", "trainedAlgorithmicMedia")), "{found:?}");
    assert!(found.contains(&(project, "img-1", "digitalCapture")), "{found:?}");
    let first = all.body["assets"].as_array().unwrap().iter().find(|a| a["project"] == p.project.as_str()).unwrap();
    assert_eq!(first["recorded_by"]["kind"], "generation_recorded");
    assert_eq!(first["lineage"]["model_versions"], json!(["mv-1"]));
    assert!(first.get("verdict").is_none(), "a generated asset has no delivery verdict");
    // A token of the first client sees its own project only; another client's, its own.
    let scoped = |organization: &str| {
        let issued = p
            .app
            .client
            .post("/v1/tokens", json!({"name": organization, "organization": organization}).to_string().as_bytes())
            .unwrap();
        assert_eq!(issued.status, 201, "{:?}", issued.body);
        lineage_ledger::cli::client::Client::new(&p.app.url).with_token(issued.body["token"].as_str().unwrap())
    };
    for (organization, project) in [(CLIENT, p.project.as_str()), ("other-client", project)] {
        let answer = find(&scoped(organization), &digest("img-1"));
        let projects: Vec<&str> =
            answer.body["assets"].as_array().unwrap().iter().map(|a| a["project"].as_str().unwrap()).collect();
        assert_eq!(projects, [project], "{organization}: {:?}", answer.body);
    }
    // `lineage token issue` says a scoped token's scope in words.
    let data = p.app.data().root;
    let issue = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_lineage"))
            .args(["token", "issue", "--name", "scoped", "--url", p.app.url.as_str(), "--data", data.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stderr).unwrap()
    };
    let said = issue(&["--project", &p.project]);
    assert!(said.contains(&format!("for project `{}`,", p.project)), "{said}");
    let said = issue(&["--organization", "other-client"]);
    assert!(said.contains("for the projects of organisation `other-client`"), "{said}");
    // Unknown bytes find nothing; a malformed query is refused naming the parameter.
    let none = find(&p.app.client, &digest("never recorded"));
    assert_eq!(
        (none.status, none.body["assets"].clone(), none.body["truncated"].clone()),
        (200, json!([]), json!(false))
    );
    for (query, field) in [
        ("digest=sha256:abc", "digest"),
        ("digest=md5:00", "digest"),
        (&format!("digest={}&limit=0", digest("img-1")) as &str, "limit"),
        ("", "digest"),
    ] {
        let answer = p.app.client.get(&format!("/v1/assets?{query}")).unwrap();
        assert_eq!(answer.status, 400, "{query}: {:?}", answer.body);
        assert_eq!(answer.body["type"], "urn:lineage:problem:invalid-query", "{query}");
        if query.is_empty() {
            continue;
        }
        assert_eq!(answer.body["field"], field, "{query}");
    }
    let truncated = p.app.client.get(&format!("/v1/assets?digest={}&limit=1", digest("img-1"))).unwrap();
    assert_eq!(
        (truncated.body["assets"].as_array().unwrap().len(), truncated.body["truncated"].clone()),
        (1, json!(true))
    );
    assert_eq!(p.app.anon.get(&format!("/v1/assets?digest={}", digest("img-1"))).unwrap().status, 401);
}
