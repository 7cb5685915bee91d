//! The auditor's integrity checks (A1–A5) on exported bundles: a compliant task passes, and
//! every class of tampering fails the check it should.

mod common;

use common::{ORIGIN, ts};
use warrant_ledger::audit::{self, Status, Verdict};
use warrant_ledger::bundle::Bundle;
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::envelope::{EmitterChain, VerifiedEvent};
use warrant_ledger::event::*;
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::trust::TrustPolicy;

type Chain = EmitterChain<ed25519_dalek::SigningKey>;

fn chain(emitter: &str, task: Option<TaskId>) -> Chain {
    let w = WorkloadId::new(emitter).expect("id");
    match task {
        Some(t) => EmitterChain::for_task(common::test_key(), w, t, Assurance::Enforced),
        None => EmitterChain::ledger_level(common::test_key(), w, Assurance::Enforced),
    }
}

fn r(e: &VerifiedEvent) -> EventRef {
    e.event().reference(e.digest())
}

/// A complete, well-chained task: the sample bodies with real references, one chain per
/// emitter, closed with a correct manifest. Returns the task and its events in log order.
fn task_events(policy: &VerifiedEvent) -> (TaskId, Vec<VerifiedEvent>) {
    let task = TaskId::new_v7();
    let bodies: Vec<Body> = common::sample_bodies()
        .into_iter()
        .map(|(b, _, _)| b)
        .collect();
    let mut front = chain("spiffe://bank.example/front-door", Some(task));
    let mut pdp = chain("spiffe://bank.example/pdp", Some(task));
    let mut approvals = chain("spiffe://bank.example/approvals", Some(task));
    let mut sts = chain("spiffe://bank.example/sts", Some(task));
    let mut gw = chain("spiffe://bank.example/gateway", Some(task));
    let t = common::T0;
    let opened = front
        .emit(bodies[1].clone(), ts(t), vec![])
        .expect("opened");
    let delegated = front
        .emit(bodies[2].clone(), ts(t + 1), vec![r(&opened)])
        .expect("delegation");
    let decided = pdp
        .emit(bodies[3].clone(), ts(t + 2), vec![r(&delegated), r(policy)])
        .expect("decision");
    let Body::ApprovalRequested(mut asked) = bodies[4].clone() else {
        panic!()
    };
    asked.decision = r(&decided);
    let asked = approvals
        .emit(Body::ApprovalRequested(asked), ts(t + 3), vec![])
        .expect("asked");
    let Body::ApprovalResolved(mut granted) = bodies[5].clone() else {
        panic!()
    };
    granted.request = r(&asked);
    let granted = approvals
        .emit(Body::ApprovalResolved(granted), ts(t + 4), vec![])
        .expect("granted");
    let Body::CredentialIssued(mut issued) = bodies[6].clone() else {
        panic!()
    };
    (issued.decision, issued.approval) = (r(&decided), Some(r(&granted)));
    let issued = sts
        .emit(Body::CredentialIssued(issued), ts(t + 5), vec![])
        .expect("issued");
    let Body::ActionExecuted(mut acted) = bodies[7].clone() else {
        panic!()
    };
    (acted.decisions, acted.approval) = (vec![r(&decided)], Some(r(&granted)));
    let acted = gw
        .emit(Body::ActionExecuted(acted), ts(t + 6), vec![r(&issued)])
        .expect("acted");
    let revoked = sts
        .emit(bodies[9].clone(), ts(t + 7), vec![r(&acted)])
        .expect("revoked");
    let manifest = [&pdp, &approvals, &sts, &gw, &front]
        .iter()
        .map(|c| c.manifest_entry().expect("emitted"))
        .collect();
    let close = Body::TaskClosed(TaskClosed {
        outcome: TaskOutcome::Completed,
        manifest,
        credentials_open: vec![],
    });
    let closed = front
        .emit(close, ts(t + 40_000), vec![r(&revoked)])
        .expect("closed");
    (
        task,
        vec![
            opened, delegated, decided, asked, granted, issued, acted, revoked, closed,
        ],
    )
}

struct World {
    _dir: tempfile::TempDir,
    ledger: Ledger,
    task: TaskId,
    other_task: TaskId,
    trust: TrustPolicy,
    old_note: Vec<u8>,
}

fn world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = common::sample_ledger(dir.path(), HashProfile::Blake3);
    let policy = chain("spiffe://bank.example/policy-registry", None)
        .emit(common::sample_bodies()[0].0.clone(), ts(common::T0), vec![])
        .expect("policy");
    ledger.append(policy.bytes()).expect("policy");
    let (task, events) = task_events(&policy);
    let (other_task, others) = task_events(&policy);
    for (a, b) in events.iter().zip(&others) {
        ledger.append(a.bytes()).expect("append");
        ledger.append(b.bytes()).expect("append");
    }
    let old_note = ledger.checkpoint().expect("checkpoint");
    let more = common::events(3, 1);
    for b in &more {
        ledger.append(b).expect("append");
    }
    let trust_toml = format!(
        "version = 1\n[[logs]]\norigin = \"{ORIGIN}\"\nhash = \"blake3\"\nverifier_key = \"{}\"\n",
        ledger.verifier()
    );
    let mut doc: warrant_ledger::trust::TrustDocument = toml::from_str(&trust_toml).expect("toml");
    let base = common::sample_trust_document();
    (doc.emitters, doc.governance) = (base.emitters, base.governance);
    let trust = TrustPolicy::try_from(doc).expect("trust");
    World {
        _dir: dir,
        ledger,
        task,
        other_task,
        trust,
        old_note,
    }
}

fn audit(w: &World, bundle: &[u8], trusted: &[Vec<u8>]) -> audit::Report {
    audit::verify(bundle, &w.trust, trusted).expect("usable bundle")
}

fn mutate(bytes: &[u8], f: impl FnOnce(&mut Bundle)) -> Vec<u8> {
    let mut b = Bundle::from_cbor(bytes).expect("bundle");
    f(&mut b);
    b.to_cbor().expect("encode")
}

#[test]
fn a_compliant_task_passes_every_integrity_check() {
    let w = world();
    let bundle = w
        .ledger
        .export_bundle(&w.task, Some(&w.old_note))
        .expect("export");
    let report = audit(&w, &bundle, std::slice::from_ref(&w.old_note));
    assert_eq!(report.verdict, Verdict::Pass, "{report:#?}");
    for id in ["A1", "A2", "A3", "A4", "A5"] {
        assert_eq!(
            report.check(id).expect("check").status,
            Status::Pass,
            "{id}: {report:#?}"
        );
    }
    assert_eq!(report.task, w.task.to_string());
}

#[test]
fn every_kind_of_tampering_fails_the_right_check() {
    let w = world();
    let good = w
        .ledger
        .export_bundle(&w.task, Some(&w.old_note))
        .expect("export");
    let other = Bundle::from_cbor(&w.ledger.export_bundle(&w.other_task, None).expect("export"))
        .expect("bundle");
    let trusted = std::slice::from_ref(&w.old_note);
    let flip_last = |v: &mut Vec<u8>| {
        let n = v.len();
        v[n - 1] ^= 1;
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "signature byte",
            mutate(&good, |b| flip_last(&mut b.entries[3].envelope.0)),
            "A1",
        ),
        (
            "payload byte",
            mutate(&good, |b| {
                let n = b.entries[3].envelope.0.len();
                b.entries[3].envelope.0[n - 90] ^= 1;
            }),
            "A1",
        ),
        (
            "policy signature",
            mutate(&good, |b| flip_last(&mut b.policies[0].envelope.0)),
            "A1",
        ),
        (
            "proof hash",
            mutate(&good, |b| {
                let mut h = *b.entries[2].proof[0].0.as_bytes();
                h[0] ^= 1;
                b.entries[2].proof[0].0 = warrant_ledger::merkle::Hash::from_bytes(h);
            }),
            "A3",
        ),
        ("index", mutate(&good, |b| b.entries[2].index += 1), "A3"),
        (
            "checkpoint byte",
            mutate(&good, |b| {
                b.checkpoint.0[2] ^= 1;
            }),
            "A3",
        ),
        (
            "checkpoint by another key",
            mutate(&good, |b| {
                let cp = warrant_ledger::checkpoint::Checkpoint::parse(&String::from_utf8_lossy(
                    &b.checkpoint.0
                        [..b.checkpoint.0.iter().position(|&x| x == 0xe2).expect("sig") - 1],
                ))
                .expect("body");
                b.checkpoint.0 = cp
                    .sign(&[&NoteSigner::generate(ORIGIN).expect("key")])
                    .expect("sign");
            }),
            "A3",
        ),
        (
            "checkpoint re-signed without its signed time",
            mutate(&good, |b| {
                let cp = warrant_ledger::checkpoint::Checkpoint::parse(&String::from_utf8_lossy(
                    &b.checkpoint.0
                        [..b.checkpoint.0.iter().position(|&x| x == 0xe2).expect("sig") - 1],
                ))
                .expect("body");
                b.checkpoint.0 = cp.sign(&[&common::log_key()]).expect("sign");
            }),
            "A5",
        ),
        (
            "earlier checkpoint's consistency proof",
            mutate(&good, |b| {
                // The last earlier checkpoint: the one the auditor holds, with a proof.
                let last = b.earlier.last_mut().expect("earlier");
                let mut h = *last.proof[0].0.as_bytes();
                h[0] ^= 1;
                last.proof[0].0 = warrant_ledger::merkle::Hash::from_bytes(h);
            }),
            "A3",
        ),
        (
            "earlier checkpoint byte",
            mutate(&good, |b| b.earlier[0].old_checkpoint.0[2] ^= 1),
            "A3",
        ),
        (
            "earlier checkpoints out of order",
            mutate(&good, |b| {
                let first = b.earlier[0].clone();
                b.earlier.push(first);
            }),
            "A3",
        ),
        (
            "hash profile",
            mutate(&good, |b| b.log.hash = "sha256".into()),
            "A3",
        ),
        (
            "dropped entry",
            mutate(&good, |b| {
                b.entries.remove(4);
            }),
            "A4",
        ),
        (
            "duplicated entry",
            mutate(&good, |b| {
                let e = b.entries[2].clone();
                b.entries.insert(3, e);
            }),
            "A4",
        ),
        (
            "reordered entries",
            mutate(&good, |b| b.entries.swap(1, 2)),
            "A4",
        ),
        (
            "entry from another task",
            mutate(&good, |b| {
                b.entries[4] = other.entries[4].clone();
            }),
            "A4",
        ),
        (
            "dropped earlier checkpoints",
            mutate(&good, |b| b.earlier.clear()),
            "A3",
        ),
    ];
    for (what, bytes, want) in cases {
        let report = audit(&w, &bytes, trusted);
        let reasons: Vec<String> = report
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| format!("{}: {}", c.id, c.reason))
            .collect();
        eprintln!("{what}: {reasons:?}");
        assert_eq!(report.verdict, Verdict::Fail, "{what}: {report:#?}");
        assert!(
            report.failed().contains(&want),
            "{what}: expected {want} to fail, got {:?}",
            report.failed()
        );
    }
    // A trusted checkpoint from a forked history (same key, other entries) is caught.
    let fork_dir = tempfile::tempdir().expect("tempdir");
    let fork = common::sample_ledger(fork_dir.path(), HashProfile::Blake3);
    for b in common::events(4, 1) {
        fork.append(&b).expect("append");
    }
    let forked = fork.checkpoint().expect("fork checkpoint");
    let report = audit(&w, &good, &[forked]);
    assert!(report.failed().contains(&"A3"), "{report:#?}");
    // Unusable input is an error, not a report.
    assert!(audit::verify(b"junk", &w.trust, &[]).is_err());
    assert!(matches!(
        audit::verify(&good, &common::sample_trust(), &[]),
        Err(audit::AuditError::UnknownLog(_))
    ));
}

/// A bundle large enough that signatures and inclusion proofs are checked on all cores:
/// the parallel paths must find a single bad proof or signature deep inside it, and name it.
#[test]
fn large_bundles_are_checked_in_parallel_without_missing_anything() {
    use warrant_ledger::demo::{Deployment, registration_event, run_long_task};
    let dep = Deployment::new([5; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    let log = NoteSigner::generate(ORIGIN).expect("log key");
    let mut doc = dep.trust_document(ORIGIN, "blake3", &log.verifier().to_string());
    // One approval covers the long task's 1 500 executions: a batch the policy allows.
    doc.governance.tiers.high = Some(warrant_ledger::trust::TierEntry {
        approval_reuse: Some(warrant_ledger::trust::ApprovalReuse::Warn),
        ..Default::default()
    });
    let trust = TrustPolicy::try_from(doc).expect("trust");
    let ledger = Ledger::create(dir.path(), ORIGIN, HashProfile::Blake3, log, trust.clone())
        .expect("ledger")
        .with_time_bounds(TimeBounds::history());
    ledger
        .append(
            registration_event(&dep, ts(common::T0 - 1))
                .expect("policy")
                .bytes(),
        )
        .expect("append");
    let run = run_long_task(&dep, 1500, ts(common::T0)).expect("task");
    let refs: Vec<&[u8]> = run.events.iter().map(|e| e.bytes()).collect();
    ledger.append_batch(&refs).expect("append");
    let good = ledger.export_bundle(&run.task, None).expect("export");
    let report = audit::verify(&good, &trust, &[]).expect("audit");
    assert_eq!(report.verdict, Verdict::Pass, "{report:#?}");

    let deep = 1200;
    let id = run.events[deep].event().id.to_string();
    let bad_proof = mutate(&good, |b| {
        let h = &mut b.entries[deep].proof[3].0;
        let mut bytes = *h.as_bytes();
        bytes[7] ^= 1;
        *h = warrant_ledger::merkle::Hash::from_bytes(bytes);
    });
    let r = audit::verify(&bad_proof, &trust, &[]).expect("audit");
    let a3 = r.check("A3").expect("A3");
    assert_eq!(
        (a3.status, a3.events.clone()),
        (Status::Fail, vec![id.clone()])
    );
    assert_eq!(r.check("A1").expect("A1").status, Status::Pass);

    let bad_sig = mutate(&good, |b| {
        let e = &mut b.entries[deep].envelope.0;
        let n = e.len();
        e[n - 5] ^= 0x10;
    });
    let r = audit::verify(&bad_sig, &trust, &[]).expect("audit");
    let a1 = r.check("A1").expect("A1");
    assert_eq!((a1.status, a1.events.clone()), (Status::Fail, vec![id]));
}
