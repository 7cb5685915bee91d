//! `warrant bench`: durable ingest against the raw Ed25519 batch-verification limit, measured
//! in one run on this machine.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Barrier, Mutex, PoisonError};
use std::time::Instant;

use anyhow::{Context as _, Result};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde::Serialize;
use warrant_ledger::cbor;
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::envelope::{self, EmitterChain};
use warrant_ledger::event::*;
use warrant_ledger::internals;
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::store::Storage;
use warrant_ledger::trust::{TrustPolicy, public_key_base64};

use crate::cli_io::{Outcome, print_json};
use crate::ledger_cmd::progress;

const EMITTER: &str = "spiffe://bench.example/gateway";
pub(crate) const CHUNK: usize = 1024;

#[derive(Serialize)]
struct Report {
    events: u64,
    hash: &'static str,
    threads: usize,
    ingest_eps: f64,
    /// The reference the targets are set against: the faster of the two below, so that
    /// `ratio` is measured against the fastest way this machine verifies the signatures.
    verify_limit_eps: f64,
    /// ed25519-dalek's `verify_batch` on all cores, timed in slices between the ingest's
    /// segments, so that both see the same machine.
    verify_limit_dalek_eps: f64,
    /// This crate's batch verifier (`envelope::batch`, one point per distinct key) on all
    /// cores, raw on the same signatures, in slices beside dalek's.
    verify_limit_own_eps: f64,
    /// ed25519-dalek's `verify_batch` on one core, best of three runs before the ingest.
    verify_limit_single_core_eps: f64,
    ratio: f64,
    ratio_to_dalek: f64,
    ratio_to_own: f64,
    ratio_to_single_core: f64,
    ingest_cpu_utilisation: f64,
    /// Mean inclusion-proof latency at the final size, in the process that appended.
    proof_us: f64,
    /// The same on the ledger just reopened (other leaves): no cached upper levels yet.
    proof_reopened_us: f64,
    bytes_per_entry: f64,
    mean_event_bytes: f64,
    peak_rss_bytes: u64,
    /// Bytes this process sent to storage during ingest (`write_bytes` of `/proc/self/io`),
    /// per entry: the write amplification of the store.
    ingest_storage_writes_per_entry: f64,
    /// With `--gate`: the runtime gate's figures.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    gate: Option<crate::bench_gate::GateFigures>,
    /// With `--remote`: the ingest through the ledger server on loopback.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    remote: Option<crate::bench_remote::RemoteFigures>,
    /// With `--witness`: what witnessing costs.
    #[serde(skip_serializing_if = "Option::is_none")]
    witness: Option<crate::bench_witness::WitnessFigures>,
    /// With `--store`: the ingest into PostgreSQL.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pg: Option<crate::bench_pg::PgFigures>,
}

/// The `i`-th event's body, its action started at `at`.
fn body(i: u64, at: Timestamp) -> Body {
    Body::ActionExecuted(ActionExecuted {
        action_id: format!("act-{i}"),
        actor_chain: vec![
            "alice@bank.example".into(),
            "spiffe://bench.example/agent".into(),
        ],
        operation: Operation {
            service: "payments".into(),
            name: "payments:transfer".into(),
            resources: vec![format!("account:DE89-{i:08}")],
            permissions_used: vec!["payments:transfer".into()],
        },
        request_digest: Digest::of(&i.to_le_bytes()),
        response_digest: Digest::of(&(!i).to_le_bytes()),
        credential_id: format!("cred-{}", i / 10),
        instance: format!("pool-a/{}", i % 3),
        decisions: vec![EventRef {
            id: EventId::new_v7(),
            digest: Digest::of(b"decision"),
        }],
        approval: None,
        initiation: ActionInitiation::AgentPlanned,
        within_confirmed_scope: true,
        outcome: ActionOutcome::Success,
        blocked_by: Vec::new(),
        started_at: at,
        ended_at: at.plus_ms(50),
    })
}

/// Signs `n` events (10 per task) into `path`, each framed by a u32 length.
fn generate(key: &SigningKey, n: u64, path: &Path, bar: &indicatif::ProgressBar) -> Result<u64> {
    let mut out = BufWriter::new(File::create(path)?);
    let w = WorkloadId::new(EMITTER)?;
    let mut bytes = 0;
    let mut chain = EmitterChain::for_task(
        key.clone(),
        w.clone(),
        TaskId::new_v7(),
        Assurance::Enforced,
    );
    // Events of the last few hours, one a millisecond apart, as a service logs them.
    let t0 = Timestamp::now().minus_ms(n + 60_000);
    for i in 0..n {
        if i % 10 == 0 {
            chain = EmitterChain::for_task(
                key.clone(),
                w.clone(),
                TaskId::new_v7(),
                Assurance::Enforced,
            );
        }
        let at = t0.plus_ms(i);
        let ev = chain.emit(body(i, at), at.plus_ms(50), vec![])?;
        out.write_all(&(ev.bytes().len() as u32).to_le_bytes())?;
        out.write_all(ev.bytes())?;
        bytes += ev.bytes().len() as u64;
        bar.inc(1);
    }
    out.flush()?;
    Ok(bytes)
}

/// Up to `CHUNK` framed events read into one buffer: the harness allocates once per chunk,
/// not once per event, so that its own cost weighs as little as it can on the ingest rate.
pub(crate) struct Chunk {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Chunk {
    pub(crate) fn events(&self) -> Vec<&[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(a, &b)| &self.buf[a..b])
            .collect()
    }
}

/// Reads up to `CHUNK` framed events.
pub(crate) fn read_chunk(r: &mut BufReader<File>) -> Result<Chunk> {
    let mut chunk = Chunk {
        buf: Vec::with_capacity(CHUNK * 1024),
        ends: Vec::with_capacity(CHUNK),
    };
    let mut len = [0u8; 4];
    while chunk.ends.len() < CHUNK && r.read_exact(&mut len).is_ok() {
        let start = chunk.buf.len();
        chunk
            .buf
            .resize(start + u32::from_le_bytes(len) as usize, 0);
        r.read_exact(&mut chunk.buf[start..])?;
        chunk.ends.push(chunk.buf.len());
    }
    Ok(chunk)
}

/// The sample the reference slices verify, and dalek's one-core rate (best of three runs
/// after a warm-up).
struct Limits {
    /// The sample, kept for the reference slices timed during the ingest.
    sample: Vec<Sample>,
    /// Threads the all-core rates use.
    threads: usize,
    /// ed25519-dalek's `verify_batch`, one thread.
    single: f64,
}

/// Signed bytes and signature of one sampled event.
type Sample = (Vec<u8>, Signature);

/// Events sampled (from the start of each file) for the reference rates: 4 096 with four
/// files, 3.6 MB, kept during the ingest for the reference slices.
const SAMPLE_CHUNKS_PER_FILE: usize = 1;
/// Times each best-of-three reference run goes over the sample: 65 536 verifications with
/// four files, as many as before the sample was cut so as not to weigh on the peak RSS.
const SAMPLE_PASSES: usize = 16;
/// Times a reference slice during the ingest goes over the sample: about 80 ms here.
const SLICE_PASSES: usize = 2;

/// `part` in batches of 256, `passes` times over.
fn batches(part: &[Sample], passes: usize) -> impl Iterator<Item = &[Sample]> {
    part.chunks(256)
        .cycle()
        .take(passes * part.len().div_ceil(256))
}

/// ed25519-dalek's `verify_batch` over `part`, `passes` times.
fn dalek_batches(part: &[Sample], key: &VerifyingKey, passes: usize) {
    for c in batches(part, passes) {
        let msgs: Vec<&[u8]> = c.iter().map(|(m, _)| m.as_slice()).collect();
        let sigs: Vec<Signature> = c.iter().map(|(_, s)| *s).collect();
        let keys = vec![*key; c.len()];
        let _ = ed25519_dalek::verify_batch(&msgs, &sigs, &keys);
    }
}

/// This crate's batch verifier over `part`, `passes` times.
fn own_batches(part: &[Sample], key: &VerifyingKey, passes: usize) {
    for c in batches(part, passes) {
        let items: Vec<internals::Signed<'_>> =
            c.iter().map(|(m, s)| (m.as_slice(), s, key)).collect();
        let _ = internals::verify_all(&items);
    }
}

/// Runs `run` over `threads` parts of the sample, one thread each.
fn on_all_cores(sample: &[Sample], threads: usize, run: &(dyn Fn(&[Sample]) + Sync)) {
    std::thread::scope(|s| {
        for part in sample.chunks(sample.len().div_ceil(threads)) {
            s.spawn(move || run(part));
        }
    });
}

/// Raw batch verification (256 per batch) of the first events' signatures.
fn verify_limit(files: &[PathBuf], key: &VerifyingKey, threads: usize) -> Result<Limits> {
    let mut sample: Vec<Sample> = Vec::new();
    for f in files {
        let mut r = BufReader::new(File::open(f)?);
        for _ in 0..SAMPLE_CHUNKS_PER_FILE {
            for b in read_chunk(&mut r)?.events() {
                let p = envelope::parse(b, cbor::Limits::default())?;
                sample.push((p.signed_bytes(), *p.signature()));
            }
        }
    }
    let dalek = |part: &[Sample]| dalek_batches(part, key, SAMPLE_PASSES);
    // Warm up, then keep the best of three runs: the limit is what the machine can do.
    dalek(&sample[..sample.len().min(4096)]);
    let best = |f: &dyn Fn()| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                f();
                (SAMPLE_PASSES * sample.len()) as f64 / t.elapsed().as_secs_f64()
            })
            .fold(0.0, f64::max)
    };
    let single = best(&|| dalek(&sample));
    Ok(Limits {
        sample,
        threads,
        single,
    })
}

/// Chunks each appender ingests per segment: 16 384 events a segment with four appenders.
const SEGMENT_CHUNKS: usize = 4;

/// What the ingest measured, over its segments only (the reference slices excluded).
struct Ingest {
    eps: f64,
    /// The reference rates over the slices timed between the segments: dalek's, ours.
    reference_eps: (f64, f64),
    cpu_utilisation: f64,
    storage_writes: u64,
}

/// Time, CPU and storage writes summed over the segments, and the reference slices' time.
#[derive(Default)]
struct Totals {
    ingest_secs: f64,
    cpu_secs: f64,
    writes: u64,
    /// Seconds and verifications of the reference slices: dalek's, ours.
    reference_secs: (f64, f64),
    reference_verifications: usize,
}

impl Totals {
    /// Times one reference slice: ed25519-dalek's batch verification of the sample on all
    /// cores, [`SLICE_PASSES`] times over, then this crate's on the same signatures.
    fn reference(&mut self, limits: &Limits, key: &VerifyingKey) {
        let timed = |run: &(dyn Fn(&[Sample]) + Sync)| {
            let t = Instant::now();
            on_all_cores(&limits.sample, limits.threads, run);
            t.elapsed().as_secs_f64()
        };
        self.reference_secs.0 += timed(&|p| dalek_batches(p, key, SLICE_PASSES));
        self.reference_secs.1 += timed(&|p| own_batches(p, key, SLICE_PASSES));
        self.reference_verifications += SLICE_PASSES * limits.sample.len();
    }
}

/// Ingests the files, one appender thread each, in segments of [`SEGMENT_CHUNKS`] chunks
/// per appender, with a reference slice before each segment and after the last. This
/// machine's speed drifts by a third within seconds (a fixed verification loop timed every
/// 200 ms read 68 000 to 127 000/s, staying at one level for a second or more), so a
/// reference timed once, before, compares the ingest with another machine; timed in
/// alternation, both see the same one.
fn ingest(
    ledger: &Ledger,
    files: &[PathBuf],
    n: u64,
    limits: &Limits,
    key: &VerifyingKey,
) -> Result<Ingest> {
    let bar = progress(n, "ingested");
    let readers = files
        .iter()
        .map(|f| Ok(BufReader::new(File::open(f)?)))
        .collect::<Result<Vec<_>>>()?;
    let chunks_per_file = n.div_ceil(files.len() as u64).div_ceil(CHUNK as u64);
    let segments = usize::try_from(chunks_per_file)?
        .div_ceil(SEGMENT_CHUNKS)
        .max(1);
    let barrier = Barrier::new(files.len() + 1);
    let failed: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let mut totals = Totals::default();
    std::thread::scope(|s| {
        for r in readers {
            let (barrier, failed, bar) = (&barrier, &failed, bar.clone());
            s.spawn(move || appender(ledger, r, segments, barrier, failed, &bar));
        }
        for _ in 0..segments {
            totals.reference(limits, key);
            let (t, cpu, writes) = (Instant::now(), cpu_seconds(), storage_writes());
            barrier.wait();
            barrier.wait();
            totals.ingest_secs += t.elapsed().as_secs_f64();
            totals.cpu_secs += cpu_seconds() - cpu;
            totals.writes += storage_writes() - writes;
        }
        totals.reference(limits, key);
    });
    bar.finish_and_clear();
    if let Some(e) = failed.into_inner().unwrap_or_else(PoisonError::into_inner) {
        return Err(e);
    }
    Ok(Ingest {
        eps: n as f64 / totals.ingest_secs,
        reference_eps: (
            totals.reference_verifications as f64 / totals.reference_secs.0,
            totals.reference_verifications as f64 / totals.reference_secs.1,
        ),
        cpu_utilisation: totals.cpu_secs / totals.ingest_secs,
        storage_writes: totals.writes,
    })
}

/// One appender: between the barriers that open and close each segment, appends
/// [`SEGMENT_CHUNKS`] chunks of its file. After a failure (kept in `failed`, the first one
/// wins) it still meets every barrier, so the timing thread is never left waiting.
fn appender(
    ledger: &Ledger,
    mut r: BufReader<File>,
    segments: usize,
    barrier: &Barrier,
    failed: &Mutex<Option<anyhow::Error>>,
    bar: &indicatif::ProgressBar,
) {
    let mut ok = true;
    for _ in 0..segments {
        barrier.wait();
        if ok {
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                append_chunks(ledger, &mut r, bar)
            }));
            let result = run.unwrap_or_else(|_| Err(anyhow::anyhow!("ingest thread panicked")));
            if let Err(e) = result {
                ok = false;
                let mut first = failed.lock().unwrap_or_else(PoisonError::into_inner);
                first.get_or_insert(e);
            }
        }
        barrier.wait();
    }
}

/// Appends up to [`SEGMENT_CHUNKS`] chunks from `r`.
fn append_chunks(
    ledger: &Ledger,
    r: &mut BufReader<File>,
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    for _ in 0..SEGMENT_CHUNKS {
        let chunk = read_chunk(r)?;
        let refs = chunk.events();
        if refs.is_empty() {
            break;
        }
        ledger.append_batch(&refs)?;
        bar.inc(refs.len() as u64);
    }
    Ok(())
}

/// Mean latency in µs of inclusion proofs of 2000 pseudo-random leaves (`seed` picks which)
/// at the ledger's size.
pub(crate) fn proof_latency<S: Storage>(ledger: &Ledger<S>, seed: u64) -> Result<f64> {
    let size = ledger.size();
    let probes = 2000u64;
    let t = Instant::now();
    for i in 0..probes {
        let leaf = (i + seed * probes).wrapping_mul(0x9e37_79b9_7f4a_7c15) % size;
        ledger.prove_inclusion(leaf, size).context("proof")?;
    }
    Ok(t.elapsed().as_secs_f64() * 1e6 / probes as f64)
}

/// CPU seconds (user + system, all threads) this process has used, from `/proc/self/stat`
/// (Linux clock ticks of 1/100 s); 0 where unavailable.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The number after `key` on its line of `/proc/self/<file>` (a trailing unit such as ` kB`
/// ignored); `None` where unavailable.
fn proc_field(file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/self/{file}")).ok()?;
    let value = text.lines().find_map(|l| l.strip_prefix(key))?;
    value.split_whitespace().next()?.parse().ok()
}

/// Bytes this process has caused to be sent to storage (`write_bytes`); 0 where unavailable.
fn storage_writes() -> u64 {
    proc_field("io", "write_bytes:").unwrap_or(0)
}

/// Peak resident set size (`VmHWM`, in kB there); 0 where unavailable.
fn peak_rss() -> u64 {
    proc_field("status", "VmHWM:").map_or(0, |kb| kb * 1024)
}

fn store_bytes(dir: &Path) -> Result<u64> {
    [
        "entries.dat",
        "index.dat",
        "nodes.dat",
        "events.tbl",
        "tasks.tbl",
    ]
    .iter()
    .map(|f| Ok(std::fs::metadata(dir.join(f))?.len()))
    .sum()
}

/// What `warrant bench` measures beyond the ingest: `--gate`, `--remote`, `--witness`,
/// `--store`.
pub(crate) struct Extras {
    pub(crate) gate: bool,
    pub(crate) remote: bool,
    pub(crate) witness: bool,
    pub(crate) store: Option<String>,
}

pub(crate) fn run(
    events: u64,
    json: bool,
    profile: HashProfile,
    dir: Option<PathBuf>,
    extras: &Extras,
) -> Result<Outcome> {
    // A directory of our own inside the one given, so that removing it afterwards can never
    // remove anything the user had there.
    let parent = dir.unwrap_or_else(std::env::temp_dir);
    let work = parent.join(format!("warrant-bench-{}", std::process::id()));
    std::fs::create_dir_all(&parent)?;
    std::fs::create_dir(&work)
        .with_context(|| format!("creating the work directory {}", work.display()))?;
    let result = bench(events, profile, &work, extras);
    let _ = std::fs::remove_dir_all(&work);
    let report = result?;
    if json {
        print_json(&report)?;
    } else {
        println!(
            "{} events, {} profile, {} threads",
            report.events, report.hash, report.threads
        );
        println!(
            "durable ingest          {:>10.0} events/s",
            report.ingest_eps
        );
        println!(
            "raw batch verify limit  {:>10.0} events/s (the faster of the two below)",
            report.verify_limit_eps
        );
        println!(
            "  ed25519-dalek         {:>10.0} events/s (verify_batch, all cores, timed between the ingest's segments; one core: {:.0})",
            report.verify_limit_dalek_eps, report.verify_limit_single_core_eps
        );
        println!(
            "  this crate's batch    {:>10.0} events/s (one point per key, all cores, in the same slices)",
            report.verify_limit_own_eps
        );
        println!(
            "ratio                   {:>10.2} (to dalek: {:.2}; to this crate's batch: {:.2}; to dalek on one core: {:.2})",
            report.ratio, report.ratio_to_dalek, report.ratio_to_own, report.ratio_to_single_core
        );
        println!(
            "inclusion proof         {:>10.1} µs at the final size ({:.1} µs reopened)",
            report.proof_us, report.proof_reopened_us
        );
        println!(
            "storage overhead        {:>10.1} bytes per entry beyond the event bytes ({:.0})",
            report.bytes_per_entry, report.mean_event_bytes
        );
        println!(
            "peak RSS                {:>10.1} MiB",
            report.peak_rss_bytes as f64 / 1_048_576.0
        );
        println!(
            "storage writes          {:>10.0} bytes per entry during ingest",
            report.ingest_storage_writes_per_entry
        );
        if let Some(r) = &report.remote {
            println!(
                "over HTTP (loopback)    {:>10.0} events/s, {:.2} of the same threads appending in process ({:.0}/s, alternated); a request of {} events: p50 {:.1} ms, p99 {:.1} ms",
                r.remote_ingest_eps,
                r.ratio_to_embedded,
                r.embedded_continuous_eps,
                r.events_per_request,
                r.add_p50_ms,
                r.add_p99_ms
            );
        }
        if let Some(w) = &report.witness {
            println!(
                "witness                 {:>10.0} add-checkpoint/s over HTTP (loopback), {:.2} of the same witness in process ({:.0}/s; state synced before each answer, {} checkpoints)",
                w.loopback_add_checkpoint_per_s,
                w.ratio_loopback_to_in_process,
                w.in_process_add_checkpoint_per_s,
                w.checkpoints
            );
            println!(
                "                        {:>10.0} 2-of-2 quorums judged/s, {:.2} of two verify_strict ({:.0}/s)",
                w.quorum_checks_per_s, w.quorum_ratio_to_two_verifies, w.verify_strict_per_s
            );
        }
        if let Some(p) = &report.pg {
            println!(
                "into PostgreSQL         {:>10.0} events/s, {:.2} of the file store ({:.0}/s, same threads, alternated); {:.0} bytes per entry beyond the event bytes",
                p.pg_ingest_eps,
                p.pg_ratio_to_file,
                p.file_ingest_continuous_eps,
                p.pg_bytes_per_entry
            );
            println!(
                "                        {:>10.1} µs per inclusion proof at {} entries (a follower opened afresh)",
                p.pg_proof_us, p.pg_proof_size
            );
        }
        if let Some(g) = &report.gate {
            println!(
                "gate                    {:>10} open tasks; admit p50 {:.1} µs, p99 {:.1} µs ({} admissions)",
                g.open_tasks, g.admit_p50_us, g.admit_p99_us, g.admits
            );
            println!(
                "                        {:>10.0} bytes of state per open task; reopen {:.0} ms",
                g.state_bytes_per_open_task, g.reopen_ms
            );
        }
    }
    Ok(Outcome::Success)
}

/// What the generators wrote: event bytes, events, and (with `--gate`) the open tasks.
type Generated = (u64, u64, Vec<crate::bench_gate::OpenTask>);

/// Signs about `n` events into `files`, one generator thread per file: bare actions, or
/// with `gate` governed tasks starting at `t0`.
fn generate_all(
    key: &SigningKey,
    n: u64,
    files: &[PathBuf],
    gate: bool,
    t0: Timestamp,
) -> Result<Generated> {
    let bar = progress(n, "events signed");
    let per = n.div_ceil(files.len() as u64);
    let stride = files.len() as u64;
    let parts = std::thread::scope(|s| {
        let hs: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(t, f)| {
                let (key, bar) = (key, bar.clone());
                let count = per.min(n.saturating_sub(per * t as u64));
                s.spawn(move || -> Result<Generated> {
                    if gate {
                        crate::bench_gate::generate(key, count, (t as u64, stride), t0, f, &bar)
                    } else {
                        Ok((generate(key, count, f, &bar)?, count, Vec::new()))
                    }
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("generator panicked"))?
            })
            .collect::<Result<Vec<Generated>>>()
    })?;
    bar.finish_and_clear();
    let mut all: Generated = (0, 0, Vec::new());
    for (bytes, events, open) in parts {
        all.0 += bytes;
        all.1 += events;
        all.2.extend(open);
    }
    Ok(all)
}

fn bench(n: u64, profile: HashProfile, work: &Path, extras: &Extras) -> Result<Report> {
    let &Extras {
        gate,
        remote,
        witness,
        ref store,
    } = extras;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let key = SigningKey::from_bytes(&warrant_ledger::keys::random_bytes());
    // Two appenders per core: while one waits for its group commit, the other verifies.
    let files: Vec<PathBuf> = (0..2 * threads)
        .map(|t| work.join(format!("events-{t}.bin")))
        .collect();
    // Task times: from a little over twice the run's length in ms ago (a task takes ~12 ms).
    // One origin for the tasks and the policy registration their decisions cite, which must
    // be effective before the first of them (B4), however long the signing takes.
    let t0 = Timestamp::now().minus_ms(2 * n + 60_000);
    let (event_bytes, n, open) = generate_all(&key, n, &files, gate, t0)?;
    let limits = verify_limit(&files, &key.verifying_key(), threads)?;
    let pk = public_key_base64(&key.verifying_key());
    let trust = TrustPolicy::from_toml(&if gate {
        crate::bench_gate::trust_toml(&pk)
    } else {
        format!(
            "version = 1\n[[emitters]]\nworkload = \"{EMITTER}\"\nassurance = \"enforced\"\nkinds = [\"ActionExecuted\"]\nkeys = [{{ public_key = \"{pk}\" }}]\n"
        )
    })?;
    let dir = work.join("ledger");
    let log_key = NoteSigner::generate("bench.example/log")?;
    let ledger = Ledger::create(
        &dir,
        "bench.example/log",
        profile,
        log_key.clone(),
        trust.clone(),
    )?
    // The events were signed before the ledger was created (a replay): any past time.
    .with_time_bounds(TimeBounds::history());
    if gate {
        let registered = t0.minus_ms(60_000);
        ledger.append(crate::bench_gate::registration(&key, registered)?.bytes())?;
    }
    let measured = ingest(&ledger, &files, n, &limits, &key.verifying_key())?;
    let ingest_eps = measured.eps;
    let (dalek, own) = measured.reference_eps;
    let reference = dalek.max(own);
    ledger.checkpoint()?;
    let proof_us = proof_latency(&ledger, 0)?;
    // The same on the ledger reopened: nothing of the tree is in memory any more.
    drop(ledger);
    // With `--gate`, the open also rebuilds the gate's state: its time is the gate's reopen.
    let t = Instant::now();
    let ledger =
        Ledger::open(&dir, log_key, trust.clone())?.with_time_bounds(TimeBounds::history());
    let reopen_ms = t.elapsed().as_secs_f64() * 1e3;
    let proof_reopened_us = proof_latency(&ledger, 1)?;
    drop(ledger);
    let gate_figures = if gate {
        Some(crate::bench_gate::measure(
            &dir,
            trust.clone(),
            &open,
            reopen_ms,
        )?)
    } else {
        None
    };
    let bytes_per_entry = (store_bytes(&dir)? as f64 - event_bytes as f64) / n as f64;
    let remote = if remote {
        Some(crate::bench_remote::measure(
            &files, n, profile, &trust, work,
        )?)
    } else {
        None
    };
    let witness = if witness {
        Some(crate::bench_witness::measure(work, profile)?)
    } else {
        None
    };
    let pg = match store {
        Some(url) => Some(crate::bench_pg::measure(
            url,
            &files,
            (n, event_bytes),
            profile,
            &trust,
            work,
        )?),
        None => None,
    };
    Ok(Report {
        events: n,
        hash: profile.name(),
        threads,
        ingest_eps,
        verify_limit_eps: reference,
        verify_limit_dalek_eps: dalek,
        verify_limit_own_eps: own,
        verify_limit_single_core_eps: limits.single,
        ratio: ingest_eps / reference,
        ratio_to_dalek: ingest_eps / dalek,
        ratio_to_own: ingest_eps / own,
        ratio_to_single_core: ingest_eps / limits.single,
        ingest_cpu_utilisation: measured.cpu_utilisation,
        proof_us,
        proof_reopened_us,
        bytes_per_entry,
        mean_event_bytes: event_bytes as f64 / n as f64,
        peak_rss_bytes: peak_rss(),
        ingest_storage_writes_per_entry: measured.storage_writes as f64 / n as f64,
        gate: gate_figures,
        remote,
        witness,
        pg,
    })
}
