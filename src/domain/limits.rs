//! What one submission may ask of the ledger: the names an entry carries, the names a request
//! carries, and the links of an asset's lineage (documented in `docs/limits.md`).
//!
//! Every cost of an entry — deciding it, indexing it, folding it into a projection, replaying it
//! at start — grows with the ids it names, and the cost of a delivery or an approval with the
//! lineage of its asset. These bounds keep each within a constant, so that one organisation's
//! heaviest entries cannot hold another's for long. They are limits of new submissions, not
//! rules of the log: a log written before them, or by a server with other limits, still
//! verifies and replays as it was written.

use super::event::Body;
use super::ids::{Id, ProjectId};
use super::payload::Payload;
use super::refusal::Refusal;
use super::state::View;
use std::collections::HashSet;

/// Most ids one entry names: the assets it takes, makes, selects, rejects or is about, and the
/// records (model versions, prompts, pipelines, references, briefs) it is made from.
pub const MAX_NAMES_PER_ENTRY: usize = 256;
/// Most ids the entries of one request name together.
pub const MAX_NAMES_PER_REQUEST: usize = 16_384;
/// Most derivation links (an input of a generation or post edit) in the lineage of an asset a
/// generation or post edit makes: the assets it is made from, theirs, and so on.
pub const MAX_LINEAGE_LINKS: usize = 4_096;
/// Most asset ids one project records the same bytes (one digest) under: the rules weigh what
/// was recorded against bytes under every one of them.
pub const MAX_ASSETS_PER_BYTES: usize = 64;
/// Most steps of work the rules take deciding one request: a step is an item of the state they
/// read — a link of an ancestry walked, a review, approval or decision weighed, an asset sharing
/// bytes looked at, a brief format or a policy amendment read. Deciding a request costs about
/// 100 ns a step, so a request holds the writer for milliseconds at most.
pub const MAX_WORK_PER_REQUEST: u64 = 131_072;

thread_local! {
    /// The steps counted since [`reset_work`] on this thread; `None` while nothing is metered
    /// (reads that are not deciding a request or judging readiness).
    static WORK: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Counts `n` steps of work on this thread, when it is metered ([`MAX_WORK_PER_REQUEST`]).
pub fn tick(n: usize) {
    WORK.with(|w| w.set(w.get().map(|steps| steps.saturating_add(n as u64))));
}

/// The steps counted on this thread since [`reset_work`].
pub fn work() -> u64 {
    WORK.with(std::cell::Cell::get).unwrap_or(0)
}

/// Runs `f` metered from zero (a request being decided, readiness being judged), and stops
/// metering after it.
pub fn metered<T>(f: impl FnOnce() -> T) -> T {
    metered_from(0, f).0
}

/// Runs `f` metered from `spent` steps, and answers what it returns with the steps spent when it
/// ended: several judgements that share one budget of [`MAX_WORK_PER_REQUEST`] (the delivery
/// candidates of a page), each stopping where the shared budget runs out.
pub fn metered_from<T>(spent: u64, f: impl FnOnce() -> T) -> (T, u64) {
    struct Stop;
    impl Drop for Stop {
        fn drop(&mut self) {
            WORK.with(|w| w.set(None));
        }
    }
    WORK.with(|w| w.set(Some(spent)));
    let _stop = Stop;
    let answer = f();
    (answer, work())
}

/// Whether this thread's work has passed [`MAX_WORK_PER_REQUEST`]: the rules stop weighing and
/// the entry is refused (or, for readiness, reported not ready).
pub fn exhausted() -> bool {
    work() > MAX_WORK_PER_REQUEST
}

/// What a rule that stopped for [`exhausted`] says.
pub fn exhausted_message() -> String {
    format!(
        "the rules' work deciding this request passed the limit of {MAX_WORK_PER_REQUEST} steps (docs/limits.md): split the request, or shorten the lineage or the evidence it weighs"
    )
}

/// A request whose work so far passes [`MAX_WORK_PER_REQUEST`], refused at the entry that took
/// it past.
pub fn check_work() -> Result<(), Refusal> {
    let got = work();
    if got > MAX_WORK_PER_REQUEST {
        return Err(Refusal::LimitExceeded {
            field: "body".into(),
            limit: "steps of work deciding one request (ancestry links walked, evidence weighed)",
            max: MAX_WORK_PER_REQUEST as usize,
            got: got as usize,
        });
    }
    Ok(())
}

/// The lists of ids a body names, with their fields, in the order the body declares them; a
/// single id counts as a list of one.
fn named_lists(body: &Body) -> Vec<(&'static str, usize)> {
    match body {
        Body::GenerationRecorded(b) => vec![
            ("body.model_version", 1),
            ("body.prompt", 1),
            ("body.pipeline", usize::from(b.pipeline.is_some())),
            ("body.input_assets", b.input_assets.len()),
            ("body.outputs", b.outputs.len()),
        ],
        Body::SelectionMade(b) => vec![("body.selected", b.selected.len()), ("body.rejected", b.rejected.len())],
        Body::PostEditApplied(b) => vec![
            ("body.inputs", b.inputs.len()),
            ("body.output", 1),
            ("body.model_version", usize::from(b.model_version.is_some())),
        ],
        Body::NoteAdded(b) => vec![("body.assets", b.assets.len())],
        Body::PromptAuthored(b) => vec![
            ("body.references", b.references.len()),
            ("body.parent_prompt", usize::from(b.parent_prompt.is_some())),
            ("body.brief_id", usize::from(b.brief_id.is_some())),
        ],
        Body::PipelineDefined(b) => vec![("body.model_versions", b.model_versions.len())],
        Body::BriefRecorded(b) => {
            vec![("body.deliverable_formats", b.deliverable_formats.len()), ("body.channels", b.channels.len())]
        }
        Body::BriefRevised(b) => vec![("body.deliverable_formats", b.deliverable_formats.as_ref().map_or(0, Vec::len))],
        Body::QcReviewRecorded(_) | Body::ApprovalRecorded(_) => vec![("body.asset", 1)],
        Body::DeliveryRecorded(_) => vec![("body.master_asset", 1), ("body.variant", 1)],
        Body::AssetImported(_) => vec![("body.asset", 1)],
        _ => vec![],
    }
}

/// The number of ids a body names (see [`MAX_NAMES_PER_ENTRY`]); a brief's formats and channels
/// count as names, since every delivery compares its format with them.
pub fn names(body: &Body) -> usize {
    named_lists(body).iter().map(|(_, n)| n).sum()
}

/// An entry names at most [`MAX_NAMES_PER_ENTRY`] ids: refused naming the list where the count
/// passes it.
pub fn check_entry(body: &Body) -> Result<(), Refusal> {
    let mut total = 0;
    for (field, n) in named_lists(body) {
        total += n;
        if total > MAX_NAMES_PER_ENTRY {
            return Err(Refusal::LimitExceeded {
                field: field.into(),
                limit: "names per entry",
                max: MAX_NAMES_PER_ENTRY,
                got: names(body),
            });
        }
    }
    Ok(())
}

/// The entries of a request name at most [`MAX_NAMES_PER_REQUEST`] ids together: `Err` with the
/// position of the entry where the total passes it.
pub fn check_request<'a>(bodies: impl Iterator<Item = &'a Body>) -> Result<(), (usize, Refusal)> {
    let mut total = 0;
    for (i, body) in bodies.enumerate() {
        total += names(body);
        if total > MAX_NAMES_PER_REQUEST {
            return Err((
                i,
                Refusal::LimitExceeded {
                    field: "body".into(),
                    limit: "names per request (the entries of one batch together)",
                    max: MAX_NAMES_PER_REQUEST,
                    got: total,
                },
            ));
        }
    }
    Ok(())
}

/// The lineage of the asset a generation or post edit makes holds at most
/// [`MAX_LINEAGE_LINKS`] derivation links. The walk stops as soon as it has counted more, so
/// that the check costs no more than the limit.
pub fn check_lineage(view: &View<'_>, payload: &Payload) -> Result<(), Refusal> {
    let (field, inputs): (&str, &[Id]) = match &payload.body {
        Body::GenerationRecorded(b) => ("body.input_assets", &b.input_assets),
        Body::PostEditApplied(b) => ("body.inputs", &b.inputs),
        // A delivered variant's lineage is its master's and one link: a variant delivered again
        // as a master would otherwise lengthen lineages past the limit.
        Body::DeliveryRecorded(b) => ("body.master_asset", std::slice::from_ref(&b.master_asset)),
        _ => return Ok(()),
    };
    let links = lineage_links(view, &payload.project, inputs, MAX_LINEAGE_LINKS);
    if links > MAX_LINEAGE_LINKS {
        return Err(Refusal::LimitExceeded {
            field: field.into(),
            limit: "derivation links in an asset's lineage",
            max: MAX_LINEAGE_LINKS,
            got: links,
        });
    }
    Ok(())
}

/// The assets an event makes carry bytes that at most [`MAX_ASSETS_PER_BYTES`] assets of the
/// project carry, themselves included.
pub fn check_bytes_shared(view: &View<'_>, payload: &Payload) -> Result<(), Refusal> {
    // A delivered variant of bytes already recorded (its master's, or an earlier variant's) is
    // not counted: it adds nothing for the rules to weigh.
    let made: Vec<(&str, &super::ids::Digest)> = match &payload.body {
        Body::GenerationRecorded(b) => b.outputs.iter().map(|o| ("body.outputs", &o.digest)).collect(),
        Body::PostEditApplied(b) => vec![("body.output.digest", &b.output.digest)],
        Body::AssetImported(b) => vec![("body.asset.digest", &b.asset.digest)],
        _ => return Ok(()),
    };
    // The event's own outputs with the same bytes count too: a list, as an event makes few.
    let mut counts: Vec<([u8; 32], usize)> = Vec::with_capacity(made.len());
    for (field, digest) in made {
        let bytes = digest.bytes();
        let i = match counts.iter().position(|(b, _)| *b == bytes) {
            Some(i) => i,
            None => {
                counts.push((bytes, view.assets_with_bytes(&payload.project, &bytes).len()));
                counts.len() - 1
            }
        };
        let shared = &mut counts[i].1;
        *shared += 1;
        if *shared > MAX_ASSETS_PER_BYTES {
            return Err(Refusal::LimitExceeded {
                field: field.into(),
                limit: "assets of the project recorded with these bytes",
                max: MAX_ASSETS_PER_BYTES,
                got: *shared,
            });
        }
    }
    Ok(())
}

/// The derivation links of the lineage of an asset made from `inputs`: the inputs, and each
/// distinct ancestor's own inputs; counting stops once past `stop`.
fn lineage_links(view: &View<'_>, project: &ProjectId, inputs: &[Id], stop: usize) -> usize {
    let mut links = inputs.len();
    let mut seen: HashSet<&Id> = HashSet::new();
    let mut queue: Vec<&Id> = inputs.iter().collect();
    while let Some(asset) = queue.pop() {
        if links > stop {
            break;
        }
        if !seen.insert(asset) {
            continue;
        }
        let parents = view.parents(project, asset);
        links += parents.len();
        queue.extend(parents);
    }
    links
}
