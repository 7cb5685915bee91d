//! Events, envelopes and the trust policy: round trips for every kind, property tests over
//! arbitrary events, every single-byte flip rejected, batch and single verification agree,
//! and each error variant reached.

mod common;

use common::ts;

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use warrant_ledger::cbor::{CborError, Limits};
use warrant_ledger::envelope::{self, EmitterChain, EnvelopeError};
use warrant_ledger::event::*;
use warrant_ledger::trust::{PolicyError, TrustError, TrustPolicy, public_key_base64};

#[test]
fn every_kind_round_trips_through_cbor_and_json() {
    for e in common::sample_events() {
        let cbor = e.to_cbor().expect("encode");
        assert_eq!(Event::from_cbor(&cbor), Ok(e.clone()));
        let json = serde_json::to_string(&e).expect("json");
        assert_eq!(serde_json::from_str::<Event>(&json).expect("json back"), e);
        let signed = envelope::sign(&e, &common::test_key()).expect("sign");
        let verified =
            envelope::verify(signed.bytes(), &common::test_key().verifying_key()).expect("verify");
        assert_eq!(verified.event(), &e);
        // The citation digest is BLAKE3 over 0x00 and the exact bytes: the BLAKE3 leaf hash.
        let mut prefixed = vec![0u8];
        prefixed.extend_from_slice(signed.bytes());
        assert_eq!(verified.digest(), Digest::of(&prefixed));
        assert_eq!(verified.digest(), Digest::of_envelope(signed.bytes()));
    }
}

#[test]
fn flipping_any_byte_of_a_signed_event_is_rejected() {
    let key = common::test_key();
    for e in common::sample_events().iter().take(4) {
        let signed = envelope::sign(e, &key).expect("sign");
        let bytes = signed.bytes();
        for i in 0..bytes.len() {
            for mask in [0x01u8, 0x80] {
                let mut bad = bytes.to_vec();
                bad[i] ^= mask;
                assert!(
                    envelope::verify(&bad, &key.verifying_key()).is_err(),
                    "{} byte {i} ^ {mask:#x}",
                    e.kind()
                );
            }
        }
    }
}

fn signed_bytes(e: &Event) -> Vec<u8> {
    envelope::sign(e, &common::test_key())
        .expect("sign")
        .into_bytes()
}

#[test]
fn envelope_rejections_have_their_own_errors() {
    let key = common::test_key().verifying_key();
    let e = common::sample_events().remove(1);
    let good = signed_bytes(&e);
    let verify = |b: &[u8]| envelope::verify(b, &key);
    assert_eq!(verify(&good[1..]), Err(EnvelopeError::NotTagged));
    assert!(matches!(
        verify(&[0xd2]),
        Err(EnvelopeError::Cbor(CborError::Truncated { .. }))
    ));
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(
        verify(&trailing),
        Err(EnvelopeError::Cbor(CborError::TrailingBytes { .. }))
    ));
    assert_eq!(
        verify(&[0xd2, 0x80]),
        Err(EnvelopeError::Structure("not four elements"))
    );
    assert_eq!(
        verify(&[0xd2, 0x01]),
        Err(EnvelopeError::Structure("not an array"))
    );
    assert_eq!(
        verify(&[0xd2, 0x84, 0x40, 0xa0, 0x40, 0x01]),
        Err(EnvelopeError::Structure("element of the wrong type"))
    );
    assert_eq!(
        verify(&[0xd2, 0x84, 0x40, 0xa1, 0x01, 0x01, 0x40, 0x40]),
        Err(EnvelopeError::Structure("unprotected header must be empty"))
    );
    assert_eq!(
        verify(&[0xd2, 0x84, 0x40, 0xa0, 0x40, 0x41, 0x00]),
        Err(EnvelopeError::Structure("signature must be 64 bytes"))
    );
    let mut sig64 = vec![0xd2, 0x84, 0x41, 0x01, 0xa0, 0x40, 0x58, 0x40];
    sig64.extend([0u8; 64]);
    assert_eq!(
        verify(&sig64),
        Err(EnvelopeError::Header("protected header is not a map"))
    );
    let other = SigningKey::from_bytes(&[9; 32]);
    assert_eq!(
        envelope::verify(&good, &other.verifying_key()),
        Err(EnvelopeError::KeyIdMismatch)
    );
    let over = Limits::default().with_max_len(good.len() - 1);
    assert!(matches!(
        envelope::parse(&good, over),
        Err(EnvelopeError::Cbor(CborError::TooLarge { .. }))
    ));
}

/// Builds an envelope by hand around any payload and protected header, signed by the test key.
fn forge(protected: &ciborium::Value, payload: &[u8]) -> Vec<u8> {
    use ed25519_dalek::Signer as _;
    let p = warrant_ledger::internals::value_to_vec(protected).expect("header");
    let tbs = warrant_ledger::internals::value_to_vec(&ciborium::Value::Array(vec![
        ciborium::Value::Text("Signature1".into()),
        ciborium::Value::Bytes(p.clone()),
        ciborium::Value::Bytes(vec![]),
        ciborium::Value::Bytes(payload.to_vec()),
    ]))
    .expect("tbs");
    let sig = common::test_key().sign(&tbs);
    let arr = ciborium::Value::Array(vec![
        ciborium::Value::Bytes(p),
        ciborium::Value::Map(vec![]),
        ciborium::Value::Bytes(payload.to_vec()),
        ciborium::Value::Bytes(sig.to_bytes().to_vec()),
    ]);
    let mut out = vec![0xd2];
    out.extend(warrant_ledger::internals::value_to_vec(&arr).expect("envelope"));
    out
}

fn header(alg: i64, ct: &str, kid: Vec<u8>, iss: &str, sub: Option<&str>) -> ciborium::Value {
    use ciborium::Value as V;
    let mut claims = vec![(V::Integer(1.into()), V::Text(iss.into()))];
    if let Some(s) = sub {
        claims.push((V::Integer(2.into()), V::Text(s.into())));
    }
    V::Map(vec![
        (V::Integer(1.into()), V::Integer(alg.into())),
        (V::Integer(3.into()), V::Text(ct.into())),
        (V::Integer(4.into()), V::Bytes(kid)),
        (V::Integer(15.into()), V::Map(claims)),
    ])
}

#[test]
fn header_and_binding_rejections() {
    let key = common::test_key().verifying_key();
    let kid = envelope::event_key_id(&key).to_vec();
    let e = common::sample_events().remove(1);
    let payload = e.to_cbor().expect("cbor");
    let (iss, sub) = (e.emitter.to_string(), e.task.map(|t| t.to_string()));
    let ct = envelope::CONTENT_TYPE;
    let check = |h: ciborium::Value, want: EnvelopeError| {
        assert_eq!(envelope::verify(&forge(&h, &payload), &key), Err(want));
    };
    // The honest construction verifies: the forger itself is right.
    assert!(
        envelope::verify(
            &forge(&header(-8, ct, kid.clone(), &iss, sub.as_deref()), &payload),
            &key
        )
        .is_ok()
    );
    check(
        header(-7, ct, kid.clone(), &iss, sub.as_deref()),
        EnvelopeError::Header("algorithm must be EdDSA (-8)"),
    );
    check(
        header(-8, "application/json", kid.clone(), &iss, sub.as_deref()),
        EnvelopeError::Header("wrong or missing content type"),
    );
    check(
        header(-8, ct, vec![1, 2], &iss, sub.as_deref()),
        EnvelopeError::Header("key id must be 8 bytes"),
    );
    check(
        header(-8, ct, kid.clone(), "spiffe://other", sub.as_deref()),
        EnvelopeError::IssuerMismatch {
            header: "spiffe://other".into(),
            event: iss.clone(),
        },
    );
    check(
        header(-8, ct, kid.clone(), &iss, None),
        EnvelopeError::SubjectMismatch,
    );
    let mut extra = header(-8, ct, kid.clone(), &iss, sub.as_deref());
    if let ciborium::Value::Map(m) = &mut extra {
        m.push((ciborium::Value::Integer(33.into()), ciborium::Value::Null));
    }
    check(
        extra,
        EnvelopeError::Header("unexpected protected header parameter"),
    );
    let no_iss = ciborium::Value::Map(vec![
        (
            ciborium::Value::Integer(1.into()),
            ciborium::Value::Integer((-8).into()),
        ),
        (
            ciborium::Value::Integer(3.into()),
            ciborium::Value::Text(ct.into()),
        ),
        (
            ciborium::Value::Integer(4.into()),
            ciborium::Value::Bytes(kid.clone()),
        ),
        (
            ciborium::Value::Integer(15.into()),
            ciborium::Value::Map(vec![]),
        ),
    ]);
    check(no_iss, EnvelopeError::Header("missing iss claim"));
    // A signed but non-canonical payload is refused even though the signature is good.
    let mut noncanon = payload.clone();
    noncanon.push(0x00);
    let h = header(-8, ct, kid, &iss, sub.as_deref());
    assert!(matches!(
        envelope::verify(&forge(&h, &noncanon), &key),
        Err(EnvelopeError::Payload(DecodeError::Cbor(_)))
    ));
}

#[test]
fn model_rules() {
    let mut events = common::sample_events();
    let policy = events.remove(0);
    let task_event = events.remove(0);
    let mut e = task_event.clone();
    e.v = 1;
    assert_eq!(
        e.validate(),
        Err(EventError::Version(1)),
        "version 1 is refused"
    );
    e.v = 2;
    assert_eq!(
        e.validate(),
        Err(EventError::Version(2)),
        "version 2 is refused"
    );
    e.v = 4;
    assert_eq!(e.validate(), Err(EventError::Version(4)));
    let mut e = task_event.clone();
    e.id = EventId(uuid::Uuid::from_u128(1));
    assert!(matches!(e.validate(), Err(EventError::NotUuidV7(_))));
    let mut e = task_event.clone();
    e.task = None;
    assert_eq!(
        e.validate(),
        Err(EventError::TaskPresence {
            kind: Kind::TaskOpened
        })
    );
    let mut e = policy.clone();
    e.task = task_event.task;
    assert_eq!(
        e.validate(),
        Err(EventError::TaskPresence {
            kind: Kind::PolicyRegistered
        })
    );
    let mut e = task_event.clone();
    e.task = Some(TaskId(uuid::Uuid::nil()));
    assert_eq!(e.validate(), Err(EventError::NilTask));
    let mut e = task_event.clone();
    e.prev = None;
    assert_eq!(e.validate(), Err(EventError::ChainStart { eseq: 3 }));
    let mut e = policy.clone();
    e.prev = Some(Digest::of(b"p"));
    assert_eq!(e.validate(), Err(EventError::ChainStart { eseq: 0 }));
    let mut e = task_event.clone();
    e.refs = vec![e.reference(Digest::of(b"x")); MAX_REFS + 1];
    assert!(matches!(
        e.validate(),
        Err(EventError::TooMany { what: "refs", .. })
    ));
    let mut e = task_event.clone();
    e.ext = (0..=MAX_EXT)
        .map(|i| (format!("k{i}"), String::new()))
        .collect();
    assert!(matches!(
        e.validate(),
        Err(EventError::TooMany { what: "ext", .. })
    ));
    let mut e = task_event.clone();
    e.ext.insert("has space".into(), "v".into());
    assert!(matches!(
        e.validate(),
        Err(EventError::BadIdentifier {
            field: "ext key",
            ..
        })
    ));
    let mut e = task_event.clone();
    if let Body::TaskOpened(t) = &mut e.body {
        t.principal.id = String::new();
    }
    assert!(matches!(
        e.validate(),
        Err(EventError::BadIdentifier {
            field: "principal.id",
            ..
        })
    ));
    // Invalid events cannot be signed, and decode reports the rule.
    assert!(matches!(
        envelope::sign(&e, &common::test_key()),
        Err(EnvelopeError::Payload(DecodeError::Model(_)))
    ));
    let cbor = e.to_cbor().expect("encodes");
    assert!(matches!(
        Event::from_cbor(&cbor),
        Err(DecodeError::Model(_))
    ));
    assert!(WorkloadId::new("spiffe://a b").is_err());
    assert!(WorkloadId::new("x".repeat(MAX_ID_LEN + 1)).is_err());
    assert!(
        serde_json::from_str::<Event>(
            &serde_json::to_string(&task_event)
                .expect("json")
                .replace("\"eseq\"", "\"unknown\":1,\"eseq\"")
        )
        .is_err()
    );
}

#[test]
fn batch_and_single_verification_agree() {
    let key = common::test_key();
    let other = SigningKey::from_bytes(&[3; 32]);
    let mut bytes: Vec<Vec<u8>> = Vec::new();
    for round in 0..12 {
        for e in common::sample_events() {
            bytes.push(signed_bytes(&e));
            if round % 5 == 0 {
                let mut bad = signed_bytes(&e);
                let n = bad.len();
                bad[n - 3] ^= 1; // inside the signature
                bytes.push(bad);
            }
        }
    }
    let vk = key.verifying_key();
    let ovk = other.verifying_key();
    let items: Vec<(&[u8], &ed25519_dalek::VerifyingKey)> = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| (b.as_slice(), if i % 17 == 5 { &ovk } else { &vk }))
        .collect();
    let batch = envelope::verify_batch(&items);
    assert_eq!(batch.len(), items.len());
    let mut failures = 0;
    for ((b, k), got) in items.iter().zip(&batch) {
        assert_eq!(got, &envelope::verify(b, k));
        failures += usize::from(got.is_err());
    }
    assert!(
        failures > 10,
        "the mix has bad signatures and wrong keys: {failures}"
    );
    let good: Vec<(&[u8], &ed25519_dalek::VerifyingKey)> = bytes
        .iter()
        .take(100)
        .filter(|b| envelope::verify(b, &vk).is_ok())
        .map(|b| (b.as_slice(), &vk))
        .collect();
    assert!(envelope::verify_batch(&good).iter().all(Result::is_ok));
}

#[test]
fn emitter_chain_links_events() {
    let key = common::test_key();
    let w = WorkloadId::new("spiffe://bank.example/gateway").expect("id");
    let mut chain = EmitterChain::for_task(key, w, TaskId::new_v7(), Assurance::Enforced);
    assert_eq!(chain.last(), None);
    let bodies = common::sample_bodies();
    let a = chain
        .emit(bodies[8].0.clone(), ts(common::T0), vec![])
        .expect("first");
    let b = chain
        .emit(
            bodies[8].0.clone(),
            ts(common::T0 + 1),
            vec![a.event().reference(a.digest())],
        )
        .expect("second");
    assert_eq!((a.event().eseq, a.event().prev), (0, None));
    assert_eq!((b.event().eseq, b.event().prev), (1, Some(a.digest())));
    assert_eq!(chain.last(), Some((1, b.digest())));
    // A ledger-level chain refuses task kinds: the model rule surfaces as an error, and the
    // chain does not advance.
    let mut ledger = EmitterChain::ledger_level(
        common::test_key(),
        WorkloadId::new("spiffe://r").expect("id"),
        Assurance::Enforced,
    );
    assert!(
        ledger
            .emit(bodies[8].0.clone(), ts(common::T0), vec![])
            .is_err()
    );
    assert_eq!(ledger.last(), None);
    assert!(
        ledger
            .emit(bodies[0].0.clone(), ts(common::T0), vec![])
            .is_ok()
    );
}

fn trust_toml(assurance: &str, kinds: &str, key: &SigningKey, window: &str) -> String {
    let log_key = warrant_ledger::checkpoint::NoteSigner::parse(
        "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg",
    )
    .expect("skey");
    format!(
        "version = 1\n[[logs]]\norigin = \"example.com/log/testdata\"\nhash = \"sha256\"\nverifier_key = \"{}\"\n\n[[emitters]]\nworkload = \"spiffe://bank.example/front-door\"\nassurance = \"{assurance}\"\nkinds = [{kinds}]\nkeys = [{{ public_key = \"{}\"{window} }}]\n",
        log_key.verifier(),
        public_key_base64(&key.verifying_key())
    )
}

#[test]
fn trust_policy_authorises_and_rejects() {
    let key = common::test_key();
    let opened = common::sample_events().remove(1); // TaskOpened by the front door
    let bytes = signed_bytes(&opened);
    let policy = TrustPolicy::from_toml(&trust_toml("enforced", "\"TaskOpened\"", &key, ""))
        .expect("policy");
    assert_eq!(
        policy.logs()[0].profile,
        warrant_ledger::merkle::HashProfile::Sha256
    );
    assert!(policy.verify_event(&bytes, Limits::default()).is_ok());

    let only_close = TrustPolicy::from_toml(&trust_toml("enforced", "\"TaskClosed\"", &key, ""))
        .expect("policy");
    assert!(matches!(
        only_close.verify_event(&bytes, Limits::default()),
        Err(TrustError::KindNotAllowed {
            kind: Kind::TaskOpened,
            ..
        })
    ));
    let agent = TrustPolicy::from_toml(&trust_toml("self_reported", "\"TaskOpened\"", &key, ""))
        .expect("policy");
    assert!(matches!(
        agent.verify_event(&bytes, Limits::default()),
        Err(TrustError::AssuranceNotAllowed(_))
    ));
    let expired = TrustPolicy::from_toml(&trust_toml(
        "enforced",
        "\"TaskOpened\"",
        &key,
        ", not_after = 1",
    ))
    .expect("policy");
    assert!(matches!(
        expired.verify_event(&bytes, Limits::default()),
        Err(TrustError::KeyNotValidAt { .. })
    ));
    let other = TrustPolicy::from_toml(&trust_toml(
        "enforced",
        "\"TaskOpened\"",
        &SigningKey::from_bytes(&[5; 32]),
        "",
    ))
    .expect("policy");
    assert!(matches!(
        other.verify_event(&bytes, Limits::default()),
        Err(TrustError::UnknownKey(_))
    ));
    let stranger = signed_bytes(&common::sample_events().remove(3)); // the PDP is not pinned
    assert!(matches!(
        policy.verify_event(&stranger, Limits::default()),
        Err(TrustError::UnknownEmitter(_))
    ));
    let mut forged = bytes.clone();
    let n = forged.len();
    forged[n - 1] ^= 1;
    assert!(matches!(
        policy.verify_event(&forged, Limits::default()),
        Err(TrustError::Envelope(EnvelopeError::BadSignature))
    ));
}

#[test]
fn trust_policy_file_errors() {
    let key = common::test_key();
    let ok = trust_toml("enforced", "\"TaskOpened\"", &key, "");
    let err = |text: &str| TrustPolicy::from_toml(text).expect_err("must be rejected");
    assert!(matches!(err("version = "), PolicyError::Syntax(_)));
    assert!(matches!(
        err(&ok.replace("version = 1", "version = 1\nsurprise = 2")),
        PolicyError::Syntax(_)
    ));
    assert_eq!(
        err(&ok.replace("version = 1", "version = 9")),
        PolicyError::Version(9)
    );
    assert!(matches!(
        err(&ok.replace("\"sha256\"", "\"md5\"")),
        PolicyError::HashProfile { .. }
    ));
    assert!(matches!(
        err(&ok.replace("+33d7b496+", "+33d7b497+")),
        PolicyError::VerifierKey { .. }
    ));
    let twice_log = ok.replace("\n\n[[emitters]]", "\n[[logs]]\norigin = \"example.com/log/testdata\"\nhash = \"sha256\"\nverifier_key = \"x\"\n\n[[emitters]]");
    assert!(matches!(err(&twice_log), PolicyError::DuplicateLog(_)));
    assert!(matches!(
        err(&ok.replace("front-door", "front door")),
        PolicyError::Workload(_)
    ));
    let emitter = ok.split("[[emitters]]").nth(1).expect("emitter block");
    assert!(matches!(
        err(&format!("{ok}[[emitters]]{emitter}")),
        PolicyError::DuplicateEmitter(_)
    ));
    assert!(matches!(
        err(&ok.replace("\"TaskOpened\"", "\"Nope\"")),
        PolicyError::Kind { .. }
    ));
    assert!(matches!(
        TrustPolicy::from_toml(&trust_toml("self_reported", "\"PolicyDecision\"", &key, "")),
        Err(PolicyError::SelfReportedKind {
            kind: Kind::PolicyDecision,
            ..
        })
    ));
    let b64 = public_key_base64(&key.verifying_key());
    assert!(matches!(
        err(&ok.replace(&b64, "AAAA")),
        PolicyError::PublicKey { index: 0, .. }
    ));
    // 32 zero bytes decode to a small-order point: a weak key.
    let weak = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert!(matches!(
        err(&ok.replace(&b64, weak)),
        PolicyError::PublicKey { index: 0, .. }
    ));
    assert!(matches!(
        err(&trust_toml(
            "enforced",
            "\"TaskOpened\"",
            &key,
            ", not_before = 5, not_after = 4"
        )),
        PolicyError::Window { .. }
    ));
    let no_keys = ok.replace(
        &format!("keys = [{{ public_key = \"{b64}\" }}]"),
        "keys = []",
    );
    assert!(matches!(err(&no_keys), PolicyError::NoKeys(_)));
}

fn arb_text() -> impl Strategy<Value = String> {
    "[a-z0-9:/._@-]{1,24}"
}

prop_compose! {
    fn arb_event()(base in 1usize..12, eseq in 0u64..1_000_000, time in any::<u64>(),
                   text in arb_text(), n in any::<u64>(), flag in any::<bool>(),
                   ext in proptest::collection::btree_map("[a-z_]{1,8}", ".{0,16}", 0..4),
                   id in any::<u128>()) -> Event {
        let mut e = common::sample_events().swap_remove(base);
        e.id = EventId(uuid::Uuid::from_u128((id & !(0xf << 76) & !(0x3 << 62)) | (0x7 << 76) | (0x2 << 62)));
        e.eseq = eseq;
        e.prev = (eseq > 0).then(|| Digest::of(&n.to_le_bytes()));
        e.time = ts(time);
        e.ext = ext;
        match &mut e.body {
            Body::ActionExecuted(a) => { a.operation.name = text; a.started_at = ts(n); a.within_confirmed_scope = flag; }
            Body::PolicyDecision(d) => { d.decision_id = text; d.valid_until = ts(n); d.obligations.approval = None; }
            Body::TaskOpened(t) => { t.purpose = text; t.principal.mfa = flag; t.expires_at = ts(n); }
            Body::CredentialIssued(c) => { c.credential.scopes.push(text); c.credential.expires_at = ts(n); if flag { c.approval = None; } }
            Body::TrustSignal(s) => { s.subject = text; }
            _ => {}
        }
        e
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_events_round_trip_and_verify(e in arb_event()) {
        let cbor = e.to_cbor().expect("encode");
        prop_assert_eq!(Event::from_cbor(&cbor), Ok(e.clone()));
        let signed = envelope::sign(&e, &common::test_key()).expect("sign");
        let back = envelope::verify(signed.bytes(), &common::test_key().verifying_key()).expect("verify");
        prop_assert_eq!(back.event(), &e);
    }

    #[test]
    fn truncations_and_random_bytes_never_panic(cut in 0usize..400, junk in proptest::collection::vec(any::<u8>(), 0..300)) {
        let bytes = signed_bytes(&common::sample_events()[1]);
        let cut = cut.min(bytes.len());
        prop_assert!(envelope::verify(&bytes[..cut], &common::test_key().verifying_key()).is_err() || cut == bytes.len());
        let _ = envelope::verify(&junk, &common::test_key().verifying_key());
        let _ = Event::from_cbor(&junk);
    }
}

/// The references an event cites, restated here field by field: its own `refs`, then what
/// its body cites, in declaration order. The auditor's reference check (A5) walks exactly these.
fn cited(e: &Event) -> Vec<EventRef> {
    let mut out = e.refs.clone();
    match &e.body {
        Body::ApprovalRequested(a) => out.push(a.decision),
        Body::ApprovalResolved(a) => out.push(a.request),
        Body::CredentialIssued(c) => {
            out.push(c.decision);
            out.extend(c.approval);
        }
        Body::ActionExecuted(a) => {
            out.extend(&a.decisions);
            out.extend(a.approval);
        }
        Body::CredentialRevoked(c) => out.extend(c.trigger),
        Body::Override(o) => out.push(o.target),
        _ => {}
    }
    out
}

#[test]
fn all_refs_lists_every_cited_event_in_order() {
    let mut citing = 0;
    for e in common::sample_events() {
        let want = cited(&e);
        citing += usize::from(want.len() > e.refs.len());
        assert_eq!(e.all_refs(), want, "{}", e.kind());
        assert_eq!(e.iter_all_refs().collect::<Vec<_>>(), want, "{}", e.kind());
    }
    // The samples exercise the body references, not only the generic list.
    assert!(
        citing >= 5,
        "only {citing} sample events cite from their body"
    );
}

#[test]
fn blocked_by_is_there_exactly_for_a_blocked_attempt_and_names_checks_in_order() {
    let action = common::sample_events()
        .into_iter()
        .find(|e| matches!(e.body, Body::ActionExecuted(_)))
        .expect("an action");
    let with = |outcome: ActionOutcome, checks: &[&str]| {
        let mut e = action.clone();
        if let Body::ActionExecuted(a) = &mut e.body {
            a.outcome = outcome;
            a.blocked_by = checks.iter().map(|c| (*c).to_owned()).collect();
        }
        e.validate()
    };
    assert_eq!(with(ActionOutcome::Success, &[]), Ok(()));
    assert_eq!(with(ActionOutcome::Blocked, &["B5"]), Ok(()));
    assert_eq!(with(ActionOutcome::Blocked, &["B2", "B5", "B11"]), Ok(()));
    let refused = |outcome, checks: &[&str]| {
        assert!(
            matches!(with(outcome, checks), Err(EventError::Blocked(_))),
            "{outcome:?} {checks:?}"
        );
    };
    refused(ActionOutcome::Blocked, &[]);
    refused(ActionOutcome::Success, &["B5"]);
    refused(ActionOutcome::Failure, &["B5"]);
    refused(ActionOutcome::Blocked, &["B5", "B2"]);
    refused(ActionOutcome::Blocked, &["B5", "B5"]);
    for bad in ["A1", "B0", "B12", "B05", "B+5", "b5", "B", ""] {
        refused(ActionOutcome::Blocked, &[bad]);
    }
    // And through the wire: a signed blocked attempt round-trips.
    let mut e = action.clone();
    if let Body::ActionExecuted(a) = &mut e.body {
        a.outcome = ActionOutcome::Blocked;
        a.blocked_by = vec!["B3".into(), "B8".into()];
    }
    let bytes = e.to_cbor().expect("encode");
    assert_eq!(Event::from_cbor(&bytes).expect("decode"), e);
}
