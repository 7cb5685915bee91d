//! Witnessed checkpoints end to end: the ledger asks witnesses (in process and over HTTP),
//! stores their cosignatures, bundles carry them, and the auditor's A3 passes only with the
//! quorum its trust policy states. Dishonest variants: a cosignature replayed from another
//! checkpoint, a witness the policy does not know, too few witnesses, and a split view.

mod common;

use std::path::Path;
use std::sync::Arc;

use warrant_ledger::audit::{self, Status, Verdict};
use warrant_ledger::checkpoint::{CosignerVerifier, Note, NoteSigner};
use warrant_ledger::demo::{Deployment, Scenario, run_task};
use warrant_ledger::event::TaskId;
use warrant_ledger::ledger::Ledger;
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::trust::TrustPolicy;
use warrant_ledger::witness::{CosignError, Cosigner, Witness, WitnessedLog};

const ORIGIN: &str = "bank.example/agent-ledger";
const T0: u64 = 1_764_320_400_000;

fn log_key() -> NoteSigner {
    NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[7; 32])).expect("key")
}

fn witness_key(n: u8) -> NoteSigner {
    NoteSigner::new(
        &format!("witness.example/w{n}"),
        ed25519_dalek::SigningKey::from_bytes(&[0x50 + n; 32]),
    )
    .expect("key")
}

fn witness(dir: &Path, n: u8) -> Witness {
    let log = WitnessedLog {
        origin: ORIGIN.into(),
        verifiers: vec![log_key().verifier()],
        profile: HashProfile::Blake3,
    };
    Witness::open(&dir.join(format!("w{n}")), witness_key(n), vec![log]).expect("witness")
}

/// The demo's trust policy with a witness policy in C2SP `tlog-policy` text.
fn trust_with(dep: &Deployment, policy: &str) -> TrustPolicy {
    let mut doc = dep.trust_document(ORIGIN, "blake3", &log_key().verifier().to_string());
    doc.witness_policy = Some(policy.to_owned());
    TrustPolicy::try_from(doc).expect("trust")
}

fn witness_line(n: u8) -> String {
    format!("witness w{n} {}\n", CosignerVerifier::from(&witness_key(n)))
}

/// A demo ledger holding task `n` (compliant, high risk); its task id.
fn with_task(dep: &Deployment, dir: &Path, n: u64) -> (Ledger, TaskId) {
    let (ledger, _) = common::demo_ledger(dep, dir, log_key(), T0);
    let task = common::append_demo_task(dep, &ledger, n, T0);
    (ledger, task)
}

fn a3(bundle: &[u8], trust: &TrustPolicy, trusted: &[Vec<u8>]) -> (Status, String) {
    let report = audit::verify(bundle, trust, trusted).expect("audit");
    let c = report.check("A3").expect("A3");
    (c.status, c.reason.clone())
}

#[test]
fn witnessed_bundles_meet_the_quorum_and_fewer_witnesses_do_not() {
    let dep = Deployment::new([9; 32]);
    let dir = tempfile::tempdir().expect("dir");
    let (ledger, task) = with_task(&dep, &dir.path().join("ledger"), 1);
    let (w1, w2) = (witness(dir.path(), 1), witness(dir.path(), 2));
    let outcome = ledger.witness(&[&w1, &w2]).expect("witness");
    assert_eq!(outcome.cosigned.len(), 2, "{:?}", outcome.refused);
    let bundle = ledger.export_bundle(&task, None).expect("export");

    let both = format!(
        "{}{}group both all w1 w2\nquorum both\n",
        witness_line(1),
        witness_line(2)
    );
    let trust = trust_with(&dep, &both);
    let report = audit::verify(&bundle, &trust, &[]).expect("audit");
    assert_eq!(report.verdict, Verdict::Pass, "{report:#?}");
    let (status, reason) = a3(&bundle, &trust, &[]);
    assert_eq!(status, Status::Pass);
    assert!(
        reason.contains("cosigned by 2 witness(es) (w1, w2)"),
        "{reason}"
    );

    // All of three, a third never asked: below quorum, with the count.
    let three = format!(
        "{}{}{}group all3 all w1 w2 w3\nquorum all3\n",
        witness_line(1),
        witness_line(2),
        witness_line(3)
    );
    let (status, reason) = a3(&bundle, &trust_with(&dep, &three), &[]);
    assert_eq!(status, Status::Fail);
    assert!(
        reason.contains("valid cosignatures by 2 pinned witness(es) (w1, w2)")
            && reason.contains("all3: 3 of 3"),
        "{reason}"
    );
    // Two of three passes; w3 alone does not.
    let two = format!(
        "{}{}{}group g 2 w1 w2 w3\nquorum g\n",
        witness_line(1),
        witness_line(2),
        witness_line(3)
    );
    assert_eq!(a3(&bundle, &trust_with(&dep, &two), &[]).0, Status::Pass);
    let only3 = format!("{}quorum w3\n", witness_line(3));
    assert_eq!(a3(&bundle, &trust_with(&dep, &only3), &[]).0, Status::Fail);
    // Without a witness policy, or with `quorum none`, the log's signature suffices.
    let none = trust_with(&dep, "quorum none\n");
    assert_eq!(a3(&bundle, &none, &[]).0, Status::Pass);
}

#[test]
fn a_bundle_without_cosignatures_fails_a_policy_that_asks_for_them() {
    let dep = Deployment::new([9; 32]);
    let dir = tempfile::tempdir().expect("dir");
    let (ledger, task) = with_task(&dep, &dir.path().join("ledger"), 1);
    let bundle = ledger.export_bundle(&task, None).expect("export");
    let trust = trust_with(&dep, &format!("{}quorum w1\n", witness_line(1)));
    let report = audit::verify(&bundle, &trust, &[]).expect("audit");
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.failed(), ["A3"], "{report:#?}");
}

/// An operator pastes a witness's cosignature of an earlier checkpoint onto a new one.
struct Replayer(Vec<u8>);

impl Cosigner for Replayer {
    fn name(&self) -> String {
        "replayer".into()
    }

    fn add_checkpoint(&self, _body: &[u8]) -> Result<Vec<u8>, CosignError> {
        Ok(self.0.clone())
    }
}

#[test]
fn a_cosignature_of_another_checkpoint_or_by_an_unknown_witness_never_counts() {
    let dep = Deployment::new([9; 32]);
    let dir = tempfile::tempdir().expect("dir");
    let (ledger, _) = with_task(&dep, &dir.path().join("ledger"), 1);
    let (w1, w2, w9) = (
        witness(dir.path(), 1),
        witness(dir.path(), 2),
        witness(dir.path(), 9),
    );
    let first = ledger.witness(&[&w2]).expect("witness").note;
    let old_line: Vec<u8> = {
        let text = String::from_utf8(first).expect("utf-8");
        let line = text
            .lines()
            .find(|l| l.contains("witness.example/w2"))
            .expect("w2's line");
        format!("{line}\n").into_bytes()
    };
    // The log grows; w1 and an unpinned w9 cosign the new head, w2's old line is pasted.
    let run = run_task(&dep, Scenario::Compliant, 2, common::ts(T0 + 200_000), true).expect("task");
    let refs: Vec<&[u8]> = run.events.iter().map(|e| e.bytes()).collect();
    ledger.append_batch(&refs).expect("append");
    let outcome = ledger
        .witness(&[&w1, &w9, &Replayer(old_line)])
        .expect("witness");
    assert_eq!(outcome.cosigned.len(), 3, "{:?}", outcome.refused);
    let bundle = ledger.export_bundle(&run.task, None).expect("export");
    let policy = format!(
        "{}{}group both all w1 w2\nquorum both\n",
        witness_line(1),
        witness_line(2)
    );
    let (status, reason) = a3(&bundle, &trust_with(&dep, &policy), &[]);
    assert_eq!(status, Status::Fail);
    assert!(
        reason.contains("(w1)") && reason.contains("not counted): w2"),
        "{reason}"
    );
}

#[test]
fn a_witness_with_its_key_known_refuses_to_pass_on_foreign_lines() {
    let dep = Deployment::new([9; 32]);
    let dir = tempfile::tempdir().expect("dir");
    let (ledger, _) = with_task(&dep, &dir.path().join("ledger"), 1);
    let w1 = witness(dir.path(), 1);
    let note = ledger.witness(&[&w1]).expect("witness").note;
    // A cosigner that claims w2's key but answers with w1's line is refused.
    struct Liar(Vec<u8>);
    impl Cosigner for Liar {
        fn name(&self) -> String {
            "liar".into()
        }
        fn key(&self) -> Option<CosignerVerifier> {
            Some(CosignerVerifier::from(&witness_key(2)))
        }
        fn add_checkpoint(&self, _body: &[u8]) -> Result<Vec<u8>, CosignError> {
            Ok(self.0.clone())
        }
    }
    let text = String::from_utf8(note).expect("utf-8");
    let line = text
        .lines()
        .find(|l| l.contains("witness.example/w1"))
        .expect("w1's line");
    let outcome = ledger
        .witness(&[&Liar(format!("{line}\n").into_bytes())])
        .expect("witness");
    assert!(outcome.cosigned.is_empty());
    assert!(matches!(outcome.refused[0].1, CosignError::BadAnswer(_)));
    // Lines in the log's own name are never stored: they could break the note.
    let forged = format!("\u{2014} {ORIGIN} AAAAAAAA\n").into_bytes();
    let outcome = ledger.witness(&[&Replayer(forged)]).expect("witness");
    assert!(outcome.cosigned.is_empty(), "{outcome:?}");
    let stored = ledger.latest_checkpoint().expect("read").expect("note");
    assert_eq!(Note::parse(&stored).expect("parse").signatures().len(), 3);
}

/// The operator forks the log: two trees under one key, same size. The witness cosigns the
/// first branch and refuses the second; an auditor holding the cosigned checkpoint of the
/// first fails A3 on the second's bundle, at the same size and after it grows.
#[test]
fn a_split_view_is_caught_by_the_witness_and_by_the_auditor() {
    let dep = Deployment::new([9; 32]);
    let dir = tempfile::tempdir().expect("dir");
    let (honest, _) = with_task(&dep, &dir.path().join("a"), 1);
    let (forked, hidden_task) = with_task(&dep, &dir.path().join("b"), 2);
    assert_eq!(honest.size(), forked.size());
    let w1 = witness(dir.path(), 1);
    let seen = honest.witness(&[&w1]).expect("witness");
    assert_eq!(seen.cosigned.len(), 1);
    let refused = forked.witness(&[&w1]).expect("witness");
    assert!(refused.cosigned.is_empty());
    assert!(
        matches!(refused.refused[0].1, CosignError::Fork(_)),
        "{:?}",
        refused.refused
    );

    let bundle = forked.export_bundle(&hidden_task, None).expect("export");
    let plain = trust_with(&dep, "quorum none\n");
    // Alone, the forked branch's bundle is self-consistent: only what the auditor holds
    // (the cosigned head of the other branch), or a witness quorum, exposes it.
    assert_eq!(a3(&bundle, &plain, &[]).0, Status::Pass);
    let (status, reason) = a3(&bundle, &plain, std::slice::from_ref(&seen.note));
    assert_eq!(status, Status::Fail);
    assert!(reason.contains("the log forked"), "{reason}");
    let quorum = trust_with(&dep, &format!("{}quorum w1\n", witness_line(1)));
    assert_eq!(a3(&bundle, &quorum, &[]).0, Status::Fail);

    // The forked branch grows: the witness still refuses (its proof cannot lead from the
    // cosigned head), and the auditor finds no consistency proof from what it holds.
    let run = run_task(&dep, Scenario::Compliant, 3, common::ts(T0 + 300_000), true).expect("task");
    let refs: Vec<&[u8]> = run.events.iter().map(|e| e.bytes()).collect();
    forked.append_batch(&refs).expect("append");
    let later = forked.witness(&[&w1]).expect("witness");
    assert!(later.cosigned.is_empty(), "{later:?}");
    let bundle = forked.export_bundle(&run.task, None).expect("export");
    let (status, reason) = a3(&bundle, &plain, std::slice::from_ref(&seen.note));
    assert_eq!(status, Status::Fail, "{reason}");
}

#[test]
fn the_ledger_asks_witnesses_over_http() {
    use warrant_ledger::client::{ClientConfig, WitnessClient};
    use warrant_ledger::server::{ServerConfig, WitnessServer};
    let dep = Deployment::new([9; 32]);
    let dir = tempfile::tempdir().expect("dir");
    let (ledger, task) = with_task(&dep, &dir.path().join("ledger"), 1);
    let servers: Vec<_> = (1..=2)
        .map(|n| {
            WitnessServer::new(Arc::new(witness(dir.path(), n)), ServerConfig::default())
                .spawn("127.0.0.1:0".parse().expect("addr"))
                .expect("witness server")
        })
        .collect();
    let clients: Vec<WitnessClient> = servers
        .iter()
        .zip(1..=2)
        .map(|(s, n)| {
            let key = CosignerVerifier::from(&witness_key(n));
            WitnessClient::new(
                &format!("http://{}", s.local_addr()),
                ClientConfig::default(),
                Some(key),
            )
            .expect("client")
        })
        .collect();
    let refs: Vec<&dyn Cosigner> = clients.iter().map(|c| c as &dyn Cosigner).collect();
    let policy = format!(
        "{}{}group both all w1 w2\nquorum both\n",
        witness_line(1),
        witness_line(2)
    );
    let trust = trust_with(&dep, &policy);
    for round in 0..3u64 {
        let outcome = ledger.witness(&refs).expect("witness");
        assert_eq!(
            outcome.cosigned.len(),
            2,
            "round {round}: {:?}",
            outcome.refused
        );
        let bundle = ledger.export_bundle(&task, None).expect("export");
        assert_eq!(a3(&bundle, &trust, &[]).0, Status::Pass, "round {round}");
        let run = run_task(
            &dep,
            Scenario::Compliant,
            10 + round,
            common::ts(T0 + 1_000_000 + round * 100_000),
            true,
        )
        .expect("task");
        let more: Vec<&[u8]> = run.events.iter().map(|e| e.bytes()).collect();
        ledger.append_batch(&more).expect("append");
    }
    for s in servers {
        s.shutdown();
    }
}

/// An impostor asked by URL alone (its key unknown to the log) answers with a line in a
/// real witness's name and key id: it may add lines, never push out that witness's valid
/// cosignature.
#[test]
fn an_impostor_cannot_replace_a_witness_cosignature() {
    let dep = Deployment::new([9; 32]);
    let dir = tempfile::tempdir().expect("dir");
    let (ledger, task) = with_task(&dep, &dir.path().join("ledger"), 1);
    let (w1, w2) = (witness(dir.path(), 1), witness(dir.path(), 2));
    let note = ledger.witness(&[&w1, &w2]).expect("witness").note;
    let text = String::from_utf8(note).expect("utf-8");
    let line = text
        .lines()
        .find(|l| l.contains("witness.example/w2"))
        .expect("w2's line");
    // The same name and key id, a character of the signature changed (well inside the
    // base64, past the key id and clear of the padding).
    let mut chars: Vec<char> = line.chars().collect();
    let at = chars.len() - 10;
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    let forged: String = chars.into_iter().collect();
    let outcome = ledger
        .witness(&[&Replayer(format!("{forged}\n").into_bytes())])
        .expect("witness");
    assert!(outcome.refused.is_empty(), "{outcome:?}");
    let bundle = ledger.export_bundle(&task, None).expect("export");
    let both = format!(
        "{}{}group both all w1 w2\nquorum both\n",
        witness_line(1),
        witness_line(2)
    );
    assert_eq!(a3(&bundle, &trust_with(&dep, &both), &[]).0, Status::Pass);
}
