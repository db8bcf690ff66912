//! The store's reads and its `LogStore` face.

use super::*;
use layout::dictionary_key;

impl SledStore {
    /// Writes one commit (see the module's notes on durability).
    fn append_commit(&self, commit: &Commit) -> Result<(), StoreError> {
        let entries = &commit.entries;
        // One hold of the database for the whole append: it cannot be reopened halfway.
        let database = self.database()?;
        let len = self.len_in(&database)?;
        for (i, (entry, _)) in entries.iter().enumerate() {
            if entry.sequence != len + i as u64 {
                return Err(StoreError::Malformed(format!(
                    "entry {} does not continue the log of {len}",
                    entry.sequence
                )));
            }
        }
        let found = found_in(commit, len)?;
        let mut writing = self.writing.lock().map_err(|_| io("dictionary lock poisoned"))?;
        let writing = &mut *writing;
        // A new dictionary is kept in the commit of the first chunk that uses it, and used for
        // the next commits only once that commit is durable.
        let mut fresh = match writing.due(len) {
            Some(id) => {
                let bytes = writing.samples.dictionary_bytes();
                Some((Encoder::new(id, &bytes)?, bytes))
            }
            None => None,
        };
        let encoder = match &mut fresh {
            Some((encoder, _)) => Some(encoder),
            None if writing.stored_raw() => None,
            None => writing.current.as_mut(),
        };
        let mut pairs = commit_pairs(commit, &found, encoder, &mut writing.samples)?;
        if let Some((encoder, bytes)) = &fresh {
            pairs.push((dictionary_key(encoder.id).to_vec(), dictionary::record(bytes)));
        }
        let record = Record { first: len, entries: entries.len() as u64, pairs };
        if record.encoded_len() > LARGEST_RECORD {
            // Atomic through sled's batch, durable through its sync, which makes the journal's
            // commits durable too: a replay must not write older values over this one's. The
            // staged commits go to sled first.
            self.poison_on_err(self.apply_staged(&database))?;
            self.poison_on_err(database.log.apply_batch(batch_of(record)).map_err(io))?;
            failpoint::hit("large-applied");
            self.sync_and_empty_journal(&database)?;
        } else {
            // Applied before this commit is journaled, so that a failure fails this commit alone:
            // the staged ones are durable and stay readable from memory.
            if self.staged.now()?.bytes >= STAGED_BYTES {
                self.poison_on_err(self.apply_staged(&database))?;
            }
            let written = match self.journal.write(&record)? {
                Some(written) => written,
                None => {
                    // The journal is full: once sled is durable it holds all the journal held.
                    self.sync_and_empty_journal(&database)?;
                    self.journal.write(&record)?.ok_or_else(|| io("a record does not fit in the emptied journal"))?
                }
            };
            failpoint::hit("journal-synced");
            self.staged.stage(record.pairs)?;
            written.keep();
            failpoint::hit("staged");
        }
        {
            let mut indexes = self.indexes.write()?;
            for ((entry, _), found) in entries.iter().zip(&found) {
                indexes.add(entry.sequence, found);
            }
        }
        if let Some((encoder, _)) = fresh {
            writing.adopt(encoder);
        }
        if let Some(note) = &commit.checkpoint {
            self.acknowledged.record(note)?;
            failpoint::hit("acknowledged");
        }
        Ok(())
    }

    /// The entry at `sequence`, from its chunk as stored; `database` is the one held by the
    /// caller (a dictionary is read from it).
    fn entry_in(
        &self,
        database: &Database,
        dictionary: Option<u64>,
        sequence: u64,
        stored: &[u8],
    ) -> Result<Entry, StoreError> {
        let Some(id) = dictionary else { return decode_entry(sequence, stored, false) };
        let decoder =
            self.decoders.get(id, || Ok(self.value_in(database, &dictionary_key(id))?.map(|v| v.to_vec())))?;
        decode_entry(sequence, &dictionary::inflate(sequence, stored, &decoder)?, true)
    }
}

impl LogStore for SledStore {
    fn append(&self, commit: &Commit) -> Result<(), StoreError> {
        if self.poisoned.load(std::sync::atomic::Ordering::SeqCst) {
            self.room()?;
            self.after_failure(self.recover())?;
        }
        self.after_failure(self.append_commit(commit))
    }

    fn len(&self) -> Result<u64, StoreError> {
        let database = self.database()?;
        self.len_in(&database)
    }

    fn entry(&self, sequence: u64) -> Result<Option<Entry>, StoreError> {
        let Some((key, value)) = self.holding(&seq_key(b'E', 0), &seq_key(b'E', sequence))? else {
            return Ok(None);
        };
        let chunk = chunk_entries(&key, &value)?;
        match chunk.entries.iter().find(|(seq, _)| *seq == sequence) {
            None => Ok(None),
            Some((_, stored)) => self.entry_in(&*self.database()?, chunk.dictionary, sequence, stored).map(Some),
        }
    }

    fn range(&self, from: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let staged = self.staged.snapshot()?;
        let start = match self.holding(&seq_key(b'E', 0), &seq_key(b'E', from))? {
            Some((key, _)) => key.to_vec(),
            None => seq_key(b'E', from).to_vec(),
        };
        // Held from here on, after `holding` let go of its own hold: a second hold by one
        // thread could wait behind a reopening that waits for the first.
        let database = self.database()?;
        // Adds the chunk's entries from `from` on; false once `out` holds `limit`.
        let take = |out: &mut Vec<Entry>, key: &[u8], value: &[u8]| -> Result<bool, StoreError> {
            let chunk = chunk_entries(key, value)?;
            for (seq, stored) in chunk.entries {
                if out.len() == limit {
                    return Ok(false);
                }
                if seq >= from {
                    out.push(self.entry_in(&database, chunk.dictionary, seq, stored)?);
                }
            }
            Ok(out.len() < limit)
        };
        let mut out = Vec::with_capacity(limit.min(1024));
        let end = seq_key(b'E', u64::MAX).to_vec();
        let mut last = None;
        for kv in database.log.range(start.clone()..=end.clone()) {
            let (key, value) = kv.map_err(io)?;
            if !take(&mut out, &key, &value)? {
                return Ok(out);
            }
            last = Some(key.to_vec());
        }
        // The staged chunks follow sled's; one that sled was given meanwhile is read once.
        let after = last.map_or(std::ops::Bound::Included(start), std::ops::Bound::Excluded);
        for (key, value) in staged.pairs.range((after, std::ops::Bound::Included(end))) {
            if !take(&mut out, key, value)? {
                break;
            }
        }
        Ok(out)
    }

    fn project_sequences(&self, project: &str, from_version: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        self.indexes.project_sequences(project, from_version, limit)
    }

    fn sequence_of_event(&self, event_id: &str) -> Result<Option<u64>, StoreError> {
        self.indexes.sequence_of_event(event_id, |sequence| self.found(sequence))
    }

    fn node(&self, id: NodeId) -> Result<Option<Hash>, StoreError> {
        match self.value(&node_key(id))? {
            None => Ok(None),
            Some(v) => v
                .as_ref()
                .try_into()
                .map(Some)
                .map_err(|_| StoreError::Malformed(format!("node {id:?} is not 32 bytes"))),
        }
    }

    fn checkpoint(&self) -> Result<Option<String>, StoreError> {
        match self.value(layout::CHECKPOINT_KEY)? {
            None => Ok(None),
            Some(v) => String::from_utf8(v.to_vec())
                .map(Some)
                .map_err(|_| StoreError::Malformed("the checkpoint is not UTF-8".into())),
        }
    }

    fn acknowledged_checkpoint(&self) -> Result<Option<String>, StoreError> {
        Ok(AcknowledgedRecord::read(&self.dir)?.map(|(_, note)| note))
    }

    fn asset_sequences(&self, project: &str, asset: &str) -> Result<Vec<u64>, StoreError> {
        self.indexes.asset_sequences(project, asset, |sequence| self.found(sequence))
    }

    fn room(&self) -> Result<(), StoreError> {
        self.room_for(0)
    }

    fn room_for(&self, bytes: u64) -> Result<(), StoreError> {
        let wanted = self.min_free_bytes.load(std::sync::atomic::Ordering::Relaxed).saturating_add(bytes);
        if wanted == 0 {
            return Ok(());
        }
        let free = free_bytes(&self.dir)?;
        if free < wanted {
            return Err(StoreError::Full {
                what: format!("{} has {free} bytes free; appends wait until {wanted} are", self.dir.display()),
                source: None,
            });
        }
        Ok(())
    }

    /// Reopens the database (see the module's notes on sled's LRU). Every other operation holds
    /// the database for its whole length, so the reopening waits for those under way, and
    /// those that come meanwhile wait for it.
    fn release_cache(&self) -> Result<(), StoreError> {
        let mut database = self.database.write().map_err(|_| io("database lock poisoned"))?;
        // What the journal holds is made durable in sled first: the database is reopened from
        // its files alone.
        if let Some(open) = database.as_ref() {
            self.sync_and_empty_journal(open)?;
        }
        drop(database.take());
        crate::memory::release_freed();
        *database = Some(Database::open(&self.dir)?);
        Ok(())
    }

    fn map_bucket(&self, bucket: u16) -> Result<crate::store::MapBucket, StoreError> {
        self.map.bucket(bucket)
    }
    fn map_subtrees(&self) -> Result<Vec<(u16, crate::crypto::map::MapNode)>, StoreError> {
        self.map.subtrees()
    }
    fn reset_map(&self) -> Result<(), StoreError> {
        self.map.reset()
    }
    fn tidy_map(&self) -> Result<(), StoreError> {
        self.map.tidy()
    }
    fn map_revision(&self) -> Result<Option<crate::store::MapRevision>, StoreError> {
        self.map.revision()
    }
    fn commit_map(&self, commit: &crate::store::MapCommit) -> Result<(), StoreError> {
        self.map.commit(commit)?;
        crate::store::failpoint::hit("map-applied");
        Ok(())
    }
    fn sealed_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.read_sealed_state()
    }
    fn seal_state(&self, bytes: &[u8]) -> Result<(), StoreError> {
        self.write_sealed_state(bytes)
    }
    fn reject_sealed_state(&self) -> Result<(), StoreError> {
        self.set_sealed_state_aside()
    }
    fn sealed_state_rejected(&self) -> Result<bool, StoreError> {
        Ok(self.dir.join(super::sealed::REJECTED).exists())
    }
    fn clear_rejected_sealed_state(&self) -> Result<(), StoreError> {
        self.clear_rejection()
    }
}
