//! One exit-code contract for every command (README, `--help`): 0 success or verified,
//! 1 verification failed or problem found, 2 usage or input error. A table of command ×
//! input class, run against the real binary; and no argument value makes it panic.
#![cfg(feature = "cli")]

#[path = "common/cli.rs"]
mod cli;

use cli::warrant;

/// A well-formed request for a task the log does not hold: denied (B1) when it is dated now;
/// dated in 2027 as it is, refused as ahead of the ledger's clock.
const UNKNOWN_TASK_REQUEST: &[u8] = br#"{"task": "01935f3a-1c00-7000-8000-00000000abcd",
  "actor_chain": ["alice@bank.example", "spiffe://bank.example/agent"], "instance": "i-1",
  "operation": {"name": "reports:read", "service": "https://reports.example",
    "resources": ["r"], "permissions_used": ["reports:read"]},
  "credential_id": "cred-1", "at": 1800000000000}"#;

fn code(args: &[&str], stdin: &[u8]) -> Option<i32> {
    let out = warrant(args, stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    out.status.code()
}

#[test]
fn every_command_keeps_the_exit_code_contract() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = tmp.path();
    let demo = t.join("demo");
    assert_eq!(
        code(&["demo", "--dir", demo.to_str().expect("utf8")], b""),
        Some(0)
    );
    let p = |rel: &str| demo.join(rel).to_str().expect("utf8").to_owned();
    let (ledger, trust) = (p("ledger"), p("trust.toml"));
    let mut bundles: Vec<String> = std::fs::read_dir(demo.join("bundles"))
        .expect("bundles")
        .map(|e| e.expect("entry").path().to_str().expect("utf8").to_owned())
        .collect();
    bundles.sort();
    // A passing and a failing bundle, by what verify says of them.
    let passing = bundles
        .iter()
        .find(|b| code(&["verify", b, "--trust", &trust], b"") == Some(0))
        .expect("a compliant task")
        .clone();
    let failing = bundles
        .iter()
        .find(|b| b.ends_with("tampered.bundle"))
        .expect("tampered")
        .clone();
    let garbage = t.join("garbage");
    std::fs::write(&garbage, b"\x00garbage").expect("write");
    let g = garbage.to_str().expect("utf8");
    let missing = t.join("missing").to_str().expect("utf8").to_owned();
    let huge = u64::MAX.to_string();
    let out_file = p("x");

    // A signed event: one the ledger trusts (taken from the ledger) and one it does not.
    let entries = warrant(&["entries", &ledger, "--from", "1", "--to", "2"], b"");
    let entry = base64_decode(String::from_utf8_lossy(&entries.stdout).trim());
    let good_event = t.join("good.cose");
    std::fs::write(&good_event, &entry).expect("write");
    let key = t.join("stranger.key");
    let k = key.to_str().expect("utf8");
    assert_eq!(code(&["keygen", "--out", k], b""), Some(0));
    let example = std::fs::read(format!(
        "{}/examples/events/TaskOpened.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("example");
    let stranger = warrant(&["event", "sign", "--key", k], &example).stdout;
    let stranger_file = t.join("stranger.cose");
    std::fs::write(&stranger_file, &stranger).expect("write");
    let writable = t.join("own");
    let wl = writable.to_str().expect("utf8");
    assert_eq!(
        code(&["init", wl, "--origin", "example.com/agents"], b""),
        Some(0)
    );

    let table: Vec<(Vec<&str>, &[u8], i32)> = vec![
        (vec!["verify", &passing, "--trust", &trust], b"", 0),
        (vec!["verify", &failing, "--trust", &trust], b"", 1),
        (vec!["verify", g, "--trust", &trust], b"", 2),
        (vec!["verify", &missing, "--trust", &trust], b"", 2),
        (vec!["verify", &passing, "--trust", g], b"", 2),
        (vec!["info", &ledger], b"", 0),
        (vec!["info", &missing], b"", 2),
        (vec!["info", t.to_str().expect("utf8")], b"", 2),
        (vec!["fsck", &ledger], b"", 0),
        (vec!["admit", &ledger], b"{}", 2),
        (vec!["admit", &ledger], b"\xff", 2),
        (
            vec!["admit", &ledger, "--at", "now"],
            UNKNOWN_TASK_REQUEST,
            1,
        ),
        (vec!["admit", &ledger], UNKNOWN_TASK_REQUEST, 2),
        (vec!["admit", &missing], UNKNOWN_TASK_REQUEST, 2),
        (
            vec!["admit", &ledger, "--at", "12"],
            UNKNOWN_TASK_REQUEST,
            2,
        ),
        (vec!["revocations", &ledger], b"", 0),
        (vec!["revocations", &ledger, "--at", "soon"], b"", 2),
        (vec!["revocations", &missing], b"", 2),
        (vec!["fsck", &missing], b"", 2),
        (
            vec!["append", wl, stranger_file.to_str().expect("utf8")],
            b"",
            1,
        ),
        (vec!["append", wl], &stranger, 1),
        (vec!["append", wl, g], b"", 2),
        (vec!["append", wl], b"\x00garbage", 2),
        (vec!["append", &ledger, g], b"", 2),
        (
            vec!["event", "show", good_event.to_str().expect("utf8")],
            b"",
            0,
        ),
        (vec!["event", "show"], b"junk", 2),
        (
            vec![
                "event",
                "verify",
                "--pubkey",
                "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
            ],
            &entry,
            1,
        ),
        (
            vec![
                "event",
                "verify",
                "--pubkey",
                "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
            ],
            b"junk",
            2,
        ),
        (
            vec![
                "export",
                &ledger,
                "--task",
                "01935f3a-1c00-7000-8000-00000000ffff",
                "-o",
                &out_file,
            ],
            b"",
            2,
        ),
        (
            vec!["prove", "inclusion", &ledger, "--index", &huge],
            b"",
            2,
        ),
        (vec!["prove", "consistency", &ledger, "--old", "0"], b"", 2),
        (vec!["entries", &ledger, "--from", &huge], b"", 0),
        (vec!["checkpoint", &ledger, "--latest"], b"", 0),
        (vec!["bench", "--events", "0"], b"", 2),
        (vec!["bench", "--events", &huge], b"", 2),
        (vec!["bench", "--events", "-1"], b"", 2),
        (vec!["demo", "--tasks", "0"], b"", 2),
        (vec!["demo", "--tasks", &huge], b"", 2),
        (vec!["no-such-command"], b"", 2),
        (vec!["verify"], b"", 2),
    ];
    for (args, stdin, want) in &table {
        assert_eq!(code(args, stdin), Some(*want), "{args:?}");
    }
    // A corrupt store is a problem found (1), not a usage error.
    let data = demo.join("ledger/entries.dat");
    let mut bytes = std::fs::read(&data).expect("read");
    bytes[100] ^= 1;
    std::fs::write(&data, bytes).expect("write");
    assert_eq!(code(&["fsck", &ledger], b""), Some(1));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}
