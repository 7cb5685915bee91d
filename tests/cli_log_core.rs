//! The real `warrant` binary: `merkle` and `note` commands, outputs and exit codes.
#![cfg(feature = "cli")]

#[path = "common/cli.rs"]
mod cli;

use std::process::Output;

use cli::warrant;

use base64::Engine as _;

fn json(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json output")
}

fn tessera_stdin() -> Vec<u8> {
    let words =
        "one two three four five six seven eit nain ten ileven twelf threeten fourten fivten";
    let b64 = base64::engine::general_purpose::STANDARD;
    words
        .split(' ')
        .map(|w| format!("{}\n", b64.encode(w)))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn root_prove_and_verify_round_trip() {
    let input = tessera_stdin();
    let root = json(&warrant(&["merkle", "root", "--hash", "sha256"], &input));
    assert_eq!(root["tree_size"], 15);
    // Tessera's published size-15 root, rKbDip…= in base64.
    assert_eq!(
        root["root"],
        "aca6c38a90af86e5f5199ee0e4105ef2c03a05b27b8daff59e4e36eefdfcddcb"
    );
    let r15 = root["root"].as_str().expect("root").to_owned();
    let r3 = json(&warrant(
        &["merkle", "root", "--hash", "sha256", "--size", "3"],
        &input,
    ))["root"]
        .as_str()
        .expect("root")
        .to_owned();

    let dir = tempfile::tempdir().expect("tempdir");
    let proof = warrant(
        &["merkle", "prove", "--hash", "sha256", "--index", "2"],
        &input,
    );
    let proof_json = json(&proof);
    assert_eq!(proof_json["leaf_index"], 2);
    assert_eq!(proof_json["tree_size"], 15);
    let incl = dir.path().join("incl.json");
    std::fs::write(&incl, &proof.stdout).expect("write");
    let incl = incl.to_str().expect("utf8 path");
    assert_eq!(
        warrant(&["merkle", "verify", incl, "--root", &r15], b"")
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        warrant(&["merkle", "verify", incl, "--root", &r3], b"")
            .status
            .code(),
        Some(1)
    );

    let cons = warrant(
        &[
            "merkle",
            "prove-consistency",
            "--hash",
            "sha256",
            "--old",
            "3",
        ],
        &input,
    );
    assert_eq!(json(&cons)["new_size"], 15);
    let cpath = dir.path().join("cons.json");
    std::fs::write(&cpath, &cons.stdout).expect("write");
    let cpath = cpath.to_str().expect("utf8 path");
    let ok = warrant(
        &["merkle", "verify", cpath, "--root", &r15, "--old-root", &r3],
        b"",
    );
    assert_eq!(ok.status.code(), Some(0));
    let swapped = warrant(
        &["merkle", "verify", cpath, "--root", &r3, "--old-root", &r15],
        b"",
    );
    assert_eq!(swapped.status.code(), Some(1));
    // Missing --old-root, a bad hex root, a non-proof file: input errors.
    assert_eq!(
        warrant(&["merkle", "verify", cpath, "--root", &r15], b"")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        warrant(&["merkle", "verify", incl, "--root", "abc"], b"")
            .status
            .code(),
        Some(2)
    );
    std::fs::write(dir.path().join("x.json"), b"{}").expect("write");
    let x = dir.path().join("x.json");
    let x = x.to_str().expect("utf8 path");
    assert_eq!(
        warrant(&["merkle", "verify", x, "--root", &r15], b"")
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn profiles_differ_and_bad_input_exits_2() {
    let input = tessera_stdin();
    let b = json(&warrant(&["merkle", "root", "--hash", "blake3"], &input));
    assert_eq!(b["hash"], "blake3");
    assert_ne!(
        b["root"],
        "aca6c38a90af86e5f5199ee0e4105ef2c03a05b27b8daff59e4e36eefdfcddcb"
    );
    assert_eq!(
        warrant(&["merkle", "root", "--hash", "md5"], &input)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        warrant(&["merkle", "root", "--hash", "sha256"], b"!!\n")
            .status
            .code(),
        Some(2)
    );
    let over = warrant(
        &["merkle", "root", "--hash", "sha256", "--size", "16"],
        &input,
    );
    assert_eq!(over.status.code(), Some(2));
    let idx = warrant(
        &["merkle", "prove", "--hash", "sha256", "--index", "15"],
        &input,
    );
    assert_eq!(idx.status.code(), Some(2));
    let zero = warrant(
        &[
            "merkle",
            "prove-consistency",
            "--hash",
            "sha256",
            "--old",
            "0",
        ],
        &input,
    );
    assert_eq!(zero.status.code(), Some(2));
    let empty = json(&warrant(&["merkle", "root", "--hash", "sha256"], b""));
    assert_eq!(
        empty["root"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn note_keygen_sign_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("log.key");
    let key_s = key.to_str().expect("utf8 path");
    let gen_out = warrant(
        &[
            "note",
            "keygen",
            "--name",
            "example.com/log",
            "--out",
            key_s,
        ],
        b"",
    );
    assert_eq!(gen_out.status.code(), Some(0));
    let vkey = String::from_utf8(gen_out.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    assert!(vkey.starts_with("example.com/log+"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A second keygen never overwrites the secret.
    let again = warrant(&["note", "keygen", "--name", "x", "--out", key_s], b"");
    assert_eq!(again.status.code(), Some(2));

    let signed = warrant(&["note", "sign", "--key", key_s], b"hello\nworld\n");
    assert_eq!(signed.status.code(), Some(0));
    let note = signed.stdout;
    assert!(
        String::from_utf8_lossy(&note).starts_with("hello\nworld\n\n\u{2014} example.com/log ")
    );
    let ok = warrant(&["note", "verify", "--key", &vkey], &note);
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(ok.stdout, b"hello\nworld\n");

    let mut tampered = note.clone();
    tampered[0] = b'j';
    assert_eq!(
        warrant(&["note", "verify", "--key", &vkey], &tampered)
            .status
            .code(),
        Some(1)
    );
    // A private key is only ever written to a file.
    assert_eq!(
        warrant(&["note", "keygen", "--name", "other"], b"")
            .status
            .code(),
        Some(2)
    );
    let other_key = dir.path().join("other.key");
    let other = warrant(
        &[
            "note",
            "keygen",
            "--name",
            "other",
            "--out",
            other_key.to_str().expect("utf8"),
        ],
        b"",
    );
    let other = String::from_utf8(other.stdout).expect("utf8");
    let other_vkey = other.trim();
    assert!(!other.contains("PRIVATE"));
    assert_eq!(
        warrant(&["note", "verify", "--key", other_vkey], &note)
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        warrant(&["note", "verify", "--key", &vkey], b"no block")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        warrant(&["note", "verify", "--key", "garbage"], &note)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        warrant(&["note", "sign", "--key", key_s], b"no newline")
            .status
            .code(),
        Some(2)
    );
}
