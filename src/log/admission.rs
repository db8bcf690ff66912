//! The one admission check: who signed and the signature first ([`authenticate`]), then the
//! expected version and the rules ([`admit_after_signer`]) — for the writer deciding a
//! submission, for a replay of a stored log (start, `verify`, `import`, `fsck`), for an
//! evidence bundle and for the audit trail. Whatever accepts an entry online is exactly what
//! accepts it offline.
//!
//! The order is part of the contract. Nothing about the log is told to a caller whose signature
//! has not been verified: the writer answers a retried event from the log only after
//! [`authenticate`], and the refusals before it (`unknown-key`, `bad-signature`) name only what
//! the caller sent.

use crate::crypto::dsse::Opened;
use crate::domain::genesis::LEDGER_ACTOR;
use crate::domain::rules::{check_signer, decide};
use crate::domain::state::Position;
use crate::domain::{DecideError, KeyId, LookupFailed, Payload, ProjectId, Refusal, SystemState, View};

/// How far an entry is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// Who signed and the signature: all that a partial view of the log (an evidence bundle, an
    /// audit trail) can check.
    Signer,
    /// Also the expected version against the stream's, and every rule against the state the
    /// entries before it left: the writer and a full replay.
    Full,
}

/// What is known of an envelope's signature before it is admitted. A verdict holds for good:
/// a key id is never given another key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Not checked yet (its key was not known when it could have been): admission checks it.
    Unchecked,
    /// Verified against the key registered under its key id.
    Verified,
    /// Checked and found not to verify.
    Refuted,
}

/// Why an entry is not admitted, in the order the checks run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("signer: {0}")]
    Signer(Refusal),
    #[error("the signature does not verify with key `{key}`")]
    BadSignature { key: KeyId },
    #[error("expected version {expected} of stream `{project}`, it is at {actual}")]
    VersionConflict { project: ProjectId, expected: u64, actual: u64 },
    #[error("it breaks a rule: {0}")]
    Rule(Refusal),
    #[error(transparent)]
    Lookup(LookupFailed),
}

/// An event that names the ledger it was signed for (every new one does) belongs to that ledger
/// alone; events stored before it was asked name none.
pub fn signed_for(payload: &Payload, origin: &str) -> Result<(), Refusal> {
    match &payload.ledger {
        Some(named) if named != origin => Err(Refusal::WrongLedger { named: named.clone(), this: origin.to_owned() }),
        _ => Ok(()),
    }
}

/// Whether the envelope's signature verifies with the key the system state registers under its
/// key id (revoked or not: [`check_signer`] says whether that key may sign now).
pub fn signature_holds(system: &SystemState, opened: &Opened) -> bool {
    system.key(&opened.key_id).is_some_and(|(_, _, key)| opened.verify(key.public_key.key()))
}

/// Who signed: the key must be registered and the signature verify with it; then the ledger's
/// own key may sign only the genesis entry (the first of the system stream, whose version before
/// it is `stream_version` 0), and the key must be the payload's actor's, not revoked, with a
/// role that may submit the kind.
pub fn authenticate(
    view: &View<'_>,
    payload: &Payload,
    opened: &Opened,
    signature: SignatureCheck,
    stream_version: u64,
) -> Result<(), Rejection> {
    let key = &opened.key_id;
    let Some((owner, _, _)) = view.system().key(key) else {
        return Err(Rejection::Signer(Refusal::UnknownKey { key: key.clone() }));
    };
    let verified = match signature {
        SignatureCheck::Verified => true,
        SignatureCheck::Refuted => false,
        SignatureCheck::Unchecked => signature_holds(view.system(), opened),
    };
    if !verified {
        return Err(Rejection::BadSignature { key: key.clone() });
    }
    let genesis = payload.project.is_system() && stream_version == 0;
    if owner.as_str() == LEDGER_ACTOR && !genesis {
        return Err(Rejection::Signer(Refusal::LedgerKeyReserved { key: key.clone() }));
    }
    check_signer(view, payload, key).map_err(Rejection::Signer)
}

/// What follows [`authenticate`]: the expected version against the stream's, then the rules, for
/// an entry received at `received_at_us`.
pub fn admit_after_signer(
    view: &View<'_>,
    payload: &Payload,
    stream_version: u64,
    received_at_us: i64,
) -> Result<(), Rejection> {
    if let Some(expected) = payload.expected_version {
        if expected != stream_version {
            return Err(Rejection::VersionConflict {
                project: payload.project.clone(),
                expected,
                actual: stream_version,
            });
        }
    }
    let at = Position { version: stream_version + 1, received_at_us };
    decide(view, payload, at).map_err(|e| match e {
        DecideError::Refused(refusal) => Rejection::Rule(refusal),
        DecideError::Lookup(failed) => Rejection::Lookup(failed),
    })
}

/// Admits one entry against `view`, at version `stream_version` of its stream: [`authenticate`],
/// and for [`Extent::Full`] [`admit_after_signer`].
pub fn admit(
    view: &View<'_>,
    payload: &Payload,
    opened: &Opened,
    signature: SignatureCheck,
    stream_version: u64,
    received_at_us: i64,
    extent: Extent,
) -> Result<(), Rejection> {
    authenticate(view, payload, opened, signature, stream_version)?;
    match extent {
        Extent::Signer => Ok(()),
        Extent::Full => admit_after_signer(view, payload, stream_version, received_at_us),
    }
}
