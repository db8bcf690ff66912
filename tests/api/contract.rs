//! Generated files and documented formats stay in step with the code.

use lineage_ledger::crypto::dsse::{pae, verify_each, Envelope, Opened, PAYLOAD_TYPE};
use lineage_ledger::crypto::keys::KeyFile;
use std::path::Path;

/// Compares a committed file with what the code generates; on a difference, writes the new
/// contents (so a developer can review and commit them) and fails.
fn ensure_file_contents(path: &Path, contents: &str) {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    if old == contents {
        return;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{} is out of date; run `cargo test` locally and commit the result", path.display());
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
    panic!("{} was out of date and has been updated; commit it", path.display());
}

#[test]
fn openapi_document_is_committed() {
    ensure_file_contents(Path::new("openapi/openapi.json"), &lineage_ledger::api::openapi::document_json());
}

#[test]
fn schemas_are_committed() {
    let stale: Vec<String> = lineage_ledger::api::schema::files()
        .into_iter()
        .filter_map(|(name, contents)| {
            let path = Path::new("schema").join(name);
            std::panic::catch_unwind(|| ensure_file_contents(&path, &contents))
                .err()
                .map(|_| path.display().to_string())
        })
        .collect();
    assert!(stale.is_empty(), "out of date: {stale:?}");
}

/// Keeps the generated section of a document (between `<!-- NAME:start -->` and
/// `<!-- NAME:end -->`) equal to what the code generates.
fn ensure_section(path: &str, name: &str, contents: &str) {
    let doc = std::fs::read_to_string(path).unwrap_or_default();
    let (start, end) = (format!("<!-- {name}:start -->\n"), format!("<!-- {name}:end -->"));
    let (Some(a), Some(b)) = (doc.find(&start), doc.find(&end)) else {
        panic!("{path} must hold a section between {start} and {end}");
    };
    let updated = format!("{}{start}{contents}{}", &doc[..a], &doc[b..]);
    ensure_file_contents(Path::new(path), &updated);
}

#[test]
fn the_role_matrix_is_documented() {
    ensure_section("docs/roles.md", "role-matrix", &lineage_ledger::domain::roles::matrix_markdown());
}

/// The signing test vector of `docs/signing.md`.
pub fn signing_vector() -> (KeyFile, Vec<u8>) {
    let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
    let key = KeyFile::from_seed("ines-qc", "ines-qc-key-1", seed);
    let payload = br#"{"event_id":"evt-0001","project":"aurora-spring","kind":"note_added","schema_version":1,"actor":"ines-qc","occurred_at":"2026-11-27T09:30:00Z","body":{"text":"Proofs look right."}}"#.to_vec();
    (key, payload)
}

#[test]
fn the_signing_vector_holds() {
    let (key, payload) = signing_vector();
    let doc = std::fs::read_to_string("docs/signing.md").expect("docs/signing.md exists");
    let pae_bytes = pae(PAYLOAD_TYPE, &payload);
    let envelope = Envelope::sign(&payload, &key.key_id, &key.key);
    let expected = [
        ("public key (base64)", key.public_key_base64()),
        ("payload (exact bytes)", String::from_utf8(payload.clone()).unwrap()),
        ("PAE (hex)", hex::encode(&pae_bytes)),
        ("signature (base64)", envelope.signatures[0].sig.clone()),
        ("envelope", String::from_utf8(envelope.to_json()).unwrap()),
    ];
    for (what, value) in expected {
        assert!(doc.contains(&value), "docs/signing.md must give the {what}:\n{value}");
    }
    // A stored payload of before `ledger` was asked: it reads, and the signature verifies.
    let opened = envelope.open().unwrap();
    assert!(opened.verify(&key.key.verifying_key()));
    lineage_ledger::domain::Payload::read(&opened.payload).unwrap();
    // The new event's vector: it names its ledger and parses as a new submission.
    let new = br#"{"event_id":"evt-0002","project":"aurora-outdoor:spring-launch","kind":"note_added","schema_version":1,"actor":"ines-qc","occurred_at":"2026-11-27T09:31:00Z","ledger":"lineage.local/5a1c9e07","body":{"text":"Proofs look right."}}"#;
    let envelope = Envelope::sign(new, &key.key_id, &key.key);
    for (what, value) in [
        ("new payload", String::from_utf8(new.to_vec()).unwrap()),
        ("new PAE (hex)", hex::encode(pae(PAYLOAD_TYPE, new))),
        ("new signature (base64)", envelope.signatures[0].sig.clone()),
        ("new envelope", String::from_utf8(envelope.to_json()).unwrap()),
    ] {
        assert!(doc.contains(&value), "docs/signing.md must give the {what}:\n{value}");
    }
    let parsed = lineage_ledger::domain::Payload::parse(new).unwrap();
    assert_eq!(parsed.ledger.as_deref(), Some("lineage.local/5a1c9e07"));
}

#[test]
fn problem_types_are_documented() {
    ensure_section("docs/errors.md", "problem-types", &lineage_ledger::api::problem::problem_table_markdown());
}

#[test]
fn the_leaf_vector_holds() {
    let (key, payload) = signing_vector();
    let envelope = Envelope::sign(&payload, &key.key_id, &key.key).to_json();
    let received = chrono::DateTime::parse_from_rfc3339("2026-11-27T09:30:01.123456Z").unwrap();
    let entry = lineage_ledger::log::Entry::new(
        5,
        "aurora-spring".into(),
        2,
        received.timestamp_micros(),
        envelope,
        [0x11; 32],
    );
    let doc = std::fs::read_to_string("docs/formats.md").expect("docs/formats.md exists");
    for (what, value) in [
        ("received_at in µs", received.timestamp_micros().to_string()),
        ("leaf bytes", hex::encode(entry.leaf_bytes())),
        ("hash", hex::encode(entry.hash)),
        ("leaf hash", hex::encode(entry.leaf_hash())),
    ] {
        assert!(doc.contains(&value), "docs/formats.md must give the {what}:\n{value}");
    }
}

#[test]
fn the_transparency_vectors_hold() {
    use lineage_ledger::crypto::checkpoint::{Checkpoint, NoteVerifier};
    use lineage_ledger::crypto::merkle::{
        consistency_proof, inclusion_proof, leaf_hash, Frontier, Hash, InMemory, NodeId,
    };
    let doc = std::fs::read_to_string("docs/transparency.md").expect("docs/transparency.md exists");
    let leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
    let mut frontier = Frontier::default();
    let mut nodes = std::collections::HashMap::<NodeId, Hash>::new();
    let mut root3 = [0; 32];
    for (i, leaf) in leaves.iter().enumerate() {
        nodes.extend(frontier.push(leaf_hash(&hex::decode(leaf).unwrap())));
        if i == 2 {
            root3 = frontier.root();
        }
    }
    let lookup = InMemory(|id: NodeId| nodes.get(&id).copied());
    let (key, _) = signing_vector();
    let origin = "lineage.example/vector";
    let note = Checkpoint { origin: origin.into(), size: 8, root: frontier.root() }.sign(origin, &key.key);
    let verifier = NoteVerifier { name: origin.into(), key: key.key.verifying_key() };
    let joined = |hashes: Vec<Hash>| hashes.iter().map(hex::encode).collect::<Vec<_>>().join("\n");
    for (what, value) in [
        ("root of 8", hex::encode(frontier.root())),
        ("root of 3", hex::encode(root3)),
        ("leaf hash of leaf 5", hex::encode(leaf_hash(&hex::decode(leaves[5]).unwrap()))),
        ("vkey", verifier.vkey()),
        ("checkpoint", note.trim_end().to_owned()),
        ("inclusion proof", joined(inclusion_proof(&lookup, 5, 8).unwrap().unwrap())),
        ("consistency proof", joined(consistency_proof(&lookup, 3, 8).unwrap().unwrap())),
        (
            "proof of leaves 1, 5 and 6",
            joined(lineage_ledger::crypto::multiproof::prove(&lookup, &[1, 5, 6], 8).unwrap().unwrap()),
        ),
    ] {
        assert!(doc.contains(&value), "docs/transparency.md must give the {what}:\n{value}");
    }
}

/// The subject map's vector: three subjects of the vector log of 8 entries, their chains, the
/// map's root, one proof of two of them, and the map checkpoint.
#[test]
fn the_subject_map_vectors_hold() {
    use lineage_ledger::crypto::checkpoint::{Checkpoint, MapCheckpoint};
    use lineage_ledger::crypto::map::{self, Key, MapNode, MapNodes, Position};
    use lineage_ledger::crypto::merkle::{leaf_hash, Frontier};
    struct Nodes(std::collections::HashMap<Position, MapNode>);
    impl MapNodes for Nodes {
        type Error = std::convert::Infallible;
        fn map_node(&self, at: &Position) -> Result<MapNode, Self::Error> {
            Ok(self.0.get(at).copied().unwrap_or(MapNode::Empty))
        }
    }
    let doc = std::fs::read_to_string("docs/transparency.md").expect("docs/transparency.md exists");
    let log_leaves =
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
    let leaf_of = |s: u64| leaf_hash(&hex::decode(log_leaves[s as usize]).unwrap());
    let chain = |sequences: &[u64]| map::chain_of(&sequences.iter().map(|s| (*s, leaf_of(*s))).collect::<Vec<_>>());
    let (key, _) = signing_vector();
    let blinding = map::Blinding::of_seed(&key.key.to_bytes());
    let key_of = |subject: &str| map::key_of(subject, &blinding.blind(subject));
    let subjects: [(&str, &[u64]); 3] =
        [("actor:alice", &[0, 4]), ("governance:acme:p", &[1, 2]), ("asset:acme:p/img-1", &[3, 5, 7])];
    let mut leaves: Vec<(Key, [u8; 32])> = subjects
        .iter()
        .map(|(s, seqs)| {
            let key = key_of(s);
            (key, map::leaf_hash(&key, seqs.len() as u64, &chain(seqs)))
        })
        .collect();
    leaves.sort_by_key(|l| l.0);
    let (root, writes) = map::update(&Nodes(Default::default()), &leaves).unwrap();
    let nodes = Nodes(writes.into_iter().collect());
    let mut proven = vec![key_of("actor:alice"), key_of("asset:acme:p/img-1")];
    proven.sort();
    let steps = map::prove_all(&nodes, &proven).unwrap().unwrap();
    let steps: Vec<String> = steps.iter().map(lineage_ledger::log::completeness::step_text).collect();
    let mut frontier = Frontier::default();
    for leaf in log_leaves {
        frontier.push(leaf_hash(&hex::decode(leaf).unwrap()));
    }
    let origin = "lineage.example/vector";
    let checkpoint = Checkpoint { origin: origin.into(), size: 8, root: frontier.root() };
    let note = MapCheckpoint { checkpoint, map_root: root }.sign(origin, &key.key);
    let asset = key_of("asset:acme:p/img-1");
    for (what, value) in [
        ("map secret", {
            use hmac::Mac as _;
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key.key.to_bytes()).unwrap();
            mac.update(b"lineage subject map blinding");
            hex::encode(mac.finalize().into_bytes())
        }),
        ("blind of asset:acme:p/img-1", hex::encode(blinding.blind("asset:acme:p/img-1"))),
        ("key of asset:acme:p/img-1", hex::encode(asset)),
        ("chain of asset:acme:p/img-1", hex::encode(chain(&[3, 5, 7]))),
        ("leaf of asset:acme:p/img-1", hex::encode(map::leaf_hash(&asset, 3, &chain(&[3, 5, 7])))),
        ("map root", hex::encode(root)),
        ("map proof", steps.join("\n")),
        ("map checkpoint", note.trim_end().to_owned()),
    ] {
        assert!(doc.contains(&value), "docs/transparency.md must give the {what}:\n{value}");
    }
}

#[test]
fn the_confidential_commitment_vector_holds() {
    let doc = std::fs::read_to_string("docs/confidential.md").expect("docs/confidential.md exists");
    let salt: [u8; 32] = std::array::from_fn(|i| i as u8);
    let commitment = lineage_ledger::domain::confidential::commitment_of(
        "aurora-outdoor:aurora",
        &salt,
        "Jane Doe running at dawn, backlit",
    );
    for value in [
        "aurora-outdoor:aurora".into(),
        hex::encode(salt),
        "Jane Doe running at dawn, backlit".into(),
        commitment.to_string(),
    ] {
        assert!(doc.contains(&format!("`{value}`")), "docs/confidential.md must give {value}");
    }
}

#[test]
fn the_policy_rules_are_documented() {
    ensure_section("docs/policies.md", "policy-rules", &lineage_ledger::domain::policy::rules_markdown());
    ensure_section("docs/policies.md", "legacy-rules", &lineage_ledger::domain::policy::legacy_rules_markdown());
}

/// ARCHITECTURE.md's first invariant: the domain does no I/O and imports no framework.
#[test]
fn the_domain_stays_pure() {
    let mut files = Vec::new();
    let mut folders = vec![std::path::PathBuf::from("src/domain")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path)
            } else {
                files.push(path)
            }
        }
    }
    assert!(files.len() > 20, "the domain's files are found: {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        // Comments may name what the code must not use.
        let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        for word in
            ["actix", "sled", "utoipa", "std::fs", "std::net", "std::io", "crate::store", "crate::api", "crate::ledger"]
        {
            assert!(!code.contains(word), "{} uses `{word}`", path.display());
        }
    }
}

/// A signature of the signing vector's PAE made by hand: nonce `r`, `R` = [r]B + `extra`,
/// `S` = r + k·a + `s_plus`, or with its 64 bytes edited afterwards.
fn crafted_signature(
    r: u64,
    extra: curve25519_dalek::EdwardsPoint,
    s_plus: curve25519_dalek::Scalar,
    edit: impl FnOnce(&mut [u8; 64]),
) -> [u8; 64] {
    use curve25519_dalek::{EdwardsPoint, Scalar};
    use sha2::Digest as _;
    let (key, payload) = signing_vector();
    let message = pae(PAYLOAD_TYPE, &payload);
    let r = Scalar::from(r);
    let big_r = (EdwardsPoint::mul_base(&r) + extra).compress();
    let public = key.key.verifying_key();
    let k = Scalar::from_bytes_mod_order_wide(
        &sha2::Sha512::new()
            .chain_update(big_r.as_bytes())
            .chain_update(public.as_bytes())
            .chain_update(&message)
            .finalize()
            .into(),
    );
    let s = r + k * key.key.to_scalar() + s_plus;
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(big_r.as_bytes());
    bytes[32..].copy_from_slice(s.as_bytes());
    edit(&mut bytes);
    bytes
}

#[test]
fn the_signature_rule_vectors_hold() {
    use curve25519_dalek::constants::EIGHT_TORSION;
    use curve25519_dalek::{EdwardsPoint, Scalar};
    use lineage_ledger::crypto::dsse::verify_signature;
    let (key, payload) = signing_vector();
    let message = pae(PAYLOAD_TYPE, &payload);
    let identity = EdwardsPoint::default();
    let keep = |_: &mut [u8; 64]| {};
    // ℓ, little-endian: S + ℓ is the same scalar, not canonically written.
    let order: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let add_order = |b: &mut [u8; 64]| {
        let mut carry = 0u16;
        for (byte, o) in b[32..].iter_mut().zip(order) {
            let sum = u16::from(*byte) + u16::from(o) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
    };
    let rows: Vec<(&str, [u8; 64], bool)> = vec![
        (
            "the RFC 8032 signature of the vector below",
            ed25519_dalek::Signer::sign(&key.key, &message).to_bytes(),
            true,
        ),
        ("R = [r]B plus the point of order 8", crafted_signature(1234567, EIGHT_TORSION[1], Scalar::ZERO, keep), true),
        ("R = [r]B plus the point of order 2", crafted_signature(1234567, EIGHT_TORSION[4], Scalar::ZERO, keep), true),
        ("R = [r]B, S one too large", crafted_signature(1234567, identity, Scalar::ONE, keep), false),
        ("S + ℓ instead of S", crafted_signature(1234567, identity, Scalar::ZERO, add_order), false),
        ("R of order 8 (r = 0)", crafted_signature(0, EIGHT_TORSION[1], Scalar::ZERO, keep), false),
        ("R the identity (r = 0)", crafted_signature(0, identity, Scalar::ZERO, keep), false),
        (
            "R's y written as p + 1",
            crafted_signature(1234567, identity, Scalar::ZERO, |b| {
                b[..32].fill(0xff);
                b[0] = 0xee;
                b[31] = 0x7f;
            }),
            false,
        ),
    ];
    let public = key.key.verifying_key();
    let mut table = String::from("| case | signature (hex) | verdict |\n|---|---|---|\n");
    for (i, (case, signature, accepted)) in rows.iter().enumerate() {
        let signature_value = ed25519_dalek::Signature::from_bytes(signature);
        assert_eq!(verify_signature(&public, &message, &signature_value), *accepted, "{case}");
        // ed25519-dalek's cofactorless `verify_strict` differs only on the two crafted `R`s.
        let strict = public.verify_strict(&message, &signature_value).is_ok();
        assert_eq!(strict, *accepted && !(1..=2).contains(&i), "{case} (verify_strict)");
        let verdict = if *accepted { "valid" } else { "invalid" };
        table.push_str(&format!("| {case} | `{}` | {verdict} |\n", hex::encode(signature)));
    }
    // Checked together, every signature gets the verdict it gets alone, whatever its company.
    let opened: Vec<Opened> = rows
        .iter()
        .map(|(_, signature, _)| Opened {
            payload: payload.clone(),
            key_id: lineage_ledger::domain::KeyId::parse(&key.key_id).unwrap(),
            signature: ed25519_dalek::Signature::from_bytes(signature),
        })
        .collect();
    for pick in [vec![0, 1], vec![0, 1, 2], vec![0, 3], vec![1, 4, 2], vec![5, 6, 7, 0], (0..rows.len()).collect()] {
        let items: Vec<(&Opened, &ed25519_dalek::VerifyingKey)> = pick.iter().map(|i| (&opened[*i], &public)).collect();
        let alone: Vec<bool> = pick.iter().map(|i| rows[*i].2).collect();
        assert_eq!(verify_each(&items), alone, "{pick:?}");
    }
    ensure_section("docs/signing.md", "signature-rule", &table);
}
