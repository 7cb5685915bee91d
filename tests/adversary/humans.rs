//! A human approver in bad faith, and an insider with a second spelling of their identity:
//! separation of duties and quorum compare persons, not strings (invariant 1).

use crate::story::*;
use crate::{fails, passes};
use warrant_ledger::demo::workloads::*;
use warrant_ledger::event::*;

fn approved_by(approver: &'static str) -> Story {
    Story::tweaked(&move |b| {
        if let Body::ApprovalResolved(r) = b {
            r.approver.id = approver.into();
        }
    })
}

/// The story with a quorum of two met by `APPROVER` and `second`.
fn quorum_with(second: &'static str) -> Story {
    let mut story = Story::new();
    story.play(
        &|b| {
            if let Body::ApprovalRequested(q) = b {
                q.quorum = 2;
            }
        },
        &mut |step, s| {
            if step == Step::Resolved {
                s.emit(APPROVALS, 4_100, s.resolution(second));
            }
        },
    );
    story
}

#[test]
fn the_requester_approves_as_themself() {
    fails(&approved_by(HUMAN), "B7");
}

#[test]
fn the_requester_approves_in_capitals() {
    fails(&approved_by("USER1@BANK.EXAMPLE"), "B7");
}

#[test]
fn the_requester_approves_in_full_width_letters() {
    fails(&approved_by("ｕｓｅｒ1@bank.example"), "B7");
}

#[test]
fn the_requester_approves_under_a_confusable_spelling() {
    // Digit one for the letter l is a confusable (UTS #39): "user1" against "userl".
    fails(&approved_by("userl@bank.example"), "B7");
}

#[test]
fn the_requester_approves_with_an_invisible_character() {
    fails(&approved_by("user1\u{200B}@bank.example"), "B7");
}

#[test]
fn one_approver_counted_twice_in_capitals() {
    fails(&quorum_with("APPROVER@bank.example"), "B7");
}

#[test]
fn one_approver_counted_twice_with_a_lookalike_letter() {
    // Cyrillic о (U+043E) in "apprоver": mixed scripts, and the same skeleton.
    fails(&quorum_with("apprоver@bank.example"), "B7");
}

#[test]
fn a_service_account_excluded_in_lowercase_approves_in_capitals() {
    fails(&approved_by("PAYMENTS-BOT@bank.example"), "B7");
}

#[test]
fn an_override_approved_post_hoc_by_its_author_in_capitals() {
    let mut story = Story::new();
    story.play(&|_| {}, &mut |step, s| {
        if step != Step::Acted {
            return;
        }
        let target = s.step(Step::Acted);
        let overridden = s.emit(
            FRONT_DOOR,
            11_000,
            Body::Override(Override {
                principal: "supervisor@bank.example".into(),
                action: OverrideAction::Stop,
                target,
                justification_digest: Digest::of(b"suspicious payee"),
                post_hoc_approval_due: ts(T0 + 86_400_000),
            }),
        );
        let asked = s.emit(APPROVALS, 12_000, s.request(overridden));
        let mut resolved = s.resolution("Supervisor@Bank.Example");
        if let Body::ApprovalResolved(r) = &mut resolved {
            r.request = asked;
        }
        s.emit(APPROVALS, 13_000, resolved);
    });
    fails(&story, "B11");
}

// Honest twins, and the stated limit.

#[test]
fn honest_two_different_people_make_a_quorum_of_two() {
    passes(&quorum_with("approver2@bank.example"));
}

#[test]
fn honest_accented_names_are_people() {
    passes(&approved_by("josé.núñez@bank.example"));
}

#[test]
fn limit_a_second_account_the_directory_issued_is_another_identity() {
    // An insider with a genuinely distinct second id ("user1.admin") is not detectable from
    // the evidence: the verdict compares identities, not people (docs/threat-model.md).
    passes(&approved_by("user1.admin@bank.example"));
}
