//! The `lineage` command line: the server, the offline checks and maintenance, and the commands
//! that talk to a running server through [`client`]; `lineage demo` and `lineage bench` too.
//!
//! About 600 lines: the argument definitions, which are the CLI's documentation, and one match
//! over them; the client, demo, bench and admin commands are in their own files.

mod admin;
pub mod bench;
pub mod client;
pub mod demo;

use crate::app::{Application, DataDir, Settings};
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
    Serve {
        /// Data directory (created on first start).
        #[arg(long, default_value = "./data", env = "LINEAGE_DATA")]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "LINEAGE_ADDR")]
        addr: String,
        /// Largest request body of a single append, in bytes.
        #[arg(long, default_value_t = 256 * 1024)]
        body_limit: usize,
        /// Most envelopes in one batch.
        #[arg(long, default_value_t = 1000)]
        batch_limit: usize,
        /// Seconds a request body may take to arrive.
        #[arg(long, default_value_t = 30)]
        body_timeout_secs: u64,
        /// Most MiB of request bodies held at once, across requests (past it: 503, Retry-After).
        #[arg(long, default_value_t = 256)]
        buffered_body_mb: usize,
        /// Milliseconds a refusal for a bad signature or an unknown key waits before it is sent.
        #[arg(long, default_value_t = 100)]
        unverified_refusal_delay_ms: u64,
        /// MiB of the data directory's file system kept free: below it, appends are refused
        /// (507 with Retry-After) and reads go on; 0 to keep none.
        #[arg(long, default_value_t = 64)]
        min_free_mb: u64,
        /// Checkpoint origin (the log's name), fixed at first start; default `lineage.local/<key hash>`.
        #[arg(long, env = "LINEAGE_ORIGIN")]
        origin: Option<String>,
        /// On first start, register this public key (standard base64, from `lineage keygen` on
        /// another machine) as the bootstrap admin's, instead of writing `DATA/admin.key`.
        #[arg(long)]
        admin_public_key: Option<String>,
        /// Memory for the projections of recently queried projects, in MiB (estimated; the
        /// most recently queried project's are kept even when larger).
        #[arg(long, default_value_t = 64)]
        projection_cache_mb: usize,
        /// Long reads (status, provenance, history, audit, evidence, proofs, pages) answered at
        /// once, off the HTTP workers (default: half the cores, at least one).
        #[arg(long)]
        read_slots: Option<usize>,
    },
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
    VerifyEvidence {
        /// The bundle (`GET /v1/projects/{project}/assets/{asset}/evidence`).
        bundle: PathBuf,
        /// The checkpoint key you trust (`GET /v1/vkey`); without it the bundle's own key is
        /// used, and a warning says so.
        #[arg(long)]
        vkey: Option<String>,
        /// A delivered file: its bytes must be the asset's recorded digest, or a variant's
        /// delivered from it.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Another bundle, or a signed checkpoint (`GET /v1/checkpoint`), of the same log: their
        /// checkpoints must agree (the same root at the same size, or the later extending the
        /// earlier).
        #[arg(long)]
        against: Option<PathBuf>,
        /// The consistency proof between the two checkpoints (the JSON of
        /// `GET /v1/proofs/consistency?from=&to=`); fetched from `--url` when not given.
        #[arg(long)]
        consistency_proof: Option<PathBuf>,
        /// A server to fetch the consistency proof from (untrusted: the proof is checked against
        /// both signed checkpoints).
        #[arg(long, env = "LINEAGE_URL")]
        url: Option<String>,
    },
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
        /// The payload JSON file; its exact bytes are signed.
        payload: PathBuf,
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
    /// Stage status of a project.
    Status {
        project: String,
        #[command(flatten)]
        server: ServerArgs,
        /// A sequence or an RFC 3339 time: the status as it was then.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Provenance of an asset: its ancestors (default) or descendants, as JSON or Graphviz DOT.
    Provenance {
        project: String,
        asset: String,
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        descendants: bool,
        #[arg(long)]
        dot: bool,
        #[arg(long)]
        depth: Option<u32>,
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Every entry that names an asset, in ledger order.
    Audit {
        project: String,
        asset: String,
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        as_of: Option<String>,
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
    },
    /// Read tokens: issue, list, revoke (with an admin token).
    Token {
        #[command(subcommand)]
        command: admin::TokenCommand,
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
    if answer.body.is_null() {
        print!("{}", answer.text);
    } else {
        println!("{}", serde_json::to_string_pretty(&answer.body).expect("JSON serializes"));
    }
    if !answer.ok() {
        std::process::exit(1);
    }
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
    std::fs::read_to_string(dir.admin_token()).unwrap_or_else(|e| fail(format!("{}: {e}", dir.admin_token().display())))
}

pub fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("lineage: {message}");
    std::process::exit(1)
}

pub fn run() {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve { .. }) {
        // A command whose output goes to a pipe that closed (`lineage export | head`) ends there,
        // quietly, as other command-line tools do; Rust's runtime ignores SIGPIPE, which turns
        // the next print into a panic. Sockets are unaffected: std writes to them with
        // MSG_NOSIGNAL. The server keeps SIGPIPE ignored.
        // SAFETY: signal(2) with a valid signal number and SIG_DFL, before any thread starts.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    match cli.command {
        Command::Serve {
            data,
            addr,
            body_limit,
            batch_limit,
            body_timeout_secs,
            buffered_body_mb,
            unverified_refusal_delay_ms,
            min_free_mb,
            origin,
            admin_public_key,
            projection_cache_mb,
            read_slots,
        } => {
            env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
            // Everything the server creates (keys, token, every file of the store) is its owner's
            // alone.
            // SAFETY: umask(2) only sets this process's file mode creation mask.
            unsafe { libc::umask(0o077) };
            let mut settings = Settings::new(data.clone(), addr);
            settings.limits.body_bytes = body_limit;
            settings.limits.batch_events = batch_limit;
            settings.limits.body_timeout = std::time::Duration::from_secs(body_timeout_secs);
            settings.limits.buffered_body_bytes = buffered_body_mb << 20;
            settings.limits.unverified_refusal_delay = std::time::Duration::from_millis(unverified_refusal_delay_ms);
            settings.setup.origin = origin;
            settings.setup.min_free_bytes = min_free_mb << 20;
            if let Some(key) = admin_public_key {
                let key = crate::domain::ids::PublicKeyBytes::parse(key.trim())
                    .and_then(|k| k.strict().map(|()| k).map_err(crate::domain::ids::ValueError::Invalid))
                    .unwrap_or_else(|e| fail(format!("--admin-public-key {e}")));
                settings.setup.admin_key = crate::app::data_dir::AdminKey::Public(Box::new(key));
            }
            settings.ledger.projection_cache_bytes = projection_cache_mb << 20;
            if let Some(slots) = read_slots {
                settings.read_slots = slots;
            }
            let runtime = actix_web::rt::System::new();
            runtime.block_on(async move {
                let app = Application::build(settings).await.unwrap_or_else(|e| fail(e));
                let dir = DataDir { root: data };
                for path in &app.created {
                    println!("created {}", path.display());
                }
                println!("admin token: {} (bearer token for reads)", dir.admin_token().display());
                println!("admin key:   {} (signs actor and key events)", dir.admin_key().display());
                println!("listening on http://127.0.0.1:{} ({} entries)", app.port(), app.ledger.len());
                app.run_until_stopped().await.unwrap_or_else(|e| fail(e));
            });
        }
        Command::Keygen { actor, key_id, out } => {
            let key = KeyFile::generate(&actor, &key_id);
            key.save(&out).unwrap_or_else(|e| fail(format!("{}: {e}", out.display())));
            println!("{}", key.public_key_base64());
        }
        Command::Sign { key, payload } => {
            let key = KeyFile::load(&key).unwrap_or_else(|e| fail(e));
            let bytes = std::fs::read(&payload).unwrap_or_else(|e| fail(format!("{}: {e}", payload.display())));
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
        Command::Export { server, out } => {
            let token = server.token();
            let url = format!("{}/v1/export", server.url.trim_end_matches('/'));
            let response = ureq::get(&url)
                .set("Authorization", &format!("Bearer {}", token.trim()))
                .call()
                .unwrap_or_else(|e| fail(format!("{url}: {e}")));
            let mut reader = response.into_reader();
            let copied = match out {
                Some(path) => std::fs::File::create(&path)
                    .and_then(|mut f| std::io::copy(&mut reader, &mut f).and_then(|n| f.sync_all().map(|_| n))),
                None => std::io::copy(&mut reader, &mut std::io::stdout().lock()),
            };
            let bytes = copied.unwrap_or_else(|e| fail(e));
            eprintln!("exported {bytes} bytes");
        }
        Command::Verify { file, vkey } => {
            let input = open_file(&file);
            match crate::log::export::verify(input, vkey.as_deref(), false) {
                Ok(v) => println!(
                    "verified {} entries of `{}`: signatures, signers, rules, chains; root {} signed by {}",
                    v.size,
                    v.header.origin,
                    hex::encode(v.root),
                    v.header.vkey
                ),
                Err(e) => fail(format!("{}: {e}", file.display())),
            }
        }
        Command::Import { file, data, ledger_key } => {
            let verified = crate::log::export::verify(open_file(&file), None, true)
                .unwrap_or_else(|e| fail(format!("{}: refused: {e}", file.display())));
            let key = KeyFile::load(&ledger_key).unwrap_or_else(|e| fail(e));
            let key_b64 = key.public_key_base64();
            if key_b64 != verified.header.ledger_public_key {
                fail("the ledger key file is not the key of the exported ledger");
            }
            crate::app::maintenance::prepare_import(&data, &key, &verified.header.origin).unwrap_or_else(|e| fail(e));
            let dir = DataDir { root: data };
            let store = crate::store::SledStore::open(&dir.store()).unwrap_or_else(|e| fail(e));
            crate::app::maintenance::import(&store, &verified).unwrap_or_else(|e| fail(e));
            drop(store);
            crate::app::maintenance::finish_import(&dir.root).unwrap_or_else(|e| fail(e));
            println!("imported {} entries into {}", verified.size, dir.root.display());
        }
        Command::VerifyEvidence { bundle: path, vkey, file, against, consistency_proof, url } => {
            let read_bundle = |path: &std::path::Path| -> crate::log::evidence::Bundle {
                serde_json::from_reader(open_file(path))
                    .unwrap_or_else(|e| fail(format!("{}: not an evidence bundle: {e}", path.display())))
            };
            let bundle = read_bundle(&path);
            if vkey.is_none() {
                eprintln!(
                    "lineage: WARNING: no --vkey given, so the bundle is checked against the key it carries itself ({}). Anyone can make a bundle that verifies under a key of their own: pin the ledger's key with --vkey \"$(curl -s URL/v1/vkey)\".",
                    bundle.vkey
                );
            }
            let proven = crate::log::evidence::verify(&bundle, vkey.as_deref())
                .unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
            println!(
                "verified the evidence of asset `{}` in `{}`: {} lineage entries and {} system entries, included in the log of {} entries with root {}{}",
                bundle.asset,
                bundle.project,
                proven.lineage_entries,
                proven.system_entries,
                proven.checkpoint.size,
                hex::encode(proven.checkpoint.root),
                if vkey.is_some() { " (checkpoint key pinned)" } else { " (checkpoint key NOT pinned)" }
            );
            if let Some(file) = file {
                let bytes = std::fs::read(&file).unwrap_or_else(|e| fail(format!("{}: {e}", file.display())));
                let digest = crate::domain::Digest::of(&bytes);
                match proven.file_matches(&bundle.asset, &digest) {
                    Ok(said) => println!("{}: {said}", file.display()),
                    Err(why) => fail(format!("{}: {why}", file.display())),
                }
            }
            if let Some(other) = against {
                let text =
                    std::fs::read_to_string(&other).unwrap_or_else(|e| fail(format!("{}: {e}", other.display())));
                let verifier =
                    crate::log::export::trusted_verifier(&bundle.vkey, &bundle.ledger_public_key, vkey.as_deref())
                        .unwrap_or_else(|e| fail(e));
                let theirs = if text.trim_start().starts_with('{') {
                    let later = read_bundle(&other);
                    crate::log::evidence::verify(&later, Some(&verifier.vkey()))
                        .unwrap_or_else(|e| fail(format!("{}: {e}", other.display())))
                        .checkpoint
                } else {
                    crate::crypto::checkpoint::Checkpoint::open(&text, &verifier)
                        .unwrap_or_else(|e| fail(format!("{}: not a checkpoint of this ledger: {e}", other.display())))
                };
                let ours = &proven.checkpoint;
                let proof = if ours.size == theirs.size {
                    None
                } else {
                    let (from, to) = (ours.size.min(theirs.size), ours.size.max(theirs.size));
                    let json: serde_json::Value = match (&consistency_proof, &url) {
                        (Some(file), _) => serde_json::from_reader(open_file(file))
                            .unwrap_or_else(|e| fail(format!("{}: not a consistency proof: {e}", file.display()))),
                        (None, Some(url)) => {
                            let answer = client::Client::new(url)
                                .get(&format!("/v1/proofs/consistency?from={from}&to={to}"))
                                .unwrap_or_else(|e| fail(e));
                            if answer.status != 200 {
                                fail(format!("{url}: no consistency proof from {from} to {to}: {}", answer.text));
                            }
                            answer.body
                        }
                        (None, None) => fail(format!(
                            "the checkpoints are of {from} and {to} entries: give --consistency-proof (GET /v1/proofs/consistency?from={from}&to={to}) or --url"
                        )),
                    };
                    let hashes: Vec<Vec<u8>> = json["hashes"]
                        .as_array()
                        .map(|list| {
                            list.iter()
                                .map(|h| hex::decode(h.as_str().unwrap_or_default()).unwrap_or_default())
                                .collect()
                        })
                        .unwrap_or_else(|| fail("the consistency proof has no `hashes` list of hex hashes"));
                    if json["from"] != from || json["to"] != to {
                        fail(format!("the consistency proof is not from {from} to {to}"));
                    }
                    Some(hashes)
                };
                match crate::log::evidence::consistent(ours, &theirs, proof.as_deref()) {
                    Ok(()) => println!(
                        "consistent with {}: the log of {} entries and the log of {} entries are one log",
                        other.display(),
                        ours.size.min(theirs.size),
                        ours.size.max(theirs.size)
                    ),
                    Err(why) => fail(format!("{}: {why}", other.display())),
                }
            }
        }
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
        Command::Status { project, server, as_of } => {
            let path = with_as_of(format!("/v1/projects/{project}/status"), &as_of);
            show(server.client().get(&path).unwrap_or_else(|e| fail(e)));
        }
        Command::Provenance { project, asset, server, descendants, dot, depth, as_of } => {
            let mut path = format!(
                "/v1/projects/{project}/assets/{asset}/provenance?direction={}&format={}",
                if descendants { "descendants" } else { "ancestors" },
                if dot { "dot" } else { "json" }
            );
            if let Some(depth) = depth {
                path.push_str(&format!("&depth={depth}"));
            }
            show(server.client().get(&with_as_of(path, &as_of)).unwrap_or_else(|e| fail(e)));
        }
        Command::Audit { project, asset, server, as_of } => {
            let path = with_as_of(format!("/v1/projects/{project}/assets/{asset}/audit"), &as_of);
            show(server.client().get(&path).unwrap_or_else(|e| fail(e)));
        }
        Command::Rebuild { data } => match crate::app::maintenance::rebuild(&data) {
            Ok(report) => println!("{report}"),
            Err(e) => fail(e),
        },
        Command::Demo { url, data, admin_key, project } => {
            let dir = DataDir { root: data };
            let admin = KeyFile::load(&admin_key.unwrap_or_else(|| dir.admin_key())).unwrap_or_else(|e| fail(e));
            let token = std::fs::read_to_string(dir.admin_token())
                .unwrap_or_else(|e| fail(format!("{}: {e}", dir.admin_token().display())));
            let client = Client::new(&url).with_token(&token);
            let project =
                project.unwrap_or_else(|| format!("demo-campaign-{}", chrono::Utc::now().format("%Y%m%d-%H%M%S")));
            let summary = crate::cli::demo::run(&client, admin, &project).unwrap_or_else(|e| fail(e));
            println!(
                "recorded project `{}`: {} project events, {} system events, deliveries {}",
                summary.project,
                summary.project_events,
                summary.system_events,
                summary.deliveries.join(", ")
            );
            println!("read it back:");
            println!(
                "  curl -H \"Authorization: Bearer $(cat {})\" '{url}/v1/projects/{}/events?limit=1000'",
                dir.admin_token().display(),
                summary.project
            );
        }
        Command::Token { command, server } => admin::token(command, &server),
        Command::Key { command, server, admin_key } => {
            let admin = admin_key.unwrap_or_else(|| DataDir { root: server.data.clone() }.admin_key());
            admin::key(command, &server, &admin)
        }
    }
}
