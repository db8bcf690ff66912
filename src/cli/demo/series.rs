//! The demo's other productions, for two more clients of the agency: a social series (three
//! posts, rejected candidates, exploration reopened after the client's feedback) and an e-comm
//! run (a dozen products, a colour fix after a failed QC, 240 delivered variants).

use super::files::DemoFiles;
use super::images::Image;
use super::{check, Crew, DemoError, Recording};
use crate::cli::client::{Client, Signer};
use crate::crypto::keys::KeyFile;
use serde_json::{json, Value};

/// Products of the e-comm run, and the ways each is delivered.
const PRODUCTS: u32 = 12;
const ECOMM_FORMATS: [(&str, &str); 2] = [("jpeg", "image/jpeg"), ("png", "image/png")];
const ECOMM_CHANNELS: [&str; 2] = ["pdp", "marketplace"];
const LOCALES: [&str; 5] = ["en-GB", "de-DE", "fr-FR", "it-IT", "es-ES"];

/// A client of the agency, with its brand and approval people.
pub struct ClientSide {
    pub organization: String,
    pub brand: Signer,
    pub approver: Signer,
}

/// Registers a client organisation (unless it is) and its two people.
pub fn client_side(
    client: &Client,
    admin: &Signer,
    (id, name): (&str, &str),
    (brand_person, approver_person): (&str, &str),
    run_id: &str,
    ledger: &str,
) -> Result<ClientSide, DemoError> {
    let mut events = Vec::new();
    if !super::registered_organizations(client)?.contains(id) {
        events.push(admin.envelope(
            "system",
            "organization_registered",
            json!({"organization_id": id, "display_name": name, "kind": "client"}),
        ));
    }
    let person = |who: &str, role: &str| {
        let actor = format!("{who}-{run_id}");
        let key = KeyFile::generate(&actor, &format!("{actor}-key-1"));
        let event = admin.envelope(
            "system",
            "actor_registered",
            json!({"actor_id": actor, "display_name": super::display_name(&actor, role), "role": role, "organization": id,
                   "keys": [{"key_id": key.key_id, "public_key": key.public_key_base64()}]}),
        );
        (Signer::new(key, ledger), event)
    };
    let (brand, brand_event) = person(brand_person, "brand_compliance");
    let (approver, approver_event) = person(approver_person, "client_approver");
    events.extend([brand_event, approver_event]);
    check(&format!("register {id} and its people"), client.append_batch(&events)?)?;
    Ok(ClientSide { organization: id.to_owned(), brand, approver })
}

/// Creates a project for a client and adds the people who work on it.
fn open_project(
    r: &mut Recording<'_>,
    c: &Crew,
    side: &ClientSide,
    title: &str,
    content: &str,
) -> Result<(), DemoError> {
    r.send(
        "create the project",
        &c.producer,
        "project_created",
        json!({"content_type": content, "title": title, "client_organization": side.organization}),
    )?;
    let members = [
        (&c.director, "creative_director"),
        (&c.ai_artist, "ai_artist"),
        (&c.post_artist, "post_artist"),
        (&c.qc, "qc_reviewer"),
        (&c.pipeline, "integration"),
        (&side.brand, "brand_compliance"),
        (&side.approver, "client_approver"),
    ];
    let adds: Vec<Vec<u8>> = members
        .iter()
        .map(|(who, role)| {
            let at = r.tick(2);
            c.producer.envelope_at(r.project, "member_added", json!({"actor_id": who.key.actor, "role": role}), at)
        })
        .collect();
    r.batch("add the crew", &adds)?;
    Ok(())
}

fn model_and_prompt(r: &mut Recording<'_>, c: &Crew, model: &str, prompt: &str, text: &str) -> Result<(), DemoError> {
    r.send(
        "register the model",
        &c.ai_artist,
        "model_version_registered",
        json!({"model_version_id": model, "provider": "Stability AI", "family": "SDXL", "version": "1.0",
               "license": "CreativeML Open RAIL++-M", "license_use": "commercial",
               "training_data_statement": "Vendor statement: LAION-derived, filtered; see model card."}),
    )?;
    r.send(
        "author the prompt",
        &c.ai_artist,
        "prompt_authored",
        json!({"prompt_id": prompt, "text": text, "parameters": {"cfg": 6.5}, "brief_id": "brief-main"}),
    )?;
    Ok(())
}

/// Generations of one prompt, as one batch: each makes the named output.
fn generate(
    r: &mut Recording<'_>,
    c: &Crew,
    model: &str,
    prompt: &str,
    outputs: &[(String, Value)],
) -> Result<(), DemoError> {
    let events: Vec<Vec<u8>> = outputs
        .iter()
        .map(|(id, body)| {
            let at = r.tick(6);
            let mut body = body.clone();
            body["generation_id"] = json!(format!("gen-{id}"));
            body["model_version"] = json!(model);
            body["prompt"] = json!(prompt);
            c.pipeline.envelope_at(r.project, "generation_recorded", body, at)
        })
        .collect();
    r.batch("record the generations", &events)?;
    Ok(())
}

/// The social series: three posts for a drinks brand over the last week.
pub fn social(client: &Client, c: &Crew, side: &ClientSide, project: &str) -> Result<(DemoFiles, usize), DemoError> {
    let mut files = DemoFiles::empty();
    let candidates: Vec<String> = (1..=14).map(|i| format!("fizz-{i:02}")).collect();
    for (i, name) in candidates.iter().enumerate() {
        files.add_image(name, &Image::generated(7000 + i as u64 * 13, 240, 300), "image/png");
    }
    let posts = ["fizz-02", "fizz-07", "fizz-13"];
    let channels = [("instagram", (432, 540)), ("tiktok", (360, 640))];
    for post in posts {
        let source = Image::generated(7000 + (post[5..].parse::<u64>().unwrap_or(1) - 1) * 13, 240, 300);
        for (channel, (w, h)) in channels {
            files.add_image(&format!("{post}-{channel}"), &source.resized(w, h), "image/jpeg");
        }
    }
    let today = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let start = today - chrono::Duration::days(7);
    let mut r = Recording { client, project, files: &files, count: 0, start, clock: start };
    r.day(0, 10, 0);
    open_project(&mut r, c, side, "Brightwave summer fizz — three posts", "social")?;
    r.send("brief", &c.producer, "brief_recorded", json!({"brief_id": "brief-main", "title": "Summer fizz",
        "text": "Three bright stills of the can on ice, one a day.", "deliverable_formats": ["jpeg"], "channels": ["instagram", "tiktok"]}))?;
    r.day(1, 9, 0);
    model_and_prompt(&mut r, c, "mv-fizz-xl", "pr-fizz", "a can of Brightwave on crushed ice, summer light, top-down")?;
    let outputs = |ids: &[String], r: &Recording<'_>| -> Vec<(String, Value)> {
        ids.iter().map(|id| (id.clone(), json!({"seed": 7, "outputs": [r.files.output(id)]}))).collect()
    };
    let first = outputs(&candidates[..12], &r);
    generate(&mut r, c, "mv-fizz-xl", "pr-fizz", &first)?;
    r.day(2, 11, 0);
    let rejected: Vec<&String> =
        candidates[..12].iter().filter(|id| !["fizz-02", "fizz-07", "fizz-09"].contains(&id.as_str())).collect();
    r.send("select", &c.director, "selection_made", json!({"selection_id": "sel-1", "round": 1,
        "selected": ["fizz-02", "fizz-07", "fizz-09"], "rejected": rejected, "rationale": "the three with the crispest ice"}))?;
    // The client wants a warmer third post: exploration again.
    r.day(3, 15, 0);
    r.send(
        "client feedback",
        &c.producer,
        "note_added",
        json!({"text": "Post three reads cold; can we get late-afternoon light?", "assets": ["fizz-09"]}),
    )?;
    r.send(
        "reopen exploration",
        &c.producer,
        "stage_marked",
        json!({"stage": "exploration", "mark": "reopened", "note": "warmer light for post three"}),
    )?;
    let second = outputs(&candidates[12..], &r);
    generate(&mut r, c, "mv-fizz-xl", "pr-fizz", &second)?;
    r.send(
        "select again",
        &c.director,
        "selection_made",
        json!({"selection_id": "sel-2", "round": 2,
        "selected": ["fizz-13"], "rejected": ["fizz-09", "fizz-14"], "rationale": "13 has the warm light"}),
    )?;
    r.day(4, 10, 0);
    for post in posts {
        r.send(
            "QC",
            &c.qc,
            "qc_review_recorded",
            json!({"review_id": format!("qc-{post}"), "asset": post, "digest": r.files.digest(post),
            "checks": [{"check": "artifacts", "result": "pass"}, {"check": "product_accuracy", "result": "pass"}],
            "proof_medium": "screen", "proof_size": "phone", "verdict": "pass"}),
        )?;
        r.send(
            "client approval",
            &side.approver,
            "approval_recorded",
            json!({"approval_id": format!("ap-{post}"), "asset": post,
            "digest": r.files.digest(post), "decision": "approved"}),
        )?;
    }
    for (day, post) in posts.iter().enumerate() {
        r.day(5 + day as i64 / 2, 8 + day as i64, 0);
        for (channel, (w, h)) in channels {
            let variant = format!("{post}-{channel}");
            r.send(
                "deliver",
                &c.pipeline,
                "delivery_recorded",
                json!({"delivery_id": format!("dl-{variant}"), "master_asset": post,
                "variant": r.files.output(&variant), "format": "jpeg", "channel": channel, "medium": "digital",
                "dimensions": {"width": w, "height": h}, "locale": "en-GB", "usage": "commercial"}),
            )?;
        }
    }
    let count = r.count;
    Ok((files, count))
}

/// The e-comm run: a dozen products, each on an AI background, checked, approved and delivered
/// in two formats to two channels in five locales.
pub fn ecomm(client: &Client, c: &Crew, side: &ClientSide, project: &str) -> Result<(DemoFiles, usize), DemoError> {
    let mut files = DemoFiles::empty();
    let products: Vec<String> = (1..=PRODUCTS).map(|i| format!("p{i:02}")).collect();
    let mut masters = Vec::new();
    for (i, p) in products.iter().enumerate() {
        let packshot = Image::packshot(300 + i as u32, 240);
        let scene = Image::composite(
            &Image::generated(9000 + i as u64, 320, 320),
            &Image::generated(9100 + i as u64, 320, 320),
            &packshot,
        );
        files.add_image(&format!("{p}-packshot"), &packshot, "image/jpeg");
        files.add_image(&format!("{p}-scene"), &scene, "image/png");
        masters.push((format!("{p}-scene"), scene));
    }
    let fixed = masters[6].1.retouched();
    files.add_image("p07-scene-v2", &fixed, "image/png");
    masters[6] = ("p07-scene-v2".to_owned(), fixed);
    let mut k = 0;
    for (master, image) in &masters {
        for (format, media_type) in ECOMM_FORMATS {
            for channel in ECOMM_CHANNELS {
                for locale in LOCALES {
                    k += 1;
                    let (w, h) = (200 + k % 97, 200 + k / 97);
                    files.add_image(&variant_name(master, format, channel, locale), &image.resized(w, h), media_type);
                }
            }
        }
    }
    let today = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let start = today - chrono::Duration::days(10);
    let mut r = Recording { client, project, files: &files, count: 0, start, clock: start };
    r.day(0, 9, 0);
    open_project(&mut r, c, side, "Northpeak spring catalogue", "ecomm")?;
    r.send("brief", &c.producer, "brief_recorded", json!({"brief_id": "brief-main", "title": "Spring catalogue, 12 products",
        "text": "Each product on a mountain scene; true product colour.", "deliverable_formats": ["jpeg", "png"], "channels": ECOMM_CHANNELS}))?;
    r.day(1, 9, 0);
    let imports: Vec<Vec<u8>> = products.iter().map(|p| {
        let at = r.tick(3);
        c.post_artist.envelope_at(project, "asset_imported", json!({"asset": r.files.output(&format!("{p}-packshot")), "origin": "packshot",
            "source": format!("Northpeak studio, product {p}"), "rights": {"status": "owned", "holder": "Northpeak Gear", "reproduction": "allowed"}}), at)
    }).collect();
    r.batch("import the packshots", &imports)?;
    r.day(2, 10, 0);
    model_and_prompt(
        &mut r,
        c,
        "mv-scene-xl",
        "pr-scene",
        "the product on a granite ledge, alpine morning, soft shadows",
    )?;
    let outputs: Vec<(String, Value)> = products.iter().map(|p| {
        (p.clone(), json!({"seed": 11, "input_assets": [format!("{p}-packshot")], "outputs": [r.files.output(&format!("{p}-scene"))]}))
    }).collect();
    generate(&mut r, c, "mv-scene-xl", "pr-scene", &outputs)?;
    r.day(4, 9, 0);
    let review = |asset: &str, colour: &str, r: &Recording<'_>| {
        json!({"review_id": format!("qc-{asset}"), "asset": asset, "digest": r.files.digest(asset),
        "checks": [{"check": "product_accuracy", "result": "pass"}, {"check": "colour_accuracy", "result": colour}],
        "proof_medium": "screen", "proof_size": "100%", "verdict": if colour == "pass" { "pass" } else { "fail" }})
    };
    let reviews: Vec<Vec<u8>> = products
        .iter()
        .map(|p| {
            let asset = format!("{p}-scene");
            let colour = if p == "p07" { "fail" } else { "pass" };
            let at = r.tick(4);
            c.qc.envelope_at(project, "qc_review_recorded", review(&asset, colour, &r), at)
        })
        .collect();
    r.batch("QC every scene", &reviews)?;
    r.day(5, 10, 0);
    r.send("fix p07's colour", &c.post_artist, "post_edit_applied", json!({"edit_id": "ed-p07-colour", "technique": "colour", "tool": "Capture One 16",
        "performed_by": "human", "generative": false, "inputs": ["p07-scene"], "output": r.files.output("p07-scene-v2")}))?;
    let again = review("p07-scene-v2", "pass", &r);
    r.send("QC the fix", &c.qc, "qc_review_recorded", again)?;
    r.day(6, 14, 0);
    let approvals: Vec<Vec<u8>> = masters.iter().flat_map(|(m, _)| {
        [(&side.brand, "brand"), (&side.approver, "client")].map(|(who, tag)| {
            let at = r.tick(2);
            who.envelope_at(project, "approval_recorded", json!({"approval_id": format!("ap-{tag}-{m}"), "asset": m, "digest": r.files.digest(m), "decision": "approved"}), at)
        })
    }).collect();
    r.batch("approve every master", &approvals)?;
    for (day, chunk) in masters.chunks(4).enumerate() {
        r.day(7 + day as i64, 9, 0);
        let mut deliveries = Vec::new();
        for (master, image) in chunk {
            for (format, _) in ECOMM_FORMATS {
                for channel in ECOMM_CHANNELS {
                    for locale in LOCALES {
                        let variant = variant_name(master, format, channel, locale);
                        let _ = image;
                        let output = r.files.output(&variant);
                        let (w, h) = (output["width"].clone(), output["height"].clone());
                        let at = r.tick(1);
                        deliveries.push(c.pipeline.envelope_at(project, "delivery_recorded", json!({"delivery_id": format!("dl-{variant}"),
                            "master_asset": master, "variant": output, "format": format, "channel": channel, "medium": "digital",
                            "dimensions": {"width": w, "height": h}, "locale": locale, "usage": "commercial"}), at));
                    }
                }
            }
        }
        r.batch("deliver a day's products", &deliveries)?;
    }
    let count = r.count;
    Ok((files, count))
}

fn variant_name(master: &str, format: &str, channel: &str, locale: &str) -> String {
    format!("{}-{channel}-{format}-{}", master.trim_end_matches("-scene").replace("-scene", ""), locale.to_lowercase())
}
