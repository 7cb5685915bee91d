//! Integrity checks A1–A5: signatures, authorisation, inclusion and consistency,
//! completeness, references.

use std::collections::{BTreeMap, HashMap};

use super::logtime::{Heads, Window};
use super::{Audited, Check, Status, check};
use crate::bundle::BundleRef;
use crate::cbor::Limits;
use crate::checkpoint::Note;
use crate::envelope;
use crate::event::{Body, Digest, Event, EventId, TaskId, Timestamp, WorkloadId};
use crate::merkle::{Hash, HashProfile, TreeHead, verify_inclusions};
use crate::trust::{LogTrust, TrustError, TrustPolicy, WitnessPolicy};

/// One envelope of the bundle, in bundle order: task entries first, then policies.
struct Item<'a> {
    index: u64,
    bytes: &'a [u8],
    proof: &'a [Hash],
    is_policy: bool,
    /// The event, once its signature verified (A1).
    verified: Option<Audited<'a>>,
    /// Why the trust policy does not authorise the verified event, if it does not (A2).
    refused: Option<TrustError>,
    /// The entry's leaf hash under the pinned profile (A3).
    leaf: Hash,
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

/// An event whose entry passed A1: where it is in the log, and whether the bundle carries it
/// as a cited policy rather than as an event of the task.
pub(super) struct VerifiedEntry<'a> {
    pub index: u64,
    pub is_policy: bool,
    pub event: Audited<'a>,
    /// The latest the entry can have entered the log, by the bundle's checkpoints (ms since
    /// the epoch; `None` where no signed time bounds it).
    pub logged_by: Option<u64>,
}

/// Runs A1–A5; also returns the verified events for B1–B11.
pub(super) fn run<'a>(
    bundle: &'a BundleRef<'a>,
    log: &LogTrust,
    trust: &TrustPolicy,
    trusted: &[Vec<u8>],
) -> (Vec<Check>, Vec<VerifiedEntry<'a>>) {
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
            refused: None,
            leaf: Hash::from_bytes([0; 32]),
        })
        .collect();
    let a1 = a1_signatures(&mut items, trust, log.profile);
    let heads = Heads::verify(bundle, log);
    // Each item's log-entry window; unbounded where the checkpoints did not verify.
    let windows: Vec<Window> = items
        .iter()
        .map(|i| heads.as_ref().map_or((None, None), |h| h.window(i.index)))
        .collect();
    let a2 = a2_authorised(&items, &windows, trust);
    let logged = Logged {
        heads: &heads,
        windows: &windows,
        skew: trust.governance().clock_skew_ms(),
        witnesses: trust.witness_policy(),
    };
    let (a3, a4, a5) = across_entries(bundle, log, trusted, &items, &logged);
    let checks = vec![a1, a2, a3, a4, a5];
    let verified = items
        .into_iter()
        .zip(windows)
        .filter_map(|(i, (_, logged_by))| {
            let event = i.verified?;
            Some(VerifiedEntry {
                index: i.index,
                is_policy: i.is_policy,
                event,
                logged_by,
            })
        })
        .collect();
    (checks, verified)
}

/// What the bundle's checkpoints say of when its entries were logged.
struct Logged<'h> {
    /// The verified checkpoints, or why they did not verify (A3 fails).
    heads: &'h Result<Heads, String>,
    /// Each item's log-entry window.
    windows: &'h [Window],
    /// Clock skew tolerated, ms.
    skew: u64,
    /// The witnesses and quorum the head checkpoint must meet.
    witnesses: &'h WitnessPolicy,
}

/// A3–A5. A3's proofs are checked on all cores; for a large bundle A4 and A5, each one
/// serial pass over the entries, run on a thread of their own beside it rather than after
/// it on one core while the other idles.
fn across_entries(
    bundle: &BundleRef<'_>,
    log: &LogTrust,
    trusted: &[Vec<u8>],
    items: &[Item<'_>],
    logged: &Logged<'_>,
) -> (Check, Check, Check) {
    let serial = || (a4_complete(bundle, items), a5_references(items, logged));
    if items.len() < SIDE_THREAD_MIN {
        let (a4, a5) = serial();
        return (a3_logged(bundle, log, items, trusted, logged), a4, a5);
    }
    let (a3, (a4, a5)) =
        crate::parallel::join(|| a3_logged(bundle, log, items, trusted, logged), serial);
    (a3, a4, a5)
}

/// Entries below which A3–A5 run one after another on the calling thread.
const SIDE_THREAD_MIN: usize = 4096;

fn a1_signatures(items: &mut [Item<'_>], trust: &TrustPolicy, profile: HashProfile) -> Check {
    let bytes: Vec<&[u8]> = items.iter().map(|i| i.bytes).collect();
    let results = each_entry(&bytes, trust, profile);
    let mut bad = Vec::new();
    let mut reasons = Vec::new();
    for (item, r) in items.iter_mut().zip(results) {
        item.leaf = r.leaf;
        item.refused = r.refused;
        match r.verified {
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

/// What the pass over each entry learns of it.
struct EntryFacts<'a> {
    /// The event, or why its signature did not verify (A1).
    verified: Result<Audited<'a>, TrustError>,
    /// For a verified event, why the trust policy does not authorise it, if it does not (A2).
    refused: Option<TrustError>,
    /// Its leaf hash (A3).
    leaf: Hash,
}

/// Everything A1–A3 need of each entry on its own, in one pass on all cores for a large
/// bundle, so that what follows is only what looks across entries. Each verified event's
/// digest, which later checks look up, is computed here too.
fn each_entry<'a>(
    items: &[&'a [u8]],
    trust: &TrustPolicy,
    profile: HashProfile,
) -> Vec<EntryFacts<'a>> {
    let part = |part: &[&'a [u8]]| -> Vec<EntryFacts<'a>> {
        let verified = trust.verify_signatures_in_place(part, limits());
        verified
            .into_iter()
            .zip(part)
            .map(|(verified, bytes)| {
                let refused = verified
                    .as_ref()
                    .ok()
                    .and_then(|ev| trust.authorize(ev).err());
                EntryFacts {
                    leaf: leaf_hash(&verified, bytes, profile),
                    verified,
                    refused,
                }
            })
            .collect()
    };
    crate::parallel::map_parts(items, part_len(items.len()), part)
}

/// The shortest part `each_entry` splits `n` entries into. A bundle of two full batches or
/// more gets parts a whole number of batches long, where a batch verifies cheapest per
/// signature; a smaller one is halved, so that it still spreads over two cores in batches
/// as large as it allows; one under 256 entries stays whole, since a second thread would
/// cost more than it saves.
fn part_len(n: usize) -> usize {
    if n >= 2 * envelope::BATCH_CHUNK {
        envelope::BATCH_CHUNK
    } else if n >= 256 {
        n.div_ceil(2)
    } else {
        n
    }
}

/// An entry's leaf hash under `profile`. A verified event's digest is computed here, once
/// and on all cores (A4, A5 and B1–B11 read it); in a BLAKE3 log it is the leaf hash itself
/// ([`Digest::of_envelope`]), so the envelope is hashed once.
fn leaf_hash(
    verified: &Result<Audited<'_>, TrustError>,
    bytes: &[u8],
    profile: HashProfile,
) -> Hash {
    match (verified, profile) {
        (Ok(ev), HashProfile::Blake3) => Hash::from_bytes(ev.digest().0),
        (Ok(ev), HashProfile::Sha256) => {
            let _ = ev.digest();
            profile.leaf_hash(bytes)
        }
        (Err(_), _) => profile.leaf_hash(bytes),
    }
}

/// Whether each item's inclusion proof leads to `head`, on all cores for large bundles.
fn included(items: &[Item<'_>], log: &LogTrust, head: &TreeHead) -> Vec<bool> {
    let part = |part: &[Item<'_>]| {
        let proofs = part.iter().map(|i| (i.leaf, i.index, i.proof));
        verify_inclusions(log.profile, head, proofs)
    };
    crate::parallel::map_parts(items, 1024, part)
}

fn a2_authorised(items: &[Item<'_>], windows: &[Window], trust: &TrustPolicy) -> Check {
    let mut bad = Vec::new();
    let mut first = None;
    for (item, window) in items.iter().zip(windows) {
        let Some(ev) = &item.verified else { continue };
        // A key valid at the event's time may have been retired before it was logged.
        let retired = |after| {
            trust
                .check_logged_at(ev, Timestamp::from_millis(after))
                .err()
        };
        let why = item.refused.clone().or_else(|| window.0.and_then(retired));
        if let Some(e) = why {
            bad.push(ev.event().id);
            first.get_or_insert(e.to_string());
        }
    }
    match first {
        None => check(
            "A2",
            Status::Pass,
            &[],
            "every emitter may sign its events' kinds, with its assurance, under a key valid when it signed and when the event was logged",
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
    log.open(note)
        .map(|c| c.tree_head())
        .map_err(|e| e.to_string())
}

fn a3_logged(
    bundle: &BundleRef<'_>,
    log: &LogTrust,
    items: &[Item<'_>],
    trusted: &[Vec<u8>],
    logged: &Logged<'_>,
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
    let heads = match logged.heads {
        Ok(h) => h,
        Err(e) => return check("A3", Status::Fail, &[], e.clone()),
    };
    let head = heads.head;
    let witnessed = match witnessed(bundle.checkpoint, logged.witnesses) {
        Ok(w) => w,
        Err(reason) => return check("A3", Status::Fail, &[], reason),
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
    match consistency(heads, log, trusted) {
        Err(reason) => check("A3", Status::Fail, &[], reason),
        Ok(warning) => {
            let base = format!(
                "all {} entries included in the checkpoint of size {} signed by the pinned log key{witnessed}",
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
                        "{base}; consistent with {} earlier and {} trusted checkpoint(s)",
                        heads.earlier.len(),
                        trusted.len()
                    ),
                ),
            }
        }
    }
}

/// Whether the bundle's checkpoint carries the witness quorum: `Ok` with a phrase for the
/// verdict (empty without a witness policy), `Err` with the count when below quorum.
fn witnessed(note: &[u8], witnesses: &WitnessPolicy) -> Result<String, String> {
    if !witnesses.requires_cosignatures() {
        return Ok(String::new());
    }
    // The note verified under the log key already (the heads); it parses.
    let note = Note::parse(note).map_err(|e| e.to_string())?;
    let report = witnesses.judge(note.text(), note.signatures());
    if report.met {
        return Ok(format!(
            ", cosigned by {} witness(es) ({}) meeting the quorum {}",
            report.cosigned.len(),
            report.cosigned.join(", "),
            report.rule
        ));
    }
    Err(format!(
        "the checkpoint is below the witness quorum: {report}"
    ))
}

/// Consistency of the bundle's checkpoint with every checkpoint the auditor trusts: one at
/// the same size has the same root, an older one is among the bundle's earlier checkpoints
/// (each proven consistent). `Ok(Some(warning))` when a trusted checkpoint is newer.
fn consistency(
    heads: &Heads,
    log: &LogTrust,
    trusted: &[Vec<u8>],
) -> Result<Option<String>, String> {
    let head = heads.head;
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
        if t.size < head.size && !heads.earlier.iter().any(|(h, _)| *h == t) {
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

/// A4: the task's entries are all there. Three rules, each failing with its own finding: the
/// entries are in log order and of this task; each emitter's chain runs unbroken from eseq 0;
/// the `TaskClosed` manifest names each emitter's last event (a warning without a close).
fn a4_complete(bundle: &BundleRef<'_>, items: &[Item<'_>]) -> Check {
    let entries: Vec<&Item<'_>> = items.iter().filter(|i| !i.is_policy).collect();
    let events: Vec<&Audited<'_>> = entries.iter().filter_map(|i| i.verified.as_ref()).collect();
    let judged = in_order_and_of_the_task(&entries, &events, bundle.task)
        .and_then(|()| unbroken_chains(&events))
        .and_then(|chains| manifest_matches(&events, chains));
    match judged {
        Ok(c) | Err(c) => c,
    }
}

/// A4's first rule: entries in strictly increasing log order (none repeated), every one an
/// event of the bundle's task.
fn in_order_and_of_the_task(
    entries: &[&Item<'_>],
    events: &[&Audited<'_>],
    task: TaskId,
) -> Result<(), Check> {
    if let Some(w) = entries.windows(2).find(|w| w[0].index >= w[1].index) {
        let ids: Vec<EventId> = w.iter().filter_map(|i| i.label()).collect();
        let why = format!(
            "entries out of log order or repeated at index {}",
            w[1].index
        );
        return Err(check("A4", Status::Fail, &ids, why));
    }
    match events.iter().find(|e| e.event().task != Some(task)) {
        Some(stranger) => Err(check(
            "A4",
            Status::Fail,
            &[stranger.event().id],
            "an entry belongs to another task",
        )),
        None => Ok(()),
    }
}

/// Each emitter's events of the task, in log order.
type Chains<'e, 'a> = BTreeMap<&'e WorkloadId, Vec<&'e Audited<'a>>>;

/// A4's second rule: each emitter's chain in the task is eseq 0, 1, 2, … with each `prev`
/// the digest of the event before it.
fn unbroken_chains<'e, 'a>(events: &[&'e Audited<'a>]) -> Result<Chains<'e, 'a>, Check> {
    let mut chains: Chains<'e, 'a> = BTreeMap::new();
    for e in events {
        chains.entry(&e.event().emitter).or_default().push(e);
    }
    for (emitter, chain) in &chains {
        for (k, e) in chain.iter().enumerate() {
            let want_prev = k.checked_sub(1).map(|p| chain[p].digest());
            if e.event().eseq != k as u64 || e.event().prev != want_prev {
                let why = format!(
                    "{emitter}: event {k} of the emitter has eseq {} or a prev that breaks the chain (a missing or altered event)",
                    e.event().eseq
                );
                return Err(check("A4", Status::Fail, &[e.event().id], why));
            }
        }
    }
    Ok(chains)
}

/// A4's third rule: the `TaskClosed` manifest names, for every emitter with events logged
/// before the close and for no other, its last event's eseq and digest. The manifest speaks
/// for the events logged before the close; what follows it (a revocation the close
/// triggered, say) is judged by B10, not here.
fn manifest_matches(events: &[&Audited<'_>], chains: Chains<'_, '_>) -> Result<Check, Check> {
    let close = events
        .iter()
        .enumerate()
        .find_map(|(k, e)| match &e.event().body {
            Body::TaskClosed(c) => Some((k, e, c)),
            _ => None,
        });
    let Some((at, close, c)) = close else {
        return Ok(check(
            "A4",
            Status::Warn,
            &[],
            "emitter chains are complete, but the task has no TaskClosed manifest to check them against",
        ));
    };
    let manifest: HashMap<&WorkloadId, (u64, Digest)> = c
        .manifest
        .iter()
        .map(|m| (&m.emitter, (m.last_eseq, m.last_digest)))
        .collect();
    let mut before: BTreeMap<&WorkloadId, &Audited<'_>> = BTreeMap::new();
    for e in &events[..at] {
        before.insert(&e.event().emitter, e);
    }
    let fail = |why: String| Err(check("A4", Status::Fail, &[close.event().id], why));
    for (emitter, last) in &before {
        if manifest.get(emitter) != Some(&(last.event().eseq, last.digest())) {
            return fail(format!(
                "TaskClosed manifest does not match {emitter}'s last event (eseq {})",
                last.event().eseq
            ));
        }
    }
    if manifest.len() != before.len() {
        return fail("TaskClosed manifest names an emitter with no event in the bundle".into());
    }
    Ok(check(
        "A4",
        Status::Pass,
        &[],
        format!(
            "{} emitter chains complete and matching the TaskClosed manifest",
            chains.len()
        ),
    ))
}

/// An action that ended before it started, or a credential that expires before it is valid.
fn inverted_range(body: &Body) -> bool {
    match body {
        Body::ActionExecuted(a) => a.ended_at < a.started_at,
        Body::CredentialIssued(c) => c.credential.expires_at < c.credential.not_before,
        _ => false,
    }
}

/// Instants an event states about its own past: when it was made and, in its body, when an
/// action started and ended and when the task's human authenticated and confirmed. None of
/// them can be later than the log's signature over the event.
fn claimed_times(e: &Event) -> [Option<(&'static str, Timestamp)>; 3] {
    let time = Some(("time", e.time));
    match &e.body {
        Body::ActionExecuted(a) => [
            time,
            Some(("started_at", a.started_at)),
            Some(("ended_at", a.ended_at)),
        ],
        Body::TaskOpened(o) => [
            time,
            Some(("auth_time", o.principal.auth_time)),
            Some(("confirmed_at", o.confirmed_at)),
        ],
        _ => [time, None, None],
    }
}

/// The first event claiming a time after the log signed a checkpoint that includes it
/// (beyond the skew), or why times cannot be bounded at all. Nothing when the checkpoints
/// did not verify: A3 fails then.
fn time_after_log(items: &[Item<'_>], logged: &Logged<'_>) -> Option<(Vec<EventId>, String)> {
    let heads = logged.heads.as_ref().ok()?;
    if heads.head_time.is_none() {
        let why = "the checkpoint carries no time signed by the log key, so event times cannot be bounded";
        return Some((vec![], why.to_owned()));
    }
    items.iter().zip(logged.windows).find_map(|(i, (_, hi))| {
        let (ev, hi) = (i.verified.as_ref()?, (*hi)?);
        claimed_times(ev.event())
            .into_iter()
            .flatten()
            .find(|(_, t)| t.as_millis() > hi.saturating_add(logged.skew))
            .map(|(name, t)| {
                let why = format!(
                    "an event's {name} ({}) is later than the log signed a checkpoint including it ({})",
                    t,
                    crate::encoding::format_ms(hi)
                );
                (vec![ev.event().id], why)
            })
    })
}

fn a5_references(items: &[Item<'_>], logged: &Logged<'_>) -> Check {
    if let Some((ids, why)) = time_after_log(items, logged) {
        return check("A5", Status::Fail, &ids, why);
    }
    // Sized up front: grown from empty it rehashed seventeen times at 100 000 entries.
    let mut known: HashMap<EventId, (u64, Digest)> = HashMap::with_capacity(items.len());
    known.extend(items.iter().filter_map(|i| {
        i.verified
            .as_ref()
            .map(|v| (v.event().id, (i.index, v.digest())))
    }));
    let mut outside = Vec::new();
    for i in items {
        let Some(ev) = &i.verified else { continue };
        for r in ev.event().iter_all_refs() {
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
    let mut last_time: HashMap<&WorkloadId, Timestamp> = HashMap::new();
    let mut backwards = Vec::new();
    for ev in items
        .iter()
        .filter(|i| !i.is_policy)
        .filter_map(|i| i.verified.as_ref())
    {
        let t = last_time
            .entry(&ev.event().emitter)
            .or_insert(Timestamp::EPOCH);
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
