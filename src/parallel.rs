//! Spreading work over cores, when the embedding program opts in.
//!
//! With the `parallel` feature, work runs on rayon's pool: the global one, or the caller's
//! when the library is called inside `rayon::ThreadPool::install`, so a service that embeds
//! the crate sizes and shares the pool. Without the feature the library never spawns a
//! thread: everything runs on the calling thread, in the same order of results.
//!
//! Either way a panic in the work propagates to the caller (rayon re-throws it on the
//! joining thread). It is never turned into a verdict: a panic is a bug, and a bug must not
//! read as "bad signature" or "check failed" in an auditor's report.

#[cfg(feature = "parallel")]
use rayon::prelude::*;

/// Runs `f` over parts of `items` and joins the results in order; inputs shorter than
/// `min_len` run as one part. Parts are a multiple of `min_len` long and about sixteen per
/// pool thread, so that a thread slowed by a neighbour on a shared machine takes fewer of
/// them instead of holding up the rest.
pub(crate) fn map_parts<T, R, F>(items: &[T], min_len: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> Vec<R> + Sync,
{
    let min_len = min_len.max(1);
    #[cfg(feature = "parallel")]
    {
        let threads = rayon::current_num_threads();
        if threads > 1 && items.len() >= min_len {
            let part_len = items.len().div_ceil(threads * 16).next_multiple_of(min_len);
            let parts: Vec<&[T]> = items.chunks(part_len).collect();
            return shared(&parts, |p| f(p)).into_iter().flatten().collect();
        }
    }
    let _ = min_len;
    f(items)
}

/// Runs `f` on every item, results in item order; with `spread`, the items are shared out
/// one at a time over the pool (put the costliest first, so they finish together).
pub(crate) fn map_each<T, R, F>(items: &[T], spread: bool, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    #[cfg(feature = "parallel")]
    if spread && rayon::current_num_threads() > 1 {
        return shared(items, f);
    }
    let _ = spread;
    items.iter().map(f).collect()
}

/// Runs `f` on every item, results in item order. The calling thread takes items one at a
/// time, and so do helpers queued on the pool, each as soon as a pool thread is free.
///
/// The caller works too, rather than waiting for the pool as `par_iter` would from outside
/// it: when a service already keeps the cores busy (several threads appending at once),
/// the helpers find the work done when they start, and each call runs on its own thread
/// without handing its work over. In the ingest benchmark (four appenders on two cores)
/// `par_iter` left part of the CPU idle where this keeps pace with the scoped threads it
/// replaced (`docs/performance.md`, eighteenth session).
#[cfg(feature = "parallel")]
fn shared<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { return };
            let r = f(item);
            // A slot is written once, by the thread that took its index.
            if let Ok(mut slot) = slots[i].lock() {
                *slot = Some(r);
            }
        }
    };
    let helpers = rayon::current_num_threads()
        .min(items.len())
        .saturating_sub(1);
    rayon::in_place_scope(|s| {
        for _ in 0..helpers {
            s.spawn(|_| work());
        }
        work();
    });
    // Every index was taken and run: a panic in `f` would have ended the scope with it.
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| unreachable!("every item ran in the scope"))
        })
        .collect()
}

/// Runs `a` and `b`, side by side when the pool has room, and returns both results. The
/// caller runs `a`, then `b` too if no pool thread has started it.
pub(crate) fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    #[cfg(feature = "parallel")]
    {
        use std::sync::Mutex;
        let b = Mutex::new(Some(b));
        let rb = Mutex::new(None);
        let run_b = || {
            let taken = b.lock().ok().and_then(|mut b| b.take());
            if let Some(b) = taken {
                let r = b();
                if let Ok(mut slot) = rb.lock() {
                    *slot = Some(r);
                }
            }
        };
        let ra = rayon::in_place_scope(|s| {
            s.spawn(|_| run_b());
            let ra = a();
            run_b();
            ra
        });
        // `b` ran, on this thread or a pool thread: a panic would have ended the scope.
        let rb = rb.into_inner().ok().flatten();
        (ra, rb.unwrap_or_else(|| unreachable!("b ran in the scope")))
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}

/// Drops the items of a large vector over the pool: freeing many small allocations one by
/// one is otherwise a serial tail of a parallel job.
pub(crate) fn drop_in_parts<T: Send>(items: Vec<T>, min_len: usize) {
    #[cfg(feature = "parallel")]
    if items.len() >= min_len.max(1) && rayon::current_num_threads() > 1 {
        items.into_par_iter().with_min_len(min_len).for_each(drop);
        return;
    }
    let _ = min_len;
    drop(items);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn map_each_keeps_item_order_and_runs_every_item_once() {
        let items: Vec<u32> = (0..100).rev().collect();
        for spread in [false, true] {
            let runs = AtomicUsize::new(0);
            let out = map_each(&items, spread, |&n| {
                runs.fetch_add(1, Ordering::Relaxed);
                n * 2
            });
            assert_eq!(runs.load(Ordering::Relaxed), 100, "spread {spread}");
            let want: Vec<u32> = items.iter().map(|&n| n * 2).collect();
            assert_eq!(out, want, "spread {spread}");
        }
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_caller() {
        let items: Vec<u64> = (0..5000).collect();
        let parts = std::panic::catch_unwind(|| {
            map_parts(&items, 16, |p| {
                assert!(!p.contains(&2500), "part with 2500 fails");
                p.to_vec()
            })
        });
        assert!(parts.is_err(), "map_parts swallowed a panic");
        let each = std::panic::catch_unwind(|| {
            map_each(&items, true, |&n| {
                assert!(n != 2500, "item 2500 fails");
                n
            })
        });
        assert!(each.is_err(), "map_each swallowed a panic");
        let joined = std::panic::catch_unwind(|| join(|| 1, || panic!("side fails")));
        assert!(joined.is_err(), "join swallowed a panic");
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
        for min in [1, 16, 5000, 9000] {
            let out = map_parts(&items, min, |p| p.iter().map(|n| n * 3).collect());
            assert_eq!(
                out,
                items.iter().map(|n| n * 3).collect::<Vec<_>>(),
                "{min}"
            );
        }
    }

    /// With the feature, a caller's pool is the one used: the work runs on its threads.
    #[cfg(feature = "parallel")]
    #[test]
    fn the_callers_pool_does_the_work() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .thread_name(|i| format!("callers-{i}"))
            .build()
            .expect("pool");
        let items: Vec<u64> = (0..100_000).collect();
        let names = pool.install(|| {
            map_parts(&items, 16, |p| {
                // Long enough that the helpers start before the caller is through.
                std::thread::sleep(std::time::Duration::from_millis(2));
                vec![std::thread::current().name().map(str::to_owned); p.len()]
            })
        });
        assert_eq!(names.len(), items.len());
        assert!(
            names
                .iter()
                .all(|n| n.as_deref().is_some_and(|n| n.starts_with("callers-")))
        );
        let distinct: std::collections::BTreeSet<_> = names.iter().collect();
        assert!(
            distinct.len() > 1,
            "one thread did everything: {distinct:?}"
        );
    }

    /// Without the feature the library runs on the calling thread only.
    #[cfg(not(feature = "parallel"))]
    #[test]
    fn without_the_feature_work_stays_on_the_calling_thread() {
        let me = std::thread::current().id();
        let items: Vec<u64> = (0..100_000).collect();
        let ids = map_parts(&items, 16, |p| vec![std::thread::current().id(); p.len()]);
        assert!(ids.iter().all(|&id| id == me));
        let ids = map_each(&items, true, |_| std::thread::current().id());
        assert!(ids.iter().all(|&id| id == me));
    }
}
