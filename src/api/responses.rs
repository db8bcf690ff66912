//! The problem answers each kind of route can give, for the OpenAPI document: one list per
//! kind of route instead of one per handler.

use std::collections::BTreeMap;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

/// Responses of the given statuses, each a `Problem` (registered in the document's components).
fn problems(statuses: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
            let response =
                ResponseBuilder::new().description(*description).content("application/problem+json", content);
            (status.to_string(), RefOr::T(response.build()))
        })
        .collect()
}

macro_rules! problem_set {
    ($(#[$doc:meta])* $name:ident: $($status:literal => $description:literal),* $(,)?) => {
        $(#[$doc])*
        pub struct $name;
        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problems(&[$(($status, $description)),*])
            }
        }
    };
}

problem_set!(
    /// An append's refusals.
    AppendProblems:
    400 => "Malformed JSON or envelope",
    403 => "Signature or signer refused",
    409 => "Version or id conflict",
    413 => "Body or batch over the limit",
    415 => "Not application/json",
    422 => "Payload breaks a rule",
    503 => "Writer busy or storage unavailable",
);
problem_set!(
    /// A read of one project's data.
    ProjectReadProblems:
    400 => "A malformed path or query",
    401 => "No valid bearer token",
    403 => "The token may not read the project",
    404 => "No such project or asset",
);
problem_set!(
    /// The live feed.
    LiveFeedProblems:
    400 => "A malformed query, kind or Last-Event-ID",
    401 => "No valid bearer token",
    403 => "The token may not read the project asked for",
    404 => "No such project",
    429 => "Too many feeds open",
);
problem_set!(
    /// Registering or changing a webhook endpoint.
    WebhooksProblems:
    400 => "A malformed path or body",
    401 => "No valid bearer token",
    403 => "The token may not read what the endpoint is for",
    404 => "No such endpoint among the token's",
    413 => "The body is over the limit",
    415 => "The body is not application/json",
    422 => "A bad URL, project, organisation, kind or sequence; a refused address; too many endpoints",
);
problem_set!(
    /// Reading or deleting a webhook endpoint.
    WebhookProblems:
    400 => "A malformed path or query",
    401 => "No valid bearer token",
    404 => "No such endpoint among the token's",
);
problem_set!(
    /// Keeping a confidential field's clear text.
    KeepConfidentialProblems:
    400 => "A malformed path or body",
    401 => "No valid bearer token",
    403 => "The token may not read the project",
    404 => "No such entry in the project",
    410 => "The clear text was erased",
    413 => "The body is over the limit",
    415 => "The body is not application/json",
    422 => "No commitment at the field, or the text and salt do not match it",
);
problem_set!(
    /// Reading a confidential field's clear text.
    ConfidentialProblems:
    400 => "A malformed path",
    401 => "No valid bearer token",
    403 => "The token may not read the project, or is not granted confidential texts",
    404 => "No clear text of the commitment is kept",
    410 => "The clear text was erased",
);
problem_set!(
    /// A read of one project's data that may name an `as_of`.
    AsOfReadProblems:
    400 => "A malformed path or query",
    401 => "No valid bearer token",
    403 => "The token may not read the project",
    404 => "No such project or asset",
    422 => "`as_of` beyond the log",
);
problem_set!(
    /// Signing an asset's Content Credentials into its file.
    CredentialsProblems:
    400 => "A malformed path",
    401 => "No valid bearer token",
    403 => "The token may not read the project",
    404 => "No such project or asset",
    408 => "The file did not arrive within the body deadline",
    413 => "The file is over 64 MiB",
    415 => "The body is not `image/jpeg` or `image/png`, or not the asset's recorded media type",
    422 => "The file is not the asset's bytes, or cannot carry Content Credentials",
    503 => "The server holds no signing certificate, or as many request bodies as it may",
);
problem_set!(
    /// A search of the projects the token may read.
    FindProblems:
    400 => "A malformed query (`digest` not `sha256:` and 64 hex digits, `limit` out of range)",
    401 => "No valid bearer token",
);
problem_set!(
    /// A read of the whole log.
    FeedProblems:
    400 => "A malformed query",
    401 => "No valid bearer token",
);
problem_set!(
    /// A read of one entry.
    EntryProblems:
    400 => "A malformed path",
    401 => "No valid bearer token",
    404 => "No such entry, or one of a project the token may not read (the same answer: a scoped token learns nothing of other projects)",
);
problem_set!(
    /// A read that only needs a valid token.
    TokenProblems:
    401 => "No valid bearer token",
);
problem_set!(
    /// A read of an actor.
    ActorProblems:
    401 => "No valid bearer token",
    404 => "No such actor",
);
problem_set!(
    /// Issuing a token.
    IssueProblems:
    400 => "A malformed token request",
    401 => "No valid bearer token",
    403 => "Not an admin token",
    415 => "Not application/json",
);
problem_set!(
    /// A list only an admin token may read.
    AdminProblems:
    401 => "No valid bearer token",
    403 => "Not an admin token",
);
problem_set!(
    /// One item only an admin token may change.
    AdminItemProblems:
    401 => "No valid bearer token",
    403 => "Not an admin token",
    404 => "No such item",
);
problem_set!(
    /// An inclusion proof.
    InclusionProblems:
    400 => "A malformed query",
    401 => "No valid bearer token",
    404 => "No such entry, or one of a project the token may not read (the same answer)",
    422 => "A tree size the log has not reached or that does not hold the entry",
);
problem_set!(
    /// A consistency proof.
    ConsistencyProblems:
    400 => "A malformed query",
    422 => "Sizes outside 1 <= from <= to <= the log's size",
);
problem_set!(
    /// The export.
    ExportProblems:
    401 => "No valid bearer token",
    403 => "The token does not cover every project",
);
problem_set!(
    /// Readiness.
    ReadinessProblems:
    503 => "The store does not answer",
);
