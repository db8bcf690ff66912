//! Organisations, actors and their keys, from the system stream; who signed an event.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub struct KeyState {
    pub public_key: PublicKeyBytes,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActorState {
    pub display_name: Label,
    pub role: Role,
    pub keys: BTreeMap<KeyId, KeyState>,
    /// `None` for the bootstrap admin and actors registered before organisations existed.
    pub organization: Option<OrganizationId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationState {
    pub display_name: Label,
    pub kind: OrganizationKind,
}

/// Organisations, actors and their keys, from the system stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemState {
    pub(super) organizations: BTreeMap<OrganizationId, OrganizationState>,
    pub(super) actors: BTreeMap<ActorId, ActorState>,
    pub(super) key_owner: HashMap<KeyId, ActorId>,
}

impl SystemState {
    /// The state before any event: only the ledger itself, whose key signs the genesis entry.
    pub fn genesis(ledger_actor: ActorId, ledger_key_id: KeyId, ledger_key: PublicKeyBytes) -> Self {
        let mut state = SystemState::default();
        state.register(
            ledger_actor,
            Label::parse("lineage ledger").expect("constant label"),
            Role::Admin,
            &[PublicKey { key_id: ledger_key_id, public_key: ledger_key }],
            None,
        );
        state
    }

    /// The state with an organisation registered as if by an event: for tests whose genesis
    /// needs a client to create projects for.
    #[cfg(test)]
    pub fn with_organization(mut self, id: &str, kind: OrganizationKind) -> Self {
        let organization = OrganizationState { display_name: Label::parse(id).expect("a label"), kind };
        self.organizations.insert(OrganizationId::parse(id).expect("an id"), organization);
        self
    }

    pub fn actor(&self, id: &ActorId) -> Option<&ActorState> {
        self.actors.get(id)
    }
    pub fn organization(&self, id: &OrganizationId) -> Option<&OrganizationState> {
        self.organizations.get(id)
    }
    pub fn organizations(&self) -> impl Iterator<Item = (&OrganizationId, &OrganizationState)> {
        self.organizations.iter()
    }
    pub fn actors(&self) -> impl Iterator<Item = (&ActorId, &ActorState)> {
        self.actors.iter()
    }
    /// Whether an actor is a person rather than a service: every actor but an integration (an
    /// actor the system stream does not know is taken as a person).
    pub fn is_person(&self, actor: &ActorId) -> bool {
        self.actor(actor).is_none_or(|a| a.role != Role::Integration)
    }
    pub fn key_owner(&self, key: &KeyId) -> Option<&ActorId> {
        self.key_owner.get(key)
    }
    /// The key, its owner and the owner's state.
    pub fn key(&self, key: &KeyId) -> Option<(&ActorId, &ActorState, &KeyState)> {
        let owner = self.key_owner.get(key)?;
        let actor = self.actors.get(owner)?;
        Some((owner, actor, actor.keys.get(key)?))
    }

    fn register(
        &mut self,
        id: ActorId,
        display_name: Label,
        role: Role,
        keys: &[PublicKey],
        organization: Option<OrganizationId>,
    ) {
        let mut map = BTreeMap::new();
        for key in keys {
            map.insert(key.key_id.clone(), KeyState { public_key: key.public_key.clone(), revoked: false });
            self.key_owner.insert(key.key_id.clone(), id.clone());
        }
        self.actors.insert(id, ActorState { display_name, role, keys: map, organization });
    }

    pub fn apply(&mut self, body: &Body) {
        match body {
            Body::OrganizationRegistered(b) => {
                let organization = OrganizationState { display_name: b.display_name.clone(), kind: b.kind };
                self.organizations.insert(b.organization_id.clone(), organization);
            }
            Body::ActorRegistered(b) => {
                self.register(b.actor_id.clone(), b.display_name.clone(), b.role, &b.keys, b.organization.clone())
            }
            Body::KeyAdded(b) => {
                if let Some(actor) = self.actors.get_mut(&b.actor_id) {
                    actor.keys.insert(
                        b.key.key_id.clone(),
                        KeyState { public_key: b.key.public_key.clone(), revoked: false },
                    );
                    self.key_owner.insert(b.key.key_id.clone(), b.actor_id.clone());
                }
            }
            Body::KeyRevoked(b) => {
                if let Some(key) = self.actors.get_mut(&b.actor_id).and_then(|a| a.keys.get_mut(&b.key_id)) {
                    key.revoked = true;
                }
            }
            _ => {}
        }
    }
}

/// Who signed an event being applied, as the system stream knows them.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    pub actor: &'a ActorId,
    /// The role the actor was registered with; `None` for an actor the system stream does not
    /// know (only in a partial view, such as an evidence bundle's).
    pub ledger_role: Option<Role>,
    pub organization: Option<&'a OrganizationId>,
}

impl<'a> Signer<'a> {
    pub fn of(system: &'a SystemState, actor: &'a ActorId) -> Signer<'a> {
        let state = system.actor(actor);
        Signer { actor, ledger_role: state.map(|a| a.role), organization: state.and_then(|a| a.organization.as_ref()) }
    }
}
