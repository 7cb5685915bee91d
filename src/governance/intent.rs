//! B1: the task starts from an authenticated human's intent, authenticated as strongly as
//! the task's risk tier asks.

use super::{At, Task};
use super::{Check, Status, check};
use crate::event::*;

/// Why the intent does not open the task properly, if it does not.
pub(super) fn intent_problem(t: &Task<'_>, o: At<'_, TaskOpened>) -> Option<String> {
    let (e, b) = (o.event, o.body);
    let p = &b.principal;
    let first = t.events.first().map(|l| l.index) == Some(o.index);
    let tier = t.gov.tier(b.risk_tier);
    let why = if !first || e.assurance != Assurance::Enforced {
        "the task does not start from an intent recorded by an enforcing component".to_owned()
    } else if p.auth_methods.is_empty() || p.auth_time > b.confirmed_at {
        "the human was not authenticated before confirming the instruction".to_owned()
    } else if b.initiation == TaskInitiation::AgentSpawned {
        "the task was spawned by an agent, not asked for by a human".to_owned()
    } else if !t.gov.names_humans() {
        "the trust policy names no human identities ([governance.humans]), so no intent can be a human's".to_owned()
    } else if !t.is_human(&p.id, Some(&p.issuer)) {
        format!(
            "{} (issuer {}) is not a human by the trust policy's identity rules",
            p.id, p.issuer
        )
    } else if tier.mfa && !p.mfa {
        format!(
            "a {} risk task requires multi-factor authentication; the human did not use it",
            b.risk_tier
        )
    } else if let Some(max) = tier
        .max_auth_age_ms
        .filter(|max| b.confirmed_at.millis_since(p.auth_time) > *max)
    {
        format!(
            "the human authenticated {} s before confirming; a {} risk task allows {} s",
            b.confirmed_at.millis_since(p.auth_time) / 1000,
            b.risk_tier,
            max / 1000
        )
    } else {
        return None;
    };
    Some(why)
}

pub(super) fn b1(t: &Task<'_>) -> Check {
    let Some(o) = t.opened else {
        return check("B1", Status::Fail, &[], "the task has no TaskOpened intent");
    };
    let opened_again = t
        .events
        .iter()
        .find(|l| l.index != o.index && matches!(l.event.body, Body::TaskOpened(_)));
    let why = intent_problem(t, o)
        .or_else(|| opened_again.map(|_| "the task was opened twice".to_owned()));
    if let Some(why) = why {
        let ids: Vec<EventId> = [Some(o.event.id), opened_again.map(|l| l.event.id)]
            .into_iter()
            .flatten()
            .collect();
        return check("B1", Status::Fail, &ids, why);
    }
    let p = &o.body.principal;
    check(
        "B1",
        Status::Pass,
        &[o.event.id],
        format!(
            "{} authenticated at {} ({}{}) and confirmed the instruction",
            p.id,
            p.issuer,
            p.auth_methods.join("+"),
            if p.mfa { ", MFA" } else { "" }
        ),
    )
}
