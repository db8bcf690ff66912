//! Starting from the sealed state, with the real binary: a start reads the state the writer
//! sealed and replays only the entries after it, then replays the whole log in the background
//! and refuses appends if the two disagree. A sealed state that is damaged, another ledger's,
//! or ahead of the store is set aside, and the whole log replayed.

use crate::helpers::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Seals after every 5 new entries once appends pause.
const SEAL_OFTEN: &[&str] = &["--seal-after", "5"];

fn sealed_state(data: &Path) -> PathBuf {
    data.join("store").join("sealed-state")
}

/// Waits until the writer has sealed the state of the whole log (it does once appends pause
/// for a moment), and returns the sealed bytes.
fn sealed_after_pause(app: &TestApp) -> Vec<u8> {
    let path = sealed_state(&app.data().root);
    let deadline = Instant::now() + Duration::from_secs(20);
    let size = app.head();
    loop {
        if let Ok(bytes) = std::fs::read(&path) {
            // The body starts after the magic line and the id keys' fingerprint: the length it
            // covers (docs/operations.md leaves the format internal; the tests peek).
            let at = bytes.iter().position(|b| *b == b'\n').unwrap() + 1 + 32;
            if bytes.len() > at + 8 && u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) == size {
                return bytes;
            }
        }
        assert!(Instant::now() < deadline, "the state of {size} entries was sealed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `/readyz` once the start's check is no longer running.
fn ready_after_check(app: &TestApp) -> lineage_ledger::cli::client::Answer {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = app.get("/readyz");
        if ready.body["start_check"]["state"] != "running" {
            return ready;
        }
        assert!(Instant::now() < deadline, "the start's check ended");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What a reader sees of the ledger: its head, its projects and one project's stream and
/// status.
fn seen(app: &TestApp, project: &str) -> Vec<Value> {
    ["/v1/checkpoint", "/v1/projects", &format!("/v1/projects/{project}/status")]
        .iter()
        .map(|path| {
            let answer = app.get(path);
            assert_eq!(answer.status, 200, "{path}: {:?}", answer.body);
            if answer.body.is_null() {
                Value::String(answer.text)
            } else {
                answer.body
            }
        })
        .chain(std::iter::once(Value::Array(app.stream(project))))
        .collect()
}

fn restart(app: TestApp, args: &[&str]) -> (Server, TestApp) {
    let (server, port) = start_server_with(app.dir.path(), args, &[]);
    let dir = app.dir;
    (server, attach(dir, port))
}

fn problem_type(answer: &lineage_ledger::cli::client::Answer) -> &str {
    answer.body["type"].as_str().unwrap_or_default()
}

#[test]
fn a_start_reads_the_sealed_state_replays_the_rest_and_checks_the_whole_log_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server_with(dir.path(), SEAL_OFTEN, &[]);
    let p = Production::on(attach(dir, port), "sealed");
    sealed_after_pause(&p.app);
    // Entries after the seal: a start replays them.
    for i in 0..3 {
        assert_eq!(p.send(&p.producer, "note_added", json!({"text": format!("after {i}")})).status, 201);
    }
    let before = seen(&p.app, &p.project);
    let size = p.app.head();
    server.kill();

    let Production { app, project, artist, producer, .. } = p;
    let (mut server, app) = restart(app, SEAL_OFTEN);
    let ready = ready_after_check(&app);
    assert_eq!(ready.status, 200, "{:?}", ready.body);
    assert_eq!(ready.body["start_check"]["state"], "passed", "{:?}", ready.body);
    assert_eq!(ready.body["start_check"]["covered"], size - 3, "the sealed state covered all but the last 3");
    assert_eq!(seen(&app, &project), before, "the same answers as before the restart");
    // The rules read the resumed state: what was recorded before it is known.
    let again = app.send(&artist.envelope(
        &project,
        "generation_recorded",
        json!({"generation_id": "gen-again", "model_version": "mv-1", "prompt": "pr-1", "pipeline": "pl-1", "seed": 1, "outputs": [asset("img-1")]}),
    ));
    assert_eq!((again.status, problem_type(&again)), (409, "urn:lineage:problem:duplicate-id"), "{:?}", again.body);
    let next = app.send(&producer.envelope(&project, "note_added", json!({"text": "after the restart"})));
    assert_eq!(next.status, 201, "{:?}", next.body);
    assert_eq!(next.body["version"], before[3].as_array().unwrap().len() as u64 + 1, "the stream goes on");
    let after = seen(&app, &project);
    server.kill();

    // Without the sealed state, the whole log is replayed to the same answers.
    std::fs::remove_file(sealed_state(&app.data().root)).unwrap();
    let (mut server, app) = restart(app, &[]);
    let ready = app.get("/readyz");
    assert_eq!((ready.status, ready.body.get("start_check")), (200, None), "{:?}", ready.body);
    assert_eq!(seen(&app, &project), after);
    server.kill();
}

#[test]
fn a_sealed_state_that_is_damaged_or_another_ledgers_is_set_aside() {
    let other = tempfile::tempdir().unwrap();
    let (mut other_server, port) = start_server_with(other.path(), SEAL_OFTEN, &[]);
    let elsewhere = Production::on(attach(other, port), "elsewhere");
    let others = sealed_after_pause(&elsewhere.app);
    other_server.kill();

    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server_with(dir.path(), SEAL_OFTEN, &[]);
    let p = Production::on(attach(dir, port), "damaged");
    let sealed = sealed_after_pause(&p.app);
    let before = seen(&p.app, &p.project);
    server.kill();
    let Production { app, project, artist, .. } = p;
    let mut app = app;
    let mut flipped = sealed.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a byte changed", flipped),
        ("cut short", sealed[..sealed.len() - 1].to_vec()),
        ("empty", Vec::new()),
        ("another ledger's", others),
        ("of another format", b"lineage sealed state v0\n".to_vec()),
    ];
    for (case, bytes) in cases {
        std::fs::write(sealed_state(&app.data().root), &bytes).unwrap();
        let (mut server, restarted) = restart(app, &[]);
        let ready = restarted.get("/readyz");
        assert_eq!((ready.status, ready.body.get("start_check")), (200, None), "{case}: {:?}", ready.body);
        assert_eq!(seen(&restarted, &project), before, "{case}: the whole log was replayed");
        let again = restarted.send(&artist.envelope(
            &project,
            "generation_recorded",
            json!({"generation_id": "gen-again", "model_version": "mv-1", "prompt": "pr-1", "pipeline": "pl-1", "seed": 1, "outputs": [asset("img-2")]}),
        ));
        assert_eq!(problem_type(&again), "urn:lineage:problem:duplicate-id", "{case}: {:?}", again.body);
        server.kill();
        app = restarted;
    }
}

#[test]
fn a_sealed_state_ahead_of_the_store_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server_with(dir.path(), SEAL_OFTEN, &[]);
    let p = Production::on(attach(dir, port), "ahead");
    sealed_after_pause(&p.app);
    let before = seen(&p.app, &p.project);
    server.kill();
    // A copy of the data directory as it is now (a backup)...
    let data = p.app.data().root;
    let backup = tempfile::tempdir().unwrap();
    copy_dir(&data, &backup.path().join("data"));
    // ...while the ledger goes on and seals a longer log.
    let (mut server, app) = restart(p.app, SEAL_OFTEN);
    for i in 0..8 {
        let note = app.send(&p.producer.envelope(&p.project, "note_added", json!({"text": format!("later {i}")})));
        assert_eq!(note.status, 201);
    }
    let later = sealed_after_pause(&app);
    server.kill();
    // The backup restored with the newer sealed state beside it.
    std::fs::write(sealed_state(&backup.path().join("data")), later).unwrap();
    let (mut server, port) = start_server(backup.path());
    let restored = attach(backup, port);
    let ready = restored.get("/readyz");
    assert_eq!((ready.status, ready.body.get("start_check")), (200, None), "{:?}", ready.body);
    assert_eq!(seen(&restored, &p.project), before);
    server.kill();
}

#[test]
fn an_old_entry_damaged_under_the_sealed_state_fails_the_check_and_appends_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server_with(dir.path(), SEAL_OFTEN, &[]);
    let p = Production::on(attach(dir, port), "rot");
    sealed_after_pause(&p.app);
    let size = p.app.head();
    server.kill();
    // The start reads the sealed state and only the entries after it: entry 4 is not read
    // until the check replays it.
    damage_entry(&p.app.data().root, 4);
    let Production { app, project, producer, .. } = p;
    let (mut server, app) = restart(app, &[]);
    let ready = ready_after_check(&app);
    assert_eq!(
        (ready.status, problem_type(&ready)),
        (503, "urn:lineage:problem:storage-unavailable"),
        "{:?}",
        ready.body
    );
    let detail = ready.body["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("the {size} entries")) && detail.contains("entry 4"), "{detail}");
    let refused = app.send(&producer.envelope(&project, "note_added", json!({"text": "refused"})));
    assert_eq!(
        (refused.status, problem_type(&refused)),
        (503, "urn:lineage:problem:storage-unavailable"),
        "{:?}",
        refused.body
    );
    assert!(refused.body["detail"].as_str().unwrap().contains("entry 4"), "{:?}", refused.body);
    assert_eq!(app.head(), size, "nothing was written");
    // Reads go on.
    assert_eq!(app.get(&format!("/v1/projects/{project}/status")).status, 200);
    server.kill();
    // The rejected state is not read again: the next start replays the whole log, and meets
    // the damaged entry itself.
    let store = app.data().root.join("store");
    assert!(store.join("sealed-state.rejected").exists() && !store.join("sealed-state").exists());
    assert!(try_start_server(app.dir.path(), &[], &[]).is_err(), "a start that replays entry 4 stops");
    let fsck = |app: &TestApp| {
        std::process::Command::new(env!("CARGO_BIN_EXE_lineage"))
            .args(["fsck", "--data", app.data().root.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let failed = fsck(&app);
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("entry 4"));
    assert!(store.join("sealed-state.rejected").exists(), "a failing fsck clears nothing");
    // Once the entry is what it was (a backup of the file, say), fsck passes and clears it.
    damage_entry(&app.data().root, 4);
    let passed = fsck(&app);
    assert!(passed.status.success(), "{}", String::from_utf8_lossy(&passed.stderr));
    assert!(String::from_utf8_lossy(&passed.stdout).contains("rejected sealed state of an earlier start cleared"));
    let (mut server, app) = restart(app, &[]);
    assert_eq!(app.get("/readyz").status, 200);
    let taken = app.send(&producer.envelope(&project, "note_added", json!({"text": "taken again"})));
    assert_eq!(taken.status, 201, "{:?}", taken.body);
    server.kill();
}

#[test]
fn a_rejected_sealed_state_keeps_appends_refused_across_restarts_until_fsck_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server_with(dir.path(), SEAL_OFTEN, &[]);
    let p = Production::on(attach(dir, port), "rejected");
    sealed_after_pause(&p.app);
    let size = p.app.head();
    server.kill();
    let Production { mut app, project, producer, .. } = p;
    // What a failed check leaves (docs/operations.md): the sealed state set aside as rejected.
    let store = app.data().root.join("store");
    std::fs::rename(store.join("sealed-state"), store.join("sealed-state.rejected")).unwrap();
    for restart_number in 0..2 {
        let (mut server, restarted) = restart(app, SEAL_OFTEN);
        let ready = restarted.get("/readyz");
        assert_eq!(
            (ready.status, problem_type(&ready)),
            (503, "urn:lineage:problem:storage-unavailable"),
            "{restart_number}"
        );
        assert!(ready.body["detail"].as_str().unwrap().contains("an earlier start"), "{:?}", ready.body);
        let refused = restarted.send(&producer.envelope(&project, "note_added", json!({"text": "refused"})));
        assert_eq!((refused.status, problem_type(&refused)), (503, "urn:lineage:problem:storage-unavailable"));
        assert!(refused.body["detail"].as_str().unwrap().contains("lineage fsck"), "{:?}", refused.body);
        assert_eq!(restarted.head(), size, "nothing was written");
        // Nothing is sealed from a state the check did not find right.
        std::thread::sleep(Duration::from_millis(300));
        assert!(!sealed_state(&restarted.data().root).exists());
        server.kill();
        app = restarted;
    }
    let fsck = std::process::Command::new(env!("CARGO_BIN_EXE_lineage"))
        .args(["fsck", "--data", app.data().root.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(fsck.status.success(), "{}", String::from_utf8_lossy(&fsck.stderr));
    assert!(!store.join("sealed-state.rejected").exists());
    let (mut server, app) = restart(app, &[]);
    let taken = app.send(&producer.envelope(&project, "note_added", json!({"text": "taken"})));
    assert_eq!(taken.status, 201, "{:?}", taken.body);
    server.kill();
}

/// Puts something in a file's place.
type MakeFile = dyn Fn(&Path);

#[test]
fn a_sealed_state_that_is_not_a_file_or_larger_than_the_database_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server_with(dir.path(), SEAL_OFTEN, &[]);
    let p = Production::on(attach(dir, port), "odd");
    sealed_after_pause(&p.app);
    let mut before = seen(&p.app, &p.project);
    server.kill();
    let Production { app, project, producer, .. } = p;
    let mut app = app;
    let path = sealed_state(&app.data().root);
    // A folder where a write that did not finish would leave its file.
    std::fs::create_dir(app.data().root.join("store").join("sealed-state.tmp")).unwrap();
    let cases: Vec<(&str, Box<MakeFile>)> = vec![
        ("a folder", Box::new(|p: &Path| std::fs::create_dir(p).unwrap())),
        (
            "a named pipe",
            Box::new(|p: &Path| {
                let path = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
                assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
            }),
        ),
        ("a link to /dev/zero", Box::new(|p: &Path| std::os::unix::fs::symlink("/dev/zero", p).unwrap())),
        (
            "larger than the database",
            Box::new(|p: &Path| {
                let file = std::fs::File::create(p).unwrap();
                file.set_len(64 << 30).unwrap();
            }),
        ),
    ];
    for (case, make) in cases {
        let _ = std::fs::remove_file(&path);
        make(&path);
        let (mut server, restarted) = restart(app, SEAL_OFTEN);
        let ready = restarted.get("/readyz");
        assert_eq!((ready.status, ready.body.get("start_check")), (200, None), "{case}: {:?}", ready.body);
        assert_eq!(seen(&restarted, &project), before, "{case}: the whole log was replayed");
        // Moved out of the way: the ledger seals again.
        let _ = std::fs::remove_dir_all(restarted.data().root.join("store").join("sealed-state.set-aside"));
        for i in 0..6 {
            let note =
                restarted.send(&producer.envelope(&project, "note_added", json!({"text": format!("{case} {i}")})));
            assert_eq!(note.status, 201, "{case}: {:?}", note.body);
        }
        sealed_after_pause(&restarted);
        before = seen(&restarted, &project);
        server.kill();
        app = restarted;
    }
}

/// Copies a data directory (files and folders) as a backup would.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &to.join(item.file_name()));
        } else {
            std::fs::copy(item.path(), to.join(item.file_name())).unwrap();
        }
    }
}

#[test]
fn a_crash_while_sealing_leaves_the_previous_sealed_state_or_none() {
    use std::os::unix::process::ExitStatusExt as _;
    for point in ["seal-written", "seal-renamed"] {
        for hit in [1, 2] {
            let armed = format!("{point}:{hit}");
            let dir = tempfile::tempdir().unwrap();
            let (mut server, port) = start_server_with(dir.path(), SEAL_OFTEN, &[("LINEAGE_FAILPOINT", &armed)]);
            let app = attach(dir, port);
            let producer = app.register(&format!("crash-{hit}"), "producer");
            let project = pid("crash");
            let created = app.send(&producer.envelope(
                &project,
                "project_created",
                json!({"content_type": "social", "title": "T", "client_organization": CLIENT}),
            ));
            assert_eq!(created.status, 201, "{armed}: {:?}", created.body);
            // Bursts of notes with pauses, in which the writer seals, until it crashes there.
            let mut acknowledged = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(60);
            'load: while server.0.try_wait().unwrap().is_none() {
                assert!(Instant::now() < deadline, "{armed}: the server reached the crash point");
                for _ in 0..6 {
                    let text = format!("note {}", acknowledged.len());
                    let Ok(answer) = app.anon.append(&producer.envelope(&project, "note_added", json!({"text": text})))
                    else {
                        break 'load;
                    };
                    if answer.status == 201 {
                        acknowledged.push(answer.body["event_id"].as_str().unwrap().to_owned());
                    }
                }
                std::thread::sleep(Duration::from_millis(300));
            }
            let status = server.0.wait().unwrap();
            assert_eq!(status.signal(), Some(libc::SIGABRT), "{armed}: aborted at the point ({status:?})");
            let (mut server, restarted) = restart(app, SEAL_OFTEN);
            let ready = ready_after_check(&restarted);
            assert_eq!(ready.status, 200, "{armed}: {:?}", ready.body);
            let unfinished = restarted.data().root.join("store").join("sealed-state.tmp");
            assert!(!unfinished.exists(), "{armed}: what the crash left is removed at the start");
            let stream: Vec<String> =
                restarted.stream(&project).iter().map(|e| e["event_id"].as_str().unwrap().to_owned()).collect();
            for event in &acknowledged {
                assert!(stream.contains(event), "{armed}: acknowledged {event} is there");
            }
            // The ledger goes on, seals again, and a start reads that.
            let note = restarted.send(&producer.envelope(&project, "note_added", json!({"text": "after"})));
            assert_eq!(note.status, 201, "{armed}: {:?}", note.body);
            let size = restarted.head();
            for i in 0..5 {
                assert_eq!(
                    restarted
                        .send(&producer.envelope(&project, "note_added", json!({"text": format!("more {i}")})))
                        .status,
                    201
                );
            }
            sealed_after_pause(&restarted);
            server.kill();
            let (mut server, again) = restart(restarted, &[]);
            let ready = ready_after_check(&again);
            assert_eq!(ready.body["start_check"]["state"], "passed", "{armed}: {:?}", ready.body);
            assert_eq!(again.head(), size + 5);
            server.kill();
        }
    }
}
