//! The trust policy file: what an auditor writes and pins (TOML, or JSON through serde).
//!
//! ```toml
//! version = 1
//! witness_policy = """
//! witness w1 witness.example/w1+3a1f09c2+BA…
//! witness w2 witness.example/w2+91be0d47+BA…
//! group both all w1 w2
//! quorum both
//! """
//!
//! [[logs]]
//! origin = "example.com/agents"
//! hash = "sha256"
//! verifier_key = "example.com/agents+1a2b3c4d+AbC…"
//!
//! [[emitters]]
//! workload = "spiffe://bank.example/pdp"
//! assurance = "enforced"
//! kinds = ["PolicyDecision"]
//! keys = [{ public_key = "<base64 Ed25519 public key>", not_before = 1700000000000 }]
//! ```

use serde::{Deserialize, Serialize};

use super::GovernanceEntry;
use crate::event::Assurance;

/// The file format version this crate reads.
pub const TRUST_FILE_VERSION: u32 = 1;

/// The trust policy as written in a file, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustDocument {
    /// Always [`TRUST_FILE_VERSION`].
    pub version: u32,
    /// Logs the auditor trusts.
    #[serde(default)]
    pub logs: Vec<LogEntry>,
    /// Emitters the auditor trusts.
    #[serde(default)]
    pub emitters: Vec<EmitterEntry>,
    /// What the governance checks require (defaults: see [`super::Governance`]).
    #[serde(default)]
    pub governance: GovernanceEntry,
    /// The witnesses and the quorum a bundle's checkpoint must meet, as C2SP `tlog-policy`
    /// text (see [`super::WitnessPolicy`]). Absent: no cosignature is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_policy: Option<String>,
}

/// One pinned log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// The log's checkpoint origin line.
    pub origin: String,
    /// Hash profile: `blake3` or `sha256`.
    pub hash: String,
    /// The log's C2SP verifier key, `name+hex8+base64`: its first key, valid from size 0.
    pub verifier_key: String,
    /// The largest checkpoint size `verifier_key` may sign (after a rotation). Absent: no
    /// bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_size: Option<u64>,
    /// Keys the log rotated to, each with the sizes it may sign.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotated: Vec<LogKeyEntry>,
}

/// A key a log rotated to, and the checkpoint sizes (inclusive) it may sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogKeyEntry {
    /// The key's C2SP verifier key (named after the log's origin).
    pub verifier_key: String,
    /// The first checkpoint size it may sign.
    pub from_size: u64,
    /// The last, if it was retired in turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_size: Option<u64>,
}

/// One pinned emitter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmitterEntry {
    /// Workload id.
    pub workload: String,
    /// `enforced` for gateways, PDPs, token and approval services; `self_reported` for agents.
    pub assurance: Assurance,
    /// Event kinds it may sign, by name.
    pub kinds: Vec<String>,
    /// Its public keys.
    pub keys: Vec<KeyEntry>,
}

/// One public key and when it may be used (event time, ms since the epoch, inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// Standard base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    /// Not valid for events before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<u64>,
    /// Not valid for events after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<u64>,
}
