//! Event benchmarks: canonical encoding, encode+sign, strict verification, and batch
//! verification per event, each beside the raw Ed25519 operation it is built on.
//!
//! Run: `cargo bench --bench events` (figures in docs/performance.md).
#![allow(missing_docs)] // criterion_group! generates undocumented items.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, Signer as _, VerifyingKey};
use warrant_ledger::envelope;
use warrant_ledger::event::Event;

fn sample() -> Event {
    common::sample_events().swap_remove(7) // ActionExecuted: a typical, mid-sized event
}

fn single(c: &mut Criterion) {
    let key = common::test_key();
    let vk = key.verifying_key();
    let event = sample();
    let signed = envelope::sign(&event, &key).expect("sign");
    let mut g = c.benchmark_group("event");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode_cbor", |b| b.iter(|| black_box(&event).to_cbor()));
    g.bench_function("encode_and_sign", |b| {
        b.iter(|| envelope::sign(black_box(&event), &key))
    });
    g.bench_function("verify_strict", |b| {
        b.iter(|| envelope::verify(black_box(signed.bytes()), &vk))
    });
    let cbor = event.to_cbor().expect("cbor");
    g.bench_function("decode_cbor", |b| {
        b.iter(|| Event::from_cbor(black_box(&cbor)))
    });
    let limits = warrant_ledger::cbor::Limits::default();
    g.bench_function("parse_envelope", |b| {
        b.iter(|| envelope::parse(black_box(signed.bytes()), limits))
    });
    let msg = signed.bytes();
    let sig: Signature = key.sign(msg);
    g.bench_function("raw_ed25519_sign", |b| b.iter(|| key.sign(black_box(msg))));
    g.bench_function("raw_ed25519_verify_strict", |b| {
        b.iter(|| vk.verify_strict(black_box(msg), &sig))
    });
    g.finish();
}

fn batch(c: &mut Criterion) {
    let key = common::test_key();
    let vk = key.verifying_key();
    let mut g = c.benchmark_group("event_batch");
    for n in [64usize, 1024] {
        let bytes: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                let mut e = sample();
                e.time = e.time.plus_ms(i as u64);
                envelope::sign(&e, &key).expect("sign").into_bytes()
            })
            .collect();
        let items: Vec<(&[u8], &VerifyingKey)> =
            bytes.iter().map(|b| (b.as_slice(), &vk)).collect();
        let msgs: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
        let sigs: Vec<Signature> = msgs.iter().map(|m| key.sign(m)).collect();
        let keys = vec![vk; n];
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("verify_batch", n), &items, |b, items| {
            b.iter(|| envelope::verify_batch(black_box(items)))
        });
        g.bench_with_input(
            BenchmarkId::new("raw_ed25519_verify_batch", n),
            &msgs,
            |b, msgs| b.iter(|| ed25519_dalek::verify_batch(black_box(msgs), &sigs, &keys)),
        );
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = single, batch }
criterion_main!(benches);
