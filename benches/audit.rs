//! Auditing a large bundle against raw Ed25519 batch verification of the same signatures.
//!
//! Run: `cargo bench --bench audit` (events per bundle: `WARRANT_AUDIT_EVENTS`, default
//! 20 000; figures in docs/performance.md).
#![allow(missing_docs)] // criterion_group! generates undocumented items.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, VerifyingKey};
use warrant_ledger::audit::{self, Verdict};
use warrant_ledger::cbor::Limits;
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::demo::{Deployment, registration_event, run_long_task};
use warrant_ledger::envelope;
use warrant_ledger::ledger::Ledger;
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
    let trust = TrustPolicy::try_from(dep.trust_document(
        origin,
        "blake3",
        &log_key.verifier().to_string(),
    ))
    .expect("trust");
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::create(
        dir.path(),
        origin,
        HashProfile::Blake3,
        log_key,
        trust.clone(),
    )
    .expect("ledger");
    let reg = registration_event(&dep, 1).expect("policy");
    ledger.append(reg.bytes()).expect("append");
    let run = run_long_task(&dep, n, 1_764_320_400_000).expect("task");
    for chunk in run.events.chunks(4096) {
        let refs: Vec<&[u8]> = chunk.iter().map(|e| e.bytes()).collect();
        ledger.append_batch(&refs).expect("append");
    }
    let bundle = ledger.export_bundle(&run.task, None).expect("export");
    let report = audit::verify(&bundle, &trust, &[]).expect("audit");
    assert_eq!(report.verdict, Verdict::Pass, "{report:#?}");

    // The same signatures, raw: what batch verification alone costs, on one core.
    let limits = Limits::default();
    let raw: Vec<(Vec<u8>, Signature, VerifyingKey)> = run
        .events
        .iter()
        .map(|e| {
            let p = envelope::parse(e.bytes(), limits).expect("parse");
            let key = trust
                .key_for(&p.header().issuer, &p.header().kid)
                .expect("key")
                .key;
            (p.signed_bytes().to_vec(), *p.signature(), key)
        })
        .collect();
    let mut g = c.benchmark_group(format!("audit/{}_events", run.events.len()));
    g.throughput(Throughput::Elements(run.events.len() as u64));
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("audit_verify_bundle", |b| {
        b.iter(|| audit::verify(black_box(&bundle), &trust, &[]))
    });
    g.bench_function("raw_ed25519_batch_verify_one_core", |b| {
        b.iter(|| {
            for c in raw.chunks(256) {
                let msgs: Vec<&[u8]> = c.iter().map(|(m, _, _)| m.as_slice()).collect();
                let sigs: Vec<Signature> = c.iter().map(|(_, s, _)| *s).collect();
                let keys: Vec<VerifyingKey> = c.iter().map(|(_, _, k)| *k).collect();
                let _ = black_box(ed25519_dalek::verify_batch(&msgs, &sigs, &keys));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, audit_bench);
criterion_main!(benches);
