use lineage_ledger::app::{Application, DataDir, Settings};
use lineage_ledger::cli::client::{Answer, Client, Signer};
use lineage_ledger::crypto::keys::KeyFile;
use serde_json::{json, Value};
use std::io::BufRead as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The organisations every test ledger gets with its first registered actor: the agency its
/// crews work for, and a client for their projects.
pub const AGENCY: &str = "acme-agency";
pub const CLIENT: &str = "acme-client";

pub struct TestApp {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub admin: Signer,
    /// A client with the admin's read token.
    pub client: Client,
    /// A client without a token.
    pub anon: Client,
    /// The ledger's name, which every new event names.
    pub ledger: String,
}

pub fn spawn_app() -> TestApp {
    spawn_app_with(|_| {})
}

pub fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::new(dir.path().join("data"), "127.0.0.1:0");
    settings.workers = Some(2);
    adjust(&mut settings);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build(settings).await.expect("the app starts");
            tx.send(app.port()).expect("port sent");
            app.run_until_stopped().await.expect("the server runs");
        })
    });
    let port = rx.recv().expect("the server reports its port");
    attach(dir, port)
}

/// A TestApp for a server already listening on `port` with data under `dir/data`.
pub fn attach(dir: tempfile::TempDir, port: u16) -> TestApp {
    let url = format!("http://127.0.0.1:{port}");
    let data = DataDir { root: dir.path().join("data") };
    let token = std::fs::read_to_string(data.admin_token()).expect("admin token written");
    let ledger = std::fs::read_to_string(data.origin()).expect("origin written").trim().to_owned();
    let admin = Signer::new(KeyFile::load(&data.admin_key()).expect("admin key written"), &ledger);
    TestApp { client: Client::new(&url).with_token(&token), anon: Client::new(&url), url, dir, admin, ledger }
}

pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).expect("file exists").permissions().mode() & 0o777
}

impl TestApp {
    pub fn data(&self) -> DataDir {
        DataDir { root: self.dir.path().join("data") }
    }

    /// Registers an organisation unless it is registered already.
    pub fn organization(&self, id: &str, kind: &str) {
        if self.get("/v1/organizations").body["organizations"]
            .as_array()
            .is_some_and(|all| all.iter().any(|o| o["organization_id"] == id))
        {
            return;
        }
        let answer = self.send(&self.admin.envelope(
            "system",
            "organization_registered",
            json!({"organization_id": id, "display_name": id, "kind": kind}),
        ));
        assert_eq!(answer.status, 201, "registering {id}: {:?}", answer.body);
    }

    /// Registers an actor of the agency with one fresh key; returns its signer.
    pub fn register(&self, actor: &str, role: &str) -> Signer {
        self.organization(AGENCY, "agency");
        self.organization(CLIENT, "client");
        self.register_in(actor, role, AGENCY)
    }

    /// Registers an actor of an organisation (registered already) with one fresh key.
    pub fn register_in(&self, actor: &str, role: &str, organization: &str) -> Signer {
        let key = KeyFile::generate(actor, &format!("{actor}-k1"));
        let answer = self.send(&self.admin.envelope(
            "system",
            "actor_registered",
            json!({"actor_id": actor, "display_name": actor, "role": role, "organization": organization,
                   "keys": [{"key_id": key.key_id, "public_key": key.public_key_base64()}]}),
        ));
        assert_eq!(answer.status, 201, "registering {actor}: {:?}", answer.body);
        self.signer(key)
    }

    /// A signer of events for this ledger.
    pub fn signer(&self, key: KeyFile) -> Signer {
        Signer::new(key, &self.ledger)
    }

    pub fn send(&self, envelope: &[u8]) -> Answer {
        self.anon.append(envelope).expect("the server answers")
    }

    pub fn batch(&self, envelopes: &[Vec<u8>]) -> Answer {
        self.anon.append_batch(envelopes).expect("the server answers")
    }

    /// Issues a read token of this grant, as the admin: its secret.
    pub fn issue_token(&self, grant: Value) -> String {
        let answer = self.client.post("/v1/tokens", grant.to_string().as_bytes()).expect("the server answers");
        assert_eq!(answer.status, 201, "{grant}: {:?}", answer.body);
        answer.body["token"].as_str().expect("a token").to_owned()
    }

    /// The bootstrap admin's read token, as the first start wrote it.
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.data().admin_token()).expect("admin token written").trim().to_owned()
    }

    /// Revokes, as the admin, the token issued under `name`.
    pub fn revoke_token_named(&self, name: &str) {
        let listed = self.get("/v1/tokens").body;
        let id = listed["tokens"].as_array().and_then(|all| all.iter().find(|t| t["name"] == name)).expect("issued")
            ["id"]
            .as_str()
            .expect("an id")
            .to_owned();
        assert_eq!(self.client.delete(&format!("/v1/tokens/{id}")).expect("the server answers").status, 200);
    }

    /// A client reading with a new token of this grant.
    pub fn reader(&self, grant: Value) -> Client {
        Client::new(&self.url).with_token(&self.issue_token(grant))
    }

    pub fn get(&self, path: &str) -> Answer {
        self.client.get(path).expect("the server answers")
    }

    /// The number of entries in the log.
    pub fn head(&self) -> u64 {
        let answer = self.get("/v1/head");
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body["size"].as_u64().expect("size")
    }

    pub fn stream(&self, project: &str) -> Vec<Value> {
        let answer = self.get(&format!("/v1/projects/{project}/events?limit=1000"));
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body["entries"].as_array().expect("entries").clone()
    }
}

/// The id of project `name` made for [`CLIENT`]: a new project is named in its client's
/// namespace.
pub fn pid(name: &str) -> String {
    format!("{CLIENT}:{name}")
}

pub fn digest(name: &str) -> String {
    lineage_ledger::cli::client::digest_of(name.as_bytes())
}

pub fn asset(id: &str) -> Value {
    json!({"asset_id": id, "digest": digest(id), "media_type": "image/png"})
}

/// A crew with one actor per role and a project with a brief, a reference, a model version, a
/// pipeline, a prompt and two generated assets (`img-1`, `img-2`).
pub struct Production {
    pub app: TestApp,
    pub project: String,
    pub producer: Signer,
    pub director: Signer,
    pub artist: Signer,
    pub post: Signer,
    pub qc: Signer,
    pub brand: Signer,
    pub client: Signer,
    pub integration: Signer,
}

impl Production {
    pub fn new() -> Production {
        Production::on(spawn_app(), "p1")
    }

    /// A production of project `name` of [`CLIENT`] (its id is [`pid`]`(name)`) on `app`.
    pub fn on(app: TestApp, name: &str) -> Production {
        let project = &pid(name);
        let producer = app.register(&format!("{name}-producer"), "producer");
        let crew = Production {
            producer,
            director: app.register(&format!("{name}-director"), "creative_director"),
            artist: app.register(&format!("{name}-artist"), "ai_artist"),
            post: app.register(&format!("{name}-post"), "post_artist"),
            qc: app.register(&format!("{name}-qc"), "qc_reviewer"),
            brand: app.register_in(&format!("{name}-brand"), "brand_compliance", CLIENT),
            client: app.register_in(&format!("{name}-client"), "client_approver", CLIENT),
            integration: app.register(&format!("{name}-integration"), "integration"),
            project: project.to_owned(),
            app,
        };
        crew.create(project, "campaign");
        let steps: Vec<(&Signer, &str, Value)> = vec![
            (
                &crew.producer,
                "brief_recorded",
                json!({"brief_id": "brief-1", "title": "Brief", "text": "Make it sing.", "deliverable_formats": ["jpeg"]}),
            ),
            (
                &crew.director,
                "reference_added",
                json!({"reference_id": "ref-1", "category": "visual", "title": "Mood", "source": "board", "rights": {"status": "owned", "reproduction": "allowed"}}),
            ),
            (
                &crew.artist,
                "model_version_registered",
                json!({"model_version_id": "mv-1", "provider": "p", "family": "f", "version": "1", "license": "l", "license_use": "commercial", "training_data_statement": "s"}),
            ),
            (
                &crew.artist,
                "pipeline_defined",
                json!({"pipeline_id": "pl-1", "name": "pipe", "steps": [{"name": "gen", "tool": "t"}], "model_versions": ["mv-1"]}),
            ),
            (
                &crew.artist,
                "prompt_authored",
                json!({"prompt_id": "pr-1", "text": "a shoe", "references": ["ref-1"], "brief_id": "brief-1"}),
            ),
            (
                &crew.integration,
                "generation_recorded",
                json!({"generation_id": "gen-1", "model_version": "mv-1", "prompt": "pr-1", "pipeline": "pl-1", "seed": 7, "outputs": [asset("img-1"), asset("img-2")]}),
            ),
        ];
        for (signer, kind, body) in steps {
            let answer = crew.app.send(&signer.envelope(project, kind, body));
            assert_eq!(answer.status, 201, "{kind}: {:?}", answer.body);
        }
        crew
    }

    /// The crew in role order, with their roles.
    pub fn members(&self) -> Vec<(&Signer, &'static str)> {
        vec![
            (&self.producer, "producer"),
            (&self.director, "creative_director"),
            (&self.artist, "ai_artist"),
            (&self.post, "post_artist"),
            (&self.qc, "qc_reviewer"),
            (&self.brand, "brand_compliance"),
            (&self.client, "client_approver"),
            (&self.integration, "integration"),
        ]
    }

    /// Creates project `project` (an id in [`CLIENT`]'s namespace, [`pid`]) of `content_type`
    /// for [`CLIENT`] and adds the whole crew as members, each with its registered role (the
    /// producer is a member as its creator).
    pub fn create(&self, project: &str, content_type: &str) {
        let created = self.app.send(&self.producer.envelope(
            project,
            "project_created",
            json!({"content_type": content_type, "title": format!("Test {content_type}"), "client_organization": CLIENT}),
        ));
        assert_eq!(created.status, 201, "creating {project}: {:?}", created.body);
        let additions: Vec<Vec<u8>> = self
            .members()
            .into_iter()
            .skip(1)
            .map(|(member, role)| {
                self.producer.envelope(project, "member_added", json!({"actor_id": member.key.actor, "role": role}))
            })
            .collect();
        let added = self.app.batch(&additions);
        assert_eq!(added.status, 201, "adding the crew to {project}: {:?}", added.body);
    }

    pub fn envelope(&self, signer: &Signer, kind: &str, body: Value) -> Vec<u8> {
        signer.envelope(&self.project, kind, body)
    }

    pub fn send(&self, signer: &Signer, kind: &str, body: Value) -> Answer {
        self.app.send(&self.envelope(signer, kind, body))
    }
}

/// A server process, killed when dropped (so that a failing test leaves none behind).
pub struct Server(pub Child);

impl Server {
    pub fn kill(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts the real binary on a random port with data under `dir/data`.
pub fn start_server(dir: &std::path::Path) -> (Server, u16) {
    start_server_with(dir, &[], &[])
}

/// Starts the real binary with extra `serve` arguments and environment variables.
pub fn start_server_with(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (Server, u16) {
    match try_start_server(dir, args, env) {
        Ok(started) => started,
        Err(mut server) => panic!("the server exited before listening: {:?}", server.0.wait()),
    }
}

/// Starts the real binary; `Err` with the exited process when it stops before it listens.
pub fn try_start_server(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Result<(Server, u16), Server> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lineage"));
    command.args(["serve", "--addr", "127.0.0.1:0", "--data"]).arg(dir.join("data")).args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let port = loop {
        let Some(Ok(line)) = lines.next() else { return Err(Server(child)) };
        if let Some(rest) = line.strip_prefix("listening on http://127.0.0.1:") {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok((Server(child), port))
}

/// Rewrites entry `sequence` of the stopped server's data directory `data` in place with one
/// byte changed, as someone with access to the files could (see the layout in
/// `store::sled::layout`: entries in chunks under `E` and the first sequence). A raw entry gets
/// one byte of its envelope changed, so that it still decodes; a compressed one the last byte of
/// its compressed bytes. Done twice, the entry is as it was. Says whether it was compressed.
pub fn damage_entry(data: &Path, sequence: u64) -> bool {
    // Opened once as the server opens it, so that what the journal held is in the database.
    drop(lineage_ledger::store::SledStore::open(&data.join("store")).unwrap());
    let db =
        sled::Config::new().path(data.join("store")).segment_size(lineage_ledger::store::SEGMENT_SIZE).open().unwrap();
    let log = db.open_tree("log").unwrap();
    let mut last = vec![b'E'];
    last.extend_from_slice(&sequence.to_be_bytes());
    let (key, value) = log.range(&b"E"[..]..=&last[..]).next_back().unwrap().unwrap();
    let first = u64::from_be_bytes(key[1..9].try_into().unwrap());
    let mut value = value.to_vec();
    // A compressed chunk: 0xC1, its dictionary's id, then the count as a raw chunk begins.
    let compressed = value[0] == 0xC1;
    let mut at = if compressed { 13 } else { 4 };
    for _ in first..sequence {
        at += 4 + u32::from_be_bytes(value[at..at + 4].try_into().unwrap()) as usize;
    }
    let len = u32::from_be_bytes(value[at..at + 4].try_into().unwrap()) as usize;
    if compressed {
        value[at + 4 + len - 1] ^= 0x01;
    } else {
        let mut entry = lineage_ledger::log::Entry::decode(&value[at + 4..at + 4 + len]).unwrap();
        assert_eq!(entry.sequence, sequence);
        let flip = entry.envelope.len() - 20;
        entry.envelope[flip] ^= 0x01;
        let encoded = entry.encode();
        assert_eq!(encoded.len(), len);
        value[at + 4..at + 4 + len].copy_from_slice(&encoded);
    }
    log.insert(&key, value).unwrap();
    db.flush().unwrap();
    compressed
}
