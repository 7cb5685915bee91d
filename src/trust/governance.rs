//! The governance part of the trust policy: what the auditor (and the runtime gate) require
//! of a task beyond signatures: which trust domains are the deployment's own and which
//! partners may be delegated what, who counts as a human, how much clock skew is tolerated,
//! and a profile per risk tier (MFA, authentication age, approval, credential lifetime,
//! reuse of an approval). `docs/trust-policy.md` has the file form and the defaults.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::PolicyError;
use super::identity::{self, canonical};
use crate::event::{Level, spiffe_trust_domain};

/// The `[governance]` table of a trust policy file. Every field is optional; what is left
/// out takes the default stated on [`Governance`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceEntry {
    /// The deployment's own SPIFFE trust domains (default: those of the pinned emitters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_domains: Option<Vec<String>>,
    /// Clock skew tolerated between an event's time and the log's signed time, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew_ms: Option<u64>,
    /// How long after a task's close a revocation it triggered may take effect, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_grace_ms: Option<u64>,
    /// Who is a human.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub humans: Option<HumansEntry>,
    /// Other organisations' trust domains that may be delegated to, and what.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<PartnerEntry>,
    /// Settings per risk tier, each overriding that tier's defaults.
    #[serde(default)]
    pub tiers: TiersEntry,
}

/// The identity rules that make an id a human's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HumansEntry {
    /// Identity providers (issuer URLs) that authenticate people. Empty: any issuer.
    #[serde(default)]
    pub issuers: Vec<String>,
    /// Patterns a human's id matches (`*` stands for any run of characters).
    pub ids: Vec<String>,
    /// Patterns of ids that are not people although they match `ids` (service accounts).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Identity providers whose ids are case-sensitive (ids of every other issuer are
    /// compared with their case folded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub case_sensitive_issuers: Vec<String>,
}

/// A partner's trust domain and the scopes its workloads may be delegated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerEntry {
    /// The partner's SPIFFE trust domain.
    pub trust_domain: String,
    /// The most a delegation to it may carry.
    pub scopes: Vec<String>,
}

/// The four tiers' settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TiersEntry {
    /// `low`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<TierEntry>,
    /// `medium`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<TierEntry>,
    /// `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<TierEntry>,
    /// `critical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<TierEntry>,
}

/// One tier's settings as written; each overrides the tier's default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierEntry {
    /// Whether the human must have used multi-factor authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<bool>,
    /// Longest time between authentication and confirming the instruction, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_auth_age_ms: Option<u64>,
    /// Whether every action needs a human approval, whatever the decision says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<bool>,
    /// The fewest distinct approvers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_quorum: Option<u32>,
    /// The role an approver must hold when the decision names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_role: Option<String>,
    /// Longest credential lifetime when the decision sets none, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_credential_ttl_ms: Option<u64>,
    /// What a second successful execution under one approval is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_reuse: Option<ApprovalReuse>,
}

/// What a second successful execution under one approval is: allowed, worth a warning, or
/// a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApprovalReuse {
    /// Allowed (a batch approved once for many executions).
    Allow,
    /// Allowed, with a warning naming the executions.
    Warn,
    /// A failure of B7.
    Fail,
}

/// One risk tier's requirements.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TierProfile {
    /// The human must have used multi-factor authentication.
    pub mfa: bool,
    /// Longest time from authentication to confirmation, if bounded.
    pub max_auth_age_ms: Option<u64>,
    /// Every action needs a human approval.
    pub approval: bool,
    /// The fewest distinct approvers of an action that needs approval (at least 1).
    pub approval_quorum: u32,
    /// The role an approver must hold where the decision names none.
    pub approval_role: Option<String>,
    /// Longest credential lifetime where the decision sets none, if bounded.
    pub max_credential_ttl_ms: Option<u64>,
    /// A second successful execution under one approval.
    pub approval_reuse: ApprovalReuse,
}

impl TierProfile {
    /// The defaults: `low` and `medium` require nothing and warn on approval reuse; `high`
    /// requires MFA, one human approval, credentials of at most 15 minutes and fails on
    /// reuse; `critical` as `high`, with credentials of at most 5 minutes.
    #[must_use]
    pub fn default_for(tier: Level) -> Self {
        let strict = matches!(tier, Level::High | Level::Critical);
        Self {
            mfa: strict,
            max_auth_age_ms: None,
            approval: strict,
            approval_quorum: 1,
            approval_role: None,
            max_credential_ttl_ms: match tier {
                Level::Low | Level::Medium => None,
                Level::High => Some(900_000),
                Level::Critical => Some(300_000),
            },
            approval_reuse: if strict {
                ApprovalReuse::Fail
            } else {
                ApprovalReuse::Warn
            },
        }
    }

    fn with(mut self, e: &TierEntry) -> Self {
        self.mfa = e.mfa.unwrap_or(self.mfa);
        self.max_auth_age_ms = e.max_auth_age_ms.or(self.max_auth_age_ms);
        self.approval = e.approval.unwrap_or(self.approval);
        self.approval_quorum = e.approval_quorum.unwrap_or(self.approval_quorum);
        self.approval_role = e.approval_role.clone().or(self.approval_role);
        self.max_credential_ttl_ms = e.max_credential_ttl_ms.or(self.max_credential_ttl_ms);
        self.approval_reuse = e.approval_reuse.unwrap_or(self.approval_reuse);
        self
    }

    /// The first setting in which `self` is more lenient than `lower`, the tier below it.
    fn more_lenient_than(&self, lower: &Self) -> Option<&'static str> {
        // An unset bound is no bound: the loosest.
        let looser = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (None, Some(_)) => true,
            (Some(a), Some(b)) => a > b,
            _ => false,
        };
        if lower.mfa && !self.mfa {
            Some("mfa")
        } else if looser(self.max_auth_age_ms, lower.max_auth_age_ms) {
            Some("max_auth_age_ms")
        } else if lower.approval && !self.approval {
            Some("approval")
        } else if self.approval_quorum < lower.approval_quorum {
            Some("approval_quorum")
        } else if looser(self.max_credential_ttl_ms, lower.max_credential_ttl_ms) {
            Some("max_credential_ttl_ms")
        } else if self.approval_reuse < lower.approval_reuse {
            Some("approval_reuse")
        } else {
            None
        }
    }
}

/// Who is a human: ids matching a pattern and no exclusion, from a listed identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HumanRules {
    issuers: BTreeSet<String>,
    /// Patterns in canonical form (NFKC, case folded), matched against canonical ids.
    ids: Vec<String>,
    exclude: Vec<String>,
    case_sensitive: BTreeSet<String>,
}

/// The validated governance settings.
///
/// Defaults: trust domains are those of the pinned emitters' SPIFFE ids; no partners;
/// 5 minutes of clock skew; 5 seconds of revocation grace after a close; nobody is a human
/// until `[governance.humans]` says who is (an approval or intent then cannot pass); tiers
/// as [`TierProfile::default_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Governance {
    trust_domains: BTreeSet<String>,
    clock_skew_ms: u64,
    revocation_grace_ms: u64,
    humans: Option<HumanRules>,
    partners: BTreeMap<String, Vec<String>>,
    tiers: [TierProfile; 4],
}

/// Default clock skew: 5 minutes.
pub const DEFAULT_CLOCK_SKEW_MS: u64 = 300_000;
/// Default revocation grace after a close: 5 seconds.
pub const DEFAULT_REVOCATION_GRACE_MS: u64 = 5_000;

const TIERS: [Level; 4] = [Level::Low, Level::Medium, Level::High, Level::Critical];

impl Default for Governance {
    fn default() -> Self {
        Self {
            trust_domains: BTreeSet::new(),
            clock_skew_ms: DEFAULT_CLOCK_SKEW_MS,
            revocation_grace_ms: DEFAULT_REVOCATION_GRACE_MS,
            humans: None,
            partners: BTreeMap::new(),
            tiers: TIERS.map(TierProfile::default_for),
        }
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (none too).
#[must_use]
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    // Cannot fail: split yields at least one part.
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn tier_index(tier: Level) -> usize {
    match tier {
        Level::Low => 0,
        Level::Medium => 1,
        Level::High => 2,
        Level::Critical => 3,
    }
}

fn check_domain(domain: &str) -> Result<String, PolicyError> {
    spiffe_trust_domain(&format!("spiffe://{domain}"))
        .filter(|d| *d == domain)
        .map(str::to_owned)
        .ok_or_else(|| PolicyError::TrustDomain(domain.to_owned()))
}

fn humans(e: &HumansEntry) -> Result<HumanRules, PolicyError> {
    if e.ids.is_empty() || e.ids.iter().chain(&e.exclude).any(String::is_empty) {
        return Err(PolicyError::Humans(
            "ids needs at least one pattern, and no pattern may be empty",
        ));
    }
    if e.ids.iter().any(|p| p.starts_with("spiffe://")) {
        return Err(PolicyError::Humans("a human id pattern names a SPIFFE id"));
    }
    let fold = |patterns: &[String]| patterns.iter().map(|p| canonical(p, true)).collect();
    Ok(HumanRules {
        issuers: e.issuers.iter().cloned().collect(),
        ids: fold(&e.ids),
        exclude: fold(&e.exclude),
        case_sensitive: e.case_sensitive_issuers.iter().cloned().collect(),
    })
}

impl Governance {
    /// Validates the `[governance]` table; `emitter_domains` are the trust domains of the
    /// pinned emitters (the default deployment domains).
    pub(super) fn from_entry(
        e: &GovernanceEntry,
        emitter_domains: BTreeSet<String>,
    ) -> Result<Self, PolicyError> {
        let mut g = Self::default();
        g.trust_domains = match &e.trust_domains {
            Some(list) => list
                .iter()
                .map(|d| check_domain(d))
                .collect::<Result<_, _>>()?,
            None => emitter_domains,
        };
        g.clock_skew_ms = e.clock_skew_ms.unwrap_or(g.clock_skew_ms);
        g.revocation_grace_ms = e.revocation_grace_ms.unwrap_or(g.revocation_grace_ms);
        g.humans = e.humans.as_ref().map(humans).transpose()?;
        for p in &e.partners {
            let domain = check_domain(&p.trust_domain)?;
            if g.trust_domains.contains(&domain) || g.partners.contains_key(&domain) {
                return Err(PolicyError::Partner(domain));
            }
            g.partners.insert(domain, p.scopes.clone());
        }
        let t = &e.tiers;
        for (tier, entry) in TIERS.iter().zip([&t.low, &t.medium, &t.high, &t.critical]) {
            if let Some(entry) = entry {
                let k = tier_index(*tier);
                g.tiers[k] = g.tiers[k].clone().with(entry);
            }
        }
        g.check_tiers()?;
        Ok(g)
    }

    /// Each tier at least as strict as the one below it, quorums at least 1.
    fn check_tiers(&self) -> Result<(), PolicyError> {
        for (k, tier) in TIERS.iter().enumerate() {
            let profile = &self.tiers[k];
            if profile.approval_quorum == 0 {
                return Err(PolicyError::Tier {
                    tier: *tier,
                    setting: "approval_quorum",
                });
            }
            if let Some(below) = k.checked_sub(1)
                && let Some(setting) = profile.more_lenient_than(&self.tiers[below])
            {
                return Err(PolicyError::Tier {
                    tier: *tier,
                    setting,
                });
            }
        }
        Ok(())
    }

    /// The profile of a risk tier.
    #[must_use]
    pub fn tier(&self, tier: Level) -> &TierProfile {
        &self.tiers[tier_index(tier)]
    }

    /// Whether the policy says who is a human at all.
    #[must_use]
    pub const fn names_humans(&self) -> bool {
        self.humans.is_some()
    }

    /// Whether `id`, authenticated by `issuer` where the event records one, is a person by
    /// the policy's identity rules. A SPIFFE id never is, nor an id with invisible or control
    /// characters, white space or mixed scripts. Patterns match the id's canonical form
    /// (NFKC, case folded), so no spelling of an excluded id escapes its exclusion.
    #[must_use]
    pub fn is_human(&self, id: &str, issuer: Option<&str>) -> bool {
        let Some(h) = &self.humans else {
            return false;
        };
        let issuer_ok = issuer.is_none_or(|i| h.issuers.is_empty() || h.issuers.contains(i));
        let folded = canonical(id, true);
        !folded.starts_with("spiffe://")
            && issuer_ok
            && identity::unacceptable(id).is_none()
            && h.ids.iter().any(|p| glob_match(p, &folded))
            && !h.exclude.iter().any(|p| glob_match(p, &folded))
    }

    /// Whether `a` and `b` name the same identity, as issued by `issuer` (where equality
    /// grants something: compared in canonical form, case folded unless the issuer is listed
    /// as case-sensitive).
    #[must_use]
    pub fn same_identity(&self, a: &str, b: &str, issuer: Option<&str>) -> bool {
        let fold = self
            .humans
            .as_ref()
            .is_none_or(|h| issuer.is_none_or(|i| !h.case_sensitive.contains(i)));
        a == b || canonical(a, fold) == canonical(b, fold)
    }

    /// The key under which ids are possibly one person (where a difference grants
    /// something: separation of duties, quorum): equal for ids that differ in case, width,
    /// compatibility forms or confusable letters.
    #[must_use]
    pub fn person_key(&self, id: &str) -> String {
        identity::person_key(id)
    }

    /// Whether `a` and `b` are possibly one person ([`Governance::person_key`]).
    #[must_use]
    pub fn maybe_same_person(&self, a: &str, b: &str) -> bool {
        identity::maybe_same_person(a, b)
    }

    /// Whether a trust domain is the deployment's own.
    #[must_use]
    pub fn is_own_domain(&self, domain: &str) -> bool {
        self.trust_domains.contains(domain)
    }

    /// The deployment's own trust domains.
    #[must_use]
    pub const fn trust_domains(&self) -> &BTreeSet<String> {
        &self.trust_domains
    }

    /// The scopes a partner trust domain may be delegated, if it is a partner.
    #[must_use]
    pub fn partner_scopes(&self, domain: &str) -> Option<&[String]> {
        self.partners.get(domain).map(Vec::as_slice)
    }

    /// Clock skew tolerated against the log's signed time, in ms.
    #[must_use]
    pub const fn clock_skew_ms(&self) -> u64 {
        self.clock_skew_ms
    }

    /// Grace after a close for the revocations it triggered, in ms.
    #[must_use]
    pub const fn revocation_grace_ms(&self) -> u64 {
        self.revocation_grace_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_runs_of_any_characters() {
        for (p, t, want) in [
            ("*@bank.example", "alice@bank.example", true),
            ("*@bank.example", "alice@bank.example.evil", false),
            ("svc-*@bank.example", "svc-pay@bank.example", true),
            ("svc-*@bank.example", "alice@bank.example", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "acb", false),
            ("ab*ba", "aba", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("*", "", true),
        ] {
            assert_eq!(glob_match(p, t), want, "{p} {t}");
        }
    }

    fn with_tiers(tiers: TiersEntry) -> Result<Governance, PolicyError> {
        let entry = GovernanceEntry {
            tiers,
            ..GovernanceEntry::default()
        };
        Governance::from_entry(&entry, BTreeSet::new())
    }

    #[test]
    fn critical_is_never_more_lenient_than_high() {
        let lenient = TierEntry {
            mfa: Some(false),
            ..TierEntry::default()
        };
        let err = with_tiers(TiersEntry {
            critical: Some(lenient.clone()),
            ..TiersEntry::default()
        });
        assert_eq!(
            err,
            Err(PolicyError::Tier {
                tier: Level::Critical,
                setting: "mfa"
            })
        );
        // Lowering high as well keeps the order.
        let both = with_tiers(TiersEntry {
            high: Some(lenient.clone()),
            critical: Some(lenient),
            ..TiersEntry::default()
        });
        assert!(both.is_ok(), "{both:?}");
        let ttl = with_tiers(TiersEntry {
            critical: Some(TierEntry {
                max_credential_ttl_ms: Some(3_600_000),
                ..TierEntry::default()
            }),
            ..TiersEntry::default()
        });
        assert_eq!(
            ttl,
            Err(PolicyError::Tier {
                tier: Level::Critical,
                setting: "max_credential_ttl_ms"
            })
        );
    }

    #[test]
    fn defaults_make_high_and_critical_strict() {
        let g = Governance::default();
        for tier in [Level::High, Level::Critical] {
            let p = g.tier(tier);
            assert!(p.mfa && p.approval && p.max_credential_ttl_ms.is_some());
            assert_eq!(p.approval_reuse, ApprovalReuse::Fail);
        }
        assert!(!g.tier(Level::Low).mfa);
        assert!(
            !g.is_human("alice@bank.example", None),
            "nobody without rules"
        );
    }

    #[test]
    fn humans_are_decided_by_patterns_exclusions_and_issuers() {
        let entry = GovernanceEntry {
            humans: Some(HumansEntry {
                issuers: vec!["https://idp.bank.example".into()],
                ids: vec!["*@bank.example".into()],
                exclude: vec!["*-bot@bank.example".into()],
                case_sensitive_issuers: vec![],
            }),
            ..GovernanceEntry::default()
        };
        let g = Governance::from_entry(&entry, BTreeSet::new()).expect("valid");
        assert!(g.is_human("alice@bank.example", Some("https://idp.bank.example")));
        assert!(g.is_human("alice@bank.example", None));
        assert!(!g.is_human("payments-bot@bank.example", None));
        assert!(!g.is_human("alice@bank.example", Some("https://idp.evil.example")));
        assert!(!g.is_human("spiffe://bank.example/x@bank.example", None));
        // Every spelling of an excluded id is excluded; no invisible character hides it.
        assert!(!g.is_human("Payments-BOT@bank.example", None));
        assert!(!g.is_human("payments-ｂｏｔ@bank.example", None));
        assert!(!g.is_human("payments-b\u{200B}ot@bank.example", None));
        assert!(!g.is_human("SPIFFE://bank.example/x@bank.example", None));
        assert!(g.is_human("Alice@Bank.Example", None));
        assert!(!g.is_human("аlice@bank.example", None), "mixed scripts");
    }

    #[test]
    fn identities_compare_canonically_and_persons_by_skeleton() {
        let entry = GovernanceEntry {
            humans: Some(HumansEntry {
                issuers: vec![],
                ids: vec!["*".into()],
                exclude: vec![],
                case_sensitive_issuers: vec!["https://ldap.bank.example".into()],
            }),
            ..GovernanceEntry::default()
        };
        let g = Governance::from_entry(&entry, BTreeSet::new()).expect("valid");
        assert!(g.same_identity("Alice@bank.example", "alice@bank.example", None));
        assert!(g.same_identity("alice", "ALICE", Some("https://idp.bank.example")));
        assert!(!g.same_identity("alice", "ALICE", Some("https://ldap.bank.example")));
        assert!(
            !g.same_identity("аlice", "alice", None),
            "a confusable is not the same id"
        );
        assert!(
            g.maybe_same_person("аlice", "ALICE"),
            "but possibly the same person"
        );
        assert!(!g.maybe_same_person("alice", "bob"));
    }
}
