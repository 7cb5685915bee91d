//! The revocation feed: every credential issued in a followed task and not revoked, with
//! what would make it due. Causes from events (the task's close, a trust signal) are
//! recorded when the event is applied; causes from time (its expiry, the end of its holder's
//! delegation) are judged when the feed is read. Appending the `CredentialRevoked` that
//! answers one removes it.
//!
//! The predicates are the auditor's: a trust signal concerns a credential as B9 says
//! ([`concerns`], [`reports_holder_compromised`]); a close requires revocation of what had
//! not expired by its time, as B10 says.

use std::collections::BTreeMap;

use super::state::{Held, LiveTask};
use super::{DueCause, DueRevocation};
use crate::event::{Body, CredentialIssued, EventRef, TaskId, Timestamp};
use crate::governance::{concerns, reports_holder_compromised};

/// A credential issued in a followed task and not revoked.
#[derive(Debug, Clone)]
struct Tracked {
    issued: EventRef,
    /// Where its `CredentialIssued` is among the task's held events.
    position: usize,
    issued_at: Timestamp,
    expires_at: Timestamp,
    /// When the last delegation to its holder's instance logged before it ends (`None`:
    /// there was none).
    delegation_end: Option<Timestamp>,
    /// The first event that made it due (a close, a trust signal).
    cause: Option<DueCause>,
}

/// The credentials the feed follows, by task and credential id.
#[derive(Debug, Default)]
pub(crate) struct Credentials {
    tracked: BTreeMap<(TaskId, String), Tracked>,
}

fn issued_body(live: &LiveTask, position: usize) -> Option<&CredentialIssued> {
    live.events.get(position)?.event.body.as_credential_issued()
}

impl Credentials {
    /// Takes in `held`, an event of followed task `task` about to join `live`'s events.
    pub(crate) fn observe(&mut self, task: TaskId, live: &LiveTask, held: &Held) {
        match &held.event.body {
            Body::CredentialIssued(c) => self.issued(task, live, held, c),
            Body::CredentialRevoked(r) => {
                self.tracked.remove(&(task, r.credential_id.clone()));
            }
            Body::TrustSignal(s) => {
                let cause = DueCause::TrustSignal {
                    event: held.event.id,
                };
                for t in self.of_task(task) {
                    let concerned = issued_body(live, t.position)
                        .is_some_and(|c| concerns(live.principal(), s, c));
                    if concerned {
                        t.cause.get_or_insert(cause);
                    }
                }
            }
            Body::TaskClosed(_) => {
                let (at, event) = (held.event.time, held.event.id);
                // What had expired by the close needs no revocation (B10).
                let expired: Vec<(TaskId, String)> = self
                    .tracked
                    .range((task, String::new())..)
                    .take_while(|((k, _), _)| *k == task)
                    .filter(|(_, t)| t.expires_at <= at)
                    .map(|(key, _)| key.clone())
                    .collect();
                for key in expired {
                    self.tracked.remove(&key);
                }
                for t in self.of_task(task) {
                    t.cause.get_or_insert(DueCause::TaskClosed { event });
                }
            }
            _ => {}
        }
    }

    fn issued(&mut self, task: TaskId, live: &LiveTask, held: &Held, c: &CredentialIssued) {
        let key = (task, c.credential.id.clone());
        if self.tracked.contains_key(&key) {
            // A second issuance under the same id: the rules judge the first.
            return;
        }
        let delegation_end = live
            .events
            .iter()
            .filter_map(|h| h.event.body.as_delegation_granted())
            .filter(|d| d.delegatee.id == c.holder.id && d.delegatee.instance == c.holder.instance)
            .map(|d| d.expires_at)
            .max();
        let compromised = live.events.iter().find(|h| {
            h.event
                .body
                .as_trust_signal()
                .is_some_and(|s| reports_holder_compromised(s, c))
        });
        let cause = match (live.closed, compromised) {
            (Some((_, _, event)), _) => Some(DueCause::TaskClosed { event }),
            (None, Some(s)) => Some(DueCause::TrustSignal { event: s.event.id }),
            (None, None) => None,
        };
        let tracked = Tracked {
            issued: held.event.reference(held.digest),
            position: live.events.len(),
            issued_at: held.event.time,
            expires_at: c.credential.expires_at,
            delegation_end,
            cause,
        };
        self.tracked.insert(key, tracked);
    }

    fn of_task(&mut self, task: TaskId) -> impl Iterator<Item = &mut Tracked> {
        let from = (task, String::new());
        self.tracked
            .range_mut(from..)
            .take_while(move |((k, _), _)| *k == task)
            .map(|(_, t)| t)
    }

    /// Whether any credential of `task` is still followed.
    pub(crate) fn holds(&self, task: TaskId) -> bool {
        self.tracked
            .range((task, String::new())..)
            .next()
            .is_some_and(|((k, _), _)| *k == task)
    }

    /// The credentials due for revocation at `now`, by task and credential id.
    pub(crate) fn due(&self, now: Timestamp) -> Vec<DueRevocation> {
        self.tracked
            .iter()
            .filter_map(|((task, id), t)| {
                let cause = t.cause.or_else(|| t.timed_cause(now))?;
                Some(DueRevocation {
                    task: *task,
                    credential_id: id.clone(),
                    issued: t.issued,
                    cause,
                })
            })
            .collect()
    }
}

impl Tracked {
    /// A cause from time: its holder's delegation ended (or never was), or it expired.
    fn timed_cause(&self, now: Timestamp) -> Option<DueCause> {
        let delegation = self.delegation_end.unwrap_or(self.issued_at);
        if delegation < self.expires_at && delegation <= now {
            Some(DueCause::DelegationExpired { at: delegation })
        } else if self.expires_at <= now {
            Some(DueCause::Expired {
                at: self.expires_at,
            })
        } else {
            None
        }
    }
}
