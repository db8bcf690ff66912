//! The subjects of an entry: what the ledger keeps a complete list of entries for, so that an
//! evidence bundle can prove it left none out (`docs/transparency.md`, "Subjects"). Every
//! entry's subjects follow from its payload alone:
//!
//! | subject | its entries |
//! |---|---|
//! | `actor:<actor>` | the actor's registration and every key added to it or revoked |
//! | `organization:<organization>` | the organisation's registration |
//! | `governance:<project>` | the project's creation, adoption, members added and removed, policy amendments, and every retraction and erasure in it |
//! | `briefs:<project>` | the project's creation and every brief of it recorded or revised (a delivery's format is judged against them all; with the creation, the subject exists in every project) |
//! | `asset:<project>/<asset>` | every entry naming the asset, but for a generation that only takes it as an input |
//! | `bytes:<project>/<digest>` | every entry recording bytes of that digest (as an asset, an output, a delivered variant or a reference's file) |
//!
//! Ids never hold `/`, so a subject names one thing.

use crate::domain::event::Body;
use crate::domain::{Digest, Id, Payload};

/// The subjects of an entry, each once, in a fixed order.
pub fn of(payload: &Payload) -> Vec<String> {
    let project = payload.project.as_str();
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    match &payload.body {
        Body::OrganizationRegistered(b) => push(format!("organization:{}", b.organization_id)),
        Body::ActorRegistered(b) => push(actor(b.actor_id.as_str())),
        Body::KeyAdded(b) => push(actor(b.actor_id.as_str())),
        Body::KeyRevoked(b) => push(actor(b.actor_id.as_str())),
        Body::BriefRecorded(_) | Body::BriefRevised(_) => push(briefs(project)),
        Body::ProjectCreated(_) => {
            push(governance(project));
            push(briefs(project));
        }
        body if payload.kind().is_governance()
            || matches!(body, Body::EventRetracted(_) | Body::ConfidentialErased(_)) =>
        {
            push(governance(project))
        }
        _ => {}
    }
    for id in concerned_assets(&payload.body) {
        push(asset(project, id.as_str()));
    }
    for output in crate::domain::state::recorded_outputs(&payload.body) {
        push(bytes(project, &output.digest));
    }
    if let Body::ReferenceAdded(b) = &payload.body {
        if let Some(digest) = &b.digest {
            push(bytes(project, digest));
        }
    }
    out
}

pub fn actor(id: &str) -> String {
    format!("actor:{id}")
}

pub fn governance(project: &str) -> String {
    format!("governance:{project}")
}

pub fn briefs(project: &str) -> String {
    format!("briefs:{project}")
}

pub fn asset(project: &str, asset: &str) -> String {
    format!("asset:{project}/{asset}")
}

pub fn bytes(project: &str, digest: &Digest) -> String {
    format!("bytes:{project}/{digest}")
}

/// The assets an entry is about: those it names, but for the inputs of a generation (what a
/// generation made from a reference image is the made asset's story; an asset used a thousand
/// times would otherwise carry a thousand entries into each of its bundles). A post edit is
/// about its inputs too: it supersedes them (a master retouched again is no longer current).
fn concerned_assets(body: &Body) -> Vec<&Id> {
    match body {
        Body::GenerationRecorded(b) => b.outputs.iter().map(|o| &o.asset_id).collect(),
        _ => crate::domain::state::named_assets(body),
    }
}
