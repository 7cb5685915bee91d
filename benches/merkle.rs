//! Merkle benchmarks: hashing in both profiles; proof generation and verification at 2^10,
//! 2^20 and 2^24 leaves over the in-memory node store.
//!
//! Run: `cargo bench --bench merkle` (figures in docs/performance.md).
#![allow(missing_docs)] // criterion_group! generates undocumented items.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use warrant_ledger::merkle::{
    HashProfile, MemoryNodes, TreeHead, prove_consistency, prove_inclusion, root_at,
    verify_consistency, verify_inclusion,
};

const PROFILES: [HashProfile; 2] = [HashProfile::Blake3, HashProfile::Sha256];

fn hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("hash");
    let entry = [0x5au8; 512];
    for p in PROFILES {
        g.throughput(Throughput::Bytes(entry.len() as u64));
        g.bench_function(BenchmarkId::new("leaf_512B", p.name()), |b| {
            b.iter(|| p.leaf_hash(black_box(&entry)))
        });
        let (l, r) = (p.leaf_hash(b"l"), p.leaf_hash(b"r"));
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::new("node", p.name()), |b| {
            b.iter(|| p.node_hash(black_box(&l), black_box(&r)))
        });
    }
    g.finish();
}

/// A tree of `n` leaves whose entries are the leaf indices, so building 2^24 leaves costs
/// only the hashing.
fn build(p: HashProfile, n: u64) -> MemoryNodes {
    let mut nodes = MemoryNodes::new(p);
    for i in 0..n {
        nodes.append(&i.to_be_bytes());
    }
    nodes
}

fn proofs(c: &mut Criterion) {
    for p in PROFILES {
        for log2 in [10u32, 20, 24] {
            let n = 1u64 << log2;
            let nodes = build(p, n);
            // Awkward sizes and indices: an incomplete right edge exercises decomposition.
            let size = n - 3;
            let old = size / 3 + 1;
            let index = size / 2 + 1;
            let head = TreeHead {
                size,
                root: root_at(p, &nodes, size).expect("root"),
            };
            let old_head = TreeHead {
                size: old,
                root: root_at(p, &nodes, old).expect("root"),
            };
            let leaf = p.leaf_hash(&index.to_be_bytes());
            let incl = prove_inclusion(p, &nodes, index, size).expect("prove");
            let cons = prove_consistency(p, &nodes, old, size).expect("prove");
            let mut g = c.benchmark_group(format!("proof/{}/2^{log2}", p.name()));
            g.bench_function("inclusion_generate", |b| {
                b.iter(|| prove_inclusion(p, &nodes, black_box(index), size))
            });
            g.bench_function("inclusion_verify", |b| {
                b.iter(|| verify_inclusion(p, &leaf, black_box(&incl), &head))
            });
            g.bench_function("consistency_generate", |b| {
                b.iter(|| prove_consistency(p, &nodes, black_box(old), size))
            });
            g.bench_function("consistency_verify", |b| {
                b.iter(|| verify_consistency(p, black_box(&cons), &old_head, &head))
            });
            g.bench_function("root_at", |b| {
                b.iter(|| root_at(p, &nodes, black_box(size)))
            });
            g.finish();
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = hashing, proofs }
criterion_main!(benches);
