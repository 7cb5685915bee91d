//! The gateway lies: it signs the `ActionExecuted` records, so it can misstate who acted,
//! what was done, under which decisions and approval, and when.

use crate::story::*;
use crate::{fails, passes};
use warrant_ledger::demo::workloads::AGENT;
use warrant_ledger::event::*;

fn action(edit: impl Fn(&mut ActionExecuted) + 'static) -> Story {
    Story::tweaked(&move |b| {
        if let Body::ActionExecuted(a) = b {
            edit(a);
        }
    })
}

#[test]
fn records_a_longer_chain_than_the_decision_was_asked_for() {
    // The decision was asked for the human and the agent; the record names an orchestrator
    // between them (with its own delegations it would pass B2, not B3).
    fails(
        &action(|a| a.actor_chain = s(&[HUMAN, ORCHESTRATOR, AGENT])),
        "B3",
    );
}

#[test]
fn records_an_action_citing_only_a_deny() {
    let story = Story::tweaked(&|b| {
        if let Body::PolicyDecision(d) = b {
            d.effect = Effect::Deny;
        }
    });
    fails(&story, "B3");
}

#[test]
fn records_an_action_started_before_the_human_confirmed() {
    fails(&action(|a| a.started_at = ts(T0 + 900)), "B2");
}

#[test]
fn records_an_action_after_the_intent_expired() {
    let story = Story::tweaked(&|b| {
        if let Body::TaskOpened(o) = b {
            o.expires_at = ts(T0 + 9_000);
        }
    });
    fails(&story, "B2");
}

#[test]
fn cites_an_approval_of_other_resources() {
    let story = Story::tweaked(&|b| {
        if let Body::ApprovalRequested(q) = b {
            q.action_digest = action_digest(ACTION, &s(&["account:DE89-0002"]));
        }
    });
    fails(&story, "B7");
}

#[test]
fn cites_no_approval() {
    fails(&action(|a| a.approval = None), "B7");
}

#[test]
fn names_no_acting_workload() {
    fails(&action(|a| a.actor_chain = s(&[HUMAN])), "B2");
}

#[test]
fn names_a_lookalike_human_at_the_head_of_the_chain() {
    // Cyrillic а: not the task's human, however it renders.
    fails(
        &action(|a| a.actor_chain = s(&["user1@bаnk.example", AGENT])),
        "B2",
    );
}

#[test]
fn cites_decisions_so_that_a_looser_one_comes_first() {
    // A second allow decision for the same operation, without the approval requirement, is
    // cited first; the action carries no approval. The stricter decision still binds.
    let looser = crate::decision_with(|d| d.obligations.approval = None);
    let story = with_second_decision(Step::Decided, 2_100, looser, |b, l| {
        if let Body::ActionExecuted(a) = b {
            a.decisions.insert(0, l);
            a.approval = None;
        }
    });
    fails(&story, "B7");
}

// Honest twins.

#[test]
fn honest_chain_spelling_the_human_in_another_case_passes() {
    // E-mail style ids are case-insensitive by default: the same identity.
    passes(&action(|a| {
        a.actor_chain = s(&["User1@Bank.Example", AGENT])
    }));
}

#[test]
fn honest_citation_order_does_not_matter() {
    // Two identical allow decisions cited in either order: the same verdict.
    for first in [true, false] {
        let story = with_second_decision(Step::Decided, 2_100, decision(), |b, o| {
            if let Body::ActionExecuted(a) = b {
                if first {
                    a.decisions.insert(0, o);
                } else {
                    a.decisions.push(o);
                }
            }
        });
        passes(&story);
    }
}
