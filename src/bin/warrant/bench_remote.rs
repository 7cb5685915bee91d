//! `warrant bench --remote`: the same events ingested through the ledger server on loopback,
//! against the embedded ingest measured the same way in the same run.
//!
//! The reference is not the segmented ingest of `warrant bench` (its appenders meet at a
//! barrier every segment, which costs it time a continuous run does not lose): it is the
//! same threads appending the same chunks to a ledger in this process, continuously, timed
//! the way the remote run is. The two alternate, twice each (embedded, remote, embedded,
//! remote), each into a new ledger, because this machine's speed drifts within seconds.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::client::{Client, ClientConfig};
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::server::{Server, ServerConfig};
use warrant_ledger::store::Storage;
use warrant_ledger::trust::TrustPolicy;

use crate::bench_cmd::{CHUNK, read_chunk};
use crate::ledger_cmd::progress;

/// What the remote ingest measured.
#[derive(Serialize)]
pub(crate) struct RemoteFigures {
    /// Events per second appended through `POST /add` on loopback, durable when answered.
    pub(crate) remote_ingest_eps: f64,
    /// The same threads appending the same chunks in this process, timed the same way.
    pub(crate) embedded_continuous_eps: f64,
    /// `remote_ingest_eps / embedded_continuous_eps`.
    pub(crate) ratio_to_embedded: f64,
    /// Median and 99th percentile of one request's time (one chunk of events), client side.
    pub(crate) add_p50_ms: f64,
    pub(crate) add_p99_ms: f64,
    /// Requests sent, and events in each.
    pub(crate) add_requests: usize,
    pub(crate) events_per_request: usize,
}

/// Rounds of (embedded, remote).
const ROUNDS: usize = 2;

/// Ingests `files` (`n` events) [`ROUNDS`] times each way, each into a new ledger under
/// `work`: embedded, then through a server on loopback (one client thread per file, one
/// chunk per request, each waiting for its answer as services do, all in this process
/// beside the server).
pub(crate) fn measure(
    files: &[PathBuf],
    n: u64,
    profile: HashProfile,
    trust: &TrustPolicy,
    work: &Path,
) -> Result<RemoteFigures> {
    let (mut embedded_secs, mut remote_secs) = (0.0, 0.0);
    let mut latencies = Vec::new();
    for round in 0..ROUNDS {
        let ledger = new_ledger(&work.join(format!("embedded-{round}")), profile, trust)?;
        embedded_secs += embedded(&ledger, files, n)?;
        drop(ledger);
        let ledger = new_ledger(&work.join(format!("remote-{round}")), profile, trust)?;
        let (secs, got) = remote(ledger, files, n)?;
        remote_secs += secs;
        latencies.extend(got);
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    let total = (ROUNDS as u64 * n) as f64;
    Ok(RemoteFigures {
        remote_ingest_eps: total / remote_secs,
        embedded_continuous_eps: total / embedded_secs,
        ratio_to_embedded: embedded_secs / remote_secs,
        add_p50_ms: at(0.5),
        add_p99_ms: at(0.99),
        add_requests: latencies.len(),
        events_per_request: CHUNK,
    })
}

pub(crate) fn new_ledger(
    dir: &Path,
    profile: HashProfile,
    trust: &TrustPolicy,
) -> Result<Arc<Ledger>> {
    let log_key = NoteSigner::generate("bench.example/remote")?;
    let ledger = Ledger::create(dir, "bench.example/remote", profile, log_key, trust.clone())?
        .with_time_bounds(TimeBounds::history());
    Ok(Arc::new(ledger))
}

/// Seconds for one thread per file to append it, a chunk at a time, to `ledger`.
pub(crate) fn embedded<S: Storage>(ledger: &Ledger<S>, files: &[PathBuf], n: u64) -> Result<f64> {
    let bar = progress(n, "ingested in process");
    let secs = timed_threads(files, |f, barrier| {
        let mut r = BufReader::new(File::open(f)?);
        barrier.wait();
        loop {
            let chunk = read_chunk(&mut r)?;
            let refs = chunk.events();
            if refs.is_empty() {
                return Ok(Vec::new());
            }
            ledger.append_batch(&refs)?;
            bar.inc(refs.len() as u64);
        }
    })?;
    bar.finish_and_clear();
    check_size(ledger, n)?;
    Ok(secs.0)
}

/// Seconds for one client thread per file to submit it through a server of `ledger`, and
/// each request's milliseconds.
fn remote(ledger: Arc<Ledger>, files: &[PathBuf], n: u64) -> Result<(f64, Vec<f64>)> {
    let server =
        Server::new(Arc::clone(&ledger), ServerConfig::default()).spawn("127.0.0.1:0".parse()?)?;
    let url = format!("http://{}", server.local_addr());
    let bar = progress(n, "ingested over HTTP");
    let timed = timed_threads(files, |f, barrier| submit_file(&url, f, barrier, &bar));
    bar.finish_and_clear();
    server.shutdown();
    let timed = timed?;
    check_size(&ledger, n)?;
    Ok(timed)
}

/// Runs `work` on one thread per file; they start together at the barrier, and the time
/// is taken from then until the last is done. Returns it and what they returned.
fn timed_threads<F>(files: &[PathBuf], work: F) -> Result<(f64, Vec<f64>)>
where
    F: Fn(&Path, &Barrier) -> Result<Vec<f64>> + Sync,
{
    let barrier = Barrier::new(files.len() + 1);
    std::thread::scope(|s| {
        let threads: Vec<_> = files
            .iter()
            .map(|f| {
                let (work, barrier) = (&work, &barrier);
                s.spawn(move || work(f, barrier))
            })
            .collect();
        barrier.wait();
        let t = Instant::now();
        let mut all = Vec::new();
        for thread in threads {
            let got = thread
                .join()
                .map_err(|_| anyhow::anyhow!("a thread panicked"))?;
            all.extend(got?);
        }
        Ok((t.elapsed().as_secs_f64(), all))
    })
}

fn check_size<S: Storage>(ledger: &Ledger<S>, n: u64) -> Result<()> {
    if ledger.size() != n {
        bail!("the ledger holds {} entries, not {n}", ledger.size());
    }
    Ok(())
}

/// One service: its file, a chunk per request; the milliseconds each request took.
fn submit_file(
    url: &str,
    file: &Path,
    barrier: &Barrier,
    bar: &indicatif::ProgressBar,
) -> Result<Vec<f64>> {
    let mut config = ClientConfig::default();
    config.batch_entries = CHUNK;
    let client = Client::new(url, config)?;
    let mut r = BufReader::new(File::open(file)?);
    let mut latencies = Vec::new();
    barrier.wait();
    loop {
        let chunk = read_chunk(&mut r)?;
        let refs = chunk.events();
        if refs.is_empty() {
            return Ok(latencies);
        }
        let t = Instant::now();
        client.submit(&refs).context("submitting over HTTP")?;
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
        bar.inc(refs.len() as u64);
    }
}
