//! B2 (every actor of an action traces back to the human through signed delegations, one
//! hop per link of its actor chain) and B6 (scope only narrows along that path, and no
//! workload delegates more than it holds).

use std::collections::BTreeSet;

use super::{At, Finding, Task, first_action, granted_by_all, subset, verdict};
use super::{Check, Status, check};
use crate::event::*;
use crate::trust::Governance;

/// The longest delegation path B2 follows (human → workload → … → acting workload). A
/// longer actor chain fails: real deployments delegate a few hops.
pub(super) const MAX_DELEGATION_HOPS: usize = 16;

/// The most delegations one action's search examines. Past it B2 fails rather than let a
/// bundle with thousands of delegations of one hop cost the auditor time quadratic in its
/// size.
pub(super) const MAX_DELEGATIONS_EXAMINED: usize = 4096;

/// The delegations of an action's path, from the human's to the acting workload's.
pub(super) type Path<'a> = Vec<At<'a, DelegationGranted>>;

/// Why a delegation's delegatee may not be delegated to, judged by its identity: its SPIFFE
/// trust domain is the deployment's own, or a partner's that the trust policy allows this
/// scope. The event's `trust_domain` and `cross_domain` must say the same as the id.
fn domain_problem(gov: &Governance, d: &DelegationGranted) -> Option<String> {
    let id = &d.delegatee.id;
    let Some(domain) = id.trust_domain() else {
        return Some(format!(
            "{id} is not a SPIFFE id, so its trust domain is unknown"
        ));
    };
    if d.delegatee.trust_domain != domain {
        return Some(format!(
            "the delegation says {id} is in trust domain {:?}; its id says {domain:?}",
            d.delegatee.trust_domain
        ));
    }
    let own = gov.is_own_domain(domain);
    if d.cross_domain == own {
        return Some(format!(
            "the delegation says cross_domain {}, but {domain} is {} trust domain",
            d.cross_domain,
            if own {
                "the deployment's own"
            } else {
                "another"
            }
        ));
    }
    match gov.partner_scopes(domain) {
        _ if own => None,
        None => Some(format!(
            "{id} is in {domain}, a trust domain the trust policy names no partner for"
        )),
        Some(allowed) if !subset(&d.scope, allowed) => Some(format!(
            "the delegation gives partner {domain} more than the trust policy allows it"
        )),
        Some(_) => None,
    }
}

/// Why the signer of a delegation may not grant it: a human's authority is passed on only
/// by an enforcing component (the front door, the identity provider), never by a workload's
/// own word; a workload's, by that workload itself or an enforcing component.
fn signer_problem(d: At<'_, DelegationGranted>) -> Option<String> {
    let (e, enforced) = (d.event, d.event.assurance == Assurance::Enforced);
    match &d.body.delegator {
        Delegator::Human { id } if !enforced => Some(format!(
            "{} (self-reported) signed a delegation on behalf of the human {id}",
            e.emitter
        )),
        Delegator::Workload { id } if !enforced && e.emitter != *id => Some(format!(
            "{} signed a delegation on behalf of {id}, which it is not",
            e.emitter
        )),
        _ => None,
    }
}

/// Why delegation `d` cannot carry an action that started at `at` by `instance` (for the
/// acting workload's own delegation), if it cannot.
fn hop_problem(
    gov: &Governance,
    d: At<'_, DelegationGranted>,
    at: Timestamp,
    instance: Option<&str>,
) -> Option<String> {
    let b = d.body;
    if b.mode == DelegationMode::Impersonation {
        Some("is impersonation".to_owned())
    } else if b.expires_at <= at {
        Some("had expired when the action started".to_owned())
    } else if d.event.time > at {
        // Authority that precedes an action includes the delegation: logged before is
        // necessary, never enough.
        Some("was granted after the action started".to_owned())
    } else if instance.is_some_and(|i| i != b.delegatee.instance) {
        Some(format!(
            "names instance {}, not the instance that acted",
            b.delegatee.instance
        ))
    } else {
        domain_problem(gov, b).or_else(|| signer_problem(d))
    }
}

/// The delegation path of action `a` (logged at `index`): for each link of its actor chain
/// (the human, then each workload), a valid delegation from one to the next, each logged
/// before the one it supports and the first before the action. Several delegations of one
/// hop: the first valid one counts.
pub(super) fn path_of<'a>(
    t: &Task<'a>,
    index: u64,
    a: &ActionExecuted,
) -> Result<Path<'a>, Finding> {
    let chain = &a.actor_chain;
    let mut path = Vec::with_capacity(chain.len());
    let (mut before, mut examined) = (index, 0);
    for k in (1..chain.len()).rev() {
        // The first hop is the human's: looked up under the principal's id as the intent
        // spells it (B2 requires the chain to start with that identity).
        let from = match t.principal() {
            Some(p) if k == 1 => p,
            _ => chain[k - 1].as_str(),
        };
        let to = chain[k].as_str();
        let instance = (k == chain.len() - 1).then_some(a.instance.as_str());
        let mut why: Option<Finding> = None;
        let mut found = None;
        for &d in t.hop(k == 1, from, to).iter().filter(|d| d.index < before) {
            examined += 1;
            if examined > MAX_DELEGATIONS_EXAMINED {
                let why = format!(
                    "more than {MAX_DELEGATIONS_EXAMINED} delegations to search for the action's path"
                );
                return Err((vec![], why));
            }
            match hop_problem(t.gov, d, a.started_at, instance) {
                Some(bad) => {
                    why.get_or_insert((vec![d.event.id], format!("{to}'s delegation {bad}")));
                }
                None => {
                    found = Some(d);
                    break;
                }
            }
        }
        let Some(d) = found else {
            return Err(why.unwrap_or_else(|| {
                (
                    vec![],
                    format!("{to} acted without a signed delegation from {from}"),
                )
            }));
        };
        before = d.index;
        path.push(d);
    }
    path.reverse();
    Ok(path)
}

/// B2 for one action, given the task's intent.
pub(super) fn b2_action(
    t: &Task<'_>,
    o: &TaskOpened,
    index: u64,
    a: &ActionExecuted,
) -> Option<Finding> {
    let why = if !a.actor_chain.first().is_some_and(|h| t.is_principal(h)) {
        "the action's actor chain does not start with the task's human principal"
    } else if a.actor_chain.len() < 2 {
        "the action's actor chain names no acting workload"
    } else if a.actor_chain.len() > MAX_DELEGATION_HOPS + 1 {
        "the action's actor chain is longer than 16 delegation hops"
    } else if a.started_at < o.confirmed_at {
        "the action started before the human confirmed the intent"
    } else if a.started_at >= o.expires_at {
        "the action started after the intent expired"
    } else {
        return path_of(t, index, a).err();
    };
    Some((vec![], why.to_owned()))
}

pub(super) fn b2(t: &Task<'_>) -> Check {
    let Some(o) = t.opened else {
        return check(
            "B2",
            Status::NotApplicable,
            &[],
            "no intent to trace actors to",
        );
    };
    // The event model: impersonation is recorded but fails audit, whether or not it was used.
    let impersonation = t
        .delegations
        .iter()
        .find(|d| d.body.mode == DelegationMode::Impersonation);
    if let Some(d) = impersonation {
        let why = format!("{} was granted impersonation", d.body.delegatee.id);
        return check("B2", Status::Fail, &[d.event.id], why);
    }
    let finding = first_action(t, |a| b2_action(t, o.body, a.index, a.body));
    verdict(
        "B2",
        t.actions.len(),
        finding,
        "every actor of every action holds a delegation from the one before it, back to the human principal",
        "no actions",
    )
}

/// Why scope widens somewhere along action `a`'s path, if it does: permissions used ⊆
/// credential scopes ⊆ decision's grant ⊆ the acting workload's delegation ⊆ … ⊆ the
/// human's delegation ⊆ intent ceiling.
fn widening(
    cred: &CredentialIssued,
    grant: &[String],
    path: &Path<'_>,
    a: &ActionExecuted,
    ceiling: &[String],
) -> Option<&'static str> {
    fn scope<'a>(d: Option<&At<'a, DelegationGranted>>) -> &'a [String] {
        d.map_or(&[], |d| &d.body.scope)
    }
    if !a.within_confirmed_scope {
        Some("the action was recorded as outside the human's confirmed scope")
    } else if !subset(&a.operation.permissions_used, &cred.credential.scopes) {
        Some("permissions used exceed the credential's scopes")
    } else if !subset(&cred.credential.scopes, grant) {
        Some("the credential's scopes exceed the decision's grant")
    } else if !subset(grant, scope(path.last())) {
        Some("the decision's grant exceeds the delegation")
    } else if path
        .windows(2)
        .any(|w| !subset(&w[1].body.scope, &w[0].body.scope))
    {
        Some("a delegation exceeds the scope of the one it derives from")
    } else if !subset(scope(path.first()), ceiling) {
        Some("the delegation exceeds the intent's ceiling")
    } else {
        None
    }
}

/// B6 for one action: judged only where B2, B3 and B5 found the links.
pub(super) fn b6_action(
    t: &Task<'_>,
    o: &TaskOpened,
    index: u64,
    a: &ActionExecuted,
) -> Option<Finding> {
    let cred = t.credential_by_id.get(a.credential_id.as_str())?;
    let grant = granted_by_all(t, index, a)?;
    let path = path_of(t, index, a).ok()?;
    let why = widening(cred.body, &grant, &path, a, &o.scope_ceiling)?;
    Some((vec![], why.to_owned()))
}

/// A workload delegating scope that no delegation to it, logged before, gave it: a workload
/// may sub-delegate only what it holds, whether or not the sub-delegation is used.
fn delegates_more_than_held(t: &Task<'_>) -> Option<Finding> {
    t.delegations.iter().find_map(|d| {
        let Delegator::Workload { id } = &d.body.delegator else {
            return None;
        };
        let held: BTreeSet<&String> = t
            .delegations_to(id.as_str())
            .iter()
            .filter(|h| h.index < d.index)
            .flat_map(|h| &h.body.scope)
            .collect();
        let extra = d.body.scope.iter().find(|s| !held.contains(s))?;
        Some((
            vec![d.event.id],
            format!("{id} delegated {extra:?}, which it did not hold"),
        ))
    })
}

pub(super) fn b6(t: &Task<'_>) -> Check {
    let Some(o) = t.opened else {
        return check("B6", Status::NotApplicable, &[], "no intent");
    };
    let finding = delegates_more_than_held(t).or_else(|| {
        first_action(t, |a| {
            b6_action(t, o.body, a.index, a.body).map(|(_, why)| (vec![o.event.id], why))
        })
    });
    verdict(
        "B6",
        t.actions.len(),
        finding,
        "scope only narrows: used ⊆ credential ⊆ grant ⊆ delegations ⊆ intent ceiling",
        "no actions",
    )
}
