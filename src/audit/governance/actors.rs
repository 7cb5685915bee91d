//! B2 (every actor traces back to the human through signed delegations) and B6 (scope only
//! narrows along that path).

use std::collections::HashSet;

use super::{Finding, Task, covering, subset, verdict};
use crate::audit::{Check, Status, check};
use crate::event::*;

/// The longest delegation path B2 follows (human → workload → … → acting workload). A
/// deeper path fails: real deployments delegate a few hops.
pub(super) const MAX_DELEGATION_HOPS: usize = 16;

/// The most delegations one action's search examines. Past it B2 fails rather than let a
/// bundle with a huge delegation graph cost the auditor time quadratic in its size.
pub(super) const MAX_DELEGATIONS_EXAMINED: usize = 4096;

/// Delegations from the acting workload's back to the one the human signed.
type Path<'a> = Vec<(u64, &'a Event, &'a DelegationGranted)>;

pub(super) fn acting_workload(a: &ActionExecuted) -> Option<&str> {
    a.actor_chain.last().map(String::as_str)
}

/// Why a delegation cannot carry an action that started at `at`, if it cannot.
fn hop_problem(d: &DelegationGranted, at: u64) -> Option<&'static str> {
    if d.mode == DelegationMode::Impersonation {
        Some("impersonation")
    } else if d.cross_domain {
        Some("cross-domain")
    } else if d.expires_at < at {
        Some("expired")
    } else {
        None
    }
}

/// A search for a delegation path: the human it must reach, the action's start time, and
/// the workloads already tried (each is expanded once, which bounds the search).
struct Search<'t, 'a> {
    task: &'t Task<'a>,
    human: &'t str,
    at: u64,
    tried: HashSet<&'a str>,
    examined: usize,
}

impl<'a> Search<'_, 'a> {
    /// A path of valid delegations, each logged before `before`, from `workload` back to the
    /// human; else the first reason none was found.
    fn trace(&mut self, workload: &str, before: u64, hops: usize) -> Result<Path<'a>, Finding> {
        let mut why: Option<Finding> = None;
        if hops > MAX_DELEGATION_HOPS {
            return Err((
                vec![],
                format!("the delegation path is longer than {MAX_DELEGATION_HOPS} hops"),
            ));
        }
        let task = self.task;
        for &(i, e, d) in task
            .delegations_to(workload)
            .iter()
            .filter(|h| h.0 < before)
        {
            self.examined += 1;
            if self.examined > MAX_DELEGATIONS_EXAMINED {
                let why = format!(
                    "more than {MAX_DELEGATIONS_EXAMINED} delegations to search for {workload}'s path"
                );
                return Err((vec![], why));
            }
            if let Some(bad) = hop_problem(d, self.at) {
                why.get_or_insert((vec![e.id], format!("{workload}'s delegation is {bad}")));
                continue;
            }
            let parent = match &d.delegator {
                Delegator::Human { id } if id == self.human => return Ok(vec![(i, e, d)]),
                Delegator::Human { id } => {
                    let found = (vec![e.id], format!("{workload} was delegated by {id}"));
                    why.get_or_insert(found);
                    continue;
                }
                Delegator::Workload { id } => id.as_str(),
            };
            if !self.tried.insert(parent) {
                continue;
            }
            match self.trace(parent, i, hops + 1) {
                Ok(mut path) => {
                    path.insert(0, (i, e, d));
                    return Ok(path);
                }
                Err(w) => {
                    why.get_or_insert(w);
                }
            }
        }
        Err(why.unwrap_or_else(|| {
            (
                vec![],
                format!("{workload} acted without a signed delegation"),
            )
        }))
    }
}

/// The delegation path that makes the acting workload of action `a` (logged at `index`) an
/// actor of the task, from its own delegation back to the human who opened the task.
pub(super) fn path_of<'a>(
    t: &Task<'a>,
    human: &str,
    index: u64,
    a: &'a ActionExecuted,
) -> Result<Path<'a>, Finding> {
    let Some(actor) = acting_workload(a) else {
        return Err((vec![], "the action has an empty actor chain".to_owned()));
    };
    let mut search = Search {
        task: t,
        human,
        at: a.started_at,
        tried: HashSet::from([actor]),
        examined: 0,
    };
    search.trace(actor, index, 1)
}

/// Why action `a` (logged at `index`) does not trace back to the intent `o`, if it does not.
fn actor_problem<'a>(
    t: &Task<'a>,
    o: &TaskOpened,
    index: u64,
    a: &'a ActionExecuted,
) -> Option<Finding> {
    if a.actor_chain.first() != Some(&o.principal.id) {
        let why = "the action's actor chain does not start with the task's human principal";
        return Some((vec![], why.to_owned()));
    }
    if a.started_at > o.expires_at {
        return Some((
            vec![],
            "the action started after the intent expired".to_owned(),
        ));
    }
    path_of(t, &o.principal.id, index, a).err()
}

pub(super) fn b2(t: &Task<'_>) -> Check {
    let Some((_, _, o)) = t.opened() else {
        return check(
            "B2",
            Status::NotApplicable,
            &[],
            "no intent to trace actors to",
        );
    };
    // DESIGN §4: impersonation is recorded but fails audit, whether or not it was used.
    let impersonation = t
        .delegations()
        .iter()
        .find(|(_, _, d)| d.mode == DelegationMode::Impersonation);
    if let Some((_, e, d)) = impersonation {
        let why = format!("{} was granted impersonation", d.delegatee.id);
        return check("B2", Status::Fail, &[e.id], why);
    }
    let actions = t.actions();
    let finding = actions.iter().find_map(|&(i, e, a)| {
        actor_problem(t, o, i, a).map(|(mut ids, why)| {
            ids.insert(0, e.id);
            (ids, why)
        })
    });
    verdict(
        "B2",
        actions.len(),
        finding,
        "every acting workload holds delegations tracing back to the human principal",
        "no actions",
    )
}

/// Why scope widens somewhere along action `a`'s path, if it does: permissions used ⊆
/// credential scopes ⊆ decision's grant ⊆ each delegation's scope ⊆ its delegator's ⊆ intent
/// ceiling.
fn widening(
    cred: &CredentialIssued,
    grant: &[String],
    path: &Path<'_>,
    a: &ActionExecuted,
    ceiling: &[String],
) -> Option<&'static str> {
    if !a.within_confirmed_scope {
        return Some("the action was recorded as outside the human's confirmed scope");
    }
    if !subset(&a.operation.permissions_used, &cred.credential.scopes) {
        return Some("permissions used exceed the credential's scopes");
    }
    if !subset(&cred.credential.scopes, grant) {
        return Some("the credential's scopes exceed the decision's grant");
    }
    let first = path.first().map_or(&[][..], |(_, _, d)| &d.scope[..]);
    if !subset(grant, first) {
        return Some("the decision's grant exceeds the delegation");
    }
    if path
        .windows(2)
        .any(|w| !subset(&w[0].2.scope, &w[1].2.scope))
    {
        return Some("a delegation exceeds the scope of the one it derives from");
    }
    let last = path.last().map_or(&[][..], |(_, _, d)| &d.scope[..]);
    (!subset(last, ceiling)).then_some("the delegation exceeds the intent's ceiling")
}

pub(super) fn b6(t: &Task<'_>) -> Check {
    let Some((_, oe, o)) = t.opened() else {
        return check("B6", Status::NotApplicable, &[], "no intent");
    };
    let creds = super::credentials::by_id(t);
    let actions = t.actions();
    let finding = actions.iter().find_map(|&(i, e, a)| {
        // Missing links fail B2, B3 or B5; this check judges the links that exist.
        let (_, _, cred) = creds.get(a.credential_id.as_str())?;
        let (_, _, d) = covering(t, i, a)?;
        let path = path_of(t, &o.principal.id, i, a).ok()?;
        let why = widening(
            cred,
            &d.obligations.granted_scope,
            &path,
            a,
            &o.scope_ceiling,
        )?;
        Some((vec![e.id, oe.id], why.to_owned()))
    });
    verdict(
        "B6",
        actions.len(),
        finding,
        "scope only narrows: used ⊆ credential ⊆ grant ⊆ delegations ⊆ intent ceiling",
        "no actions",
    )
}
