//! One identity, one comparison: the canonical form in which the governance checks compare
//! human identities (`docs/trust-policy.md`, "Identity rules").
//!
//! Two comparisons, each in the direction that never favours a party breaking a rule:
//! - *the same identity* (where equality grants something: the decision was asked for the
//!   task's human, the actor chain starts with them) compares canonical forms: NFKC, and
//!   case folded unless the identity provider is listed as case-sensitive;
//! - *possibly the same person* (where a difference grants something: an approver is not the
//!   requester, two approvers make a quorum of two) compares UTS #39 skeletons of the
//!   case-folded NFKC form, so that `alice@bank.example`, `Alice@bank.example`,
//!   `ａｌｉｃｅ@bank.example` and `аlice@bank.example` (Cyrillic а) all count as one person.
//!
//! An id that no directory should hand out to a person (control or invisible format
//! characters, white space, or letters of more than one script) is not a human's at all.

use unicode_normalization::UnicodeNormalization;
use unicode_security::{GeneralSecurityProfile, MixedScript, skeleton};

/// The canonical form of `id`: NFKC, case folded when `fold_case`.
pub(crate) fn canonical(id: &str, fold_case: bool) -> String {
    let nfkc: String = id.nfkc().collect();
    if fold_case {
        // Lowercasing can leave a string that is no longer NFKC (e.g. U+0130); normalise again.
        nfkc.to_lowercase().nfkc().collect()
    } else {
        nfkc
    }
}

/// The key under which two ids are possibly one person: the skeleton of the case-folded
/// canonical form.
pub(crate) fn person_key(id: &str) -> String {
    skeleton(&canonical(id, true)).collect()
}

/// Whether `a` and `b` are possibly one person: equal, or of one [`person_key`].
pub(crate) fn maybe_same_person(a: &str, b: &str) -> bool {
    a == b || person_key(a) == person_key(b)
}

/// Why `id` cannot be a person's identifier, if it cannot: it holds a character that is
/// invisible or controls layout, white space, or letters of more than one script.
pub(crate) fn unacceptable(id: &str) -> Option<&'static str> {
    let canonical = canonical(id, true);
    if canonical.chars().any(|c| c.is_control() || is_invisible(c)) {
        Some("holds a control or invisible character")
    } else if canonical.chars().any(char::is_whitespace) {
        Some("holds white space")
    } else if !canonical.is_single_script() {
        Some("mixes scripts")
    } else if !canonical
        .chars()
        .all(|c| c.identifier_allowed() || c.is_ascii())
    {
        Some("holds a character UTS #39 does not allow in identifiers")
    } else {
        None
    }
}

/// Format characters and other default-ignorable code points: they render as nothing, so
/// two ids that differ only by them look identical to a person.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_width_and_compatibility_forms_are_one_identity() {
        for variant in [
            "Alice@Bank.Example",
            "ALICE@BANK.EXAMPLE",
            "ａｌｉｃｅ@bank.example",
            "alice＠bank.example",
        ] {
            assert_eq!(canonical(variant, true), "alice@bank.example", "{variant}");
            assert_eq!(person_key(variant), person_key("alice@bank.example"));
        }
        assert_eq!(canonical("Alice@bank.example", false), "Alice@bank.example");
    }

    #[test]
    fn confusables_are_possibly_one_person() {
        // Cyrillic а (U+0430), Greek ο (U+03BF), digit 1 for l.
        for lookalike in [
            "аlice@bank.example",
            "alice@bank.exampl\u{0435}",
            "a1ice@bank.example",
        ] {
            assert_ne!(canonical(lookalike, true), "alice@bank.example");
            assert_eq!(
                person_key(lookalike),
                person_key("alice@bank.example"),
                "{lookalike}"
            );
        }
        assert_ne!(
            person_key("bob@bank.example"),
            person_key("alice@bank.example")
        );
    }

    #[test]
    fn ids_no_directory_gives_a_person_are_refused() {
        assert_eq!(unacceptable("alice@bank.example"), None);
        assert_eq!(unacceptable("José.Núñez@bank.example"), None);
        assert!(unacceptable("ali\u{200B}ce@bank.example").is_some());
        assert!(unacceptable("alice\u{202E}@bank.example").is_some());
        assert!(unacceptable("ali ce@bank.example").is_some());
        assert!(unacceptable("alice\n@bank.example").is_some());
        assert_eq!(
            unacceptable("аlice@bank.example"),
            Some("mixes scripts"),
            "Cyrillic а among Latin letters"
        );
    }
}
