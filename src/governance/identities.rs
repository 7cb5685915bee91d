//! The identity rules' answers for the ids of one task, worked out once per distinct id.
//!
//! Canonical forms and UTS #39 skeletons are Unicode table walks; the checks ask them for
//! every action (is the approver a human, not the requester, not an actor; is the intent's
//! principal a human), so a task of 10^5 actions under one approval would otherwise
//! recompute the same few answers millions of times.

use std::borrow::Cow;
use std::collections::HashMap;

use super::Logged;
use crate::event::Body;
use crate::trust::{Governance, identity};

/// Person keys and human verdicts of the ids a task's events name as people or actors.
pub(super) struct Identities<'a> {
    keys: HashMap<&'a str, String>,
    humans: HashMap<(&'a str, Option<&'a str>), bool>,
}

impl<'a> Identities<'a> {
    /// The answers for every intent principal, approver, override principal and actor
    /// chain entry of `events`.
    pub(super) fn new(events: &[Logged<'a>], gov: &Governance) -> Self {
        let mut ids = Self {
            keys: HashMap::new(),
            humans: HashMap::new(),
        };
        for l in events {
            match &l.event.body {
                Body::TaskOpened(o) => ids.add(gov, &o.principal.id, Some(&o.principal.issuer)),
                Body::ApprovalResolved(r) => {
                    ids.add(gov, &r.approver.id, Some(&r.approver.issuer));
                }
                Body::Override(o) => ids.add(gov, &o.principal, None),
                Body::ActionExecuted(a) => {
                    for actor in &a.actor_chain {
                        ids.keys
                            .entry(actor)
                            .or_insert_with(|| identity::person_key(actor));
                    }
                }
                _ => {}
            }
        }
        ids
    }

    fn add(&mut self, gov: &Governance, id: &'a str, issuer: Option<&'a str>) {
        self.keys
            .entry(id)
            .or_insert_with(|| identity::person_key(id));
        self.humans
            .entry((id, issuer))
            .or_insert_with(|| gov.is_human(id, issuer));
    }

    /// The person key of `id` (`identity::person_key`).
    pub(super) fn person_key(&self, id: &str) -> Cow<'_, str> {
        self.keys.get(id).map_or_else(
            || Cow::Owned(identity::person_key(id)),
            |k| Cow::Borrowed(k.as_str()),
        )
    }

    /// Whether `a` and `b` are possibly one person (`Governance::maybe_same_person`).
    pub(super) fn maybe_same_person(&self, a: &str, b: &str) -> bool {
        a == b || self.person_key(a) == self.person_key(b)
    }

    /// Whether `id`, from `issuer`, is a human (`Governance::is_human`).
    pub(super) fn is_human(&self, gov: &Governance, id: &str, issuer: Option<&str>) -> bool {
        // The map is covariant in its key, so it is looked up with keys that live shorter
        // than 'a.
        let humans: &HashMap<(&str, Option<&str>), bool> = &self.humans;
        humans
            .get(&(id, issuer))
            .copied()
            .unwrap_or_else(|| gov.is_human(id, issuer))
    }
}
