//! The web UI in a real browser: the real binary serves the demo's data (two projects, their
//! files), and `tests/ui_check.py` drives headless Chromium through WebDriver — signing in,
//! opening every page, checking what each shows, and checking that a token scoped to one project
//! sees nothing of the other. Screenshots of every page land in `target/ui-screenshots/`.

use crate::helpers::*;
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
    for name in ["aurora", "other"] {
        let into = files.join(name);
        lineage(&[
            "demo",
            "--url",
            &url,
            "--data",
            data.to_str().unwrap(),
            "--project",
            name,
            "--files",
            into.to_str().unwrap(),
        ]);
    }
    let admin = std::fs::read_to_string(data.join("admin.token")).unwrap().trim().to_owned();
    let issued = ureq::post(&format!("{url}/v1/tokens"))
        .set("Authorization", &format!("Bearer {admin}"))
        .send_json(serde_json::json!({"name": "aurora reviewer", "projects": ["aurora-outdoor:aurora"]}))
        .unwrap()
        .into_json::<serde_json::Value>()
        .unwrap();
    let scoped = issued["token"].as_str().unwrap();
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots");
    let run = Command::new("python3")
        .arg("tests/ui_check.py")
        .args([&url, &admin, scoped, "aurora-outdoor:aurora", "aurora-outdoor:other"])
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
    let bad = agent.post(&format!("{}/ui/sign-in", app.url)).send_form(&[("token", "lin_nothing")]);
    let Err(ureq::Error::Status(401, refused)) = bad else { panic!("an unknown token signed in") };
    assert!(refused.into_string().unwrap().contains("the bearer token is not valid"));
}
