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
    /// looks expired by then (fails A5: no event may claim a time after the log signed it;
    /// and B10: by the log's signed time the credential outlived the close).
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
    /// The credential is issued while the approval is still pending (fails B5 and B7).
    CredentialBeforeApproval,
    /// The decision is made after the action started, though logged before it (fails B3, and
    /// B5: the credential was issued under it before it was made).
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

    /// The checks this scenario should fail (none: it passes).
    #[must_use]
    pub const fn expected_failure(self) -> &'static [&'static str] {
        match self {
            Self::Compliant => &[],
            // Beyond the skew (A5), and the credential it meant to hide outlived the close
            // by the log's own time (B10).
            Self::FutureClose => &["A5", "B10"],
            Self::NoMfa => &["B1"],
            Self::ForeignAgent | Self::AgentDelegatesForHuman => &["B2"],
            // The credential was issued under the decision before it was made (B5).
            Self::DecisionAfterStart => &["B3", "B5"],
            Self::UnregisteredPolicy | Self::UnknownRule => &["B4"],
            Self::ExpiredCredential
            | Self::RevokedCredential
            | Self::OtherInstance
            | Self::ReadOnlyGrant => &["B5"],
            Self::OutOfScope => &["B6"],
            Self::SelfApproval | Self::ServiceAccountApprover => &["B7"],
            // The token service issued before the approval (B5, whether or not used), and
            // the action relied on that credential (B7).
            Self::CredentialBeforeApproval => &["B5", "B7"],
            Self::NeverRevoked => &["B10"],
        }
    }

    /// What the runtime gate, and a token service following the revocation feed, make of
    /// the scenario: the check the gate blocks its action for, if it does; and the checks the
    /// task still fails (a rule about the task rather than its action, which no gate before
    /// the action can undo, or a time the log contradicts).
    #[must_use]
    pub const fn with_gate(self) -> (Option<&'static str>, &'static [&'static str]) {
        match self {
            Self::Compliant | Self::NeverRevoked => (None, &[]),
            Self::FutureClose => (None, &["A5", "B10"]),
            Self::NoMfa => (Some("B1"), &["B1"]),
            Self::UnregisteredPolicy | Self::UnknownRule => (Some("B4"), &["B4"]),
            // The credential was issued before the approval whether or not the gate then
            // blocks the action that would use it.
            Self::CredentialBeforeApproval => (Some("B7"), &["B5"]),
            Self::DecisionAfterStart => (Some("B3"), &["B5"]),
            // Issued beyond its decision's grant: judged whether or not it is used.
            Self::ReadOnlyGrant => (Some("B5"), &["B5"]),
            _ => match self.expected_failure() {
                [first, ..] => (Some(first), &[]),
                [] => (None, &[]),
            },
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
