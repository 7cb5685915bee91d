//! Ledgers and events for the tests that run `warrant serve` as a process (included by
//! path from those built with the `cli` feature, which makes the binary).

use std::path::Path;
use std::process::{Command, Stdio};

use warrant_ledger::checkpoint::{NoteSigner, NoteVerifier};
use warrant_ledger::envelope::EmitterChain;
use warrant_ledger::event::{Assurance, TaskId, Timestamp, WorkloadId};
use warrant_ledger::trust::public_key_base64;

use crate::common::{signal_body, test_key};

const GATEWAY: &str = "spiffe://bank.example/gateway";

/// `warrant init` a SHA-256 ledger in `dir` under `origin` whose trust policy accepts the
/// test key as a gateway signing trust signals; the log's verifier key.
pub(crate) fn init_served(dir: &Path, origin: &str) -> NoteVerifier {
    let status = Command::new(env!("CARGO_BIN_EXE_warrant"))
        .args(["init", "--origin", origin, "--hash", "sha256"])
        .arg(dir)
        .stdout(Stdio::null())
        .status()
        .expect("init");
    assert!(status.success());
    let pk = public_key_base64(&test_key().verifying_key());
    let mut trust = std::fs::read_to_string(dir.join("trust.toml")).expect("trust");
    trust.push_str(&format!(
        "\n[[emitters]]\nworkload = \"{GATEWAY}\"\nassurance = \"enforced\"\nkinds = [\"TrustSignal\"]\nkeys = [{{ public_key = \"{pk}\" }}]\n"
    ));
    std::fs::write(dir.join("trust.toml"), trust).expect("write trust");
    let key = std::fs::read_to_string(dir.join("log.key")).expect("log.key");
    NoteSigner::parse(key.trim()).expect("key").verifier()
}

/// `n` events over `tasks` tasks, stamped now (a served ledger refuses times before its
/// creation).
pub(crate) fn fresh_events(n: usize, tasks: usize) -> Vec<Vec<u8>> {
    let w = WorkloadId::new(GATEWAY).expect("id");
    let mut chains: Vec<_> = (0..tasks)
        .map(|_| {
            EmitterChain::for_task(test_key(), w.clone(), TaskId::new_v7(), Assurance::Enforced)
        })
        .collect();
    let now = Timestamp::now();
    (0..n)
        .map(|i| {
            chains[i % tasks]
                .emit(signal_body(i as u64), now, vec![])
                .expect("sign")
                .into_bytes()
        })
        .collect()
}
