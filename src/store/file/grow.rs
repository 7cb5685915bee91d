//! Growing a hash table: the rebuild at a larger capacity, streamed through bounded memory
//! with large sequential reads and writes (the first version read and probed one slot per
//! system call, which cost a tenth of all ingest CPU).
//!
//! With power-of-two capacities, a slot's home in the new table of capacity `F·C` is its
//! home `h` in the old one plus a multiple of `C`. The new table is filled one window of
//! `W ≤ C` slots at a time, in order. The slots whose new home falls in window
//! `[w, w + W)` have their old home in `[w mod C, w mod C + W)`, and under linear probing
//! they sit between `w mod C` and the first empty old slot at or after `w mod C + W`
//! (circularly): that stretch is read, filtered, and inserted into an in-memory copy of the
//! window. Insertions that run past the window spill into the next one (kept in memory);
//! ones that run past the end of the table wrap to its start and are inserted last, by
//! probing the file. Every slot is inserted at the first empty position from its home at
//! the time, and positions are only ever filled, so the result is a valid table.

use std::io;
use std::path::Path;

use super::io::Op;
use super::table::{HEADER, Slot, Table};

/// Slots per window and per read.
const WINDOW: u64 = 1 << 16;

impl Table {
    /// Rebuilds this table at `capacity` (a larger power of two) under a temporary name,
    /// then renames it into place.
    pub(super) fn grow_to(&mut self, capacity: u64, dir: &Path, key: &[u8; 32]) -> io::Result<()> {
        self.grow_in_windows(capacity, WINDOW.min(self.capacity), dir, key)
    }

    fn grow_in_windows(
        &mut self,
        capacity: u64,
        window: u64,
        dir: &Path,
        key: &[u8; 32],
    ) -> io::Result<()> {
        // The rebuild reads the old file whole: it must hold every slot.
        self.flush()?;
        let hook = self.file.hook();
        let tmp_name = grown_name(self.kind.file_name());
        let mut next = Self::create_at(dir, &tmp_name, self.kind, capacity, hook.clone())?;
        let mut spill: Vec<Slot> = Vec::new();
        let mut wrapped: Vec<Slot> = Vec::new();
        let mut w = 0;
        while w < capacity {
            let mut buf = std::mem::take(&mut spill);
            buf.resize(buf.len().max(window as usize), Slot::Empty);
            for slot in self.homes_in(w, window, &next, key)? {
                let home = next.home_of(slot, key) - w;
                place(&mut buf, home as usize, slot);
            }
            // Whatever ran past the table's end belongs at its start.
            let fits = (capacity - w) as usize;
            if buf.len() > fits {
                wrapped.extend(buf.drain(fits..).filter(|s| *s != Slot::Empty));
            }
            let keep = buf.len().min(window as usize);
            spill = buf.split_off(keep);
            next.write_slots(w, &buf)?;
            w += window;
        }
        for slot in wrapped {
            let home = next.home_of(slot, key);
            next.insert(home, slot)?;
        }
        next.count = self.count;
        next.watermark = self.watermark;
        next.write_header()?;
        next.sync()?;
        if let Some(h) = &hook {
            h.before(Op::Rename, self.kind.file_name())?;
        }
        std::fs::rename(dir.join(&tmp_name), dir.join(self.kind.file_name()))?;
        super::io::sync_dir(dir)?;
        *self = next;
        Ok(())
    }

    /// The old table's slots whose home in `next` lies in `[w, w + window)`.
    fn homes_in(&self, w: u64, window: u64, next: &Self, key: &[u8; 32]) -> io::Result<Vec<Slot>> {
        let start = w & (self.capacity - 1);
        let mut out = Vec::new();
        let mut pos = start;
        let mut read = 0;
        // Past the window's old range, stop at the first empty slot; never go round twice.
        while read < self.capacity {
            // The window's own range in one read, then small reads to the run's end.
            let want = if read < window { window - read } else { 256 };
            let n = want.min(self.capacity - pos).min(self.capacity - read);
            let slots = self.read_slots(pos, n)?;
            let mut ended = false;
            for (i, slot) in slots.into_iter().enumerate() {
                let offset = read + i as u64;
                if slot == Slot::Empty && offset >= window {
                    ended = true;
                    break;
                }
                if matches!(slot, Slot::Event { .. } | Slot::Task { .. }) {
                    let home = next.home_of(slot, key);
                    if (w..w + window).contains(&home) {
                        out.push(slot);
                    }
                }
            }
            if ended {
                break;
            }
            read += n;
            pos = (pos + n) & (self.capacity - 1);
        }
        Ok(out)
    }

    /// Reads `n` consecutive slots from `pos` in one read.
    fn read_slots(&self, pos: u64, n: u64) -> io::Result<Vec<Slot>> {
        let len = self.kind.slot_len();
        let mut raw = vec![0u8; n as usize * len];
        self.file.read_at(&mut raw, HEADER + pos * len as u64)?;
        Ok(raw
            .chunks_exact(len)
            .map(|b| Slot::decode(self.kind, b))
            .collect())
    }

    /// Writes consecutive slots from `pos` in one write.
    fn write_slots(&self, pos: u64, slots: &[Slot]) -> io::Result<()> {
        let len = self.kind.slot_len();
        let mut raw = Vec::with_capacity(slots.len() * len);
        for s in slots {
            raw.extend_from_slice(&s.encode(self.kind));
        }
        self.file.write_at(&raw, HEADER + pos * len as u64)
    }
}

/// The temporary name a table file is rebuilt under, before it is renamed into place.
pub(super) fn grown_name(file_name: &str) -> String {
    format!(".{file_name}.grow")
}

/// Linear-probing insertion into an in-memory stretch of slots, extending it as needed.
fn place(buf: &mut Vec<Slot>, home: usize, slot: Slot) {
    let mut p = home;
    while p < buf.len() && buf[p] != Slot::Empty {
        p += 1;
    }
    if p == buf.len() {
        buf.push(Slot::Empty);
    }
    buf[p] = slot;
}

#[cfg(test)]
mod tests {
    use super::super::table::{Kind, key_hash};
    use super::*;

    /// Fills a table with `n` events at `capacity`, grows it through windows of `window`
    /// slots, and checks every event is found from its new home and nothing else is there.
    fn grow_and_check(n: u64, capacity: u64, grown: u64, window: u64) {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = [7u8; 32];
        let mut t = Table::create(dir.path(), Kind::Events, None).expect("create");
        t.grow_to(capacity, dir.path(), &key).expect("size");
        let mut all = Vec::new();
        for i in 0..n {
            let (fp, _) = key_hash(&key, &(i as u128).to_le_bytes());
            let slot = Slot::Event { fp, index: i };
            t.insert(u64::from(fp), slot).expect("insert");
            all.push(slot);
        }
        t.grow_in_windows(grown, window, dir.path(), &key)
            .expect("grow");
        assert_eq!((t.capacity, t.count), (grown, n));
        // What the grown table holds, and what its file held when renamed into place.
        check_slots(
            &Table::open(dir.path(), Kind::Events, None, true).expect("open"),
            &all,
            &key,
        );
        check_slots(&t, &all, &key);
    }

    fn check_slots(t: &Table, all: &[Slot], key: &[u8; 32]) {
        let (grown, n) = (t.capacity, all.len());
        let mut seen = 0;
        for pos in 0..grown {
            if t.read_slot(pos).expect("read") != Slot::Empty {
                seen += 1;
            }
        }
        assert_eq!(seen, n, "no slot lost or doubled");
        for &slot in all {
            let home = t.home_of(slot, key);
            let found = t
                .probe(home, |_, s| Ok((s == slot).then_some(())))
                .expect("probe");
            assert!(found.is_ok(), "{slot:?} not reachable from its home");
        }
    }

    #[test]
    fn growing_keeps_every_slot_reachable() {
        // Dense tables (long runs, spills across windows, wrap-around at the end), several
        // growth factors, windows from tiny to the whole table.
        for (n, cap, grown, window) in [
            (700, 1024, 2048, 16),
            (700, 1024, 2048, 1024),
            (1400, 2048, 8192, 64),
            (1430, 2048, 4096, 8),
            (3, 1024, 2048, 16),
            (0, 1024, 2048, 16),
        ] {
            grow_and_check(n, cap, grown, window);
        }
    }

    #[test]
    fn slots_that_wrap_around_reach_the_grown_file() {
        // Twelve ids whose home is the last slot at both sizes: all but one wrap to the start.
        let dir = tempfile::tempdir().expect("tempdir");
        let key = [7u8; 32];
        let mut t = Table::create(dir.path(), Kind::Events, None).expect("create");
        let all: Vec<Slot> = (0..12)
            .map(|i| Slot::Event {
                fp: u32::MAX - (i << 16),
                index: u64::from(i),
            })
            .collect();
        for &slot in &all {
            t.insert(t.home_of(slot, &key), slot).expect("insert");
        }
        t.grow_in_windows(4096, 256, dir.path(), &key)
            .expect("grow");
        check_slots(
            &Table::open(dir.path(), Kind::Events, None, true).expect("open"),
            &all,
            &key,
        );
        check_slots(&t, &all, &key);
    }
}
