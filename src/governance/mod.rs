//! The governance judge: checks B1–B11 (`docs/audit-checks.md`) over the verified events of
//! one task, under the governance settings of the trust policy. The auditor runs them on a
//! finished task (`crate::audit`); the runtime gate asks the same rules about one action
//! before it runs (`crate::gate`). The attacker model they answer is in
//! `docs/threat-model.md` ("Governance").
//!
//! Each check looks at the events A1 verified, in log order. A check with nothing to look at
//! is "n/a"; one that finds a violation fails with the events that show it. The checks that
//! judge actions do so one action at a time (`b2_action`, `b3_action`, …): what an action
//! needs of the events logged before it, so that the same rules can judge an action that is
//! about to run.

mod action;
mod actors;
mod approval;
mod check;
mod credentials;
mod identities;
mod intent;

use std::borrow::Cow;
use std::collections::HashMap;

pub(crate) use self::action::{Breach, Judge};
pub(crate) use self::approval::{Spent, spend};
pub(crate) use self::credentials::{concerns, reports_holder_compromised};

pub(crate) use self::check::check;
pub use self::check::{Check, Status};
use crate::event::*;
use crate::trust::{Governance, TierProfile};

/// A body of one kind with the event that carries it and its log index.
#[derive(Debug)]
pub(crate) struct At<'a, T> {
    pub index: u64,
    pub event: &'a Event,
    pub body: &'a T,
}

// Derived `Clone` would ask `T: Clone`; the fields are references and an index.
impl<T> Clone for At<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for At<'_, T> {}

/// An event as the checks see it: where the log holds it, the event, and the digest of its
/// signed envelope (what references cite).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Logged<'a> {
    pub index: u64,
    pub event: &'a Event,
    pub digest: Digest,
    /// The latest it can have entered the log, by signed checkpoints, where known.
    pub logged_by: Option<Timestamp>,
}

/// Who delegates in a hop: the human (the first hop) or a workload, by id.
type Hop<'a> = (bool, &'a str, &'a str);

/// The task's events, indexed for the checks. Lookups by id and the per-kind lists are built
/// once, so a bundle of any size is checked in time linear in its events.
pub(crate) struct Task<'a> {
    /// What the trust policy requires.
    gov: &'a Governance,
    /// The identity rules' answers for the task's people and actors.
    ids: identities::Identities<'a>,
    /// Task events in log order.
    events: Vec<Logged<'a>>,
    /// Registered policies (ledger-level), in log order.
    policies: Vec<Logged<'a>>,
    /// Task events by id, with their index and envelope digest.
    by_id: HashMap<EventId, (u64, &'a Event, Digest)>,
    /// The task's (first) intent.
    opened: Option<At<'a, TaskOpened>>,
    delegations: Vec<At<'a, DelegationGranted>>,
    /// Delegations by (delegator is the human, delegator id, delegatee id), in log order.
    hops: HashMap<Hop<'a>, Vec<At<'a, DelegationGranted>>>,
    /// Delegations by delegatee, in log order.
    delegations_to: HashMap<&'a str, Vec<At<'a, DelegationGranted>>>,
    decisions: Vec<At<'a, PolicyDecision>>,
    /// Decisions by the action they were asked for, in log order.
    decisions_by_action: HashMap<&'a str, Vec<At<'a, PolicyDecision>>>,
    /// Actions that ran (whatever their outcome); blocked attempts are not actions.
    actions: Vec<At<'a, ActionExecuted>>,
    /// Attempts the runtime gate blocked: evidence, but no action (no credential used, no
    /// approval spent).
    attempts: Vec<At<'a, ActionExecuted>>,
    credentials: Vec<At<'a, CredentialIssued>>,
    /// The first issuance of each credential id.
    credential_by_id: HashMap<&'a str, At<'a, CredentialIssued>>,
    revocations: HashMap<&'a str, Vec<At<'a, CredentialRevoked>>>,
    signals: Vec<At<'a, TrustSignal>>,
    /// Approval resolutions by the id of the request they answer, in log order.
    resolutions: HashMap<EventId, Vec<At<'a, ApprovalResolved>>>,
    closed: Option<At<'a, TaskClosed>>,
}

/// Every body of one kind among `events`, in log order.
fn of<'a, T>(events: &[Logged<'a>], pick: fn(&Body) -> Option<&T>) -> Vec<At<'a, T>> {
    events
        .iter()
        .filter_map(|&Logged { index, event, .. }| {
            pick(&event.body).map(|body| At { index, event, body })
        })
        .collect()
}

impl<'a> Task<'a> {
    /// The checks' view of one task: its events and the registered policies, each in log
    /// order.
    pub(crate) fn new(
        events: Vec<Logged<'a>>,
        policies: Vec<Logged<'a>>,
        gov: &'a Governance,
    ) -> Self {
        let by_id = events
            .iter()
            .map(|l| (l.event.id, (l.index, l.event, l.digest)))
            .collect();
        let delegations = of(&events, Body::as_delegation_granted);
        let mut hops: HashMap<Hop<'a>, Vec<_>> = HashMap::new();
        let mut delegations_to: HashMap<&str, Vec<_>> = HashMap::new();
        let opened = of(&events, Body::as_task_opened).first().copied();
        for &d in &delegations {
            let (human, from) = match &d.body.delegator {
                // A delegation from the task's human, however spelt, is keyed under the
                // intent's spelling; another human's is keyed as written (and never found).
                Delegator::Human { id } => match opened.map(|o| &o.body.principal) {
                    Some(p) if gov.same_identity(id, &p.id, Some(&p.issuer)) => {
                        (true, p.id.as_str())
                    }
                    _ => (true, id.as_str()),
                },
                Delegator::Workload { id } => (false, id.as_str()),
            };
            let to = d.body.delegatee.id.as_str();
            hops.entry((human, from, to)).or_default().push(d);
            delegations_to.entry(to).or_default().push(d);
        }
        let decisions = of(&events, Body::as_policy_decision);
        let mut decisions_by_action: HashMap<&str, Vec<_>> = HashMap::new();
        for &d in &decisions {
            decisions_by_action
                .entry(d.body.request.action.as_str())
                .or_default()
                .push(d);
        }
        let credentials = of(&events, Body::as_credential_issued);
        let mut credential_by_id = HashMap::new();
        for &c in &credentials {
            credential_by_id
                .entry(c.body.credential.id.as_str())
                .or_insert(c);
        }
        let mut revocations: HashMap<&str, Vec<_>> = HashMap::new();
        for r in of(&events, Body::as_credential_revoked) {
            revocations
                .entry(r.body.credential_id.as_str())
                .or_default()
                .push(r);
        }
        let mut resolutions: HashMap<EventId, Vec<_>> = HashMap::new();
        for r in of(&events, Body::as_approval_resolved) {
            resolutions.entry(r.body.request.id).or_default().push(r);
        }
        Self {
            ids: identities::Identities::new(&events, gov),
            gov,
            opened,
            closed: of(&events, Body::as_task_closed).first().copied(),
            decisions,
            decisions_by_action,
            actions: of(&events, Body::as_action_executed)
                .into_iter()
                .filter(|a| a.body.outcome != ActionOutcome::Blocked)
                .collect(),
            attempts: of(&events, Body::as_action_executed)
                .into_iter()
                .filter(|a| a.body.outcome == ActionOutcome::Blocked)
                .collect(),
            signals: of(&events, Body::as_trust_signal),
            by_id,
            delegations,
            hops,
            delegations_to,
            credentials,
            credential_by_id,
            revocations,
            resolutions,
            events,
            policies,
        }
    }

    /// The event a reference names, if it is in the task with that digest.
    fn find(&self, r: &EventRef) -> Option<(u64, &'a Event)> {
        self.by_id
            .get(&r.id)
            .filter(|(_, _, d)| *d == r.digest)
            .map(|(i, e, _)| (*i, *e))
    }

    /// The body of kind `pick` a reference names, in this task.
    fn find_body<T>(&self, r: &EventRef, pick: fn(&'a Body) -> Option<&'a T>) -> Option<At<'a, T>> {
        let (index, event) = self.find(r)?;
        pick(&event.body).map(|body| At { index, event, body })
    }

    /// The granted resolution `cited` names, with the request it answers and the allow
    /// decision that request is about, all of this task: an "approval" of a deny, or of
    /// nothing, approves nothing. Where each is logged is for the caller to judge.
    fn granted_approval(
        &self,
        cited: Option<&EventRef>,
    ) -> Option<(
        At<'a, ApprovalResolved>,
        At<'a, ApprovalRequested>,
        At<'a, PolicyDecision>,
    )> {
        let r = self
            .find_body(cited?, Body::as_approval_resolved)
            .filter(|r| r.body.outcome == ApprovalOutcome::Granted)?;
        let q = self.find_body(&r.body.request, Body::as_approval_requested)?;
        let d = self
            .find_body(&q.body.decision, Body::as_policy_decision)
            .filter(|d| d.body.effect == Effect::Allow)?;
        Some((r, q, d))
    }

    /// A reference to the task's event with this id.
    pub(crate) fn reference(&self, id: EventId) -> Option<EventRef> {
        self.by_id
            .get(&id)
            .map(|&(_, e, digest)| e.reference(digest))
    }

    /// References to every decision of the task, in log order.
    pub(crate) fn decision_refs(&self) -> Vec<EventRef> {
        self.decisions
            .iter()
            .filter_map(|d| self.reference(d.event.id))
            .collect()
    }

    /// References to every granted approval resolution of the task, in log order.
    pub(crate) fn granted_approvals(&self) -> Vec<EventRef> {
        self.events
            .iter()
            .filter(|l| {
                matches!(&l.event.body, Body::ApprovalResolved(r) if r.outcome == ApprovalOutcome::Granted)
            })
            .map(|l| l.event.reference(l.digest))
            .collect()
    }

    /// The human principal of the task's intent.
    fn principal(&self) -> Option<&'a str> {
        self.opened.map(|o| o.body.principal.id.as_str())
    }

    /// Whether `id`, authenticated by `issuer` where the event records one, is a person by
    /// the trust policy's identity rules.
    fn is_human(&self, id: &str, issuer: Option<&str>) -> bool {
        self.ids.is_human(self.gov, id, issuer)
    }

    /// Whether `a` and `b` are possibly one person (where a difference grants something).
    fn maybe_same_person(&self, a: &str, b: &str) -> bool {
        self.ids.maybe_same_person(a, b)
    }

    /// Whether `id` is the task's human principal, compared in canonical form under the
    /// identity rules of the principal's identity provider.
    fn is_principal(&self, id: &str) -> bool {
        self.opened.is_some_and(|o| {
            let p = &o.body.principal;
            self.gov.same_identity(id, &p.id, Some(&p.issuer))
        })
    }

    /// Whether two actor chains name the same actors: the human in canonical form, the
    /// workloads exactly.
    fn same_chain(&self, a: &[String], b: &[String]) -> bool {
        a.len() == b.len()
            && a.first().zip(b.first()).is_some_and(|(x, y)| {
                self.opened.map_or(x == y, |o| {
                    self.gov.same_identity(x, y, Some(&o.body.principal.issuer))
                })
            })
            && a[1..] == b[1..]
    }

    /// The tier profile of the task's risk tier (the strictest without an intent, which
    /// fails B1 anyway).
    fn tier(&self) -> &'a TierProfile {
        self.gov
            .tier(self.opened.map_or(Level::Critical, |o| o.body.risk_tier))
    }

    /// Delegations of one hop, in log order.
    fn hop<'s>(
        &'s self,
        from_human: bool,
        from: &'s str,
        to: &'s str,
    ) -> &'s [At<'a, DelegationGranted>] {
        // The map is covariant in its key, so it is looked up with keys that live shorter
        // than 'a (the result borrows no longer than they do).
        let hops: &'s HashMap<(bool, &'s str, &'s str), Vec<At<'a, DelegationGranted>>> =
            &self.hops;
        hops.get(&(from_human, from, to)).map_or(&[], Vec::as_slice)
    }

    /// Decisions asked for `action`, in log order.
    fn decisions_for(&self, action: &str) -> &[At<'a, PolicyDecision>] {
        self.decisions_by_action
            .get(action)
            .map_or(&[], Vec::as_slice)
    }

    /// Delegations to `workload`, in log order.
    fn delegations_to(&self, workload: &str) -> &[At<'a, DelegationGranted>] {
        self.delegations_to.get(workload).map_or(&[], Vec::as_slice)
    }

    /// Resolutions answering the request with this id, in log order.
    fn resolutions_of(&self, request: EventId) -> &[At<'a, ApprovalResolved>] {
        self.resolutions.get(&request).map_or(&[], Vec::as_slice)
    }

    /// Revocations of a credential id, in log order.
    fn revocations_of(&self, credential: &str) -> &[At<'a, CredentialRevoked>] {
        self.revocations.get(credential).map_or(&[], Vec::as_slice)
    }
}

/// Each action and blocked attempt of the task, in log order, with the rules it breaks (an
/// attempt judged as if it had run, without spending anything).
pub(crate) fn judge_actions<'a>(t: &Task<'a>) -> Vec<(At<'a, ActionExecuted>, Vec<Breach>)> {
    let judge = Judge::new(t);
    let mut all: Vec<At<'a, ActionExecuted>> =
        t.actions.iter().chain(&t.attempts).copied().collect();
    all.sort_by_key(|a| a.index);
    let mut spent = Spent::new();
    all.into_iter()
        .map(|a| {
            let breaches = judge.action(a.index, a.body, &spent);
            if a.body.outcome != ActionOutcome::Blocked {
                approval::spend(t, a, &mut spent);
            }
            (a, breaches)
        })
        .collect()
}

/// A violation: the events that show it and why.
type Finding = (Vec<EventId>, String);

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

/// The first action for which `judge` finds a violation, with the action's id first.
fn first_action<'a>(
    t: &Task<'a>,
    judge: impl Fn(At<'a, ActionExecuted>) -> Option<Finding>,
) -> Option<Finding> {
    t.actions.iter().find_map(|&a| {
        judge(a).map(|(mut ids, why)| {
            if ids.first() != Some(&a.event.id) {
                ids.insert(0, a.event.id);
            }
            (ids, why)
        })
    })
}

/// The checks by number, the costliest first (B7, B6, B5, B3 and B2 look things up for every
/// action; the others are light), so that the cores sharing them finish together.
const CHECKS: [(u8, GovernanceCheck); 11] = [
    (7, approval::b7),
    (6, actors::b6),
    (5, credentials::b5),
    (3, b3),
    (2, actors::b2),
    (1, intent::b1),
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
pub(crate) fn run(t: &Task<'_>) -> Vec<Check> {
    let mut done =
        crate::parallel::map_each(&CHECKS, t.events.len() >= PARALLEL_MIN, |(n, f)| (*n, f(t)));
    done.sort_by_key(|(n, _)| *n);
    done.into_iter().map(|(_, c)| c).collect()
}

/// Why decision `d` does not cover action `a` (logged at `index`), if it does not: it must
/// be logged before it, an allow, for the task's human principal and the same actor chain
/// (the chain a decision was asked for is the chain that acts: a decision about one agent,
/// or one path of delegation, does not authorise another), the same action, covering its
/// resources, made by the time the action started and still valid then.
fn decision_problem(
    t: &Task<'_>,
    d: At<'_, PolicyDecision>,
    index: u64,
    a: &ActionExecuted,
) -> Option<&'static str> {
    let (e, b) = (d.event, d.body);
    if d.index >= index {
        Some("was logged after the action")
    } else if b.effect != Effect::Allow {
        Some("is a deny")
    } else if !t.is_principal(&b.request.principal) {
        Some("was asked for another human")
    } else if !t.same_chain(&b.request.actor_chain, &a.actor_chain) {
        Some("was asked for another actor chain")
    } else if b.request.action != a.operation.name {
        Some("is for another action")
    } else if !subset(&a.operation.resources, &b.request.resources) {
        Some("does not cover the action's resources")
    } else if e.time > a.started_at {
        Some("was made after the action started")
    } else if b.valid_until < a.started_at {
        Some("had lapsed when the action started")
    } else {
        None
    }
}

/// Every allow decision covering an action (logged at `index`), in the order it cites them.
fn coverings<'a, 'x>(
    t: &'x Task<'a>,
    index: u64,
    a: &'x ActionExecuted,
) -> impl Iterator<Item = At<'a, PolicyDecision>> + 'x {
    a.decisions
        .iter()
        .filter_map(|r| t.find_body(r, Body::as_policy_decision))
        .filter(move |&d| decision_problem(t, d, index, a).is_none())
}

/// The first decision covering an action, in log order (never in the order the action
/// cites them: that order must not change the verdict).
fn covering<'a>(t: &Task<'a>, index: u64, a: &ActionExecuted) -> Option<At<'a, PolicyDecision>> {
    coverings(t, index, a).min_by_key(|d| d.index)
}

/// Whether two resource lists share a resource (an empty list is about every resource).
fn overlap(a: &[String], b: &[String]) -> bool {
    a.is_empty() || b.is_empty() || a.iter().any(|r| b.contains(r))
}

/// Every allow decision of the task that binds action `a` (logged at `index`), cited or
/// not, lapsed or not: logged before it, for the task's human and the same actor chain and
/// action, on a resource the action touches. The action's obligations are the strictest of
/// them all, so a looser decision obtained later for the same operation does not shed what
/// an earlier one required, and the order of citations cannot matter.
///
/// More than [`MAX_DECISIONS_WEIGHED`] decisions for the action's name logged before it is
/// an error (B3 fails the action): a bundle of thousands of decisions for one operation
/// must not cost the auditor time quadratic in its size.
fn binding<'a>(
    t: &Task<'a>,
    index: u64,
    a: &ActionExecuted,
) -> Result<Vec<At<'a, PolicyDecision>>, Finding> {
    let mut found = Vec::new();
    let before = t.decisions_for(&a.operation.name).iter();
    for (examined, d) in before.take_while(|d| d.index < index).enumerate() {
        if examined == MAX_DECISIONS_WEIGHED {
            let why = format!(
                "more than {MAX_DECISIONS_WEIGHED} decisions for {} to weigh before the action",
                a.operation.name
            );
            return Err((vec![], why));
        }
        let r = &d.body.request;
        let binds = d.body.effect == Effect::Allow
            && t.is_principal(&r.principal)
            && t.same_chain(&r.actor_chain, &a.actor_chain)
            && overlap(&a.operation.resources, &r.resources);
        if binds {
            found.push(*d);
        }
    }
    Ok(found)
}

/// The most decisions for one action name that the judge weighs for one action (see
/// [`binding`]).
pub(crate) const MAX_DECISIONS_WEIGHED: usize = 4096;

/// The scope the cited covering decisions all grant (their intersection, so that the order
/// of citations cannot matter; borrowed when one decision covers the action).
fn granted_by_all<'a>(t: &Task<'a>, index: u64, a: &ActionExecuted) -> Option<Cow<'a, [String]>> {
    let mut all = coverings(t, index, a);
    let mut grant = Cow::Borrowed(all.next()?.body.obligations.granted_scope.as_slice());
    for d in all {
        grant
            .to_mut()
            .retain(|s| d.body.obligations.granted_scope.contains(s));
    }
    Some(grant)
}

/// B3 for one action: why no decision covers it, if none does.
pub(super) fn b3_action(t: &Task<'_>, index: u64, a: &ActionExecuted) -> Option<Finding> {
    if let Err(too_many) = binding(t, index, a) {
        return Some(too_many);
    }
    if covering(t, index, a).is_some() {
        return None;
    }
    let cited = a
        .decisions
        .iter()
        .find_map(|r| t.find_body(r, Body::as_policy_decision));
    let why = match cited {
        Some(d) => format!(
            "{} on {:?}: the decision it cites {}",
            a.operation.name,
            a.operation.resources,
            decision_problem(t, d, index, a).unwrap_or("does not cover it")
        ),
        None => format!(
            "{} on {:?} cites no decision of this task",
            a.operation.name, a.operation.resources
        ),
    };
    let ids = cited.map(|d| d.event.id).into_iter().collect();
    Some((ids, why))
}

fn b3(t: &Task<'_>) -> Check {
    let finding = first_action(t, |a| b3_action(t, a.index, a.body));
    verdict(
        "B3",
        t.actions.len(),
        finding,
        "every action is covered by an allow decision made before it started, for the same action and resources, still valid",
        "no actions",
    )
}

/// Why decision `d` is not backed by a policy registration, if it is not: the policy (id,
/// revision, content digest) registered earlier in the log and effective by the decision's
/// time, defining every rule the decision cites.
fn registration_problem(t: &Task<'_>, d: At<'_, PolicyDecision>) -> Option<String> {
    let registrations: Vec<&PolicyRegistered> = t
        .policies
        .iter()
        .filter_map(|p| match &p.event.body {
            Body::PolicyRegistered(r)
                if p.index < d.index
                    && r.policy == d.body.policy
                    && r.effective_from <= d.event.time =>
            {
                Some(r)
            }
            _ => None,
        })
        .collect();
    let p = &d.body.policy;
    if registrations.is_empty() {
        return Some(format!(
            "decision cites {} revision {} (digest {}), not registered earlier in the log",
            p.id, p.revision, p.digest
        ));
    }
    let unknown = d
        .body
        .rule_ids
        .iter()
        .find(|rule| !registrations.iter().any(|r| r.rule_ids.contains(rule)))?;
    Some(format!(
        "decision cites rule {unknown:?}, which {} revision {} does not define",
        p.id, p.revision
    ))
}

fn b4(t: &Task<'_>) -> Check {
    let finding = t
        .decisions
        .iter()
        .find_map(|&d| registration_problem(t, d).map(|why| (vec![d.event.id], why)));
    verdict(
        "B4",
        t.decisions.len(),
        finding,
        "every decision cites a policy version registered earlier with the same content digest, and rules it defines",
        "no decisions",
    )
}

/// The task's refusals, indexed: deny decisions by (action, resource), and denied approvals
/// by the digest of the action they were asked for, each in log order.
pub(crate) struct Denies<'a> {
    decisions: HashMap<(&'a str, &'a str), Vec<(u64, EventId)>>,
    approvals: HashMap<Digest, Vec<(u64, EventId)>>,
}

fn denies<'a>(t: &Task<'a>) -> Denies<'a> {
    let mut decisions: HashMap<(&str, &str), Vec<_>> = HashMap::new();
    for d in t.decisions.iter().filter(|d| d.body.effect == Effect::Deny) {
        for r in &d.body.request.resources {
            let key = (d.body.request.action.as_str(), r.as_str());
            decisions
                .entry(key)
                .or_default()
                .push((d.index, d.event.id));
        }
    }
    let mut approvals: HashMap<Digest, Vec<_>> = HashMap::new();
    for r in t.resolutions.values().flatten() {
        let request = t.find_body(&r.body.request, Body::as_approval_requested);
        if let Some(q) = request.filter(|_| r.body.outcome == ApprovalOutcome::Denied) {
            approvals
                .entry(q.body.action_digest)
                .or_default()
                .push((r.index, r.event.id));
        }
    }
    for list in approvals.values_mut() {
        list.sort_unstable();
    }
    Denies {
        decisions,
        approvals,
    }
}

/// The latest refusal of action `a` logged before `index`: a deny decision for its name and
/// a resource it touches, or a denied approval of exactly it.
fn latest_refusal(denies: &Denies<'_>, index: u64, a: &ActionExecuted) -> Option<(u64, EventId)> {
    let before = |list: &Vec<(u64, EventId)>| {
        let k = list.partition_point(|(x, _)| *x < index);
        k.checked_sub(1).map(|k| list[k])
    };
    let digest = action_digest(&a.operation.name, &a.operation.resources);
    let by_decision = a.operation.resources.iter().filter_map(|r| {
        denies
            .decisions
            .get(&(a.operation.name.as_str(), r.as_str()))
            .and_then(before)
    });
    by_decision
        .chain(denies.approvals.get(&digest).and_then(before))
        .max_by_key(|(i, _)| *i)
}

/// Whether action `a` (at `index`) cites a granted approval of exactly it, logged after
/// `refusal` and before the action, resolved by the time it started, by a human other than
/// the task's principal: the explicit new approval that supersedes a refusal.
fn approved_after(t: &Task<'_>, refusal: u64, index: u64, a: &ActionExecuted) -> bool {
    let digest = action_digest(&a.operation.name, &a.operation.resources);
    t.granted_approval(a.approval.as_ref())
        .is_some_and(|(r, q, _)| {
            let approver = &r.body.approver;
            refusal < r.index
                && r.index < index
                && r.event.time <= a.started_at
                && q.body.action_digest == digest
                && t.is_human(&approver.id, Some(&approver.issuer))
                && t.principal()
                    .is_none_or(|p| !t.maybe_same_person(p, &approver.id))
        })
}

/// B8 for one action: a refusal of it (a deny decision for its name and a resource it
/// touches, or a denied approval of exactly it) logged before it stands, whatever allow
/// decisions came after: only an explicit new approval, granted after the refusal and
/// cited by the action, supersedes it. A looser decision obtained later does not.
fn b8_action(t: &Task<'_>, denies: &Denies<'_>, index: u64, a: &ActionExecuted) -> Option<Finding> {
    let (at, refusal) = latest_refusal(denies, index, a)?;
    if approved_after(t, at, index, a) {
        return None;
    }
    Some((
        vec![refusal],
        format!(
            "{} ran after a refusal of it (a deny, or a denied approval) that no later approval superseded",
            a.operation.name
        ),
    ))
}

fn b8(t: &Task<'_>) -> Check {
    let denies = denies(t);
    let count = denies.decisions.len() + denies.approvals.len();
    let finding = first_action(t, |a| b8_action(t, &denies, a.index, a.body));
    verdict(
        "B8",
        count,
        finding,
        "no action ran after a refusal of it (a deny, or a denied approval) unless a later approval superseded it",
        "no refusals",
    )
}
