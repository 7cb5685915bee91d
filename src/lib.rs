//! # warrant-ledger
//!
//! Signed, verifiable evidence of what AI agents did and who authorised it.
//!
//! Services emit typed governance events ([`event`]) as deterministic CBOR ([`cbor`]) signed
//! in COSE_Sign1 envelopes ([`envelope`]); a ledger ([`ledger`], over a [`store`]) checks them
//! against a trust policy ([`trust`]) and appends them to an append-only Merkle log
//! ([`merkle`], RFC 6962 in a BLAKE3 or SHA-256 profile) whose tree heads are signed
//! checkpoints ([`checkpoint`], C2SP `tlog-checkpoint` in a C2SP `signed-note`); an auditor
//! receives one evidence bundle per task ([`bundle`]) and verifies it offline ([`audit`]).
//!
//! ## The main path: services emit, an auditor verifies
//!
//! Each component of a deployment signs the events it witnesses with its own key; the
//! ledger appends what the trust policy allows; the auditor gets one bundle per task and
//! the trust policy it pins, and nothing else. `examples/service.rs` and
//! `examples/auditor.rs` are the same path as programs.
//!
//! ```
//! use warrant_ledger::audit::{self, Verdict};
//! use warrant_ledger::checkpoint::NoteSigner;
//! use warrant_ledger::envelope::{EmitterChain, SigningKey, VerifiedEvent, generate_key};
//! use warrant_ledger::event::*;
//! use warrant_ledger::ledger::Ledger;
//! use warrant_ledger::merkle::HashProfile;
//! use warrant_ledger::trust::TrustPolicy;
//! # type Error = Box<dyn std::error::Error>;
//! # let dir = std::env::temp_dir().join(format!("warrant-front-{}", std::process::id()));
//! # let ids = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
//! # let r = |e: &VerifiedEvent| e.event().reference(e.digest());
//!
//! // Keys: the log's, and one per component (front door, policy decision point, token
//! // service, gateway, policy registry).
//! let log_key = NoteSigner::generate("bank.example/agents")?;
//! let [front, pdp, sts, gw, registry]: [SigningKey; 5] = std::array::from_fn(|_| generate_key());
//! let pin = |id: &str, key: &SigningKey, kinds: &str| format!(
//!     "[[emitters]]\nworkload = {id:?}\nassurance = \"enforced\"\nkinds = [{kinds}]\n\
//!      keys = [{{ public_key = {:?} }}]\n",
//!     warrant_ledger::trust::public_key_base64(&key.verifying_key()));
//! // What the auditor pins: the log, each component and what it may sign, who is a person.
//! let trust_toml = [
//!     format!("version = 1\n[[logs]]\norigin = \"bank.example/agents\"\nhash = \"blake3\"\n\
//!              verifier_key = \"{}\"\n", log_key.verifier()),
//!     pin("spiffe://bank.example/front-door", &front, r#""TaskOpened", "DelegationGranted", "TaskClosed""#),
//!     pin("spiffe://bank.example/pdp", &pdp, r#""PolicyDecision""#),
//!     pin("spiffe://bank.example/sts", &sts, r#""CredentialIssued", "CredentialRevoked""#),
//!     pin("spiffe://bank.example/gateway", &gw, r#""ActionExecuted""#),
//!     pin("spiffe://bank.example/registry", &registry, r#""PolicyRegistered""#),
//!     "[governance.humans]\nids = [\"*@bank.example\"]\n".to_owned(),
//! ].concat();
//! let trust = TrustPolicy::from_toml(&trust_toml)?;
//! let ledger = Ledger::create(&dir, "bank.example/agents", HashProfile::Blake3, log_key, trust.clone())?;
//!
//! // Each component's chain of events in one task; steps a second apart, a minute ago.
//! let task = TaskId::new_v7();
//! let chain = |key: &SigningKey, id: &str| -> Result<_, Error> {
//!     Ok(EmitterChain::for_task(key.clone(), WorkloadId::new(id)?, task, Assurance::Enforced))
//! };
//! let (mut f, mut p, mut s, mut g) = (
//!     chain(&front, "spiffe://bank.example/front-door")?, chain(&pdp, "spiffe://bank.example/pdp")?,
//!     chain(&sts, "spiffe://bank.example/sts")?, chain(&gw, "spiffe://bank.example/gateway")?,
//! );
//! let start = Timestamp::now().minus_ms(60_000);
//! let t = |n: u64| start.plus_ms(n * 1_000);
//! let agent = WorkloadId::new("spiffe://bank.example/agent/reports")?;
//! let policy = PolicyRef { id: "reports".into(), revision: "7".into(), digest: Digest::of(b"policy") };
//! let registered = EmitterChain::ledger_level(registry, WorkloadId::new("spiffe://bank.example/registry")?, Assurance::Enforced)
//!     .emit(PolicyRegistered { engine: "opa".into(), policy: policy.clone(),
//!         rule_ids: ids(&["allow_read"]), effective_from: t(0) }.into(), t(0), vec![])?;
//!
//! // The human's intent (with how they authenticated), and the agent instance it is delegated to.
//! let opened = f.emit(TaskOpened {
//!     purpose: "monthly report".into(), risk_tier: Level::Low, data_class: "financial".into(),
//!     principal: HumanPrincipal { id: "alice@bank.example".into(), mfa: true,
//!         issuer: "https://idp.bank.example".into(), auth_time: t(1),
//!         auth_methods: ids(&["pwd", "hwk"]), assurance_level: "aal2".into() },
//!     expires_at: t(1).plus_ms(3_600_000), initiation: TaskInitiation::Human,
//!     confirmed_at: t(1), scope_ceiling: ids(&["reports:read"]),
//!     instruction_digest: Digest::of(b"typed"), interpretation_digest: Digest::of(b"confirmed"),
//! }.into(), t(1), vec![])?;
//! let delegated = f.emit(DelegationGranted {
//!     mode: DelegationMode::Delegation, scope: ids(&["reports:read"]),
//!     delegatee: WorkloadRef { id: agent.clone(), instance: "pool/1".into(), trust_domain: "bank.example".into() },
//!     delegator: Delegator::Human { id: "alice@bank.example".into() },
//!     expires_at: t(2).plus_ms(3_600_000), cross_domain: false,
//! }.into(), t(2), vec![r(&opened)])?;
//! // The decision under the registered policy, a just-in-time credential, the action.
//! let decided = p.emit(PolicyDecision {
//!     effect: Effect::Allow, policy, rule_ids: ids(&["allow_read"]), decision_id: "d1".into(),
//!     request: DecisionRequest { action: "reports:read".into(), principal: "alice@bank.example".into(),
//!         resources: ids(&["ledger:2026-11"]), actor_chain: ids(&["alice@bank.example", agent.as_str()]),
//!         context_digest: Digest::of(b"ctx") },
//!     obligations: Obligations { approval: None, granted_scope: ids(&["reports:read"]),
//!         max_credential_ttl_ms: Some(300_000) },
//!     valid_until: t(3).plus_ms(600_000), input_digest: Digest::of(b"input"),
//! }.into(), t(3), vec![r(&delegated)])?;
//! let issued = s.emit(CredentialIssued {
//!     holder: Holder { id: agent.clone(), instance: "pool/1".into() }, approval: None,
//!     decision: r(&decided),
//!     credential: Credential { id: "c1".into(), issuer: "https://sts.bank.example".into(),
//!         scopes: ids(&["reports:read"]), audience: "https://reports.bank.example".into(),
//!         cred_type: "oauth_access_token".into(), expires_at: t(4).plus_ms(300_000),
//!         not_before: t(4), value_digest: Digest::of(b"token"), bound_key_digest: None },
//! }.into(), t(4), vec![])?;
//! let acted = g.emit(ActionExecuted {
//!     outcome: ActionOutcome::Success, blocked_by: vec![], approval: None, ended_at: t(5),
//!     instance: "pool/1".into(),
//!     action_id: "a1".into(), decisions: vec![r(&decided)],
//!     operation: Operation { name: "reports:read".into(), service: "https://reports.bank.example".into(),
//!         resources: ids(&["ledger:2026-11"]), permissions_used: ids(&["reports:read"]) },
//!     initiation: ActionInitiation::AgentPlanned, started_at: t(5),
//!     actor_chain: ids(&["alice@bank.example", agent.as_str()]), credential_id: "c1".into(),
//!     request_digest: Digest::of(b"req"), response_digest: Digest::of(b"resp"),
//!     within_confirmed_scope: true,
//! }.into(), t(5), vec![r(&issued)])?;
//! // The credential revoked, the task closed with every emitter's last event.
//! let revoked = s.emit(CredentialRevoked { reason: RevocationReason::TaskClosed, trigger: None,
//!     effective_at: t(6), credential_id: "c1".into() }.into(), t(6), vec![])?;
//! let manifest = [&p, &s, &g, &f].iter().filter_map(|c| c.manifest_entry()).collect();
//! let closed = f.emit(TaskClosed { outcome: TaskOutcome::Completed, manifest,
//!     credentials_open: vec![] }.into(), t(7), vec![])?;
//! for e in [&registered, &opened, &delegated, &decided, &issued, &acted, &revoked, &closed] {
//!     ledger.append(e.bytes())?;
//! }
//!
//! // The auditor: the bundle and the pinned trust policy, offline.
//! let bundle = ledger.export_bundle(&task, None)?;
//! let report = audit::verify(&bundle, &trust, &[])?;
//! assert_eq!(report.verdict, Verdict::Pass, "{report}");
//! # drop(ledger);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Error>(())
//! ```
//!
//! ## Features and toolchain
//!
//! - no feature (the default): the library alone; everything an auditor needs does no I/O,
//!   and the library never starts a thread: appends and audits run on the calling thread.
//! - `parallel`: signature verification, bundle decoding and the audit's checks spread over
//!   rayon's pool: the global one, or yours when you call the library inside
//!   `rayon::ThreadPool::install`, so a service sizes and shares it. A panic in the work
//!   reaches the caller as a panic, never as a verdict.
//! - `cli`: the `warrant` command line (`cargo install warrant-ledger --features cli`); its
//!   dependencies (clap, anyhow, indicatif, serde_json, jemalloc) never reach library users.
//!   It turns `parallel` on.
//!
//! Minimum supported Rust: 1.89 (`rust-version`; clippy holds the code to it in CI).
//!
//! ## The log core on its own
//!
//! An operator signs checkpoints, an auditor checks inclusion and consistency against them.
//!
//! ```
//! use warrant_ledger::checkpoint::{Checkpoint, NoteSigner, open_checkpoint};
//! use warrant_ledger::merkle::{
//!     HashProfile, MemoryNodes, prove_consistency, prove_inclusion, root_at,
//!     verify_consistency, verify_inclusion,
//! };
//!
//! // The operator appends entries and signs a checkpoint for the current size.
//! let profile = HashProfile::Blake3;
//! let log_key = NoteSigner::generate("example.com/agents")?;
//! let mut log = MemoryNodes::new(profile);
//! for entry in [&b"task opened"[..], b"decision: allow", b"credential issued"] {
//!     log.append(entry);
//! }
//! let sign_at = |size| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
//!     let root = root_at(profile, &log, size)?;
//!     let body = Checkpoint { origin: "example.com/agents".into(), size, root, extensions: vec![] };
//!     Ok(body.sign(&[&log_key])?)
//! };
//! let old_note = sign_at(2)?;
//! let new_note = sign_at(3)?;
//!
//! // The auditor pins the origin and the log's verifier key, and trusts nothing else.
//! let pinned = [log_key.verifier()];
//! let old = open_checkpoint(&old_note, "example.com/agents", &pinned)?.tree_head();
//! let new = open_checkpoint(&new_note, "example.com/agents", &pinned)?.tree_head();
//!
//! // Entry 2 is in the log, and the log only grew between the two checkpoints.
//! let inclusion = prove_inclusion(profile, &log, 2, new.size)?;
//! verify_inclusion(profile, &profile.leaf_hash(b"credential issued"), &inclusion, &new)?;
//! let consistency = prove_consistency(profile, &log, old.size, new.size)?;
//! verify_consistency(profile, &consistency, &old, &new)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
// Input paths return errors; a panic there would be a denial of service.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod audit;
pub mod bundle;
pub mod cbor;
pub mod checkpoint;
#[cfg(feature = "client")]
pub mod client;
// The demo's fictional deployment and the test keys are what the CLI, the benches and the
// tests run on; they are not API (keys' functions panic, the bank is fiction), so they are
// hidden and outside semver (`docs/public-api.md`).
#[doc(hidden)]
pub mod demo;
mod encoding;
pub mod envelope;
pub mod event;
pub mod gate;
mod governance;
#[doc(hidden)]
pub mod internals;
#[doc(hidden)]
pub mod keys;
pub mod ledger;
pub mod merkle;
mod parallel;
pub mod receipt;
#[cfg(feature = "server")]
pub mod server;
pub mod store;
pub mod trust;
pub mod witness;
