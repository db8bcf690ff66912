//! Registering organisations and actors (signed with an admin's key) and managing a project's
//! members (signed with a producer's key), so that no one hand-writes a system payload.

use super::admin::expect_ok;
use super::client::Signer;
use super::{fail, ServerArgs};
use crate::crypto::keys::KeyFile;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum OrgCommand {
    /// Register an organisation (signed with an admin's key).
    Add {
        /// Its id: lowercase letters, digits and hyphens, e.g. `aurora-outdoor`.
        id: String,
        /// Its name as people read it.
        #[arg(long)]
        name: String,
        /// `agency`, `client` or `vendor`.
        #[arg(long)]
        kind: String,
    },
}

#[derive(clap::Subcommand)]
pub enum ActorCommand {
    /// Register a person or a pipeline with the key `lineage keygen` made for it (signed with an
    /// admin's key): its id and key id are the key file's.
    Add {
        /// The actor's key file (`lineage keygen --actor ID --key-id KEY --out FILE`).
        #[arg(long)]
        key: PathBuf,
        /// Its name as people read it.
        #[arg(long)]
        name: String,
        /// Its role: `producer`, `creative_director`, `ai_artist`, `post_artist`,
        /// `qc_reviewer`, `brand_compliance`, `client_approver`, `integration` or `admin`.
        #[arg(long)]
        role: String,
        /// The organisation it belongs to.
        #[arg(long)]
        organization: String,
    },
}

#[derive(clap::Subcommand)]
pub enum MemberCommand {
    /// Add an actor to a project with a project role.
    Add {
        project: String,
        actor: String,
        #[arg(long)]
        role: String,
        /// The key file of the producer who adds it.
        #[arg(long)]
        key: PathBuf,
    },
    /// Remove an actor from a project.
    Remove {
        project: String,
        actor: String,
        #[arg(long)]
        reason: String,
        /// The key file of the producer who removes it.
        #[arg(long)]
        key: PathBuf,
    },
}

/// Signs one event with a key file and appends it; prints what was done.
fn record(server: &ServerArgs, key: &Path, project: &str, kind: &str, body: Value, doing: &str, done: &str) {
    let client = server.client();
    let ledger = client.ledger_name().unwrap_or_else(|e| fail(e));
    let signer = Signer::new(KeyFile::load(key).unwrap_or_else(|e| fail(format!("{}: {e}", key.display()))), &ledger);
    let answer = client.append(&signer.envelope(project, kind, body)).unwrap_or_else(|e| fail(e));
    let entry = expect_ok(doing, answer);
    println!("{done} (entry {})", entry["sequence"]);
}

pub fn org(command: OrgCommand, server: &ServerArgs, admin_key: &Path) {
    let OrgCommand::Add { id, name, kind } = command;
    let body = json!({"organization_id": id, "display_name": name, "kind": kind});
    let (doing, done) =
        (format!("registering organisation `{id}` was refused"), format!("registered organisation `{id}`"));
    record(server, admin_key, "system", "organization_registered", body, &doing, &done);
}

pub fn actor(command: ActorCommand, server: &ServerArgs, admin_key: &Path) {
    let ActorCommand::Add { key, name, role, organization } = command;
    let file = KeyFile::load(&key).unwrap_or_else(|e| fail(format!("{}: {e}", key.display())));
    let body = json!({
        "actor_id": file.actor, "display_name": name, "role": role, "organization": organization,
        "keys": [{"key_id": file.key_id, "public_key": file.public_key_base64()}],
    });
    let doing = format!("registering actor `{}` was refused", file.actor);
    let done = format!("registered actor `{}` ({role} of {organization}) with key `{}`", file.actor, file.key_id);
    record(server, admin_key, "system", "actor_registered", body, &doing, &done);
}

pub fn member(command: MemberCommand, server: &ServerArgs) {
    match command {
        MemberCommand::Add { project, actor, role, key } => {
            let body = json!({"actor_id": actor, "role": role});
            let doing = format!("adding `{actor}` to `{project}` was refused");
            record(
                server,
                &key,
                &project,
                "member_added",
                body,
                &doing,
                &format!("added `{actor}` to `{project}` as {role}"),
            );
        }
        MemberCommand::Remove { project, actor, reason, key } => {
            let body = json!({"actor_id": actor, "reason": reason});
            let doing = format!("removing `{actor}` from `{project}` was refused");
            record(
                server,
                &key,
                &project,
                "member_removed",
                body,
                &doing,
                &format!("removed `{actor}` from `{project}`"),
            );
        }
    }
}
