//! Splitting work over the machine's cores.

/// Runs `f` over parts of `items` on all cores (at most eight) and joins the results in
/// order; inputs shorter than `min_len` run as one part on the calling thread. Parts are a
/// multiple of `min_len` long and about sixteen per core, handed out one at a time, so that a
/// core slowed by a neighbour on a shared machine takes fewer of them instead of holding up
/// the rest. A part on which `f` panics yields `failed(part length)`, never nothing, so the
/// results always line up with the items.
pub(crate) fn map_parts<T, R, F, E>(items: &[T], min_len: usize, f: F, failed: E) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> Vec<R> + Sync,
    E: Fn(usize) -> Vec<R>,
{
    let min_len = min_len.max(1);
    if cores() < 2 || items.len() < min_len {
        return f(items);
    }
    let part_len = items.len().div_ceil(cores() * 16).next_multiple_of(min_len);
    let parts: Vec<&[T]> = items.chunks(part_len).collect();
    map_each(&parts, true, |p| f(p), |p| failed(p.len()))
        .into_iter()
        .flatten()
        .collect()
}

/// Threads worth running: the machine's cores, at most eight. Asked once: the standard
/// library reads the cgroup quota files on every call, which was 0.6 % of ingest.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(8)
    })
}

/// Runs `f` on every item; with `spread`, the calling thread and helpers for the cores no
/// other caller is using (see [`Busy`]) take the items one at a time in the given order (put
/// the costliest first, so they finish together), else the calling thread runs them all.
/// Results come back in item order; an item on which `f` panicked yields `failed(item)`.
pub(crate) fn map_each<T, R, F, E>(items: &[T], spread: bool, f: F, failed: E) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
    E: Fn(&T) -> R,
{
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let wanted = cores().min(items.len()).saturating_sub(1) * usize::from(spread);
    let busy = Busy::enter(wanted);
    let helpers = busy.helpers;
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { return };
            // An item that panics leaves its slot empty, whichever thread ran it.
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(item))).ok();
            // A slot is written once, by the thread that took its index.
            if let Ok(mut slot) = slots[i].lock() {
                *slot = r;
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 0..helpers {
            s.spawn(work);
        }
        work();
    });
    slots
        .into_iter()
        .zip(items)
        .map(|(m, item)| {
            m.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| failed(item))
        })
        .collect()
}

/// Threads now working in [`map_each`], callers and helpers, across the process.
static BUSY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A caller's share of the cores while it works in [`map_each`]: helpers only for the cores
/// no other caller is using. When several threads append at once they already fill the
/// cores, and a helper spawned per call only adds a thread's start and exit (its allocator's
/// cache flush and page purge were 2 % of ingest in a profile, plus the page faults after).
struct Busy {
    helpers: usize,
}

impl Busy {
    fn enter(wanted: usize) -> Self {
        use std::sync::atomic::Ordering;
        let others = BUSY.fetch_add(1, Ordering::Relaxed);
        let idle = cores().saturating_sub(others + 1);
        let helpers = wanted.min(idle);
        BUSY.fetch_add(helpers, Ordering::Relaxed);
        Self { helpers }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.fetch_sub(1 + self.helpers, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Drops the items of a large vector on all cores: freeing many small allocations one by
/// one is otherwise a serial tail of a parallel job.
pub(crate) fn drop_in_parts<T: Send>(mut items: Vec<T>, min_len: usize) {
    let threads = cores();
    if threads < 2 || items.len() < min_len.max(1) {
        return;
    }
    let per = items.len().div_ceil(threads);
    let mut parts = Vec::new();
    while items.len() > per {
        parts.push(items.split_off(items.len() - per));
    }
    std::thread::scope(|s| {
        for part in parts {
            s.spawn(move || drop(part));
        }
        drop(items);
    });
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn map_each_keeps_item_order_and_isolates_panics() {
        let items: Vec<u32> = (0..40).rev().collect();
        for spread in [false, true] {
            let out = map_each(
                &items,
                spread,
                |&n| {
                    assert!(n != 7, "item 7 fails");
                    n * 2
                },
                |&n| n + 1000,
            );
            let want: Vec<u32> = items
                .iter()
                .map(|&n| if n == 7 { 1007 } else { n * 2 })
                .collect();
            assert_eq!(out, want, "spread {spread}");
        }
    }

    #[test]
    fn map_each_runs_every_item_once() {
        let runs = AtomicUsize::new(0);
        let out = map_each(
            &[1u8; 100],
            true,
            |_| runs.fetch_add(1, Ordering::Relaxed),
            |_| usize::MAX,
        );
        assert_eq!(runs.load(Ordering::Relaxed), 100);
        let mut seen = out.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }

    /// Counts its drops.
    struct Tally(Arc<AtomicUsize>);

    impl Drop for Tally {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn drop_in_parts_drops_every_item_exactly_once() {
        for (len, min) in [(0, 1), (5, 100), (10_001, 16), (3, 1)] {
            let count = Arc::new(AtomicUsize::new(0));
            let items: Vec<Tally> = (0..len).map(|_| Tally(Arc::clone(&count))).collect();
            drop_in_parts(items, min);
            assert_eq!(count.load(Ordering::Relaxed), len, "len {len} min {min}");
        }
    }

    #[test]
    fn map_parts_joins_parts_in_order() {
        let items: Vec<u64> = (0..5000).collect();
        let out = map_parts(
            &items,
            16,
            |p| p.iter().map(|n| n * 3).collect(),
            |n| vec![0; n],
        );
        assert_eq!(out, items.iter().map(|n| n * 3).collect::<Vec<_>>());
        // A part that panics is replaced by `failed` for exactly its items.
        let out = map_parts(
            &items,
            16,
            |p| {
                assert!(!p.contains(&2500), "part with 2500 fails");
                p.to_vec()
            },
            |n| vec![u64::MAX; n],
        );
        assert_eq!(out.len(), items.len());
        let failed: Vec<usize> = (0..out.len()).filter(|&i| out[i] == u64::MAX).collect();
        assert!(
            failed.contains(&2500) && failed.len().is_multiple_of(16),
            "{}",
            failed.len()
        );
        assert!(
            failed.windows(2).all(|w| w[1] == w[0] + 1),
            "one contiguous part"
        );
        assert!(
            (0..out.len())
                .filter(|i| !failed.contains(i))
                .all(|i| out[i] == items[i])
        );
    }
}
