//! The real `warrant` binary: `keygen` and `event sign|verify|show`.
#![cfg(feature = "cli")]

#[path = "common/cli.rs"]
mod cli;

use cli::warrant;

fn example(kind: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/examples/events/{kind}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("example")
}

#[test]
fn keygen_sign_verify_show() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("agent.key");
    let key_s = key.to_str().expect("utf8");
    let out = warrant(&["keygen", "--out", key_s], b"");
    assert_eq!(out.status.code(), Some(0));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let public = info["public_key"].as_str().expect("public key").to_owned();
    assert_eq!(info["key_id"].as_str().expect("kid").len(), 16);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&key).expect("meta").permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(
        warrant(&["keygen", "--out", key_s], b"").status.code(),
        Some(2),
        "never overwrites"
    );

    for kind in ["TaskOpened", "PolicyRegistered", "ActionExecuted"] {
        let signed = warrant(&["event", "sign", "--key", key_s], &example(kind));
        assert_eq!(
            signed.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&signed.stderr)
        );
        let cose = signed.stdout;
        assert_eq!(cose[0], 0xd2, "tagged COSE_Sign1");
        assert_eq!(
            warrant(&["event", "verify", "--pubkey", &public], &cose)
                .status
                .code(),
            Some(0)
        );
        let shown = warrant(&["event", "show"], &cose);
        let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("show json");
        assert_eq!(shown["header"]["alg"], "EdDSA");
        let original: serde_json::Value =
            serde_json::from_slice(&example(kind)).expect("example json");
        assert_eq!(shown["event"], original);

        // Every byte flip fails verification (exit 1 or 2), never succeeds.
        for i in (0..cose.len()).step_by(7) {
            let mut bad = cose.clone();
            bad[i] ^= 0x10;
            let code = warrant(&["event", "verify", "--pubkey", &public], &bad)
                .status
                .code();
            assert!(matches!(code, Some(1 | 2)), "{kind} byte {i}: {code:?}");
        }
    }
    let cose = warrant(&["event", "sign", "--key", key_s], &example("TaskOpened")).stdout;
    let path = dir.path().join("e.cose");
    let path_s = path.to_str().expect("utf8");
    let written = warrant(
        &["event", "sign", "--key", key_s, "--out", path_s],
        &example("TaskOpened"),
    );
    assert_eq!(written.status.code(), Some(0));
    assert_eq!(
        std::fs::read(&path).expect("read"),
        cose,
        "Ed25519 is deterministic"
    );

    let other = warrant(
        &[
            "keygen",
            "--out",
            dir.path().join("other.key").to_str().expect("utf8"),
        ],
        b"",
    );
    let other: serde_json::Value = serde_json::from_slice(&other.stdout).expect("json");
    let other_pub = other["public_key"].as_str().expect("pk");
    assert_eq!(
        warrant(&["event", "verify", "--pubkey", other_pub], &cose)
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        warrant(&["event", "verify", "--pubkey", &public], &cose[..40])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        warrant(&["event", "verify", "--pubkey", "not base64!"], &cose)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(warrant(&["event", "show"], b"junk").status.code(), Some(2));
    let bad_json = warrant(&["event", "sign", "--key", key_s], b"{\"v\":1}");
    assert_eq!(bad_json.status.code(), Some(2));
    let invalid = String::from_utf8(example("TaskOpened"))
        .expect("utf8")
        .replace("\"eseq\": 3", "\"eseq\": 0");
    assert_eq!(
        warrant(&["event", "sign", "--key", key_s], invalid.as_bytes())
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn helpers_for_events_built_by_hand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("front.key");
    let key_s = key.to_str().expect("utf8");
    assert_eq!(
        warrant(&["keygen", "--out", key_s], b"").status.code(),
        Some(0)
    );

    // A fresh UUIDv7 each time.
    let id = |_| String::from_utf8(warrant(&["event", "new-id"], b"").stdout).expect("utf8");
    let (a, b) = (id(0), id(1));
    assert_ne!(a, b);
    let parsed: warrant_ledger::event::EventId = a.trim().parse().expect("uuid");
    assert_eq!(parsed.0.get_version_num(), 7);

    // The action digest is the library's, in any resource order.
    let digest = |args: &[&str]| {
        let mut all = vec!["event", "action-digest", "--action", "payments:transfer"];
        all.extend_from_slice(args);
        String::from_utf8(warrant(&all, b"").stdout).expect("utf8")
    };
    let want = warrant_ledger::event::action_digest(
        "payments:transfer",
        &["acct:2".to_owned(), "acct:1".to_owned()],
    );
    assert_eq!(
        digest(&["--resource", "acct:1", "--resource", "acct:2"]).trim(),
        want.to_hex()
    );
    assert_eq!(
        digest(&["--resource", "acct:2", "--resource", "acct:1"]).trim(),
        want.to_hex()
    );

    // Two events signed through one chain-state file chain like a service's: eseq 0 then 1,
    // the second's prev the first's citation digest (which `event digest` prints).
    let chain = dir.path().join("front.chain");
    let chain_s = chain.to_str().expect("utf8");
    let sign = |kind: &str| {
        let out = warrant(
            &[
                "event",
                "sign",
                "--key",
                key_s,
                "--chain",
                chain_s,
                "--fresh-id",
            ],
            &example(kind),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let (first, second) = (sign("TaskOpened"), sign("DelegationGranted"));
    let file = dir.path().join("first.cose");
    std::fs::write(&file, &first).expect("write");
    let first_digest =
        String::from_utf8(warrant(&["event", "digest", file.to_str().expect("utf8")], b"").stdout)
            .expect("utf8");
    let from_stdin = String::from_utf8(warrant(&["event", "digest"], &first).stdout).expect("utf8");
    assert_eq!(first_digest, from_stdin);
    let shown = |cose: &[u8]| -> serde_json::Value {
        serde_json::from_slice(&warrant(&["event", "show"], cose).stdout).expect("json")
    };
    let (one, two) = (shown(&first), shown(&second));
    assert_eq!(
        (&one["event"]["eseq"], &two["event"]["eseq"]),
        (&0.into(), &1.into())
    );
    assert!(one["event"].get("prev").is_none());
    assert_eq!(two["event"]["prev"].as_str(), Some(first_digest.trim()));
    assert_eq!(one["digest"].as_str(), Some(first_digest.trim()));
    assert_ne!(one["event"]["id"], two["event"]["id"]);
    // Another emitter's event is refused by this state file.
    let mut other: serde_json::Value =
        serde_json::from_slice(&example("PolicyDecision")).expect("json");
    other["emitter"] = "spiffe://bank.example/somebody-else".into();
    let refused = warrant(
        &["event", "sign", "--key", key_s, "--chain", chain_s],
        other.to_string().as_bytes(),
    );
    assert_eq!(refused.status.code(), Some(2));
    // Garbage is not an envelope.
    assert_eq!(
        warrant(&["event", "digest"], b"garbage").status.code(),
        Some(2)
    );
}
