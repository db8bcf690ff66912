//! A [`LedgerState`] as bytes and back ([`super::codec`]): what a start reads instead of
//! replaying the log up to the point the state was sealed at. Every field is written, in a
//! fixed order, maps in the order of their keys.

use super::codec::{In, Out, Unsealed};
use super::*;

/// The least bytes of an encoded id (its length).
const ID: usize = 8;

impl LedgerState {
    pub fn seal(&self, out: &mut Out) {
        seal_system(&self.system, out);
        out.sorted(self.projects.iter(), |out, id, project| {
            out.str(id.as_str());
            seal_project(project, out);
        });
    }

    pub fn unseal(input: &mut In<'_>) -> Result<LedgerState, Unsealed> {
        let system = unseal_system(input)?;
        let n = input.len(ID)?;
        let mut projects = HashMap::with_capacity(n);
        for _ in 0..n {
            let id = input.parsed(ProjectId::parse)?;
            projects.insert(id, unseal_project(input)?);
        }
        Ok(LedgerState { system, projects })
    }
}

fn seal_system(system: &SystemState, out: &mut Out) {
    out.sorted(system.organizations.iter(), |out, id, org| {
        out.str(id.as_str());
        out.str(org.display_name.as_str());
        out.term(&org.kind);
    });
    out.sorted(system.actors.iter(), |out, id, actor| {
        out.str(id.as_str());
        out.str(actor.display_name.as_str());
        out.term(&actor.role);
        out.sorted(actor.keys.iter(), |out, key, state| {
            out.str(key.as_str());
            out.raw(state.public_key.bytes());
            out.bool(state.revoked);
        });
        out.opt(actor.organization.as_ref(), |out, o| out.str(o.as_str()));
    });
    out.sorted(system.key_owner.iter(), |out, key, actor| {
        out.str(key.as_str());
        out.str(actor.as_str());
    });
}

fn unseal_system(input: &mut In<'_>) -> Result<SystemState, Unsealed> {
    let mut system = SystemState::default();
    for _ in 0..input.len(ID)? {
        let id = input.parsed(OrganizationId::parse)?;
        let display_name = input.parsed(Label::parse)?;
        system.organizations.insert(id, OrganizationState { display_name, kind: input.term()? });
    }
    for _ in 0..input.len(ID)? {
        let id = input.parsed(ActorId::parse)?;
        let display_name = input.parsed(Label::parse)?;
        let role = input.term()?;
        let mut keys = BTreeMap::new();
        for _ in 0..input.len(ID)? {
            let key = input.parsed(KeyId::parse)?;
            let public_key = PublicKeyBytes::from_bytes(input.hash()?).map_err(Unsealed::Value)?;
            keys.insert(key, KeyState { public_key, revoked: input.bool()? });
        }
        let organization = input.opt(|i| i.parsed(OrganizationId::parse))?;
        system.actors.insert(id, ActorState { display_name, role, keys, organization });
    }
    for _ in 0..input.len(ID)? {
        let key = input.parsed(KeyId::parse)?;
        system.key_owner.insert(key, input.parsed(ActorId::parse)?);
    }
    Ok(system)
}

fn labels(out: &mut Out, labels: &[Label]) {
    out.seq(labels, |out, l| out.str(l.as_str()));
}

fn ids(out: &mut Out, ids: &[Id]) {
    out.seq(ids, |out, id| out.str(id.as_str()));
}

fn seal_project(p: &ProjectState, out: &mut Out) {
    out.opt(p.content_type.as_ref(), |out, c| out.term(c));
    out.opt(p.client.as_ref(), |out, c| out.str(c.as_str()));
    out.keymap(&p.records, |out, k, ()| out.raw(k));
    out.keymap(&p.assets, |out, k, a| {
        out.raw(k);
        out.raw(&a.digest);
        out.u32(a.made_at);
        out.u8(a.term.index());
    });
    out.sorted(p.briefs.iter(), |out, k, formats| {
        out.raw(k);
        labels(out, formats);
    });
    out.sorted(p.brief_history.iter(), |out, k, history| {
        out.raw(k);
        out.seq(history, |out, (event, formats)| {
            out.str(event.as_str());
            labels(out, formats);
        });
    });
    out.sorted(p.retracted.iter().map(|e| (e, ())), |out, e, ()| out.str(e.as_str()));
    out.sorted(p.retracted_versions.iter(), |out, v, e| {
        out.u32(*v);
        out.str(e.as_str());
    });
    out.sorted(p.reviews.iter(), |out, digest, reviews| {
        out.str(digest.as_str());
        out.seq(reviews, seal_review);
    });
    out.sorted(p.approvals.iter(), |out, digest, approvals| {
        out.str(digest.as_str());
        out.seq(approvals, seal_approval);
    });
    out.sorted(p.members.iter(), |out, actor, membership| {
        out.str(actor.as_str());
        match membership {
            Membership::Member(role) => out.opt(Some(role), |out, r| out.term(r)),
            Membership::Removed => out.opt(None::<&Role>, |out, r| out.term(r)),
        }
    });
    out.seq(&p.amendments, |out, (event, rule)| {
        out.str(event.as_str());
        out.term(rule);
    });
    out.sorted(p.parents.iter(), |out, k, parents| {
        out.raw(k);
        ids(out, parents);
    });
    out.sorted(p.restricted.iter(), |out, k, r| {
        out.raw(k);
        out.str(&r.origin);
    });
    out.sorted(p.director_decisions.iter(), |out, k, decisions| {
        out.raw(k);
        out.seq(decisions, |out, d| {
            out.str(d.event.as_str());
            out.str(d.selection.as_str());
            out.bool(d.rejected);
            out.i64(d.occurred_at_us);
        });
    });
    out.sorted(p.superseded_by.iter(), |out, k, edits| {
        out.raw(k);
        out.seq(edits, |out, s| {
            out.str(s.event.as_str());
            out.str(s.edit.as_str());
            out.str(s.output.as_str());
        });
    });
    out.sorted(p.guarded.iter(), |out, event, guard| {
        out.str(event.as_str());
        match guard {
            Guard::Governance => out.opt(None::<&ActorId>, |out, a| out.str(a.as_str())),
            Guard::Evidence { author } => out.opt(Some(author), |out, a| out.str(a.as_str())),
        }
    });
    out.u32(p.rule_set);
    out.keymap(&p.bytes, |out, k, first| {
        out.raw(k);
        out.raw(first);
    });
    out.sorted(p.bytes_more.iter(), |out, k, more| {
        out.raw(k);
        out.seq(more, |out, m| out.raw(m));
    });
    out.sorted(p.reference_bytes.iter(), |out, k, (id, reference_only)| {
        out.raw(k);
        out.str(id.as_str());
        out.bool(*reference_only);
    });
    out.sorted(p.imported_bytes.iter(), |out, k, id| {
        out.raw(k);
        out.str(id.as_str());
    });
}

fn seal_review(out: &mut Out, r: &Review) {
    out.str(r.event.as_str());
    out.str(r.review.as_str());
    out.str(r.asset.as_str());
    out.term(&r.verdict);
    out.seq(&r.results, |out, (check, result)| {
        out.term(check);
        out.term(result);
    });
    out.term(&r.medium);
    out.opt(r.scale_percent.as_ref(), |out, s| out.u16(*s));
    out.i64(r.occurred_at_us);
}

fn seal_approval(out: &mut Out, a: &Approval) {
    out.str(a.event.as_str());
    out.str(a.approval.as_str());
    out.str(a.asset.as_str());
    out.str(a.actor.as_str());
    out.opt(a.role.as_ref(), |out, r| out.term(r));
    out.bool(a.of_client);
    out.term(&a.decision);
    out.i64(a.occurred_at_us);
}

fn unseal_labels(input: &mut In<'_>) -> Result<Vec<Label>, Unsealed> {
    input.seq(ID, |i| i.parsed(Label::parse))
}

fn unseal_ids(input: &mut In<'_>) -> Result<Vec<Id>, Unsealed> {
    input.seq(ID, |i| i.parsed(Id::parse))
}

/// A map of the entries read by `entry`, each at least `least` bytes.
fn unseal_map<K: std::hash::Hash + Eq, V, M: FromIterator<(K, V)>>(
    input: &mut In<'_>,
    least: usize,
    entry: impl FnMut(&mut In<'_>) -> Result<(K, V), Unsealed>,
) -> Result<M, Unsealed> {
    Ok(input.seq(least, entry)?.into_iter().collect())
}

fn unseal_project(input: &mut In<'_>) -> Result<ProjectState, Unsealed> {
    let mut p = ProjectState {
        content_type: input.opt(|i| i.term())?,
        client: input.opt(|i| i.parsed(OrganizationId::parse))?,
        ..ProjectState::default()
    };
    p.records = KeyMap::from_entries(input.seq(16, |i| Ok((i.key()?, ())))?);
    p.assets = KeyMap::from_entries(input.seq(53, |i| {
        let key = i.key()?;
        let digest = i.hash()?;
        let made_at = i.u32()?;
        let index = i.u8()?;
        let term = SourceType::from_index(index).ok_or(Unsealed::Tag(index))?;
        Ok((key, AssetRecord { digest, made_at, term }))
    })?);
    p.briefs = unseal_map(input, 24, |i| Ok((i.key()?, unseal_labels(i)?)))?;
    p.brief_history = unseal_map(input, 24, |i| {
        let key = i.key()?;
        Ok((key, i.seq(16, |i| Ok((i.parsed(EventId::parse)?, unseal_labels(i)?)))?))
    })?;
    p.retracted = input.seq(ID, |i| i.parsed(EventId::parse))?.into_iter().collect();
    p.retracted_versions = unseal_map(input, 12, |i| Ok((i.u32()?, i.parsed(EventId::parse)?)))?;
    p.reviews = unseal_map(input, 16, |i| Ok((i.parsed(Digest::parse)?, i.seq(40, unseal_review)?)))?;
    p.approvals = unseal_map(input, 16, |i| Ok((i.parsed(Digest::parse)?, i.seq(40, unseal_approval)?)))?;
    p.members = unseal_map(input, 9, |i| {
        let actor = i.parsed(ActorId::parse)?;
        let membership = i.opt(|i| i.term())?.map_or(Membership::Removed, Membership::Member);
        Ok((actor, membership))
    })?;
    p.amendments = input.seq(16, |i| Ok((i.parsed(EventId::parse)?, i.term()?)))?;
    p.parents = unseal_map(input, 24, |i| Ok((i.key()?, unseal_ids(i)?)))?;
    p.restricted = unseal_map(input, 24, |i| Ok((i.key()?, Restriction { origin: i.str()?.to_owned() })))?;
    p.director_decisions = unseal_map(input, 24, |i| {
        let key = i.key()?;
        let decisions = i.seq(25, |i| {
            Ok(DirectorDecision {
                event: i.parsed(EventId::parse)?,
                selection: i.parsed(Id::parse)?,
                rejected: i.bool()?,
                occurred_at_us: i.i64()?,
            })
        })?;
        Ok((key, decisions))
    })?;
    p.superseded_by = unseal_map(input, 24, |i| {
        let key = i.key()?;
        let edits = i.seq(24, |i| {
            Ok(Supersession {
                event: i.parsed(EventId::parse)?,
                edit: i.parsed(Id::parse)?,
                output: i.parsed(Id::parse)?,
            })
        })?;
        Ok((key, edits))
    })?;
    p.guarded = unseal_map(input, 9, |i| {
        let event = i.parsed(EventId::parse)?;
        let guard = i.opt(|i| i.parsed(ActorId::parse))?.map_or(Guard::Governance, |author| Guard::Evidence { author });
        Ok((event, guard))
    })?;
    p.rule_set = input.u32()?;
    p.bytes = KeyMap::from_entries(input.seq(32, |i| Ok((i.key()?, i.key()?)))?);
    p.bytes_more = unseal_map(input, 24, |i| Ok((i.key()?, i.seq(16, |i| i.key())?)))?;
    p.reference_bytes = unseal_map(input, 25, |i| Ok((i.key()?, (i.parsed(Id::parse)?, i.bool()?))))?;
    p.imported_bytes = unseal_map(input, 24, |i| Ok((i.key()?, i.parsed(Id::parse)?)))?;
    Ok(p)
}

fn unseal_review(i: &mut In<'_>) -> Result<Review, Unsealed> {
    Ok(Review {
        event: i.parsed(EventId::parse)?,
        review: i.parsed(Id::parse)?,
        asset: i.parsed(Id::parse)?,
        verdict: i.term()?,
        results: i.seq(16, |i| Ok((i.term()?, i.term()?)))?,
        medium: i.term()?,
        scale_percent: i.opt(|i| i.u16())?,
        occurred_at_us: i.i64()?,
    })
}

fn unseal_approval(i: &mut In<'_>) -> Result<Approval, Unsealed> {
    Ok(Approval {
        event: i.parsed(EventId::parse)?,
        approval: i.parsed(Id::parse)?,
        asset: i.parsed(Id::parse)?,
        actor: i.parsed(ActorId::parse)?,
        role: i.opt(|i| i.term())?,
        of_client: i.bool()?,
        decision: i.term()?,
        occurred_at_us: i.i64()?,
    })
}
