//! Open-addressing hash tables on disk, with linear probing.
//!
//! Two kinds share the code:
//! - the **event table** maps an event id to its entry index. A slot is 9 bytes: a 32-bit
//!   fingerprint of the id (never 0; 0 marks an empty slot) and the index (40 bits). A
//!   fingerprint match is confirmed by reading the entry, so the table stays small;
//! - the **task table** maps a task id to the index of its latest entry (entries of a task
//!   are chained through their index records). A slot is 24 bytes: a used flag, the full task
//!   id, the index (40 bits), two zero bytes.
//!
//! Fingerprints and positions come from BLAKE3 keyed with a per-store random key, so nobody
//! can choose ids that all land on one probe run. Tables grow by rebuilding at twice the size
//! once 70 % full; the header (magic, capacity, count) carries its own check.

use std::io;
use std::path::Path;
use std::sync::Arc;

use super::dirty::{Dirty, MAX_HELD};
use super::io::{FaultHook, StoreFile};

pub(super) const HEADER: u64 = 40;
const MIN_CAPACITY: u64 = 1024;
/// Index values are 40-bit: a store holds fewer than 2^40 entries.
pub(super) const MAX_INDEX: u64 = (1 << 40) - 1;

/// Which of the two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Events,
    Tasks,
}

impl Kind {
    pub(super) const fn slot_len(self) -> usize {
        match self {
            Self::Events => 9,
            Self::Tasks => 24,
        }
    }

    const fn magic(self) -> &'static [u8; 8] {
        match self {
            Self::Events => b"WLEVTTB1",
            Self::Tasks => b"WLTSKTB1",
        }
    }

    pub(super) const fn file_name(self) -> &'static str {
        match self {
            Self::Events => "events.tbl",
            Self::Tasks => "tasks.tbl",
        }
    }
}

fn u40(b: &[u8]) -> u64 {
    b[..5]
        .iter()
        .rev()
        .fold(0, |acc, &x| (acc << 8) | u64::from(x))
}

fn put_u40(out: &mut [u8], v: u64) {
    for (i, byte) in out[..5].iter_mut().enumerate() {
        *byte = (v >> (8 * i)) as u8;
    }
}

/// What a table slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    Empty,
    Event {
        fp: u32,
        index: u64,
    },
    Task {
        task: [u8; 16],
        index: u64,
    },
    /// Bytes no valid slot has (a flipped byte, for fsck).
    Invalid,
}

impl Slot {
    pub(super) fn decode(kind: Kind, b: &[u8]) -> Self {
        if b.iter().all(|&x| x == 0) {
            return Self::Empty;
        }
        match kind {
            Kind::Events => {
                let fp = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                if fp == 0 {
                    Self::Invalid
                } else {
                    Self::Event {
                        fp,
                        index: u40(&b[4..9]),
                    }
                }
            }
            Kind::Tasks => {
                if b[0] != 1 || b[22] != 0 || b[23] != 0 {
                    return Self::Invalid;
                }
                let mut task = [0u8; 16];
                task.copy_from_slice(&b[1..17]);
                Self::Task {
                    task,
                    index: u40(&b[17..22]),
                }
            }
        }
    }

    pub(super) fn encode(self, kind: Kind) -> Vec<u8> {
        let mut b = vec![0u8; kind.slot_len()];
        match self {
            Self::Event { fp, index } => {
                b[..4].copy_from_slice(&fp.to_le_bytes());
                put_u40(&mut b[4..9], index);
            }
            Self::Task { task, index } => {
                b[0] = 1;
                b[1..17].copy_from_slice(&task);
                put_u40(&mut b[17..22], index);
            }
            Self::Empty | Self::Invalid => {}
        }
        b
    }
}

/// The keyed hash of an id: (fingerprint for the event table, home hash).
pub(super) fn key_hash(key: &[u8; 32], id: &[u8; 16]) -> (u32, u64) {
    let h = blake3::keyed_hash(key, id);
    let b = h.as_bytes();
    let fp = u32::from_le_bytes([b[0], b[1], b[2], b[3]]).max(1);
    let home = u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]);
    (fp, home)
}

/// One table file. Clones (the readers' snapshots) share the file and the dirty slots.
#[derive(Clone)]
pub(super) struct Table {
    pub kind: Kind,
    pub file: StoreFile,
    /// Slots written since the last [`Table::sync`]: the file holds every other slot.
    dirty: Arc<Dirty>,
    pub capacity: u64,
    pub count: u64,
    /// Entries `[0, watermark)` have all their slots durably in the table.
    pub watermark: u64,
}

fn header_bytes(kind: Kind, capacity: u64, count: u64, watermark: u64) -> [u8; 40] {
    let mut h = [0u8; 40];
    h[..8].copy_from_slice(kind.magic());
    h[8..16].copy_from_slice(&capacity.to_le_bytes());
    h[16..24].copy_from_slice(&count.to_le_bytes());
    h[24..32].copy_from_slice(&watermark.to_le_bytes());
    let check = blake3::hash(&h[..32]);
    h[32..].copy_from_slice(&check.as_bytes()[..8]);
    h
}

impl Table {
    /// The home slot of a slot's key: events by fingerprint, tasks by the task id's hash.
    pub(super) fn home_of(&self, slot: Slot, key: &[u8; 32]) -> u64 {
        let h = match slot {
            Slot::Event { fp, .. } => u64::from(fp),
            Slot::Task { task, .. } => key_hash(key, &task).1,
            Slot::Empty | Slot::Invalid => 0,
        };
        h & (self.capacity - 1)
    }

    pub(super) fn create(
        dir: &Path,
        kind: Kind,
        hook: Option<Arc<dyn FaultHook>>,
    ) -> io::Result<Self> {
        Self::create_at(dir, kind.file_name(), kind, MIN_CAPACITY, hook)
    }

    pub(super) fn create_at(
        dir: &Path,
        name: &str,
        kind: Kind,
        capacity: u64,
        hook: Option<Arc<dyn FaultHook>>,
    ) -> io::Result<Self> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.join(name))?;
        let file = StoreFile::new(kind.file_name(), f, hook);
        file.set_len(HEADER + capacity * kind.slot_len() as u64)?;
        file.write_at(&header_bytes(kind, capacity, 0, 0), 0)?;
        Ok(Self {
            kind,
            file,
            dirty: Arc::default(),
            capacity,
            count: 0,
            watermark: 0,
        })
    }

    /// Opens a table file, for writing or (a reader's) for reading only.
    pub(super) fn open(
        dir: &Path,
        kind: Kind,
        hook: Option<Arc<dyn FaultHook>>,
        writable: bool,
    ) -> Result<Self, String> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(writable)
            .open(dir.join(kind.file_name()))
            .map_err(|e| e.to_string())?;
        let file = StoreFile::new(kind.file_name(), f, hook);
        let mut h = [0u8; 40];
        file.read_at(&mut h, 0)
            .map_err(|e| format!("{}: {e}", kind.file_name()))?;
        let field = |i: usize| {
            u64::from_le_bytes([
                h[i],
                h[i + 1],
                h[i + 2],
                h[i + 3],
                h[i + 4],
                h[i + 5],
                h[i + 6],
                h[i + 7],
            ])
        };
        let (capacity, count, watermark) = (field(8), field(16), field(24));
        let ok = h == header_bytes(kind, capacity, count, watermark)
            && capacity.is_power_of_two()
            && file.len().ok() == Some(HEADER + capacity * kind.slot_len() as u64);
        if !ok {
            return Err(format!("{}: bad header or length", kind.file_name()));
        }
        Ok(Self {
            kind,
            file,
            dirty: Arc::default(),
            capacity,
            count,
            watermark,
        })
    }

    pub(super) fn read_slot(&self, pos: u64) -> io::Result<Slot> {
        if let Some(slot) = self.dirty.view().get(pos) {
            return Ok(slot);
        }
        let mut b = vec![0u8; self.kind.slot_len()];
        self.file
            .read_at(&mut b, HEADER + pos * self.kind.slot_len() as u64)?;
        Ok(Slot::decode(self.kind, &b))
    }

    /// Walks the probe run from `home` until `visit` (given each slot's position and
    /// content) returns `Some` or an empty slot is met; returns what `visit` returned, or the
    /// empty slot's position as `Err`.
    pub(super) fn probe<T>(
        &self,
        home: u64,
        mut visit: impl FnMut(u64, Slot) -> io::Result<Option<T>>,
    ) -> io::Result<Result<T, u64>> {
        let dirty = self.dirty.view();
        let mut file = RunReader::new(self);
        let mut pos = home & (self.capacity - 1);
        for _ in 0..self.capacity {
            let slot = match dirty.get(pos) {
                Some(slot) => slot,
                None => file.slot(pos)?,
            };
            if slot == Slot::Empty {
                return Ok(Err(pos));
            }
            if let Some(found) = visit(pos, slot)? {
                return Ok(Ok(found));
            }
            pos = (pos + 1) & (self.capacity - 1);
        }
        // Cannot happen below the 70 % load limit; treat a full table as corrupt.
        Err(io::Error::other("hash table has no empty slot"))
    }

    /// Sets the slot at `pos`. It reaches the file at the next [`Table::sync`], or sooner
    /// when the table holds too many slots in memory.
    pub(super) fn write_slot(&self, pos: u64, slot: Slot) -> io::Result<()> {
        if self.dirty.put(pos, slot) >= MAX_HELD {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the dirty slots to the file and syncs it.
    pub(super) fn sync(&self) -> io::Result<()> {
        self.flush()?;
        self.file.sync()
    }

    /// Writes the dirty slots to the file, without syncing (before the file is read whole).
    pub(super) fn flush(&self) -> io::Result<()> {
        self.dirty.flush(self.kind, &self.file)
    }

    pub(super) fn write_header(&self) -> io::Result<()> {
        self.file.write_at(
            &header_bytes(self.kind, self.capacity, self.count, self.watermark),
            0,
        )
    }

    /// Inserts at the first empty slot of `home`'s probe run.
    pub(super) fn insert(&mut self, home: u64, slot: Slot) -> io::Result<()> {
        let pos = self.first_empty(home)?;
        self.put_new(pos, slot)
    }

    /// The first empty slot of `home`'s probe run.
    pub(super) fn first_empty(&self, home: u64) -> io::Result<u64> {
        match self.probe(home, |_, _| Ok(None::<core::convert::Infallible>))? {
            Err(empty) => Ok(empty),
            Ok(never) => match never {},
        }
    }

    /// Fills the empty slot at `pos`.
    pub(super) fn put_new(&mut self, pos: u64, slot: Slot) -> io::Result<()> {
        self.write_slot(pos, slot)?;
        self.count += 1;
        Ok(())
    }

    /// Makes room for `more` insertions, rebuilding at a larger capacity if needed.
    pub(super) fn reserve(&mut self, more: u64, dir: &Path, key: &[u8; 32]) -> io::Result<()> {
        let need = self.count + more;
        if need * 10 <= self.capacity * 7 {
            return Ok(());
        }
        let mut capacity = self.capacity;
        while need * 2 > capacity {
            capacity *= 2;
        }
        self.grow_to(capacity, dir, key)
    }
}

/// Reads a probe run's slots from the file a run of them at a time: probe runs are short
/// but contiguous, so a lookup costs one read instead of one per slot, and none at all when
/// the slots it visits are all dirty.
struct RunReader<'a> {
    table: &'a Table,
    buf: [u8; RUN as usize * MAX_SLOT_LEN],
    first: u64,
    len: u64,
}

const RUN: u64 = 32;
const MAX_SLOT_LEN: usize = 24;
const _: () = assert!(Kind::Events.slot_len() <= MAX_SLOT_LEN);
const _: () = assert!(Kind::Tasks.slot_len() <= MAX_SLOT_LEN);

impl<'a> RunReader<'a> {
    const fn new(table: &'a Table) -> Self {
        Self {
            table,
            buf: [0; RUN as usize * MAX_SLOT_LEN],
            first: 0,
            len: 0,
        }
    }

    fn slot(&mut self, pos: u64) -> io::Result<Slot> {
        let slot_len = self.table.kind.slot_len();
        if !(self.first..self.first + self.len).contains(&pos) {
            // Runs never wrap: the probe reads from the table's start when it gets there.
            let n = RUN.min(self.table.capacity - pos);
            let run = &mut self.buf[..n as usize * slot_len];
            self.table
                .file
                .read_at(run, HEADER + pos * slot_len as u64)?;
            (self.first, self.len) = (pos, n);
        }
        let at = (pos - self.first) as usize * slot_len;
        Ok(Slot::decode(self.table.kind, &self.buf[at..at + slot_len]))
    }
}
