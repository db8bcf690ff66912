//! Administration from the command line, over the HTTP API as any client would: read tokens
//! (with an admin token) and actors' keys (signed with an admin's key).

use super::client::{Answer, Signer};
use super::{fail, ServerArgs};
use crate::crypto::keys::KeyFile;
use serde_json::json;
use std::path::Path;

#[derive(clap::Subcommand)]
pub enum TokenCommand {
    /// Issue a read token; its secret is printed once.
    Issue {
        /// Who or what it is for.
        #[arg(long)]
        name: String,
        /// A project it may read (repeat for several; none: every project).
        #[arg(long = "project", conflicts_with = "organization")]
        projects: Vec<String>,
        /// An organisation whose projects it may read (its own and those made for it).
        #[arg(long)]
        organization: Option<String>,
        /// Days until it expires (default 90).
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// It also reads the clear texts of confidential fields (docs/confidential.md).
        #[arg(long)]
        confidential: bool,
    },
    /// Every token issued: id, name, scope, expiry, revocation.
    List,
    /// Revoke a token by its id.
    Revoke { id: String },
}

#[derive(clap::Subcommand)]
pub enum KeyCommand {
    /// Register another key for an actor (`lineage keygen` makes the key file).
    Add {
        /// The actor the key is for.
        #[arg(long)]
        actor: String,
        /// The new key's file: its key id and public key are registered.
        #[arg(long)]
        key: std::path::PathBuf,
    },
    /// Revoke an actor's key: nothing it signs from now on is accepted.
    Revoke {
        #[arg(long)]
        actor: String,
        #[arg(long)]
        key_id: String,
        #[arg(long, default_value = "rotated")]
        reason: String,
    },
}

/// The answer's body, or exits naming the problem.
pub(super) fn expect_ok(what: &str, answer: Answer) -> serde_json::Value {
    if !answer.ok() {
        let detail = answer.body["detail"].as_str().unwrap_or(&answer.text).to_owned();
        fail(format!("{what}: {} {detail}", answer.status));
    }
    answer.body
}

/// A token's scope in words: the projects it lists, its organisation's, or every project.
fn scope_words(token: &serde_json::Value) -> String {
    let names = |list: &serde_json::Value| -> Vec<String> {
        list.as_array().into_iter().flatten().filter_map(|v| v.as_str()).map(|p| format!("`{p}`")).collect()
    };
    if let Some(organization) = token["organization"].as_str() {
        format!("the projects of organisation `{organization}`")
    } else if token["projects"].is_array() {
        format!("project {}", names(&token["projects"]).join(", "))
    } else {
        "every project".to_owned()
    }
}

pub fn token(command: TokenCommand, server: &ServerArgs) {
    let client = server.client();
    match command {
        TokenCommand::Issue { name, projects, organization, expires_in_days, confidential } => {
            let mut request = json!({"name": name, "confidential": confidential});
            if let Some(organization) = organization {
                request["organization"] = json!(organization);
            }
            if !projects.is_empty() {
                request["projects"] = json!(projects);
            }
            if let Some(days) = expires_in_days {
                request["expires_in_days"] = json!(days);
            }
            let body = serde_json::to_vec(&request).expect("JSON");
            let issued = expect_ok("issue a token", client.post("/v1/tokens", &body).unwrap_or_else(|e| fail(e)));
            println!("{}", issued["token"].as_str().unwrap_or_default());
            eprintln!(
                "token `{}` for {}, expires {} (shown once; revoke it with `lineage token revoke {}`)",
                issued["id"].as_str().unwrap_or_default(),
                scope_words(&issued),
                issued["expires_at"].as_str().unwrap_or("never"),
                issued["id"].as_str().unwrap_or_default()
            );
        }
        TokenCommand::List => {
            let list = expect_ok("list tokens", client.get("/v1/tokens").unwrap_or_else(|e| fail(e)));
            println!("{:<16}  {:<24}  {:<6}  {:<20}  {:<20}  scope", "id", "name", "admin", "expires", "revoked");
            for t in list["tokens"].as_array().into_iter().flatten() {
                let scope = scope_words(t);
                println!(
                    "{:<16}  {:<24}  {:<6}  {:<20}  {:<20}  {scope}",
                    t["id"].as_str().unwrap_or_default(),
                    t["name"].as_str().unwrap_or_default(),
                    if t["admin"].as_bool().unwrap_or(false) { "yes" } else { "no" },
                    t["expires_at"].as_str().unwrap_or("never"),
                    t["revoked_at"].as_str().unwrap_or("-"),
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let answer = client.delete(&format!("/v1/tokens/{id}")).unwrap_or_else(|e| fail(e));
            let revoked = expect_ok("revoke the token", answer);
            println!("revoked token `{id}` ({})", revoked["name"].as_str().unwrap_or_default());
        }
    }
}

pub fn key(command: KeyCommand, server: &ServerArgs, admin_key: &Path) {
    let client = server.client();
    let ledger = client.ledger_name().unwrap_or_else(|e| fail(e));
    let admin = Signer::new(KeyFile::load(admin_key).unwrap_or_else(|e| fail(e)), &ledger);
    let (doing, done, envelope) = match command {
        KeyCommand::Add { actor, key } => {
            let key = KeyFile::load(&key).unwrap_or_else(|e| fail(e));
            let body = json!({"actor_id": actor, "key": {"key_id": key.key_id, "public_key": key.public_key_base64()}});
            (
                format!("adding key `{}` for `{actor}` was refused", key.key_id),
                format!("added key `{}` for `{actor}`", key.key_id),
                admin.envelope("system", "key_added", body),
            )
        }
        KeyCommand::Revoke { actor, key_id, reason } => {
            let body = json!({"actor_id": actor, "key_id": key_id, "reason": reason});
            (
                format!("revoking key `{key_id}` of `{actor}` was refused"),
                format!("revoked key `{key_id}` of `{actor}`"),
                admin.envelope("system", "key_revoked", body),
            )
        }
    };
    let entry = expect_ok(&doing, client.append(&envelope).unwrap_or_else(|e| fail(e)));
    println!("{done} (entry {})", entry["sequence"]);
}
