//! One writer thread committing requests in groups: it takes what is waiting (up to
//! `MAX_GROUP` requests), refuses those whose ids the table or the group already holds, appends
//! the rest in one durable transaction and only then answers each.

use crate::table::{EventTable, Row, TableError};
use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

const MAX_GROUP: usize = 1024;

/// A request's events, all or none, and where its answer goes.
pub struct Job {
    pub rows: Vec<Row>,
    /// Keys registered by these events, usable once they are committed.
    pub keys: Vec<(String, crate::Key)>,
    pub reply: tokio::sync::oneshot::Sender<Answer>,
}

pub enum Answer {
    Committed(Vec<i64>),
    Duplicate(String),
    Failed(String),
}

/// Starts the writer; it stops when every sender is dropped.
pub fn start(
    mut table: Box<dyn EventTable>,
    keys: crate::Keys,
    last: Arc<AtomicI64>,
) -> Result<crossbeam_channel::Sender<Job>, TableError> {
    last.store(table.last()?, Ordering::Release);
    let (sender, receiver) = crossbeam_channel::unbounded::<Job>();
    std::thread::Builder::new()
        .name("peer-writer".into())
        .spawn(move || {
            while let Ok(first) = receiver.recv() {
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match receiver.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                commit(table.as_mut(), &keys, &last, group);
            }
        })
        .expect("the writer thread starts");
    Ok(sender)
}

fn commit(table: &mut dyn EventTable, keys: &crate::Keys, last: &AtomicI64, group: Vec<Job>) {
    let ids: Vec<&str> = group.iter().flat_map(|j| j.rows.iter().map(|r| r.event_id.as_str())).collect();
    let known = match table.known(&ids) {
        Ok(known) => known,
        Err(e) => return fail(group, &e),
    };
    let mut seen: HashSet<&str> = HashSet::new();
    let mut refused: Vec<Option<String>> = Vec::with_capacity(group.len());
    for job in &group {
        let duplicate = job.rows.iter().find(|r| known.contains(&r.event_id) || seen.contains(r.event_id.as_str()));
        refused.push(duplicate.map(|r| r.event_id.clone()));
        if duplicate.is_none() {
            seen.extend(job.rows.iter().map(|r| r.event_id.as_str()));
        }
    }
    let rows: Vec<&Row> =
        group.iter().zip(&refused).filter(|(_, r)| r.is_none()).flat_map(|(j, _)| j.rows.iter()).collect();
    let sequences = match if rows.is_empty() { Ok(Vec::new()) } else { table.append(&rows) } {
        Ok(sequences) => sequences,
        Err(e) => return fail(group, &e),
    };
    if let Some(&end) = sequences.last() {
        last.store(end, Ordering::Release);
    }
    let mut sequences = sequences.into_iter();
    for (job, refused) in group.into_iter().zip(refused) {
        let answer = match refused {
            Some(id) => Answer::Duplicate(id),
            None => {
                let mut keys = keys.write().expect("keys lock");
                keys.extend(job.keys);
                Answer::Committed(sequences.by_ref().take(job.rows.len()).collect())
            }
        };
        job.reply.send(answer).ok();
    }
}

fn fail(group: Vec<Job>, error: &TableError) {
    for job in group {
        job.reply.send(Answer::Failed(error.to_string())).ok();
    }
}
