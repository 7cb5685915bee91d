//! [`PgStore`]: the log in PostgreSQL (feature `postgres`). Schema and guarantees in
//! `docs/storage-format.md` ("PostgreSQL").
//!
//! A batch is one transaction: its entries, the node hashes they complete, their event ids
//! and tasks, and the new size, visible together or not at all. The size row is advanced
//! with a compare-and-set (`WHERE size = old`), so a second writer that appended meanwhile
//! makes this one fail rather than fork the log.

use std::sync::{Mutex, MutexGuard, PoisonError};

use postgres::{Client, Transaction};

use super::{NewEntry, Storage, StoreError};
use crate::event::{EventId, TaskId};
use crate::merkle::{Frontier, Hash, HashProfile, NodeId, stored_count};

/// The schema version this code writes and reads.
pub const PG_SCHEMA_VERSION: i32 = 2;

/// Step `i` takes the schema from version `i + 1` to `i + 2`. A database of an older version
/// is brought up to date when it is opened (in one transaction, under the meta row's lock,
/// so concurrent openers migrate once); one of a newer version is refused.
const MIGRATIONS: &[&str] = &[
    // 2: the ledger's descriptor, so that a database is a whole ledger (as a directory's
    // `origin` and `log.pub` files are): NULL until the ledger is complete.
    "ALTER TABLE warrant_meta ADD COLUMN origin text, ADD COLUMN log_keys text",
];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS warrant_meta (
    id int PRIMARY KEY CHECK (id = 1),
    schema_version int NOT NULL,
    profile text NOT NULL,
    size bigint NOT NULL,
    epoch bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS warrant_entries (idx bigint PRIMARY KEY, bytes bytea NOT NULL);
CREATE TABLE IF NOT EXISTS warrant_nodes (pos bigint PRIMARY KEY, hash bytea NOT NULL);
CREATE TABLE IF NOT EXISTS warrant_events (event_id bytea PRIMARY KEY, idx bigint NOT NULL);
CREATE TABLE IF NOT EXISTS warrant_tasks (
    task bytea NOT NULL, idx bigint NOT NULL, PRIMARY KEY (task, idx)
);
CREATE TABLE IF NOT EXISTS warrant_checkpoints (size bigint PRIMARY KEY, note bytea NOT NULL);
CREATE TABLE IF NOT EXISTS warrant_live (id int PRIMARY KEY CHECK (id = 1), bytes bytea NOT NULL);
";

/// The error with the server's own message when it sent one ("db error" alone says little).
pub(super) fn db(e: &postgres::Error) -> StoreError {
    StoreError::Database(match e.as_db_error() {
        Some(server) => format!("{e}: {server}"),
        // The cause, too: "error performing TLS handshake: invalid peer certificate: …".
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    })
}

/// A count or index as PostgreSQL's `bigint`.
fn big(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} exceeds bigint")))
}

fn unbig(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative {n} in the database")))
}

/// What the writer keeps between batches.
struct State {
    client: Client,
    size: u64,
    frontier: Frontier,
    /// The leadership epoch this store holds ([`PgStore::lead`]), written into every
    /// commit's condition: a deposed leader's late batch fails.
    epoch: Option<i64>,
}

/// The advisory lock a leader holds for as long as its connection lives (per database):
/// the ASCII bytes of `warrant1`.
const LEADER_LOCK: i64 = 0x7761_7272_616e_7431;

/// Brings the schema up to [`PG_SCHEMA_VERSION`] inside `tx`.
fn migrate(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    let version: i32 = tx
        .query_one(
            "SELECT schema_version FROM warrant_meta WHERE id = 1 FOR UPDATE",
            &[],
        )
        .map_err(|e| db(&e))?
        .get(0);
    if !(1..=PG_SCHEMA_VERSION).contains(&version) {
        return Err(StoreError::Corrupt(format!(
            "schema version {version}; this code reads {PG_SCHEMA_VERSION}"
        )));
    }
    for step in &MIGRATIONS[usize::try_from(version - 1).unwrap_or(0)..] {
        tx.batch_execute(step).map_err(|e| db(&e))?;
    }
    tx.execute(
        "UPDATE warrant_meta SET schema_version = $1 WHERE id = 1",
        &[&PG_SCHEMA_VERSION],
    )
    .map_err(|e| db(&e))?;
    Ok(())
}

/// What makes a database a ledger, besides its log: the origin, and the log's verifier
/// keys (the `log.pub` text: one per line, oldest first, the current one last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgDescriptor {
    /// The log's origin.
    pub origin: String,
    /// Its verifier keys, one per line, the current one last.
    pub log_keys: String,
}

/// A store in a PostgreSQL database (one log per database or schema).
pub struct PgStore {
    profile: HashProfile,
    state: Mutex<State>,
}

impl PgStore {
    /// Creates the schema in the database `config` names (a libpq connection string or
    /// URL) for a new, empty log.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Exists`] if it already holds a log.
    pub fn create(config: &str, profile: HashProfile) -> Result<Self, StoreError> {
        let mut client = super::pg_tls::connect(config)?;
        let mut tx = client.transaction().map_err(|e| db(&e))?;
        tx.batch_execute(SCHEMA).map_err(|e| db(&e))?;
        let inserted = tx
            .execute(
                "INSERT INTO warrant_meta (id, schema_version, profile, size) VALUES (1, 1, $1, 0)
                 ON CONFLICT (id) DO NOTHING",
                &[&profile.name()],
            )
            .map_err(|e| db(&e))?;
        if inserted == 0 {
            return Err(StoreError::Exists);
        }
        // Version 1 tables, then every step: a new database takes the same path as an old one.
        migrate(&mut tx)?;
        tx.commit().map_err(|e| db(&e))?;
        Ok(Self::from_parts(client, profile, 0, Frontier::new(profile)))
    }

    /// Opens the log in the database `config` names.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Corrupt`] for a schema of another version or
    /// an unknown profile.
    pub fn open(config: &str) -> Result<Self, StoreError> {
        Self::from_client(super::pg_tls::connect(config)?)
    }

    fn from_client(mut client: Client) -> Result<Self, StoreError> {
        let mut tx = client.transaction().map_err(|e| db(&e))?;
        migrate(&mut tx)?;
        tx.commit().map_err(|e| db(&e))?;
        let row = client
            .query_one("SELECT profile, size FROM warrant_meta WHERE id = 1", &[])
            .map_err(|e| db(&e))?;
        let profile: HashProfile = row
            .get::<_, String>(0)
            .parse()
            .map_err(|_| StoreError::Corrupt("unknown hash profile".into()))?;
        let size = unbig(row.get(1))?;
        let frontier = Frontier::load(profile, size, |id| read_node(&mut client, id))?;
        Ok(Self::from_parts(client, profile, size, frontier))
    }

    fn from_parts(client: Client, profile: HashProfile, size: u64, frontier: Frontier) -> Self {
        Self {
            profile,
            state: Mutex::new(State {
                client,
                size,
                frontier,
                epoch: None,
            }),
        }
    }

    /// Opens the log as its one sequencer: waits up to `wait` for the leader lock (a
    /// session advisory lock, released by PostgreSQL when the holder's connection ends:
    /// a leader that dies is replaced without a timeout of ours), then takes the next
    /// epoch. Every batch it commits requires that epoch to be the current one, so a
    /// deposed leader's late batch fails ([`StoreError::Deposed`]) instead of forking.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another leader holds the lock past `wait`, or as
    /// [`PgStore::open`].
    pub fn lead(config: &str, wait: std::time::Duration) -> Result<Self, StoreError> {
        let mut client = super::pg_tls::connect(config)?;
        let started = std::time::Instant::now();
        loop {
            let row = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK])
                .map_err(|e| db(&e))?;
            if row.get::<_, bool>(0) {
                break;
            }
            if started.elapsed() >= wait {
                return Err(StoreError::Locked);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let epoch: i64 = client
            .query_one(
                "UPDATE warrant_meta SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch",
                &[],
            )
            .map_err(|e| db(&e))?
            .get(0);
        let store = Self::from_client(client)?;
        store.lock().epoch = Some(epoch);
        Ok(store)
    }

    /// The ledger's descriptor, `None` until one was stored (a log being created or copied).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn descriptor(&self) -> Result<Option<PgDescriptor>, StoreError> {
        let mut g = self.lock();
        let row = g
            .client
            .query_one(
                "SELECT origin, log_keys FROM warrant_meta WHERE id = 1",
                &[],
            )
            .map_err(|e| db(&e))?;
        let origin: Option<String> = row.get(0);
        let log_keys: Option<String> = row.get(1);
        Ok(origin
            .zip(log_keys)
            .map(|(origin, log_keys)| PgDescriptor { origin, log_keys }))
    }

    /// Stores the ledger's descriptor (replacing one stored before).
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Deposed`] for a leader no longer leading.
    pub fn put_descriptor(&self, descriptor: &PgDescriptor) -> Result<(), StoreError> {
        let mut g = self.lock();
        let epoch = g.epoch;
        let n = g
            .client
            .execute(
                "UPDATE warrant_meta SET origin = $1, log_keys = $2
                 WHERE id = 1 AND ($3::bigint IS NULL OR epoch = $3)",
                &[&descriptor.origin, &descriptor.log_keys, &epoch],
            )
            .map_err(|e| db(&e))?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Deposed)
        }
    }

    /// Whether this store still leads the log: its connection is alive and the epoch in
    /// the database is the one it took (one small query). `false` for a store opened
    /// without [`PgStore::lead`].
    #[must_use]
    pub fn still_leading(&self) -> bool {
        let mut g = self.lock();
        let Some(mine) = g.epoch else {
            return false;
        };
        g.client
            .query_one("SELECT epoch FROM warrant_meta WHERE id = 1", &[])
            .is_ok_and(|row| row.get::<_, i64>(0) == mine)
    }

    /// Whether the connection to the database is gone (the server restarted or ended this
    /// session): the store then fails every operation, and a leader has lost its lock.
    /// Open a new one.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.lock().client.is_closed()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update of `State` happens after its transaction committed, in one step: a
        // panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn read_node(client: &mut Client, id: NodeId) -> Result<Hash, StoreError> {
    let pos = id.stored_index().ok_or(StoreError::OutOfRange {
        index: id.index,
        size: 0,
    })?;
    let row = client
        .query_one(
            "SELECT hash FROM warrant_nodes WHERE pos = $1",
            &[&big(pos)?],
        )
        .map_err(|e| db(&e))?;
    Hash::try_from_slice(row.get::<_, &[u8]>(0))
        .map_err(|_| StoreError::Corrupt(format!("node at {pos} is not 32 bytes")))
}

/// Inserts one batch's rows (entries from `first`, nodes from `first_pos`).
fn insert_batch(
    tx: &mut Transaction<'_>,
    first: u64,
    batch: &[NewEntry<'_>],
    first_pos: u64,
    nodes: &[Hash],
) -> Result<(), StoreError> {
    let idx: Vec<i64> = (0..batch.len() as u64)
        .map(|i| big(first + i))
        .collect::<Result<_, _>>()?;
    let bytes: Vec<&[u8]> = batch.iter().map(|e| e.bytes).collect();
    tx.execute(
        "INSERT INTO warrant_entries (idx, bytes) SELECT * FROM unnest($1::bigint[], $2::bytea[])",
        &[&idx, &bytes],
    )
    .map_err(|e| db(&e))?;
    let pos: Vec<i64> = (0..nodes.len() as u64)
        .map(|i| big(first_pos + i))
        .collect::<Result<_, _>>()?;
    let hashes: Vec<&[u8]> = nodes.iter().map(Hash::as_bytes).map(|h| &h[..]).collect();
    tx.execute(
        "INSERT INTO warrant_nodes (pos, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])",
        &[&pos, &hashes],
    )
    .map_err(|e| db(&e))?;
    let ids: Vec<&[u8]> = batch.iter().map(|e| &e.event_id.as_bytes()[..]).collect();
    // The first entry of an event id keeps it (as the other stores do).
    tx.execute(
        "INSERT INTO warrant_events (event_id, idx) SELECT * FROM unnest($1::bytea[], $2::bigint[])
         ON CONFLICT (event_id) DO NOTHING",
        &[&ids, &idx],
    )
    .map_err(|e| db(&e))?;
    let (tasks, task_idx): (Vec<&[u8]>, Vec<i64>) = batch
        .iter()
        .zip(&idx)
        .filter_map(|(e, i)| e.task.as_ref().map(|t| (&t.as_bytes()[..], *i)))
        .unzip();
    tx.execute(
        "INSERT INTO warrant_tasks (task, idx) SELECT * FROM unnest($1::bytea[], $2::bigint[])",
        &[&tasks, &task_idx],
    )
    .map_err(|e| db(&e))?;
    Ok(())
}

impl Storage for PgStore {
    fn profile(&self) -> HashProfile {
        self.profile
    }

    fn size(&self) -> u64 {
        self.lock().size
    }

    fn append(&self, batch: &[NewEntry<'_>]) -> Result<u64, StoreError> {
        let mut g = self.lock();
        let first = g.size;
        let mut frontier = g.frontier.clone();
        let mut nodes = Vec::with_capacity(batch.len() * 2);
        for e in batch {
            nodes.push(e.leaf);
            nodes.extend(frontier.push(e.leaf));
        }
        let end = first + batch.len() as u64;
        let first_pos = stored_count(first).ok_or(StoreError::OutOfRange {
            index: first,
            size: first,
        })?;
        let epoch = g.epoch;
        let mut tx = g.client.transaction().map_err(|e| db(&e))?;
        // The size row first: it locks the row, so a concurrent writer waits for this
        // commit and then finds the size moved, before it inserts anything.
        let moved = tx
            .execute(
                "UPDATE warrant_meta SET size = $1
                 WHERE id = 1 AND size = $2 AND ($3::bigint IS NULL OR epoch = $3)",
                &[&big(end)?, &big(first)?, &epoch],
            )
            .map_err(|e| db(&e))?;
        if moved != 1 {
            return Err(match epoch {
                Some(_) => StoreError::Deposed,
                None => StoreError::Corrupt(
                    "another writer appended to this log: reopen the store".into(),
                ),
            });
        }
        insert_batch(&mut tx, first, batch, first_pos, &nodes)?;
        tx.commit().map_err(|e| db(&e))?;
        g.size = end;
        g.frontier = frontier;
        Ok(first)
    }

    fn entry(&self, index: u64) -> Result<Vec<u8>, StoreError> {
        let mut g = self.lock();
        if index >= g.size {
            return Err(StoreError::OutOfRange {
                index,
                size: g.size,
            });
        }
        let row = g
            .client
            .query_one(
                "SELECT bytes FROM warrant_entries WHERE idx = $1",
                &[&big(index)?],
            )
            .map_err(|e| db(&e))?;
        Ok(row.get::<_, Vec<u8>>(0))
    }

    fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
        let mut g = self.lock();
        let size = g.size;
        let known = id
            .stored_index()
            .zip(stored_count(size))
            .is_some_and(|(pos, count)| pos < count);
        if !known {
            return Err(StoreError::OutOfRange {
                index: id.index,
                size,
            });
        }
        read_node(&mut g.client, id)
    }

    /// All of `ids` in one query (a proof at 10^6 reads ~40 nodes: one round trip, not 40).
    fn nodes(&self, ids: &[NodeId], out: &mut Vec<Hash>) -> Result<(), StoreError> {
        let mut g = self.lock();
        let count = stored_count(g.size).unwrap_or(0);
        let pos = ids
            .iter()
            .map(|id| match id.stored_index() {
                Some(p) if p < count => big(p),
                _ => Err(StoreError::OutOfRange {
                    index: id.index,
                    size: g.size,
                }),
            })
            .collect::<Result<Vec<i64>, _>>()?;
        let rows = g
            .client
            .query(
                "SELECT pos, hash FROM warrant_nodes WHERE pos = ANY($1)",
                &[&pos],
            )
            .map_err(|e| db(&e))?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            let hash = Hash::try_from_slice(row.get::<_, &[u8]>(1))
                .map_err(|_| StoreError::Corrupt("a node hash is not 32 bytes".into()))?;
            found.insert(row.get::<_, i64>(0), hash);
        }
        for p in pos {
            let hash = found
                .get(&p)
                .ok_or_else(|| StoreError::Corrupt(format!("node {p} is missing")))?;
            out.push(*hash);
        }
        Ok(())
    }

    fn find_event(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
        let mut g = self.lock();
        let row = g
            .client
            .query_opt(
                "SELECT idx FROM warrant_events WHERE event_id = $1",
                &[&&id.as_bytes()[..]],
            )
            .map_err(|e| db(&e))?;
        row.map(|r| unbig(r.get(0))).transpose()
    }

    fn find_events(&self, ids: &[EventId]) -> Result<Vec<Option<u64>>, StoreError> {
        let mut g = self.lock();
        let keys: Vec<&[u8]> = ids.iter().map(|id| &id.as_bytes()[..]).collect();
        let rows = g
            .client
            .query(
                "SELECT event_id, idx FROM warrant_events WHERE event_id = ANY($1)",
                &[&keys],
            )
            .map_err(|e| db(&e))?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            found.insert(row.get::<_, Vec<u8>>(0), unbig(row.get(1))?);
        }
        Ok(keys.iter().map(|k| found.get(*k).copied()).collect())
    }

    fn task_entries(&self, task: &TaskId) -> Result<Vec<u64>, StoreError> {
        let mut g = self.lock();
        let rows = g
            .client
            .query(
                "SELECT idx FROM warrant_tasks WHERE task = $1 ORDER BY idx",
                &[&&task.as_bytes()[..]],
            )
            .map_err(|e| db(&e))?;
        rows.iter().map(|r| unbig(r.get(0))).collect()
    }

    /// Fenced as appends are: a deposed leader does not replace the new leader's notes
    /// (which may carry cosignatures its own lack).
    fn put_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        let mut g = self.lock();
        let epoch = g.epoch;
        let mut tx = g.client.transaction().map_err(|e| db(&e))?;
        // A share lock on the meta row: a new leader's epoch update waits for this commit.
        let current: i64 = tx
            .query_one("SELECT epoch FROM warrant_meta WHERE id = 1 FOR SHARE", &[])
            .map_err(|e| db(&e))?
            .get(0);
        if epoch.is_some_and(|mine| mine != current) {
            return Err(StoreError::Deposed);
        }
        tx.execute(
            "INSERT INTO warrant_checkpoints (size, note) VALUES ($1, $2)
             ON CONFLICT (size) DO UPDATE SET note = EXCLUDED.note",
            &[&big(size)?, &note],
        )
        .map_err(|e| db(&e))?;
        tx.commit().map_err(|e| db(&e))
    }

    fn checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let mut g = self.lock();
        let row = g
            .client
            .query_opt(
                "SELECT note FROM warrant_checkpoints WHERE size = $1",
                &[&big(size)?],
            )
            .map_err(|e| db(&e))?;
        Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
    }

    fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError> {
        let mut g = self.lock();
        let rows = g
            .client
            .query("SELECT size FROM warrant_checkpoints ORDER BY size", &[])
            .map_err(|e| db(&e))?;
        rows.iter().map(|r| unbig(r.get(0))).collect()
    }

    /// A follower catches up with what the leader committed: the size and frontier from
    /// the database.
    fn refresh(&self) -> Result<u64, StoreError> {
        let mut g = self.lock();
        let size: i64 = g
            .client
            .query_one("SELECT size FROM warrant_meta WHERE id = 1", &[])
            .map_err(|e| db(&e))?
            .get(0);
        let size = unbig(size)?;
        if size != g.size {
            let profile = self.profile;
            let frontier = Frontier::load(profile, size, |id| read_node(&mut g.client, id))?;
            g.size = size;
            g.frontier = frontier;
        }
        Ok(size)
    }

    fn put_live_snapshot(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let mut g = self.lock();
        g.client
            .execute(
                "INSERT INTO warrant_live (id, bytes) VALUES (1, $1)
                 ON CONFLICT (id) DO UPDATE SET bytes = EXCLUDED.bytes",
                &[&bytes],
            )
            .map_err(|e| db(&e))?;
        Ok(())
    }

    fn live_snapshot(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let mut g = self.lock();
        let row = g
            .client
            .query_opt("SELECT bytes FROM warrant_live WHERE id = 1", &[])
            .map_err(|e| db(&e))?;
        Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
    }
}
