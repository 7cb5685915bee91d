//! A human approver in bad faith, and an insider with a second spelling of their identity:
//! separation of duties and quorum compare persons, not strings (invariant 1).

use crate::story::*;
use crate::{fails, passes, quorum_of_two_with};
use warrant_ledger::event::*;

fn approved_by(approver: &'static str) -> Story {
    Story::tweaked(&move |b| {
        if let Body::ApprovalResolved(r) = b {
            r.approver.id = approver.into();
        }
    })
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
    fails(&quorum_of_two_with("APPROVER@bank.example"), "B7");
}

#[test]
fn one_approver_counted_twice_with_a_lookalike_letter() {
    // Cyrillic о (U+043E) in "apprоver": mixed scripts, and the same skeleton.
    fails(&quorum_of_two_with("apprоver@bank.example"), "B7");
}

#[test]
fn a_service_account_excluded_in_lowercase_approves_in_capitals() {
    fails(&approved_by("PAYMENTS-BOT@bank.example"), "B7");
}

#[test]
fn an_override_approved_post_hoc_by_its_author_in_capitals() {
    let story = overridden(
        "supervisor@bank.example",
        b"suspicious payee",
        Some(("Supervisor@Bank.Example", 13_000)),
    );
    fails(&story, "B11");
}

// Honest twins, and the stated limit.

#[test]
fn honest_two_different_people_make_a_quorum_of_two() {
    passes(&quorum_of_two_with("approver2@bank.example"));
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
