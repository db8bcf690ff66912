//! Micro-benchmarks of the append path's parts and of the projections, with the standard
//! library's clock; each figure is the median of several runs. `cargo bench --bench core`.

use lineage_ledger::crypto::dsse::{verify_each, Envelope};
use lineage_ledger::crypto::keys::KeyFile;
use lineage_ledger::crypto::merkle::{consistency_proof, inclusion_proof, leaf_hash, Frontier, Hash, InMemory, NodeId};
use lineage_ledger::domain::Payload;
use lineage_ledger::log::Entry;
use lineage_ledger::projections::ProjectProjection;
use serde_json::json;
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs `f` `runs` times and returns the median duration.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn report(name: &str, per: &str, d: Duration, n: usize) {
    let each = d.as_secs_f64() / n as f64;
    println!("{name:<52} {:>10.2} µs/{per}  {:>12.0} {per}/s", each * 1e6, 1.0 / each);
}

fn payload(i: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({"event_id": format!("e{i}"), "project": "bench", "kind": "generation_recorded", "schema_version": 1,
        "actor": "pipe", "occurred_at": "2026-11-27T10:00:00Z", "ledger": "bench.local/log",
        "body": {"generation_id": format!("g{i}"), "model_version": "mv", "prompt": "pr", "seed": i,
                 "outputs": [{"asset_id": format!("a{i}"), "digest": format!("sha256:{}", "ab".repeat(32)), "media_type": "image/png"}]}}))
    .unwrap()
}

fn main() {
    let key = KeyFile::from_seed("pipe", "pipe-1", [3; 32]);
    let verifying = key.key.verifying_key();
    let envelopes: Vec<Envelope> = (0..256).map(|i| Envelope::sign(&payload(i), "pipe-1", &key.key)).collect();
    let opened: Vec<_> = envelopes.iter().map(|e| e.open().unwrap()).collect();

    println!("-- signatures");
    report(
        "verify one envelope (the ledger's cofactored rule)",
        "event",
        median(9, || {
            for o in &opened {
                black_box(o.verify(&verifying));
            }
        }),
        256,
    );
    let pairs: Vec<_> = opened.iter().map(|o| (o, &verifying)).collect();
    report(
        "verify 256 envelopes of one key together (verify_each)",
        "event",
        median(9, || {
            black_box(verify_each(&pairs));
        }),
        256,
    );

    let signers: Vec<KeyFile> =
        (0..=255u8).map(|i| KeyFile::from_seed("pipe", &format!("pipe-{i}"), [i; 32])).collect();
    let own_keys: Vec<_> = signers.iter().map(|k| k.key.verifying_key()).collect();
    let opened_apart: Vec<_> = signers
        .iter()
        .enumerate()
        .map(|(i, k)| Envelope::sign(&payload(i), &k.key_id, &k.key).open().unwrap())
        .collect();
    let apart: Vec<_> = opened_apart.iter().zip(&own_keys).collect();
    report(
        "verify 256 envelopes of 256 keys together",
        "event",
        median(9, || {
            black_box(verify_each(&apart));
        }),
        256,
    );

    println!("-- entries");
    let raw: Vec<Vec<u8>> = envelopes.iter().map(|e| e.to_json()).collect();
    report(
        "open envelope + parse payload",
        "event",
        median(9, || {
            for r in &raw {
                let o = Envelope::from_json(r).unwrap().open().unwrap();
                black_box(Payload::parse(&o.payload).unwrap());
            }
        }),
        256,
    );
    let payloads: Vec<Vec<u8>> = (0..256).map(payload).collect();
    report(
        "parse payload as stored (Payload::read)",
        "event",
        median(9, || {
            for p in &payloads {
                black_box(Payload::read(p).unwrap());
            }
        }),
        256,
    );
    report(
        "parse payload as submitted (Payload::parse: the strict profile too)",
        "event",
        median(9, || {
            for p in &payloads {
                black_box(Payload::parse(p).unwrap());
            }
        }),
        256,
    );
    report(
        "the strict profile's walk alone (profile::check_document)",
        "event",
        median(9, || {
            for p in &payloads {
                black_box(lineage_ledger::domain::profile::check_document(black_box(p)).is_ok());
            }
        }),
        256,
    );
    let entries: Vec<Entry> = raw
        .iter()
        .enumerate()
        .map(|(i, r)| Entry::new(i as u64, "bench".into(), i as u64 + 1, 0, r.clone(), [7; 32]))
        .collect();
    report(
        "chain hash (SHA-256 of the leaf bytes)",
        "entry",
        median(9, || {
            for e in &entries {
                black_box(e.computed_hash());
            }
        }),
        256,
    );
    let encoded: Vec<Vec<u8>> = entries.iter().map(|e| e.encode()).collect();
    report(
        "entry encode (bincode)",
        "entry",
        median(9, || {
            for e in &entries {
                black_box(e.encode());
            }
        }),
        256,
    );
    report(
        "entry decode (bincode)",
        "entry",
        median(9, || {
            for e in &encoded {
                black_box(Entry::decode(e).unwrap());
            }
        }),
        256,
    );

    println!("-- Merkle tree");
    let leaves: Vec<Hash> = (0..1_000_000u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let mut nodes: HashMap<NodeId, Hash> = HashMap::new();
    let append = median(3, || {
        let mut f = Frontier::default();
        for l in &leaves {
            black_box(f.push(*l));
        }
    });
    report("append a leaf (frontier, new nodes)", "leaf", append, leaves.len());
    let mut frontier = Frontier::default();
    for l in &leaves {
        nodes.extend(frontier.push(*l));
    }
    let lookup = InMemory(|id: NodeId| nodes.get(&id).copied());
    report(
        "inclusion proof in a tree of 1,000,000",
        "proof",
        median(9, || {
            for i in 0..1000u64 {
                black_box(inclusion_proof(&lookup, i * 997, 1_000_000).unwrap());
            }
        }),
        1000,
    );
    report(
        "consistency proof, 1,000,000 to any smaller size",
        "proof",
        median(9, || {
            for i in 1..1000u64 {
                black_box(consistency_proof(&lookup, i * 997, 1_000_000).unwrap());
            }
        }),
        999,
    );

    println!("-- projections");
    // A chain of 10,000 post edits: the last asset has 10,000 asset ancestors.
    let chain = 10_000;
    let mut decoded = Vec::new();
    let first = json!({"event_id": "p0", "project": "bench", "kind": "generation_recorded", "schema_version": 1, "actor": "pipe",
        "occurred_at": "2026-11-27T10:00:00Z", "body": {"generation_id": "g", "model_version": "mv", "prompt": "pr",
        "outputs": [{"asset_id": "a0", "digest": format!("sha256:{}", "ab".repeat(32)), "media_type": "image/png"}]}});
    decoded.push(Payload::parse(&serde_json::to_vec(&first).unwrap()).unwrap());
    for i in 1..=chain {
        let edit = json!({"event_id": format!("p{i}"), "project": "bench", "kind": "post_edit_applied", "schema_version": 1, "actor": "pipe",
            "occurred_at": "2026-11-27T10:00:00Z", "body": {"edit_id": format!("ed{i}"), "technique": "retouch", "tool": "t",
            "performed_by": "human", "generative": false, "inputs": [format!("a{}", i - 1)],
            "output": {"asset_id": format!("a{i}"), "digest": format!("sha256:{}", "cd".repeat(32)), "media_type": "image/png"}}});
        decoded.push(Payload::parse(&serde_json::to_vec(&edit).unwrap()).unwrap());
    }
    let entries: Vec<Entry> = decoded
        .iter()
        .enumerate()
        .map(|(i, _)| Entry::new(i as u64, "bench".into(), i as u64 + 1, 0, vec![], [0; 32]))
        .collect();
    let projection = ProjectProjection::fold(entries.iter().zip(&decoded));
    let last = format!("a{chain}");
    let mut reached = 0;
    let walk = median(21, || {
        let g = projection.graph.ancestors(&last, 100_000, u32::MAX).unwrap();
        reached = g.nodes.iter().filter(|n| n.kind == lineage_ledger::projections::graph::NodeKind::Asset).count();
        black_box(g);
    });
    println!(
        "{:<52} {:>10.2} ms ({reached} assets, {} nodes in all)",
        "provenance: ancestors of an asset with 10,000 ancestors",
        walk.as_secs_f64() * 1e3,
        projection.graph.len()
    );
    let json_time = median(11, || {
        black_box(serde_json::to_vec(&projection.graph.ancestors(&last, 100_000, u32::MAX).unwrap()).unwrap());
    });
    println!("{:<52} {:>10.2} ms", "  … and its JSON", json_time.as_secs_f64() * 1e3);
    let fold = median(5, || {
        black_box(ProjectProjection::fold(entries.iter().zip(&decoded)));
    });
    report("projection fold (decoded events)", "event", fold, decoded.len());
}
