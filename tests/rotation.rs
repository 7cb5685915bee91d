//! Key rotation. The log moves to a new checkpoint key with one checkpoint signed by both;
//! the auditor pins each key with a window of checkpoint sizes; bundles made before the
//! rotation verify after it. Dishonest variants: a stolen retired key signing past its
//! window, a new key signing before its window, an auditor who never heard of the new key.
//! And an emitter's key retirement leaves an old event's audit as it was.

mod common;

use warrant_ledger::audit::{self, Report, Status, Verdict};
use warrant_ledger::checkpoint::{Checkpoint, Note, NoteSigner};
use warrant_ledger::demo::Deployment;
use warrant_ledger::event::TaskId;
use warrant_ledger::ledger::{Ledger, LedgerError, TimeBounds};
use warrant_ledger::trust::{KeyEntry, LogKeyEntry, TrustDocument, TrustPolicy, public_key_base64};

const ORIGIN: &str = "bank.example/agent-ledger";
const T0: u64 = 1_764_320_400_000;

fn key(seed: u8) -> NoteSigner {
    NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[seed; 32])).expect("key")
}

fn task(dep: &Deployment, ledger: &Ledger, n: u64) -> TaskId {
    let task = common::append_demo_task(dep, ledger, n, T0);
    ledger.checkpoint().expect("checkpoint");
    task
}

/// The demo's policy with the log's keys as given: (key, from, until) each.
fn policy(dep: &Deployment, keys: &[(&NoteSigner, u64, Option<u64>)]) -> TrustPolicy {
    let mut doc: TrustDocument =
        dep.trust_document(ORIGIN, "blake3", &keys[0].0.verifier().to_string());
    doc.logs[0].until_size = keys[0].2;
    doc.logs[0].rotated = keys[1..]
        .iter()
        .map(|(k, from, until)| LogKeyEntry {
            verifier_key: k.verifier().to_string(),
            from_size: *from,
            until_size: *until,
        })
        .collect();
    TrustPolicy::try_from(doc).expect("trust")
}

fn a3(bundle: &[u8], trust: &TrustPolicy) -> (Status, String) {
    let report = audit::verify(bundle, trust, &[]).expect("audit");
    let c = report.check("A3").expect("A3");
    (c.status, c.reason.clone())
}

#[test]
fn bundles_verify_across_a_log_key_rotation_and_keys_stay_in_their_windows() {
    let dep = Deployment::new([9; 32]);
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path().join("ledger");
    let (old, new) = (key(7), key(8));
    let (ledger, _) = common::demo_ledger(&dep, &dir, old.clone(), T0);
    let before = task(&dep, &ledger, 1);
    let early = ledger.export_bundle(&before, None).expect("export");
    let (ledger, bridge) = ledger.rotate_log_key(new.clone()).expect("rotate");
    // The bridging checkpoint carries both keys' signatures.
    let note = ledger.latest_checkpoint().expect("read").expect("note");
    for k in [&old, &new] {
        assert!(
            warrant_ledger::checkpoint::open_checkpoint(&note, ORIGIN, &[k.verifier()]).is_ok()
        );
    }
    let after = task(&dep, &ledger, 2);
    let late = ledger.export_bundle(&after, None).expect("export");
    let size = ledger.size();
    assert!(size > bridge);

    let rotated = policy(&dep, &[(&old, 0, Some(bridge)), (&new, bridge, None)]);
    for bundle in [&early, &late] {
        let report = audit::verify(bundle, &rotated, &[]).expect("audit");
        assert_eq!(report.verdict, Verdict::Pass, "{report:#?}");
    }
    // An auditor who pinned only the old key: the early bundle still passes, the late one
    // is signed by a key it does not know.
    let only_old = policy(&dep, &[(&old, 0, None)]);
    assert_eq!(a3(&early, &only_old).0, Status::Pass);
    assert_eq!(a3(&late, &only_old).0, Status::Fail);

    // A stolen retired key signs the later tree: outside its window, refused.
    let log = rotated.log(ORIGIN).expect("log");
    let body = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: ledger.root(size).expect("root"),
        extensions: vec![],
    };
    let forged = body.sign_timestamped(&old, 1_764_400_000).expect("sign");
    assert!(log.open(&forged).is_err());
    assert!(
        log.open(&body.sign_timestamped(&new, 1).expect("sign"))
            .is_ok()
    );
    // The new key cannot sign history from before its window either.
    let early_body = Checkpoint {
        size: 1,
        root: ledger.root(1).expect("root"),
        ..body
    };
    assert!(
        log.open(&early_body.sign_timestamped(&new, 1).expect("sign"))
            .is_err()
    );
    assert!(
        log.open(&early_body.sign_timestamped(&old, 1).expect("sign"))
            .is_ok()
    );
}

#[test]
fn after_a_rotation_the_ledger_opens_with_the_new_key_only() {
    let dep = Deployment::new([9; 32]);
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path().join("ledger");
    let (old, new) = (key(7), key(8));
    let (ledger, trust) = common::demo_ledger(&dep, &dir, old.clone(), T0);
    task(&dep, &ledger, 1);
    assert!(matches!(
        ledger.rotate_log_key(old.clone()).map(|_| ()),
        Err(LedgerError::KeyMismatch { .. })
    ));
    let ledger = Ledger::open(&dir, old.clone(), trust.clone())
        .expect("reopen")
        .with_time_bounds(TimeBounds::lenient());
    let (ledger, bridge) = ledger.rotate_log_key(new.clone()).expect("rotate");
    task(&dep, &ledger, 2);
    drop(ledger);
    assert!(matches!(
        Ledger::open(&dir, old, trust.clone()).map(|_| ()),
        Err(LedgerError::KeyMismatch { .. })
    ));
    let reopened = Ledger::open(&dir, new.clone(), trust.clone())
        .expect("open with new")
        .with_time_bounds(TimeBounds::lenient());
    task(&dep, &reopened, 3);
    // New checkpoints carry the new key only; the bridge both.
    let latest = reopened.latest_checkpoint().expect("read").expect("note");
    let names = Note::parse(&latest).expect("parse").signatures().len();
    assert_eq!(names, 2, "the new key's signature and signed time");
    drop(reopened);
    // A reader finds every key in log.pub and opens every stored checkpoint; fsck agrees.
    let reader = Ledger::open_read_only(&dir).expect("reader");
    assert_eq!(reader.verifiers().len(), 2);
    assert_eq!(reader.verifier(), new.verifier());
    let checked = Ledger::open_exclusive(&dir, trust).expect("exclusive");
    assert_eq!(checked.fsck().expect("fsck").problem, None);
    assert!(bridge > 0);
}

fn audit_with(bundle: &[u8], dep: &Deployment, retire: Option<u64>) -> Report {
    let mut doc = dep.trust_document(ORIGIN, "blake3", &key(7).verifier().to_string());
    if let Some(at) = retire {
        // Every service rotated at `at`: its old key retired, a new one pinned from then.
        for e in &mut doc.emitters {
            e.keys[0].not_after = Some(at);
            let next = ed25519_dalek::SigningKey::from_bytes(&[0xA0; 32]);
            e.keys.push(KeyEntry {
                public_key: public_key_base64(&next.verifying_key()),
                not_before: Some(at + 1),
                not_after: None,
            });
        }
    }
    audit::verify(bundle, &TrustPolicy::try_from(doc).expect("trust"), &[]).expect("audit")
}

#[test]
fn an_old_event_under_a_retired_emitter_key_audits_as_it_did() {
    let dep = Deployment::new([9; 32]);
    let tmp = tempfile::tempdir().expect("dir");
    let (ledger, _) = common::demo_ledger_with_clock(
        &dep,
        &tmp.path().join("ledger"),
        key(7),
        T0,
        Some(T0 + 200_000),
    );
    let t = task(&dep, &ledger, 1);
    let bundle = ledger.export_bundle(&t, None).expect("export");
    let then = audit_with(&bundle, &dep, None);
    assert_eq!(then.verdict, Verdict::Pass, "{then:#?}");
    // The keys retire after the task was logged (the checkpoint at T0 + 200 s includes it):
    // the same bundle, audited under the rotated policy, has the same verdict and checks.
    let now = audit_with(&bundle, &dep, Some(T0 + 300_000));
    assert_eq!(now.verdict, then.verdict);
    let statuses = |r: &Report| {
        r.checks
            .iter()
            .map(|c| (c.id.clone(), c.status))
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&now), statuses(&then));
    // Retired in the middle of the task: its later events are signed by a key no longer
    // valid at their time, and A2 fails (the dishonest variant: a retired key still used).
    let early = audit_with(&bundle, &dep, Some(T0 + 100_000 + 2_000));
    assert!(early.failed().contains(&"A2"), "{early:#?}");
}

/// `warrant rotate-key`: the bridge's size printed, the new key in `log.key`, the old one
/// beside it, and the ledger keeps signing, with the new key.
#[cfg(feature = "cli")]
#[test]
fn warrant_rotate_key_moves_the_ledger_to_the_new_key() {
    use std::process::Command;
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path().join("l");
    let d = dir.to_str().expect("utf-8");
    let warrant = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_warrant"))
            .args(args)
            .output()
            .expect("warrant")
    };
    assert!(
        warrant(&["init", d, "--origin", "example.com/agents"])
            .status
            .success()
    );
    let new = NoteSigner::generate("example.com/agents").expect("key");
    let key_file = tmp.path().join("new.key");
    std::fs::write(&key_file, format!("{}\n", *new.to_key_string())).expect("key");
    let out = warrant(&[
        "rotate-key",
        d,
        "--new-key",
        key_file.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    let log_key = std::fs::read_to_string(dir.join("log.key")).expect("log.key");
    assert_eq!(log_key.trim(), new.to_key_string().as_str());
    assert!(dir.join("log.key.retired").is_file());
    let pubs = std::fs::read_to_string(dir.join("log.pub")).expect("log.pub");
    assert_eq!(pubs.lines().count(), 2);
    assert_eq!(
        pubs.lines().last(),
        Some(new.verifier().to_string().as_str())
    );
    let cp = warrant(&["checkpoint", d]);
    assert!(cp.status.success(), "{cp:?}");
    let note = Note::parse(&cp.stdout).expect("note");
    assert!(
        warrant_ledger::checkpoint::open_checkpoint(
            &cp.stdout,
            "example.com/agents",
            &[new.verifier()]
        )
        .is_ok(),
        "{note:?}"
    );
    // Rotating to the same key again is refused.
    let again = warrant(&[
        "rotate-key",
        d,
        "--new-key",
        key_file.to_str().expect("utf-8"),
    ]);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
}
