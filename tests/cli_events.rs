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
