//! [`MemoryStore`]: everything in memory, for tests and short-lived use.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use super::{NewEntry, Storage, StoreError};
use crate::event::{EventId, TaskId};
use crate::merkle::{Hash, HashProfile, MemoryNodes, NodeId, NodeReader as _};

#[derive(Debug, Default)]
struct Inner {
    entries: Vec<Vec<u8>>,
    nodes: Option<MemoryNodes>,
    events: HashMap<EventId, u64>,
    tasks: HashMap<TaskId, Vec<u64>>,
    checkpoints: BTreeMap<u64, Vec<u8>>,
}

/// A store held entirely in memory; nothing survives the process.
#[derive(Debug)]
pub struct MemoryStore {
    profile: HashProfile,
    inner: RwLock<Inner>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new(profile: HashProfile) -> Self {
        let inner = Inner {
            nodes: Some(MemoryNodes::new(profile)),
            ..Inner::default()
        };
        Self {
            profile,
            inner: RwLock::new(inner),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` half-updated: every write
        // below completes before it returns. So a poisoned lock is still consistent.
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Storage for MemoryStore {
    fn profile(&self) -> HashProfile {
        self.profile
    }

    fn size(&self) -> u64 {
        self.read().entries.len() as u64
    }

    fn append(&self, batch: &[NewEntry<'_>]) -> Result<u64, StoreError> {
        let mut g = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let first = g.entries.len() as u64;
        for (i, e) in batch.iter().enumerate() {
            let index = first + i as u64;
            g.entries.push(e.bytes.to_vec());
            if let Some(n) = g.nodes.as_mut() {
                n.append_leaf_hash(e.leaf);
            }
            g.events.entry(e.event_id).or_insert(index);
            if let Some(t) = e.task {
                g.tasks.entry(t).or_default().push(index);
            }
        }
        Ok(first)
    }

    fn entry(&self, index: u64) -> Result<Vec<u8>, StoreError> {
        let g = self.read();
        let size = g.entries.len() as u64;
        usize::try_from(index)
            .ok()
            .and_then(|i| g.entries.get(i))
            .cloned()
            .ok_or(StoreError::OutOfRange { index, size })
    }

    fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
        let g = self.read();
        let size = g.entries.len() as u64;
        g.nodes
            .as_ref()
            .and_then(|n| n.read_node(id).ok())
            .ok_or(StoreError::OutOfRange {
                index: id.index,
                size,
            })
    }

    fn find_event(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
        Ok(self.read().events.get(id).copied())
    }

    fn task_entries(&self, task: &TaskId) -> Result<Vec<u64>, StoreError> {
        Ok(self.read().tasks.get(task).cloned().unwrap_or_default())
    }

    fn put_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        let mut g = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.checkpoints.insert(size, note.to_vec());
        Ok(())
    }

    fn checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read().checkpoints.get(&size).cloned())
    }

    fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError> {
        Ok(self.read().checkpoints.keys().copied().collect())
    }
}
