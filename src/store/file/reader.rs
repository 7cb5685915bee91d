//! A read-only file store: what another process sees while the writer appends.
//!
//! A reader takes no lock and writes nothing. It serves the committed prefix of the log: the
//! index records that stand (written, following on from the one before, their frames whole
//! and their events readable), which the writer wrote after syncing those frames and node
//! hashes (its commit point), so everything a standing record names is there to read.
//! [`FileStore::refresh`] extends the prefix to what has been committed since.
//!
//! The hash tables on disk are only complete up to their watermark; the writer fills slots
//! after it in memory and writes them back later. A reader therefore keeps its own index of
//! the entries after the watermark it opened at (the overlay), and trusts the tables only
//! for entries before it. Memory follows the entries committed after that watermark (at most
//! the writer's table-sync interval, 2^17 entries, plus what was committed since the reader
//! opened), not the log.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::{Mutex, RwLock};

use super::io::StoreFile;
use super::records::{INDEX_RECORD, IndexRecord, NO_PREV};
use super::table::{Kind, Table};
use super::{FileStore, KeysFn, Published, Writer, corrupt, parse_meta};
use crate::event::{EventId, TaskId};
use crate::store::StoreError;

/// What a reader knows beyond the tables: the entries after the watermark it opened at.
#[derive(Debug, Default)]
pub(super) struct Overlay {
    /// The first entry the tables may lack.
    pub from: u64,
    /// Where the last standing frame ends.
    data_end: u64,
    events: HashMap<EventId, u64>,
    /// Each task's latest entry at or after `from`.
    heads: HashMap<TaskId, u64>,
}

fn open_read(dir: &Path, name: &'static str) -> Result<StoreFile, StoreError> {
    let file: File = OpenOptions::new().read(true).open(dir.join(name))?;
    Ok(StoreFile::new(name, file, None))
}

impl FileStore {
    /// Opens a store read-only, beside its writer if it has one: no lock, no write, the
    /// committed prefix of the log (see the module documentation).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a store that is not one, or an I/O error.
    pub fn open_read_only(dir: &Path, keys: KeysFn) -> Result<Self, StoreError> {
        let (profile, table_key) = parse_meta(&std::fs::read(dir.join("meta"))?)?;
        let events = Table::open(dir, Kind::Events, None, false).map_err(corrupt)?;
        let tasks = Table::open(dir, Kind::Tasks, None, false).map_err(corrupt)?;
        let from = events.watermark.min(tasks.watermark);
        // A reader never writes: every append is refused.
        let writer = Writer::poisoned(&events, &tasks, profile);
        let store = Self {
            dir: dir.to_path_buf(),
            profile,
            table_key,
            keys,
            hook: None,
            _lock: None,
            data: open_read(dir, "entries.dat")?,
            index: open_read(dir, "index.dat")?,
            nodes: open_read(dir, "nodes.dat")?,
            writer: Mutex::new(writer),
            published: RwLock::new(Published {
                size: 0,
                events,
                tasks,
            }),
            hints: super::lookup::Hints::default(),
            summit: super::summit::Summit::default(),
            overlay: Some(RwLock::new(Overlay {
                from,
                ..Overlay::default()
            })),
        };
        // Entries before the tables' watermark were synced before it was written.
        let mut p = store.snapshot();
        p.size = from.min(store.index.len()? / INDEX_RECORD);
        if let Some(o) = &store.overlay {
            o.write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .data_end = match p.size {
                0 => 0,
                n => store.frame_end(store.record(n - 1)?.offset, store.data.len()?)?,
            };
        }
        store.set_published_size(p.size);
        store.refresh()?;
        Ok(store)
    }

    fn set_published_size(&self, size: u64) {
        self.published
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .size = size;
    }

    /// Whether this store was opened read-only.
    #[must_use]
    pub const fn is_read_only(&self) -> bool {
        self.overlay.is_some()
    }

    /// For a read-only store, extends the served prefix to what the writer has committed
    /// since (a writable store is always current); returns the size.
    ///
    /// # Errors
    /// An I/O error.
    pub fn refresh(&self) -> Result<u64, StoreError> {
        let Some(overlay) = &self.overlay else {
            return Ok(self.snapshot().size);
        };
        let mut o = overlay
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut size = self.snapshot().size;
        let records = self.index.len()? / INDEX_RECORD;
        let data_len = self.data.len()?;
        while size < records {
            match self.standing(size, &o, data_len)? {
                Some((end, id, task)) => {
                    o.events.insert(id, size);
                    if let Some(t) = task {
                        o.heads.insert(t, size);
                    }
                    o.data_end = end;
                    size += 1;
                }
                None => break,
            }
        }
        self.set_published_size(size);
        Ok(size)
    }

    /// Record `k` if it stands: written, its frame starting where the last one ended and
    /// whole, its event readable, and its link to the task's previous entry the one the
    /// reader knows. `None` at the first that does not: not yet committed (or being
    /// written). Returns where its frame ends, and the event's keys.
    fn standing(
        &self,
        k: u64,
        o: &Overlay,
        data_len: u64,
    ) -> Result<Option<(u64, EventId, Option<TaskId>)>, StoreError> {
        let mut b = [0u8; INDEX_RECORD as usize];
        self.index.read_at(&mut b, k * INDEX_RECORD)?;
        let r = IndexRecord::from_bytes(&b);
        if b == [0; INDEX_RECORD as usize] || r.offset != o.data_end {
            return Ok(None);
        }
        let Ok(end) = self.frame_end(r.offset, data_len) else {
            return Ok(None);
        };
        let Ok(bytes) = self.frame_at(r.offset) else {
            return Ok(None);
        };
        let Some((id, task)) = (self.keys)(&bytes) else {
            return Ok(None);
        };
        // The link must be the task's latest entry the reader has seen (or, for a task it
        // has not seen since `from`, an entry before `from`).
        let linked = match task.and_then(|t| o.heads.get(&t)) {
            Some(&head) => r.prev_in_task == head,
            None => r.prev_in_task == NO_PREV || r.prev_in_task < o.from,
        };
        Ok(linked.then_some((end, id, task)))
    }

    /// The entry index of event `id`, for a read-only store.
    pub(super) fn find_event_read_only(
        &self,
        o: &Overlay,
        id: &EventId,
        size: u64,
    ) -> Result<Option<u64>, StoreError> {
        if let Some(&index) = o.events.get(id) {
            return Ok(Some(index));
        }
        let p = self.snapshot();
        // The tables hold every entry before `from`; slots past it are ignored.
        self.lookup_event(&p.events, id, o.from.min(size), false)
    }

    /// The latest entry of `task` within the served prefix, for a read-only store.
    pub(super) fn task_head_read_only(
        &self,
        o: &Overlay,
        task: &TaskId,
    ) -> Result<Option<u64>, StoreError> {
        if let Some(&head) = o.heads.get(task) {
            return Ok(Some(head));
        }
        let p = self.snapshot();
        let Some(mut head) = self.task_head(&p.tasks, task)? else {
            return Ok(None);
        };
        // The writer may have written the slot since, pointing past what the reader serves:
        // follow the task's links back below `from` (the task has no entry between `from`
        // and the reader's size, or the overlay would have it). Those records may still be
        // being written, so the entry reached must be the task's.
        let moved_on = || corrupt("the log moved on while it was read; refresh and retry");
        while head != NO_PREV && head >= o.from {
            let r = self.record(head)?;
            if r.offset == 0 && r.prev_in_task == 0
                || r.prev_in_task != NO_PREV && r.prev_in_task >= head
            {
                return Err(moved_on());
            }
            head = r.prev_in_task;
        }
        if head == NO_PREV {
            return Ok(None);
        }
        let bytes = self.entry_unchecked(head)?;
        match (self.keys)(&bytes) {
            Some((_, Some(t))) if t == *task => Ok(Some(head)),
            _ => Err(moved_on()),
        }
    }
}
