//! The runtime gate's admission latency with many open tasks: the demo's compliant tasks
//! run up to the moment their agent is about to act, logged, then `Ledger::admit` asked for
//! their actions (allowed: the whole chain judged) and for the same actions by another
//! instance of the pool (denied, B2 and B5).
//!
//! Run: `cargo bench --bench gate` (open tasks: `WARRANT_GATE_TASKS`, default 10 000;
//! figures in docs/performance.md; `warrant bench --gate` measures the same on a larger
//! log, with the ingest).
#![allow(missing_docs)] // criterion_group! generates undocumented items.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::demo::{Deployment, Scenario, TaskInProgress, registration_event};
use warrant_ledger::event::Timestamp;
use warrant_ledger::gate::ActionRequest;
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::trust::TrustPolicy;

/// A ledger holding `n` open tasks, and each task's request.
fn ledger_with_open_tasks(
    dep: &Deployment,
    n: u64,
    dir: &std::path::Path,
) -> (Ledger, Vec<ActionRequest>) {
    let origin = "bank.example/agent-ledger";
    let log_key = NoteSigner::generate(origin).expect("key");
    let doc = dep.trust_document(origin, "blake3", &log_key.verifier().to_string());
    let trust = TrustPolicy::try_from(doc).expect("trust");
    let ledger = Ledger::create(dir, origin, HashProfile::Blake3, log_key, trust)
        .expect("ledger")
        .with_time_bounds(TimeBounds::history());
    let t0 = Timestamp::now().minus_ms(2 * 3_600_000);
    let reg = registration_event(dep, t0.minus_ms(1_000)).expect("policy");
    ledger.append(reg.bytes()).expect("append");
    let mut requests = Vec::with_capacity(n as usize);
    for first in (0..n).step_by(1024) {
        let mut batch = Vec::new();
        for k in first..n.min(first + 1024) {
            // A task every 100 ms of the last two hours, each acting a second after it opened.
            let mut task =
                TaskInProgress::start(dep, Scenario::Compliant, k, t0.plus_ms(100 * k), k % 4 == 0)
                    .expect("task");
            batch.extend(task.unlogged().iter().map(|e| e.bytes().to_vec()));
            requests.push(task.request());
        }
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        ledger.append_batch(&refs).expect("append");
    }
    (ledger, requests)
}

fn gate_bench(c: &mut Criterion) {
    let n: u64 = std::env::var("WARRANT_GATE_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dep = Deployment::new([9; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (ledger, requests) = ledger_with_open_tasks(&dep, n, dir.path());
    assert_eq!(ledger.followed_tasks().expect("state"), n as usize);
    let denied: Vec<ActionRequest> = requests
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.instance.push_str("-other");
            r
        })
        .collect();
    for (req, allowed) in [(&requests[0], true), (&denied[0], false)] {
        let a = ledger.admit(req).expect("admit");
        assert_eq!(a.allowed, allowed, "{a:?}");
    }
    let mut g = c.benchmark_group(format!("gate, {n} open tasks"));
    for (name, reqs) in [("admit, allowed", &requests), ("admit, denied", &denied)] {
        let mut k = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                // A different task each time, spread over the log.
                k = (k + 7919) % reqs.len();
                black_box(ledger.admit(black_box(&reqs[k])).expect("admit"))
            });
        });
    }
    // The tasks' credentials have expired by now and none was revoked: every one is due.
    let due = ledger
        .due_revocations(Timestamp::now())
        .expect("feed")
        .len();
    g.bench_function(format!("due revocations, {due} listed"), |b| {
        b.iter(|| {
            black_box(
                ledger
                    .due_revocations(black_box(Timestamp::now()))
                    .expect("feed"),
            )
        });
    });
    g.finish();
}

criterion_group!(benches, gate_bench);
criterion_main!(benches);
