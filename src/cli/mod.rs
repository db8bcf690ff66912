//! The `lineage` command line: the server, the offline checks and maintenance, and the commands
//! that talk to a running server through [`client`]; `lineage demo` and `lineage bench` too.
//!
//! The argument definitions, which are the CLI's documentation, and one match over them that
//! hands each command to its file: `serve`, `offline` (files and stopped data directories),
//! `evidence` (verify-evidence), `remote` (export, demo), `admin` (tokens, keys), `bench`, `demo`;
//! everything that speaks HTTP goes through `client`.

mod admin;
pub mod bench;
pub mod client;
mod confidential;
mod credentials;
pub mod demo;
mod evidence;
mod offline;
mod operators;
mod people;
mod remote;
mod serve;
mod whence;

use crate::app::DataDir;
use crate::crypto::dsse::Envelope;
use crate::crypto::keys::KeyFile;
use clap::{Parser, Subcommand};
use client::Client;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "lineage", version, about = "Tamper-evident ledger of AI-assisted creative production")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve(serve::ServeArgs),
    /// Download the whole log (JSON Lines: header, entries, checkpoint) from a running server.
    Export {
        /// The token must read every project.
        #[command(flatten)]
        server: ServerArgs,
        /// Where to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify an export offline: signatures, signers, rules, chains, Merkle root and checkpoint.
    Verify {
        file: PathBuf,
        /// The checkpoint key you trust (`GET /v1/vkey`); without it the file's own key is used.
        #[arg(long)]
        vkey: Option<String>,
        /// A signed map checkpoint (`GET /v1/map-checkpoint`) of this log, of at most the
        /// export's size: the subject map computed from the export must be the one it signs.
        #[arg(long)]
        map_checkpoint: Option<PathBuf>,
    },
    /// Load a verified export into an empty data directory (a restore needs the ledger's key file).
    Import {
        file: PathBuf,
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// The original ledger's `ledger.key`, so the restored ledger can go on signing checkpoints.
        #[arg(long)]
        ledger_key: PathBuf,
    },
    /// Verify an asset's evidence bundle offline.
    VerifyEvidence(evidence::VerifyEvidenceArgs),
    /// Check a stopped server's data directory entry by entry: hashes, chains, signatures,
    /// rules, Merkle nodes and the checkpoint.
    Fsck {
        #[arg(long, default_value = "./data")]
        data: PathBuf,
    },
    /// Generate an ed25519 key file (mode 0600) for an actor.
    Keygen {
        #[arg(long)]
        actor: String,
        #[arg(long)]
        key_id: String,
        /// Where to write the key file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a payload file as it is, printing the DSSE envelope.
    Sign {
        /// Key file from `lineage keygen`.
        #[arg(long)]
        key: PathBuf,
        /// The payload JSON file; its exact bytes are signed (unless --confidential changes it).
        payload: PathBuf,
        /// A confidential text field to replace by its salted commitment before signing, as a
        /// JSON Pointer: `/body/text`, `/body/negative_prompt`, `/body/talent/0`. Repeatable.
        #[arg(long, requires = "disclosures")]
        confidential: Vec<String>,
        /// With --confidential: where to write the clear texts and salts, to send with
        /// `PUT /v1/projects/{project}/confidential` once the event is appended.
        #[arg(long)]
        disclosures: Option<PathBuf>,
    },
    /// Append envelope files: one file as a single event, several as one atomic batch.
    Append {
        #[arg(long, default_value = "http://127.0.0.1:8080", env = "LINEAGE_URL")]
        url: String,
        #[arg(required = true)]
        envelopes: Vec<PathBuf>,
    },
    /// Load benchmark over HTTP: appends (single and batched) and reads at several client counts.
    Bench(crate::cli::bench::BenchOptions),
    /// The projects the token may read: type, client, entries, last activity.
    Projects(people::ProjectsArgs),
    /// Stage status of a project: a table of the six stages (`--json` for the API's answer).
    Status {
        project: String,
        #[command(flatten)]
        server: ServerArgs,
        /// A sequence or an RFC 3339 time: the status as it was then.
        #[arg(long)]
        as_of: Option<String>,
        /// The API's JSON, as it is.
        #[arg(long)]
        json: bool,
    },
    /// A project's events, filtered by kind, actor, stage, asset and time, a page at a time.
    History(people::HistoryArgs),
    /// Whether an asset could be delivered a given way now: every rule, passed or what it misses.
    Readiness(people::ReadinessArgs),
    /// Provenance of an asset: its ancestors (default) or descendants, as a tree (`--json`, or
    /// Graphviz DOT with `--dot`).
    Provenance {
        project: String,
        asset: String,
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        descendants: bool,
        /// Graphviz DOT instead of a tree.
        #[arg(long)]
        dot: bool,
        #[arg(long)]
        depth: Option<u32>,
        #[arg(long)]
        as_of: Option<String>,
        /// The API's JSON, as it is.
        #[arg(long)]
        json: bool,
    },
    /// Every entry that names an asset, in ledger order, with its signature's standing and what
    /// it says (`--json` for the API's answer).
    Audit(AssetRead),
    /// An asset's AI disclosure, derived from its ancestry: IPTC digital source type, models,
    /// what people did, a statement (docs/compliance.md).
    Disclosure(AssetRead),
    /// A project, or an asset's ancestry, as W3C PROV-JSON.
    Prov {
        project: String,
        /// The asset whose ancestry to give (default: the whole project).
        asset: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Sign an asset's Content Credentials (C2PA) into its file with your certificate and key:
    /// the manifest is the server's (`…/c2pa`), the signing happens here.
    Credentials(credentials::CredentialsArgs),
    /// Where a file comes from, by its bytes: the projects and assets that recorded them, their
    /// disclosure, lineage and compliance verdict (within the token's scope).
    Whence(whence::WhenceArgs),
    /// The compliance verdict of a delivered asset: pass or fail, each check and why.
    Verdict(AssetRead),
    /// A project's compliance report: the verdict of every delivered asset (`--html` for a
    /// printable page).
    Compliance {
        project: String,
        #[arg(long)]
        html: bool,
        /// The page after this delivery entry (a report's `next`).
        #[arg(long)]
        after: Option<u64>,
        /// Deliveries per page (1 to 50, default 20).
        #[arg(long)]
        limit: Option<usize>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Rebuild every projection from the entries of a stopped server's data directory, and
    /// report the time and memory it took.
    Rebuild {
        #[arg(long, default_value = "./data")]
        data: PathBuf,
    },
    /// Record a realistic campaign through every stage against a running server.
    Demo {
        #[arg(long, default_value = "http://127.0.0.1:8080", env = "LINEAGE_URL")]
        url: String,
        /// The server's data directory, for the bootstrap admin's key and token.
        #[arg(long, default_value = "./data", env = "LINEAGE_DATA")]
        data: PathBuf,
        /// The admin's key file (default: DATA/admin.key).
        #[arg(long, env = "LINEAGE_ADMIN_KEY")]
        admin_key: Option<PathBuf>,
        /// Name of the project to create, made for the demo's client: its id is
        /// `aurora-outdoor:NAME` (default: a fresh `demo-campaign-…`).
        #[arg(long)]
        project: Option<String>,
        /// Write every file the demo records (its images, real PNG, JPEG and TIFF, and the
        /// models' stand-in weights) under this directory, as `CLIENT/NAME/ASSET.EXT` — where
        /// `serve --files` looks for a project's files (`DATA/files` is the server's default).
        #[arg(long)]
        files: Option<PathBuf>,
    },
    /// Read tokens: issue, list, revoke (with an admin token).
    Token {
        #[command(subcommand)]
        command: admin::TokenCommand,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Organisations: register one (signed with an admin's key).
    Org {
        #[command(subcommand)]
        command: operators::OrgCommand,
        #[command(flatten)]
        server: ServerArgs,
        /// The admin's key file (default: DATA/admin.key).
        #[arg(long, global = true, env = "LINEAGE_ADMIN_KEY")]
        admin_key: Option<PathBuf>,
    },
    /// Actors: register a person or a pipeline with its key (signed with an admin's key).
    Actor {
        #[command(subcommand)]
        command: operators::ActorCommand,
        #[command(flatten)]
        server: ServerArgs,
        /// The admin's key file (default: DATA/admin.key).
        #[arg(long, global = true, env = "LINEAGE_ADMIN_KEY")]
        admin_key: Option<PathBuf>,
    },
    /// A project's members: add or remove one (signed with a producer's key).
    Member {
        #[command(subcommand)]
        command: operators::MemberCommand,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Actors' keys: add one, revoke one (signed with an admin's key).
    Key {
        #[command(subcommand)]
        command: admin::KeyCommand,
        #[command(flatten)]
        server: ServerArgs,
        /// The admin's key file (default: DATA/admin.key).
        #[arg(long, global = true, env = "LINEAGE_ADMIN_KEY")]
        admin_key: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
pub struct ServerArgs {
    /// The server (also `LINEAGE_URL`).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080", env = "LINEAGE_URL")]
    pub url: String,
    /// Read token (default: the data directory's admin token; also `LINEAGE_TOKEN`).
    #[arg(long, global = true, env = "LINEAGE_TOKEN")]
    pub token: Option<String>,
    /// The server's data directory, for its admin token (also `LINEAGE_DATA`).
    #[arg(long, global = true, default_value = "./data", env = "LINEAGE_DATA")]
    pub data: PathBuf,
}

impl ServerArgs {
    pub fn token(&self) -> String {
        self.token.clone().unwrap_or_else(|| read_token(&DataDir { root: self.data.clone() }))
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url).with_token(&self.token())
    }
}

/// Prints an answer's body (JSON pretty, text as is); exits 1 on an error status.
fn show(answer: crate::cli::client::Answer) {
    people::print(answer, true, |_| String::new());
}

/// An asset of a project, read from a server, now or as of an earlier point.
#[derive(clap::Args)]
struct AssetRead {
    project: String,
    asset: String,
    #[command(flatten)]
    server: ServerArgs,
    #[arg(long)]
    as_of: Option<String>,
    /// The API's JSON, as it is (`audit` prints a table without it).
    #[arg(long)]
    json: bool,
}

/// Prints one of an asset's reads (`audit`, `disclosure`, `prov`).
fn show_asset(read: &str, a: &AssetRead) {
    let path = with_as_of(format!("/v1/projects/{}/assets/{}/{read}", a.project, a.asset), &a.as_of);
    show(a.server.client().get(&path).unwrap_or_else(|e| fail(e)));
}

/// Prints a project's, or an asset's, PROV-JSON.
fn prov(project: &str, asset: Option<&str>, server: &ServerArgs, as_of: &Option<String>) {
    let path = match asset {
        Some(asset) => format!("/v1/projects/{project}/assets/{asset}/prov"),
        None => format!("/v1/projects/{project}/prov"),
    };
    show(server.client().get(&with_as_of(path, as_of)).unwrap_or_else(|e| fail(e)))
}

/// Prints a page of a project's compliance report, as JSON or HTML.
fn compliance(project: &str, html: bool, after: Option<u64>, limit: Option<usize>, server: &ServerArgs) {
    let mut path = format!("/v1/projects/{project}/compliance?format={}", if html { "html" } else { "json" });
    path.extend(after.map(|a| format!("&after={a}")));
    path.extend(limit.map(|l| format!("&limit={l}")));
    show(server.client().get(&path).unwrap_or_else(|e| fail(e)))
}

fn with_as_of(path: String, as_of: &Option<String>) -> String {
    match as_of {
        Some(a) => format!("{path}{}as_of={}", if path.contains('?') { '&' } else { '?' }, a.replace('+', "%2B")),
        None => path,
    }
}

fn open_file(path: &std::path::Path) -> std::io::BufReader<std::fs::File> {
    std::io::BufReader::new(std::fs::File::open(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display()))))
}

fn read_token(dir: &DataDir) -> String {
    let path = dir.admin_token();
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        fail(format!(
            "no read token: {} ({e}); give one with --token (or LINEAGE_TOKEN), or name the server's data directory with --data (or LINEAGE_DATA)",
            path.display()
        ))
    })
}

pub fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("lineage: {message}");
    std::process::exit(1)
}

pub fn run() {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        // A command whose output goes to a pipe that closed (`lineage export | head`) ends there,
        // quietly, as other command-line tools do; Rust's runtime ignores SIGPIPE, which turns
        // the next print into a panic. Sockets are unaffected: std writes to them with
        // MSG_NOSIGNAL. The server keeps SIGPIPE ignored.
        // SAFETY: signal(2) with a valid signal number and SIG_DFL, before any thread starts.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Keygen { actor, key_id, out } => {
            let key = KeyFile::generate(&actor, &key_id);
            key.save(&out).unwrap_or_else(|e| fail(format!("{}: {e}", out.display())));
            println!("{}", key.public_key_base64());
        }
        Command::Sign { key, payload, confidential, disclosures } => {
            let key = KeyFile::load(&key).unwrap_or_else(|e| fail(e));
            let mut bytes = std::fs::read(&payload).unwrap_or_else(|e| fail(format!("{}: {e}", payload.display())));
            if let Some(out) = disclosures {
                bytes = confidential::commit(&bytes, &confidential, &out)
                    .unwrap_or_else(|e| fail(format!("{}: {e}", payload.display())));
            }
            let envelope = Envelope::sign(&bytes, &key.key_id, &key.key);
            println!("{}", String::from_utf8(envelope.to_json()).expect("JSON is UTF-8"));
        }
        Command::Append { url, envelopes } => {
            let client = Client::new(&url);
            let bodies: Vec<Vec<u8>> = envelopes
                .iter()
                .map(|p| std::fs::read(p).unwrap_or_else(|e| fail(format!("{}: {e}", p.display()))))
                .collect();
            let answer = if bodies.len() == 1 { client.append(&bodies[0]) } else { client.append_batch(&bodies) };
            let answer = answer.unwrap_or_else(|e| fail(e));
            println!("{}", serde_json::to_string_pretty(&answer.body).expect("JSON serializes"));
            if !answer.ok() {
                std::process::exit(1);
            }
        }
        Command::Export { server, out } => remote::export(&server, out),
        Command::Verify { file, vkey, map_checkpoint } => {
            offline::verify(&file, vkey.as_deref(), map_checkpoint.as_deref())
        }
        Command::Import { file, data, ledger_key } => offline::import(&file, data, &ledger_key),
        Command::VerifyEvidence(args) => evidence::verify_evidence(args),
        Command::Fsck { data } => match crate::app::maintenance::fsck(&data) {
            Ok(report) => println!("{report}"),
            Err(e) => fail(e),
        },
        Command::Bench(options) => {
            let out = options.out.clone();
            let report = crate::cli::bench::run(options).unwrap_or_else(|e| fail(e));
            println!("{}", crate::cli::bench::markdown(&report));
            eprintln!("written to {}/bench.md and bench.json", out.display());
        }
        Command::Projects(args) => people::projects(args),
        Command::Status { project, server, as_of, json } => {
            let path = with_as_of(format!("/v1/projects/{project}/status"), &as_of);
            people::print(server.client().get(&path).unwrap_or_else(|e| fail(e)), json, people::status);
        }
        Command::History(args) => people::history(args),
        Command::Readiness(args) => people::readiness(args),
        Command::Provenance { project, asset, server, descendants, dot, depth, as_of, json } => {
            let mut path = format!(
                "/v1/projects/{project}/assets/{asset}/provenance?direction={}&format={}",
                if descendants { "descendants" } else { "ancestors" },
                if dot { "dot" } else { "json" }
            );
            if let Some(depth) = depth {
                path.push_str(&format!("&depth={depth}"));
            }
            let answer = server.client().get(&with_as_of(path, &as_of)).unwrap_or_else(|e| fail(e));
            people::print(answer, json || dot, people::provenance);
        }
        Command::Audit(read) => {
            let path = with_as_of(format!("/v1/projects/{}/assets/{}/audit", read.project, read.asset), &read.as_of);
            people::print(read.server.client().get(&path).unwrap_or_else(|e| fail(e)), read.json, people::audit);
        }
        Command::Disclosure(read) => show_asset("disclosure", &read),
        Command::Prov { project, asset, server, as_of } => prov(&project, asset.as_deref(), &server, &as_of),
        Command::Credentials(args) => credentials::credentials(args),
        Command::Whence(args) => whence::whence(args),
        Command::Verdict(read) => show_asset("verdict", &read),
        Command::Compliance { project, html, after, limit, server } => {
            compliance(&project, html, after, limit, &server)
        }
        Command::Rebuild { data } => match crate::app::maintenance::rebuild(&data) {
            Ok(report) => println!("{report}"),
            Err(e) => fail(e),
        },
        Command::Demo { url, data, admin_key, project, files } => remote::demo(&url, data, admin_key, project, files),
        Command::Token { command, server } => admin::token(command, &server),
        Command::Org { command, server, admin_key } => {
            let admin = admin_key.unwrap_or_else(|| DataDir { root: server.data.clone() }.admin_key());
            operators::org(command, &server, &admin)
        }
        Command::Actor { command, server, admin_key } => {
            let admin = admin_key.unwrap_or_else(|| DataDir { root: server.data.clone() }.admin_key());
            operators::actor(command, &server, &admin)
        }
        Command::Member { command, server } => operators::member(command, &server),
        Command::Key { command, server, admin_key } => {
            let admin = admin_key.unwrap_or_else(|| DataDir { root: server.data.clone() }.admin_key());
            admin::key(command, &server, &admin)
        }
    }
}
