//! `warrant bench --witness`: what witnessing costs.
//!
//! - A witness's `add-checkpoint` throughput on loopback: a sequence of checkpoints of a
//!   growing log (each with its consistency proof from the last) sent over HTTP to a witness
//!   whose state is synced before each answer; the reference is the same witness code given
//!   the same requests in process, into a fresh state directory on the same disk, in the
//!   same run. The two alternate twice (this machine's speed drifts).
//! - Cosignature verification per bundle: judging a 2-of-2 witness quorum on a checkpoint
//!   note (what A3 adds), against Ed25519 `verify_strict` of one cosignature-sized message:
//!   the quorum's floor is two such verifications.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use serde::Serialize;
use warrant_ledger::checkpoint::{Checkpoint, CosignerVerifier, Note, NoteSigner};
use warrant_ledger::client::{ClientConfig, WitnessClient};
use warrant_ledger::merkle::{HashProfile, MemoryNodes, prove_consistency, root_at};
use warrant_ledger::server::{ServerConfig, WitnessServer};
use warrant_ledger::trust::WitnessPolicy;
use warrant_ledger::witness::{Cosigner, Witness, WitnessedLog, request_body};

const ORIGIN: &str = "bench.example/witnessed";

/// What witnessing measured.
#[derive(Serialize)]
pub(crate) struct WitnessFigures {
    /// Checkpoints sent per run.
    pub(crate) checkpoints: usize,
    /// `add-checkpoint` answered per second over HTTP on loopback (state synced first).
    pub(crate) loopback_add_checkpoint_per_s: f64,
    /// The same requests to the same witness code in process.
    pub(crate) in_process_add_checkpoint_per_s: f64,
    /// `loopback / in_process`.
    pub(crate) ratio_loopback_to_in_process: f64,
    /// 2-of-2 quorums judged per second on a checkpoint note carrying both cosignatures.
    pub(crate) quorum_checks_per_s: f64,
    /// Ed25519 `verify_strict` per second on a cosignature's message.
    pub(crate) verify_strict_per_s: f64,
    /// `quorum_checks_per_s × 2 / verify_strict_per_s`: 1.0 when the judge costs exactly its
    /// two signature checks.
    pub(crate) quorum_ratio_to_two_verifies: f64,
}

/// `count` add-checkpoint bodies of a log growing by `step` entries each time, each with its
/// consistency proof from the one before (the first from 0).
fn requests(
    log_key: &NoteSigner,
    profile: HashProfile,
    count: u64,
    step: u64,
) -> Result<Vec<Vec<u8>>> {
    let mut nodes = MemoryNodes::new(profile);
    let mut out = Vec::new();
    let mut old = 0;
    for k in 1..=count {
        for i in 0..step {
            nodes.append(&(k * step + i).to_be_bytes());
        }
        let size = k * step;
        let root = root_at(profile, &nodes, size).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let note = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root,
            extensions: vec![],
        }
        .sign_timestamped(log_key, 1_764_000_000 + k)?;
        let proof = if old == 0 {
            Vec::new()
        } else {
            prove_consistency(profile, &nodes, old, size)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?
                .path
        };
        out.push(request_body(old, &proof, &note));
        old = size;
    }
    Ok(out)
}

fn witness(
    dir: &Path,
    key: &NoteSigner,
    log_key: &NoteSigner,
    profile: HashProfile,
) -> Result<Witness> {
    let log = WitnessedLog {
        origin: ORIGIN.into(),
        verifiers: vec![log_key.verifier()],
        profile,
    };
    Ok(Witness::open(dir, key.clone(), vec![log])?)
}

/// Requests per second through `send`, each answered with a cosignature.
fn rate(bodies: &[Vec<u8>], send: &dyn Fn(&[u8]) -> Result<Vec<u8>>) -> Result<f64> {
    let t = Instant::now();
    for b in bodies {
        if send(b)?.is_empty() {
            bail!("an empty answer");
        }
    }
    Ok(bodies.len() as f64 / t.elapsed().as_secs_f64())
}

fn in_process(
    dir: &Path,
    key: &NoteSigner,
    log_key: &NoteSigner,
    profile: HashProfile,
    bodies: &[Vec<u8>],
) -> Result<f64> {
    let w = witness(dir, key, log_key, profile)?;
    rate(bodies, &|b| Ok(w.add_checkpoint(b)?))
}

fn loopback(
    dir: &Path,
    key: &NoteSigner,
    log_key: &NoteSigner,
    profile: HashProfile,
    bodies: &[Vec<u8>],
) -> Result<f64> {
    let w = Arc::new(witness(dir, key, log_key, profile)?);
    let server = WitnessServer::new(w, ServerConfig::default()).spawn("127.0.0.1:0".parse()?)?;
    let client = WitnessClient::new(
        &format!("http://{}", server.local_addr()),
        ClientConfig::default(),
        None,
    )?;
    let r = rate(bodies, &|b| Ok(Cosigner::add_checkpoint(&client, b)?));
    server.shutdown();
    r
}

/// Quorum checks per second, and `verify_strict` per second on the same message length.
fn quorum(log_key: &NoteSigner) -> Result<(f64, f64)> {
    let (w1, w2) = (
        NoteSigner::generate("w1.example")?,
        NoteSigner::generate("w2.example")?,
    );
    let text = format!("{ORIGIN}\n1000\n{}\n", "A".repeat(43) + "=");
    let mut note = Note::parse(&warrant_ledger::checkpoint::sign(&text, &[log_key])?)?;
    note.add_cosignature(&w1, 1_764_000_000);
    note.add_cosignature(&w2, 1_764_000_000);
    let policy = WitnessPolicy::parse(
        &format!(
            "witness a {}\nwitness b {}\ngroup both all a b\nquorum both\n",
            CosignerVerifier::from(&w1),
            CosignerVerifier::from(&w2)
        ),
        &[log_key.verifier()],
    )?;
    const N: u32 = 2_000;
    let key = ed25519_dalek::SigningKey::from_bytes(&warrant_ledger::keys::random_bytes());
    let msg = format!("cosignature/v1\ntime 1764000000\n{text}");
    let sig = ed25519_dalek::Signer::sign(&key, msg.as_bytes());
    let vk = key.verifying_key();
    // Alternated, best of three each: this machine's speed drifts within a second.
    let (mut judged, mut verified) = (0f64, 0f64);
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..N {
            if !policy.judge(note.text(), note.signatures()).met {
                bail!("the quorum must be met");
            }
        }
        judged = judged.max(f64::from(N) / t.elapsed().as_secs_f64());
        let t = Instant::now();
        for _ in 0..N {
            vk.verify_strict(msg.as_bytes(), &sig)?;
        }
        verified = verified.max(f64::from(N) / t.elapsed().as_secs_f64());
    }
    Ok((judged, verified))
}

/// Measures both, in `work`.
pub(crate) fn measure(work: &Path, profile: HashProfile) -> Result<WitnessFigures> {
    const COUNT: u64 = 400;
    let log_key = NoteSigner::generate(ORIGIN)?;
    let key = NoteSigner::generate("witness.example/bench")?;
    let bodies = requests(&log_key, profile, COUNT, 64)?;
    let (mut local, mut remote) = (Vec::new(), Vec::new());
    for round in 0..2 {
        let dir = work.join(format!("witness-{round}"));
        local.push(in_process(
            &dir.join("local"),
            &key,
            &log_key,
            profile,
            &bodies,
        )?);
        remote.push(loopback(
            &dir.join("remote"),
            &key,
            &log_key,
            profile,
            &bodies,
        )?);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (l, r) = (mean(&local), mean(&remote));
    let (judged, verified) = quorum(&log_key)?;
    Ok(WitnessFigures {
        checkpoints: bodies.len(),
        loopback_add_checkpoint_per_s: r,
        in_process_add_checkpoint_per_s: l,
        ratio_loopback_to_in_process: r / l,
        quorum_checks_per_s: judged,
        verify_strict_per_s: verified,
        quorum_ratio_to_two_verifies: judged * 2.0 / verified,
    })
}
