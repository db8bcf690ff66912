//! `lineage serve`: the service, with its limits and first-start settings.

use super::fail;
use crate::app::{Application, DataDir, Settings};
use std::path::PathBuf;

/// How the service runs.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Data directory (created on first start).
    #[arg(long, default_value = "./data", env = "LINEAGE_DATA")]
    pub data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "LINEAGE_ADDR")]
    pub addr: String,
    /// Largest request body of a single append, in bytes.
    #[arg(long, default_value_t = 256 * 1024)]
    pub body_limit: usize,
    /// Most envelopes in one batch.
    #[arg(long, default_value_t = 1000)]
    pub batch_limit: usize,
    /// Seconds a request body may take to arrive.
    #[arg(long, default_value_t = 30)]
    pub body_timeout_secs: u64,
    /// Most MiB of request bodies held at once, across requests (past it: 503, Retry-After).
    #[arg(long, default_value_t = 256)]
    pub buffered_body_mb: usize,
    /// Milliseconds a refusal for a bad signature or an unknown key waits before it is sent.
    #[arg(long, default_value_t = 100)]
    pub unverified_refusal_delay_ms: u64,
    /// MiB of the data directory's file system kept free: below it, appends are refused
    /// (507 with Retry-After) and reads go on; 0 to keep none.
    #[arg(long, default_value_t = 64)]
    pub min_free_mb: u64,
    /// Checkpoint origin (the log's name), fixed at first start; default `lineage.local/<key hash>`.
    #[arg(long, env = "LINEAGE_ORIGIN")]
    pub origin: Option<String>,
    /// On first start, register this public key (standard base64, from `lineage keygen` on
    /// another machine) as the bootstrap admin's, instead of writing `DATA/admin.key`.
    #[arg(long)]
    pub admin_public_key: Option<String>,
    /// Memory for the projections of recently queried projects, in MiB (estimated; the
    /// most recently queried project's are kept even when larger).
    #[arg(long, default_value_t = 64)]
    pub projection_cache_mb: usize,
    /// Long reads (status, provenance, history, audit, evidence, proofs, pages) answered at
    /// once, off the HTTP workers (default: half the cores, at least one).
    #[arg(long)]
    pub read_slots: Option<usize>,
    /// Certificate chain (PEM, end-entity first) that signs Content Credentials asked of the
    /// server (`POST …/credentials`); with `--c2pa-key`.
    #[arg(long, env = "LINEAGE_C2PA_CERT", requires = "c2pa_key")]
    pub c2pa_cert: Option<PathBuf>,
    /// Its private key (PKCS#8 PEM, Ed25519 or ECDSA P-256), readable by the server alone.
    #[arg(long, env = "LINEAGE_C2PA_KEY", requires = "c2pa_cert")]
    pub c2pa_key: Option<PathBuf>,
    /// A folder of the recorded assets' files (the demo's `--files`, a DAM's export): the web
    /// UI shows an asset's image, and `GET …/assets/{asset}/file` serves it, when a file there
    /// has the asset's recorded digest. `DATA/files` by default.
    #[arg(long, env = "LINEAGE_FILES")]
    pub files: Option<PathBuf>,
    /// Let webhook endpoints be on this host's loopback or link-local addresses (a receiver on
    /// the same machine). Off by default: whoever registers an endpoint could otherwise make the
    /// server post to services only the host reaches (docs/security.md).
    #[arg(long)]
    pub webhook_allow_local: bool,
    /// The wait before a failed webhook delivery's first retry, in milliseconds; each further
    /// failure doubles it, up to ten minutes.
    #[arg(long, default_value_t = 1000)]
    pub webhook_retry_ms: u64,
    /// Most webhook endpoints the server holds.
    #[arg(long, default_value_t = 100)]
    pub webhook_max_endpoints: usize,
    /// New entries after which the state the rules read is sealed to disk once appends pause
    /// (`store/sealed-state`): a start reads it and replays only the entries after it, and
    /// checks the whole log in the background. While appends never pause, it is sealed every
    /// 250,000 entries or quarter of the log, whichever is more (or this many, if more).
    #[arg(long, default_value_t = 10_000)]
    pub seal_after: u64,
    /// Entries appended after a start before the store stores new entries compressed, each
    /// against a dictionary sampled from those (docs/operations.md); 0 stores them raw.
    #[arg(long, default_value_t = crate::store::COMPRESS_AFTER)]
    pub compress_after: u64,
}

/// Runs the service until SIGTERM or SIGINT.
pub(super) fn serve(args: ServeArgs) {
    let ServeArgs {
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
        c2pa_cert,
        c2pa_key,
        files,
        webhook_allow_local,
        webhook_retry_ms,
        webhook_max_endpoints,
        seal_after,
        compress_after,
    } = args;
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
    settings.setup.compress_after = compress_after;
    if let Some(key) = admin_public_key {
        let key = crate::domain::ids::PublicKeyBytes::parse(key.trim())
            .and_then(|k| k.strict().map(|()| k).map_err(crate::domain::ids::ValueError::Invalid))
            .unwrap_or_else(|e| fail(format!("--admin-public-key {e}")));
        settings.setup.admin_key = crate::app::data_dir::AdminKey::Public(Box::new(key));
    }
    settings.ledger.projection_cache_bytes = projection_cache_mb << 20;
    settings.ledger.writer.seal_idle_entries = seal_after.max(1);
    settings.ledger.writer.seal_busy_entries = settings.ledger.writer.seal_busy_entries.max(seal_after);
    if let Some(files) = files {
        settings.files = Some(files);
    }
    settings.webhooks.allow_local = webhook_allow_local;
    settings.webhooks.retry_base = std::time::Duration::from_millis(webhook_retry_ms.max(1));
    settings.webhooks.max_endpoints = webhook_max_endpoints;
    if let Some(slots) = read_slots {
        settings.read_slots = slots;
    }
    if let (Some(cert), Some(key)) = (c2pa_cert, c2pa_key) {
        let credentials = crate::outputs::signing::SigningCredentials::load(&cert, &key);
        settings.signing = Some(credentials.unwrap_or_else(|e| fail(format!("--c2pa-cert/--c2pa-key: {e}"))));
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
