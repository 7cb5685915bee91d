//! A realistic deployment and governed agent tasks, compliant and not, for `warrant demo`
//! and the tests: an identity-aware front door, a pool of agent instances, a policy decision
//! point, a token service issuing short-lived credentials, an approval service, an API gateway
//! and a policy registry, each with its own key.

mod gated;
mod scenario;
mod task;

use ed25519_dalek::SigningKey;

pub use gated::TaskInProgress;
pub use scenario::Scenario;
pub use task::{TaskRun, registered_policy, registration_event, run_long_task, run_task};

use crate::envelope::EmitterChain;
use crate::event::{Assurance, Kind, TaskId, WorkloadId};
use crate::trust::{
    EmitterEntry, GovernanceEntry, HumansEntry, KeyEntry, LogEntry, TRUST_FILE_VERSION,
    TrustDocument, public_key_base64,
};

/// Workload ids of the deployment.
pub mod workloads {
    /// Identity-aware front door: records intents, delegations, closes.
    pub const FRONT_DOOR: &str = "spiffe://bank.example/front-door";
    /// The agent pool (instances `pool-a/0`, `pool-a/1`, …).
    pub const AGENT: &str = "spiffe://bank.example/agent/payments";
    /// Policy decision point.
    pub const PDP: &str = "spiffe://bank.example/pdp";
    /// Token service.
    pub const STS: &str = "spiffe://bank.example/sts";
    /// Approval service.
    pub const APPROVALS: &str = "spiffe://bank.example/approvals";
    /// API gateway.
    pub const GATEWAY: &str = "spiffe://bank.example/gateway";
    /// Policy registry.
    pub const REGISTRY: &str = "spiffe://bank.example/policy-registry";
    /// An agent of another organisation, which the bank's trust policy names no partner for.
    pub const VENDOR_AGENT: &str = "spiffe://agents.vendor.example/payments";
    /// The bank's identity provider, which authenticates its people.
    pub const IDP: &str = "https://idp.bank.example";
}

use workloads::*;

/// Enforcing emitters and the kinds each may sign.
const EMITTERS: [(&str, &[Kind]); 6] = [
    (
        FRONT_DOOR,
        &[
            Kind::TaskOpened,
            Kind::DelegationGranted,
            Kind::TaskClosed,
            Kind::Override,
            Kind::TrustSignal,
        ],
    ),
    (PDP, &[Kind::PolicyDecision]),
    (STS, &[Kind::CredentialIssued, Kind::CredentialRevoked]),
    (
        APPROVALS,
        &[Kind::ApprovalRequested, Kind::ApprovalResolved],
    ),
    (GATEWAY, &[Kind::ActionExecuted]),
    (REGISTRY, &[Kind::PolicyRegistered]),
];

/// The services' keys.
pub struct Deployment {
    seed: [u8; 32],
}

impl Deployment {
    /// A deployment whose keys derive from `seed` (reproducible).
    #[must_use]
    pub const fn new(seed: [u8; 32]) -> Self {
        Self { seed }
    }

    /// The signing key of a workload.
    #[must_use]
    pub fn key(&self, workload: &str) -> SigningKey {
        SigningKey::from_bytes(blake3::keyed_hash(&self.seed, workload.as_bytes()).as_bytes())
    }

    /// An emitter chain for `workload` in `task` (or ledger-level events with `None`): the
    /// agent pool reports itself (`self_reported`), every other service enforces.
    ///
    /// # Panics
    /// Never for the workload ids of [`workloads`], which are valid.
    #[must_use]
    pub fn chain(&self, workload: &str, task: Option<TaskId>) -> EmitterChain<SigningKey> {
        #[allow(clippy::expect_used)]
        let w = WorkloadId::new(workload).expect("deployment workload ids are valid");
        let assurance = if workload == AGENT {
            Assurance::SelfReported
        } else {
            Assurance::Enforced
        };
        match task {
            Some(t) => EmitterChain::for_task(self.key(workload), w, t, assurance),
            None => EmitterChain::ledger_level(self.key(workload), w, assurance),
        }
    }

    fn emitter(&self, workload: &str, assurance: Assurance, kinds: &[Kind]) -> EmitterEntry {
        EmitterEntry {
            workload: workload.to_owned(),
            assurance,
            kinds: kinds.iter().map(|k| k.name().to_owned()).collect(),
            keys: vec![KeyEntry {
                public_key: public_key_base64(&self.key(workload).verifying_key()),
                not_before: None,
                not_after: None,
            }],
        }
    }

    /// The auditor's trust policy: the log; every service with its key and kinds, and the
    /// agent pool (self-reported, which may sub-delegate); the bank's people as the humans
    /// (ids `…@bank.example` from its identity provider, service accounts excluded); the
    /// default tier profiles.
    #[must_use]
    pub fn trust_document(
        &self,
        origin: &str,
        hash: &str,
        log_verifier_key: &str,
    ) -> TrustDocument {
        let mut emitters: Vec<EmitterEntry> = EMITTERS
            .iter()
            .map(|(w, kinds)| self.emitter(w, Assurance::Enforced, kinds))
            .collect();
        emitters.push(self.emitter(AGENT, Assurance::SelfReported, &[Kind::DelegationGranted]));
        let governance = GovernanceEntry {
            humans: Some(HumansEntry {
                issuers: vec![IDP.to_owned()],
                ids: vec!["*@bank.example".to_owned()],
                exclude: vec!["*-bot@bank.example".to_owned(), "svc-*".to_owned()],
                case_sensitive_issuers: Vec::new(),
            }),
            ..GovernanceEntry::default()
        };
        TrustDocument {
            version: TRUST_FILE_VERSION,
            logs: vec![LogEntry {
                origin: origin.to_owned(),
                hash: hash.to_owned(),
                verifier_key: log_verifier_key.to_owned(),
                until_size: None,
                rotated: Vec::new(),
            }],
            emitters,
            governance,
            witness_policy: None,
        }
    }
}
