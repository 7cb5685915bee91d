//! The runtime gate and the revocation feed (`docs/gate.md`). The equivalence with the
//! auditor is checked by every story of `tests/scenarios.rs` and `tests/governance.rs`
//! (`Story::audit` asks the gate before each action); here: random event orders, what the
//! gate answers and cites, bad requests, the feed, and the state rebuilt on open.

mod common;
mod story;

use std::time::Duration;

use common::ts;
use story::*;
use warrant_ledger::demo::workloads::*;
use warrant_ledger::event::*;
use warrant_ledger::gate::{ActionRequest, DueCause, GateError};
use warrant_ledger::ledger::{Ledger, LedgerError};

fn nothing(_: &mut Body) {}

/// The compliant story, with a second approval, a trust signal after the action and a
/// second action, so that reordering has links to break.
fn rich_story() -> Story {
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| match step {
        Step::Resolved => {
            let body = s.resolution("second-approver@bank.example");
            s.emit(APPROVALS, 4_100, body);
        }
        Step::Acted => {
            let (who, at, mut body) = s.default_body(Step::Acted);
            if let Body::ActionExecuted(a) = &mut body {
                a.action_id = "act-2".into();
                (a.started_at, a.ended_at) = (ts(T0 + 11_000), ts(T0 + 11_300));
            }
            s.emit(who, at + 1_000, body);
        }
        _ => {}
    });
    story
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any order of a task's events: for each action, the gate (asked with the events
    /// logged before it) and the auditor (on the finished task) agree (`Story::audit`).
    #[test]
    fn the_gate_agrees_with_the_auditor_in_any_order(
        order in proptest::strategy::Strategy::prop_shuffle(proptest::strategy::Just((0..12).collect::<Vec<usize>>()))
    ) {
        let mut story = rich_story();
        let mut events: Vec<_> = std::mem::take(&mut story.events).into_iter().map(Some).collect();
        let n = events.len();
        for &i in order.iter().filter(|&&i| i < n) {
            if let Some(e) = events[i].take() {
                story.events.push(e);
            }
        }
        story.events.extend(events.into_iter().flatten());
        let report = story.audit();
        proptest::prop_assert_eq!(report.actions.len(), 2);
    }
}

/// The compliant story's events up to (not including) its first action, in a ledger.
fn before_the_action() -> (tempfile::TempDir, Story, Ledger, ActionExecuted) {
    let story = Story::tweaked(&nothing);
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = story.ledger(dir.path());
    let mut action = None;
    for e in &story.events {
        if let Body::ActionExecuted(a) = &e.event().body {
            action = Some(a.clone());
            break;
        }
        ledger.append(e.bytes()).expect("append");
    }
    (dir, story, ledger, action.expect("an action"))
}

/// A request for `a` that leaves the decisions and approval to the gate.
fn open_request(task: TaskId, a: &ActionExecuted) -> ActionRequest {
    ActionRequest::new(
        task,
        a.actor_chain.clone(),
        a.instance.clone(),
        a.operation.clone(),
        a.credential_id.clone(),
        a.started_at,
    )
}

#[test]
fn the_gate_finds_what_an_action_should_cite_and_writes_nothing() {
    let (_dir, story, ledger, a) = before_the_action();
    let size = ledger.size();
    let admission = ledger
        .admit(&open_request(story.task(), &a))
        .expect("admit");
    assert!(admission.allowed, "{admission:#?}");
    assert_eq!(admission.decisions, vec![story.step(Step::Decided)]);
    assert_eq!(admission.approval, Some(story.step(Step::Resolved)));
    for step in [Step::Opened, Step::Delegated, Step::Issued] {
        assert!(
            admission.relied_on.contains(&story.step(step)),
            "{step:?} {admission:#?}"
        );
    }
    assert_eq!(admission.log_size, size);
    assert_eq!(ledger.size(), size, "the gate writes nothing");
    // The same request citing no approval, judged as cited: B7.
    let mut cited = open_request(story.task(), &a);
    cited.as_cited = true;
    cited.decisions = Some(vec![story.step(Step::Decided)]);
    let denied = ledger.admit(&cited).expect("admit");
    assert_eq!(denied.blocked_by(), ["B7"], "{denied:#?}");
    assert!(!denied.allowed);
}

#[test]
fn each_dishonest_request_is_denied_by_its_rule() {
    let (_dir, story, ledger, a) = before_the_action();
    let ask = |edit: &dyn Fn(&mut ActionRequest)| {
        let mut req = open_request(story.task(), &a);
        edit(&mut req);
        ledger.admit(&req).expect("admit").blocked_by()
    };
    // Another instance of the pool than the one delegated to and issued the credential (B2,
    // B5); another acting workload, with no delegation (B2), no decision about it (B3) and
    // not the credential's holder (B5).
    assert_eq!(ask(&|r| r.instance = "pool-a/2".into()), ["B2", "B5"]);
    assert_eq!(
        ask(&|r| r.actor_chain = s(&[HUMAN, ORCHESTRATOR])),
        ["B2", "B3", "B5"]
    );
    // More than the credential carries (B6); other resources than decided (B3: then no
    // decision covers it, so no approval can be judged either).
    assert_eq!(
        ask(&|r| r.operation.permissions_used.push("payments:refund".into())),
        ["B6"]
    );
    assert_eq!(
        ask(&|r| r.operation.resources = s(&["account:DE89-9999"])),
        ["B3"]
    );
    // After the credential expired.
    assert_eq!(ask(&|r| r.at = ts(T0 + 305_000)), ["B5"]);
    // A credential the task never issued.
    assert_eq!(ask(&|r| r.credential_id = "cred-9".into()), ["B5"]);
}

#[test]
fn a_task_the_gate_does_not_follow_is_denied_and_bad_requests_are_errors() {
    let (_dir, story, ledger, a) = before_the_action();
    let unknown = ledger
        .admit(&open_request(TaskId::new_v7(), &a))
        .expect("admit");
    assert_eq!(unknown.blocked_by(), ["B1"]);
    assert!(unknown.denials[0].reason.contains("no intent"));
    let mut req = open_request(story.task(), &a);
    req.credential_id = "has space".into();
    assert!(matches!(
        ledger.admit(&req),
        Err(LedgerError::Gate(GateError::Request(_)))
    ));
    let mut req = open_request(story.task(), &a);
    req.instance = String::new();
    assert!(matches!(
        ledger.admit(&req),
        Err(LedgerError::Gate(GateError::Request(_)))
    ));
    // Seconds for milliseconds: a time the ledger would never log.
    let mut req = open_request(story.task(), &a);
    req.at = Timestamp::from_millis(a.started_at.as_millis() / 1000);
    assert!(matches!(
        ledger.admit(&req),
        Err(LedgerError::Gate(GateError::Time(_)))
    ));
}

/// The compliant story logged through `upto` (exclusive), with `extra` appended after.
fn logged(story: &Story, ledger: &Ledger, upto: Step) {
    let stop = story.step(upto).id;
    for e in story.events.iter().take_while(|e| e.event().id != stop) {
        ledger.append(e.bytes()).expect("append");
    }
}

#[test]
fn the_feed_names_what_to_revoke_and_why_until_it_is_revoked() {
    let story = Story::tweaked(&nothing);
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = story.ledger(dir.path());
    logged(&story, &ledger, Step::Revoked);
    let issued = story.step(Step::Issued);
    // Live and delegated: nothing due; past its expiry: due as expired.
    assert!(
        ledger
            .due_revocations(ts(T0 + 20_000))
            .expect("due")
            .is_empty()
    );
    let expired = ledger.due_revocations(ts(T0 + 305_000)).expect("due");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].issued, issued);
    assert_eq!(
        expired[0].cause,
        DueCause::Expired {
            at: ts(T0 + 305_000)
        }
    );
    // The task closes without the revocation: due now, because of the close.
    let closed = story.events.last().expect("close");
    ledger.append(closed.bytes()).expect("close");
    let due = ledger.due_revocations(ts(T0 + 30_001)).expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(
        due[0].cause,
        DueCause::TaskClosed {
            event: closed.event().id
        }
    );
    assert_eq!(due[0].credential_id, CRED);
    assert_eq!(
        ledger.followed_tasks().expect("followed"),
        1,
        "closed, one to revoke"
    );
    // The revocation answers it, and the closed task leaves the gate's state.
    let revoked = story
        .events
        .iter()
        .find(|e| e.event().id == story.step(Step::Revoked).id);
    ledger
        .append(revoked.expect("revocation").bytes())
        .expect("revoke");
    assert!(
        ledger
            .due_revocations(ts(T0 + 400_000))
            .expect("due")
            .is_empty()
    );
    assert_eq!(ledger.followed_tasks().expect("followed"), 0);
}

#[test]
fn a_trust_signal_or_an_ended_delegation_makes_a_credential_due() {
    let mut story = Story::new();
    story.play(
        &|b| {
            if let Body::DelegationGranted(d) = b {
                d.expires_at = ts(T0 + 60_000);
            }
        },
        &mut |step, s| {
            if step == Step::Issued {
                s.emit(FRONT_DOOR, 6_000, signal_about(AGENT));
            }
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = story.ledger(dir.path());
    let upto = story.step(Step::Issued).id;
    let mut it = story.events.iter();
    for e in it.by_ref() {
        ledger.append(e.bytes()).expect("append");
        if e.event().id == upto {
            break;
        }
    }
    // Before the signal: due once the delegation ends, before the credential expires.
    let due = ledger.due_revocations(ts(T0 + 60_000)).expect("due");
    assert_eq!(
        due[0].cause,
        DueCause::DelegationExpired {
            at: ts(T0 + 60_000)
        }
    );
    assert!(
        ledger
            .due_revocations(ts(T0 + 59_999))
            .expect("due")
            .is_empty()
    );
    let signal = it.next().expect("signal");
    ledger.append(signal.bytes()).expect("signal");
    let due = ledger.due_revocations(ts(T0 + 6_001)).expect("due");
    assert_eq!(
        due[0].cause,
        DueCause::TrustSignal {
            event: signal.event().id
        }
    );
}

fn signal_about(subject: &str) -> Body {
    Body::TrustSignal(TrustSignal {
        source: "https://idp.bank.example".into(),
        signal: SignalType::Anomaly,
        subject: subject.into(),
        instance: None,
        severity: Level::High,
    })
}

#[test]
fn the_state_is_rebuilt_on_open_from_the_snapshot_or_from_every_entry() {
    let story = rich_story();
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = story.ledger(dir.path());
    let (task, action) = story
        .events
        .iter()
        .find_map(|e| match &e.event().body {
            Body::ActionExecuted(a) => Some((e.event().task.expect("task"), a.clone())),
            _ => None,
        })
        .expect("action");
    let half = story.events.len() / 2;
    for e in &story.events[..half] {
        ledger.append(e.bytes()).expect("append");
    }
    ledger.checkpoint().expect("checkpoint writes the snapshot");
    for e in &story.events[half..story.events.len() - 1] {
        ledger.append(e.bytes()).expect("append");
    }
    let request = open_request(task, &action);
    let want = (
        ledger.admit(&request).expect("admit"),
        ledger.due_revocations(ts(T0 + 29_000)).expect("due"),
        ledger.followed_tasks().expect("followed"),
    );
    let answers = |l: &Ledger| {
        (
            l.admit(&request).expect("admit"),
            l.due_revocations(ts(T0 + 29_000)).expect("due"),
            l.followed_tasks().expect("followed"),
        )
    };
    drop(ledger);
    // From the snapshot and the entries after it; then from every entry.
    let reader = Ledger::open_read_only(dir.path())
        .expect("reader")
        .with_trust(story.trust());
    assert_eq!(answers(&reader), want);
    drop(reader);
    std::fs::write(dir.path().join("live.snap"), b"damaged").expect("damage");
    let reader = Ledger::open_read_only(dir.path())
        .expect("reader")
        .with_trust(story.trust());
    assert_eq!(answers(&reader), want);
}

#[test]
fn a_reader_follows_the_writer_and_a_waiter_wakes_when_the_log_grows() {
    let story = Story::tweaked(&nothing);
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = std::sync::Arc::new(story.ledger(dir.path()));
    let reader = Ledger::open_read_only(dir.path())
        .expect("reader")
        .with_trust(story.trust());
    assert_eq!(reader.followed_tasks().expect("followed"), 0);
    let size = ledger.size();
    let writer = std::sync::Arc::clone(&ledger);
    let first = story.events[0].bytes().to_vec();
    let appender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        writer.append(&first).expect("append");
    });
    // Bounded: returns when the append lands, or after five seconds at the most.
    let grown = ledger.wait_for_growth(size, Duration::from_secs(5));
    appender.join().expect("appender");
    assert_eq!(grown, size + 1);
    assert_eq!(ledger.wait_for_growth(size, Duration::ZERO), size + 1);
    reader.refresh().expect("refresh");
    assert_eq!(
        reader.followed_tasks().expect("followed"),
        1,
        "the task opened"
    );
}

#[test]
fn a_revocation_logged_after_the_action_but_dated_before_it_is_what_the_gate_cannot_know() {
    let story = Story::tweaked(&|b| {
        if let Body::CredentialRevoked(r) = b {
            r.effective_at = ts(T0 + 8_000);
        }
    });
    let report = story.audit();
    let answers = story.gate_answers(&story.trust()).expect("replayed");
    assert_eq!(answers.len(), 1);
    assert!(answers[0].1.allowed, "the gate could not know");
    assert_eq!(report.actions[0].breaks, ["B5"], "the auditor does");
}
