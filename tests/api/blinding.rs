//! The subject map's leaves are blinded (docs/transparency.md, "The map"): a bundle discloses the
//! blinds of the subjects it proves and no other, so that the other clients' leaves among its
//! proof's steps cannot be recomputed from guessed names and the log's public leaf hashes; an
//! export discloses every blind, each after the entry that names its subject first, and the map
//! computed from it is the one the map checkpoint signs.

use crate::helpers::*;
use lineage_ledger::crypto::checkpoint::{MapCheckpoint, NoteVerifier};
use lineage_ledger::crypto::map;
use lineage_ledger::log::evidence::{verify, Bundle};
use lineage_ledger::log::export::{verify as verify_export, EntryRecord, VerifyError};
use serde_json::Value;
use std::collections::BTreeMap;

/// Each subject of the first `size` entries of an export: its blind and its leaf in the map.
fn leaves_of(lines: &[String], size: u64) -> BTreeMap<String, ([u8; 32], [u8; 32])> {
    let mut blinds: BTreeMap<String, [u8; 32]> = BTreeMap::new();
    let mut chains: BTreeMap<String, Vec<(u64, [u8; 32])>> = BTreeMap::new();
    for line in lines {
        let value: Value = serde_json::from_str(line).unwrap();
        if let Some(subject) = value["subject"].as_str() {
            let blind = hex::decode(value["blind"].as_str().unwrap()).unwrap().try_into().unwrap();
            blinds.insert(subject.to_owned(), blind);
        } else if value.get("sequence").is_some() {
            let entry = serde_json::from_value::<EntryRecord>(value).unwrap().to_entry().unwrap();
            if entry.sequence < size {
                let (_, payload) = lineage_ledger::log::open_entry(&entry).unwrap();
                for subject in lineage_ledger::log::subjects::of(&payload) {
                    chains.entry(subject).or_default().push((entry.sequence, entry.leaf_hash()));
                }
            }
        }
    }
    chains
        .into_iter()
        .map(|(subject, chain)| {
            let blind = blinds[&subject];
            let key = map::key_of(&subject, &blind);
            (subject, (blind, map::leaf_hash(&key, chain.len() as u64, &map::chain_of(&chain))))
        })
        .collect()
}

fn export_lines(app: &TestApp) -> Vec<String> {
    let answer = app.get("/v1/export");
    assert_eq!(answer.status, 200);
    answer.text.lines().map(str::to_owned).collect()
}

#[test]
fn a_bundle_discloses_the_blinds_of_its_own_subjects_and_no_other() {
    let app = spawn_app();
    let admin = lineage_ledger::crypto::keys::KeyFile::load(&app.data().admin_key()).unwrap();
    lineage_ledger::cli::demo::run_all(&app.client, admin, "aurora").unwrap();
    let answer = app.get("/v1/projects/aurora-outdoor:aurora/assets/hero-billboard/evidence");
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let bundle: Bundle = serde_json::from_str(&answer.text).unwrap();
    let vkey = app.get("/v1/vkey").text.trim().to_owned();
    let proven = verify(&bundle, Some(&vkey)).expect("the bundle verifies");
    let lines = export_lines(&app);
    let all = leaves_of(&lines, bundle.tree_size);

    // The export's map is the one the bundle's checkpoint signs.
    let verified = verify_export(std::io::Cursor::new(lines.join("\n") + "\n"), Some(&vkey), false).unwrap();
    if verified.size == bundle.tree_size {
        assert_eq!(verified.map_root, Some(proven.map_root));
    }
    let mut sorted: Vec<([u8; 32], [u8; 32])> =
        all.iter().map(|(s, (blind, leaf))| (map::key_of(s, blind), *leaf)).collect();
    sorted.sort();
    assert_eq!(map::root_of(&sorted), proven.map_root, "the map of the export's blinds is the signed one");

    // The bundle's blinds are its subjects' and no other subject's blind is in it.
    let listed: BTreeMap<&str, &str> = bundle.subjects.iter().map(|s| (s.subject.as_str(), s.blind.as_str())).collect();
    for (subject, (blind, _)) in &all {
        match listed.get(subject.as_str()) {
            Some(given) => assert_eq!(*given, hex::encode(blind), "{subject}"),
            None => assert!(!answer.text.contains(&hex::encode(blind)), "the bundle holds the blind of {subject}"),
        }
    }
    // Its proof's siblings include other subjects' leaves, which only their blinds (not in the
    // bundle) let anyone recompute.
    let siblings: Vec<&str> = bundle.map_proof.iter().map(String::as_str).filter(|s| s.len() == 64).collect();
    let others: Vec<&String> = all
        .iter()
        .filter(|(s, (_, leaf))| !listed.contains_key(s.as_str()) && siblings.contains(&hex::encode(leaf).as_str()))
        .map(|(s, _)| s)
        .collect();
    assert!(!others.is_empty(), "no sibling is another subject's leaf: the test shows nothing");

    // A blind changed, or not a blind: the map refuses the lists.
    let mut changed = bundle.clone();
    changed.subjects[0].blind = hex::encode([7u8; 32]);
    let said = verify(&changed, Some(&vkey)).unwrap_err().to_string();
    assert!(said.contains("subject map does not hold"), "{said}");
    let mut malformed = bundle.clone();
    malformed.subjects[0].blind = "zz".into();
    let said = verify(&malformed, Some(&vkey)).unwrap_err().to_string();
    assert!(
        said.contains(&format!("the blind of `{}` is not 32 bytes in hex", malformed.subjects[0].subject)),
        "{said}"
    );
    // A map checkpoint of the same size carries the same map root as the bundle's.
    let verifier = NoteVerifier::parse(&vkey).unwrap();
    let opened = MapCheckpoint::open(&bundle.checkpoint, &verifier).unwrap();
    assert_eq!(opened.map_root, proven.map_root);
}

/// Why an export with its lines changed fails, or its map root when it verifies.
fn verdict(lines: &[String], vkey: &str) -> Result<Option<[u8; 32]>, String> {
    verify_export(std::io::Cursor::new(lines.join("\n") + "\n"), Some(vkey), false).map(|v| v.map_root).map_err(|e| {
        match e {
            VerifyError::Format { reason, .. } => reason,
            other => other.to_string(),
        }
    })
}

#[test]
fn an_export_carries_each_blind_once_right_after_the_entry_naming_its_subject_first() {
    let p = Production::new();
    let vkey = p.app.get("/v1/vkey").text.trim().to_owned();
    let lines = export_lines(&p.app);
    let root = verdict(&lines, &vkey).expect("the export verifies").expect("it has a map root");
    let blind_at = lines.iter().position(|l| l.starts_with("{\"subject\":")).unwrap();
    let next_entry = blind_at + lines[blind_at..].iter().position(|l| l.starts_with("{\"sequence\":")).unwrap();
    let subject = serde_json::from_str::<Value>(&lines[blind_at]).unwrap()["subject"].as_str().unwrap().to_owned();
    let edit = |f: &dyn Fn(&mut Vec<String>)| {
        let mut changed = lines.clone();
        f(&mut changed);
        changed
    };
    let missing = format!("the blind of `{subject}` is missing");
    let misplaced = format!("the blind of `{subject}` is not after the entry that names it first");
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        ("left out", edit(&|l| drop(l.remove(blind_at))), &missing),
        (
            "moved after the next entry",
            edit(&|l| {
                let line = l.remove(blind_at);
                l.insert(next_entry, line);
            }),
            &missing,
        ),
        ("given twice", edit(&|l| l.insert(blind_at, l[blind_at].clone())), &misplaced),
        (
            "not hex",
            edit(&|l| l[blind_at] = serde_json::json!({"subject": subject, "blind": "zz"}).to_string()),
            "is not 32 bytes in hex",
        ),
    ];
    for (what, changed, expected) in cases {
        let said = verdict(&changed, &vkey).expect_err(what);
        assert!(said.contains(expected), "{what}: {said}");
    }
    // Another blind: the export verifies, to another map than the one the ledger signed.
    let other =
        edit(&|l| l[blind_at] = serde_json::json!({"subject": subject, "blind": hex::encode([9u8; 32])}).to_string());
    assert_ne!(verdict(&other, &vkey).unwrap(), Some(root));
}

/// A monitor holding an export checks the map the ledger signs: `lineage verify
/// --map-checkpoint` computes the subject map at the checkpoint's size from the export's entries
/// and blinds and compares; an export whose blinds were changed verifies, but not against it.
#[test]
fn lineage_verify_checks_an_exports_subject_map_against_a_signed_map_checkpoint() {
    let p = Production::new();
    // A bundle makes the map cover every durable entry.
    assert_eq!(p.app.get(&format!("/v1/projects/{}/assets/img-1/evidence", p.project)).status, 200);
    let note = p.app.get("/v1/map-checkpoint");
    assert_eq!(note.status, 200, "{:?}", note.body);
    let vkey = p.app.get("/v1/vkey").text.trim().to_owned();
    let lines = export_lines(&p.app);
    let dir = p.app.dir.path();
    std::fs::write(dir.join("map.note"), &note.text).unwrap();
    let run = |lines: &[String], with_map: bool| {
        std::fs::write(dir.join("export.jsonl"), lines.join("\n") + "\n").unwrap();
        let mut args =
            vec!["verify".to_owned(), dir.join("export.jsonl").display().to_string(), "--vkey".into(), vkey.clone()];
        if with_map {
            args.extend(["--map-checkpoint".into(), dir.join("map.note").display().to_string()]);
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lineage")).args(&args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, said) = run(&lines, true);
    assert!(ok && said.contains("as the signed map checkpoint names it"), "{said}");
    let (ok, said) = run(&lines, false);
    assert!(ok && said.contains("not checked"), "{said}");
    let at = lines.iter().position(|l| l.starts_with("{\"subject\":")).unwrap();
    let mut changed = lines.clone();
    let subject = serde_json::from_str::<Value>(&changed[at]).unwrap()["subject"].as_str().unwrap().to_owned();
    changed[at] = serde_json::json!({"subject": subject, "blind": hex::encode([1u8; 32])}).to_string();
    let (ok, said) = run(&changed, true);
    assert!(!ok && said.contains("the export's blinds are not the ledger's"), "{said}");
}
