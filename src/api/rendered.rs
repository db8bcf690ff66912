//! Entries rendered as JSON once for everyone who follows the log: the live feeds and the webhook
//! endpoints all ask for the entries near the log's end at about the same time, and rendering
//! one (decoding its envelope and payload, writing the view) costs more than sending it. A
//! direct-mapped cache of the last [`SLOTS`] sequences: fixed memory, no eviction work.

use crate::api::views::EntryView;
use crate::log::Entry;
use std::sync::{Arc, Mutex};

/// Entries kept rendered (a few MB).
pub const SLOTS: usize = 4096;

/// An entry as followers send it.
#[derive(Debug)]
pub struct RenderedEntry {
    pub sequence: u64,
    pub project: String,
    pub kind: String,
    pub received_at: String,
    /// The entry as `GET /v1/entries/{sequence}` answers it.
    pub json: String,
}

pub struct Rendered {
    slots: Vec<Mutex<Option<Arc<RenderedEntry>>>>,
}

impl Default for Rendered {
    fn default() -> Self {
        Rendered { slots: (0..SLOTS).map(|_| Mutex::new(None)).collect() }
    }
}

impl Rendered {
    /// The entry rendered: from the cache, or rendered now and kept.
    pub fn get(&self, entry: &Entry) -> Arc<RenderedEntry> {
        let slot = &self.slots[(entry.sequence % SLOTS as u64) as usize];
        if let Some(found) = slot.lock().expect("not poisoned").as_ref().filter(|r| r.sequence == entry.sequence) {
            return found.clone();
        }
        let view = EntryView::of(entry);
        let rendered = Arc::new(RenderedEntry {
            sequence: entry.sequence,
            project: entry.project.clone(),
            json: serde_json::to_string(&view).expect("entry views serialize"),
            kind: view.kind,
            received_at: view.received_at,
        });
        *slot.lock().expect("not poisoned") = Some(rendered.clone());
        rendered
    }
}
