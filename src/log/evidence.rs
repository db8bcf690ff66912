//! Evidence bundles: everything needed to check, offline and without trusting the server, where
//! an asset came from and that nothing of it was left out — the entries of its lineage, every
//! entry of the subjects it must be complete in ([`super::completeness`]: the asset, its bytes,
//! the project's governance, the keys of every signer, back to the ledger's own key), an
//! inclusion proof of each entry, each subject's proof in the subject map, and the signed map
//! checkpoint they are proven against. The ledger builds them (`crate::ledger::evidence`);
//! this is their format and their verification.

use super::admission::{admit, Extent, Rejection, SignatureCheck};
use super::completeness::Subject;
use super::entry::open_entry;
use super::export::{genesis_from, trusted_verifier, VerifyError};
use super::replay::Broken;
use crate::crypto::checkpoint::{Checkpoint, MapCheckpoint};
use crate::domain::event::Body;
use crate::domain::state::{created_records, derivation_refs, Namespace, Record};
use crate::domain::state::{Facts, Position};
use crate::domain::{Changes, LedgerState, View};
use crate::domain::{Digest, Id};
use serde::{Deserialize, Serialize};

pub const EVIDENCE_FORMAT: &str = "lineage-evidence";
/// The bundle's version: 3 proves completeness in a map of blinded subjects (version 1 bundles,
/// which carried the whole system stream and proved nothing complete, and version 2 bundles,
/// proven in a map whose leaves anyone could recompute, are refused).
pub const EVIDENCE_VERSION: u32 = 3;

/// One entry as a bundle holds it: every field its leaf bytes cover, the envelope's exact bytes
/// as text (an envelope is JSON: its payload is base64 once, inside it, and no more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleEntry {
    pub sequence: u64,
    pub project: String,
    pub version: u64,
    /// Microseconds since the Unix epoch, UTC.
    pub received_at_us: i64,
    /// The envelope's exact bytes, as a JSON string.
    pub envelope: String,
    /// Hex.
    pub prev_hash: String,
    /// Hex SHA-256 of the leaf bytes, as stored.
    pub hash: String,
}

impl BundleEntry {
    /// `None` for an envelope that is not UTF-8, which the ledger never accepts.
    pub fn of(entry: &crate::log::Entry) -> Option<BundleEntry> {
        Some(BundleEntry {
            sequence: entry.sequence,
            project: entry.project.clone(),
            version: entry.version,
            received_at_us: entry.received_at_us,
            envelope: String::from_utf8(entry.envelope.clone()).ok()?,
            prev_hash: hex::encode(entry.prev_hash),
            hash: hex::encode(entry.hash),
        })
    }

    /// The entry, with its hash as recorded (verification compares it with the bytes').
    pub fn to_entry(&self) -> Result<crate::log::Entry, Broken> {
        let (prev_hash, hash) = super::export::hashes(self.sequence, &self.prev_hash, &self.hash)?;
        Ok(crate::log::Entry {
            sequence: self.sequence,
            project: self.project.clone(),
            version: self.version,
            received_at_us: self.received_at_us,
            envelope: self.envelope.as_bytes().to_vec(),
            prev_hash,
            hash,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always `lineage-evidence`.
    pub format: String,
    pub version: u32,
    pub origin: String,
    /// The checkpoint verifier key (C2SP vkey); pin it rather than trusting the bundle's copy.
    pub vkey: String,
    /// Standard base64 of the ledger's ed25519 public key.
    pub ledger_public_key: String,
    pub project: String,
    pub asset: String,
    pub tree_size: u64,
    /// The signed map checkpoint of `tree_size` entries: the log's root and the subject map's.
    pub checkpoint: String,
    /// Each subject the bundle is complete in, with its entries' sequences.
    pub subjects: Vec<Subject>,
    /// One proof, in the subject map of the checkpoint, of every subject's list: the pruned
    /// tree in pre-order, each step `node`, `leaf` or a subtree's hex hash.
    pub map_proof: Vec<String>,
    /// In ledger order: the asset's lineage and every entry of its subjects.
    pub entries: Vec<BundleEntry>,
    /// One inclusion proof of all the entries in the log of `tree_size` entries
    /// ([`crate::crypto::multiproof`]): hex hashes.
    pub inclusion: Vec<String>,
    /// Clear texts of confidential fields of the entries, when asked for (`?disclose=true`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disclosures: Vec<Disclosure>,
}

/// A confidential field's clear text: the verifier checks that it and its salt hash to the
/// commitment, and that an entry of the bundle holds the commitment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    pub commitment: String,
    /// The 32-byte salt, hex.
    pub salt: String,
    pub text: String,
}

/// Checks the one inclusion proof of all the entries against the checkpoint's root.
fn check_inclusion(
    inclusion: &[String],
    held: &[(u64, crate::crypto::merkle::Hash, &crate::domain::Payload)],
    checkpoint: &Checkpoint,
) -> Result<(), VerifyError> {
    let leaves: Vec<(u64, crate::crypto::merkle::Hash)> = held.iter().map(|(s, leaf, _)| (*s, *leaf)).collect();
    let proof: Option<Vec<crate::crypto::merkle::Hash>> =
        inclusion.iter().map(|h| hex::decode(h).ok().and_then(|b| b.try_into().ok())).collect();
    let proven_root = proof
        .ok_or(crate::crypto::merkle::ProofError::HashLength)
        .and_then(|proof| crate::crypto::multiproof::root_from(checkpoint.size, &leaves, &proof));
    if proven_root.as_ref() == Ok(&checkpoint.root) {
        return Ok(());
    }
    let why = proven_root.err().map_or("it leads to another root".to_owned(), |e| e.to_string());
    Err(VerifyError::Format {
        line: 1,
        reason: format!("the entries are not in the checkpointed log: their inclusion proof fails ({why})"),
    })
}

/// Checks each disclosed text against its commitment, held by a confidential field of an entry
/// of the bundle and erased by none: each commitment once.
fn check_disclosures(
    project: &str,
    disclosures: &[Disclosure],
    payloads: &[&crate::domain::Payload],
) -> Result<(), VerifyError> {
    use crate::domain::confidential::{check_clear_text, commitment_of};
    let held: std::collections::HashSet<Digest> =
        payloads.iter().flat_map(|p| p.body.committed()).map(|(_, c)| c).collect();
    let erased: std::collections::HashMap<&Digest, &crate::domain::EventId> = payloads
        .iter()
        .filter_map(|p| match &p.body {
            Body::ConfidentialErased(e) => Some((&e.commitment, &p.event_id)),
            _ => None,
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for d in disclosures {
        let fail = |reason: String| VerifyError::Disclosure(format!("`{}`: {reason}", d.commitment));
        let commitment = Digest::parse(&d.commitment).map_err(|e| fail(e.to_string()))?;
        if !seen.insert(commitment.clone()) {
            return Err(fail("it is disclosed twice".into()));
        }
        let salt: [u8; 32] = hex::decode(&d.salt)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| fail("the salt is not 32 bytes in hex".into()))?;
        check_clear_text(&d.text).map_err(|e| fail(format!("{e}: no confidential field may hold it")))?;
        if commitment_of(project, &salt, &d.text) != commitment {
            return Err(fail(
                "the disclosed text and salt do not hash to it: the text is not the one committed to".into(),
            ));
        }
        if !held.contains(&commitment) {
            return Err(fail("no confidential field of an entry of the bundle holds this commitment".into()));
        }
        if let Some(by) = erased.get(&commitment) {
            return Err(fail(format!("its clear text was erased (event `{by}`): a bundle may not disclose it")));
        }
    }
    Ok(())
}

/// What a verified bundle proves.
#[derive(Debug)]
pub struct Proven {
    /// The checkpoint the bundle is proven against: its size and root.
    pub checkpoint: Checkpoint,
    /// The subject map's root at the same size.
    pub map_root: crate::crypto::merkle::Hash,
    /// Subjects proven complete.
    pub subjects: usize,
    /// Entries of the project (not counting the system stream's).
    pub lineage_entries: usize,
    pub system_entries: usize,
    /// The digest the entry that made the asset recorded.
    pub asset_digest: Option<Digest>,
    /// The deliveries in the bundle that name the asset as master or delivered variant: the
    /// delivery id, the variant's asset id and its digest.
    pub deliveries: Vec<(Id, Id, Digest)>,
    /// Deliveries of the asset that the bundle shows retracted, as `deliveries`.
    pub retracted_deliveries: Vec<(Id, Id, Digest)>,
    /// Confidential clear texts disclosed, each matching its commitment.
    pub disclosed: usize,
}

impl Proven {
    /// Which recorded bytes a file's digest is: the asset's own, or a variant delivered from it.
    pub fn file_matches(&self, asset: &str, digest: &Digest) -> Result<String, FileMismatch> {
        if self.asset_digest.as_ref() == Some(digest) {
            let delivered = self.deliveries.iter().find(|(_, variant, _)| variant.as_str() == asset);
            return Ok(match delivered {
                Some((delivery, _, _)) => format!("the file is asset `{asset}` ({digest}), delivered in `{delivery}`"),
                None => format!("the file is asset `{asset}` ({digest})"),
            });
        }
        if let Some((delivery, variant, _)) = self.deliveries.iter().find(|(_, _, d)| d == digest) {
            return Ok(format!("the file is `{variant}` ({digest}), delivered from `{asset}` in `{delivery}`"));
        }
        if let Some((delivery, variant, _)) = self.retracted_deliveries.iter().find(|(_, _, d)| d == digest) {
            return Err(FileMismatch::Retracted {
                variant: variant.clone(),
                digest: digest.clone(),
                asset: asset.to_owned(),
                delivery: delivery.clone(),
            });
        }
        let recorded = match &self.asset_digest {
            Some(d) => d.to_string(),
            None => "no digest".into(),
        };
        Err(FileMismatch::Neither { digest: digest.clone(), asset: asset.to_owned(), recorded })
    }
}

/// Why a file is not the asset of a bundle, nor a variant delivered from it.
#[derive(Debug, thiserror::Error)]
pub enum FileMismatch {
    #[error("the file is `{variant}` ({digest}), delivered from `{asset}` in `{delivery}`, a delivery that was retracted: it is not a delivered file of the asset")]
    Retracted { variant: Id, digest: Digest, asset: String, delivery: Id },
    #[error(
        "the file's digest {digest} is neither asset `{asset}`'s ({recorded}) nor that of a variant delivered from it"
    )]
    Neither { digest: Digest, asset: String, recorded: String },
}

/// Why two checkpoints are not shown to be of one log.
#[derive(Debug, thiserror::Error)]
pub enum Inconsistent {
    #[error("the checkpoints are of two logs: `{0}` and `{1}`")]
    TwoLogs(String, String),
    #[error("two checkpoints of {0} entries with different roots: the log was shown two ways (a split view)")]
    SplitView(u64),
    #[error("the checkpoints are of {earlier} and {later} entries: a consistency proof between them is needed (GET /v1/proofs/consistency?from={earlier}&to={later})")]
    ProofNeeded { earlier: u64, later: u64 },
    #[error("the log of {later} entries does not extend the log of {earlier} entries: {source}")]
    NotExtended { earlier: u64, later: u64, source: crate::crypto::merkle::ProofError },
    #[error("the bundle is complete as of {bundle} entries, and the ledger has {later}: it does not show what happened since; fetch the bundle again")]
    Outdated { bundle: u64, later: u64 },
}

/// Checks that two checkpoints of the same log agree: the same root at the same size, or the
/// later one's tree extending the earlier one's by a consistency proof (RFC 9162 §2.1.4).
pub fn consistent(a: &Checkpoint, b: &Checkpoint, proof: Option<&[Vec<u8>]>) -> Result<(), Inconsistent> {
    if a.origin != b.origin {
        return Err(Inconsistent::TwoLogs(a.origin.clone(), b.origin.clone()));
    }
    let (earlier, later) = if a.size <= b.size { (a, b) } else { (b, a) };
    if earlier.size == later.size {
        return if earlier.root == later.root { Ok(()) } else { Err(Inconsistent::SplitView(earlier.size)) };
    }
    let Some(proof) = proof else {
        return Err(Inconsistent::ProofNeeded { earlier: earlier.size, later: later.size });
    };
    crate::crypto::merkle::verify_consistency(earlier.size, later.size, &earlier.root, &later.root, proof)
        .map_err(|source| Inconsistent::NotExtended { earlier: earlier.size, later: later.size, source })
}

/// Verifies a bundle offline: the map checkpoint's signature, each entry's inclusion in it, each
/// entry's hash and signature by a key its actor's subject registered (and not revoked) for an
/// actor whose role may sign the kind, that the lineage names the asset and is whole backwards,
/// and that every subject the bundle must be complete in is ([`super::completeness`]).
pub fn verify(bundle: &Bundle, pinned_vkey: Option<&str>) -> Result<Proven, VerifyError> {
    if bundle.format != EVIDENCE_FORMAT || bundle.version != EVIDENCE_VERSION {
        let reason = if bundle.format == EVIDENCE_FORMAT && bundle.version == 1 {
            "a version 1 bundle proves nothing complete (it may leave out any later entry): fetch the bundle again"
                .to_owned()
        } else if bundle.format == EVIDENCE_FORMAT && bundle.version == 2 {
            "a version 2 bundle is proven in a subject map that is no longer kept: fetch the bundle again".to_owned()
        } else {
            format!("not a {EVIDENCE_FORMAT} version {EVIDENCE_VERSION} bundle")
        };
        return Err(VerifyError::Format { line: 1, reason });
    }
    let verifier = trusted_verifier(&bundle.vkey, &bundle.ledger_public_key, pinned_vkey)?;
    let MapCheckpoint { checkpoint, map_root } = MapCheckpoint::open(&bundle.checkpoint, &verifier)
        .map_err(|e| Broken { sequence: bundle.tree_size, reason: format!("the map checkpoint: {e}") })?;
    if checkpoint.size != bundle.tree_size {
        return Err(Broken { sequence: checkpoint.size, reason: "the checkpoint is not of tree_size".into() }.into());
    }
    let mut state = LedgerState::new(genesis_from(&bundle.ledger_public_key)?);
    let (mut lineage_entries, mut system_entries) = (0, 0);
    let (mut asset_digest, mut deliveries) = (None, Vec::new());
    let mut retracted: std::collections::HashSet<crate::domain::EventId> = std::collections::HashSet::new();
    // What the lineage's entries make, and what each is made from: every such record must have
    // its making entry in the bundle, or an ancestor (a non-commercial model, a rejected input,
    // a retracted generation) could have been left out unseen.
    let mut made: std::collections::HashSet<(Namespace, String)> = std::collections::HashSet::new();
    let mut made_from: Vec<(u64, Namespace, String)> = Vec::new();
    // Each entry in the log first, then whether the bundle is complete (so that what is left
    // out is named as such, not as the entry it leaves unverifiable), then each signer.
    let mut previous: Option<u64> = None;
    let mut logged = Vec::with_capacity(bundle.entries.len());
    for item in &bundle.entries {
        let (entry, opened, payload) = in_log(item, &checkpoint, &bundle.origin, previous)?;
        previous = Some(entry.sequence);
        logged.push((entry, opened, payload));
    }
    let held: Vec<(u64, crate::crypto::merkle::Hash, &crate::domain::Payload)> =
        logged.iter().map(|(e, _, p)| (e.sequence, e.leaf_hash(), p)).collect();
    super::completeness::check(&map_root, &bundle.subjects, &bundle.map_proof, &held, &bundle.project, &bundle.asset)?;
    for (entry, opened, payload) in &logged {
        let sequence = entry.sequence;
        let fail = |reason: String| VerifyError::Entry(Broken { sequence, reason });
        admitted(&state, entry, opened, payload)?;
        if payload.project.is_system() {
            // Only the subjects of the signers are here: the keys each had, complete.
            let at = Position { version: entry.version, received_at_us: entry.received_at_us };
            state.apply(payload, at, Facts::default());
            system_entries += 1;
        } else if payload.project.as_str() == bundle.project {
            // The project's governance (its creation, adoption and membership) is in the bundle
            // too, so that each signer's project role is known when its entry is checked.
            let at = Position { version: entry.version, received_at_us: entry.received_at_us };
            state.apply(payload, at, Facts::default());
            lineage_entries += 1;
            let created = created_records(&payload.body);
            made.extend(created.iter().map(|(ns, id, _)| (*ns, id.to_string())));
            if !created.is_empty() {
                made_from
                    .extend(derivation_refs(&payload.body).into_iter().map(|(ns, id)| (sequence, ns, id.to_string())));
            }
            if let Body::BriefRevised(b) = &payload.body {
                made_from.push((sequence, Namespace::Brief, b.brief_id.to_string()));
            }
            let making = created.iter().find(|(ns, id, _)| *ns == Namespace::Asset && id.as_str() == bundle.asset);
            if let Some((_, _, Record::Asset { digest })) = making {
                asset_digest = Some(digest.clone());
            }
            if let Body::DeliveryRecorded(d) = &payload.body {
                if d.master_asset.as_str() == bundle.asset || d.variant.asset_id.as_str() == bundle.asset {
                    let delivered = (d.delivery_id.clone(), d.variant.asset_id.clone(), d.variant.digest.clone());
                    deliveries.push((payload.event_id.clone(), delivered));
                }
            }
            if let Body::EventRetracted(r) = &payload.body {
                retracted.insert(r.event_id.clone());
            }
        } else {
            return Err(fail(format!("it belongs to project `{}`, not `{}`", entry.project, bundle.project)));
        }
    }
    if !made.contains(&(Namespace::Asset, bundle.asset.clone())) {
        return Err(VerifyError::Format {
            line: 1,
            reason: format!("the entry that made asset `{}` is not in the bundle", bundle.asset),
        });
    }
    if let Some((sequence, ns, id)) = made_from.iter().find(|(_, ns, id)| !made.contains(&(*ns, id.clone()))) {
        return Err(Broken {
            sequence: *sequence,
            reason: format!(
                "it names {} `{id}`, whose making entry is not in the bundle: the lineage is incomplete",
                ns.noun()
            ),
        }
        .into());
    }
    let (retracted_deliveries, deliveries): (Vec<_>, Vec<_>) =
        deliveries.into_iter().partition(|(event, _)| retracted.contains(event));
    let deliveries = deliveries.into_iter().map(|(_, d)| d).collect();
    let retracted_deliveries = retracted_deliveries.into_iter().map(|(_, d)| d).collect();
    // Last, so that what is left out is named as such above: every entry in the log, by one
    // proof of them all.
    check_inclusion(&bundle.inclusion, &held, &checkpoint)?;
    let payloads: Vec<&crate::domain::Payload> = logged.iter().map(|(_, _, payload)| payload).collect();
    check_disclosures(&bundle.project, &bundle.disclosures, &payloads)?;
    let subjects = bundle.subjects.len();
    Ok(Proven {
        checkpoint,
        map_root,
        subjects,
        lineage_entries,
        system_entries,
        asset_digest,
        deliveries,
        retracted_deliveries,
        disclosed: bundle.disclosures.len(),
    })
}

/// One entry of a bundle in the log: after the previous one in ledger order, its hash, its
/// inclusion in the checkpoint, its stream and the ledger it was signed for.
fn in_log(
    item: &BundleEntry,
    checkpoint: &Checkpoint,
    origin: &str,
    previous: Option<u64>,
) -> Result<(crate::log::Entry, crate::crypto::dsse::Opened, crate::domain::Payload), VerifyError> {
    let entry = item.to_entry()?;
    let sequence = entry.sequence;
    let fail = |reason: String| VerifyError::Entry(Broken { sequence, reason });
    if previous.is_some_and(|p| p >= sequence) {
        return Err(fail("entries are not in ledger order".into()));
    }
    if entry.computed_hash() != entry.hash {
        return Err(fail("its hash does not match its bytes".into()));
    }
    if sequence >= checkpoint.size {
        return Err(fail(format!("it is not in the checkpointed log of {} entries", checkpoint.size)));
    }
    let (opened, payload) = open_entry(&entry).map_err(|e| fail(e.to_string()))?;
    if payload.project.as_str() != entry.project {
        return Err(fail("its stream differs from its payload's project".into()));
    }
    super::admission::signed_for(&payload, origin).map_err(|r| fail(r.to_string()))?;
    Ok((entry, opened, payload))
}

/// Its signer and signature, as the state so far knows them.
fn admitted(
    state: &LedgerState,
    entry: &crate::log::Entry,
    opened: &crate::crypto::dsse::Opened,
    payload: &crate::domain::Payload,
) -> Result<(), VerifyError> {
    let fail = |reason: String| VerifyError::Entry(Broken { sequence: entry.sequence, reason });
    let changes = Changes::default();
    let view = View { base: state, changes: &changes, events: &crate::domain::NoEvents };
    let stream_version = entry.version.saturating_sub(1);
    admit(&view, payload, opened, SignatureCheck::Unchecked, stream_version, entry.received_at_us, Extent::Signer)
        .map_err(|rejection| match rejection {
            Rejection::BadSignature { key } => fail(format!("the signature by key `{key}` does not verify")),
            other => fail(other.to_string()),
        })
}
