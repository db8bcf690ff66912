//! Property tests over every parser that reads bytes from outside: no input makes them panic,
//! and what they write they read back.

use crate::crypto::checkpoint::{Checkpoint, NoteVerifier};
use crate::crypto::dsse::Envelope;
use crate::crypto::merkle::{verify_consistency, verify_inclusion};
use crate::domain::Payload;
use crate::log::Entry;
use proptest::prelude::*;

fn json_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[ -~]{0,300}".prop_map(String::into_bytes),
        (any::<u8>(), "[a-z_]{1,12}", "[ -~]{0,40}").prop_map(|(n, k, v)| {
            format!("{{\"event_id\":\"e{n}\",\"project\":\"p\",\"kind\":\"{k}\",\"schema_version\":1,\"actor\":\"a\",\"occurred_at\":\"{v}\",\"body\":{{}}}}").into_bytes()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn envelopes_never_panic(bytes in json_like()) {
        if let Ok(envelope) = Envelope::from_json(&bytes) {
            let _ = envelope.open();
        }
    }

    #[test]
    fn payloads_never_panic(bytes in json_like()) {
        let _ = Payload::parse(&bytes);
    }

    #[test]
    fn entries_never_panic_and_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..300), seq in any::<u64>(), version in any::<u64>(), at in any::<i64>(), project in "[a-z]{1,20}") {
        let _ = Entry::decode(&bytes);
        let entry = Entry::new(seq, project, version, at, bytes, [9; 32]);
        prop_assert_eq!(Entry::decode(&entry.encode()).unwrap(), entry);
    }

    #[test]
    fn checkpoints_never_panic(note in "[ -~\n\u{2014}]{0,300}", vkey in "[ -~]{0,120}") {
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let verifier = NoteVerifier { name: "o".into(), key: key.verifying_key() };
        let _ = Checkpoint::open(&note, &verifier);
        let _ = NoteVerifier::parse(&vkey);
    }

    #[test]
    fn checkpoints_round_trip(origin in "[a-z./]{1,30}", size in any::<u64>(), root in any::<[u8; 32]>()) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[2; 32]);
        let verifier = NoteVerifier { name: origin.clone(), key: key.verifying_key() };
        let checkpoint = Checkpoint { origin: origin.clone(), size, root };
        prop_assert_eq!(Checkpoint::open(&checkpoint.sign(&origin, &key), &verifier).unwrap(), checkpoint);
        prop_assert_eq!(NoteVerifier::parse(&verifier.vkey()).unwrap(), verifier);
    }

    #[test]
    fn proof_verification_never_panics(
        index in any::<u64>(), size in any::<u64>(), old in any::<u64>(),
        leaf in proptest::collection::vec(any::<u8>(), 0..40),
        proof in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..70),
        root in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let _ = verify_inclusion(index, size, &leaf, &proof, &root);
        let _ = verify_consistency(old, size, &leaf, &root, &proof);
    }
}
