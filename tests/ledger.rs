//! The ledger over the file store: append, dedup, checkpoints, proofs, task queries, reopen,
//! locking, bad input leaving the store byte-for-byte unchanged, concurrency, fsck.

mod common;

use common::{ORIGIN, events, log_key, trust};

use std::path::Path;
use std::sync::Arc;

use warrant_ledger::checkpoint::open_checkpoint;
use warrant_ledger::envelope::{self, EmitterChain};
use warrant_ledger::event::*;
use warrant_ledger::ledger::{AppendError, Ledger, TimeBounds};
use warrant_ledger::merkle::{HashProfile, TreeHead, verify_consistency, verify_inclusion};
use warrant_ledger::store::StoreError;
use warrant_ledger::trust::TrustError;

fn create(dir: &Path, profile: HashProfile) -> Ledger {
    Ledger::create(dir, ORIGIN, profile, log_key(), trust())
        .expect("create")
        .with_time_bounds(TimeBounds::history())
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["", "checkpoints"] {
        for e in std::fs::read_dir(dir.join(sub)).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_file() {
                out.push((p.display().to_string(), std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn append_prove_checkpoint_reopen() {
    for profile in [HashProfile::Blake3, HashProfile::Sha256] {
        let dir = tempfile::tempdir().expect("tempdir");
        let evs = events(300, 7);
        {
            let ledger = create(dir.path(), profile);
            for (i, e) in evs[..100].iter().enumerate() {
                assert_eq!(ledger.append(e), Ok(i as u64));
            }
            let refs: Vec<&[u8]> = evs[100..].iter().map(Vec::as_slice).collect();
            assert_eq!(ledger.append_batch(&refs), Ok((100..300).collect()));
            let note = ledger.checkpoint().expect("checkpoint");
            assert_eq!(
                ledger.checkpoint().expect("again"),
                note,
                "no new checkpoint without growth"
            );
        }
        let ledger = Ledger::open(dir.path(), log_key(), trust())
            .expect("reopen")
            .with_time_bounds(TimeBounds::history());
        assert_eq!(ledger.size(), 300);
        let head = open_checkpoint(
            &ledger.latest_checkpoint().expect("read").expect("some"),
            ORIGIN,
            &[ledger.verifier()],
        )
        .expect("verifies")
        .tree_head();
        assert_eq!(head.size, 300);
        for index in [0u64, 1, 99, 100, 255, 299] {
            let proof = ledger.prove_inclusion(index, 300).expect("prove");
            verify_inclusion(
                profile,
                &profile.leaf_hash(&evs[index as usize]),
                &proof,
                &head,
            )
            .expect("included");
            assert_eq!(ledger.entry(index).expect("entry"), evs[index as usize]);
        }
        let old = TreeHead {
            size: 100,
            root: ledger.root(100).expect("root"),
        };
        verify_consistency(
            profile,
            &ledger.prove_consistency(100, 300).expect("prove"),
            &old,
            &head,
        )
        .expect("consistent");
        // Task 0 got entries 0, 7, 14, …
        let first =
            envelope::parse(&evs[0], warrant_ledger::cbor::Limits::default()).expect("parse");
        let task: TaskId = first
            .header()
            .subject
            .as_deref()
            .expect("sub")
            .parse()
            .expect("uuid");
        assert_eq!(
            ledger.task_entries(&task).expect("task"),
            (0..300).step_by(7).collect::<Vec<u64>>()
        );
        assert_eq!(ledger.fsck().expect("fsck").problem, None);
        // More appends after reopen continue the same tree.
        let more = events(5, 1);
        assert_eq!(ledger.append(&more[0]), Ok(300));
        assert_eq!(ledger.fsck().expect("fsck").problem, None);
    }
}

#[test]
fn duplicates_and_bad_input_leave_the_store_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = create(dir.path(), HashProfile::Blake3);
    let evs = events(3, 1);
    assert_eq!(ledger.append(&evs[0]), Ok(0));
    ledger.checkpoint().expect("checkpoint");
    let before = snapshot(dir.path());
    // Identical resubmission: the existing index, nothing written.
    assert_eq!(ledger.append(&evs[0]), Ok(0));
    assert_eq!(snapshot(dir.path()), before);

    let mut bad_sig = evs[1].clone();
    let n = bad_sig.len();
    bad_sig[n - 1] ^= 1;
    let other_key = ed25519_dalek::SigningKey::from_bytes(&[77; 32]);
    let w = WorkloadId::new("spiffe://bank.example/gateway").expect("id");
    let mut stranger = EmitterChain::for_task(other_key, w, TaskId::new_v7(), Assurance::Enforced);
    let unknown_key = stranger
        .emit(common::signal_body(1), common::ts(common::T0), vec![])
        .expect("sign")
        .into_bytes();
    let unknown_emitter = envelope::sign(&common::sample_events()[3], &common::test_key())
        .expect("sign")
        .into_bytes();
    let wrong_kind = envelope::sign(&common::sample_events()[1], &common::test_key())
        .expect("sign")
        .into_bytes();
    // Same event id, different bytes (re-signed with another time).
    let original = envelope::verify(&evs[0], &common::test_key().verifying_key()).expect("ok");
    let mut twin = original.event().clone();
    twin.time = twin.time.plus_ms(1);
    let twin = envelope::sign(&twin, &common::test_key())
        .expect("sign")
        .into_bytes();
    let mut noncanonical = evs[1].clone();
    noncanonical.push(0);
    let oversized = {
        let mut e = original.event().clone();
        e.ext.insert("pad".into(), "x".repeat(70_000));
        envelope::sign(&e, &common::test_key())
            .expect("sign")
            .into_bytes()
    };
    type Check = fn(&AppendError) -> bool;
    let cases: Vec<(&[u8], Check)> = vec![
        (&bad_sig, |e| {
            matches!(
                e,
                AppendError::Rejected {
                    source: TrustError::Envelope(envelope::EnvelopeError::BadSignature),
                    ..
                }
            )
        }),
        (&unknown_key, |e| {
            matches!(
                e,
                AppendError::Rejected {
                    source: TrustError::UnknownKey(_),
                    ..
                }
            )
        }),
        (&unknown_emitter, |e| {
            matches!(
                e,
                AppendError::Rejected {
                    source: TrustError::UnknownEmitter(_),
                    ..
                }
            )
        }),
        (&wrong_kind, |e| {
            matches!(
                e,
                AppendError::Rejected {
                    source: TrustError::UnknownEmitter(_) | TrustError::KindNotAllowed { .. },
                    ..
                }
            )
        }),
        (&twin, |e| {
            matches!(e, AppendError::DuplicateEventId { existing: 0, .. })
        }),
        (&noncanonical, |e| {
            matches!(
                e,
                AppendError::Rejected {
                    source: TrustError::Envelope(envelope::EnvelopeError::Cbor(_)),
                    ..
                }
            )
        }),
        (&oversized, |e| {
            matches!(
                e,
                AppendError::Rejected {
                    source: TrustError::Envelope(envelope::EnvelopeError::Cbor(
                        warrant_ledger::cbor::CborError::TooLarge { .. }
                    )),
                    ..
                }
            )
        }),
    ];
    for (i, (bytes, want)) in cases.iter().enumerate() {
        let err = ledger.append(bytes).expect_err("must be refused");
        assert!(want(&err), "case {i}: {err:?}");
        assert_eq!(snapshot(dir.path()), before, "case {i} changed the store");
        // In a batch: all or nothing, and the position is reported.
        let batch = [evs[1].as_slice(), bytes];
        assert!(ledger.append_batch(&batch).is_err(), "case {i} in a batch");
        assert_eq!(
            snapshot(dir.path()),
            before,
            "case {i} in a batch changed the store"
        );
    }
    assert_eq!(
        ledger.append_batch(&[&evs[1], &evs[1]]),
        Err(AppendError::DuplicateInBatch { position: 1 })
    );
    assert_eq!(snapshot(dir.path()), before);
    assert_eq!(ledger.size(), 1);
}

#[test]
fn a_second_writer_gets_locked_and_create_refuses_an_existing_ledger() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = create(dir.path(), HashProfile::Blake3);
    assert!(matches!(
        Ledger::open(dir.path(), log_key(), trust()),
        Err(warrant_ledger::ledger::LedgerError::Store(
            StoreError::Locked
        ))
    ));
    drop(ledger);
    assert!(Ledger::open(dir.path(), log_key(), trust()).is_ok());
    assert!(matches!(
        Ledger::create(dir.path(), ORIGIN, HashProfile::Blake3, log_key(), trust()),
        Err(warrant_ledger::ledger::LedgerError::Store(
            StoreError::Exists | StoreError::Locked
        ))
    ));
}

#[test]
fn many_threads_lose_and_duplicate_nothing() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Ledger>();
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Arc::new(create(dir.path(), HashProfile::Sha256));
    let evs = Arc::new(events(800, 40));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (ledger, evs) = (Arc::clone(&ledger), Arc::clone(&evs));
            std::thread::spawn(move || {
                // Every thread submits every 8th event, and half of them twice.
                let mut got = Vec::new();
                for i in (t..800).step_by(8) {
                    got.push((i, ledger.append(&evs[i]).expect("append")));
                    if i % 2 == 0 {
                        assert_eq!(
                            ledger.append(&evs[i]).expect("retry"),
                            got.last().expect("just pushed").1
                        );
                    }
                }
                got
            })
        })
        .collect();
    let mut indices: Vec<(usize, u64)> = threads
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect();
    indices.sort_by_key(|&(_, idx)| idx);
    assert_eq!(
        indices.iter().map(|&(_, idx)| idx).collect::<Vec<_>>(),
        (0..800).collect::<Vec<u64>>(),
        "dense, no duplicates"
    );
    for (i, idx) in indices {
        assert_eq!(ledger.entry(idx).expect("entry"), evs[i]);
    }
    assert_eq!(ledger.fsck().expect("fsck").problem, None);
}

/// The store remembers where a missed lookup ended and inserts there; every way that
/// position can go stale (another commit in between, the table growing, two new ids of one
/// batch sharing a probe run, a rejected batch's lookups) must still put each id where a
/// later lookup finds it.
#[test]
fn remembered_slot_positions_never_misplace_an_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = create(dir.path(), HashProfile::Blake3);
    let evs = events(3000, 150);
    let refs: Vec<&[u8]> = evs.iter().map(Vec::as_slice).collect();
    // Batches of 1..900 entries: the tables grow several times on the way.
    let mut at = 0;
    for (n, size) in [1usize, 7, 300, 900, 2, 640, 150]
        .into_iter()
        .cycle()
        .zip(0..)
    {
        if at >= 2500 || size > 40 {
            break;
        }
        let end = (at + n).min(2500);
        // A rejected unit first: its lookups leave positions behind that nothing inserts.
        let mut bad = refs[at..end].to_vec();
        bad.push(refs[at]);
        assert!(matches!(
            ledger.append_batch(&bad),
            Err(AppendError::DuplicateInBatch { .. })
        ));
        let got = ledger.append_batch(&refs[at..end]).expect("append");
        assert_eq!(got, (at as u64..end as u64).collect::<Vec<_>>());
        at = end;
    }
    assert_eq!(ledger.size(), 2500);
    // Every id is found where it is: resubmitting all of them is idempotent, in one batch
    // and one by one, and adds nothing.
    let again = ledger.append_batch(&refs[..2500]).expect("resubmit");
    assert_eq!(again, (0..2500).collect::<Vec<u64>>());
    for i in (0..2500).step_by(97) {
        assert_eq!(ledger.append(refs[i]).expect("resubmit one"), i as u64);
    }
    assert_eq!(ledger.size(), 2500);
    assert_eq!(ledger.fsck().expect("fsck").problem, None);
    // And the tables survive a reopen.
    drop(ledger);
    let ledger = Ledger::open(dir.path(), log_key(), trust())
        .expect("open")
        .with_time_bounds(TimeBounds::history());
    let tail = ledger.append_batch(&refs[2500..]).expect("append tail");
    assert_eq!(tail, (2500..3000).collect::<Vec<u64>>());
    assert_eq!(
        ledger.append_batch(&refs).expect("all again"),
        (0..3000).collect::<Vec<u64>>()
    );
    assert_eq!(ledger.fsck().expect("fsck").problem, None);
}

#[test]
fn misconfiguration_is_named_not_passed_over() {
    use warrant_ledger::checkpoint::NoteSigner;
    use warrant_ledger::ledger::LedgerError;
    let dir = tempfile::tempdir().expect("tempdir");
    // Not a ledger: said so, before any key is asked for.
    assert!(matches!(
        Ledger::open(dir.path(), log_key(), trust()),
        Err(LedgerError::NotALedger(_))
    ));
    assert!(matches!(
        Ledger::open_read_only(dir.path()),
        Err(LedgerError::NotALedger(_))
    ));
    // A key named after another origin cannot create or open it.
    let other_name = NoteSigner::generate("example.com/other").expect("key");
    assert!(matches!(
        Ledger::create(
            dir.path(),
            ORIGIN,
            HashProfile::Blake3,
            other_name.clone(),
            trust()
        ),
        Err(LedgerError::KeyMismatch { .. })
    ));
    let ledger = create(dir.path(), HashProfile::Blake3);
    let unknown = TaskId::new_v7();
    for b in events(4, 1) {
        ledger.append(&b).expect("append");
    }
    assert!(matches!(
        ledger.export_bundle(&unknown, None),
        Err(LedgerError::UnknownTask(t)) if t == unknown
    ));
    drop(ledger);
    assert!(matches!(
        Ledger::open(dir.path(), other_name, trust()),
        Err(LedgerError::KeyMismatch { .. })
    ));
    // The right name, another key (a key file from another deployment).
    let same_name = NoteSigner::generate(ORIGIN).expect("key");
    let err = Ledger::open(dir.path(), same_name, trust())
        .err()
        .expect("refused");
    assert!(matches!(err, LedgerError::KeyMismatch { .. }), "{err}");
    assert!(Ledger::open(dir.path(), log_key(), trust()).is_ok());
}

#[test]
fn a_reader_beside_the_writer_sees_committed_entries_and_signs_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = create(dir.path(), HashProfile::Sha256);
    let batches: Vec<Vec<Vec<u8>>> = (0..5).map(|_| events(40, 4)).collect();
    let reader = Ledger::open_read_only(dir.path()).expect("reader");
    assert_eq!(reader.size(), 0);
    // The one checkpoint is the empty log's, signed when it was created.
    let empty = reader.checkpoint().expect("created");
    assert!(String::from_utf8_lossy(&empty).starts_with("example.com/agents\n0\n"));
    let mut previous = empty;
    for (k, batch) in batches.iter().enumerate() {
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        writer.append_batch(&refs).expect("append");
        let note = writer.checkpoint().expect("checkpoint");
        // Nothing new until the reader refreshes, not even the newer checkpoint on disk
        // (its entries are not served yet: nothing could be proven against it); then all.
        assert_eq!(reader.size(), 40 * k as u64);
        assert_eq!(reader.latest_checkpoint().expect("latest"), Some(previous));
        assert_eq!(
            reader.latest_checkpoint_size().expect("size"),
            Some(40 * k as u64)
        );
        assert_eq!(reader.refresh().expect("refresh"), 40 * (k as u64 + 1));
        previous = note.clone();
        assert_eq!(reader.checkpoint().expect("latest"), note);
        let head = open_checkpoint(&note, ORIGIN, &[reader.verifier()])
            .expect("note")
            .tree_head();
        // Every task's entries, as the writer sees them, and proofs against the checkpoint.
        let task = envelope::decode_unverified(&batch[0], Default::default())
            .expect("event")
            .task
            .expect("task");
        assert_eq!(
            reader.task_entries(&task).expect("reader"),
            writer.task_entries(&task).expect("writer")
        );
        for i in reader.task_entries(&task).expect("entries") {
            let proof = reader.prove_inclusion(i, head.size).expect("proof");
            let leaf = HashProfile::Sha256.leaf_hash(&reader.entry(i).expect("entry"));
            verify_inclusion(HashProfile::Sha256, &leaf, &proof, &head).expect("verifies");
        }
        assert_eq!(
            reader.export_bundle(&task, None).expect("bundle"),
            writer.export_bundle(&task, None).expect("bundle")
        );
    }
    // A reader appends nothing and writes no file.
    let before = snapshot(dir.path());
    assert_eq!(reader.append(&batches[0][0]), Err(AppendError::ReadOnly));
    assert!(matches!(
        reader.append_batch(&[&batches[0][0]]),
        Err(AppendError::ReadOnly)
    ));
    assert_eq!(snapshot(dir.path()), before);
    // The writer's lock does not stop a reader, and a reader does not stop the writer.
    drop(writer);
    let writer = Ledger::open(dir.path(), log_key(), trust())
        .expect("reopen beside reader")
        .with_time_bounds(TimeBounds::history());
    drop(writer);
    assert_eq!(
        Ledger::open_read_only(dir.path()).expect("reader").size(),
        200
    );
}

#[test]
fn implausible_event_times_are_refused_at_append() {
    use warrant_ledger::ledger::{TimeBounds, TimeError};
    let dir = tempfile::tempdir().expect("tempdir");
    let created = common::T0 + 3_600_000;
    let clock = std::sync::Arc::new(move || created);
    let ledger = Ledger::create_with_clock(
        dir.path(),
        ORIGIN,
        HashProfile::Blake3,
        log_key(),
        trust(),
        clock,
    )
    .expect("create");
    assert_eq!(
        ledger.creation_time().expect("created"),
        Some(common::ts(created))
    );
    let w = WorkloadId::new("spiffe://bank.example/gateway").expect("id");
    let sign = |time: u64| {
        EmitterChain::for_task(
            common::test_key(),
            w.clone(),
            TaskId::new_v7(),
            Assurance::Enforced,
        )
        .emit(common::signal_body(1), common::ts(time), vec![])
        .expect("sign")
        .into_bytes()
    };
    let refused = |time: u64| match ledger.append(&sign(time)) {
        Err(AppendError::Time { source, .. }) => source,
        other => panic!("{time}: {other:?}"),
    };
    // A service giving seconds: dated 1970.
    assert!(matches!(
        refused(created / 1000),
        TimeError::BeforeEarliest { .. }
    ));
    // Ahead of the clock by more than five minutes; dated before the ledger existed.
    assert!(matches!(
        refused(created + 300_001),
        TimeError::Ahead { .. }
    ));
    assert!(matches!(
        refused(created - 300_001),
        TimeError::BeforeCreation { .. }
    ));
    assert_eq!(ledger.size(), 0, "nothing refused was written");
    // Within the bounds: appended; in a batch, the refusal names the entry.
    assert!(ledger.append(&sign(created + 300_000)).is_ok());
    assert!(ledger.append(&sign(created - 300_000)).is_ok());
    let (good, bad) = (sign(created), sign(created + 10_000_000));
    assert!(matches!(
        ledger.append_batch(&[&good, &bad]),
        Err(AppendError::Time { position: 1, .. })
    ));
    assert_eq!(ledger.size(), 2);
    // A ledger given history accepts what came before it; reopened, it knows when it was
    // created.
    let history = ledger.with_time_bounds(TimeBounds::history());
    assert!(history.append(&sign(common::T0)).is_ok());
    drop(history);
    let reopened = Ledger::open(dir.path(), log_key(), trust()).expect("open");
    assert_eq!(
        reopened.creation_time().expect("created"),
        Some(common::ts(created))
    );
}

#[test]
fn an_event_moved_in_time_keeps_its_own_intervals() {
    let mut e = common::sample_events()
        .into_iter()
        .find(|e| e.kind() == Kind::ActionExecuted)
        .expect("action");
    let Body::ActionExecuted(before) = e.body.clone() else {
        unreachable!()
    };
    let later = e.time.plus_ms(86_400_000);
    e.retime(later);
    let Body::ActionExecuted(after) = e.body.clone() else {
        unreachable!()
    };
    assert_eq!(e.time, later);
    assert_eq!(after.started_at, before.started_at.plus_ms(86_400_000));
    assert_eq!(
        after.ended_at.millis_since(after.started_at),
        before.ended_at.millis_since(before.started_at)
    );
}
