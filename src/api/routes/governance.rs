//! `governance`: who works on a project and under which policy — its client, members, the rule
//! set in force with its amendments, approval drift — and whether an asset is ready to be
//! delivered a given way. Readiness runs the append's own evaluator on the durable log, so the
//! two cannot disagree.

use crate::api::auth::Reader;
use crate::api::extract::{parse_project, query_time, Query};
use crate::api::problem::ApiError;
use crate::api::responses::ProjectReadProblems;
use crate::api::routes::projections::{readable_asset, with_project};
use crate::api::state::AppState;
use crate::domain::event::wire_name as snake;
use crate::domain::event::{DeliveryMedium, Usage};
use crate::domain::ids::Label;
use crate::domain::policy::{self, Drift, Finding, Intent, RuleSpec};
use crate::domain::{Changes, NoEvents, View};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub rule: String,
    pub requires: String,
    /// The rule as a policy amendment names it (with its parameters).
    #[schema(value_type = Object)]
    pub spec: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub actor_id: String,
    pub role: String,
    pub organization: Option<String>,
}

/// An approval whose digest a later post edit of its asset superseded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DriftView {
    pub asset: String,
    pub approved_digest: String,
    pub approval: String,
    pub approval_event: String,
    pub approver_role: Option<String>,
    pub edit: String,
    pub edit_event: String,
    /// The asset the edit made, which the approval does not cover.
    pub superseded_by: String,
}

impl DriftView {
    fn of(d: &Drift) -> DriftView {
        DriftView {
            asset: d.asset.to_string(),
            approved_digest: d.digest.to_string(),
            approval: d.approval.to_string(),
            approval_event: d.approval_event.to_string(),
            approver_role: d.role.map(|r| r.as_str().to_owned()),
            edit: d.edit.to_string(),
            edit_event: d.edit_event.to_string(),
            superseded_by: d.superseded_by.to_string(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GovernanceView {
    pub project: String,
    /// `false` for a legacy project (created before organisations): anyone whose registered
    /// role allows a kind may submit it, and the legacy rule set applies.
    pub governed: bool,
    pub client_organization: Option<String>,
    pub content_type: Option<String>,
    /// `campaign@2`, `social@2`, `ecomm@2` or `legacy@1`.
    pub rule_set: String,
    pub rules: Vec<RuleView>,
    /// The `policy_amended` events that made the policy stricter, in log order.
    pub amended_by: Vec<String>,
    pub members: Vec<MemberView>,
    pub approval_drift: Vec<DriftView>,
    /// Entries of the whole log the answer reflects.
    pub log_size: u64,
}

/// A project's client, members, policy in force and approval drift, now.
#[utoipa::path(get, path = "/v1/projects/{project}/governance", tag = "governance", params(("project" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = GovernanceView), ProjectReadProblems))]
pub async fn governance(
    reader: Reader,
    project: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = parse_project(&project)?;
    reader.project(&state.ledger, project.as_str())?;
    let shared = state.clone();
    let view = state
        .reads
        .run(move || {
            let system = shared.ledger.system();
            with_project(&shared, &project, None, |p, at| {
                let changes = Changes::default();
                let view = View { base: &p.rules, changes: &changes, events: &NoEvents };
                let (rule_set, rules, amended_by) = match policy::policy_of(&view, &project) {
                    Some(policy) => (
                        policy.rule_set,
                        policy
                            .rules
                            .iter()
                            .map(|r: &RuleSpec| RuleView {
                                rule: r.name().into(),
                                requires: r.requires(),
                                spec: serde_json::to_value(r).ok(),
                            })
                            .collect(),
                        policy.amended_by.iter().map(|e| e.to_string()).collect(),
                    ),
                    None => (
                        policy::LEGACY_RULE_SET.to_owned(),
                        policy::legacy::RULES
                            .iter()
                            .map(|(rule, _, requires)| RuleView {
                                rule: (*rule).into(),
                                requires: (*requires).into(),
                                spec: None,
                            })
                            .collect(),
                        vec![],
                    ),
                };
                let members = view
                    .members(&project)
                    .into_iter()
                    .map(|(actor, role)| MemberView {
                        actor_id: actor.to_string(),
                        role: role.as_str().into(),
                        organization: system.actor(actor).and_then(|a| a.organization.as_ref()).map(|o| o.to_string()),
                    })
                    .collect();
                GovernanceView {
                    project: project.to_string(),
                    governed: view.is_governed(&project),
                    client_organization: view.client(&project).map(|c| c.to_string()),
                    content_type: view.content_type(&project).map(|c| snake(&c)),
                    rule_set,
                    rules,
                    amended_by,
                    members,
                    approval_drift: policy::approval_drift(&view, &project).iter().map(DriftView::of).collect(),
                    log_size: at.log_size,
                }
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReadinessQuery {
    /// `digital`, `print` or `large_format`.
    #[param(value_type = String)]
    pub medium: DeliveryMedium,
    /// The delivery's format, e.g. `jpeg`.
    pub format: String,
    /// The channel it goes to, e.g. `web`.
    pub channel: String,
    /// `commercial` (default) or `non_commercial`.
    #[param(value_type = Option<String>)]
    pub usage: Option<Usage>,
    /// When the delivery would say it happened (RFC 3339; now by default): evidence claiming a
    /// later time does not count for it, as on append.
    pub occurred_at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutcomeView {
    pub rule: String,
    pub requires: String,
    pub passed: bool,
    /// The events the rule counted, when it passed on evidence.
    pub evidence: Vec<String>,
    /// What is missing, when it failed.
    pub missing: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadinessView {
    pub project: String,
    pub asset: String,
    pub digest: String,
    pub medium: String,
    pub format: String,
    pub channel: String,
    pub usage: String,
    pub rule_set: String,
    pub amended_by: Vec<String>,
    /// Whether a delivery of the asset this way, recorded now, would be accepted by the policy.
    pub ready: bool,
    /// Every rule that applies, in the order the append checks them: the first that fails is
    /// the one an append names.
    pub rules: Vec<OutcomeView>,
    /// The asset's approvals that a later post edit superseded.
    pub approval_drift: Vec<DriftView>,
    pub log_size: u64,
}

/// Whether an asset could be delivered a given way now: every rule that applies, passed with its
/// evidence or failed with what is missing. Nothing is written.
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/readiness", tag = "governance",
    params(("project" = String, Path), ("asset" = String, Path), ReadinessQuery),
    security(("bearer" = [])),
    responses((status = 200, body = ReadinessView), ProjectReadProblems))]
pub async fn readiness(
    reader: Reader,
    path: web::Path<(String, String)>,
    query: Query<ReadinessQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, asset) = readable_asset(&reader, &state, path.into_inner())?;
    let label = |raw: &str, field: &str| {
        Label::parse(raw).map_err(|e| ApiError::bad_query(format!("`{field}` {e}")).field(field))
    };
    let format = label(&query.format, "format")?;
    let channel = label(&query.channel, "channel")?;
    let (medium, usage) = (query.medium, query.usage.unwrap_or(Usage::Commercial));
    let now_us = chrono::Utc::now().timestamp_micros();
    let occurred_at_us = query_time(query.occurred_at.as_deref(), "occurred_at")?.unwrap_or(now_us);
    // The append refuses such a delivery before any policy is asked: so does readiness.
    if occurred_at_us > now_us.saturating_add(crate::domain::rules::MAX_CLOCK_AHEAD_US) {
        return Err(ApiError::bad_query(
            "`occurred_at` is more than 5 minutes ahead of the ledger's clock: a delivery saying so is refused",
        )
        .field("occurred_at"));
    }
    let shared = state.clone();
    let view = state
        .reads
        .run(move || {
            with_project(&shared, &project, None, |p, at| {
                let changes = Changes::default();
                let view = View { base: &p.rules, changes: &changes, events: &NoEvents };
                let Some(record) = view.asset(&project, &asset) else {
                    return Err(ApiError::not_found(format!("asset `{asset}` does not exist in project `{project}`")));
                };
                let intent = Intent::Delivery { master: &asset, medium, format: &format, usage, occurred_at_us };
                // Judged within the work an append may take, as the append is.
                let assessment = crate::domain::limits::metered(|| policy::evaluate(&view, &project, intent));
                let rules: Vec<OutcomeView> = assessment
                    .outcomes
                    .iter()
                    .map(|o| OutcomeView {
                        rule: o.rule.into(),
                        requires: o.requires.clone(),
                        passed: o.passed(),
                        evidence: match &o.finding {
                            Finding::Passed { evidence } => evidence.iter().map(|e| e.to_string()).collect(),
                            Finding::Failed { .. } => vec![],
                        },
                        missing: match &o.finding {
                            Finding::Failed { missing } => Some(missing.clone()),
                            Finding::Passed { .. } => None,
                        },
                    })
                    .collect();
                let drift = policy::approval_drift(&view, &project);
                Ok(ReadinessView {
                    project: project.to_string(),
                    asset: asset.to_string(),
                    digest: crate::domain::Digest::from_bytes(&record.digest).to_string(),
                    medium: snake(&medium),
                    format: format.to_string(),
                    channel: channel.to_string(),
                    usage: snake(&usage),
                    rule_set: assessment.rule_set.clone(),
                    amended_by: assessment.amended_by.iter().map(|e| e.to_string()).collect(),
                    ready: rules.iter().all(|r| r.passed),
                    rules,
                    approval_drift: drift.iter().filter(|d| d.asset == asset).map(DriftView::of).collect(),
                    log_size: at.log_size,
                })
            })
        })
        .await??;
    Ok(HttpResponse::Ok().json(view))
}
