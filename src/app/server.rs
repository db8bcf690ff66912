//! The HTTP server: bound first (so that tests can ask for port 0), then run on a data
//! directory opened by [`super::data_dir`].

use super::StartError;
use crate::api::{self, AppState, Limits};
use crate::ledger::{Ledger, LedgerConfig};
use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub addr: String,
    pub limits: Limits,
    pub ledger: LedgerConfig,
    /// HTTP worker threads; `None` for one per core.
    pub workers: Option<usize>,
    /// Long reads (folds, walks, audits, evidence, proofs) answered at once, off the workers.
    pub read_slots: usize,
    /// The origin, the bootstrap admin and the disk reserve the data directory is opened with.
    pub setup: super::data_dir::Setup,
    /// The certificate and key that sign Content Credentials asked of the server; without
    /// them, the route that signs files answers 503 `signing-not-configured`.
    pub signing: Option<crate::outputs::signing::SigningCredentials>,
    /// The folder of asset files the server may show by digest (`DATA/files` by default).
    pub files: Option<PathBuf>,
    /// How webhooks are delivered.
    pub webhooks: crate::api::webhooks::WebhookConfig,
}

impl Settings {
    pub fn new(data_dir: impl Into<PathBuf>, addr: impl Into<String>) -> Settings {
        let data_dir = data_dir.into();
        Settings {
            files: Some(data_dir.join("files")),
            data_dir,
            addr: addr.into(),
            limits: Limits::default(),
            ledger: LedgerConfig::default(),
            workers: None,
            // Half the cores: long reads never take the whole machine from appends.
            read_slots: std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            setup: Default::default(),
            signing: None,
            webhooks: Default::default(),
        }
    }
}

/// A running server, bound before it starts so that port 0 works.
pub struct Application {
    port: u16,
    server: Server,
    pub ledger: Ledger,
    webhooks: std::sync::Arc<crate::api::webhooks::Webhooks>,
    pub created: Vec<PathBuf>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let opened = super::data_dir::open(&settings.data_dir, settings.ledger, &settings.setup).await?;
        let confidential =
            crate::store::confidential::ConfidentialStore::open(&settings.data_dir.join("confidential"))?;
        let store = opened.ledger.store().clone();
        let finished = confidential.recover(|event| Ok(store.sequence_of_event(event)?.is_some()))?;
        if finished > 0 {
            log::info!("finished {finished} erasures of confidential texts that a stop interrupted");
        }
        let listener = TcpListener::bind(&settings.addr).map_err(StartError::io(Path::new(&settings.addr)))?;
        let port = listener.local_addr().map_err(StartError::io(Path::new(&settings.addr)))?.port();
        let rendered = std::sync::Arc::new(crate::api::rendered::Rendered::default());
        let webhooks = std::sync::Arc::new(crate::api::webhooks::Webhooks::open(
            settings.data_dir.join("webhooks"),
            settings.webhooks,
            opened.ledger.clone(),
            opened.tokens.clone(),
            rendered.clone(),
        )?);
        let state = web::Data::new(AppState {
            webhooks: webhooks.clone(),
            rendered,
            feeds: Default::default(),
            ledger: opened.ledger.clone(),
            tokens: opened.tokens.clone(),
            limits: settings.limits,
            buffered: Default::default(),
            reads: crate::api::state::ReadSlots::new(settings.read_slots, 256),
            signing: settings.signing.map(std::sync::Arc::new),
            sessions: Default::default(),
            files: crate::api::files::AssetFiles::new(settings.files),
            confidential: std::sync::Arc::new(confidential),
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(api::problem_responses())
                .wrap(actix_web::middleware::from_fn(api::observe::observe))
                .app_data(state.clone())
                .configure(api::configure)
                .configure(crate::ui::configure)
                .default_service(web::to(api::not_found))
        })
        // A client gets 5 s to send its request head and 1 s to close; SIGTERM/SIGINT stop
        // accepting and give requests in flight 30 s to be answered.
        .client_request_timeout(std::time::Duration::from_secs(5))
        .client_disconnect_timeout(std::time::Duration::from_secs(1))
        .shutdown_timeout(30)
        .listen(listener)
        .map_err(StartError::io(Path::new(&settings.addr)))?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        Ok(Application { port, server: server.run(), ledger: opened.ledger, webhooks, created: opened.created })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until stopped, then stops the webhook deliveries, syncing their cursors.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.webhooks.stop();
        served
    }
}
