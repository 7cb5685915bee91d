//! Splitting work over the machine's cores.

/// Runs `f` over parts of `items`, one part per core (at most eight), and joins the results
/// in order; inputs shorter than `min_len` run as one part on the calling thread, which also
/// takes the first part otherwise (one thread fewer to start). A part whose thread panics
/// yields `failed(part length)`, never nothing, so the results always line up with the items.
pub(crate) fn map_parts<T, R, F, E>(items: &[T], min_len: usize, f: F, failed: E) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> Vec<R> + Sync,
    E: Fn(usize) -> Vec<R>,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8);
    if threads < 2 || items.len() < min_len.max(1) {
        return f(items);
    }
    let f = &f;
    let mut parts = items.chunks(items.len().div_ceil(threads));
    let own = parts.next().unwrap_or_default();
    std::thread::scope(|s| {
        let others: Vec<_> = parts
            .map(|part| (part.len(), s.spawn(move || f(part))))
            .collect();
        let mut out = f(own);
        for (n, h) in others {
            out.extend(h.join().unwrap_or_else(|_| failed(n)));
        }
        out
    })
}
