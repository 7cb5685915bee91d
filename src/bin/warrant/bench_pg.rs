//! `warrant bench --store postgres://…`: the same events ingested into a ledger in
//! PostgreSQL and into the file store, alternated in one run (file, PostgreSQL, file,
//! PostgreSQL), each into a new ledger, appended the same way by the same threads; then
//! proof latency on the PostgreSQL ledger opened afresh as a follower, and what it stores
//! per entry.
//!
//! Each PostgreSQL round works in a schema of its own in the database given
//! (`warrant_bench_<pid>_<round>`), dropped afterwards: the database may be one's own.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde::Serialize;
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::store::PgStore;
use warrant_ledger::trust::TrustPolicy;

use crate::bench_cmd::proof_latency;
use crate::bench_remote::{embedded, new_ledger};

/// What the PostgreSQL rounds measured.
#[derive(Serialize)]
pub(crate) struct PgFigures {
    /// Events per second appended (verified, sequenced, committed) into PostgreSQL.
    pub(crate) pg_ingest_eps: f64,
    /// The same threads and chunks into the file store, alternated with the above.
    pub(crate) file_ingest_continuous_eps: f64,
    /// `pg_ingest_eps / file_ingest_continuous_eps`.
    pub(crate) pg_ratio_to_file: f64,
    /// Mean inclusion-proof latency at the final size, on a follower opened afresh.
    pub(crate) pg_proof_us: f64,
    /// The tree size the proofs were made at.
    pub(crate) pg_proof_size: u64,
    /// Bytes PostgreSQL holds per entry (tables, indexes, TOAST) beyond the event bytes.
    pub(crate) pg_bytes_per_entry: f64,
}

/// Rounds of (file, PostgreSQL).
const ROUNDS: usize = 2;

/// Measures as the module says; `event_bytes` is the total size of the `n` events.
pub(crate) fn measure(
    url: &str,
    files: &[PathBuf],
    (n, event_bytes): (u64, u64),
    profile: HashProfile,
    trust: &TrustPolicy,
    work: &Path,
) -> Result<PgFigures> {
    let mut admin = warrant_ledger::internals::pg_connect(url)
        .with_context(|| format!("connecting to {url}"))?;
    let schemas: Vec<String> = (0..ROUNDS)
        .map(|r| format!("warrant_bench_{}_{r}", std::process::id()))
        .collect();
    let result = rounds(url, &mut admin, &schemas, files, n, profile, trust, work);
    for schema in &schemas {
        let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    }
    let (file_secs, pg_secs, pg_proof_us, stored) = result?;
    let total = (ROUNDS as u64 * n) as f64;
    Ok(PgFigures {
        pg_ingest_eps: total / pg_secs,
        file_ingest_continuous_eps: total / file_secs,
        pg_ratio_to_file: file_secs / pg_secs,
        pg_proof_us,
        pg_proof_size: n,
        pg_bytes_per_entry: (stored as f64 - event_bytes as f64) / n as f64,
    })
}

/// Seconds of the file rounds, of the PostgreSQL rounds, the proof latency and the bytes
/// stored by the last PostgreSQL round.
#[allow(clippy::too_many_arguments)] // One call site; a struct would only rename them.
fn rounds(
    url: &str,
    admin: &mut postgres::Client,
    schemas: &[String],
    files: &[PathBuf],
    n: u64,
    profile: HashProfile,
    trust: &TrustPolicy,
    work: &Path,
) -> Result<(f64, f64, f64, u64)> {
    let (mut file_secs, mut pg_secs) = (0.0, 0.0);
    let mut last = None;
    for (round, schema) in schemas.iter().enumerate() {
        let ledger = new_ledger(&work.join(format!("file-{round}")), profile, trust)?;
        file_secs += embedded(&*ledger, files, n)?;
        drop(ledger);
        admin.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
        let at = in_schema(url, schema);
        let ledger = new_pg_ledger(&at, profile, trust)?;
        pg_secs += embedded(&ledger, files, n)?;
        ledger.checkpoint()?;
        last = Some(at);
    }
    let at = last.context("no round ran")?;
    // A new process's view: nothing of the tree cached, every node read from the database.
    let follower = Ledger::<PgStore>::follow(&at)?;
    let proof_us = proof_latency(&follower, 1)?;
    let stored = schema_bytes(admin, &schemas[schemas.len() - 1])?;
    Ok((file_secs, pg_secs, proof_us, stored))
}

/// `url` with every table in `schema` (its `search_path` set through the `options`
/// connection parameter).
fn in_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

fn new_pg_ledger(url: &str, profile: HashProfile, trust: &TrustPolicy) -> Result<Ledger<PgStore>> {
    let key = NoteSigner::generate("bench.example/pg")?;
    Ledger::create_in_postgres(url, "bench.example/pg", profile, key.clone(), trust.clone())?;
    let ledger = Ledger::lead(url, key, trust.clone(), Duration::from_secs(5))?;
    // The events were signed before the ledger was created (a replay): any past time.
    Ok(ledger.with_time_bounds(TimeBounds::history()))
}

/// Everything PostgreSQL stores for the tables of `schema`: heap, indexes, TOAST.
fn schema_bytes(admin: &mut postgres::Client, schema: &str) -> Result<u64> {
    let row = admin.query_one(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
         FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
         WHERE s.nspname = $1 AND c.relkind = 'r'",
        &[&schema],
    )?;
    Ok(u64::try_from(row.get::<_, i64>(0))?)
}
