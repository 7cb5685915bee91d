//! Auditing a large bundle against raw Ed25519 batch verification of the same signatures.
//!
//! Run: `cargo bench --bench audit` (events per bundle: `WARRANT_AUDIT_EVENTS`, default
//! 20 000; alternating rounds first: `WARRANT_AUDIT_ROUNDS`, default 5; figures in
//! docs/performance.md).
#![allow(missing_docs)] // criterion_group! generates undocumented items.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, VerifyingKey};
use warrant_ledger::audit::{self, Verdict};
use warrant_ledger::cbor::Limits;
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::demo::{Deployment, registration_event, run_long_task};
use warrant_ledger::envelope;
use warrant_ledger::event::Timestamp;
use warrant_ledger::internals;
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::trust::TrustPolicy;

fn audit_bench(c: &mut Criterion) {
    let n: u64 = std::env::var("WARRANT_AUDIT_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let origin = "bank.example/agent-ledger";
    let dep = Deployment::new([9; 32]);
    let log_key = NoteSigner::generate(origin).expect("key");
    let mut doc = dep.trust_document(origin, "blake3", &log_key.verifier().to_string());
    // One approval covers the long task's executions: a batch the policy allows, warned.
    doc.governance.tiers.high = Some(warrant_ledger::trust::TierEntry {
        approval_reuse: Some(warrant_ledger::trust::ApprovalReuse::Warn),
        ..Default::default()
    });
    let trust = TrustPolicy::try_from(doc).expect("trust");
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::create(
        dir.path(),
        origin,
        HashProfile::Blake3,
        log_key,
        trust.clone(),
    )
    .expect("ledger")
    .with_time_bounds(TimeBounds::history());
    // The task an hour ago, as a service logs it.
    let t0 = Timestamp::now().minus_ms(3_600_000);
    let reg = registration_event(&dep, t0.minus_ms(1_000)).expect("policy");
    ledger.append(reg.bytes()).expect("append");
    let run = run_long_task(&dep, n, t0).expect("task");
    for chunk in run.events.chunks(4096) {
        let refs: Vec<&[u8]> = chunk.iter().map(|e| e.bytes()).collect();
        ledger.append_batch(&refs).expect("append");
    }
    let bundle = ledger.export_bundle(&run.task, None).expect("export");
    let report = audit::verify(&bundle, &trust, &[]).expect("audit");
    assert_eq!(report.verdict, Verdict::Pass, "{report:#?}");

    // The same signatures, raw: what batch verification alone costs, on one core.
    let limits = Limits::default();
    let raw: Vec<RawSignature> = run
        .events
        .iter()
        .map(|e| {
            let p = envelope::parse(e.bytes(), limits).expect("parse");
            let key = trust
                .key_for(&p.header().issuer, &p.header().kid)
                .expect("key")
                .key;
            (p.signed_bytes(), *p.signature(), key)
        })
        .collect();
    interleaved(&bundle, &trust, &raw);
    let mut g = c.benchmark_group(format!("audit/{}_events", run.events.len()));
    g.throughput(Throughput::Elements(run.events.len() as u64));
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("audit_verify_bundle", |b| {
        b.iter(|| audit::verify(black_box(&bundle), &trust, &[]))
    });
    // The strict decode alone (the bundle's structure, then each entry): what the
    // in-place comparison of raw entries saves is read here (docs/performance.md).
    g.bench_function("strict_bundle_decode", |b| {
        b.iter(|| audit::bundle_task(black_box(&bundle)))
    });
    g.bench_function("raw_ed25519_batch_verify_one_core", |b| {
        b.iter(|| raw_verify(black_box(&raw)))
    });
    g.finish();
}

type RawSignature = (Vec<u8>, Signature, VerifyingKey);

/// ed25519-dalek's batch verification alone, 256 signatures per batch, on the calling thread.
fn raw_verify(raw: &[RawSignature]) {
    for c in raw.chunks(256) {
        let msgs: Vec<&[u8]> = c.iter().map(|(m, _, _)| m.as_slice()).collect();
        let sigs: Vec<Signature> = c.iter().map(|(_, s, _)| *s).collect();
        let keys: Vec<VerifyingKey> = c.iter().map(|(_, _, k)| *k).collect();
        let _ = black_box(ed25519_dalek::verify_batch(&msgs, &sigs, &keys));
    }
}

/// This crate's batch verification alone (`envelope::batch`), 256 signatures per batch.
fn raw_coalesced(raw: &[RawSignature]) {
    for c in raw.chunks(256) {
        let items: Vec<internals::Signed<'_>> =
            c.iter().map(|(m, s, k)| (m.as_slice(), s, k)).collect();
        let _ = black_box(internals::verify_all(&items));
    }
}

/// `f` over `raw` split evenly across the machine's cores.
fn on_all_cores(raw: &[RawSignature], f: fn(&[RawSignature])) {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|s| {
        for part in raw.chunks(raw.len().div_ceil(cores)) {
            s.spawn(move || f(part));
        }
    });
}

/// The ratios measured in alternating rounds (the raw references, the audit, the references
/// again), so that a machine whose speed drifts over a minute (as this VM's does) affects
/// both sides alike; prints every round and the medians. Rounds: `WARRANT_AUDIT_ROUNDS`
/// (default 5). References: ed25519-dalek's `verify_batch` on one core and on all cores,
/// and this crate's batch verifier on all cores.
fn interleaved(bundle: &[u8], trust: &TrustPolicy, raw: &[RawSignature]) {
    let rounds: usize = std::env::var("WARRANT_AUDIT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let time = |f: &dyn Fn()| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64()
    };
    let references: [(&str, &dyn Fn()); 3] = [
        ("dalek one core", &|| raw_verify(raw)),
        ("dalek all cores", &|| on_all_cores(raw, raw_verify)),
        ("ours all cores", &|| on_all_cores(raw, raw_coalesced)),
    ];
    // The last column: against the faster of the two all-core references (the reference
    // the target is set against: the fastest way this machine verifies the signatures).
    let mut ratios = vec![Vec::new(); references.len() + 1];
    for _ in 0..rounds {
        let before: Vec<f64> = references.iter().map(|(_, f)| time(f)).collect();
        let audit = time(&|| {
            let _ = black_box(audit::verify(bundle, trust, &[]));
        });
        let after: Vec<f64> = references.iter().map(|(_, f)| time(f)).collect();
        let mut line = format!("interleaved: audit {audit:.3} s");
        let raw_s: Vec<f64> = (0..references.len())
            .map(|i| f64::midpoint(before[i], after[i]))
            .collect();
        for (i, (name, _)) in references.iter().enumerate() {
            let ratio = raw_s[i] / audit;
            line += &format!("; {name} {:.3} s, ratio {ratio:.3}", raw_s[i]);
            ratios[i].push(ratio);
        }
        ratios[references.len()].push(raw_s[1].min(raw_s[2]) / audit);
        println!("{line}");
    }
    let names = references
        .iter()
        .map(|(name, _)| *name)
        .chain(["the faster on all cores"]);
    for (name, r) in names.zip(&mut ratios) {
        r.sort_by(f64::total_cmp);
        if let Some(m) = r.get(r.len() / 2) {
            println!(
                "interleaved: {} events, against {name}: median ratio {m:.3} over {rounds} rounds",
                raw.len()
            );
        }
    }
}

criterion_group!(benches, audit_bench);
criterion_main!(benches);
