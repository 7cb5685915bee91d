//! Store-level consistency check: every frame, offset, node hash, task chain and table slot.

use std::collections::HashMap;

use super::records::{FRAME_HEADER, INDEX_RECORD, NO_PREV, nodes_for};
use super::table::{Slot, Table, key_hash};
use super::{FileStore, parse_meta};
use crate::event::TaskId;
use crate::merkle::Frontier;
use crate::store::{Storage as _, StoreError};

/// The first problem fsck found: which file, at which byte offset, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsckReport {
    /// Entries checked.
    pub entries: u64,
    /// The first problem, if any.
    pub problem: Option<(String, u64, String)>,
}

type Found = Result<(), (String, u64, String)>;

fn bad(file: &str, offset: u64, what: impl Into<String>) -> Found {
    Err((file.to_owned(), offset, what.into()))
}

impl FileStore {
    /// Re-reads and re-checks the whole store; reports the first inconsistency.
    ///
    /// # Errors
    /// Only I/O errors that stop the check itself; inconsistencies go in the report.
    pub fn fsck(&self) -> Result<FsckReport, StoreError> {
        self.fsck_with_progress(&|_| {})
    }

    /// As [`FileStore::fsck`], telling `progress` how many entries it has checked (every
    /// few thousand).
    ///
    /// # Errors
    /// As [`FileStore::fsck`].
    pub fn fsck_with_progress(&self, progress: &dyn Fn(u64)) -> Result<FsckReport, StoreError> {
        let size = self.size();
        let problem = match self.fsck_inner(size, progress) {
            Ok(found) => found.err(),
            Err(StoreError::Corrupt(what)) => Some(("store".into(), 0, what)),
            Err(e) => return Err(e),
        };
        Ok(FsckReport {
            entries: size,
            problem,
        })
    }

    fn fsck_inner(&self, size: u64, progress: &dyn Fn(u64)) -> Result<Found, StoreError> {
        if let Err(StoreError::Corrupt(what)) = parse_meta(&std::fs::read(self.dir.join("meta"))?) {
            return Ok(bad("meta", 0, what));
        }
        let mut tasks: HashMap<TaskId, u64> = HashMap::new();
        if let Err(found) = self.check_entries(size, &mut tasks, progress)? {
            return Ok(Err(found));
        }
        let p = self.snapshot();
        for table in [&p.events, &p.tasks] {
            if let Err(found) = self.check_table(table, size, &tasks)? {
                return Ok(Err(found));
            }
        }
        Ok(Ok(()))
    }

    /// Scans entries in order, checking frames, offsets, task chains, event lookups and the
    /// node hashes recomputed from the entries.
    fn check_entries(
        &self,
        size: u64,
        tasks: &mut HashMap<TaskId, u64>,
        progress: &dyn Fn(u64),
    ) -> Result<Found, StoreError> {
        let mut offset = 0u64;
        let mut frontier = Frontier::new(self.profile);
        let mut node_pos = 0u64;
        for index in 0..size {
            if index % 4096 == 0 {
                progress(index);
            }
            let rec = self.record(index)?;
            if rec.offset != offset {
                return Ok(bad(
                    "index.dat",
                    index * INDEX_RECORD,
                    format!(
                        "entry {index} offset {} but the previous frame ends at {offset}",
                        rec.offset
                    ),
                ));
            }
            let bytes = match self.frame_at(offset) {
                Ok(b) => b,
                Err(StoreError::Corrupt(_) | StoreError::Io(_)) => {
                    return Ok(bad(
                        "entries.dat",
                        offset,
                        format!("entry {index}: bad frame"),
                    ));
                }
                Err(e) => return Err(e),
            };
            let Some((id, task)) = (self.keys)(&bytes) else {
                return Ok(bad(
                    "entries.dat",
                    offset,
                    format!("entry {index}: not a decodable event"),
                ));
            };
            let expected_prev = task.and_then(|t| tasks.insert(t, index)).unwrap_or(NO_PREV);
            if rec.prev_in_task != expected_prev {
                return Ok(bad(
                    "index.dat",
                    index * INDEX_RECORD + 8,
                    format!("entry {index}: wrong previous task entry"),
                ));
            }
            if self.lookup_event(&self.snapshot().events, &id, size, false)? != Some(index) {
                return Ok(bad(
                    "events.tbl",
                    0,
                    format!("entry {index}: event id not found at its index"),
                ));
            }
            let parents = frontier.push(self.profile.leaf_hash(&bytes));
            for (level, node) in parents.iter().enumerate() {
                let mut stored = [0u8; 32];
                self.nodes.read_at(&mut stored, node_pos * 32)?;
                if stored != *node.as_bytes() {
                    return Ok(bad(
                        "nodes.dat",
                        node_pos * 32,
                        format!(
                            "node at level {} completed by entry {index} differs from the recomputed hash",
                            level + 1
                        ),
                    ));
                }
                node_pos += 1;
            }
            offset += FRAME_HEADER + bytes.len() as u64;
        }
        if self.data.len()? != offset {
            return Ok(bad("entries.dat", offset, "bytes after the last entry"));
        }
        if self.nodes.len()? != nodes_for(size) * 32 {
            return Ok(bad("nodes.dat", nodes_for(size) * 32, "wrong length"));
        }
        Ok(Ok(()))
    }

    fn check_table(
        &self,
        table: &Table,
        size: u64,
        tasks: &HashMap<TaskId, u64>,
    ) -> Result<Found, StoreError> {
        let name = table.kind.file_name();
        let slot_len = match table.kind {
            super::table::Kind::Events => 9,
            super::table::Kind::Tasks => 24,
        };
        let mut task_slots = 0usize;
        for pos in 0..table.capacity {
            let at = 40 + pos * slot_len;
            match table.read_slot(pos)? {
                Slot::Empty => {}
                Slot::Invalid => return Ok(bad(name, at, "invalid slot")),
                Slot::Event { fp, index } => {
                    let ok = index < size
                        && (self.keys)(&self.entry_unchecked(index)?).is_some_and(|(id, _)| {
                            key_hash(&self.table_key, id.as_bytes()).0 == fp
                        });
                    if !ok {
                        return Ok(bad(name, at, "slot does not match its entry"));
                    }
                }
                Slot::Task { task, index } => {
                    task_slots += 1;
                    let t = TaskId(uuid::Uuid::from_bytes(task));
                    if tasks.get(&t) != Some(&index) {
                        return Ok(bad(name, at, "slot is not the task's latest entry"));
                    }
                }
            }
        }
        if table.kind == super::table::Kind::Tasks && task_slots != tasks.len() {
            return Ok(bad(
                name,
                0,
                format!("{} tasks indexed, {} in the log", task_slots, tasks.len()),
            ));
        }
        Ok(Ok(()))
    }
}
