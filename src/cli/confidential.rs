//! `lineage sign --confidential`: replaces confidential text fields of a payload by salted
//! commitments (`docs/confidential.md`) and writes their clear texts and salts apart, to be
//! sent once the event is appended.

use crate::domain::confidential::commitment_of;
use rand_core::RngCore as _;
use serde_json::{json, Value};
use std::path::Path;

/// Why a payload's fields could not be committed to.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("the payload is not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("the payload names no `project`, to which its commitments are bound")]
    NoProject,
    #[error("`{0}` is not a text field of the payload")]
    NotText(String),
    #[error("writing {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// The payload with each field at `pointers` committed to, its clear texts written to `out`
/// as `{"field", "salt", "text"}` objects, one per field.
pub fn commit(payload: &[u8], pointers: &[String], out: &Path) -> Result<Vec<u8>, CommitError> {
    let mut value: Value = serde_json::from_slice(payload).map_err(CommitError::NotJson)?;
    // A commitment is bound to the payload's project.
    let project = value["project"].as_str().ok_or(CommitError::NoProject)?.to_owned();
    let mut disclosures = Vec::with_capacity(pointers.len());
    for pointer in pointers {
        let field = value.pointer_mut(pointer).ok_or_else(|| CommitError::NotText(pointer.clone()))?;
        let Value::String(text) = field else { return Err(CommitError::NotText(pointer.clone())) };
        let mut salt = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut salt);
        let commitment = commitment_of(&project, &salt, text);
        disclosures.push(json!({"field": pointer, "salt": hex::encode(salt), "text": text}));
        *field = json!({"commitment": commitment});
    }
    let written = serde_json::to_vec_pretty(&disclosures).expect("JSON serializes");
    std::fs::write(out, written).map_err(|source| CommitError::Write { path: out.display().to_string(), source })?;
    Ok(serde_json::to_vec(&value).expect("JSON serializes"))
}
