//! A full disk, on a small file system made for the test (a tmpfs, mounted as root): appends are
//! refused with nothing written, reads go on, writes resume once there is room, and a crash
//! afterwards loses nothing acknowledged.

use crate::append::all_entries;
use crate::helpers::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted at a directory; unmounted when dropped.
struct Mounted(PathBuf);

impl Mounted {
    fn tmpfs(at: &Path, mb: u32) -> Mounted {
        // SAFETY: geteuid(2) has no preconditions.
        assert_eq!(unsafe { libc::geteuid() }, 0, "this test mounts a tmpfs: run it as root (CI does)");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m,mode=0700"), "tmpfs"])
            .arg(at)
            .status()
            .expect("mount runs");
        assert!(mounted.success(), "mount a {mb} MiB tmpfs at {}", at.display());
        Mounted(at.to_owned())
    }

    /// Fills the file system up to its last byte with a file of its own.
    fn fill(&self) -> PathBuf {
        self.fill_with("filler")
    }

    fn fill_with(&self, name: &str) -> PathBuf {
        use std::io::Write as _;
        let path = self.0.join(name);
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 1 << 16];
        while file.write_all(&block).is_ok() {}
        for _ in 0..64 {
            let _ = file.write_all(&[0u8; 1024]);
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn note(p: &lineage_ledger::cli::client::Signer, i: usize) -> Vec<u8> {
    p.envelope("acme-client:full", "note_added", json!({"text": format!("{i} {}", "x".repeat(2000))}))
}

/// Appends until one is refused; every refusal must be a storage problem with a Retry-After.
fn append_until_refused(
    app: &TestApp,
    p: &lineage_ledger::cli::client::Signer,
    acked: &mut Vec<String>,
) -> (u16, String) {
    for i in 0..100_000 {
        let answer = app.send(&note(p, i));
        if answer.status == 201 {
            acked.push(answer.body["event_id"].as_str().unwrap().to_owned());
            continue;
        }
        return (answer.status, answer.body["type"].as_str().unwrap_or_default().to_owned());
    }
    panic!("the disk never filled");
}

fn run_through_a_full_disk(min_free_mb: &str) {
    let dir = tempfile::tempdir().unwrap();
    let disk = Mounted::tmpfs(dir.path(), 48);
    let args = ["--min-free-mb", min_free_mb];
    let (mut server, port) = start_server_with(dir.path(), &args, &[]);
    let app = attach(dir, port);
    let producer = app.register("full-prod", "producer");
    let created = producer.envelope(
        "acme-client:full",
        "project_created",
        json!({"content_type": "social", "title": "T", "client_organization": CLIENT}),
    );
    assert_eq!(app.send(&created).status, 201);
    let mut acked = Vec::new();
    for i in 0..20 {
        assert_eq!(app.send(&note(&producer, i)).status, 201);
    }
    let filler = disk.fill();
    let (status, kind) = append_until_refused(&app, &producer, &mut acked);
    assert!(
        (status == 507 && kind.ends_with("insufficient-storage"))
            || (status == 503 && kind.ends_with("storage-unavailable")),
        "a full disk is a storage problem: {status} {kind}"
    );
    let refused_at = app.head();
    // Nothing more is written while it is full, and the refusal says when to come back.
    let again = app.send(&note(&producer, 999_999));
    assert!(again.status == 507 || again.status == 503, "{:?}", again.body);
    assert_eq!(app.head(), refused_at, "nothing was written once refused");
    // Reads are served.
    assert_eq!(app.anon.get("/healthz").unwrap().status, 200);
    let status = app.get("/v1/projects/acme-client:full/status");
    assert_eq!(status.status, 200, "{:?}", status.body);
    assert_eq!(app.get("/v1/entries?limit=10").status, 200);
    // Room again: writes resume by themselves.
    std::fs::remove_file(filler).unwrap();
    let mut resumed = false;
    for i in 0..100 {
        let answer = app.send(&note(&producer, 1_000_000 + i));
        if answer.status == 201 {
            acked.push(answer.body["event_id"].as_str().unwrap().to_owned());
            resumed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(resumed, "appends resume once there is room");
    for i in 0..20 {
        let answer = app.send(&note(&producer, 2_000_000 + i));
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        acked.push(answer.body["event_id"].as_str().unwrap().to_owned());
    }
    // Full again, and a crash while it is: the restart, with room, loses nothing acknowledged,
    // and appends go on.
    let filler = disk.fill();
    let (status, _) = append_until_refused(&app, &producer, &mut acked);
    assert!(status == 507 || status == 503);
    // The room the store gave up for sled's recovery is taken as well, and more writes meet the
    // disk: sled's reopening then writes its snapshot on a full disk and leaves it unfinished.
    let second = disk.fill_with("second-filler");
    for i in 0..5 {
        let answer = app.send(&note(&producer, 4_000_000 + i));
        assert!(answer.status == 507 || answer.status == 503, "{:?}", answer.body);
    }
    server.kill();
    std::fs::remove_file(filler).unwrap();
    std::fs::remove_file(second).unwrap();
    let (mut server, port) = start_server_with(app.dir.path(), &args, &[]);
    let app = attach(app.dir, port);
    let stored: std::collections::HashSet<String> =
        all_entries(&app).iter().map(|(e, _)| e["event_id"].as_str().unwrap().to_owned()).collect();
    for id in &acked {
        assert!(stored.contains(id), "acknowledged {id} survived");
    }
    assert_eq!(app.send(&note(&producer, 3_000_000)).status, 201);
    server.kill();
    drop(disk);
}

#[test]
fn a_full_disk_refuses_appends_keeps_reads_and_recovers() {
    run_through_a_full_disk("8");
}

#[test]
fn a_disk_that_fills_under_a_write_fails_that_write_alone_and_recovers() {
    // No margin: the writes themselves meet the full disk.
    run_through_a_full_disk("0");
}
