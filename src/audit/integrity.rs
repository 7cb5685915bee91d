//! Integrity checks A1–A5: signatures, authorisation, inclusion and consistency,
//! completeness, references.

use std::collections::{BTreeMap, HashMap};

use super::{Check, Status, check};
use crate::bundle::{BundleRef, NodeHash};
use crate::cbor::Limits;
use crate::checkpoint::open_checkpoint;
use crate::envelope::{self, VerifiedEvent};
use crate::event::{Body, Digest, EventId, WorkloadId};
use crate::merkle::{ConsistencyProof, Hash, TreeHead, verify_consistency, verify_inclusions};
use crate::trust::{LogTrust, TrustError, TrustPolicy};

/// One envelope of the bundle, in bundle order: task entries first, then policies.
struct Item<'a> {
    index: u64,
    bytes: &'a [u8],
    proof: &'a [NodeHash],
    is_policy: bool,
    /// The event, once its signature verified (A1).
    verified: Option<VerifiedEvent>,
}

impl Item<'_> {
    /// The id to report: the verified event's, or for an envelope that did not verify, the
    /// id its payload claims (read without trusting it; only failures need this decode).
    fn label(&self) -> Option<EventId> {
        self.verified
            .as_ref()
            .map(|v| v.event().id)
            .or_else(|| unverified_id(self.bytes))
    }
}

fn limits() -> Limits {
    Limits::default()
}

fn unverified_id(bytes: &[u8]) -> Option<EventId> {
    envelope::decode_unverified(bytes, limits())
        .ok()
        .map(|e| e.id)
}

/// Verified events: (log index, is a policy, event).
pub(super) type Verified = Vec<(u64, bool, VerifiedEvent)>;

/// Runs A1–A5; also returns the verified events for B1–B11.
pub(super) fn run(
    bundle: &BundleRef<'_>,
    log: &LogTrust,
    trust: &TrustPolicy,
    trusted: &[Vec<u8>],
) -> (Vec<Check>, Verified) {
    let mut items: Vec<Item<'_>> = bundle
        .entries
        .iter()
        .map(|e| (e, false))
        .chain(bundle.policies.iter().map(|e| (e, true)))
        .map(|(e, is_policy)| Item {
            index: e.index,
            bytes: e.envelope.0,
            proof: &e.proof,
            is_policy,
            verified: None,
        })
        .collect();
    let checks = vec![
        a1_signatures(&mut items, trust),
        a2_authorised(&items, trust),
        a3_logged(bundle, log, &items, trusted),
        a4_complete(bundle, &items),
        a5_references(&items),
    ];
    let verified = items
        .into_iter()
        .filter_map(|i| i.verified.map(|v| (i.index, i.is_policy, v)))
        .collect();
    (checks, verified)
}

fn a1_signatures(items: &mut [Item<'_>], trust: &TrustPolicy) -> Check {
    let bytes: Vec<&[u8]> = items.iter().map(|i| i.bytes).collect();
    let results = trust_free_verify(&bytes, trust);
    let mut bad = Vec::new();
    let mut reasons = Vec::new();
    for (item, r) in items.iter_mut().zip(results) {
        match r {
            Ok(ev) => item.verified = Some(ev),
            Err(e) => {
                bad.extend(item.label());
                reasons.push(format!("entry {}: {e}", item.index));
            }
        }
    }
    if items.is_empty() {
        return check("A1", Status::Fail, &[], "the bundle has no entries");
    }
    match reasons.first() {
        None => check(
            "A1",
            Status::Pass,
            &[],
            format!(
                "all {} signatures verify under pinned emitter keys",
                items.len()
            ),
        ),
        Some(first) => check(
            "A1",
            Status::Fail,
            &bad,
            format!(
                "{} of {} signatures fail; first: {first}",
                reasons.len(),
                items.len()
            ),
        ),
    }
}

/// Signature checks only (A1), on all cores for large bundles. Each event's digest, which
/// the governance checks look up, is computed there too.
fn trust_free_verify(
    items: &[&[u8]],
    trust: &TrustPolicy,
) -> Vec<Result<VerifiedEvent, TrustError>> {
    crate::trust::verify_in_parallel(items, |part| {
        let out = trust.verify_signatures(part, limits());
        for ev in out.iter().flatten() {
            let _ = ev.digest();
        }
        out
    })
}

/// Whether each item's inclusion proof leads to `head`, on all cores for large bundles.
fn included(items: &[Item<'_>], log: &LogTrust, head: &TreeHead) -> Vec<bool> {
    let part = |part: &[Item<'_>]| {
        let proofs: Vec<(Hash, u64, Vec<Hash>)> = part
            .iter()
            .map(|i| {
                let path = i.proof.iter().map(|h| h.0).collect();
                (log.profile.leaf_hash(i.bytes), i.index, path)
            })
            .collect();
        verify_inclusions(
            log.profile,
            head,
            proofs
                .iter()
                .map(|(leaf, index, path)| (*leaf, *index, path.as_slice())),
        )
    };
    // A part whose thread panicked cannot vouch for anything.
    crate::parallel::map_parts(items, 1024, part, |n| vec![false; n])
}

fn a2_authorised(items: &[Item<'_>], trust: &TrustPolicy) -> Check {
    let mut bad = Vec::new();
    let mut first = None;
    for ev in items.iter().filter_map(|i| i.verified.as_ref()) {
        if let Err(e) = trust.authorize(ev) {
            bad.push(ev.event().id);
            first.get_or_insert(e.to_string());
        }
    }
    match first {
        None => check(
            "A2",
            Status::Pass,
            &[],
            "every emitter may sign its events' kinds, with its assurance",
        ),
        Some(f) => check(
            "A2",
            Status::Fail,
            &bad,
            format!("{} events not authorised; first: {f}", bad.len()),
        ),
    }
}

fn head_of(note: &[u8], log: &LogTrust) -> Result<TreeHead, String> {
    open_checkpoint(note, &log.origin, std::slice::from_ref(&log.verifier))
        .map(|c| c.tree_head())
        .map_err(|e| e.to_string())
}

fn a3_logged(
    bundle: &BundleRef<'_>,
    log: &LogTrust,
    items: &[Item<'_>],
    trusted: &[Vec<u8>],
) -> Check {
    if bundle.log.hash != log.profile.name() {
        return check(
            "A3",
            Status::Fail,
            &[],
            format!(
                "bundle says hash {:?}, the log is pinned as {}",
                bundle.log.hash, log.profile
            ),
        );
    }
    let head = match head_of(bundle.checkpoint, log) {
        Ok(h) => h,
        Err(e) => {
            return check(
                "A3",
                Status::Fail,
                &[],
                format!("checkpoint does not verify under the pinned log key: {e}"),
            );
        }
    };
    let bad: Vec<&Item<'_>> = items
        .iter()
        .zip(included(items, log, &head))
        .filter_map(|(i, ok)| (!ok).then_some(i))
        .collect();
    if let Some(first) = bad.first() {
        let ids: Vec<EventId> = bad.iter().filter_map(|i| i.label()).collect();
        return check(
            "A3",
            Status::Fail,
            &ids,
            format!(
                "{} entries not included in the checkpoint of size {}; first: entry {}",
                bad.len(),
                head.size,
                first.index
            ),
        );
    }
    match consistency(bundle, log, &head, trusted) {
        Err(reason) => check("A3", Status::Fail, &[], reason),
        Ok(warning) => {
            let base = format!(
                "all {} entries included in the checkpoint of size {} signed by the pinned log key",
                items.len(),
                head.size
            );
            match warning {
                Some(w) => check("A3", Status::Warn, &[], format!("{base}; {w}")),
                None => check(
                    "A3",
                    Status::Pass,
                    &[],
                    format!(
                        "{base}; consistent with {} trusted checkpoint(s)",
                        trusted.len()
                    ),
                ),
            }
        }
    }
}

/// Consistency of the bundle's checkpoint with every checkpoint the auditor trusts.
/// `Ok(Some(warning))` when a trusted checkpoint is newer than the bundle's.
fn consistency(
    bundle: &BundleRef<'_>,
    log: &LogTrust,
    head: &TreeHead,
    trusted: &[Vec<u8>],
) -> Result<Option<String>, String> {
    let proven_old = match &bundle.consistency {
        None => None,
        Some(c) => {
            let old = head_of(&c.old_checkpoint.0, log)
                .map_err(|e| format!("consistency checkpoint does not verify: {e}"))?;
            if old.size > 0 {
                let proof = ConsistencyProof {
                    old_size: old.size,
                    new_size: head.size,
                    path: c.proof.iter().map(|h| h.0).collect(),
                };
                verify_consistency(log.profile, &proof, &old, head).map_err(|e| {
                    format!(
                        "the log is not consistent with its checkpoint of size {}: {e}",
                        old.size
                    )
                })?;
            }
            Some(old)
        }
    };
    let mut warning = None;
    for note in trusted {
        let t = head_of(note, log).map_err(|e| {
            format!("a trusted checkpoint does not verify under the pinned log key: {e}")
        })?;
        if t.size == 0 {
            continue;
        }
        if t.size == head.size && t.root != head.root {
            return Err(format!(
                "two different roots signed for size {}: the log forked",
                t.size
            ));
        }
        if t.size < head.size && proven_old != Some(t) {
            return Err(format!(
                "no consistency proof from the trusted checkpoint of size {}",
                t.size
            ));
        }
        if t.size > head.size {
            warning = Some(format!(
                "a trusted checkpoint (size {}) is newer than the bundle's; consistency not shown",
                t.size
            ));
        }
    }
    Ok(warning)
}

fn a4_complete(bundle: &BundleRef<'_>, items: &[Item<'_>]) -> Check {
    let entries: Vec<&Item<'_>> = items.iter().filter(|i| !i.is_policy).collect();
    if let Some(w) = entries.windows(2).find(|w| w[0].index >= w[1].index) {
        let ids: Vec<EventId> = w.iter().filter_map(|i| i.label()).collect();
        return check(
            "A4",
            Status::Fail,
            &ids,
            format!(
                "entries out of log order or repeated at index {}",
                w[1].index
            ),
        );
    }
    let events: Vec<&VerifiedEvent> = entries.iter().filter_map(|i| i.verified.as_ref()).collect();
    if let Some(stranger) = events.iter().find(|e| e.event().task != Some(bundle.task)) {
        return check(
            "A4",
            Status::Fail,
            &[stranger.event().id],
            "an entry belongs to another task",
        );
    }
    // Each emitter's chain in the task: eseq 0, 1, 2, … and each prev the digest before it.
    let mut chains: BTreeMap<WorkloadId, Vec<&VerifiedEvent>> = BTreeMap::new();
    for e in &events {
        chains.entry(e.event().emitter.clone()).or_default().push(e);
    }
    for (emitter, chain) in &chains {
        for (k, e) in chain.iter().enumerate() {
            let want_prev = k.checked_sub(1).map(|p| chain[p].digest());
            if e.event().eseq != k as u64 || e.event().prev != want_prev {
                return check(
                    "A4",
                    Status::Fail,
                    &[e.event().id],
                    format!(
                        "{emitter}: event {k} of the emitter has eseq {} or a prev that breaks the chain (a missing or altered event)",
                        e.event().eseq
                    ),
                );
            }
        }
    }
    let close = events
        .iter()
        .enumerate()
        .find_map(|(k, e)| match &e.event().body {
            Body::TaskClosed(c) => Some((k, e, c)),
            _ => None,
        });
    let Some((at, close, c)) = close else {
        return check(
            "A4",
            Status::Warn,
            &[],
            "emitter chains are complete, but the task has no TaskClosed manifest to check them against",
        );
    };
    let manifest: HashMap<&WorkloadId, (u64, Digest)> = c
        .manifest
        .iter()
        .map(|m| (&m.emitter, (m.last_eseq, m.last_digest)))
        .collect();
    // The manifest speaks for the events logged before the close; what follows it (a
    // revocation the close triggered, say) is judged by B10, not here.
    let mut before: BTreeMap<&WorkloadId, &VerifiedEvent> = BTreeMap::new();
    for e in &events[..at] {
        before.insert(&e.event().emitter, e);
    }
    for (emitter, last) in &before {
        if manifest.get(emitter) != Some(&(last.event().eseq, last.digest())) {
            return check(
                "A4",
                Status::Fail,
                &[close.event().id],
                format!(
                    "TaskClosed manifest does not match {emitter}'s last event (eseq {})",
                    last.event().eseq
                ),
            );
        }
    }
    if manifest.len() != before.len() {
        return check(
            "A4",
            Status::Fail,
            &[close.event().id],
            "TaskClosed manifest names an emitter with no event in the bundle",
        );
    }
    check(
        "A4",
        Status::Pass,
        &[],
        format!(
            "{} emitter chains complete and matching the TaskClosed manifest",
            chains.len()
        ),
    )
}

/// An action that ended before it started, or a credential that expires before it is valid.
fn inverted_range(body: &Body) -> bool {
    match body {
        Body::ActionExecuted(a) => a.ended_at < a.started_at,
        Body::CredentialIssued(c) => c.credential.expires_at < c.credential.not_before,
        _ => false,
    }
}

fn a5_references(items: &[Item<'_>]) -> Check {
    let known: HashMap<EventId, (u64, Digest)> = items
        .iter()
        .filter_map(|i| {
            i.verified
                .as_ref()
                .map(|v| (v.event().id, (i.index, v.digest())))
        })
        .collect();
    let mut outside = Vec::new();
    for i in items {
        let Some(ev) = &i.verified else { continue };
        for r in ev.event().all_refs() {
            match known.get(&r.id) {
                Some(&(index, digest)) if index < i.index && digest == r.digest => {}
                Some(_) => {
                    return check(
                        "A5",
                        Status::Fail,
                        &[ev.event().id, r.id],
                        "a reference points to a later entry or has the wrong digest",
                    );
                }
                None => outside.push(ev.event().id),
            }
        }
    }
    // A time range inside one event must not end before it starts.
    if let Some(ev) = items
        .iter()
        .filter_map(|i| i.verified.as_ref())
        .find(|v| inverted_range(&v.event().body))
    {
        return check(
            "A5",
            Status::Fail,
            &[ev.event().id],
            "an event's time range ends before it starts",
        );
    }
    // Each emitter's clock must not run backwards along its chain.
    let mut last_time: HashMap<&WorkloadId, u64> = HashMap::new();
    let mut backwards = Vec::new();
    for ev in items
        .iter()
        .filter(|i| !i.is_policy)
        .filter_map(|i| i.verified.as_ref())
    {
        let t = last_time.entry(&ev.event().emitter).or_insert(0);
        if ev.event().time < *t {
            backwards.push(ev.event().id);
        }
        *t = (*t).max(ev.event().time);
    }
    match (outside.is_empty(), backwards.is_empty()) {
        (true, true) => check(
            "A5",
            Status::Pass,
            &[],
            "every reference points to an earlier entry with the right digest; emitter clocks move forward",
        ),
        (false, _) => check(
            "A5",
            Status::Warn,
            &outside,
            "some references point outside the bundle and cannot be checked",
        ),
        (true, false) => check(
            "A5",
            Status::Warn,
            &backwards,
            "an emitter's clock runs backwards",
        ),
    }
}
