//! The peers' event tables: one row per event (its sequence, id, stream, kind and envelope),
//! the id unique, an index on (project, sequence) for a project's stream. Each commit is one
//! transaction that returns only once durable.

use std::collections::HashSet;

/// One event as the peer keeps it.
pub struct Row {
    pub event_id: String,
    pub project: String,
    pub kind: String,
    pub envelope: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
}

/// What the writer needs of a table. Only one writer uses it, so what `known` answers still
/// holds when `append` runs.
pub trait EventTable: Send {
    /// Which of these ids the table holds.
    fn known(&mut self, ids: &[&str]) -> Result<HashSet<String>, TableError>;
    /// Appends the rows in one transaction, committed durably before it returns; their
    /// sequences in order.
    fn append(&mut self, rows: &[&Row]) -> Result<Vec<i64>, TableError>;
    /// The last sequence given (0 when empty).
    fn last(&mut self) -> Result<i64, TableError>;
}

/// SQLite in WAL mode with `synchronous=FULL`: a commit syncs the write-ahead log.
pub struct Sqlite {
    connection: rusqlite::Connection,
}

impl Sqlite {
    pub fn open(path: &std::path::Path) -> Result<Sqlite, TableError> {
        let connection = rusqlite::Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                 sequence INTEGER PRIMARY KEY,
                 event_id TEXT NOT NULL UNIQUE,
                 project TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 envelope BLOB NOT NULL);
             CREATE INDEX IF NOT EXISTS events_by_project ON events (project, sequence);",
        )?;
        Ok(Sqlite { connection })
    }
}

impl EventTable for Sqlite {
    fn known(&mut self, ids: &[&str]) -> Result<HashSet<String>, TableError> {
        let mut statement = self.connection.prepare_cached("SELECT 1 FROM events WHERE event_id = ?1")?;
        let mut known = HashSet::new();
        for id in ids {
            if statement.exists([id])? {
                known.insert((*id).to_owned());
            }
        }
        Ok(known)
    }

    fn append(&mut self, rows: &[&Row]) -> Result<Vec<i64>, TableError> {
        let transaction = self.connection.transaction()?;
        let mut sequences = Vec::with_capacity(rows.len());
        {
            let mut insert = transaction
                .prepare_cached("INSERT INTO events (event_id, project, kind, envelope) VALUES (?1, ?2, ?3, ?4)")?;
            for row in rows {
                insert.execute(rusqlite::params![row.event_id, row.project, row.kind, row.envelope])?;
                sequences.push(transaction.last_insert_rowid());
            }
        }
        transaction.commit()?;
        Ok(sequences)
    }

    fn last(&mut self) -> Result<i64, TableError> {
        Ok(self.connection.query_row("SELECT coalesce(max(sequence), 0) FROM events", [], |r| r.get(0))?)
    }
}

/// PostgreSQL with `synchronous_commit = on` (a commit waits for its WAL flush). A group is one
/// transaction and one multi-row INSERT; sequences from an identity column, dense and in commit
/// order because one writer holds the table.
pub struct Postgres {
    client: postgres::Client,
}

impl Postgres {
    pub fn open(config: &str) -> Result<Postgres, TableError> {
        let mut client = postgres::Client::connect(config, postgres::NoTls)?;
        client.batch_execute(
            "SET synchronous_commit = on;
             CREATE TABLE IF NOT EXISTS events (
                 sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                 event_id text NOT NULL UNIQUE,
                 project text NOT NULL,
                 kind text NOT NULL,
                 envelope bytea NOT NULL);
             CREATE INDEX IF NOT EXISTS events_by_project ON events (project, sequence);",
        )?;
        Ok(Postgres { client })
    }
}

impl EventTable for Postgres {
    fn known(&mut self, ids: &[&str]) -> Result<HashSet<String>, TableError> {
        let rows = self.client.query("SELECT event_id FROM events WHERE event_id = ANY($1)", &[&ids])?;
        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
    }

    fn append(&mut self, rows: &[&Row]) -> Result<Vec<i64>, TableError> {
        let ids: Vec<&str> = rows.iter().map(|r| r.event_id.as_str()).collect();
        let projects: Vec<&str> = rows.iter().map(|r| r.project.as_str()).collect();
        let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
        let envelopes: Vec<&[u8]> = rows.iter().map(|r| r.envelope.as_slice()).collect();
        let mut transaction = self.client.transaction()?;
        // WITH ORDINALITY keeps the rows in the order given, so the sequences follow it.
        let inserted = transaction.query(
            "INSERT INTO events (event_id, project, kind, envelope)
             SELECT i, p, k, e FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[])
                 WITH ORDINALITY AS t(i, p, k, e, n) ORDER BY n
             RETURNING sequence",
            &[&ids, &projects, &kinds, &envelopes],
        )?;
        transaction.commit()?;
        let mut sequences: Vec<i64> = inserted.iter().map(|r| r.get(0)).collect();
        sequences.sort_unstable();
        Ok(sequences)
    }

    fn last(&mut self) -> Result<i64, TableError> {
        Ok(self.client.query_one("SELECT coalesce(max(sequence), 0) FROM events", &[])?.get(0))
    }
}
