//! Governance-chain checks B1–B11 (DESIGN §5) over the verified events of one task.
//!
//! Each check looks at the events A1 verified, in log order. A check with nothing to look at
//! is "n/a"; one that finds a violation fails with the events that show it.

mod actors;
mod approval;
mod credentials;

use std::collections::HashMap;

use super::Audited;
use super::{Check, Status, check};
use crate::event::*;

/// The task's events, indexed for the checks. Lookups by id and the delegation list are built
/// once, so a bundle of any size is checked in time linear in its events.
pub(super) struct Task<'a> {
    /// Task events in log order, with their log index.
    events: Vec<(u64, &'a Audited<'a>)>,
    /// Registered policies (ledger-level) with their log index.
    policies: Vec<(u64, &'a Audited<'a>)>,
    /// Task events by id, with their index and envelope digest.
    by_id: HashMap<EventId, (u64, &'a Event, Digest)>,
    /// Delegations in log order.
    delegations: Vec<(u64, &'a Event, &'a DelegationGranted)>,
    /// Delegations by delegatee, in log order, looked up for every action.
    delegations_to: HashMap<&'a str, Vec<(u64, &'a Event, &'a DelegationGranted)>>,
    /// The task's (first) intent, looked up by most checks.
    opened: Option<(u64, &'a Event, &'a TaskOpened)>,
    /// Approval resolutions by the id of the request they answer, in log order.
    resolutions: HashMap<EventId, Vec<(u64, &'a Event, &'a ApprovalResolved)>>,
}

impl<'a> Task<'a> {
    pub(super) fn new(
        events: Vec<(u64, &'a Audited<'a>)>,
        policies: Vec<(u64, &'a Audited<'a>)>,
    ) -> Self {
        let by_id = events
            .iter()
            .map(|(i, e)| (e.event().id, (*i, e.event(), e.digest())))
            .collect();
        let mut task = Self {
            events,
            policies,
            by_id,
            delegations: Vec::new(),
            delegations_to: HashMap::new(),
            resolutions: HashMap::new(),
            opened: None,
        };
        task.opened = task.events.iter().find_map(|(i, v)| match &v.event().body {
            Body::TaskOpened(o) => Some((*i, v.event(), o)),
            _ => None,
        });
        task.delegations = task.of(|b| {
            if let Body::DelegationGranted(d) = b {
                Some(d)
            } else {
                None
            }
        });
        for &(i, e, d) in &task.delegations {
            let to = task.delegations_to.entry(d.delegatee.id.as_str());
            to.or_default().push((i, e, d));
        }
        let resolutions = task.of(|b| {
            if let Body::ApprovalResolved(r) = b {
                Some(r)
            } else {
                None
            }
        });
        for (i, e, r) in resolutions {
            task.resolutions
                .entry(r.request.id)
                .or_default()
                .push((i, e, r));
        }
        task
    }

    fn find(&self, r: &EventRef) -> Option<(u64, &'a Event)> {
        self.by_id
            .get(&r.id)
            .filter(|(_, _, d)| *d == r.digest)
            .map(|(i, e, _)| (*i, *e))
    }

    fn of<T>(&self, pick: impl Fn(&'a Body) -> Option<&'a T>) -> Vec<(u64, &'a Event, &'a T)> {
        self.events
            .iter()
            .filter_map(|(i, e)| pick(&e.event().body).map(|b| (*i, e.event(), b)))
            .collect()
    }

    fn opened(&self) -> Option<(u64, &'a Event, &'a TaskOpened)> {
        self.opened
    }

    /// The human principal of the task's intent.
    fn principal(&self) -> Option<&'a str> {
        self.opened.map(|(_, _, o)| o.principal.id.as_str())
    }

    fn actions(&self) -> Vec<(u64, &'a Event, &'a ActionExecuted)> {
        self.of(|b| {
            if let Body::ActionExecuted(a) = b {
                Some(a)
            } else {
                None
            }
        })
    }

    fn decisions(&self) -> Vec<(u64, &'a Event, &'a PolicyDecision)> {
        self.of(|b| {
            if let Body::PolicyDecision(d) = b {
                Some(d)
            } else {
                None
            }
        })
    }

    fn credentials(&self) -> Vec<(u64, &'a Event, &'a CredentialIssued)> {
        self.of(|b| {
            if let Body::CredentialIssued(c) = b {
                Some(c)
            } else {
                None
            }
        })
    }

    fn revocations(&self) -> Vec<(u64, &'a Event, &'a CredentialRevoked)> {
        self.of(|b| {
            if let Body::CredentialRevoked(c) = b {
                Some(c)
            } else {
                None
            }
        })
    }

    fn delegations(&self) -> &[(u64, &'a Event, &'a DelegationGranted)] {
        &self.delegations
    }

    /// Delegations to `workload`, in log order.
    fn delegations_to(&self, workload: &str) -> &[(u64, &'a Event, &'a DelegationGranted)] {
        self.delegations_to.get(workload).map_or(&[], Vec::as_slice)
    }

    /// Resolutions answering the request with this id, in log order.
    fn resolutions_of(&self, request: EventId) -> &[(u64, &'a Event, &'a ApprovalResolved)] {
        self.resolutions.get(&request).map_or(&[], Vec::as_slice)
    }

    fn closed(&self) -> Option<(u64, &'a Event, &'a TaskClosed)> {
        self.of(|b| {
            if let Body::TaskClosed(c) = b {
                Some(c)
            } else {
                None
            }
        })
        .into_iter()
        .next()
    }
}

/// A violation: the events that show it and why.
type Finding = (Vec<EventId>, String);

/// Whether an id names a workload rather than a human. The trust policy lists no humans, so
/// an approver is judged by its id: a SPIFFE id is a workload's.
fn is_workload_id(id: &str) -> bool {
    id.starts_with("spiffe://")
}

fn subset(small: &[String], big: &[String]) -> bool {
    small.iter().all(|s| big.contains(s))
}

/// Fails with the first finding, else passes (or is n/a when there was nothing to check).
fn verdict(id: &str, checked: usize, finding: Option<Finding>, pass: &str, na: &str) -> Check {
    match finding {
        Some((events, why)) => check(id, Status::Fail, &events, why),
        None if checked == 0 => check(id, Status::NotApplicable, &[], na),
        None => check(id, Status::Pass, &[], pass),
    }
}

/// The checks by number, the costliest first (B7, B6, B5, B3 and B2 look things up for every
/// action; the others are light), so that the cores sharing them finish together.
const CHECKS: [(u8, GovernanceCheck); 11] = [
    (7, approval::b7),
    (6, actors::b6),
    (5, credentials::b5),
    (3, b3),
    (2, actors::b2),
    (1, b1),
    (4, b4),
    (8, b8),
    (9, credentials::b9),
    (10, credentials::b10),
    (11, approval::b11),
];

/// One of B1–B11.
type GovernanceCheck = fn(&Task<'_>) -> Check;

/// Task size from which B1–B11 are spread over the cores.
const PARALLEL_MIN: usize = 4096;

/// Runs B1–B11 (independent of each other), on all cores for a large task; the report lists
/// them in order.
pub(super) fn run(t: &Task<'_>) -> Vec<Check> {
    let mut done = crate::parallel::map_each(
        &CHECKS,
        t.events.len() >= PARALLEL_MIN,
        |(n, f)| (*n, f(t)),
        |(n, _)| {
            (
                *n,
                check(
                    &format!("B{n}"),
                    Status::Fail,
                    &[],
                    "the check did not complete",
                ),
            )
        },
    );
    done.sort_by_key(|(n, _)| *n);
    done.into_iter().map(|(_, c)| c).collect()
}

fn b1(t: &Task<'_>) -> Check {
    let Some((index, e, o)) = t.opened() else {
        return check("B1", Status::Fail, &[], "the task has no TaskOpened intent");
    };
    let first = t.events.first().map(|(i, _)| *i) == Some(index);
    let opened_again = t
        .events
        .iter()
        .find(|(i, v)| *i != index && matches!(v.event().body, Body::TaskOpened(_)));
    let why = if !first || e.assurance != Assurance::Enforced {
        Some("the task does not start from an intent recorded by an enforcing component")
    } else if o.principal.auth_methods.is_empty() || o.principal.auth_time > o.confirmed_at {
        Some("the human was not authenticated before confirming the instruction")
    } else if o.initiation == TaskInitiation::AgentSpawned {
        Some("the task was spawned by an agent, not asked for by a human")
    } else if opened_again.is_some() {
        Some("the task was opened twice")
    } else {
        None
    };
    if let Some(why) = why {
        let ids: Vec<EventId> = [Some(e.id), opened_again.map(|(_, v)| v.event().id)]
            .into_iter()
            .flatten()
            .collect();
        return check("B1", Status::Fail, &ids, why);
    }
    // Allowed, but an auditor should see it: DESIGN §4 records MFA for this judgement.
    if o.risk_tier == Level::High && !o.principal.mfa {
        let why = "a high-risk task was confirmed without multi-factor authentication";
        return check("B1", Status::Warn, &[e.id], why);
    }
    check(
        "B1",
        Status::Pass,
        &[e.id],
        format!(
            "{} authenticated at {} ({}) and confirmed the instruction",
            o.principal.id,
            o.principal.issuer,
            o.principal.auth_methods.join("+")
        ),
    )
}

/// The allow decision covering an action (the first it cites): cited by it, same task, for
/// the task's human principal and the same acting workload (a decision about one agent does
/// not authorise another; the hops between may differ), same action, covering its
/// resources, still valid when it started, logged before it.
fn covering<'a>(
    t: &Task<'a>,
    index: u64,
    a: &ActionExecuted,
) -> Option<(u64, &'a Event, &'a PolicyDecision)> {
    coverings(t, index, a).next()
}

/// Every allow decision covering an action, in the order it cites them.
fn coverings<'a, 'x>(
    t: &'x Task<'a>,
    index: u64,
    a: &'x ActionExecuted,
) -> impl Iterator<Item = (u64, &'a Event, &'a PolicyDecision)> + 'x {
    a.decisions
        .iter()
        .filter_map(|r| t.find(r))
        .filter_map(move |(di, de)| match &de.body {
            Body::PolicyDecision(d)
                if di < index
                    && d.effect == Effect::Allow
                    && t.principal() == Some(d.request.principal.as_str())
                    && d.request.actor_chain.last() == a.actor_chain.last()
                    && d.request.action == a.operation.name
                    && subset(&a.operation.resources, &d.request.resources)
                    && d.valid_until >= a.started_at =>
            {
                Some((di, de, d))
            }
            _ => None,
        })
}

fn b3(t: &Task<'_>) -> Check {
    let actions = t.actions();
    let finding = actions
        .iter()
        .find(|(i, _, a)| covering(t, *i, a).is_none())
        .map(|(_, e, a)| {
            (
                vec![e.id],
                format!(
                    "{} on {:?} is not covered by a valid allow decision of this task",
                    a.operation.name, a.operation.resources
                ),
            )
        });
    verdict(
        "B3",
        actions.len(),
        finding,
        "every action is covered by a valid allow decision for the same action and resources",
        "no actions",
    )
}

fn b4(t: &Task<'_>) -> Check {
    let decisions = t.decisions();
    let finding = decisions.iter().find_map(|(i, e, d)| {
        let registered = t.policies.iter().any(|(pi, p)| match &p.event().body {
            Body::PolicyRegistered(r) => {
                pi < i && r.policy == d.policy && r.effective_from <= e.time
            }
            _ => false,
        });
        (!registered).then(|| {
            (
                vec![e.id],
                format!(
                    "decision cites {} revision {} (digest {}), not registered earlier in the log",
                    d.policy.id, d.policy.revision, d.policy.digest
                ),
            )
        })
    });
    verdict(
        "B4",
        decisions.len(),
        finding,
        "every decision cites a policy version registered earlier with the same content digest",
        "no decisions",
    )
}

/// B8. An action fails if a deny for it (same action name, an overlapping resource) was
/// logged before it and after the allow decision covering it: the deny superseded that
/// allow. A deny that a later allow decision re-evaluated (say, once more context was
/// supplied) does not taint actions under the later allow. With no covering allow (which
/// fails B3), any earlier deny counts.
fn b8(t: &Task<'_>) -> Check {
    // Deny indices by (action, resource), in log order, for a binary search per action.
    let mut denies: HashMap<(&str, &str), Vec<(u64, EventId)>> = HashMap::new();
    let mut count = 0;
    for (i, e, d) in t.decisions() {
        if d.effect != Effect::Deny {
            continue;
        }
        count += 1;
        for r in &d.request.resources {
            let key = (d.request.action.as_str(), r.as_str());
            denies.entry(key).or_default().push((i, e.id));
        }
    }
    let finding = t.actions().into_iter().find_map(|(i, e, a)| {
        let after = covering(t, i, a).map(|(di, _, _)| di);
        a.operation.resources.iter().find_map(|r| {
            let list = denies.get(&(a.operation.name.as_str(), r.as_str()))?;
            let k = after.map_or(0, |di| list.partition_point(|(x, _)| *x <= di));
            let &(_, deny) = list.get(k).filter(|(x, _)| *x < i)?;
            Some((
                vec![e.id, deny],
                format!("{} ran after a deny for it", a.operation.name),
            ))
        })
    });
    verdict(
        "B8",
        count,
        finding,
        "no action ran after a deny for it",
        "no deny decisions",
    )
}
