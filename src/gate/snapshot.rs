//! Which tasks the gate follows, written beside each checkpoint so that opening a ledger
//! rebuilds the live state from those tasks' entries and the entries logged since, instead of
//! reading the whole log.
//!
//! Layout (integers little-endian): `"WLLIVE01"` ‖ size u64 (the log size it reflects) ‖
//! policy count u64 ‖ that many entry indices u64 ‖ task count u64 ‖ that many task ids
//! [16] ‖ check [8] = BLAKE3(all previous bytes)[0..8]. It is a cache: one that does not
//! decode, or reflects more entries than the log has, is ignored and the state rebuilt by
//! reading every entry.

use crate::event::TaskId;

const MAGIC: &[u8; 8] = b"WLLIVE01";

/// The tasks and policies the gate followed at a log size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub size: u64,
    pub policies: Vec<u64>,
    pub tasks: Vec<TaskId>,
}

/// Why a snapshot file is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SnapshotError {
    /// It does not start with the magic bytes.
    #[error("not a live-state snapshot")]
    Magic,
    /// It ends before its counts say, or goes on after them.
    #[error("the snapshot's length does not match its counts")]
    Length,
    /// Its check does not match its bytes.
    #[error("the snapshot's check does not match")]
    Check,
}

/// The snapshot's bytes.
pub(crate) fn write_snapshot(s: &Snapshot) -> Vec<u8> {
    let mut out = Vec::with_capacity(40 + 8 * s.policies.len() + 16 * s.tasks.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&s.size.to_le_bytes());
    out.extend_from_slice(&(s.policies.len() as u64).to_le_bytes());
    for p in &s.policies {
        out.extend_from_slice(&p.to_le_bytes());
    }
    out.extend_from_slice(&(s.tasks.len() as u64).to_le_bytes());
    for t in &s.tasks {
        out.extend_from_slice(t.0.as_bytes());
    }
    let check = blake3::hash(&out);
    out.extend_from_slice(&check.as_bytes()[..8]);
    out
}

/// Reads a snapshot, checking every byte.
///
/// # Errors
/// [`SnapshotError`].
pub(crate) fn read_snapshot(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    let (body, check) = bytes.split_last_chunk::<8>().ok_or(SnapshotError::Length)?;
    let rest = body.strip_prefix(MAGIC).ok_or(SnapshotError::Magic)?;
    if blake3::hash(body).as_bytes()[..8] != check[..] {
        return Err(SnapshotError::Check);
    }
    let mut r = Reader(rest);
    let size = r.u64()?;
    let policies = (0..r.count(8)?)
        .map(|_| r.u64())
        .collect::<Result<_, _>>()?;
    let tasks = (0..r.count(16)?)
        .map(|_| r.take::<16>().map(|b| TaskId(uuid::Uuid::from_bytes(b))))
        .collect::<Result<_, _>>()?;
    if !r.0.is_empty() {
        return Err(SnapshotError::Length);
    }
    Ok(Snapshot {
        size,
        policies,
        tasks,
    })
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(SnapshotError::Length)?;
        self.0 = rest;
        Ok(*head)
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        self.take::<8>().map(u64::from_le_bytes)
    }

    /// A count of items of `width` bytes, checked against what is left before anything is
    /// allocated for them.
    fn count(&mut self, width: usize) -> Result<usize, SnapshotError> {
        let n = usize::try_from(self.u64()?).map_err(|_| SnapshotError::Length)?;
        if n.checked_mul(width).is_none_or(|len| len > self.0.len()) {
            return Err(SnapshotError::Length);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        Snapshot {
            size: 1234,
            policies: vec![0, 7],
            tasks: vec![
                TaskId(uuid::Uuid::from_u128(1)),
                TaskId(uuid::Uuid::from_u128(2)),
            ],
        }
    }

    #[test]
    fn a_snapshot_reads_back_and_every_damage_is_named() {
        let bytes = write_snapshot(&sample());
        assert_eq!(read_snapshot(&bytes), Ok(sample()));
        assert_eq!(read_snapshot(&bytes[..7]), Err(SnapshotError::Length));
        let mut bad = bytes.clone();
        bad[0] ^= 1;
        assert_eq!(read_snapshot(&bad), Err(SnapshotError::Magic));
        for i in 8..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x40;
            assert_eq!(read_snapshot(&bad), Err(SnapshotError::Check), "byte {i}");
        }
        // Counts that do not match the length, with a valid check: refused, not allocated.
        for (count_at, n) in [(16, u64::MAX), (16, 3), (40, 1 << 40), (40, 1)] {
            let mut body = bytes[..bytes.len() - 8].to_vec();
            body[count_at..count_at + 8].copy_from_slice(&n.to_le_bytes());
            let check = blake3::hash(&body);
            body.extend_from_slice(&check.as_bytes()[..8]);
            assert_eq!(
                read_snapshot(&body),
                Err(SnapshotError::Length),
                "{count_at} {n}"
            );
        }
        let mut longer = bytes[..bytes.len() - 8].to_vec();
        longer.push(0);
        let check = blake3::hash(&longer);
        longer.extend_from_slice(&check.as_bytes()[..8]);
        assert_eq!(read_snapshot(&longer), Err(SnapshotError::Length));
    }
}
