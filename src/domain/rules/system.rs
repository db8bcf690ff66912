//! The rules of the system stream: organisations, actors and their keys.

use super::*;

pub(super) fn decide_system(view: &View<'_>, body: &Body) -> Result<(), Refusal> {
    let system = view.system();
    // `field`: where the keys are (`body.keys` of a registration, `body.key` of an added key).
    let new_keys = |field: &str, keys: &[&PublicKey]| -> Result<(), Refusal> {
        let mut seen = HashSet::new();
        for key in keys {
            if system.key_owner(&key.key_id).is_some() || !seen.insert(&key.key_id) {
                return Err(Refusal::Invalid { field: field.into(), rule: "key ids are unique across the ledger" });
            }
        }
        // One public key, one registration: under a new id the ledger's own key would sign as
        // an admin, and another actor's key would make its signatures two actors'.
        for (i, key) in keys.iter().enumerate() {
            let taken = system.actors().any(|(_, actor)| actor.keys.values().any(|k| k.public_key == key.public_key))
                || keys[..i].iter().any(|k| k.public_key == key.public_key);
            if taken {
                return Err(Refusal::Invalid {
                    field: field.into(),
                    rule: "the public key is registered already (the ledger's own or an actor's): a key is registered once",
                });
            }
        }
        Ok(())
    };
    match body {
        Body::OrganizationRegistered(b) => {
            if system.organization(&b.organization_id).is_some() {
                return Err(invalid("body.organization_id", "an organisation of this id exists already"));
            }
            Ok(())
        }
        Body::ActorRegistered(b) => {
            if system.actor(&b.actor_id).is_some() {
                return Err(Refusal::ActorExists { actor: b.actor_id.clone() });
            }
            if let Some(org) = &b.organization {
                if system.organization(org).is_none() {
                    return Err(Refusal::UnknownOrganization {
                        field: "body.organization".into(),
                        organization: org.clone(),
                    });
                }
            }
            non_empty("body.keys", &b.keys)?;
            new_keys("body.keys", &b.keys.iter().collect::<Vec<_>>())
        }
        Body::KeyAdded(b) => {
            if system.actor(&b.actor_id).is_none() {
                return Err(Refusal::UnknownActor { actor: b.actor_id.clone() });
            }
            if b.actor_id.as_str() == crate::domain::genesis::LEDGER_ACTOR {
                return Err(invalid(
                    "body.actor_id",
                    "the ledger's actor has the genesis key only: its keys sign nothing else",
                ));
            }
            new_keys("body.key", &[&b.key])
        }
        Body::KeyRevoked(b) => {
            let actor = system.actor(&b.actor_id).ok_or_else(|| Refusal::UnknownActor { actor: b.actor_id.clone() })?;
            match actor.keys.get(&b.key_id) {
                None => Err(Refusal::Invalid { field: "body.key_id".into(), rule: "the key must belong to the actor" }),
                Some(k) if k.revoked => Err(Refusal::RevokedKey { key: b.key_id.clone() }),
                Some(_) => Ok(()),
            }
        }
        _ => Ok(()),
    }
}
