//! The commands that talk to a running server beyond reads: export and the demo.

use super::{fail, ServerArgs};
use crate::app::DataDir;
use crate::cli::client::Client;
use crate::crypto::keys::KeyFile;
use std::path::PathBuf;

/// Downloads the whole log to `out` (standard output by default). A file is written beside
/// `out` and renamed over it once whole and synced, so that a failed download leaves an earlier
/// export where it was.
pub(super) fn export(server: &ServerArgs, out: Option<PathBuf>) {
    let client = server.client();
    let Some(path) = out else {
        let bytes = client.download("/v1/export", &mut std::io::stdout().lock()).unwrap_or_else(|e| fail(e));
        eprintln!("exported {bytes} bytes");
        return;
    };
    let partial = path.with_file_name(format!(
        ".{}.partial",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into())
    ));
    let failed = |e: &dyn std::fmt::Display| -> ! {
        std::fs::remove_file(&partial).ok();
        fail(e)
    };
    let mut file = std::fs::File::create(&partial).unwrap_or_else(|e| fail(format!("{}: {e}", partial.display())));
    let bytes = client.download("/v1/export", &mut file).unwrap_or_else(|e| failed(&e));
    file.sync_all().unwrap_or_else(|e| failed(&format!("{}: {e}", partial.display())));
    std::fs::rename(&partial, &path).unwrap_or_else(|e| failed(&format!("{}: {e}", path.display())));
    eprintln!("exported {bytes} bytes");
}

/// Records the demo campaign against the server at `url`.
pub(super) fn demo(
    url: &str,
    data: PathBuf,
    admin_key: Option<PathBuf>,
    project: Option<String>,
    files: Option<PathBuf>,
) {
    let dir = DataDir { root: data };
    let admin = KeyFile::load(&admin_key.unwrap_or_else(|| dir.admin_key())).unwrap_or_else(|e| fail(e));
    let token = std::fs::read_to_string(dir.admin_token())
        .unwrap_or_else(|e| fail(format!("{}: {e}", dir.admin_token().display())));
    let client = Client::new(url).with_token(&token);
    let project = project.unwrap_or_else(|| format!("demo-{}", chrono::Utc::now().format("%Y%m%d-%H%M%S%3f")));
    let summary = crate::cli::demo::run_all(&client, admin, &project).unwrap_or_else(|e| fail(e));
    println!(
        "recorded project `{}`: {} project events, {} system events, deliveries {}",
        summary.project,
        summary.project_events,
        summary.system_events,
        summary.deliveries.join(", ")
    );
    for (other, events, _) in &summary.others {
        println!("recorded project `{other}`: {events} project events");
    }
    if let Some(root) = files {
        // Under each project's own folder, `<client>/<name>/`, where `serve --files` looks.
        let all =
            std::iter::once((&summary.project, &summary.files)).chain(summary.others.iter().map(|(p, _, f)| (p, f)));
        let mut written = 0;
        for (project, files) in all {
            let dir = project.split(':').fold(root.clone(), |dir, part| dir.join(part));
            written += files.write(&dir).unwrap_or_else(|e| fail(format!("{}: {e}", dir.display())));
        }
        println!("wrote their {written} files under {}", root.display());
    }
    println!("read it back:");
    println!(
        "  curl -H \"Authorization: Bearer $(cat {})\" '{url}/v1/projects/{}/events?limit=1000'",
        dir.admin_token().display(),
        summary.project
    );
}
