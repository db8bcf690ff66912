//! `lineage demo`: registers a crew and records a realistic campaign through every stage, over
//! the REST API of a running server.

mod files;
mod finishing;
mod images;
mod series;

use super::client::{Answer, Client, Signer};
use crate::crypto::keys::KeyFile;
pub use files::DemoFiles;
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Client(#[from] crate::cli::client::ClientError),
    #[error("{step}: the server answered {status}: {body}")]
    Refused { step: String, status: u16, body: Value },
}

/// How people read an actor of the demo: `maya-producer-1a2b3c` is "Maya (producer)", the
/// pipeline `genpipe-…` "Genpipe (integration)".
fn display_name(actor: &str, role: &str) -> String {
    let first = actor.split('-').next().unwrap_or(actor);
    let mut name: String = first.chars().take(1).flat_map(char::to_uppercase).collect();
    name.push_str(&first[first.chars().next().map_or(0, char::len_utf8)..]);
    format!("{name} ({})", role.replace('_', " "))
}

/// What the demo recorded.
pub struct DemoSummary {
    pub project: String,
    /// Events appended to the project stream.
    pub project_events: usize,
    /// Events appended to the system stream (organisations, actors, keys).
    pub system_events: usize,
    /// The delivered variants' asset ids.
    pub deliveries: Vec<String>,
    /// Every file it recorded.
    pub files: DemoFiles,
    /// The other productions it recorded (`run_all`): their ids, events and files.
    pub others: Vec<(String, usize, DemoFiles)>,
}

struct Crew {
    producer: Signer,
    director: Signer,
    ai_artist: Signer,
    post_artist: Signer,
    qc: Signer,
    brand: Signer,
    client: Signer,
    pipeline: Signer,
}

/// The ids of the organisations registered already (a second run finds the demo's).
fn registered_organizations(client: &Client) -> Result<std::collections::HashSet<String>, DemoError> {
    let known = client.get("/v1/organizations")?;
    let all = known.body["organizations"].as_array().into_iter().flatten();
    Ok(all.filter_map(|o| o["organization_id"].as_str().map(str::to_owned)).collect())
}

fn check(step: &str, answer: Answer) -> Result<Answer, DemoError> {
    if answer.ok() {
        Ok(answer)
    } else {
        Err(DemoError::Refused { step: step.to_owned(), status: answer.status, body: answer.body })
    }
}

/// The client organisation the demo's projects are made for: a project named `NAME` is
/// `aurora-outdoor:NAME`.
pub const DEMO_CLIENT: &str = "aurora-outdoor";

/// Runs the demo, recording project `DEMO_CLIENT:name`. `admin` is the bootstrap admin key
/// (`DATA/admin.key`); `client` carries the admin token.
pub fn run(client: &Client, admin: KeyFile, name: &str) -> Result<DemoSummary, DemoError> {
    run_with(client, admin, name, false)
}

/// Runs the demo with the agency's other productions too: the campaign `DEMO_CLIENT:name`, a
/// social series `brightwave-drinks:name-social` and an e-comm run `northpeak-gear:name-ecomm`,
/// each for a client of its own.
pub fn run_all(client: &Client, admin: KeyFile, name: &str) -> Result<DemoSummary, DemoError> {
    run_with(client, admin, name, true)
}

fn run_with(client: &Client, admin: KeyFile, name: &str, series: bool) -> Result<DemoSummary, DemoError> {
    let ledger = client.ledger_name()?;
    let admin = Signer::new(admin, &ledger);
    let project = &format!("{DEMO_CLIENT}:{name}");
    let files = DemoFiles::make(project);
    // Actor ids carry a per-run suffix: each run registers a fresh crew with fresh keys.
    let run_id = &crate::cli::client::digest_of(name.as_bytes())[7..13];
    // The agency runs the production for its client; a post house is the vendor. A second run
    // finds them registered.
    let (agency, client_org, vendor) = ("northlight".to_owned(), DEMO_CLIENT.to_owned(), "pixelforge-post".to_owned());
    let organizations = [
        (&agency, "Northlight Creative", "agency"),
        (&client_org, "Aurora Outdoor", "client"),
        (&vendor, "Pixelforge Post", "vendor"),
    ];
    let known = registered_organizations(client)?;
    let registered = |id: &str| known.contains(id);
    let mut registrations: Vec<Vec<u8>> = organizations
        .iter()
        .filter(|(id, _, _)| !registered(id))
        .map(|(id, name, kind)| {
            admin.envelope(
                "system",
                "organization_registered",
                json!({"organization_id": id, "display_name": name, "kind": kind}),
            )
        })
        .collect();
    let member = |name: &str, role: &str, organization: &str| {
        let actor = format!("{name}-{run_id}");
        (KeyFile::generate(&actor, &format!("{actor}-key-1")), role.to_owned(), organization.to_owned())
    };
    let members = [
        member("maya-producer", "producer", &agency),
        member("jonas-cd", "creative_director", &agency),
        member("lea-ai-artist", "ai_artist", &agency),
        member("sam-post", "post_artist", &vendor),
        member("ines-qc", "qc_reviewer", &agency),
        member("omar-brand", "brand_compliance", &client_org),
        member("ana-client", "client_approver", &client_org),
        member("genpipe", "integration", &agency),
    ];
    let mut system_events = 0;
    for (key, role, organization) in &members {
        registrations.push(admin.envelope(
            "system",
            "actor_registered",
            json!({
                "actor_id": key.actor,
                "display_name": display_name(&key.actor, role),
                "role": role,
                "organization": organization,
                "keys": [{"key_id": key.key_id, "public_key": key.public_key_base64()}],
            }),
        ));
    }
    check("register the organisations and the crew", client.append_batch(&registrations)?)?;
    system_events += registrations.len();
    let roles: Vec<(String, String)> = members.iter().map(|(k, role, _)| (k.actor.clone(), role.clone())).collect();
    let [producer, director, ai_artist, post_artist, qc, brand, client_approver, pipeline] =
        members.map(|(key, _, _)| Signer::new(key, &ledger));
    let crew = Crew { producer, director, ai_artist, post_artist, qc, brand, client: client_approver, pipeline };

    // The pipeline service rotates in a second key.
    let genpipe = crew.pipeline.key.actor.clone();
    let second = KeyFile::generate(&genpipe, &format!("{genpipe}-key-2"));
    check(
        "add a key",
        client.append(&admin.envelope(
            "system",
            "key_added",
            json!({"actor_id": genpipe, "key": {"key_id": second.key_id, "public_key": second.public_key_base64()}}),
        ))?,
    )?;
    system_events += 1;

    let today = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let start = today - chrono::Duration::days(DEMO_DAYS);
    let mut r = Recording { client, project, files: &files, count: 0, start, clock: start };
    let c = &crew;
    // Stages overlap as they do in a studio: R&D starts before ideation closes, production
    // before exploration does.
    r.day(0, 9, 0);
    ideation(&mut r, c, &roles, &client_org)?;
    r.day(1, 10, 0);
    rnd(&mut r, c)?;
    r.day(2, 15, 0);
    revise_brief(&mut r, c)?;
    r.day(3, 9, 30);
    let casting = exploration(&mut r, c)?;
    r.day(6, 9, 0);
    production(&mut r, c)?;
    r.day(10, 9, 0);
    finishing::refinement(&mut r, c)?;
    r.day(12, 9, 0);
    let delivered = finishing::delivery(&mut r, c)?;
    r.day(13, 9, 0);
    let (event_id, commitment) = casting;
    // The talent's release ends: the prompt keeps its commitment, her name is erased for good.
    r.send(
        "erase the talent's name",
        &c.producer,
        "confidential_erased",
        json!({"event_id": event_id, "commitment": commitment, "reason": "the talent's release AQ-2291 ended"}),
    )?;

    check(
        "revoke the rotated key",
        client.append(&admin.envelope(
            "system",
            "key_revoked",
            json!({"actor_id": genpipe, "key_id": second.key_id, "reason": "rotation finished"}),
        ))?,
    )?;
    system_events += 1;

    let project_events = r.count;
    let others = if series { others(client, &admin, c, name, run_id, &ledger)? } else { vec![] };
    Ok(DemoSummary { project: project.to_owned(), project_events, system_events, deliveries: delivered, files, others })
}

/// The social series and the e-comm run, for two more clients.
fn others(
    client: &Client,
    admin: &Signer,
    c: &Crew,
    name: &str,
    run_id: &str,
    ledger: &str,
) -> Result<Vec<(String, usize, DemoFiles)>, DemoError> {
    let drinks = series::client_side(
        client,
        admin,
        ("brightwave-drinks", "Brightwave Drinks"),
        ("ben-brand", "chloe-client"),
        run_id,
        ledger,
    )?;
    let social = format!("brightwave-drinks:{name}-social");
    let (social_files, social_events) = series::social(client, c, &drinks, &social)?;
    let gear = series::client_side(
        client,
        admin,
        ("northpeak-gear", "Northpeak Gear"),
        ("nora-brand", "olaf-client"),
        run_id,
        ledger,
    )?;
    let ecomm = format!("northpeak-gear:{name}-ecomm");
    let (ecomm_files, ecomm_events) = series::ecomm(client, c, &gear, &ecomm)?;
    Ok(vec![(social, social_events, social_files), (ecomm, ecomm_events, ecomm_files)])
}

/// Appends the project's events one by one (or as a batch), counting them.
/// Each event says when it happened: the production runs over the two weeks before the demo,
/// a working day at a time, so that its stages have durations, overlaps and days of activity.
struct Recording<'a> {
    client: &'a Client,
    project: &'a str,
    files: &'a DemoFiles,
    count: usize,
    /// Midnight (UTC) of the production's first day, and when the next event happens.
    start: chrono::DateTime<chrono::Utc>,
    clock: chrono::DateTime<chrono::Utc>,
}

/// Days the demo's production lasts, ending the day before it is run.
const DEMO_DAYS: i64 = 14;

impl Recording<'_> {
    /// The next events happen from day `day` (0 is the first) at `hour`:`minute` UTC.
    fn day(&mut self, day: i64, hour: i64, minute: i64) {
        self.clock = self.start + chrono::Duration::days(day) + chrono::Duration::minutes(hour * 60 + minute);
    }

    /// When the next event happens; the clock then moves on by `minutes`.
    fn tick(&mut self, minutes: i64) -> chrono::DateTime<chrono::Utc> {
        let at = self.clock;
        self.clock += chrono::Duration::minutes(minutes);
        at
    }

    fn send(&mut self, step: &str, signer: &Signer, kind: &str, body: Value) -> Result<Answer, DemoError> {
        let at = self.tick(35);
        let answer = check(step, self.client.append(&signer.envelope_at(self.project, kind, body, at))?)?;
        self.count += 1;
        Ok(answer)
    }

    fn batch(&mut self, step: &str, envelopes: &[Vec<u8>]) -> Result<Answer, DemoError> {
        let answer = check(step, self.client.append_batch(envelopes)?)?;
        self.count += envelopes.len();
        Ok(answer)
    }
}

/// Ideation & references: the project, its crew, the client's stricter rule, the brief and
/// its references.
fn ideation(r: &mut Recording<'_>, c: &Crew, roles: &[(String, String)], client_org: &str) -> Result<(), DemoError> {
    r.send(
        "create the project",
        &c.producer,
        "project_created",
        json!({"content_type": "campaign", "title": "Aurora trail shoe — spring launch", "client": "Aurora Outdoor",
               "client_organization": client_org}),
    )?;
    // The producer who created the project is its first member; it adds the rest of the crew.
    for (actor, role) in roles.iter().skip(1) {
        r.send(
            &format!("add {actor} to the project"),
            &c.producer,
            "member_added",
            json!({"actor_id": actor, "role": role}),
        )?;
    }
    // The client's brand team asks for its own approval on top of the campaign rule set.
    r.send(
        "the client's stricter rule",
        &c.brand,
        "policy_amended",
        json!({"rules": [{"rule": "approval.brand-compliance"}],
               "reason": "Aurora requires brand compliance sign-off on every campaign asset"}),
    )?;
    r.send("open ideation", &c.producer, "stage_marked", json!({"stage": "ideation", "mark": "opened"}))?;
    r.send(
        "record the brief",
        &c.producer,
        "brief_recorded",
        json!({
        "brief_id": "brief-main", "title": "Spring launch key visual",
        "text": "A runner at first light on a ridge, the Aurora shoe hero-lit; optimistic, cold air, real terrain.",
        "deliverable_formats": ["jpeg", "tiff"], "channels": ["instagram", "magazine", "billboard"],
        "training_and_mining": {"ai_generative_training": "not_allowed", "ai_training": "not_allowed",
                                "ai_inference": "constrained", "data_mining": "not_allowed"}}),
    )?;
    let moodboard = r.files.digest("moodboard");
    r.send(
        "add a visual reference",
        &c.director,
        "reference_added",
        json!({
        "reference_id": "ref-moodboard", "category": "visual", "title": "Dawn ridge moodboard",
        "source": "internal moodboard v3", "rights": {"status": "owned", "reproduction": "allowed"}, "digest": moodboard}),
    )?;
    r.send(
        "add a cultural reference",
        &c.director,
        "reference_added",
        json!({
        "reference_id": "ref-fell-running", "category": "cultural", "title": "Fell running photography, 1970s",
        "source": "licensed archive set 4411",
        "rights": {"status": "licensed", "holder": "Archive North", "reproduction": "reference_only", "note": "reference only, no reproduction"}}),
    )?;
    r.send(
        "add the brand guideline",
        &c.brand,
        "reference_added",
        json!({
        "reference_id": "ref-brand-book", "category": "brand_guideline", "title": "Aurora brand book 2027",
        "source": "brand book section 4: product colour", "rights": {"status": "owned", "reproduction": "allowed"}}),
    )?;
    Ok(())
}

/// Day 3: the client's feedback revises the brief, and ideation closes.
fn revise_brief(r: &mut Recording<'_>, c: &Crew) -> Result<(), DemoError> {
    r.send(
        "revise the brief",
        &c.director,
        "brief_revised",
        json!({
        "brief_id": "brief-main", "text": "A runner at first light on a ridge, the Aurora shoe hero-lit in brand teal; cold air, real terrain, no lens flare.",
        "reason": "client feedback: product colour must read as brand teal"}),
    )?;
    r.send("complete ideation", &c.producer, "stage_marked", json!({"stage": "ideation", "mark": "completed"}))?;
    Ok(())
}

/// R&D: the model versions and the pipeline.
fn rnd(r: &mut Recording<'_>, c: &Crew) -> Result<(), DemoError> {
    r.send("open R&D", &c.producer, "stage_marked", json!({"stage": "rnd", "mark": "opened"}))?;
    r.send(
        "register the base model",
        &c.ai_artist,
        "model_version_registered",
        json!({
        "model_version_id": "mv-base-xl-2", "provider": "Stability AI", "family": "SDXL", "version": "1.0",
        "weights_digest": r.files.digest("sdxl-weights"), "license": "CreativeML Open RAIL++-M", "license_use": "commercial",
        "training_data_statement": "Vendor statement: LAION-derived, filtered; see model card."}),
    )?;
    r.send(
        "register the fine-tune",
        &c.ai_artist,
        "model_version_registered",
        json!({
        "model_version_id": "mv-aurora-lora-3", "provider": "in-house", "family": "SDXL LoRA", "version": "3",
        "weights_digest": r.files.digest("aurora-lora-3"), "license": "proprietary", "license_use": "commercial",
        "training_data_statement": "Trained only on Aurora-owned product photography (412 images, rights cleared)."}),
    )?;
    r.send(
        "define the pipeline",
        &c.ai_artist,
        "pipeline_defined",
        json!({
        "pipeline_id": "pl-hero", "name": "Hero still pipeline",
        "steps": [
            {"name": "generate", "tool": "ComfyUI 0.3", "settings": {"sampler": "dpmpp_2m", "steps": 40}},
            {"name": "product lock", "tool": "ControlNet depth", "settings": {"weight": 0.7}},
        ],
        "model_versions": ["mv-base-xl-2", "mv-aurora-lora-3"]}),
    )?;
    Ok(())
}

/// The text of the demo's confidential prompt: it names the talent cast.
pub(super) const CASTING_TEXT: &str =
    "Mara Quist (talent, release AQ-2291) mid-stride on the ridge, Aurora shoe in focus";

/// A prompt naming the talent cast, recorded by its salted commitment (docs/confidential.md),
/// its clear text kept apart from the log. Returns its event id and commitment, erased when the
/// talent's release ends.
fn casting_prompt(r: &mut Recording<'_>, c: &Crew) -> Result<(String, String), DemoError> {
    let mut salt = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut salt);
    let commitment = crate::domain::confidential::commitment_of(r.project, &salt, CASTING_TEXT);
    let answer = r.send(
        "a prompt naming the talent, by its commitment",
        &c.director,
        "prompt_authored",
        json!({"prompt_id": "pr-casting", "text": {"commitment": commitment}, "references": ["ref-moodboard"],
               "brief_id": "brief-main"}),
    )?;
    let kept = json!({"sequence": answer.body["sequence"], "field": "/body/text", "salt": hex::encode(salt),
                      "text": CASTING_TEXT});
    let path = format!("/v1/projects/{}/confidential", r.project);
    check("keep the prompt's clear text apart", r.client.put(&path, kept.to_string().as_bytes())?)?;
    let event_id = answer.body["event_id"].as_str().unwrap_or_default().to_owned();
    Ok((event_id, commitment.to_string()))
}

/// Exploration: prompts, 20 generations, a selection. Returns the casting prompt's event id and
/// commitment.
fn exploration(r: &mut Recording<'_>, c: &Crew) -> Result<(String, String), DemoError> {
    r.send("open exploration", &c.producer, "stage_marked", json!({"stage": "exploration", "mark": "opened"}))?;
    r.send(
        "author the first prompt",
        &c.director,
        "prompt_authored",
        json!({
        "prompt_id": "pr-1", "text": "trail runner on a misty ridge at dawn, Aurora shoe in focus, 35mm, f/2.8",
        "negative_prompt": "lens flare, extra limbs, text", "parameters": {"cfg": 6.5},
        "references": ["ref-moodboard"], "brief_id": "brief-main"}),
    )?;
    r.send(
        "iterate the prompt",
        &c.ai_artist,
        "prompt_authored",
        json!({
        "prompt_id": "pr-2", "text": "trail runner mid-stride on a misty ridge at dawn, Aurora shoe in brand teal, low angle, 35mm, f/2.8",
        "negative_prompt": "lens flare, extra limbs, text, warped laces", "parameters": {"cfg": 7},
        "references": ["ref-moodboard", "ref-brand-book"], "parent_prompt": "pr-1", "brief_id": "brief-main"}),
    )?;
    let casting = casting_prompt(r, c)?;
    let mut generations = Vec::new();
    r.day(4, 10, 0);
    for i in 1..=20u32 {
        let (prompt, model) = if i <= 8 { ("pr-1", "mv-base-xl-2") } else { ("pr-2", "mv-aurora-lora-3") };
        let at = r.tick(12);
        generations.push(c.pipeline.envelope_at(
            r.project,
            "generation_recorded",
            json!({
            "generation_id": format!("gen-{i:02}"), "model_version": model, "prompt": prompt, "pipeline": "pl-hero",
            "seed": files::seed(i), "parameters": {"steps": 40, "cfg": 7},
            "outputs": [r.files.output(&format!("img-{i:02}"))]}),
            at,
        ));
    }
    r.batch("record 20 generations", &generations)?;
    r.day(5, 14, 0);
    let selected = ["img-12", "img-15", "img-18"];
    let rejected: Vec<String> =
        (1..=20).map(|i| format!("img-{i:02}")).filter(|a| !selected.contains(&a.as_str())).collect();
    r.send(
        "select",
        &c.director,
        "selection_made",
        json!({
        "selection_id": "sel-round-1", "round": 1, "selected": selected, "rejected": rejected,
        "rationale": "12 has the stride, 15 the light, 18 the product angle; the rest show warped laces or flat light."}),
    )?;
    r.send(
        "note on the rejects",
        &c.ai_artist,
        "note_added",
        json!({"text": "Base-model outputs lose the brand teal; keep the LoRA for production.", "assets": ["img-03"]}),
    )?;
    Ok(casting)
}

/// Production: retouch, compositing and upres.
fn production(r: &mut Recording<'_>, c: &Crew) -> Result<(), DemoError> {
    r.send("open production", &c.producer, "stage_marked", json!({"stage": "production", "mark": "opened"}))?;
    r.send("complete R&D", &c.producer, "stage_marked", json!({"stage": "rnd", "mark": "completed"}))?;
    r.send(
        "retouch",
        &c.post_artist,
        "post_edit_applied",
        json!({
        "edit_id": "ed-retouch-1", "technique": "retouch", "tool": "Photoshop 2027", "performed_by": "human", "generative": false,
        "inputs": ["img-12"], "output": r.files.output("hero-retouched"), "notes": "laces and sole cleaned"}),
    )?;
    r.day(7, 9, 30);
    r.send("complete exploration", &c.producer, "stage_marked", json!({"stage": "exploration", "mark": "completed"}))?;
    r.send(
        "import the packshot",
        &c.post_artist,
        "asset_imported",
        json!({
        "asset": r.files.output("shoe-packshot"), "origin": "packshot",
        "source": "Aurora product studio, trail shoe TR-2027, side view",
        "rights": {"status": "owned", "holder": "Aurora Outdoor", "reproduction": "allowed"}}),
    )?;
    sky_again(r, c)?;
    r.day(8, 10, 0);
    r.send(
        "composite",
        &c.post_artist,
        "post_edit_applied",
        json!({
        "edit_id": "ed-comp-1", "technique": "compositing", "tool": "Nuke 15", "performed_by": "human", "generative": false,
        "inputs": ["hero-retouched", "img-15", "shoe-packshot"], "output": r.files.output("hero-comp"),
        "notes": "sky from 15, the real shoe from the packshot"}),
    )?;
    r.day(9, 11, 0);
    r.send(
        "upres",
        &c.ai_artist,
        "post_edit_applied",
        json!({
        "edit_id": "ed-upres-1", "technique": "upres", "tool": "Topaz Gigapixel 8", "performed_by": "ai", "generative": false,
        "inputs": ["hero-comp"], "output": r.files.output("hero-master")}),
    )?;
    r.send("complete production", &c.producer, "stage_marked", json!({"stage": "production", "mark": "completed"}))?;
    Ok(())
}

/// Back to generation in the middle of post: two new skies from a third prompt, neither better
/// than img-15's, both rejected.
fn sky_again(r: &mut Recording<'_>, c: &Crew) -> Result<(), DemoError> {
    r.day(7, 14, 0);
    r.send(
        "a prompt for the sky",
        &c.ai_artist,
        "prompt_authored",
        json!({
        "prompt_id": "pr-3", "text": "misty ridge at first light, empty sky with high cirrus, 35mm, f/2.8",
        "negative_prompt": "people, text, lens flare", "parameters": {"cfg": 6},
        "references": ["ref-moodboard"], "parent_prompt": "pr-2", "brief_id": "brief-main"}),
    )?;
    for i in 21..=22u32 {
        r.send(
            &format!("generate sky {i}"),
            &c.pipeline,
            "generation_recorded",
            json!({
            "generation_id": format!("gen-{i:02}"), "model_version": "mv-aurora-lora-3", "prompt": "pr-3", "pipeline": "pl-hero",
            "seed": files::seed(i), "parameters": {"steps": 40, "cfg": 6}, "outputs": [r.files.output(&format!("img-{i:02}"))]}),
        )?;
    }
    r.send(
        "keep img-15's sky",
        &c.director,
        "selection_made",
        json!({
        "selection_id": "sel-round-2", "round": 2, "selected": [], "rejected": ["img-21", "img-22"],
        "rationale": "neither sky beats img-15's light; the composite keeps it"}),
    )?;
    Ok(())
}
