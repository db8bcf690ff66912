//! DSSE envelopes: ed25519 signatures over `PAE(payloadType, payload)`.

use crate::domain::KeyId;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The payload type of every event envelope.
pub const PAYLOAD_TYPE: &str = "application/vnd.lineage.event+json";

/// The largest payload accepted, in bytes (after base64 decoding).
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// Pre-Authentication Encoding: `"DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths in
/// ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    pae_parts(payload_type, payload, |part| out.extend_from_slice(part));
    out
}

/// PAE piece by piece, for hashing it without a copy of the payload.
fn pae_parts(payload_type: &str, payload: &[u8], mut take: impl FnMut(&[u8])) {
    take(b"DSSEv1 ");
    take(payload_type.len().to_string().as_bytes());
    take(b" ");
    take(payload_type.as_bytes());
    take(b" ");
    take(payload.len().to_string().as_bytes());
    take(b" ");
    take(payload);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// The signer's key id, as registered.
    pub keyid: String,
    /// Standard base64 of the 64-byte ed25519 signature over PAE(payloadType, payload).
    pub sig: String,
}

/// A DSSE envelope as it travels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Always `application/vnd.lineage.event+json`.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Standard base64 of the exact payload bytes that were signed.
    pub payload: String,
    /// Exactly one signature.
    pub signatures: Vec<EnvelopeSignature>,
}

/// An envelope whose encodings were checked; the signature is not verified yet.
#[derive(Debug, Clone)]
pub struct Opened {
    pub payload: Vec<u8>,
    pub key_id: KeyId,
    pub signature: Signature,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the envelope is not valid JSON: {0}")]
    Json(String),
    #[error("envelope field `{field}`: {message}")]
    Field { field: String, message: String },
    #[error("payloadType must be `{PAYLOAD_TYPE}`, got `{0}`")]
    PayloadType(String),
    #[error("envelope field `{0}` is not standard base64")]
    Base64(&'static str),
    #[error("an envelope carries exactly one signature, this one has {0}")]
    SignatureCount(usize),
    #[error("envelope field `signatures[0].sig` must decode to 64 bytes")]
    SignatureLength,
    #[error("the payload is {0} bytes, the limit is {MAX_PAYLOAD_BYTES}")]
    PayloadTooLarge(usize),
}

impl Envelope {
    /// Reads an envelope from the bytes a client sent.
    pub fn from_json(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        // Well-formed envelopes take the fast path; a refused one is parsed again to name the
        // field at fault.
        if let Ok(envelope) = serde_json::from_slice(bytes) {
            return Ok(envelope);
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let envelope: Envelope = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() || path == "." {
                EnvelopeError::Json(inner.to_string())
            } else {
                let mut message = inner.to_string();
                if let Some(at) = message.rfind(" at line ") {
                    message.truncate(at);
                }
                EnvelopeError::Field { field: path, message }
            }
        })?;
        de.end().map_err(|e| EnvelopeError::Json(e.to_string()))?;
        Ok(envelope)
    }

    /// Checks the encodings and takes out the payload and the signature.
    pub fn open(&self) -> Result<Opened, EnvelopeError> {
        if self.payload_type != PAYLOAD_TYPE {
            return Err(EnvelopeError::PayloadType(self.payload_type.clone()));
        }
        if self.signatures.len() != 1 {
            return Err(EnvelopeError::SignatureCount(self.signatures.len()));
        }
        if self.payload.len() > MAX_PAYLOAD_BYTES / 3 * 4 + 4 {
            return Err(EnvelopeError::PayloadTooLarge(self.payload.len() / 4 * 3));
        }
        let payload = B64.decode(&self.payload).map_err(|_| EnvelopeError::Base64("payload"))?;
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(EnvelopeError::PayloadTooLarge(payload.len()));
        }
        let sig = &self.signatures[0];
        let key_id = KeyId::parse(&sig.keyid)
            .map_err(|e| EnvelopeError::Field { field: "signatures[0].keyid".into(), message: e.to_string() })?;
        let sig_bytes = B64.decode(&sig.sig).map_err(|_| EnvelopeError::Base64("signatures[0].sig"))?;
        let sig_bytes: [u8; 64] = sig_bytes.try_into().map_err(|_| EnvelopeError::SignatureLength)?;
        Ok(Opened { payload, key_id, signature: Signature::from_bytes(&sig_bytes) })
    }

    /// Signs payload bytes as they are.
    pub fn sign(payload: &[u8], key_id: &str, key: &SigningKey) -> Envelope {
        let signature = key.sign(&pae(PAYLOAD_TYPE, payload));
        Envelope {
            payload_type: PAYLOAD_TYPE.to_owned(),
            payload: B64.encode(payload),
            signatures: vec![EnvelopeSignature { keyid: key_id.to_owned(), sig: B64.encode(signature.to_bytes()) }],
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("envelopes serialize")
    }
}

impl Opened {
    /// Checks the signature over the envelope's PAE with [`verify_signature`].
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        verify_signature(key, &pae(PAYLOAD_TYPE, &self.payload), &self.signature)
    }
}

/// Encodings of the eight points of small order, and the two with x = 0 spelled with the sign
/// bit set: an `R` among them proves nothing about the signer.
fn small_order_encodings() -> &'static [[u8; 32]; 10] {
    static ENCODINGS: std::sync::OnceLock<[[u8; 32]; 10]> = std::sync::OnceLock::new();
    ENCODINGS.get_or_init(|| {
        let mut out = [[0u8; 32]; 10];
        for (slot, point) in out.iter_mut().zip(curve25519_dalek::constants::EIGHT_TORSION.iter()) {
            *slot = point.compress().to_bytes();
        }
        let identity = curve25519_dalek::edwards::EdwardsPoint::default().compress().to_bytes();
        let minus_one = curve25519_dalek::constants::EIGHT_TORSION[4].compress().to_bytes();
        out[8] = identity;
        out[8][31] |= 0x80;
        out[9] = minus_one;
        out[9][31] |= 0x80;
        out
    })
}

/// Whether the 255-bit y of a point encoding is below p = 2^255 - 19.
fn canonical_y(bytes: &[u8; 32]) -> bool {
    let top = bytes[31] & 0x7f;
    !(top == 0x7f && bytes[1..31].iter().all(|b| *b == 0xff) && bytes[0] >= 0xed)
}

/// What a signature must satisfy before any curve arithmetic: S below the group order, R
/// canonically encoded and not of small order (the key is checked by [`usable_key`]).
fn well_formed(signature: &Signature) -> Option<Scalar> {
    let r = signature.r_bytes();
    if !canonical_y(r) || small_order_encodings().contains(r) {
        return None;
    }
    Option::from(Scalar::from_canonical_bytes(*signature.s_bytes()))
}

/// A key of small order proves nothing about who signed.
fn usable_key(key: &VerifyingKey) -> bool {
    !key.is_weak()
}

/// k = SHA-512(R || A || M) reduced mod ℓ, M given in pieces.
fn challenge(r: &[u8; 32], key: &VerifyingKey, message: impl FnOnce(&mut dyn FnMut(&[u8]))) -> Scalar {
    use sha2::Digest as _;
    let mut hash = sha2::Sha512::new();
    hash.update(r);
    hash.update(key.as_bytes());
    message(&mut |part| hash.update(part));
    Scalar::from_bytes_mod_order_wide(&hash.finalize().into())
}

/// The signature rule of this ledger, online and offline: RFC 8032 §5.1.7's group equation
/// [8][S]B = [8]R + [8][k]A with k = SHA-512(R || A || M), on canonical encodings, refusing
/// `R` and `A` of small order. The cofactored equation is the one batch verification agrees
/// with, so the ledger can verify batches without ever accepting a signature it would refuse
/// one by one. Signatures made by any RFC 8032 signer pass; what only this rule accepts
/// (an `R` carrying a small-order component, which no honest signer produces) is described
/// in `docs/signing.md`.
pub fn verify_signature(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    let Some(s) = well_formed(signature).filter(|_| usable_key(key)) else { return false };
    let Some(r) = CompressedEdwardsY(*signature.r_bytes()).decompress() else { return false };
    let k = challenge(signature.r_bytes(), key, |take| take(message));
    let minus_a = -key.to_edwards();
    let expected_r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &minus_a, &s);
    (expected_r - r).mul_by_cofactor().is_identity()
}

/// Verifies many envelopes at once, with the same outcome as [`Opened::verify`] on each: one
/// batch check first, and one by one only when it fails, to find which.
pub fn verify_each(items: &[(&Opened, &VerifyingKey)]) -> Vec<bool> {
    if items.len() < 2 || !batch_holds(items) {
        return items.iter().map(|(opened, key)| opened.verify(key)).collect();
    }
    vec![true; items.len()]
}

/// Whether every signature verifies: one batch check (one by one below two), which accepts
/// exactly what [`Opened::verify`] on each would.
pub fn batch_verifies(items: &[(&Opened, &VerifyingKey)]) -> bool {
    match items {
        [] => true,
        [(opened, key)] => opened.verify(key),
        _ => batch_holds(items),
    }
}

/// The batch equation, with z_i random 128-bit scalars:
/// [8]( Σ z_i R_i + Σ_A (Σ_{i signed by A} z_i k_i) A − (Σ z_i S_i) B ) is the identity.
/// It holds when every signature satisfies the cofactored equation and otherwise only by a
/// chance of 2^-128, so it accepts exactly what checking one by one would. The terms of each
/// key are summed before the multiplication: the signatures of one key cost one point each (R)
/// instead of two, and integrations sign many events with few keys. False also when any
/// signature or key is malformed, or the random scalars cannot be drawn.
fn batch_holds(items: &[(&Opened, &VerifyingKey)]) -> bool {
    use curve25519_dalek::traits::VartimeMultiscalarMul as _;
    use rand_core::{OsRng, RngCore as _};
    let mut random = vec![0u8; 16 * items.len()];
    if OsRng.try_fill_bytes(&mut random).is_err() {
        return false;
    }
    let mut scalars = Vec::with_capacity(items.len() + 2);
    let mut points = Vec::with_capacity(items.len() + 2);
    let mut basepoint = Scalar::ZERO;
    let mut key_slots: std::collections::HashMap<&[u8; 32], usize> = std::collections::HashMap::new();
    let mut key_terms: Vec<(Scalar, EdwardsPoint)> = Vec::new();
    for ((opened, key), z) in items.iter().zip(random.chunks_exact(16)) {
        let slot = match key_slots.entry(key.as_bytes()) {
            std::collections::hash_map::Entry::Occupied(slot) => *slot.get(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                if !usable_key(key) {
                    return false;
                }
                key_terms.push((Scalar::ZERO, key.to_edwards()));
                *slot.insert(key_terms.len() - 1)
            }
        };
        let Some(s) = well_formed(&opened.signature) else { return false };
        let Some(r) = CompressedEdwardsY(*opened.signature.r_bytes()).decompress() else { return false };
        let mut z_bytes = [0u8; 32];
        z_bytes[..16].copy_from_slice(z);
        let z = Scalar::from_bytes_mod_order(z_bytes);
        let k = challenge(opened.signature.r_bytes(), key, |take| pae_parts(PAYLOAD_TYPE, &opened.payload, take));
        basepoint -= z * s;
        scalars.push(z);
        points.push(r);
        key_terms[slot].0 += z * k;
    }
    scalars.push(basepoint);
    points.push(curve25519_dalek::constants::ED25519_BASEPOINT_POINT);
    for (scalar, point) in key_terms {
        scalars.push(scalar);
        points.push(point);
    }
    EdwardsPoint::vartime_multiscalar_mul(&scalars, &points).mul_by_cofactor().is_identity()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    /// Envelope `i` signed by key `signer`; `tamper` changes its signed payload afterwards.
    fn envelope(i: usize, signer: &SigningKey, tamper: bool) -> Opened {
        let payload = format!("{{\"n\":{i}}}").into_bytes();
        let mut opened = Envelope::sign(&payload, "k", signer).open().unwrap();
        if tamper {
            opened.payload.push(b' ');
        }
        opened
    }

    #[test]
    fn a_batch_gets_the_verdicts_of_its_signatures_checked_alone_whatever_its_keys() {
        let keys: Vec<SigningKey> = (1..=3u8).map(|seed| SigningKey::from_bytes(&[seed; 32])).collect();
        let verifying: Vec<VerifyingKey> = keys.iter().map(SigningKey::verifying_key).collect();
        // (case, signer of each envelope, tampered envelopes, key it is checked against when
        // not its signer's)
        type Row = (&'static str, Vec<usize>, Vec<usize>, Option<(usize, usize)>);
        let rows: Vec<Row> = vec![
            ("one key", vec![0; 8], vec![], None),
            ("three keys, interleaved", vec![0, 1, 2, 0, 1, 2, 2, 0], vec![], None),
            ("every envelope its own key", vec![0, 1, 2], vec![], None),
            ("one key, one payload changed", vec![0; 8], vec![5], None),
            ("three keys, the first envelope changed", vec![2, 0, 1, 0], vec![0], None),
            ("three keys, two changed", vec![0, 1, 2, 0, 1], vec![1, 4], None),
            ("checked against another key than its signer's", vec![0, 1, 0, 1], vec![], Some((2, 1))),
            ("the other key is the one every other envelope uses", vec![0, 0, 1, 0], vec![], Some((2, 0))),
        ];
        for (case, signers, tampered, swap) in rows {
            let opened: Vec<Opened> =
                signers.iter().enumerate().map(|(i, k)| envelope(i, &keys[*k], tampered.contains(&i))).collect();
            let mut checked_with: Vec<&VerifyingKey> = signers.iter().map(|k| &verifying[*k]).collect();
            if let Some((i, k)) = swap {
                checked_with[i] = &verifying[k];
            }
            let items: Vec<(&Opened, &VerifyingKey)> = opened.iter().zip(checked_with).collect();
            let alone: Vec<bool> = items.iter().map(|(o, k)| o.verify(k)).collect();
            let expected_valid = alone.iter().all(|ok| *ok);
            assert_eq!(alone.iter().filter(|ok| !**ok).count(), tampered.len() + swap.iter().count(), "{case}");
            assert_eq!(batch_holds(&items), expected_valid, "{case}: the batch equation");
            assert_eq!(verify_each(&items), alone, "{case}: the verdicts");
        }
    }
}
