//! The governance event model (`docs/event-model.md`): typed events that bind who asked, which workload
//! acted, with which permissions, under which policy version, approved by whom.
//!
//! Events travel as deterministic CBOR (see [`crate::cbor`]) inside COSE_Sign1 envelopes
//! (see [`crate::envelope`]), and as JSON for people and non-Rust services. The schema is
//! documented as CDDL in `docs/event-model.md`, with one example per kind in
//! `examples/events/`.

mod kinds;
mod model;
mod names;
mod types;

pub use crate::encoding::format_ms;
pub use kinds::{
    ActionExecuted, ActionInitiation, ActionOutcome, ApprovalOutcome, ApprovalRequested,
    ApprovalRequirement, ApprovalResolved, Approver, Credential, CredentialIssued,
    CredentialRevoked, DecisionRequest, DelegationGranted, DelegationMode, Delegator, Effect,
    Holder, HumanPrincipal, Level, ManifestEntry, Obligations, Operation, Override, OverrideAction,
    PolicyDecision, PolicyRef, PolicyRegistered, RevocationReason, RiskTier, Severity, SignalType,
    TaskClosed, TaskInitiation, TaskOpened, TaskOutcome, TrustSignal, WorkloadRef,
};
pub use model::{
    Body, Event, EventError, Kind, MAX_EXT, MAX_REFS, SCHEMA_VERSION, governance_check_number,
};
pub use types::{
    Assurance, Digest, EventId, EventRef, InvalidId, MAX_ID_LEN, TaskId, Timestamp, WorkloadId,
    is_valid_id, spiffe_trust_domain,
};
/// The UUID type of event and task ids (re-exported).
pub use uuid::Uuid;

use crate::cbor::{self, CborError, Limits};

/// Why event bytes were rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not canonical CBOR of an event.
    #[error("event encoding: {0}")]
    Cbor(#[from] CborError),
    /// Canonical, but breaks a rule of the model.
    #[error("event model: {0}")]
    Model(#[from] EventError),
}

impl Event {
    /// The canonical CBOR encoding (the bytes an emitter signs).
    ///
    /// # Errors
    /// [`CborError`] only for values no event can hold (serde failures).
    pub fn to_cbor(&self) -> Result<Vec<u8>, CborError> {
        cbor::to_vec(self)
    }

    /// Strictly decodes canonical CBOR and validates the model, with the default limits.
    ///
    /// # Errors
    /// [`DecodeError`].
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_cbor_with(bytes, Limits::default())
    }

    /// As [`Event::from_cbor`], with explicit limits.
    ///
    /// # Errors
    /// [`DecodeError`].
    pub fn from_cbor_with(bytes: &[u8], limits: Limits) -> Result<Self, DecodeError> {
        let event: Self = cbor::from_slice_with(bytes, limits)?;
        event.validate()?;
        Ok(event)
    }
}

/// The digest that identifies an action for approval: BLAKE3 of the canonical CBOR map
/// `{"action": name, "resources": [sorted, deduplicated resources]}`, so the approver approves
/// exactly this operation on exactly these resources, in any order.
#[must_use]
pub fn action_digest(action: &str, resources: &[String]) -> Digest {
    let mut sorted: Vec<&str> = resources.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    // Written straight out, not through a value tree (an auditor computes this for every
    // action): a map of two entries with the keys in canonical order ("action" is the
    // shorter), the resources an array of text.
    let texts = action.len() + sorted.iter().map(|r| r.len() + 9).sum::<usize>();
    let mut out = Vec::with_capacity(32 + texts);
    cbor::write_map_head(&mut out, 2);
    cbor::write_tstr(&mut out, "action");
    cbor::write_tstr(&mut out, action);
    cbor::write_tstr(&mut out, "resources");
    cbor::write_array_head(&mut out, sorted.len());
    for r in sorted {
        cbor::write_tstr(&mut out, r);
    }
    Digest::of(&out)
}

#[cfg(test)]
mod action_digest_tests {
    use proptest::prelude::*;

    use super::*;

    /// The definition, spelled out with a value tree and the generic canonical encoder.
    fn by_value_tree(action: &str, resources: &[String]) -> Digest {
        let mut sorted: Vec<&str> = resources.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let list = sorted
            .into_iter()
            .map(|r| ciborium::Value::Text(r.to_owned()))
            .collect();
        let map = ciborium::Value::Map(vec![
            (
                ciborium::Value::Text("resources".into()),
                ciborium::Value::Array(list),
            ),
            (
                ciborium::Value::Text("action".into()),
                ciborium::Value::Text(action.into()),
            ),
        ]);
        Digest::of(&cbor::value_to_vec(&map).expect("canonical"))
    }

    proptest! {
        #[test]
        fn is_the_canonical_map_of_the_sorted_resources(
            action in ".{0,40}",
            resources in proptest::collection::vec("[a-c:é]{0,30}", 0..30),
        ) {
            prop_assert_eq!(action_digest(&action, &resources), by_value_tree(&action, &resources));
            let mut shuffled = resources.clone();
            shuffled.reverse();
            shuffled.extend(resources.first().cloned());
            prop_assert_eq!(action_digest(&action, &shuffled), action_digest(&action, &resources));
        }
    }
}

#[cfg(test)]
mod wire_order_tests {
    /// The names of each `pub struct`'s `pub` fields in `source`, in declaration order.
    fn struct_fields(source: &str) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        let mut current: Option<(String, Vec<String>)> = None;
        for line in source.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("pub struct ") {
                if let Some(name) = rest.strip_suffix(" {") {
                    current = Some((name.to_owned(), Vec::new()));
                }
            } else if line == "}" {
                out.extend(current.take());
            } else if let (Some((_, fields)), Some((field, _))) = (
                &mut current,
                line.strip_prefix("pub ")
                    .and_then(|rest| rest.split_once(':')),
            ) {
                fields.push(field.to_owned());
            }
        }
        out
    }

    /// serde writes fields in declaration order; declared in canonical key order, the strict
    /// decode's re-encoding never sorts (see `kinds`). A field added out of order would
    /// still encode canonically, only slower, so this is what notices.
    #[test]
    fn every_event_struct_declares_its_fields_in_wire_order() {
        let sources = [
            include_str!("kinds.rs"),
            include_str!("model.rs"),
            include_str!("types.rs"),
        ];
        let structs: Vec<_> = sources.iter().flat_map(|s| struct_fields(s)).collect();
        assert!(structs.len() >= 20, "found {} structs", structs.len());
        assert!(
            structs
                .iter()
                .any(|(n, f)| n == "ActionExecuted" && f.len() == 15)
        );
        for (name, fields) in structs {
            let mut wire = fields.clone();
            wire.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            assert_eq!(fields, wire, "{name}");
        }
    }
}
