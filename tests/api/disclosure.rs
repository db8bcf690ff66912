//! AI disclosure derived from ancestry: one row per line of the derivation table in
//! `docs/compliance.md`, each built through the API and read back from the disclosure endpoint.

use crate::helpers::*;
use lineage_ledger::cli::client::Signer;
use serde_json::{json, Value};

/// One row: what to record (signer, kind, body), the asset to read, the term and the
/// derivation-table row expected.
struct Row {
    name: &'static str,
    steps: Vec<(Who, &'static str, Value)>,
    asset: &'static str,
    term: &'static str,
    derivation: &'static str,
}

#[derive(Clone, Copy)]
enum Who {
    Post,
    Artist,
    Integration,
}

fn import(id: &str, origin: &str) -> (Who, &'static str, Value) {
    let rights = json!({"status": "owned", "reproduction": "allowed"});
    (Who::Post, "asset_imported", json!({"asset": asset(id), "origin": origin, "source": "a studio", "rights": rights}))
}

fn edit(id: &str, technique: &str, by: &str, generative: bool, inputs: &[&str]) -> (Who, &'static str, Value) {
    let mut body = json!({"edit_id": format!("ed-{id}"), "technique": technique, "tool": "t", "performed_by": by,
                          "generative": generative, "inputs": inputs, "output": asset(id)});
    if generative {
        body["model_version"] = json!("mv-1");
    }
    (if by == "ai" { Who::Artist } else { Who::Post }, "post_edit_applied", body)
}

fn generate(id: &str, inputs: &[&str]) -> (Who, &'static str, Value) {
    let body = json!({"generation_id": format!("gen-{id}"), "model_version": "mv-1", "prompt": "pr-1",
                      "input_assets": inputs, "outputs": [asset(id)]});
    (Who::Integration, "generation_recorded", body)
}

fn rows() -> Vec<Row> {
    let row = |name, steps, asset, term, derivation| Row { name, steps, asset, term, derivation };
    vec![
        row("text-to-image output", vec![], "img-1", "trainedAlgorithmicMedia", "generated_from_nothing"),
        row(
            "a photograph as imported",
            vec![import("ph-a", "photograph")],
            "ph-a",
            "digitalCapture",
            "imported_capture",
        ),
        row(
            "a photo retouched with generative fill",
            vec![import("ph-b", "photograph"), edit("fill-b", "retouch", "ai", true, &["ph-b"])],
            "fill-b",
            "compositeWithTrainedAlgorithmicMedia",
            "generative_edit_of_non_synthetic",
        ),
        row(
            "a real packshot composited over a generated background",
            vec![import("pack-c", "packshot"), edit("comp-c", "compositing", "human", false, &["img-1", "pack-c"])],
            "comp-c",
            "compositeSynthetic",
            "composite_with_synthetic",
        ),
        row(
            "a photo upscaled without a generative model",
            vec![import("ph-d", "photograph"), edit("up-d", "upres", "ai", false, &["ph-d"])],
            "up-d",
            "algorithmicallyEnhanced",
            "enhancement_of_capture",
        ),
        row(
            "a photo upscaled, then retouched by a person: the latest edit says which",
            vec![
                import("ph-d2", "photograph"),
                edit("up-d2", "upres", "ai", false, &["ph-d2"]),
                edit("re-d2", "retouch", "human", false, &["up-d2"]),
            ],
            "re-d2",
            "humanEdits",
            "human_edit_of_capture",
        ),
        row(
            "a photo upscaled with a generative model",
            vec![import("ph-e", "photograph"), edit("up-e", "upres", "ai", true, &["ph-e"])],
            "up-e",
            "compositeWithTrainedAlgorithmicMedia",
            "generative_edit_of_non_synthetic",
        ),
        row("a CG render", vec![import("cg-f", "cg_render")], "cg-f", "digitalCreation", "imported_creation"),
        row(
            "a photo only colour-graded",
            vec![import("ph-g", "photograph"), edit("grade-g", "colour", "human", false, &["ph-g"])],
            "grade-g",
            "humanEdits",
            "human_edit_of_capture",
        ),
        row(
            "a scan of a negative",
            vec![import("neg-h", "scan_of_negative")],
            "neg-h",
            "negativeFilm",
            "imported_scan",
        ),
        row(
            "a composite of photographs only",
            vec![
                import("ph-i1", "photograph"),
                import("ph-i2", "stock_photograph"),
                edit("comp-i", "compositing", "human", false, &["ph-i1", "ph-i2"]),
            ],
            "comp-i",
            "compositeCapture",
            "composite_of_captures",
        ),
        row(
            "a photograph composited with a CG render",
            vec![
                import("ph-j", "photograph"),
                import("cg-j", "cg_render"),
                edit("comp-j", "compositing", "human", false, &["ph-j", "cg-j"]),
            ],
            "comp-j",
            "composite",
            "composite_of_captures_and_creations",
        ),
        row(
            "an image generated from a photograph",
            vec![import("ph-k", "photograph"), generate("i2i-k", &["ph-k"])],
            "i2i-k",
            "compositeWithTrainedAlgorithmicMedia",
            "generated_from_non_synthetic",
        ),
        row(
            "a generated image retouched by hand",
            vec![edit("ret-l", "retouch", "human", false, &["img-2"])],
            "ret-l",
            "trainedAlgorithmicMedia",
            "edit_of_synthetic",
        ),
        row(
            "a CG render retouched by hand",
            vec![import("cg-m", "cg_render"), edit("ret-m", "retouch", "human", false, &["cg-m"])],
            "ret-m",
            "digitalCreation",
            "edit_of_creation",
        ),
    ]
}

#[test]
fn every_row_of_the_derivation_table_derives_its_term() {
    let p = Production::new();
    let signer = |who: Who| -> &Signer {
        match who {
            Who::Post => &p.post,
            Who::Artist => &p.artist,
            Who::Integration => &p.integration,
        }
    };
    for row in rows() {
        for (who, kind, body) in &row.steps {
            let answer = p.send(signer(*who), kind, body.clone());
            assert_eq!(answer.status, 201, "{}: {kind}: {:?}", row.name, answer.body);
        }
        let disclosure = p.app.get(&format!("/v1/projects/{}/assets/{}/disclosure", p.project, row.asset));
        assert_eq!(disclosure.status, 200, "{}: {:?}", row.name, disclosure.body);
        let body = &disclosure.body;
        assert_eq!(body["term"], row.term, "{}: {body}", row.name);
        assert_eq!(body["derivation"], row.derivation, "{}: {body}", row.name);
        assert_eq!(
            body["digital_source_type"],
            format!("http://cv.iptc.org/newscodes/digitalsourcetype/{}", row.term),
            "{}",
            row.name
        );
        let synthetic = row.term.contains("Synthetic")
            || row.term.contains("TrainedAlgorithmic")
            || row.term == "trainedAlgorithmicMedia";
        assert_eq!(body["ai_generated"], synthetic, "{}: {body}", row.name);
        assert_eq!(body["models"].as_array().unwrap().is_empty(), !synthetic, "{}: {body}", row.name);
    }
}

#[test]
fn the_human_part_and_the_statement_say_what_people_did() {
    let p = Production::new();
    // img-1 was generated from a prompt the AI artist wrote, under a brief.
    let generated = p.app.get(&format!("/v1/projects/{}/assets/img-1/disclosure", p.project)).body;
    assert_eq!(generated["human"], json!(["directed", "prompted"]), "{generated}");
    assert_eq!(
        generated["statement"], "Generated by AI (model version mv-1). People directed and prompted.",
        "{generated}"
    );
    // Selected, retouched by hand and approved.
    let steps = [
        (
            &p.director,
            "selection_made",
            json!({"selection_id": "s-1", "round": 1, "selected": ["img-1"], "rationale": "r"}),
        ),
        (
            &p.post,
            "post_edit_applied",
            json!({"edit_id": "ed-1", "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["img-1"], "output": asset("hero")}),
        ),
        (
            &p.brand,
            "approval_recorded",
            json!({"approval_id": "ap-1", "asset": "hero", "digest": digest("hero"), "decision": "approved"}),
        ),
    ];
    for (signer, kind, body) in steps {
        assert_eq!(p.send(signer, kind, body).status, 201, "{kind}");
    }
    let hero = p.app.get(&format!("/v1/projects/{}/assets/hero/disclosure", p.project)).body;
    assert_eq!(hero["term"], "trainedAlgorithmicMedia", "{hero}");
    assert_eq!(hero["human"], json!(["directed", "prompted", "selected", "edited", "approved"]), "{hero}");
    assert_eq!(
        hero["statement"],
        "Generated by AI (model version mv-1). People directed, prompted, selected, edited and approved.",
        "{hero}"
    );
    // An asset the project does not have.
    let missing = p.app.get(&format!("/v1/projects/{}/assets/ghost/disclosure", p.project));
    assert_eq!(missing.status, 404, "{:?}", missing.body);
    assert_eq!(missing.body["type"], "urn:lineage:problem:not-found");
}

/// Runs the independent PROV-JSON checker (`tests/prov_check.py`: the PROV-JSON schema, the
/// `prov` package with warnings as errors, acyclic derivations) on a document.
fn prov_check(document: &Value) -> (bool, String) {
    // On a fresh machine the reader is installed first (as `.ci/run` does), once.
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let present = std::process::Command::new("python3").args(["-c", "import prov, jsonschema"]).status();
        if !present.is_ok_and(|s| s.success()) {
            let installed = std::process::Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "prov==3.2.3", "jsonschema"])
                .status()
                .expect("python3 runs");
            assert!(installed.success(), "pip installs prov 3.2.3 and jsonschema");
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prov.json");
    std::fs::write(&file, serde_json::to_vec_pretty(document).unwrap()).unwrap();
    let output = std::process::Command::new("python3")
        .arg("tests/prov_check.py")
        .arg(&file)
        .output()
        .expect("python3 runs (CI installs prov and jsonschema)");
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), said)
}

#[test]
fn the_ancestry_of_a_delivery_is_valid_prov_json_and_a_broken_document_is_not() {
    let app = spawn_app();
    let admin = lineage_ledger::crypto::keys::KeyFile::load(&app.data().admin_key()).unwrap();
    lineage_ledger::cli::demo::run(&app.client, admin, "aurora").expect("the demo runs");
    let answer = app.get("/v1/projects/aurora-outdoor:aurora/assets/hero-billboard/prov");
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let document = answer.body;
    let (valid, said) = prov_check(&document);
    assert!(valid, "{said}");
    // What the document says: the billboard generated by its delivery, derived from its master;
    // the packshot an entity attributed to the post artist; the pipeline service a software agent.
    let entities = document["entity"].as_object().unwrap();
    assert!(entities.contains_key("ln:asset-hero-billboard") && entities.contains_key("ln:asset-shoe-packshot"));
    let generated = document["wasGeneratedBy"].as_object().unwrap().values();
    assert!(generated
        .clone()
        .any(|r| r["prov:entity"] == "ln:asset-hero-billboard" && r["prov:activity"] == "ln:delivery-dl-billboard"));
    let derived = document["wasDerivedFrom"].as_object().unwrap().values();
    assert!(derived
        .clone()
        .any(|r| r["prov:generatedEntity"] == "ln:asset-hero-billboard"
            && r["prov:usedEntity"] == "ln:asset-hero-master-v2"));
    let agents = document["agent"].as_object().unwrap();
    let pipeline = agents.iter().find(|(k, _)| k.starts_with("ln:actor-genpipe")).unwrap().1;
    assert_eq!(pipeline["prov:type"]["$"], "prov:SoftwareAgent");
    // The checker fails what it should: an undeclared prefix, and a derivation cycle.
    let mut undeclared = document.clone();
    undeclared["prefix"].as_object_mut().unwrap().remove("ln");
    assert!(!prov_check(&undeclared).0, "an undeclared prefix fails");
    let mut cycle = document.clone();
    cycle["wasDerivedFrom"]["_:cycle"] =
        json!({"prov:generatedEntity": "ln:asset-hero-master-v2", "prov:usedEntity": "ln:asset-hero-billboard"});
    let (valid, said) = prov_check(&cycle);
    assert!(!valid && said.contains("cycle"), "{said}");
    let mut mistyped = document.clone();
    mistyped["used"]["_:mistyped"] = json!({"prov:activity": "ln:prompt-pr-2", "prov:entity": "ln:brief-brief-main"});
    let (valid, said) = prov_check(&mistyped);
    assert!(!valid && said.contains("not an activity"), "an entity cannot use: {said}");
    assert!(document["wasInfluencedBy"]
        .as_object()
        .unwrap()
        .values()
        .any(|r| r["prov:influencee"] == "ln:prompt-pr-2"));
    // The same through the command line.
    let token = std::fs::read_to_string(app.data().admin_token()).unwrap();
    let cli = |command: &str, asset: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_lineage"))
            .args([command, "aurora-outdoor:aurora", asset, "--url", app.url.as_str(), "--token", token.trim()])
            .output()
            .unwrap()
    };
    let disclosure = cli("disclosure", "hero-billboard");
    assert!(disclosure.status.success(), "{}", String::from_utf8_lossy(&disclosure.stderr));
    let disclosure: Value = serde_json::from_slice(&disclosure.stdout).unwrap();
    assert_eq!(disclosure["term"], "compositeSynthetic", "{disclosure}");
    assert_eq!(disclosure["ai_generated"], true);
    let prov = cli("prov", "hero-billboard");
    assert!(prov.status.success());
    assert_eq!(serde_json::from_slice::<Value>(&prov.stdout).unwrap(), document, "the CLI prints the document");
    let missing = cli("disclosure", "ghost");
    assert_eq!(missing.status.code(), Some(1), "an asset the project does not have");

    // The whole project: every record, activity and signer, valid PROV-JSON all the same.
    let whole = app.get("/v1/projects/aurora-outdoor:aurora/prov");
    assert_eq!(whole.status, 200, "{:?}", whole.body);
    let (valid, said) = prov_check(&whole.body);
    assert!(valid, "{said}");
    let entities = whole.body["entity"].as_object().unwrap();
    assert!((1..=20).all(|i| entities.contains_key(&format!("ln:asset-img-{i:02}"))), "every generation's output");
    assert!(entities.contains_key("ln:asset-hero-ig-4x5") && entities.contains_key("ln:reference-ref-fell-running"));
    assert_eq!(whole.body["agent"].as_object().unwrap().len(), 8, "the crew that signed the project");
    let activities = whole.body["activity"].as_object().unwrap();
    assert!(activities.contains_key("ln:selection-sel-round-1") && activities.contains_key("ln:qc_review-qc-1"));
    let project = std::process::Command::new(env!("CARGO_BIN_EXE_lineage"))
        .args(["prov", "aurora-outdoor:aurora", "--url", app.url.as_str(), "--token", token.trim()])
        .output()
        .unwrap();
    assert!(project.status.success());
    assert_eq!(serde_json::from_slice::<Value>(&project.stdout).unwrap(), whole.body, "the CLI prints the project's");
}

#[test]
fn withdrawn_decisions_retracted_edits_and_pipeline_models_are_told_as_they_stand() {
    let p = Production::new();
    let d = |asset: &str| p.app.get(&format!("/v1/projects/{}/assets/{asset}/disclosure", p.project)).body;
    // The pipeline gen-1 ran is a model's too: a second model version it runs is disclosed.
    let second = json!({"model_version_id": "mv-2", "provider": "p", "family": "f", "version": "2", "license": "l", "license_use": "commercial", "training_data_statement": "s"});
    assert_eq!(p.send(&p.artist, "model_version_registered", second).status, 201);
    let pipeline = json!({"pipeline_id": "pl-2", "name": "two", "steps": [{"name": "gen", "tool": "t"}], "model_versions": ["mv-1", "mv-2"]});
    assert_eq!(p.send(&p.artist, "pipeline_defined", pipeline).status, 201);
    let generation = json!({"generation_id": "gen-2", "model_version": "mv-1", "prompt": "pr-1", "pipeline": "pl-2", "outputs": [asset("two")]});
    assert_eq!(p.send(&p.integration, "generation_recorded", generation).status, 201);
    assert_eq!(d("two")["models"], json!(["mv-1", "mv-2"]));
    // Selected, then rejected; approved, then changes requested: neither stands.
    let steps = [
        (
            &p.director,
            "selection_made",
            json!({"selection_id": "s-1", "round": 1, "selected": ["two"], "rationale": "r"}),
        ),
        (
            &p.director,
            "selection_made",
            json!({"selection_id": "s-2", "round": 2, "selected": [], "rejected": ["two"], "rationale": "r"}),
        ),
        (
            &p.brand,
            "approval_recorded",
            json!({"approval_id": "ap-1", "asset": "two", "digest": digest("two"), "decision": "approved"}),
        ),
        (
            &p.brand,
            "approval_recorded",
            json!({"approval_id": "ap-2", "asset": "two", "digest": digest("two"), "decision": "changes_requested"}),
        ),
    ];
    for (signer, kind, body) in steps {
        assert_eq!(p.send(signer, kind, body).status, 201, "{kind}");
    }
    assert_eq!(d("two")["human"], json!(["directed", "prompted"]), "withdrawn decisions do not stand");
    // A hand retouch, retracted: nobody edited.
    let edit = p.send(
        &p.post,
        "post_edit_applied",
        json!({"edit_id": "ed-r", "technique": "retouch", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["two"], "output": asset("two-r")}),
    );
    assert_eq!(edit.status, 201);
    assert!(d("two-r")["human"].as_array().unwrap().contains(&json!("edited")));
    let event = edit.body["event_id"].as_str().unwrap();
    assert_eq!(p.send(&p.producer, "event_retracted", json!({"event_id": event, "reason": "r"})).status, 201);
    assert!(!d("two-r")["human"].as_array().unwrap().contains(&json!("edited")), "{}", d("two-r"));
}

#[test]
fn a_declared_source_type_is_taken_when_it_is_what_the_ledger_derives() {
    let p = Production::new();
    let uri = |term: &str| format!("http://cv.iptc.org/newscodes/digitalsourcetype/{term}");
    let out = |id: &str, term: &str| json!({"asset_id": id, "digest": digest(id), "media_type": "image/png", "digital_source_type": uri(term)});
    let rights = json!({"status": "owned", "reproduction": "allowed"});
    let steps: Vec<(&Signer, &str, Value)> = vec![
        (
            &p.integration,
            "generation_recorded",
            json!({"generation_id": "g-d", "model_version": "mv-1", "prompt": "pr-1", "outputs": [out("bg", "trainedAlgorithmicMedia")]}),
        ),
        (
            &p.post,
            "asset_imported",
            json!({"asset": out("pack", "digitalCapture"), "origin": "packshot", "source": "studio", "rights": rights}),
        ),
        (
            &p.post,
            "post_edit_applied",
            json!({"edit_id": "ed-grade", "technique": "colour", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["pack"], "output": out("pack-graded", "humanEdits")}),
        ),
        (
            &p.post,
            "post_edit_applied",
            json!({"edit_id": "ed-comp", "technique": "compositing", "tool": "t", "performed_by": "human", "generative": false, "inputs": ["bg", "pack-graded"], "output": out("comp", "compositeSynthetic")}),
        ),
    ];
    for (signer, kind, body) in steps {
        let answer = p.send(signer, kind, body);
        assert_eq!(answer.status, 201, "{kind}: {:?}", answer.body);
    }
    let disclosure = p.app.get(&format!("/v1/projects/{}/assets/comp/disclosure", p.project)).body;
    assert_eq!(disclosure["digital_source_type"], uri("compositeSynthetic"));
    // The declaration is kept as signed: the entry reads back with it.
    let stream = p.app.stream(&p.project);
    let generation =
        stream.iter().find(|e| e["kind"] == "generation_recorded" && e["payload"]["body"]["generation_id"] == "g-d");
    let generation = generation.expect("the generation is in the stream");
    assert_eq!(
        generation["payload"]["body"]["outputs"][0]["digital_source_type"],
        uri("trainedAlgorithmicMedia"),
        "{generation}"
    );
}
