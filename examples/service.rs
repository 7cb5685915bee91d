//! The service side, built by hand: the components of a deployment (identity-aware front
//! door, policy decision point, token service, API gateway, policy registry) each sign the
//! events they witness, with a key of their own, into one ledger; at the end the task's
//! evidence bundle is exported with the trust policy an auditor pins.
//!
//! ```sh
//! cargo run --example service -- /tmp/evidence     # writes ledger/, task.bundle, trust.toml
//! cargo run --example auditor -- /tmp/evidence     # verifies the bundle offline
//! ```
//!
//! The remote variant runs the ledger behind a ledger server (on loopback here; in a real
//! deployment on a host of its own, `warrant serve`): each component submits the envelopes
//! it signed over HTTP with a client of its own, so its key never leaves it, and the bundle
//! is fetched from the server.
//!
//! ```sh
//! cargo run --example service --features server,client -- --remote /tmp/evidence
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::envelope::{EmitterChain, SigningKey, VerifiedEvent, generate_key};
use warrant_ledger::event::*;
use warrant_ledger::ledger::Ledger;
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::trust::{
    EmitterEntry, GovernanceEntry, HumansEntry, KeyEntry, LogEntry, TRUST_FILE_VERSION,
    TrustDocument, TrustPolicy, public_key_base64,
};

const ORIGIN: &str = "bank.example/agent-ledger";
const FRONT_DOOR: &str = "spiffe://bank.example/front-door";
const PDP: &str = "spiffe://bank.example/pdp";
const STS: &str = "spiffe://bank.example/sts";
const GATEWAY: &str = "spiffe://bank.example/gateway";
const REGISTRY: &str = "spiffe://bank.example/policy-registry";
const AGENT: &str = "spiffe://bank.example/agent/payments";
const ALICE: &str = "alice@bank.example";
const SERVICE: &str = "https://payments.bank.example";

type Error = Box<dyn std::error::Error>;

/// One component: its workload id, its key, the event kinds it signs.
struct Component {
    id: &'static str,
    key: SigningKey,
    kinds: &'static [&'static str],
}

impl Component {
    fn new(id: &'static str, kinds: &'static [&'static str]) -> Self {
        Self {
            id,
            key: generate_key(),
            kinds,
        }
    }

    /// This component's chain of events in `task` (or its ledger-level events).
    fn chain(&self, task: Option<TaskId>) -> Result<EmitterChain<SigningKey>, Error> {
        let w = WorkloadId::new(self.id)?;
        Ok(match task {
            Some(t) => EmitterChain::for_task(self.key.clone(), w, t, Assurance::Enforced),
            None => EmitterChain::ledger_level(self.key.clone(), w, Assurance::Enforced),
        })
    }

    fn pinned(&self) -> EmitterEntry {
        EmitterEntry {
            workload: self.id.into(),
            assurance: Assurance::Enforced,
            kinds: self.kinds.iter().map(|k| (*k).to_owned()).collect(),
            keys: vec![KeyEntry {
                public_key: public_key_base64(&self.key.verifying_key()),
                not_before: None,
                not_after: None,
            }],
        }
    }
}

/// What the auditor pins: the log, each component's key and kinds, who is a person.
fn trust_document(log: &NoteSigner, components: &[&Component]) -> TrustDocument {
    TrustDocument {
        version: TRUST_FILE_VERSION,
        logs: vec![LogEntry {
            origin: ORIGIN.into(),
            hash: "sha256".into(),
            verifier_key: log.verifier().to_string(),
            until_size: None,
            rotated: Vec::new(),
        }],
        emitters: components.iter().map(|c| c.pinned()).collect(),
        governance: GovernanceEntry {
            humans: Some(HumansEntry {
                issuers: vec!["https://idp.bank.example".into()],
                ids: vec!["*@bank.example".into()],
                exclude: vec![],
                case_sensitive_issuers: vec![],
            }),
            ..GovernanceEntry::default()
        },
        // Without witnesses the log's signature is the only one on a checkpoint;
        // docs/witnessing.md shows a policy that asks for cosignatures.
        witness_policy: None,
    }
}

fn r(e: &VerifiedEvent) -> EventRef {
    e.event().reference(e.digest())
}

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Where the components log: the ledger in this process, or a ledger server.
enum Sink {
    Local(Arc<Ledger>),
    #[cfg(all(feature = "server", feature = "client"))]
    Remote(Box<remote::Services>),
}

impl Sink {
    /// Logs events in order; returns once they are durable.
    fn log(&self, events: &[&VerifiedEvent]) -> Result<(), Error> {
        match self {
            Self::Local(ledger) => {
                let bytes: Vec<&[u8]> = events.iter().map(|e| e.bytes()).collect();
                ledger.append_batch(&bytes)?;
            }
            #[cfg(all(feature = "server", feature = "client"))]
            Self::Remote(services) => services.submit(events)?,
        }
        Ok(())
    }

    fn bundle(&self, task: &TaskId) -> Result<Vec<u8>, Error> {
        match self {
            Self::Local(ledger) => Ok(ledger.export_bundle(task, None)?),
            #[cfg(all(feature = "server", feature = "client"))]
            Self::Remote(services) => Ok(services.auditor.bundle(task)?),
        }
    }
}

/// The remote variant's services: a ledger server, and one client per component.
#[cfg(all(feature = "server", feature = "client"))]
mod remote {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use warrant_ledger::client::{Client, ClientConfig};
    use warrant_ledger::envelope::VerifiedEvent;
    use warrant_ledger::ledger::Ledger;
    use warrant_ledger::server::{Server, ServerConfig, ServerHandle};

    use super::Error;

    pub(super) struct Services {
        pub(super) server: ServerHandle,
        url: String,
        /// Each component's client, by the workload it signs as.
        clients: Mutex<HashMap<String, Arc<Client>>>,
        pub(super) auditor: Client,
    }

    impl Services {
        pub(super) fn start(ledger: Arc<Ledger>) -> Result<Self, Error> {
            let server =
                Server::new(ledger, ServerConfig::default()).spawn("127.0.0.1:0".parse()?)?;
            let url = format!("http://{}", server.local_addr());
            println!("ledger server on {url}");
            let auditor = Client::new(&url, ClientConfig::default())?;
            Ok(Self {
                server,
                url,
                clients: Mutex::new(HashMap::new()),
                auditor,
            })
        }

        /// Each run of consecutive events of one emitter, sent by that emitter's client;
        /// the next run waits for the answer, so the log keeps their order.
        pub(super) fn submit(&self, events: &[&VerifiedEvent]) -> Result<(), Error> {
            for run in events.chunk_by(|a, b| a.event().emitter == b.event().emitter) {
                let client = self.client(run[0].event().emitter.as_str())?;
                let bytes: Vec<&[u8]> = run.iter().map(|e| e.bytes()).collect();
                let indices = client.submit(&bytes)?;
                println!("{} logged at {indices:?}", run[0].event().emitter);
            }
            Ok(())
        }

        fn client(&self, emitter: &str) -> Result<Arc<Client>, Error> {
            let mut clients = self.clients.lock().map_err(|_| "client table poisoned")?;
            if let Some(c) = clients.get(emitter) {
                return Ok(Arc::clone(c));
            }
            let c = Arc::new(Client::new(&self.url, ClientConfig::default())?);
            clients.insert(emitter.to_owned(), Arc::clone(&c));
            Ok(c)
        }
    }
}

fn main() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let remote = args.first().is_some_and(|a| a == "--remote");
    if remote {
        args.remove(0);
    }
    let out = args.first().map_or_else(
        || std::env::temp_dir().join(format!("warrant-service-{}", std::process::id())),
        PathBuf::from,
    );
    let front = Component::new(
        FRONT_DOOR,
        &["TaskOpened", "DelegationGranted", "TaskClosed"],
    );
    let pdp = Component::new(PDP, &["PolicyDecision"]);
    let sts = Component::new(STS, &["CredentialIssued", "CredentialRevoked"]);
    let gateway = Component::new(GATEWAY, &["ActionExecuted"]);
    let registry = Component::new(REGISTRY, &["PolicyRegistered"]);
    let log_key = NoteSigner::generate(ORIGIN)?;
    let doc = trust_document(&log_key, &[&front, &pdp, &sts, &gateway, &registry]);
    let ledger = Ledger::create(
        &out.join("ledger"),
        ORIGIN,
        HashProfile::Sha256,
        log_key,
        TrustPolicy::try_from(doc.clone())?,
    )?;
    // The task happened over the last minute: step `n` at `t(n)` (a service would read the
    // clock at each step; fixed steps keep the example's order exact).
    let start = Timestamp::now().minus_ms(60_000);
    let t = |n: u64| start.plus_ms(n * 1_000);

    // The policy registry registers the policy version decisions will cite.
    let policy = PolicyRef {
        id: "payments/read".into(),
        revision: "2026-12-01.1".into(),
        digest: Digest::of(b"the exact policy bundle"),
    };
    let registered = registry.chain(None)?.emit(
        PolicyRegistered {
            engine: "opa".into(),
            policy: policy.clone(),
            rule_ids: list(&["allow_balance_read"]),
            effective_from: t(0),
        }
        .into(),
        t(0),
        vec![],
    )?;
    let ledger = Arc::new(ledger);
    let sink = if remote {
        #[cfg(all(feature = "server", feature = "client"))]
        {
            Sink::Remote(Box::new(remote::Services::start(Arc::clone(&ledger))?))
        }
        #[cfg(not(all(feature = "server", feature = "client")))]
        return Err(
            "--remote needs the server and client features: --features server,client".into(),
        );
    } else {
        Sink::Local(Arc::clone(&ledger))
    };
    sink.log(&[&registered])?;

    // A human asks; the front door records the intent and delegates to an agent instance.
    let task = TaskId::new_v7();
    let mut front = front.chain(Some(task))?;
    let t0 = t(1);
    let opened = front.emit(
        TaskOpened {
            purpose: "read the balance for the monthly report".into(),
            principal: HumanPrincipal {
                id: ALICE.into(),
                mfa: true,
                issuer: "https://idp.bank.example".into(),
                auth_time: t0,
                auth_methods: list(&["pwd", "hwk"]),
                assurance_level: "aal2".into(),
            },
            risk_tier: Level::Low,
            data_class: "financial".into(),
            expires_at: t0.plus_ms(3_600_000),
            initiation: TaskInitiation::Human,
            confirmed_at: t0,
            scope_ceiling: list(&["payments:read"]),
            instruction_digest: Digest::of(b"what alice typed"),
            interpretation_digest: Digest::of(b"what alice confirmed"),
        }
        .into(),
        t(1),
        vec![],
    )?;
    let delegated = front.emit(
        DelegationGranted {
            mode: DelegationMode::Delegation,
            scope: list(&["payments:read"]),
            delegatee: WorkloadRef {
                id: WorkloadId::new(AGENT)?,
                instance: "pool-a/7".into(),
                trust_domain: "bank.example".into(),
            },
            delegator: Delegator::Human { id: ALICE.into() },
            expires_at: t0.plus_ms(3_600_000),
            cross_domain: false,
        }
        .into(),
        t(2),
        vec![r(&opened)],
    )?;

    // The policy decision point allows the read; the token service issues a short credential.
    let decided = pdp.chain(Some(task))?.emit(
        PolicyDecision {
            effect: Effect::Allow,
            policy,
            request: DecisionRequest {
                action: "payments:read".into(),
                principal: ALICE.into(),
                resources: list(&["account:DE89-0001"]),
                actor_chain: list(&[ALICE, AGENT]),
                context_digest: Digest::of(b"request context"),
            },
            rule_ids: list(&["allow_balance_read"]),
            decision_id: "dec-1".into(),
            obligations: Obligations {
                approval: None,
                granted_scope: list(&["payments:read"]),
                max_credential_ttl_ms: Some(300_000),
            },
            valid_until: t(3).plus_ms(600_000),
            input_digest: Digest::of(b"decision input"),
        }
        .into(),
        t(3),
        vec![r(&delegated)],
    )?;
    let mut sts = sts.chain(Some(task))?;
    let issued_at = t(4);
    let issued = sts.emit(
        CredentialIssued {
            holder: Holder {
                id: WorkloadId::new(AGENT)?,
                instance: "pool-a/7".into(),
            },
            approval: None,
            decision: r(&decided),
            credential: Credential {
                id: "cred-1".into(),
                issuer: "https://sts.bank.example".into(),
                scopes: list(&["payments:read"]),
                audience: SERVICE.into(),
                cred_type: "oauth_access_token".into(),
                expires_at: issued_at.plus_ms(300_000),
                not_before: issued_at,
                value_digest: Digest::of(b"the token itself is never logged"),
                bound_key_digest: None,
            },
        }
        .into(),
        issued_at,
        vec![],
    )?;

    // The gateway records the action the agent instance ran with that credential.
    let started = t(5);
    let acted = gateway.chain(Some(task))?.emit(
        ActionExecuted {
            outcome: ActionOutcome::Success,
            blocked_by: Vec::new(),
            approval: None,
            ended_at: started.plus_ms(40),
            instance: "pool-a/7".into(),
            action_id: "act-1".into(),
            decisions: vec![r(&decided)],
            operation: Operation {
                name: "payments:read".into(),
                service: SERVICE.into(),
                resources: list(&["account:DE89-0001"]),
                permissions_used: list(&["payments:read"]),
            },
            initiation: ActionInitiation::AgentPlanned,
            started_at: started,
            actor_chain: list(&[ALICE, AGENT]),
            credential_id: "cred-1".into(),
            request_digest: Digest::of(b"request"),
            response_digest: Digest::of(b"response"),
            within_confirmed_scope: true,
        }
        .into(),
        started.plus_ms(40),
        vec![r(&issued)],
    )?;

    // The task ends: the credential is revoked, the front door closes with a manifest of
    // every emitter's last event.
    let revoked = sts.emit(
        CredentialRevoked {
            reason: RevocationReason::TaskClosed,
            trigger: None,
            effective_at: t(6),
            credential_id: "cred-1".into(),
        }
        .into(),
        t(6),
        vec![r(&acted)],
    )?;
    let manifest = [&decided, &revoked, &acted, &delegated]
        .iter()
        .map(|e| ManifestEntry {
            emitter: e.event().emitter.clone(),
            last_eseq: e.event().eseq,
            last_digest: e.digest(),
        })
        .collect();
    let closed = front.emit(
        TaskClosed {
            outcome: TaskOutcome::Completed,
            manifest,
            credentials_open: vec![],
        }
        .into(),
        t(7),
        vec![],
    )?;
    let events = [
        &opened, &delegated, &decided, &issued, &acted, &revoked, &closed,
    ];
    sink.log(&events)?;

    // What the auditor receives: the bundle, and the trust policy to pin.
    std::fs::write(out.join("task.bundle"), sink.bundle(&task)?)?;
    #[cfg(all(feature = "server", feature = "client"))]
    if let Sink::Remote(services) = sink {
        services.server.shutdown();
    }
    std::fs::write(out.join("trust.toml"), toml::to_string(&doc)?)?;
    println!("task {task}: {} events logged", events.len());
    println!("bundle and trust policy in {}", out.display());
    Ok(())
}
