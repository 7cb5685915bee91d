//! `warrant bench --gate`: a log of governed tasks instead of bare actions, so that the
//! gate's live state is kept on the append path while the ingest is measured; then the
//! gate itself: admission latency with many open tasks, the memory its state takes per open
//! task, and the time a reopen takes to rebuild it.
//!
//! Five tasks in eight are left open (intent, delegation, decision, credential: four
//! events); the others run to the end (four actions, the revocation, the close: ten
//! events). Open tasks are a tenth of the entries: 10^5 of them at 10^6 entries.

use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use ed25519_dalek::SigningKey;
use serde::Serialize;
use warrant_ledger::envelope::{EmitterChain, VerifiedEvent};
use warrant_ledger::event::*;
use warrant_ledger::gate::ActionRequest;
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::trust::TrustPolicy;

const EMITTER: &str = "spiffe://bench.example/gateway";
const AGENT: &str = "spiffe://bench.example/agent";
const ACTION: &str = "payments:transfer";
const SERVICE: &str = "https://payments.bench.example";
const DAY_MS: u64 = 86_400_000;

/// The trust policy: one enforcing service signs every kind (one key, as in the plain
/// bench, so that both compare with the same verification limit), and the bench's people
/// are humans.
pub(crate) fn trust_toml(public_key: &str) -> String {
    format!(
        "version = 1\n[[emitters]]\nworkload = \"{EMITTER}\"\nassurance = \"enforced\"\n\
         kinds = [\"PolicyRegistered\", \"TaskOpened\", \"DelegationGranted\", \"PolicyDecision\", \
         \"CredentialIssued\", \"ActionExecuted\", \"CredentialRevoked\", \"TaskClosed\"]\n\
         keys = [{{ public_key = \"{public_key}\" }}]\n\
         [governance.humans]\nids = [\"*@bench.example\"]\n"
    )
}

fn policy() -> PolicyRef {
    PolicyRef {
        id: "payments/transfer".into(),
        revision: "1".into(),
        digest: Digest::of(b"bench policy"),
    }
}

/// The policy registration the decisions cite (logged before the tasks).
pub(crate) fn registration(key: &SigningKey, at: Timestamp) -> Result<VerifiedEvent> {
    let mut chain =
        EmitterChain::ledger_level(key.clone(), WorkloadId::new(EMITTER)?, Assurance::Enforced);
    let body = Body::PolicyRegistered(PolicyRegistered {
        policy: policy(),
        engine: "opa".into(),
        rule_ids: vec!["allow".into()],
        effective_from: at,
    });
    Ok(chain.emit(body, at, vec![])?)
}

/// A task the bench leaves open: what a request for it needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenTask {
    task: TaskId,
    n: u64,
    start: Timestamp,
}

fn human(n: u64) -> String {
    format!("user{}@bench.example", n % 100)
}

fn instance(n: u64) -> String {
    format!("pool/{}", n % 4)
}

fn account(n: u64) -> String {
    format!("account:{n:08}")
}

fn opened(n: u64, t: Timestamp) -> Body {
    Body::TaskOpened(TaskOpened {
        principal: HumanPrincipal {
            id: human(n),
            issuer: "https://idp.bench.example".into(),
            auth_methods: vec!["pwd".into(), "hwk".into()],
            auth_time: t,
            assurance_level: "aal2".into(),
            mfa: true,
        },
        instruction_digest: Digest::of(&n.to_le_bytes()),
        interpretation_digest: Digest::of(&(!n).to_le_bytes()),
        confirmed_at: t.plus_ms(1),
        purpose: "vendor payment".into(),
        data_class: "financial".into(),
        scope_ceiling: vec![ACTION.into()],
        risk_tier: Level::Low,
        expires_at: t.plus_ms(DAY_MS),
        initiation: TaskInitiation::Human,
    })
}

fn delegated(n: u64, t: Timestamp) -> Result<Body> {
    Ok(Body::DelegationGranted(DelegationGranted {
        delegator: Delegator::Human { id: human(n) },
        delegatee: WorkloadRef {
            id: WorkloadId::new(AGENT)?,
            trust_domain: "bench.example".into(),
            instance: instance(n),
        },
        scope: vec![ACTION.into()],
        expires_at: t.plus_ms(DAY_MS),
        mode: DelegationMode::Delegation,
        cross_domain: false,
    }))
}

fn decided(n: u64, t: Timestamp) -> Body {
    Body::PolicyDecision(PolicyDecision {
        decision_id: format!("dec-{n}"),
        policy: policy(),
        request: DecisionRequest {
            principal: human(n),
            actor_chain: vec![human(n), AGENT.into()],
            action: ACTION.into(),
            resources: vec![account(n)],
            context_digest: Digest::of(b"ctx"),
        },
        input_digest: Digest::of(&n.to_le_bytes()),
        effect: Effect::Allow,
        rule_ids: vec!["allow".into()],
        obligations: Obligations {
            approval: None,
            max_credential_ttl_ms: None,
            granted_scope: vec![ACTION.into()],
        },
        valid_until: t.plus_ms(DAY_MS),
    })
}

fn issued(n: u64, t: Timestamp, decision: EventRef) -> Result<Body> {
    Ok(Body::CredentialIssued(CredentialIssued {
        credential: Credential {
            id: format!("cred-{n}"),
            cred_type: "oauth_access_token".into(),
            value_digest: Digest::of(&n.to_be_bytes()),
            issuer: "https://sts.bench.example".into(),
            audience: SERVICE.into(),
            scopes: vec![ACTION.into()],
            not_before: t,
            expires_at: t.plus_ms(DAY_MS),
            bound_key_digest: None,
        },
        holder: Holder {
            id: WorkloadId::new(AGENT)?,
            instance: instance(n),
        },
        decision,
        approval: None,
    }))
}

fn acted(n: u64, k: u64, t: Timestamp, decision: EventRef) -> Body {
    Body::ActionExecuted(ActionExecuted {
        action_id: format!("act-{n}-{k}"),
        actor_chain: vec![human(n), AGENT.into()],
        instance: instance(n),
        operation: Operation {
            service: SERVICE.into(),
            name: ACTION.into(),
            resources: vec![account(n)],
            permissions_used: vec![ACTION.into()],
        },
        request_digest: Digest::of(&k.to_le_bytes()),
        response_digest: Digest::of(&(!k).to_le_bytes()),
        credential_id: format!("cred-{n}"),
        decisions: vec![decision],
        approval: None,
        initiation: ActionInitiation::AgentPlanned,
        within_confirmed_scope: true,
        outcome: ActionOutcome::Success,
        blocked_by: Vec::new(),
        started_at: t,
        ended_at: t.plus_ms(1),
    })
}

/// Writes one framed event.
fn put(out: &mut impl std::io::Write, e: &VerifiedEvent) -> Result<u64> {
    out.write_all(&(e.bytes().len() as u32).to_le_bytes())?;
    out.write_all(e.bytes())?;
    Ok(e.bytes().len() as u64)
}

/// Signs task `n` from `t` into `out`: the four events up to the credential, and unless it
/// stays `open`, four actions, the revocation and the close.
fn task(
    key: &SigningKey,
    n: u64,
    t: Timestamp,
    open: bool,
    out: &mut impl std::io::Write,
) -> Result<(TaskId, u64)> {
    let id = TaskId::new_v7();
    let mut chain = EmitterChain::for_task(
        key.clone(),
        WorkloadId::new(EMITTER)?,
        id,
        Assurance::Enforced,
    );
    let mut bytes = 0;
    let intent = chain.emit(opened(n, t), t.plus_ms(1), vec![])?;
    bytes += put(out, &intent)?;
    let delegation = chain.emit(delegated(n, t)?, t.plus_ms(2), vec![])?;
    bytes += put(out, &delegation)?;
    let decision = chain.emit(decided(n, t), t.plus_ms(3), vec![])?;
    let decision_ref = decision.event().reference(decision.digest());
    bytes += put(out, &decision)?;
    let credential = chain.emit(issued(n, t.plus_ms(4), decision_ref)?, t.plus_ms(4), vec![])?;
    bytes += put(out, &credential)?;
    if open {
        return Ok((id, bytes));
    }
    for k in 0..4 {
        let at = t.plus_ms(5 + k);
        bytes += put(out, &chain.emit(acted(n, k, at, decision_ref), at, vec![])?)?;
    }
    let revoked = Body::CredentialRevoked(CredentialRevoked {
        credential_id: format!("cred-{n}"),
        reason: RevocationReason::TaskClosed,
        trigger: None,
        effective_at: t.plus_ms(9),
    });
    bytes += put(out, &chain.emit(revoked, t.plus_ms(9), vec![])?)?;
    let close = Body::TaskClosed(TaskClosed {
        outcome: TaskOutcome::Completed,
        manifest: chain.manifest_entry().into_iter().collect(),
        credentials_open: vec![],
    });
    bytes += put(out, &chain.emit(close, t.plus_ms(10), vec![])?)?;
    Ok((id, bytes))
}

/// Signs about `n` events of tasks into `path`, numbering tasks `first`, `first + stride`,
/// … (so that files do not share numbers, and their times interleave); returns the bytes
/// written, the events written and the tasks left open.
pub(crate) fn generate(
    key: &SigningKey,
    n: u64,
    (first, stride): (u64, u64),
    t0: Timestamp,
    path: &Path,
    bar: &indicatif::ProgressBar,
) -> Result<(u64, u64, Vec<OpenTask>)> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let (mut bytes, mut events, mut open) = (0, 0, Vec::new());
    let mut k = first;
    while events < n {
        // Of every eight tasks, five stay open: 5 × 4 of their events to 3 × 10 of closed
        // ones, so that open tasks are a tenth of the entries.
        let stays_open = (k / stride) % 8 < 5;
        let start = t0.plus_ms(k * 12);
        let (task, b) = task(key, k, start, stays_open, &mut out)?;
        let count = if stays_open { 4 } else { 10 };
        bytes += b;
        events += count;
        bar.inc(count);
        if stays_open {
            open.push(OpenTask { task, n: k, start });
        }
        k += stride;
    }
    out.flush()?;
    Ok((bytes, events, open))
}

/// The request the gateway makes before the first action of an open task.
fn request(t: &OpenTask) -> ActionRequest {
    ActionRequest::new(
        t.task,
        vec![human(t.n), AGENT.into()],
        instance(t.n),
        Operation {
            service: SERVICE.into(),
            name: ACTION.into(),
            resources: vec![account(t.n)],
            permissions_used: vec![ACTION.into()],
        },
        format!("cred-{}", t.n),
        t.start.plus_ms(5),
    )
}

/// The gate's figures.
#[derive(Debug, Serialize)]
pub(crate) struct GateFigures {
    /// Tasks the gate follows once the log is in.
    pub open_tasks: usize,
    /// Median and 99th-percentile latency of `Ledger::admit`, µs.
    pub admit_p50_us: f64,
    pub admit_p99_us: f64,
    /// Admissions measured (each allowed: the whole chain judged).
    pub admits: usize,
    /// Memory the rebuilt state takes, per open task (bytes allocated while a reader
    /// builds it).
    pub state_bytes_per_open_task: f64,
    /// Reopening the ledger and rebuilding the gate's state from its snapshot.
    pub reopen_ms: f64,
}

/// Bytes the allocator has handed out and not taken back (jemalloc's `stats.allocated`,
/// refreshed by advancing its epoch); 0 where the CLI does not run on jemalloc. The
/// resident set would not do: jemalloc keeps freed pages, so it barely moves.
fn allocated() -> u64 {
    #[cfg(not(target_env = "msvc"))]
    {
        use tikv_jemalloc_ctl::{epoch, stats};
        if epoch::advance().is_ok() {
            return stats::allocated::read().map_or(0, |b| b as u64);
        }
    }
    0
}

/// The gate's figures on the ledger in `dir`, whose writer's reopen (which rebuilt the
/// state from the snapshot of the last checkpoint and the entries since) took `reopen_ms`:
/// weighs the state as a reader builds it (readers build it on first use, so the
/// allocator's count before and after is the state and nothing else), then times
/// admissions for open tasks spread over the log.
pub(crate) fn measure(
    dir: &Path,
    trust: TrustPolicy,
    open: &[OpenTask],
    reopen_ms: f64,
) -> Result<GateFigures> {
    let ledger = Ledger::open_read_only(dir)?
        .with_trust(trust)
        .with_time_bounds(TimeBounds::history());
    let before = allocated();
    let open_tasks = ledger.followed_tasks()?;
    let state = allocated().saturating_sub(before);
    let count = open.len().min(20_000);
    let step = (open.len() / count.max(1)).max(1);
    let mut micros = Vec::with_capacity(count);
    for o in open.iter().step_by(step).take(count) {
        let req = request(o);
        let t = Instant::now();
        let admission = ledger.admit(&req)?;
        micros.push(t.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(
            admission.allowed,
            "an honest request was denied: {admission:?}"
        );
    }
    micros.sort_by(f64::total_cmp);
    let at = |q: f64| {
        micros
            .get(((micros.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(GateFigures {
        open_tasks,
        admit_p50_us: at(0.50),
        admit_p99_us: at(0.99),
        admits: micros.len(),
        state_bytes_per_open_task: state as f64 / open_tasks.max(1) as f64,
        reopen_ms,
    })
}
