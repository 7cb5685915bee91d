//! The auditor's pinned trust policy: which logs (origin, hash profile, verifier key) and
//! which emitters (workload id, keys with validity windows, event kinds, assurance) it trusts.
//!
//! Load with [`TrustPolicy::from_toml`], or deserialize a [`TrustDocument`] from any serde
//! format (the CLI reads JSON this way) and validate it with [`TrustPolicy::try_from`].

mod file;
mod governance;
pub(crate) mod identity;
mod witnesses;

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::VerifyingKey;

pub use file::{EmitterEntry, KeyEntry, LogEntry, LogKeyEntry, TRUST_FILE_VERSION, TrustDocument};
pub use governance::{
    ApprovalReuse, DEFAULT_CLOCK_SKEW_MS, DEFAULT_REVOCATION_GRACE_MS, Governance, GovernanceEntry,
    HumansEntry, PartnerEntry, TierEntry, TierProfile, TiersEntry, glob_match,
};
pub use witnesses::{MAX_POLICY_ITEMS, PinnedWitness, QuorumReport, WitnessPolicy};

use crate::cbor::Limits;
use crate::checkpoint::{
    Checkpoint, CheckpointError, KeyError, Note, NoteVerifier, VerifiedCheckpoint, open_checkpoint,
};
use crate::encoding::{b64_decode, b64_encode};
use crate::envelope::{self, EnvelopeError, KEY_ID_LEN, VerifiedEvent, event_key_id};
use crate::event::{Assurance, Kind, Level, Timestamp, WorkloadId};
use crate::merkle::HashProfile;

/// Why a trust policy file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file is not valid TOML of the expected shape (the message has the position).
    #[error("trust policy syntax: {0}")]
    Syntax(String),
    /// Another file format version.
    #[error("unsupported trust policy version {0} (expected {TRUST_FILE_VERSION})")]
    Version(u32),
    /// The same log origin twice.
    #[error("log {0:?} is listed twice")]
    DuplicateLog(String),
    /// A log's hash profile is not `blake3` or `sha256`.
    #[error("log {origin:?}: unknown hash profile {value:?}")]
    HashProfile {
        /// Log origin.
        origin: String,
        /// Value found.
        value: String,
    },
    /// A log's verifier key is malformed.
    #[error("log {origin:?}: verifier key: {source}")]
    VerifierKey {
        /// Log origin.
        origin: String,
        /// What is wrong with it.
        source: KeyError,
    },
    /// A log key's `until_size` is below its `from_size`.
    #[error("log {0:?}: a key's until_size is below its from_size")]
    LogKeyWindow(String),
    /// A workload id is not a valid identifier.
    #[error("invalid workload id {0:?}")]
    Workload(String),
    /// The same workload twice.
    #[error("emitter {0:?} is listed twice")]
    DuplicateEmitter(String),
    /// An emitter has no key.
    #[error("emitter {0:?} has no key")]
    NoKeys(String),
    /// A key is not base64 of a usable 32-byte Ed25519 public key.
    #[error("emitter {workload:?} key {index}: not a usable ed25519 public key")]
    PublicKey {
        /// The emitter.
        workload: String,
        /// Zero-based position in its key list.
        index: usize,
    },
    /// `not_after` before `not_before`.
    #[error("emitter {workload:?} key {index}: not_after is before not_before")]
    Window {
        /// The emitter.
        workload: String,
        /// Zero-based position in its key list.
        index: usize,
    },
    /// An unknown event kind name.
    #[error("emitter {workload:?}: unknown event kind {kind:?}")]
    Kind {
        /// The emitter.
        workload: String,
        /// The name found.
        kind: String,
    },
    /// A self-reported emitter may not sign kinds that only enforcing components may sign.
    #[error("emitter {workload:?} is self_reported and cannot be allowed {kind}")]
    SelfReportedKind {
        /// The emitter.
        workload: String,
        /// The kind.
        kind: Kind,
    },
    /// A trust domain is not a valid SPIFFE trust domain.
    #[error("invalid trust domain {0:?}: lowercase letters, digits, '.', '-' and '_' only")]
    TrustDomain(String),
    /// A partner's trust domain is the deployment's own, or listed twice.
    #[error("partner trust domain {0:?} is the deployment's own or listed twice")]
    Partner(String),
    /// The human identity rules are unusable.
    #[error("governance.humans: {0}")]
    Humans(&'static str),
    /// The witness policy (C2SP `tlog-policy` text) is malformed or inconsistent.
    #[error("witness_policy line {line}: {reason}")]
    WitnessPolicy {
        /// 1-based line (0: the policy as a whole, e.g. no quorum line).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A tier is more lenient than the one below it, or has a quorum of 0.
    #[error("governance.tiers.{tier}: {setting} is more lenient than the tier below (or zero)")]
    Tier {
        /// The tier.
        tier: Level,
        /// The setting.
        setting: &'static str,
    },
}

/// Why an event is not acceptable under the policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The envelope itself was rejected.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The emitter is not in the policy.
    #[error("emitter {0:?} is not trusted")]
    UnknownEmitter(String),
    /// No pinned key of the emitter has the envelope's key id.
    #[error("emitter {0:?} has no pinned key with this key id")]
    UnknownKey(String),
    /// The key is pinned, but not for the event's time.
    #[error("emitter {workload:?}: key not valid at event time {time}")]
    KeyNotValidAt {
        /// The emitter.
        workload: String,
        /// The event's time.
        time: Timestamp,
    },
    /// The key was valid at the event's claimed time, but retired (`not_after`) before the
    /// event entered the log: a backdated event under a retired key.
    #[error(
        "emitter {workload:?}: key retired at {not_after}, but the event entered the log after {logged_after}"
    )]
    KeyRetiredBeforeLogged {
        /// The emitter.
        workload: String,
        /// The key's `not_after`.
        not_after: Timestamp,
        /// When the event was known to be not yet logged.
        logged_after: Timestamp,
    },
    /// The emitter may not sign this kind.
    #[error("emitter {workload:?} may not sign {kind} events")]
    KindNotAllowed {
        /// The emitter.
        workload: String,
        /// The kind.
        kind: Kind,
    },
    /// The event claims `enforced` but the emitter is pinned as `self_reported`.
    #[error("emitter {0:?} is self_reported and cannot claim enforced assurance")]
    AssuranceNotAllowed(String),
}

/// Kinds that only enforcing components (PDP, token service, approval service, policy
/// registry) may sign: an agent cannot decide, issue or revoke credentials, or approve for
/// itself. (An agent may delegate to a sub-agent; the audit judges the delegation chain.)
pub const ENFORCED_ONLY: [Kind; 5] = [
    Kind::PolicyRegistered,
    Kind::PolicyDecision,
    Kind::ApprovalResolved,
    Kind::CredentialIssued,
    Kind::CredentialRevoked,
];

/// A pinned log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTrust {
    /// Checkpoint origin.
    pub origin: String,
    /// Hash profile.
    pub profile: HashProfile,
    /// Its checkpoint keys, each with the sizes it may sign (more than one after a rotation).
    pub keys: Vec<LogKey>,
}

/// A log key and the checkpoint sizes it may sign (inclusive).
///
/// Windows are by tree size, not time: the log's signed times come from the same key, so a
/// stolen retired key could stamp any time it likes, but cannot make a checkpoint of a size
/// past its window count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogKey {
    /// The verifier key.
    pub verifier: NoteVerifier,
    /// The first size it may sign.
    pub from_size: u64,
    /// The last, if retired.
    pub until_size: Option<u64>,
}

impl LogKey {
    /// Whether it may sign a checkpoint of `size`.
    #[must_use]
    pub fn signs(&self, size: u64) -> bool {
        size >= self.from_size && self.until_size.is_none_or(|u| size <= u)
    }
}

impl LogTrust {
    /// The keys that may sign a checkpoint of `size`.
    #[must_use]
    pub fn verifiers_at(&self, size: u64) -> Vec<NoteVerifier> {
        self.keys
            .iter()
            .filter(|k| k.signs(size))
            .map(|k| k.verifier.clone())
            .collect()
    }

    /// Opens a checkpoint of this log under the keys pinned for its size: a key outside its
    /// window is as unknown as any other (its line is ignored; no other key, no checkpoint).
    ///
    /// # Errors
    /// As [`crate::checkpoint::open_checkpoint`].
    pub fn open(&self, note: &[u8]) -> Result<VerifiedCheckpoint, CheckpointError> {
        // The size is read before the signature is checked only to pick the keys; the note
        // is then verified whole under them, and its size read again from the verified text.
        let size = Note::parse(note)
            .ok()
            .and_then(|n| Checkpoint::parse(n.text()).ok())
            .map_or(0, |c| c.size);
        open_checkpoint(note, &self.origin, &self.verifiers_at(size))
    }
}

/// A pinned emitter key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedKey {
    /// The public key.
    pub key: VerifyingKey,
    /// Its event key id.
    pub kid: [u8; KEY_ID_LEN],
    /// First event time it is valid for.
    pub not_before: Option<Timestamp>,
    /// Last event time it is valid for.
    pub not_after: Option<Timestamp>,
}

impl PinnedKey {
    /// Whether the key may sign an event of time `t`.
    #[must_use]
    pub fn valid_at(&self, t: Timestamp) -> bool {
        self.not_before.is_none_or(|nb| t >= nb) && self.not_after.is_none_or(|na| t <= na)
    }
}

/// A pinned emitter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmitterTrust {
    /// Workload id.
    pub workload: WorkloadId,
    /// Enforced or self-reported.
    pub assurance: Assurance,
    /// Kinds it may sign.
    pub kinds: BTreeSet<Kind>,
    /// Its keys.
    pub keys: Vec<PinnedKey>,
}

/// A validated trust policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustPolicy {
    logs: Vec<LogTrust>,
    emitters: BTreeMap<WorkloadId, EmitterTrust>,
    governance: Governance,
    witnesses: WitnessPolicy,
}

fn parse_key(workload: &str, index: usize, k: &KeyEntry) -> Result<PinnedKey, PolicyError> {
    let bad = || PolicyError::PublicKey {
        workload: workload.to_owned(),
        index,
    };
    let raw: [u8; 32] = b64_decode(&k.public_key)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad())?;
    if key.is_weak() {
        return Err(bad());
    }
    if let (Some(nb), Some(na)) = (k.not_before, k.not_after)
        && na < nb
    {
        return Err(PolicyError::Window {
            workload: workload.to_owned(),
            index,
        });
    }
    Ok(PinnedKey {
        kid: event_key_id(&key),
        key,
        not_before: k.not_before.map(Timestamp::from_millis),
        not_after: k.not_after.map(Timestamp::from_millis),
    })
}

fn parse_emitter(e: &EmitterEntry) -> Result<EmitterTrust, PolicyError> {
    let workload = WorkloadId::new(e.workload.clone())
        .map_err(|_| PolicyError::Workload(e.workload.clone()))?;
    let mut kinds = BTreeSet::new();
    for name in &e.kinds {
        let kind: Kind = name.parse().map_err(|_| PolicyError::Kind {
            workload: e.workload.clone(),
            kind: name.clone(),
        })?;
        if e.assurance == Assurance::SelfReported && ENFORCED_ONLY.contains(&kind) {
            return Err(PolicyError::SelfReportedKind {
                workload: e.workload.clone(),
                kind,
            });
        }
        kinds.insert(kind);
    }
    if e.keys.is_empty() {
        return Err(PolicyError::NoKeys(e.workload.clone()));
    }
    let keys = e
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| parse_key(&e.workload, i, k))
        .collect::<Result<_, _>>()?;
    Ok(EmitterTrust {
        workload,
        assurance: e.assurance,
        kinds,
        keys,
    })
}

fn parse_log(l: &LogEntry) -> Result<LogTrust, PolicyError> {
    let profile = l.hash.parse().map_err(|_| PolicyError::HashProfile {
        origin: l.origin.clone(),
        value: l.hash.clone(),
    })?;
    let key = |text: &str, from_size: u64, until_size: Option<u64>| {
        let verifier = NoteVerifier::parse(text).map_err(|source| PolicyError::VerifierKey {
            origin: l.origin.clone(),
            source,
        })?;
        if until_size.is_some_and(|u| u < from_size) {
            return Err(PolicyError::LogKeyWindow(l.origin.clone()));
        }
        Ok(LogKey {
            verifier,
            from_size,
            until_size,
        })
    };
    let mut keys = vec![key(&l.verifier_key, 0, l.until_size)?];
    for r in &l.rotated {
        keys.push(key(&r.verifier_key, r.from_size, r.until_size)?);
    }
    Ok(LogTrust {
        origin: l.origin.clone(),
        profile,
        keys,
    })
}

impl TryFrom<TrustDocument> for TrustPolicy {
    type Error = PolicyError;

    fn try_from(doc: TrustDocument) -> Result<Self, PolicyError> {
        if doc.version != TRUST_FILE_VERSION {
            return Err(PolicyError::Version(doc.version));
        }
        let mut policy = Self::default();
        for l in &doc.logs {
            if policy.log(&l.origin).is_some() {
                return Err(PolicyError::DuplicateLog(l.origin.clone()));
            }
            policy.logs.push(parse_log(l)?);
        }
        for e in &doc.emitters {
            let t = parse_emitter(e)?;
            if policy.emitters.contains_key(&t.workload) {
                return Err(PolicyError::DuplicateEmitter(e.workload.clone()));
            }
            policy.emitters.insert(t.workload.clone(), t);
        }
        let domains = policy
            .emitters
            .keys()
            .filter_map(|w| w.trust_domain().map(str::to_owned))
            .collect();
        policy.governance = Governance::from_entry(&doc.governance, domains)?;
        if let Some(text) = &doc.witness_policy {
            let logs: Vec<NoteVerifier> = policy
                .logs
                .iter()
                .flat_map(|l| l.keys.iter().map(|k| k.verifier.clone()))
                .collect();
            policy.witnesses = WitnessPolicy::parse(text, &logs)?;
        }
        Ok(policy)
    }
}

/// A TOML error, cut to a few hundred bytes: the parser quotes the offending line, which in
/// a hostile file may be megabytes long.
fn syntax_excerpt(message: &str) -> String {
    const MAX: usize = 400;
    if message.len() <= MAX {
        return message.to_owned();
    }
    let mut end = MAX;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} …", &message[..end])
}

impl TrustPolicy {
    /// Parses and validates a TOML trust policy.
    ///
    /// # Errors
    /// [`PolicyError`], with the position for syntax errors.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let doc: TrustDocument = toml::from_str(text)
            .map_err(|e| PolicyError::Syntax(syntax_excerpt(&e.to_string())))?;
        Self::try_from(doc)
    }

    /// The pinned log with this origin.
    #[must_use]
    pub fn log(&self, origin: &str) -> Option<&LogTrust> {
        self.logs.iter().find(|l| l.origin == origin)
    }

    /// All pinned logs.
    #[must_use]
    pub fn logs(&self) -> &[LogTrust] {
        &self.logs
    }

    /// The pinned emitter with this workload id.
    #[must_use]
    pub fn emitter(&self, workload: &str) -> Option<&EmitterTrust> {
        // An invalid id is simply not found: every pinned id was validated on load.
        self.emitters.get(workload)
    }

    /// All pinned emitters.
    pub fn emitters(&self) -> impl Iterator<Item = &EmitterTrust> {
        self.emitters.values()
    }

    /// The witnesses and quorum a bundle's checkpoint must meet (A3).
    #[must_use]
    pub const fn witness_policy(&self) -> &WitnessPolicy {
        &self.witnesses
    }

    /// The governance settings the B checks apply.
    #[must_use]
    pub const fn governance(&self) -> &Governance {
        &self.governance
    }

    /// The key an envelope must verify under: the issuer's pinned key with its key id.
    ///
    /// # Errors
    /// [`TrustError::UnknownEmitter`] or [`TrustError::UnknownKey`].
    pub fn key_for(&self, issuer: &str, kid: &[u8; KEY_ID_LEN]) -> Result<&PinnedKey, TrustError> {
        let emitter = self
            .emitter(issuer)
            .ok_or_else(|| TrustError::UnknownEmitter(issuer.to_owned()))?;
        emitter
            .keys
            .iter()
            .find(|k| &k.kid == kid)
            .ok_or_else(|| TrustError::UnknownKey(issuer.to_owned()))
    }

    /// Checks what the policy says about a verified event: the key was valid at the event's
    /// time, the emitter may sign its kind, and only enforcing emitters claim `enforced`.
    ///
    /// # Errors
    /// [`TrustError`].
    pub fn authorize<B: AsRef<[u8]>>(&self, ev: &VerifiedEvent<B>) -> Result<(), TrustError> {
        let e = ev.event();
        let workload = e.emitter.as_str();
        let key = self.key_for(workload, &ev.key_id())?;
        if !key.valid_at(e.time) {
            return Err(TrustError::KeyNotValidAt {
                workload: workload.to_owned(),
                time: e.time,
            });
        }
        // key_for succeeded, so the emitter exists.
        let emitter = self
            .emitter(workload)
            .ok_or_else(|| TrustError::UnknownEmitter(workload.to_owned()))?;
        if !emitter.kinds.contains(&e.kind()) {
            return Err(TrustError::KindNotAllowed {
                workload: workload.to_owned(),
                kind: e.kind(),
            });
        }
        if e.assurance == Assurance::Enforced && emitter.assurance != Assurance::Enforced {
            return Err(TrustError::AssuranceNotAllowed(workload.to_owned()));
        }
        Ok(())
    }

    /// Checks that the key of a verified event was not retired (its `not_after`, plus the
    /// policy's clock skew) before `logged_after`, a time the event is known to have entered
    /// the log after: a key valid at the event's claimed time cannot vouch for an event
    /// logged after its retirement (a backdated event under a stolen retired key). The
    /// ledger checks it against its clock at append; the auditor against the checkpoints
    /// around the entry.
    ///
    /// # Errors
    /// [`TrustError::KeyRetiredBeforeLogged`], or [`TrustError::UnknownEmitter`] /
    /// [`TrustError::UnknownKey`] for an event this policy does not pin.
    pub fn check_logged_at<B: AsRef<[u8]>>(
        &self,
        ev: &VerifiedEvent<B>,
        logged_after: Timestamp,
    ) -> Result<(), TrustError> {
        let e = ev.event();
        let key = self.key_for(e.emitter.as_str(), &ev.key_id())?;
        match key.not_after {
            Some(not_after)
                if logged_after > not_after.plus_ms(self.governance.clock_skew_ms()) =>
            {
                Err(TrustError::KeyRetiredBeforeLogged {
                    workload: e.emitter.to_string(),
                    not_after,
                    logged_after,
                })
            }
            _ => Ok(()),
        }
    }

    /// Verifies an envelope under the issuer's pinned key (strict Ed25519) and authorises it.
    ///
    /// # Errors
    /// [`TrustError`], including envelope errors.
    pub fn verify_event(&self, bytes: &[u8], limits: Limits) -> Result<VerifiedEvent, TrustError> {
        let parsed = envelope::parse(bytes, limits)?;
        let key = self
            .key_for(&parsed.header().issuer, &parsed.header().kid)?
            .key;
        let ev = parsed.verify(&key, limits)?;
        self.authorize(&ev)?;
        Ok(ev)
    }
}

impl TrustPolicy {
    /// Verifies many envelopes' signatures under the pinned keys of their issuers, with
    /// batch verification and a strict fallback (see [`envelope::verify_batch`]); one result
    /// per envelope, in order. Authorisation is not checked (see [`TrustPolicy::authorize`]).
    pub fn verify_signatures(
        &self,
        items: &[&[u8]],
        limits: Limits,
    ) -> Vec<Result<VerifiedEvent, TrustError>> {
        self.verify_signatures_as(items, limits, VerifiedEvent::into_owned)
    }

    /// [`TrustPolicy::verify_signatures`], the events keeping their bytes where they lie.
    pub(crate) fn verify_signatures_in_place<'a>(
        &self,
        items: &[&'a [u8]],
        limits: Limits,
    ) -> Vec<Result<VerifiedEvent<&'a [u8]>, TrustError>> {
        self.verify_signatures_as(items, limits, |e| e)
    }

    fn verify_signatures_as<'a, B>(
        &self,
        items: &[&'a [u8]],
        limits: Limits,
        keep: fn(VerifiedEvent<&'a [u8]>) -> VerifiedEvent<B>,
    ) -> Vec<Result<VerifiedEvent<B>, TrustError>> {
        let mut keyed: Vec<Result<(), TrustError>> = Vec::with_capacity(items.len());
        let mut parsed = Vec::with_capacity(items.len());
        for bytes in items {
            let item = envelope::parse(bytes, limits)
                .map_err(TrustError::from)
                .and_then(|p| {
                    let key = self.key_for(&p.header().issuer, &p.header().kid)?.key;
                    Ok((p, key))
                });
            match item {
                Ok(pk) => {
                    keyed.push(Ok(()));
                    parsed.push(Ok(pk));
                }
                Err(e) => keyed.push(Err(e)),
            }
        }
        let mut verified = envelope::verify_parsed_batch_as(parsed, limits, keep).into_iter();
        keyed
            .into_iter()
            .map(|k| {
                k?;
                // One verified result per successfully keyed envelope, in order.
                Ok(verified
                    .next()
                    .ok_or(TrustError::Envelope(EnvelopeError::BadSignature))??)
            })
            .collect()
    }

    /// Verifies and authorises many envelopes: [`TrustPolicy::verify_signatures`], then
    /// [`TrustPolicy::authorize`] for each; one result per envelope, in order.
    pub fn verify_events(
        &self,
        items: &[&[u8]],
        limits: Limits,
    ) -> Vec<Result<VerifiedEvent, TrustError>> {
        self.verify_signatures(items, limits)
            .into_iter()
            .map(|r| {
                let ev = r?;
                self.authorize(&ev)?;
                Ok(ev)
            })
            .collect()
    }
}

/// Runs `verify` over parts of `items` on all cores (one part for small inputs) and joins the
/// results in order. `verify` may return more than the verified event (what the caller derives from it on the
/// same core).
pub(crate) fn verify_in_parallel<'a, R: Send, F>(
    items: &[&'a [u8]],
    verify: F,
) -> Vec<Result<R, TrustError>>
where
    F: Fn(&[&'a [u8]]) -> Vec<Result<R, TrustError>> + Sync,
{
    // Parts of at least 512: a batch of that size costs less per signature than one of 256
    // (a larger Pippenger window), while an append of 1 024 still spreads over two cores.
    crate::parallel::map_parts(items, 512, verify)
}

/// Standard base64 of a public key, as trust files hold it.
#[must_use]
pub fn public_key_base64(key: &VerifyingKey) -> String {
    b64_encode(key.as_bytes())
}
