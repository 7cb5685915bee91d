//! Hash-table lookups and updates of the file store, and the slot hints that let an append
//! write a new event's slot without probing for it a second time.
//!
//! The ledger asks `find_event` for every id it is about to append (to resolve duplicates)
//! just before it appends them. A miss ends at the first empty slot of the id's probe run;
//! that position is remembered with the store size and table capacity of the lookup. When
//! the append then inserts the id, the position is still the right one if nothing was
//! committed since (same size), the table was not rebuilt (same capacity), and no earlier
//! insertion of the same append took it — only the writer fills slots, and it never empties
//! one, so those three conditions are exactly what keeps it the first empty slot.

use std::collections::{HashMap, HashSet};

use super::table::{Slot, Table, key_hash};
use super::{FileStore, Writer};
use crate::event::{EventId, TaskId};
use crate::store::{NewEntry, StoreError};

/// Where a missed lookup ended (see the module comment).
#[derive(Debug, Clone, Copy)]
pub(super) struct SlotHint {
    size: u64,
    capacity: u64,
    pos: u64,
}

/// Most hints kept between appends (lookups by readers must not grow memory).
const MAX_HINTS: usize = 1 << 16;

/// Remembered slot positions, keyed by event id.
pub(super) type Hints = std::sync::Mutex<HashMap<EventId, SlotHint>>;

impl FileStore {
    /// The entry index of event `id` among the first `size` entries, per `table`; records a
    /// slot hint on a miss when `hint` is set.
    pub(super) fn lookup_event(
        &self,
        table: &Table,
        id: &EventId,
        size: u64,
        hint: bool,
    ) -> Result<Option<u64>, StoreError> {
        let (fp, _) = key_hash(&self.table_key, id.as_bytes());
        let found = table.probe(u64::from(fp), |_, slot| {
            let Slot::Event { fp: f, index } = slot else {
                return Ok(None);
            };
            if f != fp || index >= size {
                return Ok(None);
            }
            // A fingerprint match: confirm with the entry itself.
            let bytes = self
                .entry_unchecked(index)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            Ok(((self.keys)(&bytes).map(|k| k.0) == Some(*id)).then_some(index))
        })?;
        match found {
            Ok(index) => Ok(Some(index)),
            Err(pos) => {
                if hint {
                    self.remember(
                        *id,
                        SlotHint {
                            size,
                            capacity: table.capacity,
                            pos,
                        },
                    );
                }
                Ok(None)
            }
        }
    }

    fn remember(&self, id: EventId, h: SlotHint) {
        let mut hints = self
            .hints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if hints.len() < MAX_HINTS {
            hints.insert(id, h);
        }
    }

    /// Inserts the event slots of a committed batch whose first entry is `first`.
    pub(super) fn insert_events(
        &self,
        w: &mut Writer,
        batch: &[NewEntry<'_>],
        first: u64,
    ) -> Result<(), StoreError> {
        let hints = std::mem::take(
            &mut *self
                .hints
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        w.events
            .reserve(batch.len() as u64, &self.dir, &self.table_key)?;
        let mut taken = HashSet::with_capacity(batch.len());
        for (i, e) in batch.iter().enumerate() {
            let (fp, _) = key_hash(&self.table_key, e.event_id.as_bytes());
            let pos = match hints.get(&e.event_id) {
                Some(h)
                    if h.size == first
                        && h.capacity == w.events.capacity
                        && !taken.contains(&h.pos) =>
                {
                    h.pos
                }
                _ => w.events.first_empty(u64::from(fp))?,
            };
            taken.insert(pos);
            w.events.put_new(
                pos,
                Slot::Event {
                    fp,
                    index: first + i as u64,
                },
            )?;
        }
        Ok(())
    }

    /// The index of the task's latest entry, per the task table.
    pub(super) fn task_head(
        &self,
        table: &Table,
        task: &TaskId,
    ) -> Result<Option<u64>, StoreError> {
        let (_, home) = key_hash(&self.table_key, task.as_bytes());
        let found = table.probe(home, |_, slot| match slot {
            Slot::Task { task: t, index } if &t == task.as_bytes() => Ok(Some(index)),
            _ => Ok(None),
        })?;
        Ok(found.ok())
    }

    /// Points the task's slot at `index` (unless it already points further), adding the
    /// slot if the task is new: one probe.
    pub(super) fn set_task_head(
        &self,
        table: &mut Table,
        task: &TaskId,
        index: u64,
    ) -> Result<(), StoreError> {
        // Grow first, so the position the probe finds stays valid.
        table.reserve(1, &self.dir, &self.table_key)?;
        let (_, home) = key_hash(&self.table_key, task.as_bytes());
        let slot = Slot::Task {
            task: *task.as_bytes(),
            index,
        };
        let found = table.probe(home, |pos, s| match s {
            Slot::Task {
                task: t,
                index: old,
            } if &t == task.as_bytes() => Ok(Some((pos, old))),
            _ => Ok(None),
        })?;
        match found {
            Ok((pos, old)) if old < index => table.write_slot(pos, slot)?,
            Ok(_) => {}
            Err(empty) => table.put_new(empty, slot)?,
        }
        Ok(())
    }
}
