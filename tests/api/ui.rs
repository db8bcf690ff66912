//! The web UI in a real browser: the real binary serves the demo's data (a campaign, a social
//! series and an e-comm run for three clients, with their files), and `tests/ui_check.py` drives
//! headless Chromium through WebDriver — signing in, opening every page, checking what each
//! shows, and checking that a token scoped to one client's organisation sees nothing of
//! another's. Screenshots of every page land in `target/ui-screenshots/`.

use crate::helpers::*;
use serde_json::json;
use std::process::Command;

/// Installs selenium when it is missing (as `.ci/run` does), once. Chromium and chromedriver
/// are Debian's packages, which `.ci/run` installs.
fn driver_installed() {
    let present = Command::new("python3").args(["-c", "import selenium"]).status();
    if !present.is_ok_and(|s| s.success()) {
        let installed = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "selenium==4.51.0"])
            .status()
            .expect("python3 runs");
        assert!(installed.success(), "pip installs selenium");
    }
    for binary in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            std::path::Path::new(binary).exists(),
            "{binary} is missing: `apt-get install chromium chromium-driver` (as .ci/run does)"
        );
    }
}

fn lineage(args: &[&str]) -> String {
    let run = Command::new(env!("CARGO_BIN_EXE_lineage")).args(args).output().unwrap();
    assert!(run.status.success(), "lineage {args:?}: {}", String::from_utf8_lossy(&run.stderr));
    String::from_utf8_lossy(&run.stdout).into_owned()
}

#[test]
fn every_page_shows_what_the_token_may_read_in_a_real_browser() {
    driver_installed();
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    let (_server, port) = start_server_with(dir.path(), &["--files", files.to_str().unwrap()], &[]);
    let url = format!("http://127.0.0.1:{port}");
    let data = dir.path().join("data");
    let into = files.to_str().unwrap();
    lineage(&["demo", "--url", &url, "--data", data.to_str().unwrap(), "--project", "aurora", "--files", into]);
    assert!(files.join("aurora-outdoor/aurora/img-12.png").exists(), "each project's files in its own folder");
    let admin = std::fs::read_to_string(data.join("admin.token")).unwrap().trim().to_owned();
    let issued = ureq::post(&format!("{url}/v1/tokens"))
        .set("Authorization", &format!("Bearer {admin}"))
        .send_json(serde_json::json!({"name": "brightwave reviewer", "organization": "brightwave-drinks"}))
        .unwrap()
        .into_json::<serde_json::Value>()
        .unwrap();
    let scoped = issued["token"].as_str().unwrap();
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots");
    let run = Command::new("python3")
        .arg("tests/ui_check.py")
        .args([
            &url,
            &admin,
            scoped,
            "aurora-outdoor:aurora",
            "brightwave-drinks:aurora-social",
            "northpeak-gear:aurora-ecomm",
        ])
        .arg(&shots)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    for page in
        ["1-projects", "2-project", "3-assets", "4-asset-delivered", "6-models", "7-history", "8-scoped-projects"]
    {
        assert!(shots.join(format!("{page}.png")).exists(), "a screenshot of {page}");
    }
}

/// Without a session every page sends the browser to the sign-in form; a session cookie is
/// never taken for a change (a POST with it is answered as without a token).
#[test]
fn pages_need_a_session_and_a_session_reads_only() {
    let app = spawn_app();
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let answer = agent.get(&format!("{}/ui/models", app.url)).call().unwrap();
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.header("Location"), Some("/ui/sign-in?next=%2Fui%2Fmodels"));
    let token = std::fs::read_to_string(app.data().admin_token()).unwrap();
    let signed_in = agent
        .post(&format!("{}/ui/sign-in", app.url))
        .send_form(&[("token", token.trim()), ("next", "https://elsewhere.example/")])
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.header("Location"), Some("/ui/"), "never sent off the UI");
    let cookie = signed_in.header("Set-Cookie").unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_owned();
    let page = agent.get(&format!("{}/ui/", app.url)).set("Cookie", &session).call().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.header("Content-Security-Policy").unwrap().contains("default-src 'none'"));
    let read = agent.get(&format!("{}/v1/actors", app.url)).set("Cookie", &session).call().unwrap();
    assert_eq!(read.status(), 200, "a session reads the API");
    let issue = agent
        .post(&format!("{}/v1/tokens", app.url))
        .set("Cookie", &session)
        .send_json(serde_json::json!({"name": "by a cookie"}));
    let Err(ureq::Error::Status(401, refused)) = issue else { panic!("a session cookie issued a token") };
    let problem: serde_json::Value = refused.into_json().unwrap();
    assert_eq!(problem["type"], "urn:lineage:problem:unauthorized");
    for next in ["/ui/\r\nSet-Cookie: a=b", "/ui/\t/evil.example", "//evil.example/ui/", "/ui//evil.example"] {
        let answer = agent
            .post(&format!("{}/ui/sign-in", app.url))
            .send_form(&[("token", token.trim()), ("next", next)])
            .unwrap();
        assert_eq!(answer.header("Location"), Some("/ui/"), "{next:?} is not followed");
    }
    for page in
        ["/ui/?page=18446744073709551615", "/ui/?page=0", "/ui/projects/acme:none/assets?page=18446744073709551615"]
    {
        let answer = match agent.get(&format!("{}{page}", app.url)).set("Cookie", &session).call() {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{page}: {e}"),
        };
        assert!(answer.status() < 500, "{page}: {}", answer.status());
    }
    let bad = agent.post(&format!("{}/ui/sign-in", app.url)).send_form(&[("token", "lin_nothing")]);
    let Err(ureq::Error::Status(401, refused)) = bad else { panic!("an unknown token signed in") };
    assert!(refused.into_string().unwrap().contains("the bearer token is not valid"));
}

/// An asset's file comes from its own project's folder only, served as an image only when the
/// recorded media type is one, and not read again when the browser holds it.
#[test]
fn an_asset_file_is_served_from_its_own_project_only() {
    let files = tempfile::tempdir().unwrap();
    let folder = |name: &str| files.path().join(CLIENT).join(name);
    std::fs::create_dir_all(folder("p1")).unwrap();
    std::fs::write(folder("p1").join("img-1.png"), b"img-1").unwrap();
    std::fs::write(folder("p1").join("page.html"), b"page").unwrap();
    let dir = files.path().to_owned();
    let p = Production::on(spawn_app_with(move |s| s.files = Some(dir)), "p1");
    let import = |project: &str, id: &str, bytes: &str, media_type: &str| {
        let body = json!({"asset": {"asset_id": id, "digest": digest(bytes), "media_type": media_type},
            "origin": "packshot", "source": "studio", "rights": {"status": "owned", "reproduction": "allowed"}});
        let answer = p.app.send(&p.post.envelope(project, "asset_imported", body));
        assert_eq!(answer.status, 201, "{:?}", answer.body);
    };
    import(&pid("p1"), "page", "page", "text/html");
    // Another project of the same client records p1's bytes as an asset of its own.
    p.create(&pid("p2"), "campaign");
    import(&pid("p2"), "borrowed", "img-1", "image/png");
    let token = std::fs::read_to_string(p.app.data().admin_token()).unwrap();
    let get = |path: &str, etag: Option<&str>| {
        let mut request =
            ureq::get(&format!("{}{path}", p.app.url)).set("Authorization", &format!("Bearer {}", token.trim()));
        if let Some(etag) = etag {
            request = request.set("If-None-Match", etag);
        }
        match request.call() {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        }
    };
    let own = get(&format!("/v1/projects/{}/assets/img-1/file", pid("p1")), None);
    assert_eq!((own.status(), own.content_type().to_owned()), (200, "image/png".to_owned()));
    let etag = own.header("ETag").unwrap().to_owned();
    assert_eq!(own.into_string().unwrap(), "img-1");
    let held = get(&format!("/v1/projects/{}/assets/img-1/file", pid("p1")), Some(&etag));
    assert_eq!(held.status(), 304, "a browser holding the bytes is not sent them again");
    let borrowed = get(&format!("/v1/projects/{}/assets/borrowed/file", pid("p2")), None);
    assert_eq!(borrowed.status(), 404, "p2's asset gets nothing of p1's folder");
    let problem: serde_json::Value = borrowed.into_json().unwrap();
    assert_eq!(problem["type"], "urn:lineage:problem:not-found");
    let page = get(&format!("/v1/projects/{}/assets/page/file", pid("p1")), None);
    assert_eq!(page.status(), 200);
    assert_eq!(page.content_type(), "application/octet-stream", "a claimed text/html is never served as a page");
    assert_eq!(page.header("Content-Disposition"), Some("attachment"));
    assert_eq!(page.header("X-Content-Type-Options"), Some("nosniff"));
}

/// A project page judges a bounded number of ways to deliver, whatever the briefs name: a
/// brief with 50 formats costs the page no more than one with six.
#[test]
fn a_project_page_judges_a_bounded_number_of_formats() {
    let p = Production::new();
    let formats: Vec<String> = (0..50).map(|i| format!("fmt-{i}")).collect();
    let revised = p.send(
        &p.producer,
        "brief_revised",
        json!({"brief_id": "brief-1", "text": "Every format there is.", "deliverable_formats": formats, "reason": "scope"}),
    );
    assert_eq!(revised.status, 201, "{:?}", revised.body);
    let selected = p.send(
        &p.director,
        "selection_made",
        json!({"selection_id": "sel-1", "round": 1, "selected": ["img-1"], "rationale": "best"}),
    );
    assert_eq!(selected.status, 201, "{:?}", selected.body);
    let token = std::fs::read_to_string(p.app.data().admin_token()).unwrap();
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let signed_in = agent.post(&format!("{}/ui/sign-in", p.app.url)).send_form(&[("token", token.trim())]).unwrap();
    let session = signed_in.header("Set-Cookie").unwrap().split(';').next().unwrap().to_owned();
    let page = agent.get(&format!("{}/ui/projects/{}", p.app.url, p.project)).set("Cookie", &session).call().unwrap();
    let html = page.into_string().unwrap();
    let ways = html.matches(" · digital</span>").count();
    assert_eq!(ways, lineage_ledger::ui::MAX_FORMATS_JUDGED, "one way per judged format and medium");
    assert!(html.contains("fmt-0, fmt-1") && html.contains("and 30 more"), "the brief's formats, 20 shown");
}

/// Signs in over HTTP and answers the session cookie.
fn session(app: &TestApp) -> (ureq::Agent, String) {
    let token = std::fs::read_to_string(app.data().admin_token()).unwrap();
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let signed_in = agent.post(&format!("{}/ui/sign-in", app.url)).send_form(&[("token", token.trim())]).unwrap();
    let cookie = signed_in.header("Set-Cookie").unwrap().split(';').next().unwrap().to_owned();
    (agent, cookie)
}

fn page(app: &TestApp, agent: &ureq::Agent, cookie: &str, path: &str) -> (u16, String) {
    match agent.get(&format!("{}{path}", app.url)).set("Cookie", cookie).call() {
        Ok(r) | Err(ureq::Error::Status(_, r)) => (r.status(), r.into_string().unwrap()),
        Err(e) => panic!("{path}: {e}"),
    }
}

/// A page's judgements of what blocks delivery share one budget of work: a project whose every
/// candidate has a lineage of thousands of assets sharing bytes (each judgement milliseconds; a
/// hundred candidates in three media, seconds) is judged until the budget runs out, and the rest
/// is said to be not judged — the page is never judged at a greater cost.
#[test]
fn the_blockers_of_a_heavy_project_stop_at_the_pages_budget() {
    let p = Production::new();
    let h = |s: String| lineage_ledger::cli::client::digest_of(s.as_bytes());
    let mut events = Vec::new();
    for k in 0..16 {
        let outputs: Vec<_> = (0..250)
            .map(|i| json!({"asset_id": format!("a{k}-{i}"), "digest": h(format!("D{}", (k * 250 + i) / 64)), "media_type": "image/png"}))
            .collect();
        events.push(p.envelope(
            &p.integration,
            "generation_recorded",
            json!({"generation_id": format!("ga{k}"), "model_version": "mv-1", "prompt": "pr-1", "outputs": outputs}),
        ));
    }
    for k in 0..16 {
        let inputs: Vec<String> = (0..250).map(|i| format!("a{k}-{i}")).collect();
        events.push(p.envelope(&p.integration, "generation_recorded", json!({"generation_id": format!("gm{k}"), "model_version": "mv-1", "prompt": "pr-1", "input_assets": inputs, "outputs": [{"asset_id": format!("m{k}"), "digest": h(format!("M{k}")), "media_type": "image/png"}]})));
    }
    let merged: Vec<String> = (0..16).map(|k| format!("m{k}")).collect();
    events.push(p.envelope(&p.integration, "generation_recorded", json!({"generation_id": "gx", "model_version": "mv-1", "prompt": "pr-1", "input_assets": merged, "outputs": [{"asset_id": "x", "digest": h("X".into()), "media_type": "image/png"}]})));
    let outputs: Vec<_> = (0..100)
        .map(|i| json!({"asset_id": format!("c{i}"), "digest": h(format!("C{i}")), "media_type": "image/png"}))
        .collect();
    events.push(p.envelope(&p.integration, "generation_recorded", json!({"generation_id": "gc", "model_version": "mv-1", "prompt": "pr-1", "input_assets": ["x"], "outputs": outputs})));
    for event in &events {
        let answer = p.app.send(event);
        assert_eq!(answer.status, 201, "{:?}", answer.body);
    }
    let chosen: Vec<String> = (0..100).map(|i| format!("c{i}")).collect();
    let selected = p.send(
        &p.director,
        "selection_made",
        json!({"selection_id": "s-all", "round": 1, "selected": chosen, "rationale": "all"}),
    );
    assert_eq!(selected.status, 201, "{:?}", selected.body);
    let (agent, cookie) = session(&p.app);
    let (status, html) = page(&p.app, &agent, &cookie, &format!("/ui/projects/{}", p.project));
    assert_eq!(status, 200);
    assert!(html.contains("not judged here"), "the rest is said to be not judged");
    let (status, html) = page(&p.app, &agent, &cookie, "/ui/");
    assert_eq!(status, 200);
    assert!(html.contains("not judged here"), "the projects list shares one budget too");
}

/// What a retraction took back counts for nothing on the pages: a retracted selection selects
/// nothing, a retracted brief revision leaves the formats as they were.
#[test]
fn the_pages_show_retracted_events_as_counting_for_nothing() {
    let p = Production::new();
    let selected = p.send(
        &p.director,
        "selection_made",
        json!({"selection_id": "s1", "round": 1, "selected": ["img-1"], "rationale": "r"}),
    );
    assert_eq!(selected.status, 201);
    let revised = p.send(
        &p.producer,
        "brief_revised",
        json!({"brief_id": "brief-1", "text": "t", "deliverable_formats": ["tiff-wrong"], "reason": "r"}),
    );
    assert_eq!(revised.status, 201, "{:?}", revised.body);
    for (signer, answer) in [(&p.director, &selected), (&p.producer, &revised)] {
        let event = answer.body["event_id"].as_str().unwrap();
        let retracted = p.send(signer, "event_retracted", json!({"event_id": event, "reason": "a mistake"}));
        assert_eq!(retracted.status, 201, "{:?}", retracted.body);
    }
    let (agent, cookie) = session(&p.app);
    let (_, html) = page(&p.app, &agent, &cookie, &format!("/ui/projects/{}", p.project));
    assert!(html.contains("formats jpeg") && !html.contains("tiff-wrong"), "the brief as it stands");
    assert!(html.contains("nothing selected or approved yet"), "a retracted selection selects nothing");
    let (_, html) = page(&p.app, &agent, &cookie, &format!("/ui/projects/{}/assets?show=selected", p.project));
    assert!(html.contains("0 asset(s)"));
    // A query a page cannot read is a page naming it; signing out takes the session cookie.
    let (status, html) = page(&p.app, &agent, &cookie, "/ui/?page=-1");
    assert_eq!(status, 400);
    assert!(html.contains("<!doctype html>") && html.contains("the page&#39;s query"), "{html}");
    let foreign = agent.post(&format!("{}/ui/sign-out", p.app.url)).call().unwrap();
    assert_eq!(foreign.header("Set-Cookie"), None, "a sign-out without the session ends nothing");
    let (status, _) = page(&p.app, &agent, &cookie, "/ui/");
    assert_eq!(status, 200, "still signed in");
}
