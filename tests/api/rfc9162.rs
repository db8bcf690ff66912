//! The published RFC 6962 / 9162 proof vectors, kept in `tests/data/rfc9162`.

use base64::Engine as _;
use lineage_ledger::crypto::merkle::{leaf_hash, verify_consistency, verify_inclusion, Frontier};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn vectors_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc9162");
    assert!(dir.is_dir(), "{} holds the published vectors; it is missing", dir.display());
    dir
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or("")).unwrap_or_default()
}

fn list(v: &Value) -> Vec<Vec<u8>> {
    v.as_array().map(|a| a.iter().map(b64).collect()).unwrap_or_default()
}

fn run(kind: &str) -> (usize, usize) {
    let dir = vectors_dir();
    let mut paths = Vec::new();
    files(&dir.join(kind), &mut paths);
    let (mut valid, mut invalid) = (0, 0);
    for path in paths {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let result = match kind {
            "inclusion" => verify_inclusion(
                v["leafIdx"].as_u64().unwrap_or(u64::MAX),
                v["treeSize"].as_u64().unwrap_or(0),
                &b64(&v["leafHash"]),
                &list(&v["proof"]),
                &b64(&v["root"]),
            ),
            _ => verify_consistency(
                v["size1"].as_u64().unwrap_or(0),
                v["size2"].as_u64().unwrap_or(0),
                &b64(&v["root1"]),
                &b64(&v["root2"]),
                &list(&v["proof"]),
            ),
        };
        let want_err = v["wantErr"].as_bool().unwrap();
        assert_eq!(result.is_err(), want_err, "{}: {result:?}", path.display());
        if want_err {
            invalid += 1
        } else {
            valid += 1
        }
    }
    (valid, invalid)
}

#[test]
fn published_inclusion_vectors() {
    let (valid, invalid) = run("inclusion");
    assert!(valid >= 5 && invalid >= 50, "{valid} valid, {invalid} invalid");
}

#[test]
fn published_consistency_vectors() {
    let (valid, invalid) = run("consistency");
    assert!(valid >= 5 && invalid >= 50, "{valid} valid, {invalid} invalid");
}

#[test]
fn known_roots() {
    let dir = vectors_dir();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("known-roots.json")).unwrap()).unwrap();
    let leaves: Vec<Vec<u8>> =
        v["leaves_hex"].as_array().unwrap().iter().map(|l| hex::decode(l.as_str().unwrap()).unwrap()).collect();
    let roots: Vec<&str> = v["roots_hex_by_size"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    let mut frontier = Frontier::default();
    assert_eq!(hex::encode(frontier.root()), roots[0]);
    for (i, leaf) in leaves.iter().enumerate() {
        frontier.push(leaf_hash(leaf));
        assert_eq!(hex::encode(frontier.root()), roots[i + 1], "root of {}", i + 1);
    }
}
