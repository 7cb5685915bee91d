//! The commit of one batch (see the protocol in the module above).

use std::collections::HashMap;

use super::records::{FRAME_HEADER, INDEX_RECORD, IndexRecord, NO_PREV, nodes_for, push_frame};
use super::table::MAX_INDEX;
use super::{FileStore, Writer, summit};
use crate::event::TaskId;
use crate::merkle::{Frontier, Hash, NodeId};
use crate::store::{NewEntry, StoreError};

/// The byte buffers a commit fills, kept by the writer from one commit to the next: a
/// multi-megabyte buffer allocated afresh for each group came from new pages every time,
/// and their page faults showed in ingest's profile (`docs/performance.md`).
#[derive(Default)]
pub(super) struct Buffers {
    frames: Vec<u8>,
    records: Vec<u8>,
    nodes: Vec<u8>,
}

/// Largest buffer kept between commits: a rare huge batch does not pin its memory.
const KEEP: usize = 32 << 20;

impl Buffers {
    /// Empties the buffers for reuse, dropping any grown past [`KEEP`].
    fn recycle(mut self) -> Self {
        for b in [&mut self.frames, &mut self.records, &mut self.nodes] {
            if b.capacity() > KEEP {
                *b = Vec::new();
            }
            b.clear();
        }
        self
    }
}

/// Everything a batch writes, computed before any I/O.
struct Plan {
    /// Frames, index records and node hashes, in the writer's reused buffers.
    out: Buffers,
    frontier: Frontier,
    heads: HashMap<TaskId, u64>,
    /// The new nodes the in-memory summit keeps.
    summit: Vec<(NodeId, Hash)>,
}

impl FileStore {
    fn plan(&self, w: &mut Writer, batch: &[NewEntry<'_>]) -> Result<Plan, StoreError> {
        // Sized up front: growing a multi-megabyte buffer by doubling copied it over and over,
        // each new copy with its page faults (`docs/performance.md`).
        let frames_len: usize = batch
            .iter()
            .map(|e| FRAME_HEADER as usize + e.bytes.len())
            .sum();
        let mut out = std::mem::take(&mut w.buffers);
        out.frames.reserve(frames_len);
        out.records.reserve(batch.len() * INDEX_RECORD as usize);
        // One node per leaf on average (a tree of n leaves has n − 1 inner nodes).
        out.nodes.reserve((batch.len() + 1) * 32);
        let mut plan = Plan {
            out,
            frontier: w.frontier.clone(),
            heads: HashMap::new(),
            summit: Vec::new(),
        };
        let snapshot = self.snapshot();
        for (i, e) in batch.iter().enumerate() {
            let index = w.size + i as u64;
            let offset = w.data_len + plan.out.frames.len() as u64;
            push_frame(&mut plan.out.frames, e.bytes, &e.leaf);
            let prev_in_task = match e.task {
                None => NO_PREV,
                Some(t) => {
                    let prev = match plan.heads.get(&t) {
                        Some(&p) => Some(p),
                        None => self.task_head(&snapshot.tasks, &t)?,
                    };
                    plan.heads.insert(t, index);
                    prev.unwrap_or(NO_PREV)
                }
            };
            plan.out.records.extend_from_slice(
                &IndexRecord {
                    offset,
                    prev_in_task,
                }
                .to_bytes(),
            );
            // The k-th completed subtree (lowest first) is at level k + 1.
            for (level, p) in (1u8..).zip(plan.frontier.push(e.leaf)) {
                plan.out.nodes.extend_from_slice(p.as_bytes());
                if level >= summit::FROM {
                    let id = NodeId {
                        level,
                        index: index >> level,
                    };
                    plan.summit.push((id, p));
                }
            }
        }
        Ok(plan)
    }

    pub(super) fn append_locked(
        &self,
        w: &mut Writer,
        batch: &[NewEntry<'_>],
    ) -> Result<u64, StoreError> {
        let first = w.size;
        if batch.is_empty() {
            return Ok(first);
        }
        let end = first + batch.len() as u64;
        if end > MAX_INDEX {
            return Err(StoreError::Corrupt("store is full (2^40 entries)".into()));
        }
        let plan = self.plan(w, batch)?;
        // 1. Entries and node hashes, durable before the commit point. Table slots of earlier
        //    batches are synced here once they lag by TABLE_SYNC_EVERY entries; the watermark
        //    only ever moves past synced slots.
        self.data.write_at(&plan.out.frames, w.data_len)?;
        self.nodes
            .write_at(&plan.out.nodes, nodes_for(first) * 32)?;
        self.data.sync()?;
        self.nodes.sync()?;
        self.seal_tables(w, false)?;
        // 2. The commit point.
        self.index
            .write_at(&plan.out.records, first * INDEX_RECORD)?;
        self.index.sync()?;
        w.size = end;
        w.data_len += plan.out.frames.len() as u64;
        w.frontier = plan.frontier;
        for (id, hash) in plan.summit {
            self.summit.put(id, hash);
        }
        // 3. Tables, after the commit: they never point at an uncommitted entry. If this
        //    fails the batch is durable but the store is poisoned; reopening replays it.
        self.update_tables(w, batch, first, &plan.heads)?;
        w.buffers = plan.out.recycle();
        self.publish(w);
        Ok(first)
    }

    fn update_tables(
        &self,
        w: &mut Writer,
        batch: &[NewEntry<'_>],
        first: u64,
        heads: &HashMap<TaskId, u64>,
    ) -> Result<(), StoreError> {
        self.insert_events(w, batch, first)?;
        w.events.write_header()?;
        for (task, &index) in heads {
            self.set_task_head(&mut w.tasks, task, index)?;
        }
        w.tasks.write_header()?;
        Ok(())
    }
}
