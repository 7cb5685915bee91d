//! Table slots written since the table was last synced, held in memory and written to the
//! file in sorted windows when it is synced or grown.
//!
//! Every append changes one slot in each table. Written straight away, that is one small
//! `pwrite` per slot at a random position; on a large table each one dirties a page of its
//! own, and the kernel's share of ingest grew with the log (`ext4_block_write_begin` under
//! the slot writes: `docs/performance.md`). Slots written since the last sync are not
//! durable anyway: a crash may lose any of them, and opening replays the entries after the
//! watermark (`docs/storage-format.md`). Keeping them here until the sync therefore changes
//! nothing a crash can observe, and the sync writes each stretch of the file once.
//!
//! Memory is bounded: a table writes its held slots out (without syncing) once it holds
//! [`MAX_HELD`], well before the store syncs it (every `TABLE_SYNC_EVERY` entries, each of
//! which dirties at most one slot per table).

use std::collections::HashMap;
use std::io;
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use super::io::StoreFile;
use super::table::{HEADER, Kind, Slot};

/// Dirty slots closer than this many bytes share one read-modify-write: rewriting a page of
/// unchanged bytes costs less than another pair of system calls.
const GAP_BYTES: u64 = 4096;
/// Largest stretch one flush write covers, so a flush's buffer stays small.
const MAX_WINDOW_BYTES: u64 = 1 << 20;
/// Most slots held before they are written out: below what a hash map of 2^17 buckets holds
/// (7/8 of them), so the map never grows past 5.4 MB. On a 10^7-entry event table (about
/// 2^25 slots) this many random slots lie about 340 slots apart, close enough that a flush
/// still writes long windows. Unit tests hold at most 48, fewer than their sync interval of
/// 64 entries, so that stores in tests write held slots out between syncs too.
pub(super) const MAX_HELD: usize = if cfg!(test) { 48 } else { 3 << 15 };

/// The slots written since the last flush, by position.
#[derive(Default)]
pub(super) struct Dirty {
    slots: RwLock<Slots>,
}

/// Held slots by position, hashed by [`PositionHasher`].
type Slots = HashMap<u64, Slot, std::hash::BuildHasherDefault<PositionHasher>>;

/// A cheap hash of a slot position. Positions come from BLAKE3 keyed with the store's secret
/// key (and runs after them), so nobody can choose positions that collide, and the standard
/// library's SipHash, which resists such choices, cost ingest for nothing
/// (`docs/performance.md`).
#[derive(Default)]
pub(super) struct PositionHasher(u64);

impl std::hash::Hasher for PositionHasher {
    fn finish(&self) -> u64 {
        // A multiply spreads the low bits upwards; folding brings the high bits back down,
        // so both the bucket (low bits) and the control byte (high bits) vary.
        let x = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^ (x >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A read view of the dirty slots, held for the length of one probe so that a flush cannot
/// move a slot from memory to the file between the probe's file read and its look here.
pub(super) struct DirtyView<'a>(RwLockReadGuard<'a, Slots>);

impl DirtyView<'_> {
    pub(super) fn get(&self, pos: u64) -> Option<Slot> {
        self.0.get(&pos).copied()
    }
}

impl Dirty {
    pub(super) fn view(&self) -> DirtyView<'_> {
        DirtyView(self.slots.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Holds `slot` for `pos`; returns how many slots are held.
    pub(super) fn put(&self, pos: u64, slot: Slot) -> usize {
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        slots.insert(pos, slot);
        slots.len()
    }

    /// Writes every dirty slot to `file`, in position order, one window at a time. The
    /// slots are forgotten only once all are written: after a failed write the store is
    /// poisoned and must be reopened (which replays), but until then reads stay right.
    pub(super) fn flush(&self, kind: Kind, file: &StoreFile) -> io::Result<()> {
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        if slots.is_empty() {
            return Ok(());
        }
        // Positions only (8 bytes each, not a copy of the slots): the flush must not double
        // the memory the held slots take.
        let mut positions: Vec<u64> = slots.keys().copied().collect();
        positions.sort_unstable();
        let mut buf = Vec::new();
        for window in Windows::new(&positions, kind.slot_len() as u64) {
            write_window(kind, file, window, &slots, &mut buf)?;
        }
        slots.clear();
        Ok(())
    }
}

/// Splits sorted positions into runs that are each written with one read and one write:
/// a run ends at a gap over [`GAP_BYTES`] or when it would span [`MAX_WINDOW_BYTES`].
struct Windows<'a> {
    rest: &'a [u64],
    gap: u64,
    max: u64,
}

impl<'a> Windows<'a> {
    fn new(sorted: &'a [u64], slot_len: u64) -> Self {
        Self {
            rest: sorted,
            gap: GAP_BYTES / slot_len,
            max: MAX_WINDOW_BYTES / slot_len,
        }
    }
}

impl<'a> Iterator for Windows<'a> {
    type Item = &'a [u64];

    fn next(&mut self) -> Option<&'a [u64]> {
        let first = *self.rest.first()?;
        let mut end = 1;
        while let Some(&p) = self.rest.get(end) {
            if p - self.rest[end - 1] > self.gap || p - first >= self.max {
                break;
            }
            end += 1;
        }
        let (window, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(window)
    }
}

/// Reads the file's stretch from the window's first slot to its last, puts the window's
/// slots in, and writes the stretch back (`buf` is reused from window to window).
fn write_window(
    kind: Kind,
    file: &StoreFile,
    window: &[u64],
    slots: &Slots,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    let len = kind.slot_len() as u64;
    let (first, last) = (window[0], window[window.len() - 1]);
    buf.resize(((last - first + 1) * len) as usize, 0);
    file.read_at(buf, HEADER + first * len)?;
    for pos in window {
        if let Some(slot) = slots.get(pos) {
            let at = ((pos - first) * len) as usize;
            buf[at..at + len as usize].copy_from_slice(&slot.encode(kind));
        }
    }
    file.write_at(buf, HEADER + first * len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_every_slot_once_in_order_and_respect_the_bounds() {
        let len = Kind::Events.slot_len() as u64;
        let (gap, max) = (GAP_BYTES / len, MAX_WINDOW_BYTES / len);
        // Dense stretches longer than the largest window, gaps just under and just over the
        // merge distance, and isolated slots.
        let mut positions: Vec<u64> = (0..3 * max).step_by(3).collect();
        let mut p = 10 * max;
        for step in [gap, gap + 1, gap, 1, gap + 1, 5 * gap] {
            p += step;
            positions.push(p);
        }
        let ws: Vec<&[u64]> = Windows::new(&positions, len).collect();
        let flat: Vec<u64> = ws.iter().flat_map(|w| w.iter().copied()).collect();
        assert_eq!(flat, positions);
        for w in &ws {
            assert!(!w.is_empty());
            assert!(w[w.len() - 1] - w[0] < max, "window too long");
            assert!(
                w.windows(2).all(|p| p[1] - p[0] <= gap),
                "gap inside a window"
            );
        }
        for pair in ws.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let split_by_gap = b[0] - a[a.len() - 1] > gap;
            let split_by_length = b[0] - a[0] >= max;
            assert!(
                split_by_gap || split_by_length,
                "windows split for no reason"
            );
        }
        // In the tail, the gaps of exactly `gap` (and of 1) merge, the larger ones split.
        let tail: Vec<usize> = ws[ws.len() - 4..].iter().map(|w| w.len()).collect();
        assert_eq!(tail, [1, 3, 1, 1]);
    }
}
