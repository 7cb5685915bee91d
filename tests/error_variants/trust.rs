//! Trust policies that do not parse or contradict themselves, events the policy refuses,
//! bundles an auditor cannot judge, times the ledger would never log, gate requests.

use ed25519_dalek::SigningKey;
use warrant_ledger::audit::{self, AuditError};
use warrant_ledger::cbor::Limits;
use warrant_ledger::envelope;
use warrant_ledger::event::{Assurance, Event, Timestamp};
use warrant_ledger::gate::{ActionRequest, GateError};
use warrant_ledger::ledger::{LedgerError, TimeBounds, TimeError};
use warrant_ledger::trust::{EmitterEntry, PolicyError, TrustDocument, TrustError, TrustPolicy};

use crate::common;
use crate::{Reached, err, reach};

pub(crate) fn reach_all(seen: &mut Reached) {
    policy_errors(seen);
    trust_errors(seen);
    audit_errors(seen);
    time_errors(seen);
    gate_errors(seen);
}

/// The sample trust document with one log pinned.
fn document() -> TrustDocument {
    let mut doc = common::sample_trust_document();
    let log: TrustDocument = toml::from_str(&format!(
        "version = 1\n[[logs]]\norigin = \"{}\"\nhash = \"blake3\"\nverifier_key = \"{}\"\n",
        common::ORIGIN,
        common::log_key().verifier()
    ))
    .expect("log entry");
    doc.logs = log.logs;
    assert!(
        TrustPolicy::try_from(doc.clone()).is_ok(),
        "the base document is valid"
    );
    doc
}

/// The document changed by `f`, and why it is refused.
fn refused(f: impl FnOnce(&mut TrustDocument)) -> PolicyError {
    let mut doc = document();
    f(&mut doc);
    err(TrustPolicy::try_from(doc))
}

/// The front door: the emitter of the sample `TaskOpened` event.
fn front_door(doc: &mut TrustDocument) -> &mut EmitterEntry {
    doc.emitters
        .iter_mut()
        .find(|e| e.workload.ends_with("/front-door"))
        .expect("front door pinned")
}

fn governance(toml_text: &str) -> warrant_ledger::trust::GovernanceEntry {
    toml::from_str(toml_text).expect("governance table")
}

fn policy_errors(seen: &mut Reached) {
    reach!(
        seen,
        PolicyError::Syntax,
        err(TrustPolicy::from_toml("version = "))
    );
    reach!(seen, PolicyError::Version, refused(|d| d.version = 9));
    reach!(
        seen,
        PolicyError::DuplicateLog,
        refused(|d| d.logs.push(d.logs[0].clone()))
    );
    reach!(
        seen,
        PolicyError::HashProfile,
        refused(|d| d.logs[0].hash = "md5".into())
    );
    reach!(
        seen,
        PolicyError::VerifierKey,
        refused(|d| d.logs[0].verifier_key = "x".into())
    );
    reach!(
        seen,
        PolicyError::Workload,
        refused(|d| front_door(d).workload = "front door".into())
    );
    reach!(
        seen,
        PolicyError::DuplicateEmitter,
        refused(|d| {
            let again = front_door(d).clone();
            d.emitters.push(again);
        })
    );
    reach!(
        seen,
        PolicyError::NoKeys,
        refused(|d| front_door(d).keys.clear())
    );
    reach!(
        seen,
        PolicyError::PublicKey,
        refused(|d| front_door(d).keys[0].public_key = "AAAA".into())
    );
    reach!(
        seen,
        PolicyError::Window,
        refused(|d| {
            let k = &mut front_door(d).keys[0];
            (k.not_before, k.not_after) = (Some(5), Some(4));
        })
    );
    reach!(
        seen,
        PolicyError::Kind,
        refused(|d| front_door(d).kinds = vec!["Nope".into()])
    );
    reach!(
        seen,
        PolicyError::SelfReportedKind,
        refused(|d| {
            let e = front_door(d);
            e.assurance = Assurance::SelfReported;
            e.kinds.push("PolicyDecision".into());
        })
    );
    reach!(
        seen,
        PolicyError::TrustDomain,
        refused(|d| d.governance = governance("trust_domains = [\"Not A Domain\"]"))
    );
    reach!(
        seen,
        PolicyError::Partner,
        refused(|d| {
            d.governance = governance(
                "trust_domains = [\"bank.example\"]\n[[partners]]\ntrust_domain = \"bank.example\"\nscopes = []\n",
            );
        })
    );
    reach!(
        seen,
        PolicyError::Humans,
        refused(|d| d.governance = governance("[humans]\nids = []\n"))
    );
    reach!(
        seen,
        PolicyError::Tier,
        refused(|d| d.governance = governance("[tiers.low]\napproval_quorum = 0\n"))
    );
    reach!(
        seen,
        PolicyError::LogKeyWindow,
        refused(|d| {
            d.logs[0].rotated = vec![warrant_ledger::trust::LogKeyEntry {
                verifier_key: d.logs[0].verifier_key.clone(),
                from_size: 10,
                until_size: Some(9),
            }];
        })
    );
    reach!(
        seen,
        PolicyError::WitnessPolicy,
        refused(|d| d.witness_policy = Some("group g any nobody\nquorum g\n".into()))
    );
}

/// The sample `TaskOpened` event (by the front door) and its envelope.
fn opened() -> (Event, Vec<u8>) {
    let e = common::sample_events().remove(1);
    let bytes = envelope::sign(&e, &common::test_key())
        .expect("sign")
        .into_bytes();
    (e, bytes)
}

/// The policy of the document changed by `f`.
fn policy(f: impl FnOnce(&mut TrustDocument)) -> TrustPolicy {
    let mut doc = document();
    f(&mut doc);
    TrustPolicy::try_from(doc).expect("policy")
}

fn trust_errors(seen: &mut Reached) {
    let (e, bytes) = opened();
    let verify = |p: &TrustPolicy, b: &[u8]| err(p.verify_event(b, Limits::default()));
    let all = policy(|_| {});
    assert!(
        all.verify_event(&bytes, Limits::default()).is_ok(),
        "the honest event passes"
    );
    reach!(seen, TrustError::Envelope, verify(&all, &bytes[1..]));
    let without = policy(|d| d.emitters.retain(|x| !x.workload.ends_with("/front-door")));
    reach!(seen, TrustError::UnknownEmitter, verify(&without, &bytes));
    let stranger = envelope::sign(&e, &SigningKey::from_bytes(&[3; 32])).expect("sign");
    reach!(seen, TrustError::UnknownKey, verify(&all, stranger.bytes()));
    let expired = policy(|d| front_door(d).keys[0].not_after = Some(1));
    reach!(seen, TrustError::KeyNotValidAt, verify(&expired, &bytes));
    let time = e.time.as_millis();
    let retiring = policy(|d| front_door(d).keys[0].not_after = Some(time + 1));
    let ev = retiring
        .verify_event(&bytes, Limits::default())
        .expect("valid at its time");
    let a_year_later = Timestamp::from_millis(time + 365 * 86_400_000);
    reach!(
        seen,
        TrustError::KeyRetiredBeforeLogged,
        err(retiring.check_logged_at(&ev, a_year_later))
    );
    let closes_only = policy(|d| front_door(d).kinds = vec!["TaskClosed".into()]);
    reach!(
        seen,
        TrustError::KindNotAllowed,
        verify(&closes_only, &bytes)
    );
    assert_eq!(
        e.assurance,
        Assurance::Enforced,
        "the sample claims enforced"
    );
    let self_reported = policy(|d| front_door(d).assurance = Assurance::SelfReported);
    reach!(
        seen,
        TrustError::AssuranceNotAllowed,
        verify(&self_reported, &bytes)
    );
}

fn audit_errors(seen: &mut Reached) {
    let trust = policy(|_| {});
    reach!(
        seen,
        AuditError::Bundle,
        err(audit::verify(b"junk", &trust, &[]))
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, bundle) = crate::sample_bundle(dir.path());
    let other_log = policy(|d| d.logs[0].origin = "example.com/another-log".into());
    reach!(
        seen,
        AuditError::UnknownLog,
        err(audit::verify(&bundle, &other_log, &[]))
    );
}

fn time_errors(seen: &mut Reached) {
    let now = Timestamp::from_millis(1_800_000_000_000);
    let created = Some(now.minus_ms(86_400_000));
    let check = |t: Timestamp| err(TimeBounds::default().check(t, now, created));
    reach!(
        seen,
        TimeError::BeforeEarliest,
        check(Timestamp::from_millis(1_000))
    );
    reach!(seen, TimeError::Ahead, check(now.plus_ms(86_400_000)));
    reach!(
        seen,
        TimeError::BeforeCreation,
        check(now.minus_ms(10 * 86_400_000))
    );
}

fn gate_errors(seen: &mut Reached) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ledger, _) = crate::sample_bundle(dir.path());
    let action = common::sample_events()
        .into_iter()
        .find_map(|e| e.body.as_action_executed().cloned().map(|a| (e.task, a)))
        .expect("a sample action");
    let (task, a) = (action.0.expect("task"), action.1);
    let request = |credential: &str, at: Timestamp| {
        ActionRequest::new(
            task,
            a.actor_chain.clone(),
            credential.into(),
            a.operation.clone(),
            a.instance.clone(),
            at,
        )
    };
    let bad_request = err(ledger.admit(&request("has space", a.started_at)));
    reach!(seen, LedgerError::Gate, bad_request);
    let LedgerError::Gate(e) = bad_request else {
        unreachable!()
    };
    reach!(seen, GateError::Request, e);
    let seconds = Timestamp::from_millis(a.started_at.as_millis() / 1000);
    let LedgerError::Gate(e) = err(ledger.admit(&request(&a.credential_id, seconds))) else {
        panic!("a gate error")
    };
    reach!(seen, GateError::Time, e);
}
