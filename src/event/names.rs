//! The wire names of the event model's enums, as `Display`: what JSON shows and what
//! reports print (`high`, `agent_planned`, `session_revoked`…).

use core::fmt;

use super::kinds::{
    ActionInitiation, ActionOutcome, ApprovalOutcome, DelegationMode, Effect, Level,
    OverrideAction, RevocationReason, SignalType, TaskInitiation, TaskOutcome,
};
use super::types::Assurance;

macro_rules! wire_names {
    ($($ty:ident { $($variant:ident => $name:literal),* $(,)? })*) => {
        $(
            impl fmt::Display for $ty {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(match self {
                        $(Self::$variant => $name,)*
                    })
                }
            }
        )*
    };
}

wire_names! {
    Level { Low => "low", Medium => "medium", High => "high", Critical => "critical" }
    TaskInitiation { Human => "human", Scheduled => "scheduled", AgentSpawned => "agent_spawned" }
    DelegationMode { Delegation => "delegation", Impersonation => "impersonation" }
    Effect { Allow => "allow", Deny => "deny" }
    ApprovalOutcome { Granted => "granted", Denied => "denied", Expired => "expired" }
    ActionInitiation {
        HumanDirect => "human_direct",
        AgentPlanned => "agent_planned",
        AgentAutonomous => "agent_autonomous",
    }
    ActionOutcome { Success => "success", Failure => "failure", Blocked => "blocked" }
    SignalType {
        SessionRevoked => "session_revoked",
        RiskChange => "risk_change",
        Anomaly => "anomaly",
        CredentialCompromise => "credential_compromise",
        WorkloadCompromised => "workload_compromised",
    }
    RevocationReason {
        TaskClosed => "task_closed",
        TrustSignal => "trust_signal",
        PolicyChanged => "policy_changed",
        Manual => "manual",
    }
    TaskOutcome { Completed => "completed", Failed => "failed", Aborted => "aborted" }
    OverrideAction { BreakGlass => "break_glass", Stop => "stop" }
    Assurance { Enforced => "enforced", SelfReported => "self_reported" }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Display is the serde wire name, for every variant (a new variant without a name
    /// would not compile; a name that drifted from serde's fails here).
    #[test]
    fn display_is_the_wire_name() {
        fn same<T: serde::Serialize + fmt::Display>(values: &[T]) {
            for v in values {
                assert_eq!(serde_json::to_value(v).ok(), Some(v.to_string().into()));
            }
        }
        same(&[Level::Low, Level::Medium, Level::High, Level::Critical]);
        same(&[
            TaskInitiation::Human,
            TaskInitiation::Scheduled,
            TaskInitiation::AgentSpawned,
        ]);
        same(&[DelegationMode::Delegation, DelegationMode::Impersonation]);
        same(&[Effect::Allow, Effect::Deny]);
        same(&[
            ApprovalOutcome::Granted,
            ApprovalOutcome::Denied,
            ApprovalOutcome::Expired,
        ]);
        same(&[
            ActionInitiation::HumanDirect,
            ActionInitiation::AgentPlanned,
            ActionInitiation::AgentAutonomous,
        ]);
        same(&[
            ActionOutcome::Success,
            ActionOutcome::Failure,
            ActionOutcome::Blocked,
        ]);
        same(&[
            SignalType::SessionRevoked,
            SignalType::RiskChange,
            SignalType::Anomaly,
            SignalType::CredentialCompromise,
            SignalType::WorkloadCompromised,
        ]);
        same(&[
            RevocationReason::TaskClosed,
            RevocationReason::TrustSignal,
            RevocationReason::PolicyChanged,
            RevocationReason::Manual,
        ]);
        same(&[
            TaskOutcome::Completed,
            TaskOutcome::Failed,
            TaskOutcome::Aborted,
        ]);
        same(&[OverrideAction::BreakGlass, OverrideAction::Stop]);
        same(&[Assurance::Enforced, Assurance::SelfReported]);
    }
}
