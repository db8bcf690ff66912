//! How each accepted event changes a project's state: `apply` cannot fail.

use super::*;

/// Where an event lands: the project version it takes, and when the ledger received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub version: u64,
    pub received_at_us: i64,
}

/// What applying an event needs to know of the log beyond the event, looked up (which may fail)
/// before it is applied, so that `apply` itself cannot fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// For a retraction: the project version of the event it retracts.
    pub retracted_version: Option<u64>,
}

impl Facts {
    /// Looks up what applying `payload` needs.
    pub fn of(view: &View<'_>, payload: &Payload) -> Result<Facts, LookupFailed> {
        match &payload.body {
            Body::EventRetracted(b) => {
                Ok(Facts { retracted_version: view.version_of_event(&payload.project, &b.event_id)? })
            }
            _ => Ok(Facts::default()),
        }
    }
}

/// What applying one event needs to know of it besides its body.
struct Applied<'a> {
    id: &'a EventId,
    occurred_at_us: i64,
    role: Option<Role>,
    of_client: bool,
    made_at: u32,
    signer: Signer<'a>,
}

impl ProjectState {
    /// Applies an accepted event. For the events of a request being staged, `self` is the
    /// overlay and `base` the state it lies on; what the event depends on is looked up in both.
    pub fn apply(
        &mut self,
        base: Option<&ProjectState>,
        payload: &Payload,
        at: Position,
        facts: Facts,
        signer: Signer<'_>,
    ) {
        let governed = self.client.is_some() || base.is_some_and(|b| b.client.is_some());
        let member_role =
            match self.members.get(signer.actor).or_else(|| base.and_then(|b| b.members.get(signer.actor))) {
                Some(Membership::Member(role)) => Some(*role),
                _ => None,
            };
        let client = self.client.clone().or_else(|| base.and_then(|b| b.client.clone()));
        let event = Applied {
            id: &payload.event_id,
            occurred_at_us: payload.occurred_at.timestamp_micros(),
            // The role the rules judged the event by: the project role in a governed project.
            role: if governed { member_role } else { signer.ledger_role },
            of_client: governed && signer.organization.is_some() && signer.organization == client.as_ref(),
            made_at: short_version(at.version),
            signer,
        };
        if !self.apply_evidence(&payload.body, &event) && !self.apply_governance(payload, &event, facts) {
            self.apply_records(base, &payload.body, &event);
        }
    }

    /// QC reviews, approvals and selections: the evidence the policies count. `false` for other
    /// events.
    fn apply_evidence(&mut self, body: &Body, event: &Applied<'_>) -> bool {
        let (event_id, occurred_at_us, made_at) = (event.id, event.occurred_at_us, event.made_at);
        let (role, of_client, signer) = (event.role, event.of_client, event.signer);
        match body {
            Body::QcReviewRecorded(b) => {
                self.insert(Namespace::QcReview, &b.review_id, &Record::Plain, made_at, SourceType::DigitalCreation);
                let review = Review {
                    event: event_id.clone(),
                    review: b.review_id.clone(),
                    asset: b.asset.clone(),
                    verdict: b.verdict,
                    results: b.checks.iter().map(|c| (c.check, c.result)).collect(),
                    medium: b.proof_medium,
                    scale_percent: b.proof_scale_percent,
                    occurred_at_us,
                };
                self.reviews.entry(b.digest.clone()).or_default().push(review);
                self.guarded.insert(event_id.clone(), Guard::Evidence { author: signer.actor.clone() });
            }
            Body::ApprovalRecorded(b) => {
                self.insert(Namespace::Approval, &b.approval_id, &Record::Plain, made_at, SourceType::DigitalCreation);
                let approval = Approval {
                    event: event_id.clone(),
                    approval: b.approval_id.clone(),
                    asset: b.asset.clone(),
                    actor: signer.actor.clone(),
                    role,
                    of_client,
                    decision: b.decision,
                    occurred_at_us,
                };
                self.approvals.entry(b.digest.clone()).or_default().push(approval);
                self.guarded.insert(event_id.clone(), Guard::Evidence { author: signer.actor.clone() });
            }
            Body::SelectionMade(b) => {
                self.insert(
                    Namespace::Selection,
                    &b.selection_id,
                    &Record::Plain,
                    made_at,
                    SourceType::DigitalCreation,
                );
                if role == Some(Role::CreativeDirector) {
                    let decisions = b.selected.iter().map(|a| (a, false)).chain(b.rejected.iter().map(|a| (a, true)));
                    for (asset, rejected) in decisions {
                        let decision = DirectorDecision {
                            event: event_id.clone(),
                            selection: b.selection_id.clone(),
                            rejected,
                            occurred_at_us,
                        };
                        self.director_decisions
                            .entry(record_key(Namespace::Asset, asset.as_str()))
                            .or_default()
                            .push(decision);
                    }
                    self.guarded.insert(event_id.clone(), Guard::Evidence { author: signer.actor.clone() });
                }
            }
            _ => return false,
        }
        true
    }

    /// Project creation and adoption, membership, policy and retractions. `false` for other
    /// events.
    fn apply_governance(&mut self, payload: &Payload, event: &Applied<'_>, facts: Facts) -> bool {
        let (event_id, signer) = (event.id, event.signer);
        match &payload.body {
            Body::ProjectCreated(b) => {
                self.content_type = Some(b.content_type);
                self.client = b.client_organization.clone();
                self.rule_set = rule_set_of(payload);
                self.guarded.insert(event_id.clone(), Guard::Governance);
                if self.client.is_some() && signer.ledger_role == Some(Role::Producer) {
                    self.members.insert(signer.actor.clone(), Membership::Member(Role::Producer));
                }
            }
            Body::ProjectAdopted(b) => {
                self.client = Some(b.client_organization.clone());
                self.rule_set = rule_set_of(payload);
                self.guarded.insert(event_id.clone(), Guard::Governance);
            }
            Body::MemberAdded(b) => {
                self.members.insert(b.actor_id.clone(), Membership::Member(b.role));
                self.guarded.insert(event_id.clone(), Guard::Governance);
            }
            Body::MemberRemoved(b) => {
                self.members.insert(b.actor_id.clone(), Membership::Removed);
                self.guarded.insert(event_id.clone(), Guard::Governance);
            }
            Body::PolicyAmended(b) => {
                self.amendments.extend(b.rules.iter().map(|r| (event_id.clone(), r.clone())));
                self.guarded.insert(event_id.clone(), Guard::Governance);
            }
            Body::ConfidentialErased(_) => {
                self.guarded.insert(event_id.clone(), Guard::Governance);
            }
            Body::EventRetracted(b) => {
                self.retracted.insert(b.event_id.clone());
                if let Some(version) = facts.retracted_version {
                    self.retracted_versions.insert(short_version(version), b.event_id.clone());
                }
                self.guarded.insert(event_id.clone(), Guard::Governance);
            }
            _ => return false,
        }
        true
    }

    /// Everything else: the records an event makes, what they are made from and restricted by,
    /// their bytes, and brief revisions.
    fn apply_records(&mut self, base: Option<&ProjectState>, other: &Body, event: &Applied<'_>) {
        let (event_id, made_at) = (event.id, event.made_at);
        if let Body::BriefRevised(b) = other {
            if let Some(formats) = &b.deliverable_formats {
                self.insert(
                    Namespace::Brief,
                    &b.brief_id,
                    &Record::Brief { formats: formats.clone() },
                    made_at,
                    SourceType::DigitalCreation,
                );
                let key = record_key(Namespace::Brief, b.brief_id.as_str());
                self.brief_history.entry(key).or_default().push((event_id.clone(), formats.clone()));
            }
        }
        if let Body::ReferenceAdded(b) = other {
            if let Some(digest) = &b.digest {
                let only = b.rights.reproduction == Some(Reproduction::ReferenceOnly);
                self.reference_bytes.insert(bytes_key(&digest.bytes()), (b.reference_id.clone(), only));
            }
        }
        if let Body::AssetImported(b) = other {
            self.imported_bytes.insert(bytes_key(&b.asset.digest.bytes()), b.asset.asset_id.clone());
        }
        if let Body::BriefRecorded(b) = other {
            let key = record_key(Namespace::Brief, b.brief_id.as_str());
            self.brief_history.entry(key).or_default().push((event_id.clone(), b.deliverable_formats.clone()));
        }
        let restriction = self.restriction_made(base, other);
        // Only the kinds that make assets have a type to derive.
        let makes_assets = matches!(
            other,
            Body::GenerationRecorded(_) | Body::PostEditApplied(_) | Body::DeliveryRecorded(_) | Body::AssetImported(_)
        );
        let term = if makes_assets { self.term_made(base, other) } else { SourceType::DigitalCreation };
        for (ns, id, record) in created_records(other) {
            self.insert(ns, id, &record, made_at, term);
            // A delivered variant with bytes already recorded (its master's, or an earlier
            // variant's: the rules allow no others) adds nothing to weigh for them.
            let repeated_variant = matches!(other, Body::DeliveryRecorded(_));
            if let Record::Asset { digest } = &record {
                self.index_bytes(base, record_key(ns, id.as_str()), &digest.bytes(), repeated_variant);
            }
            if ns == Namespace::Asset {
                let key = record_key(ns, id.as_str());
                let parents = parents_of(other);
                if !parents.is_empty() {
                    self.parents.insert(key, parents.into_iter().cloned().collect());
                }
            }
            if let Some(restriction) = &restriction {
                if matches!(
                    ns,
                    Namespace::Asset
                        | Namespace::Prompt
                        | Namespace::ModelVersion
                        | Namespace::Reference
                        | Namespace::Pipeline
                ) {
                    self.restricted.insert(record_key(ns, id.as_str()), restriction.clone());
                }
            }
        }
        if let Body::PostEditApplied(b) = other {
            if let Some(base_input) = b.inputs.first() {
                let supersession = Supersession {
                    event: event_id.clone(),
                    edit: b.edit_id.clone(),
                    output: b.output.asset_id.clone(),
                };
                self.superseded_by
                    .entry(record_key(Namespace::Asset, base_input.as_str()))
                    .or_default()
                    .push(supersession);
            }
        }
    }

    /// Remembers which asset holds which bytes: the first asset of each, then the others.
    fn index_bytes(&mut self, base: Option<&ProjectState>, asset: IdKey, digest: &[u8; 32], variant: bool) {
        let key = bytes_key(digest);
        let known = self.bytes.contains_key(&key) || base.is_some_and(|b| b.bytes.contains_key(&key));
        if known && variant {
            return;
        }
        if known {
            self.bytes_more.entry(key).or_default().push(asset);
        } else {
            self.bytes.insert(key, asset);
        }
    }

    /// The digital source type of the assets the event makes, from the types of its inputs.
    fn term_made(&self, base: Option<&ProjectState>, body: &Body) -> SourceType {
        let term_of = |asset: &str| {
            let key = record_key(Namespace::Asset, asset);
            self.assets.get(&key).or_else(|| base.and_then(|b| b.assets.get(&key))).map(|a| a.term)
        };
        let inputs: Vec<SourceType> =
            inputs_of(body).into_iter().map(|i| term_of(i).unwrap_or(SourceType::DigitalCreation)).collect();
        made_by(body, &inputs).0
    }

    /// The restriction a record the event makes inherits or has of its own: the first restricted
    /// thing it is made from, or its own licence or rights.
    fn restriction_made(&self, base: Option<&ProjectState>, body: &Body) -> Option<Restriction> {
        let lookup = |ns: Namespace, id: &Id| -> Option<Restriction> {
            let key = record_key(ns, id.as_str());
            self.restricted.get(&key).or_else(|| base.and_then(|b| b.restricted.get(&key))).cloned()
        };
        let inherited = |from: &[(Namespace, &Id)]| from.iter().find_map(|(ns, id)| lookup(*ns, id));
        use Namespace as N;
        match body {
            Body::ModelVersionRegistered(b) if b.license_use == Some(Usage::NonCommercial) => Some(Restriction {
                origin: format!(
                    "model version `{}`, whose licence `{}` is non-commercial",
                    b.model_version_id, b.license
                ),
            }),
            Body::AssetImported(b) if b.rights.reproduction == Some(Reproduction::ReferenceOnly) => Some(Restriction {
                origin: format!("asset `{}`, imported for reference only (no reproduction)", b.asset.asset_id),
            }),
            Body::ReferenceAdded(b) if b.rights.reproduction == Some(Reproduction::ReferenceOnly) => {
                Some(Restriction {
                    origin: format!("reference `{}`, which is for reference only (no reproduction)", b.reference_id),
                })
            }
            // A prompt passes on the references it uses, not those of the prompt it rewrites:
            // a parent's text is not a reproduction of what the parent referenced.
            Body::PromptAuthored(b) => {
                let from: Vec<(Namespace, &Id)> = b.references.iter().map(|r| (N::Reference, r)).collect();
                inherited(&from)
            }
            // A pipeline runs its model versions: it carries their licences to what it makes.
            Body::PipelineDefined(b) => {
                let from: Vec<(Namespace, &Id)> = b.model_versions.iter().map(|m| (N::ModelVersion, m)).collect();
                inherited(&from)
            }
            Body::GenerationRecorded(b) => {
                let mut from = vec![(N::ModelVersion, &b.model_version), (N::Prompt, &b.prompt)];
                from.extend(b.pipeline.iter().map(|p| (N::Pipeline, p)));
                from.extend(b.input_assets.iter().map(|a| (N::Asset, a)));
                inherited(&from)
            }
            Body::PostEditApplied(b) => {
                let mut from: Vec<(Namespace, &Id)> = b.model_version.iter().map(|m| (N::ModelVersion, m)).collect();
                from.extend(b.inputs.iter().map(|a| (N::Asset, a)));
                inherited(&from)
            }
            Body::DeliveryRecorded(b) => inherited(&[(N::Asset, &b.master_asset)]),
            _ => None,
        }
    }
}

/// The version of the rule sets a project created or adopted by this event is judged by: events
/// that name their ledger (every new one) bring version 3, where evidence against bytes follows
/// them; those written before keep the version their log was written under.
fn rule_set_of(payload: &Payload) -> u32 {
    if payload.ledger.is_some() {
        3
    } else {
        2
    }
}

/// The assets an asset made by this event is made from.
fn parents_of(body: &Body) -> Vec<&Id> {
    match body {
        Body::GenerationRecorded(b) => b.input_assets.iter().collect(),
        Body::PostEditApplied(b) => b.inputs.iter().collect(),
        Body::DeliveryRecorded(b) => vec![&b.master_asset],
        _ => vec![],
    }
}

/// The records one event creates, by namespace: used by `apply` and by the uniqueness rules.
/// What a record an event makes is made from, by namespace: a generation's model version,
/// prompt, pipeline and input assets; a post edit's inputs and model version; a delivered
/// variant's master; a prompt's parent prompt, references and brief; a pipeline's model versions.
/// The edges an asset's lineage follows back, and that a bundle must hold the making entries of.
pub fn derivation_refs(body: &Body) -> Vec<(Namespace, &Id)> {
    use Namespace as N;
    let mut out = Vec::new();
    match body {
        Body::GenerationRecorded(b) => {
            out.push((N::ModelVersion, &b.model_version));
            out.push((N::Prompt, &b.prompt));
            out.extend(b.pipeline.iter().map(|p| (N::Pipeline, p)));
            out.extend(b.input_assets.iter().map(|a| (N::Asset, a)));
        }
        Body::PostEditApplied(b) => {
            out.extend(b.inputs.iter().map(|a| (N::Asset, a)));
            out.extend(b.model_version.iter().map(|m| (N::ModelVersion, m)));
        }
        Body::DeliveryRecorded(b) => out.push((N::Asset, &b.master_asset)),
        Body::PromptAuthored(b) => {
            out.extend(b.parent_prompt.iter().map(|p| (N::Prompt, p)));
            out.extend(b.references.iter().map(|r| (N::Reference, r)));
            out.extend(b.brief_id.iter().map(|r| (N::Brief, r)));
        }
        Body::PipelineDefined(b) => out.extend(b.model_versions.iter().map(|m| (N::ModelVersion, m))),
        _ => {}
    }
    out
}

pub fn created_records(body: &Body) -> Vec<(Namespace, &Id, Record)> {
    use Namespace as N;
    let asset = |o: &AssetOutput| Record::Asset { digest: o.digest.clone() };
    match body {
        Body::BriefRecorded(b) => {
            vec![(N::Brief, &b.brief_id, Record::Brief { formats: b.deliverable_formats.clone() })]
        }
        Body::ReferenceAdded(b) => vec![(N::Reference, &b.reference_id, Record::Plain)],
        Body::AssetImported(b) => vec![(N::Asset, &b.asset.asset_id, asset(&b.asset))],
        Body::ModelVersionRegistered(b) => {
            vec![(N::ModelVersion, &b.model_version_id, Record::Plain)]
        }
        Body::PipelineDefined(b) => vec![(N::Pipeline, &b.pipeline_id, Record::Plain)],
        Body::PromptAuthored(b) => vec![(N::Prompt, &b.prompt_id, Record::Plain)],
        Body::GenerationRecorded(b) => {
            let mut out = vec![(N::Generation, &b.generation_id, Record::Plain)];
            out.extend(b.outputs.iter().map(|o| (N::Asset, &o.asset_id, asset(o))));
            out
        }
        Body::SelectionMade(b) => vec![(N::Selection, &b.selection_id, Record::Plain)],
        Body::PostEditApplied(b) => {
            vec![(N::PostEdit, &b.edit_id, Record::Plain), (N::Asset, &b.output.asset_id, asset(&b.output))]
        }
        Body::QcReviewRecorded(b) => vec![(N::QcReview, &b.review_id, Record::Plain)],
        Body::ApprovalRecorded(b) => vec![(N::Approval, &b.approval_id, Record::Plain)],
        Body::DeliveryRecorded(b) => {
            vec![(N::Delivery, &b.delivery_id, Record::Plain), (N::Asset, &b.variant.asset_id, asset(&b.variant))]
        }
        _ => vec![],
    }
}

/// Every asset an event names, as subject, input or output, in the order it names them.
/// The assets an event records the bytes of: what it imports, generates, edits into being or
/// delivers — each with its digest.
pub fn recorded_outputs(body: &Body) -> Vec<&AssetOutput> {
    match body {
        Body::GenerationRecorded(b) => b.outputs.iter().collect(),
        Body::PostEditApplied(b) => vec![&b.output],
        Body::DeliveryRecorded(b) => vec![&b.variant],
        Body::AssetImported(b) => vec![&b.asset],
        _ => vec![],
    }
}

/// The index key under which the store finds the entries recording bytes of `digest`: `#` and
/// the digest's first 64 bits in hex, which no asset id can be (ids begin with a letter or a
/// digit). Short, because every entry that records bytes stores it; a lookup reads the entries
/// found and keeps those whose digest is the one asked (a recorded digest is a claim anyone may
/// repeat, so a longer key would keep out nothing a shorter one lets in).
pub fn bytes_mention(digest: &Digest) -> String {
    // `sha256:` is 7 bytes; the next 16 are the first 64 bits in hex.
    format!("#{}", &digest.as_str()[7..23])
}

pub fn named_assets(body: &Body) -> Vec<&Id> {
    match body {
        Body::GenerationRecorded(b) => b.input_assets.iter().chain(b.outputs.iter().map(|o| &o.asset_id)).collect(),
        Body::SelectionMade(b) => b.selected.iter().chain(&b.rejected).collect(),
        Body::PostEditApplied(b) => b.inputs.iter().chain([&b.output.asset_id]).collect(),
        Body::QcReviewRecorded(b) => vec![&b.asset],
        Body::ApprovalRecorded(b) => vec![&b.asset],
        Body::DeliveryRecorded(b) => vec![&b.master_asset, &b.variant.asset_id],
        Body::NoteAdded(b) => b.assets.iter().collect(),
        Body::AssetImported(b) => vec![&b.asset.asset_id],
        _ => vec![],
    }
}
