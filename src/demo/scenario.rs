//! What happens in a demo task: everything in order, or one way a governance chain goes
//! wrong, each caught by exactly one of the auditor's checks.

/// What happens in a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scenario {
    /// Everything in order.
    Compliant,
    /// The action runs after its credential expired (fails B5).
    ExpiredCredential,
    /// The action runs after its credential was revoked (fails B5).
    RevokedCredential,
    /// The agent approves its own action (fails B7).
    SelfApproval,
    /// The action uses a permission outside the credential's scope (fails B6).
    OutOfScope,
    /// The credential is never revoked and outlives the task (fails B10).
    NeverRevoked,
    /// The decision cites a policy version that was never registered (fails B4).
    UnregisteredPolicy,
    /// The credential is never revoked, and the close is dated ten years ahead so that it
    /// looks expired by then (fails A5: no event may claim a time after the log signed it).
    FutureClose,
    /// The agent is another organisation's workload, and the delegation says it is not
    /// cross-domain (fails B2: the trust domain comes from the identity).
    ForeignAgent,
    /// The agent signs its own delegation on the human's behalf (fails B2: only an enforcing
    /// component passes on a human's authority).
    AgentDelegatesForHuman,
    /// The task is delegated to two instances of the pool; the credential is issued to one
    /// and used by the other (fails B5).
    OtherInstance,
    /// The credential, with the transfer permission and a 24-hour lifetime, is issued under a
    /// read-only decision (fails B5: its decision did not grant its scopes).
    ReadOnlyGrant,
    /// The decision cites a rule the registered policy does not define (fails B4).
    UnknownRule,
    /// A service account named like a person approves (fails B7).
    ServiceAccountApprover,
    /// The credential is issued while the approval is still pending (fails B7).
    CredentialBeforeApproval,
    /// The decision is made after the action started, though logged before it (fails B3).
    DecisionAfterStart,
    /// The high-risk intent is confirmed without multi-factor authentication (fails B1).
    NoMfa,
}

impl Scenario {
    /// Every scenario, compliant first.
    pub const ALL: [Self; 17] = [
        Self::Compliant,
        Self::ExpiredCredential,
        Self::RevokedCredential,
        Self::SelfApproval,
        Self::OutOfScope,
        Self::NeverRevoked,
        Self::UnregisteredPolicy,
        Self::FutureClose,
        Self::ForeignAgent,
        Self::AgentDelegatesForHuman,
        Self::OtherInstance,
        Self::ReadOnlyGrant,
        Self::UnknownRule,
        Self::ServiceAccountApprover,
        Self::CredentialBeforeApproval,
        Self::DecisionAfterStart,
        Self::NoMfa,
    ];

    /// The check this scenario should fail, if any.
    #[must_use]
    pub const fn expected_failure(self) -> Option<&'static str> {
        match self {
            Self::Compliant => None,
            Self::FutureClose => Some("A5"),
            Self::NoMfa => Some("B1"),
            Self::ForeignAgent | Self::AgentDelegatesForHuman => Some("B2"),
            Self::DecisionAfterStart => Some("B3"),
            Self::UnregisteredPolicy | Self::UnknownRule => Some("B4"),
            Self::ExpiredCredential
            | Self::RevokedCredential
            | Self::OtherInstance
            | Self::ReadOnlyGrant => Some("B5"),
            Self::OutOfScope => Some("B6"),
            Self::SelfApproval | Self::ServiceAccountApprover | Self::CredentialBeforeApproval => {
                Some("B7")
            }
            Self::NeverRevoked => Some("B10"),
        }
    }

    /// What the runtime gate, and a token service following the revocation feed, make of
    /// the scenario: the check the gate blocks its action for, if it does; and the check the
    /// task still fails, if any (a rule about the task rather than its action, which no
    /// gate before the action can undo, or a time the log contradicts).
    #[must_use]
    pub const fn with_gate(self) -> (Option<&'static str>, Option<&'static str>) {
        match self {
            Self::Compliant | Self::NeverRevoked => (None, None),
            Self::FutureClose => (None, Some("A5")),
            Self::NoMfa => (Some("B1"), Some("B1")),
            Self::UnregisteredPolicy | Self::UnknownRule => (Some("B4"), Some("B4")),
            _ => (self.expected_failure(), None),
        }
    }

    /// Whether the scenario shows its failure only in a high-risk task (one that needs an
    /// approval and multi-factor authentication).
    #[must_use]
    pub const fn needs_high_risk(self) -> bool {
        matches!(
            self,
            Self::SelfApproval
                | Self::ServiceAccountApprover
                | Self::CredentialBeforeApproval
                | Self::NoMfa
        )
    }

    /// A short description.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Compliant => "compliant transfer",
            Self::ExpiredCredential => "action with an expired credential",
            Self::RevokedCredential => "action with a revoked credential",
            Self::SelfApproval => "agent approving its own action",
            Self::OutOfScope => "action outside the granted scope",
            Self::NeverRevoked => "credential never revoked",
            Self::UnregisteredPolicy => "decision citing an unregistered policy version",
            Self::FutureClose => "close dated ten years ahead to hide an unrevoked credential",
            Self::ForeignAgent => "another organisation's agent passed off as in-domain",
            Self::AgentDelegatesForHuman => "agent granting itself the human's authority",
            Self::OtherInstance => "credential of one pool instance used by another",
            Self::ReadOnlyGrant => "transfer credential issued under a read-only decision",
            Self::UnknownRule => "decision citing a rule the policy does not define",
            Self::ServiceAccountApprover => "service account named like a person approving",
            Self::CredentialBeforeApproval => "credential issued before the approval",
            Self::DecisionAfterStart => "decision made after the action started",
            Self::NoMfa => "high-risk intent confirmed without MFA",
        }
    }
}
