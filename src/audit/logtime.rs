//! When each entry entered the log, as far as the bundle's checkpoints show it.
//!
//! Every checkpoint the log signs carries the time it was signed (the log key's
//! `cosignature/v1`). An entry at index `i` is not in a checkpoint of size `≤ i` and is in
//! every checkpoint of size `> i`; so it entered the log after the latest checkpoint of size
//! `≤ i` was signed and before the first one of size `> i` was. A2 judges a retired key by
//! the first bound, A5 an event's claimed times by the second.

use crate::bundle::BundleRef;
use crate::checkpoint::VerifiedCheckpoint;
use crate::merkle::{ConsistencyProof, TreeHead, verify_consistency};
use crate::trust::LogTrust;

/// The bundle's checkpoints, verified: the head the proofs lead to, and the earlier ones,
/// each consistent with it.
pub(super) struct Heads {
    /// The bundle's checkpoint.
    pub head: TreeHead,
    /// Its signed time, ms since the epoch (from seconds), if it has one.
    pub head_time: Option<u64>,
    /// Earlier checkpoints by ascending size, with their signed times in ms.
    pub earlier: Vec<(TreeHead, Option<u64>)>,
    /// For each earlier checkpoint, the latest signed time among it and those before it.
    after: Vec<Option<u64>>,
    /// For each earlier checkpoint, the earliest signed time among it, those after it and
    /// the head.
    before: Vec<Option<u64>>,
}

/// The window in which an entry entered the log: after `.0`, before `.1` (ms since the
/// epoch; `None` where no signed time bounds it).
pub(super) type Window = (Option<u64>, Option<u64>);

fn opened(note: &[u8], log: &LogTrust) -> Result<VerifiedCheckpoint, String> {
    log.open(note).map_err(|e| e.to_string())
}

fn ms(secs: Option<u64>) -> Option<u64> {
    secs.map(|s| s.saturating_mul(1000))
}

/// `pick` of two optional times; either alone where the other is missing.
fn either(a: Option<u64>, b: Option<u64>, pick: fn(u64, u64) -> u64) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

/// Verifies one earlier checkpoint and its consistency with `head`.
fn earlier_head(
    note: &[u8],
    proof: &[crate::bundle::NodeHash],
    log: &LogTrust,
    head: &TreeHead,
) -> Result<(TreeHead, Option<u64>), String> {
    let cp =
        opened(note, log).map_err(|e| format!("an earlier checkpoint does not verify: {e}"))?;
    let old = cp.tree_head();
    if old.size >= head.size {
        return Err(format!(
            "an earlier checkpoint (size {}) is not older than the bundle's (size {})",
            old.size, head.size
        ));
    }
    let consistent = if old.size == 0 {
        old.root == log.profile.empty_root()
    } else {
        let proof = ConsistencyProof {
            old_size: old.size,
            new_size: head.size,
            path: proof.iter().map(|h| h.0).collect(),
        };
        verify_consistency(log.profile, &proof, &old, head).is_ok()
    };
    if !consistent {
        return Err(format!(
            "the log is not consistent with its checkpoint of size {}",
            old.size
        ));
    }
    Ok((old, ms(cp.log_time())))
}

impl Heads {
    /// Verifies the bundle's checkpoint and every earlier one it carries.
    ///
    /// # Errors
    /// Why A3 fails: a checkpoint that does not verify under the pinned log key, an earlier
    /// one that is not older, out of order or not consistent with the head.
    pub(super) fn verify(bundle: &BundleRef<'_>, log: &LogTrust) -> Result<Self, String> {
        let cp = opened(bundle.checkpoint, log)
            .map_err(|e| format!("checkpoint does not verify under the pinned log key: {e}"))?;
        let head = cp.tree_head();
        let mut earlier: Vec<(TreeHead, Option<u64>)> = Vec::new();
        for c in &bundle.earlier {
            let (old, time) = earlier_head(&c.old_checkpoint.0, &c.proof, log, &head)?;
            if earlier
                .last()
                .is_some_and(|(prev, _)| prev.size >= old.size)
            {
                return Err("earlier checkpoints are not in ascending size order".into());
            }
            earlier.push((old, time));
        }
        let head_time = ms(cp.log_time());
        let mut after = Vec::with_capacity(earlier.len());
        let mut latest = None;
        for (_, t) in &earlier {
            latest = either(latest, *t, u64::max);
            after.push(latest);
        }
        let mut before = vec![None; earlier.len()];
        let mut first = head_time;
        for (k, (_, t)) in earlier.iter().enumerate().rev() {
            first = either(first, *t, u64::min);
            before[k] = first;
        }
        Ok(Self {
            head,
            head_time,
            earlier,
            after,
            before,
        })
    }

    /// When entry `index` entered the log. The upper bound allows for the second
    /// granularity of signed times (the log signed within the second it names).
    pub(super) fn window(&self, index: u64) -> Window {
        // Earlier checkpoints before `k` do not include the entry; from `k` on they do.
        let k = self.earlier.partition_point(|(h, _)| h.size <= index);
        let lo = k.checked_sub(1).and_then(|j| self.after[j]);
        let hi = self.before.get(k).copied().unwrap_or(self.head_time);
        (lo, hi.map(|t| t.saturating_add(999)))
    }
}
