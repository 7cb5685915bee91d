//! Governance-chain checks B1–B11 (DESIGN §5) over the verified events of one task.
//!
//! Each check looks at the events A1 verified, in log order. A check with nothing to look at
//! is "n/a"; one that finds a violation fails with the events that show it.

use std::collections::HashMap;

use super::{Check, Status, check};
use crate::envelope::VerifiedEvent;
use crate::event::*;

/// The task's events, indexed for the checks. Lookups by id and the delegation list are built
/// once, so a bundle of any size is checked in time linear in its events.
pub(super) struct Task<'a> {
    /// Task events in log order, with their log index.
    events: Vec<(u64, &'a VerifiedEvent)>,
    /// Registered policies (ledger-level) with their log index.
    policies: Vec<(u64, &'a VerifiedEvent)>,
    /// Task events by id, with their index and envelope digest.
    by_id: HashMap<EventId, (u64, &'a Event, Digest)>,
    /// Delegations, looked up for every action.
    delegations: Vec<(u64, &'a Event, &'a DelegationGranted)>,
}

impl<'a> Task<'a> {
    pub(super) fn new(
        events: Vec<(u64, &'a VerifiedEvent)>,
        policies: Vec<(u64, &'a VerifiedEvent)>,
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
        };
        task.delegations = task.of(|b| {
            if let Body::DelegationGranted(d) = b {
                Some(d)
            } else {
                None
            }
        });
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
        self.of(|b| {
            if let Body::TaskOpened(t) = b {
                Some(t)
            } else {
                None
            }
        })
        .into_iter()
        .next()
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
}

fn subset(small: &[String], big: &[String]) -> bool {
    small.iter().all(|s| big.contains(s))
}

/// Fails with the first finding, else passes (or is n/a when there was nothing to check).
fn verdict(
    id: &str,
    checked: usize,
    finding: Option<(Vec<EventId>, String)>,
    pass: &str,
    na: &str,
) -> Check {
    match finding {
        Some((events, why)) => check(id, Status::Fail, &events, why),
        None if checked == 0 => check(id, Status::NotApplicable, &[], na),
        None => check(id, Status::Pass, &[], pass),
    }
}

/// The checks by number, the costliest first (B7, B6, B5, B3 and B2 look things up for every
/// action; the others are light), so that the cores sharing them finish together.
const CHECKS: [(u8, GovernanceCheck); 11] = [
    (7, b7),
    (6, b6),
    (5, b5),
    (3, b3),
    (2, b2),
    (1, b1),
    (4, b4),
    (8, b8),
    (9, b9),
    (10, b10),
    (11, b11),
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
    if !first
        || e.assurance != Assurance::Enforced
        || o.principal.auth_methods.is_empty()
        || o.principal.auth_time > o.confirmed_at
    {
        return check(
            "B1",
            Status::Fail,
            &[e.id],
            "the task does not start from an authenticated, confirmed human intent recorded by an enforcing component",
        );
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

/// The delegation that makes `workload` an actor of the task, if any.
fn delegation_for<'a>(
    t: &Task<'a>,
    workload: &str,
    at: u64,
) -> Option<(u64, &'a Event, &'a DelegationGranted)> {
    t.delegations()
        .iter()
        .copied()
        .find(|(i, _, d)| d.delegatee.id.as_str() == workload && *i < at)
}

fn acting_workload(a: &ActionExecuted) -> Option<&str> {
    a.actor_chain.last().map(String::as_str)
}

fn b2(t: &Task<'_>) -> Check {
    let Some((_, _, o)) = t.opened() else {
        return check(
            "B2",
            Status::NotApplicable,
            &[],
            "no intent to trace actors to",
        );
    };
    let mut checked = 0;
    for (i, e, a) in t.actions() {
        checked += 1;
        let Some(actor) = acting_workload(a) else {
            return check(
                "B2",
                Status::Fail,
                &[e.id],
                "an action has an empty actor chain",
            );
        };
        if a.actor_chain.first() != Some(&o.principal.id) {
            return check(
                "B2",
                Status::Fail,
                &[e.id],
                "an action's actor chain does not start with the task's human principal",
            );
        }
        let Some((_, de, d)) = delegation_for(t, actor, i) else {
            return check(
                "B2",
                Status::Fail,
                &[e.id],
                format!("{actor} acted without a signed delegation"),
            );
        };
        if d.mode == DelegationMode::Impersonation || d.expires_at < a.started_at || d.cross_domain
        {
            return check(
                "B2",
                Status::Fail,
                &[e.id, de.id],
                format!("{actor}'s delegation is impersonation, cross-domain or expired"),
            );
        }
        let from_principal =
            matches!(&d.delegator, Delegator::Human { id } if id == &o.principal.id);
        let from_delegate = matches!(&d.delegator, Delegator::Workload { id } if delegation_for(t, id.as_str(), i).is_some());
        if !from_principal && !from_delegate {
            return check(
                "B2",
                Status::Fail,
                &[e.id, de.id],
                format!(
                    "{actor}'s delegation does not trace back to {}",
                    o.principal.id
                ),
            );
        }
    }
    verdict(
        "B2",
        checked,
        None,
        "every acting workload holds a delegation tracing back to the human principal",
        "no actions",
    )
}

/// The allow decision covering an action: cited by it, same task, same action, covering its
/// resources, still valid when it started, logged before it.
fn covering<'a>(
    t: &Task<'a>,
    index: u64,
    a: &ActionExecuted,
) -> Option<(u64, &'a Event, &'a PolicyDecision)> {
    a.decisions
        .iter()
        .filter_map(|r| t.find(r))
        .find_map(|(di, de)| match &de.body {
            Body::PolicyDecision(d)
                if di < index
                    && d.effect == Effect::Allow
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

/// Credentials issued in the task, by id (the first issuance of an id counts).
fn credentials_by_id<'a>(t: &Task<'a>) -> HashMap<&'a str, (u64, &'a Event, &'a CredentialIssued)> {
    let mut map = HashMap::new();
    for (i, e, c) in t.credentials() {
        map.entry(c.credential.id.as_str()).or_insert((i, e, c));
    }
    map
}

fn b5(t: &Task<'_>) -> Check {
    let creds = credentials_by_id(t);
    let mut revocations: HashMap<&str, Vec<(u64, &CredentialRevoked)>> = HashMap::new();
    for (i, _, r) in t.revocations() {
        revocations
            .entry(r.credential_id.as_str())
            .or_default()
            .push((i, r));
    }
    let actions = t.actions();
    let finding = actions.iter().find_map(|&(i, e, a)| {
        let Some(&(ci, ce, c)) = creds.get(a.credential_id.as_str()) else {
            return Some((
                vec![e.id],
                format!("credential {} was not issued in this task", a.credential_id),
            ));
        };
        let cred = &c.credential;
        let holder_ok = acting_workload(a) == Some(c.holder.id.as_str());
        let live = cred.not_before <= a.started_at && a.started_at <= cred.expires_at;
        let revoked_before = revocations.get(cred.id.as_str()).is_some_and(|rs| {
            rs.iter()
                .any(|&(ri, r)| ri < i && r.effective_at <= a.started_at)
        });
        let ttl_ok = t.find(&c.decision).is_some_and(|(_, de)| match &de.body {
            Body::PolicyDecision(d) => d
                .obligations
                .max_credential_ttl_ms
                .is_none_or(|max| cred.expires_at.saturating_sub(cred.not_before) <= max),
            _ => false,
        });
        let why = if ci > i {
            "was issued after the action"
        } else if !holder_ok {
            "was issued to another holder"
        } else if !live {
            "was not valid (expired or not yet valid) when the action started"
        } else if revoked_before {
            "was revoked before the action"
        } else if !ttl_ok {
            "lives longer than the decision allows"
        } else {
            return None;
        };
        Some((vec![e.id, ce.id], format!("credential {} {why}", cred.id)))
    });
    verdict(
        "B5",
        actions.len(),
        finding,
        "every action used a live, unrevoked credential issued in this task to its holder, within the allowed TTL",
        "no actions",
    )
}

fn b6(t: &Task<'_>) -> Check {
    let Some((_, oe, o)) = t.opened() else {
        return check("B6", Status::NotApplicable, &[], "no intent");
    };
    let creds = credentials_by_id(t);
    let actions = t.actions();
    let finding = actions.iter().find_map(|(i, e, a)| {
        let cred = creds.get(a.credential_id.as_str()).map(|(_, _, c)| c);
        let decision = covering(t, *i, a).map(|(_, _, d)| d);
        let delegation = acting_workload(a)
            .and_then(|w| delegation_for(t, w, *i))
            .map(|(_, _, d)| d);
        let (Some(c), Some(d), Some(g)) = (cred, decision, delegation) else {
            return None;
        };
        let chain = [
            (
                subset(&a.operation.permissions_used, &c.credential.scopes),
                "permissions used exceed the credential's scopes",
            ),
            (
                subset(&c.credential.scopes, &d.obligations.granted_scope),
                "the credential's scopes exceed the decision's grant",
            ),
            (
                subset(&d.obligations.granted_scope, &g.scope),
                "the decision's grant exceeds the delegation",
            ),
            (
                subset(&g.scope, &o.scope_ceiling),
                "the delegation exceeds the intent's ceiling",
            ),
        ];
        chain
            .iter()
            .find(|(ok, _)| !ok)
            .map(|(_, why)| (vec![e.id, oe.id], (*why).to_owned()))
    });
    verdict(
        "B6",
        actions.len(),
        finding,
        "scope only narrows: used ⊆ credential ⊆ grant ⊆ delegation ⊆ intent ceiling",
        "no actions",
    )
}

fn b7(t: &Task<'_>) -> Check {
    let Some((_, _, o)) = t.opened() else {
        return check("B7", Status::NotApplicable, &[], "no intent");
    };
    let mut checked = 0;
    for (i, e, a) in t.actions() {
        let Some((_, _, d)) = covering(t, i, a) else {
            continue;
        };
        let Some(req) = &d.obligations.approval else {
            continue;
        };
        checked += 1;
        let resolved = a
            .approval
            .as_ref()
            .and_then(|r| t.find(r))
            .and_then(|(ri, re)| match &re.body {
                Body::ApprovalResolved(r) if ri < i => Some((re, r)),
                _ => None,
            });
        let Some((re, r)) = resolved else {
            return check(
                "B7",
                Status::Fail,
                &[e.id],
                "the decision required approval, but the action cites no granted approval",
            );
        };
        let requested = t.find(&r.request).and_then(|(_, q)| match &q.body {
            Body::ApprovalRequested(q) => Some(q),
            _ => None,
        });
        let exact = requested.is_some_and(|q| {
            q.action_digest == action_digest(&a.operation.name, &a.operation.resources)
        });
        let human = !r.approver.id.starts_with("spiffe://")
            && !a.actor_chain.iter().skip(1).any(|w| w == &r.approver.id);
        let distinct = !req.separation_of_duties || r.approver.id != o.principal.id;
        let ok = r.outcome == ApprovalOutcome::Granted
            && r.approver.roles.contains(&req.role)
            && r.valid_until >= a.started_at;
        let why = if !ok {
            "the approval was not granted by the required role, or lapsed"
        } else if !human {
            "the approval was given by a workload (the agent approved its own action)"
        } else if !distinct {
            "the requester approved their own action (separation of duties)"
        } else if !exact {
            "the approval was for another action or other resources"
        } else {
            continue;
        };
        return check("B7", Status::Fail, &[e.id, re.id], why);
    }
    verdict(
        "B7",
        checked,
        None,
        "every action that required approval has one from a different human with the role, for the exact action",
        "no action required approval",
    )
}

fn b8(t: &Task<'_>) -> Check {
    let denies: Vec<_> = t
        .decisions()
        .into_iter()
        .filter(|(_, _, d)| d.effect == Effect::Deny)
        .collect();
    let finding = t.actions().into_iter().find_map(|(i, e, a)| {
        denies
            .iter()
            .find(|(di, _, d)| {
                *di < i
                    && d.request.action == a.operation.name
                    && a.operation
                        .resources
                        .iter()
                        .any(|r| d.request.resources.contains(r))
            })
            .map(|(_, de, _)| {
                (
                    vec![e.id, de.id],
                    format!("{} ran after a deny for it", a.operation.name),
                )
            })
    });
    verdict(
        "B8",
        denies.len(),
        finding,
        "no action ran after a deny for it",
        "no deny decisions",
    )
}

fn b9(t: &Task<'_>) -> Check {
    let signals = t.of(|b| {
        if let Body::TrustSignal(s) = b {
            Some(s)
        } else {
            None
        }
    });
    let creds = t.credentials();
    let revocations = t.revocations();
    let actions = t.actions();
    let principal = t.opened().map(|(_, _, o)| o.principal.id.as_str());
    let mut checked = 0;
    for (si, se, s) in &signals {
        // Credentials the signal concerns: by id, by holder, or all of them for the principal.
        let concerned = |c: &CredentialIssued| {
            c.credential.id == s.subject
                || c.holder.id.as_str() == s.subject
                || principal == Some(s.subject.as_str())
        };
        for (_, ce, c) in creds.iter().filter(|(ci, _, c)| ci < si && concerned(c)) {
            checked += 1;
            let revoked = revocations
                .iter()
                .any(|(ri, _, r)| ri > si && r.credential_id == c.credential.id);
            let used_after = actions
                .iter()
                .any(|(ai, _, a)| ai > si && a.credential_id == c.credential.id);
            if !revoked || used_after {
                let why = format!(
                    "credential {} was not revoked after the trust signal, or was used again",
                    c.credential.id
                );
                return check("B9", Status::Fail, &[se.id, ce.id], why);
            }
        }
    }
    verdict(
        "B9",
        checked,
        None,
        "credentials affected by trust signals were revoked and not used again",
        "no trust signals affecting credentials",
    )
}

fn b10(t: &Task<'_>) -> Check {
    let closed = t.of(|b| {
        if let Body::TaskClosed(c) = b {
            Some(c)
        } else {
            None
        }
    });
    let Some((ci, ce, _)) = closed.first() else {
        return check("B10", Status::Fail, &[], "the task was never closed");
    };
    let revocations = t.revocations();
    let outliving: Vec<EventId> = t
        .credentials()
        .into_iter()
        .filter(|(_, _, c)| {
            c.credential.expires_at > ce.time
                && !revocations
                    .iter()
                    .any(|(ri, _, r)| ri < ci && r.credential_id == c.credential.id)
        })
        .map(|(_, e, _)| e.id)
        .collect();
    if outliving.is_empty() {
        check(
            "B10",
            Status::Pass,
            &[ce.id],
            "the task closed and every credential was revoked or had expired",
        )
    } else {
        check(
            "B10",
            Status::Fail,
            &outliving,
            "a credential outlived the task: neither revoked nor expired at close",
        )
    }
}

fn b11(t: &Task<'_>) -> Check {
    let overrides = t.of(|b| {
        if let Body::Override(o) = b {
            Some(o)
        } else {
            None
        }
    });
    let requests: HashMap<EventId, EventId> = t
        .of(|b| {
            if let Body::ApprovalRequested(q) = b {
                Some(q)
            } else {
                None
            }
        })
        .into_iter()
        .map(|(_, e, q)| (e.id, q.decision.id))
        .collect();
    let finding = overrides.iter().find_map(|(_, oe, _)| {
        let approved = t
            .of(|b| {
                if let Body::ApprovalResolved(r) = b {
                    Some(r)
                } else {
                    None
                }
            })
            .iter()
            .any(|(_, _, r)| {
                r.outcome == ApprovalOutcome::Granted && requests.get(&r.request.id) == Some(&oe.id)
            });
        (!approved).then(|| {
            (
                vec![oe.id],
                "an override has no granted post-hoc approval".to_owned(),
            )
        })
    });
    verdict(
        "B11",
        overrides.len(),
        finding,
        "every override carries a granted post-hoc approval",
        "no overrides",
    )
}
