//! [`FileStore`]: the embedded, durable store (byte layout in `docs/storage-format.md`).
//!
//! Files in the store directory:
//!
//! | file | content |
//! |---|---|
//! | `LOCK` | empty; an exclusive lock on it keeps a second writer out |
//! | `meta` | magic, version, hash profile, table key, check |
//! | `entries.dat` | framed entries: length, check, bytes |
//! | `index.dat` | one 16-byte record per entry: data offset, previous entry of its task |
//! | `nodes.dat` | hashes of complete subtrees of two or more leaves, in completion order |
//! | `events.tbl`, `tasks.tbl` | on-disk hash tables: event id → index, task id → latest index |
//! | `checkpoints/<size>.note` | every signed checkpoint, written atomically |
//!
//! **Commit protocol** of one batch (one group commit): append frames to `entries.dat` and
//! hashes to `nodes.dat`, sync both; append the index records and sync `index.dat` — the
//! commit point; then update the hash tables. Table slots are synced once they lag the log by
//! `TABLE_SYNC_EVERY` entries (and on a clean close), and each table's header records up to
//! which entry its slots are durable.
//!
//! **Opening** reads the index records after the tables' watermark (the only ones a crash
//! can have left half-written) and never the whole log: records from the first one never
//! written, and bytes beyond the last committed entry (a torn tail), are truncated and never
//! served; table updates after the watermark are replayed from those entries.

mod append;
mod dirty;
mod fsck;
mod grow;
mod io;
mod lookup;
mod reader;
mod records;
mod summit;
mod table;
#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

pub use fsck::FsckReport;
pub use io::{FaultHook, Op};

use self::io::{StoreFile, write_atomic};
use self::records::{
    FRAME_HEADER, INDEX_RECORD, IndexRecord, NO_PREV, node_position, nodes_for, parse_frame_header,
};
use self::table::{Kind, Slot, Table, key_hash};
use super::{NewEntry, Storage, StoreError};
use crate::event::{EventId, TaskId};
use crate::merkle::{Frontier, Hash, HashProfile, NodeId};

/// Extracts the event id and task from an entry's bytes (the ledger decodes the envelope).
/// The store needs it to confirm hash-table matches and to replay table updates on open.
pub type KeysFn = Arc<dyn Fn(&[u8]) -> Option<(EventId, Option<TaskId>)> + Send + Sync>;

const META_MAGIC: &[u8; 8] = b"WLSTORE1";
/// Table slots are synced (and the watermark advanced) once they lag the log by this many
/// entries, not at every commit: every new entry dirties a random page of the event table,
/// and syncing those pages per group commit dominated the I/O of large logs. The interval is
/// long enough that the inserts between two syncs dirty nearly every page of a 10^7-entry
/// event table (about 37 000 pages), so several entries share each page write. Opening
/// replays at most this many entries into the tables (replay is idempotent). Unit tests use
/// 64, so that small stores cross it many times.
const TABLE_SYNC_EVERY: u64 = if cfg!(test) { 64 } else { 1 << 17 };
const META_LEN: usize = 8 + 4 + 4 + 32 + 8;

/// What the writer owns: tables, the right edge of the tree, lengths.
struct Writer {
    events: Table,
    tasks: Table,
    /// The tree's right edge, for computing new node hashes without reads.
    frontier: Frontier,
    data_len: u64,
    size: u64,
    poisoned: bool,
    /// The last commit's buffers, emptied, for the next one to fill (see `append::Buffers`).
    buffers: append::Buffers,
}

impl Writer {
    /// A writer over `events` and `tasks` that refuses every append: until recovery succeeds
    /// (a store that fails to open must not write anything), and for good in a reader.
    fn poisoned(events: &Table, tasks: &Table, profile: HashProfile) -> Self {
        Self {
            events: events.clone(),
            tasks: tasks.clone(),
            frontier: Frontier::new(profile),
            data_len: 0,
            size: 0,
            poisoned: true,
            buffers: append::Buffers::default(),
        }
    }
}

/// What readers see: the committed size and the tables.
#[derive(Clone)]
struct Published {
    size: u64,
    events: Table,
    tasks: Table,
}

/// The embedded file store.
pub struct FileStore {
    dir: PathBuf,
    profile: HashProfile,
    table_key: [u8; 32],
    keys: KeysFn,
    hook: Option<Arc<dyn FaultHook>>,
    /// The writer's exclusive lock; a reader takes none.
    _lock: Option<File>,
    data: StoreFile,
    index: StoreFile,
    nodes: StoreFile,
    writer: Mutex<Writer>,
    published: RwLock<Published>,
    hints: lookup::Hints,
    /// Upper-level node hashes, so proofs need not read their scattered pages.
    summit: summit::Summit,
    /// A read-only store's own index of the entries its tables may lack; `None` for the
    /// writer.
    overlay: Option<RwLock<reader::Overlay>>,
}

impl core::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.dir)
            .field("profile", &self.profile)
            .field("size", &self.size())
            .finish()
    }
}

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

/// The hash profile's byte in `meta`. Exhaustive on purpose: a new profile does not compile
/// until it has its own byte, so it can never be written, and reopened, as another.
const fn profile_byte(profile: HashProfile) -> u8 {
    match profile {
        HashProfile::Blake3 => 0,
        HashProfile::Sha256 => 1,
    }
}

/// The inverse of [`profile_byte`]; `None` for a byte no profile has.
const fn profile_of_byte(byte: u8) -> Option<HashProfile> {
    match byte {
        0 => Some(HashProfile::Blake3),
        1 => Some(HashProfile::Sha256),
        _ => None,
    }
}

fn meta_bytes(profile: HashProfile, key: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(META_LEN);
    m.extend_from_slice(META_MAGIC);
    m.extend_from_slice(&1u32.to_le_bytes());
    m.push(profile_byte(profile));
    m.extend_from_slice(&[0, 0, 0]);
    m.extend_from_slice(key);
    let check = blake3::hash(&m);
    m.extend_from_slice(&check.as_bytes()[..8]);
    m
}

fn parse_meta(m: &[u8]) -> Result<(HashProfile, [u8; 32]), StoreError> {
    if m.len() != META_LEN || &m[..8] != META_MAGIC {
        return Err(corrupt("meta: not a warrant-ledger store"));
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&m[16..48]);
    let profile = profile_of_byte(m[12]).ok_or_else(|| corrupt("meta: unknown hash profile"))?;
    if meta_bytes(profile, &key) != m {
        return Err(corrupt("meta: check mismatch or unsupported version"));
    }
    Ok((profile, key))
}

fn open_rw(path: &Path, create: bool) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(path)
}

impl FileStore {
    /// Creates an empty store in `dir` (created if missing; must not hold a store).
    ///
    /// # Errors
    /// [`StoreError::Exists`], [`StoreError::Locked`] or an I/O error.
    pub fn create(
        dir: &Path,
        profile: HashProfile,
        keys: KeysFn,
        hook: Option<Arc<dyn FaultHook>>,
    ) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir.join("checkpoints"))?;
        if dir.join("meta").exists() {
            return Err(StoreError::Exists);
        }
        let key = crate::keys::random_bytes();
        for name in ["entries.dat", "index.dat", "nodes.dat"] {
            open_rw(&dir.join(name), true)?;
        }
        Table::create(dir, Kind::Events, None)?.file.sync()?;
        Table::create(dir, Kind::Tasks, None)?.file.sync()?;
        // The meta file goes last: a directory without it is not a store yet.
        write_atomic(dir, "meta", &meta_bytes(profile, &key), None)?;
        Self::open(dir, keys, hook)
    }

    /// Opens an existing store, recovering from a crash: a torn tail is truncated and table
    /// updates after the tables' watermark are replayed. Reads O(log n) hashes, never the
    /// whole log.
    ///
    /// # Errors
    /// [`StoreError::Locked`] if another writer has it open, [`StoreError::Corrupt`], or an
    /// I/O error.
    pub fn open(
        dir: &Path,
        keys: KeysFn,
        hook: Option<Arc<dyn FaultHook>>,
    ) -> Result<Self, StoreError> {
        let lock = open_rw(&dir.join("LOCK"), true)?;
        if lock.try_lock().is_err() {
            return Err(StoreError::Locked);
        }
        let (profile, table_key) = parse_meta(&std::fs::read(dir.join("meta"))?)?;
        let file = |name: &'static str| -> Result<StoreFile, StoreError> {
            Ok(StoreFile::new(
                name,
                open_rw(&dir.join(name), false)?,
                hook.clone(),
            ))
        };
        let (data, index, nodes) = (file("entries.dat")?, file("index.dat")?, file("nodes.dat")?);
        let events = Table::open(dir, Kind::Events, hook.clone(), true).map_err(corrupt)?;
        let tasks = Table::open(dir, Kind::Tasks, hook.clone(), true).map_err(corrupt)?;
        let writer = Writer::poisoned(&events, &tasks, profile);
        let published = Published {
            size: 0,
            events,
            tasks,
        };
        let store = Self {
            dir: dir.to_path_buf(),
            profile,
            table_key,
            keys,
            hook,
            _lock: Some(lock),
            data,
            index,
            nodes,
            writer: Mutex::new(writer),
            published: RwLock::new(published),
            hints: lookup::Hints::default(),
            summit: summit::Summit::default(),
            overlay: None,
        };
        store.recover()?;
        Ok(store)
    }

    /// The store directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        // Writer state is only replaced wholesale after a successful commit, so a panic
        // elsewhere cannot leave it half-updated.
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn snapshot(&self) -> Published {
        self.published
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn publish(&self, w: &Writer) {
        let mut p = self
            .published
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *p = Published {
            size: w.size,
            events: w.events.clone(),
            tasks: w.tasks.clone(),
        };
    }

    fn record(&self, index: u64) -> Result<IndexRecord, StoreError> {
        let mut b = [0u8; 16];
        self.index.read_at(&mut b, index * INDEX_RECORD)?;
        Ok(IndexRecord::from_bytes(&b))
    }

    /// Reads the frame at `offset`, checking it; returns the entry bytes.
    fn frame_at(&self, offset: u64) -> Result<Vec<u8>, StoreError> {
        let mut h = [0u8; 8];
        self.data.read_at(&mut h, offset)?;
        let (len, check) = parse_frame_header(h);
        let mut bytes = vec![0u8; len as usize];
        self.data.read_at(&mut bytes, offset + FRAME_HEADER)?;
        if records::frame_check(&self.profile.leaf_hash(&bytes)) != check {
            return Err(corrupt(format!(
                "entries.dat: bad frame check at offset {offset}"
            )));
        }
        Ok(bytes)
    }

    fn recover(&self) -> Result<(), StoreError> {
        let mut w = self.lock_writer();
        let index_len = self.index.len()?;
        let from = w.events.watermark.min(w.tasks.watermark);
        let data_len = self.data.len()?;
        let (size, data_end) = self.standing_records(from, index_len / INDEX_RECORD, data_len)?;
        if size > 0 {
            // The last committed frame's check (the scan read headers only).
            self.frame_at(self.record(size - 1)?.offset)?;
        }
        let nodes_end = nodes_for(size) * 32;
        let nodes_len = self.nodes.len()?;
        if nodes_len < nodes_end {
            return Err(corrupt("nodes.dat: shorter than the committed index"));
        }
        // The store opens. What lies past the last committed entry (a partial record, the
        // records from the first one never written, their frames and nodes) was never
        // acknowledged: cut it, and make the cut durable, so that a later crash cannot bring
        // cut records back beside new ones. An intact store is not written to at all.
        let index_end = size * INDEX_RECORD;
        for (file, len, end) in [
            (&self.index, index_len, index_end),
            (&self.data, data_len, data_end),
            (&self.nodes, nodes_len, nodes_end),
        ] {
            if len > end {
                file.set_len(end)?;
                file.sync()?;
            }
        }
        w.size = size;
        w.data_len = data_end;
        w.frontier = self.load_frontier(size)?;
        self.publish(&w);
        self.replay_tables(&mut w)?;
        self.publish(&w);
        w.poisoned = false;
        Ok(())
    }

    /// How many of the first `size` index records stand. Those before `from` (the tables'
    /// watermark) were synced before a later commit began; the ones after may include the
    /// last group's, which a crash can leave half-written: a disk persists the pages of one
    /// write in any order, so a later record can be there while an earlier one is still
    /// zero (never written). The first all-zero record (no written record is: entry 0's task
    /// link is `NO_PREV`, any later entry's offset is not 0) was never acknowledged, and it
    /// and everything after it are cut. A written record that does not go on from the one
    /// before (its frame starting where that frame ends, its task link pointing back) is
    /// damage, not a torn write, and the store is refused. Returns the records that stand
    /// and where the last one's frame ends (within `data_len`, the length of `entries.dat`).
    fn standing_records(
        &self,
        from: u64,
        size: u64,
        data_len: u64,
    ) -> Result<(u64, u64), StoreError> {
        /// Records read at a time: the replay after the watermark is at most 131 072 entries
        /// and a batch, and this bounds the buffer whatever the batch.
        const READ: u64 = 4096;
        let from = from.min(size);
        let mut next = match from {
            0 => 0,
            _ => self.frame_end(self.record(from - 1)?.offset, data_len)?,
        };
        let mut buf = Vec::new();
        let mut start = from;
        while start < size {
            let n = READ.min(size - start);
            buf.resize((n * INDEX_RECORD) as usize, 0);
            self.index.read_at(&mut buf, start * INDEX_RECORD)?;
            for (k, b) in (start..).zip(buf.chunks_exact(INDEX_RECORD as usize)) {
                let mut bytes = [0u8; INDEX_RECORD as usize];
                bytes.copy_from_slice(b);
                if bytes == [0; INDEX_RECORD as usize] {
                    return Ok((k, next));
                }
                let r = IndexRecord::from_bytes(&bytes);
                let linked = r.prev_in_task == NO_PREV || r.prev_in_task < k;
                if r.offset != next || !linked {
                    return Err(corrupt(format!(
                        "index.dat: record {k} does not follow on from the one before"
                    )));
                }
                next = self.frame_end(r.offset, data_len)?;
            }
            start += n;
        }
        Ok((size, next))
    }

    /// Where the frame at `offset` ends, from its header alone (`data_len`: the length of
    /// `entries.dat`, which a frame the index names must be within).
    fn frame_end(&self, offset: u64, data_len: u64) -> Result<u64, StoreError> {
        let short = || corrupt("entries.dat: shorter than the committed index");
        if offset
            .checked_add(FRAME_HEADER)
            .is_none_or(|end| end > data_len)
        {
            return Err(short());
        }
        let mut h = [0u8; FRAME_HEADER as usize];
        self.data.read_at(&mut h, offset)?;
        let (len, _) = parse_frame_header(h);
        let end = offset + FRAME_HEADER + u64::from(len);
        if end > data_len {
            return Err(short());
        }
        Ok(end)
    }

    /// The complete subtrees along the right edge of the tree of `size` leaves.
    fn load_frontier(&self, size: u64) -> Result<Frontier, StoreError> {
        Frontier::load(self.profile, size, |id| self.node_within(id, size))
    }

    /// Re-applies table updates for entries after the tables' watermark (crash recovery).
    fn replay_tables(&self, w: &mut Writer) -> Result<(), StoreError> {
        let from = w.events.watermark.min(w.tasks.watermark);
        for index in from..w.size {
            let bytes = self.entry(index)?;
            let (id, task) = (self.keys)(&bytes)
                .ok_or_else(|| corrupt(format!("entry {index} has no readable keys")))?;
            if self.lookup_event(&w.events, &id, w.size, false)?.is_none() {
                w.events.reserve(1, &self.dir, &self.table_key)?;
                let (fp, _) = key_hash(&self.table_key, id.as_bytes());
                w.events.insert(u64::from(fp), Slot::Event { fp, index })?;
            }
            if let Some(task) = task {
                self.set_task_head(&mut w.tasks, &task, index)?;
            }
        }
        self.seal_tables(w, true)
    }

    /// Syncs table slots, then records the watermark in each header; when not `forced`, only
    /// once the tables lag the log by [`TABLE_SYNC_EVERY`] entries. Tables whose watermark is
    /// already the size have nothing to sync (opening and closing an idle store write nothing).
    fn seal_tables(&self, w: &mut Writer, forced: bool) -> Result<(), StoreError> {
        let sealed = w.events.watermark == w.size && w.tasks.watermark == w.size;
        let lag = w
            .size
            .saturating_sub(w.events.watermark.min(w.tasks.watermark));
        if sealed || (!forced && lag < TABLE_SYNC_EVERY) {
            return Ok(());
        }
        for t in [&mut w.events, &mut w.tasks] {
            t.sync()?;
            t.watermark = w.size;
            t.write_header()?;
        }
        Ok(())
    }

    fn entry_unchecked(&self, index: u64) -> Result<Vec<u8>, StoreError> {
        self.frame_at(self.record(index)?.offset)
    }

    /// A node of the tree of `size` leaves: leaves are hashed from their entries.
    fn node_within(&self, id: NodeId, size: u64) -> Result<Hash, StoreError> {
        let width = 1u64.checked_shl(u32::from(id.level)).unwrap_or(u64::MAX);
        let end = id.index.checked_add(1).and_then(|i| i.checked_mul(width));
        if end.is_none_or(|end| end > size) {
            return Err(StoreError::OutOfRange {
                index: id.index,
                size,
            });
        }
        if id.level == 0 {
            return Ok(self.profile.leaf_hash(&self.entry_unchecked(id.index)?));
        }
        let pos = node_position(id.level, id.index).ok_or(StoreError::OutOfRange {
            index: id.index,
            size,
        })?;
        if let Some(h) = self.summit.get(id) {
            return Ok(h);
        }
        let mut b = [0u8; 32];
        self.nodes.read_at(&mut b, pos * 32)?;
        let hash = Hash::from_bytes(b);
        self.summit.put(id, hash);
        Ok(hash)
    }

    /// Stored checkpoint sizes, from file names.
    fn list_checkpoints(&self) -> Result<Vec<u64>, StoreError> {
        let mut sizes: Vec<u64> = std::fs::read_dir(self.dir.join("checkpoints"))?
            .filter_map(|e| {
                e.ok()?
                    .file_name()
                    .to_str()?
                    .strip_suffix(".note")?
                    .parse()
                    .ok()
            })
            .collect();
        sizes.sort_unstable();
        Ok(sizes)
    }
}

impl Drop for FileStore {
    /// A clean close syncs the tables, so the next open has nothing to replay. Best effort:
    /// if it fails, opening replays instead. A poisoned store is left alone (its tables may
    /// lag its index, and only replay may bring them up to date).
    fn drop(&mut self) {
        let mut w = self.lock_writer();
        if !w.poisoned {
            let _ = self.seal_tables(&mut w, true);
        }
    }
}

impl Storage for FileStore {
    fn profile(&self) -> HashProfile {
        self.profile
    }

    fn size(&self) -> u64 {
        self.snapshot().size
    }

    fn append(&self, batch: &[NewEntry<'_>]) -> Result<u64, StoreError> {
        if self.is_read_only() {
            return Err(StoreError::ReadOnly);
        }
        let mut w = self.lock_writer();
        if w.poisoned {
            return Err(StoreError::Poisoned);
        }
        let result = self.append_locked(&mut w, batch);
        if result.is_err() {
            w.poisoned = true;
        }
        result
    }

    fn entry(&self, index: u64) -> Result<Vec<u8>, StoreError> {
        let size = self.size();
        if index >= size {
            return Err(StoreError::OutOfRange { index, size });
        }
        self.entry_unchecked(index)
    }

    fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
        self.node_within(id, self.size())
    }

    fn find_event(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
        let p = self.snapshot();
        match &self.overlay {
            Some(o) => self.find_event_read_only(&read(o), id, p.size),
            None => self.lookup_event(&p.events, id, p.size, true),
        }
    }

    fn task_entries(&self, task: &TaskId) -> Result<Vec<u64>, StoreError> {
        let p = self.snapshot();
        let head = match &self.overlay {
            Some(o) => self.task_head_read_only(&read(o), task)?,
            None => self.task_head(&p.tasks, task)?,
        };
        let Some(mut index) = head else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        while index != NO_PREV && index < p.size {
            out.push(index);
            let prev = self.record(index)?.prev_in_task;
            if prev != NO_PREV && prev >= index {
                return Err(corrupt(format!(
                    "index.dat: task chain goes forward at entry {index}"
                )));
            }
            index = prev;
        }
        out.reverse();
        Ok(out)
    }

    fn put_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        if self.is_read_only() {
            return Err(StoreError::ReadOnly);
        }
        write_atomic(
            &self.dir.join("checkpoints"),
            &format!("{size}.note"),
            note,
            self.hook.as_ref(),
        )?;
        Ok(())
    }

    fn checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(self.dir.join("checkpoints").join(format!("{size}.note"))) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError> {
        self.list_checkpoints()
    }

    fn refresh(&self) -> Result<u64, StoreError> {
        FileStore::refresh(self)
    }

    fn put_live_snapshot(&self, bytes: &[u8]) -> Result<(), StoreError> {
        if self.is_read_only() {
            return Err(StoreError::ReadOnly);
        }
        write_atomic(&self.dir, LIVE_SNAPSHOT, bytes, self.hook.as_ref())?;
        Ok(())
    }

    fn live_snapshot(&self) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(self.dir.join(LIVE_SNAPSHOT)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// The gate's snapshot of the tasks it follows (`gate`), replaced at each checkpoint.
const LIVE_SNAPSHOT: &str = "live.snap";

/// A read lock that a panicking holder does not poison (the overlay is replaced only after
/// a complete scan step).
fn read(o: &RwLock<reader::Overlay>) -> std::sync::RwLockReadGuard<'_, reader::Overlay> {
    o.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}
