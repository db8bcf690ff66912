//! The one admission check: who signed, the signature, the expected version, the rules — in
//! that order, for the writer deciding a submission, for a replay of a stored log (start,
//! `verify`, `import`, `fsck`), for an evidence bundle and for the audit trail. Whatever
//! accepts an entry online is exactly what accepts it offline.

use crate::crypto::dsse::Opened;
use crate::domain::rules::{check_signer, decide};
use crate::domain::{DecideError, KeyId, LookupFailed, Payload, ProjectId, Refusal, SystemState, View};

/// How far an entry is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// Who signed and the signature: all that a partial view of the log (an evidence bundle, an
    /// audit trail) can check.
    Signer,
    /// Also the expected version against the stream's, and every rule against the state the
    /// entries before it left: the writer and a full replay.
    Full { stream_version: u64 },
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

/// Whether the envelope's signature verifies with the key the system state registers under its
/// key id (revoked or not: [`check_signer`] says whether that key may sign now).
pub fn signature_holds(system: &SystemState, opened: &Opened) -> bool {
    system.key(&opened.key_id).is_some_and(|(_, _, key)| opened.verify(key.public_key.key()))
}

/// Admits one entry against `view`. `signature_checked` is true when the caller has already
/// verified this very signature against the key registered under its key id (the ledger checks
/// the signatures of a request together, before the writer sees it).
pub fn admit(
    view: &View<'_>,
    payload: &Payload,
    opened: &Opened,
    signature_checked: bool,
    extent: Extent,
) -> Result<(), Rejection> {
    check_signer(view, payload, &opened.key_id).map_err(Rejection::Signer)?;
    if !signature_checked && !signature_holds(view.system(), opened) {
        return Err(Rejection::BadSignature { key: opened.key_id.clone() });
    }
    let Extent::Full { stream_version } = extent else { return Ok(()) };
    if let Some(expected) = payload.expected_version {
        if expected != stream_version {
            return Err(Rejection::VersionConflict {
                project: payload.project.clone(),
                expected,
                actual: stream_version,
            });
        }
    }
    decide(view, payload).map_err(|e| match e {
        DecideError::Refused(refusal) => Rejection::Rule(refusal),
        DecideError::Lookup(failed) => Rejection::Lookup(failed),
    })
}
