//! `warrant serve` as a real process: SIGKILLed under load and restarted, it loses no
//! acknowledged event and the clients' retries converge; read-only commands, run as other
//! processes beside it while it appends, see a consistent prefix and prove against
//! checkpoints it signed.
#![cfg(feature = "cli")]

mod common;
#[path = "common/served.rs"]
mod served;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use warrant_ledger::checkpoint::{NoteVerifier, open_checkpoint};
use warrant_ledger::client::{Client, ClientConfig};
use warrant_ledger::ledger::Ledger;
use warrant_ledger::merkle::{Hash, HashProfile, InclusionProof, verify_inclusion};

const ORIGIN: &str = "example.com/served";

fn warrant() -> Command {
    Command::new(env!("CARGO_BIN_EXE_warrant"))
}

/// `warrant init` a served ledger under [`ORIGIN`].
fn init(dir: &Path) -> NoteVerifier {
    served::init_served(dir, ORIGIN)
}

/// Starts `warrant serve` on `listen`; the child, and the address it reports listening on
/// (`None` if it could not listen).
fn try_serve(dir: &Path, listen: &str) -> (Child, Option<String>) {
    try_serve_with(dir, listen, &[])
}

/// As [`try_serve`], with more arguments for `warrant serve`.
fn try_serve_with(dir: &Path, listen: &str, more: &[&std::ffi::OsStr]) -> (Child, Option<String>) {
    let mut child = warrant()
        .arg("serve")
        .arg(dir)
        .args(["--listen", listen, "--quiet", "--checkpoint-ms", "100"])
        .args(more)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    let _ = BufReader::new(stdout).read_line(&mut line);
    let addr = line.trim().strip_prefix("listening on ").map(str::to_owned);
    (child, addr)
}

fn serve(dir: &Path, listen: &str) -> (Child, String) {
    match try_serve(dir, listen) {
        (child, Some(addr)) => (child, addr),
        (_, None) => panic!("warrant serve did not start"),
    }
}

/// Restarts on the same port, retrying while the old socket lingers (bounded).
fn serve_again(dir: &Path, addr: &str) -> Child {
    let listen = addr.trim_start_matches("http://");
    for _ in 0..50 {
        match try_serve(dir, listen) {
            (child, Some(_)) => return child,
            (mut child, None) => {
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    panic!("could not listen on {listen} again");
}

fn terminate(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    assert!(child.wait().expect("wait").success(), "graceful exit");
}

fn patient_client(addr: &str) -> Client {
    let mut config = ClientConfig::default();
    config.attempts = 400;
    config.backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(100);
    config.timeout = Duration::from_secs(10);
    config.batch_entries = 100;
    Client::new(addr, config).expect("client")
}

/// Four services submit 20,000 events through a server that is SIGKILLed once a quarter of
/// them are acknowledged and restarted on the same port. Every acknowledged event is in the
/// log at the index it was acknowledged with, every event is acknowledged in the end, and
/// nothing is in the log twice.
#[test]
fn a_killed_server_loses_no_acknowledged_event_and_retries_converge() {
    const CLIENTS: usize = 4;
    const PER_CLIENT: usize = 5_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let verifier = init(dir.path());
    let evs = Arc::new(served::fresh_events(CLIENTS * PER_CLIENT, 32));
    let (server, addr) = serve(dir.path(), "127.0.0.1:0");
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let answers = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (evs, addr) = (Arc::clone(&evs), addr.clone());
            let (acknowledged, answers) = (Arc::clone(&acknowledged), Arc::clone(&answers));
            std::thread::spawn(move || {
                let client = patient_client(&addr);
                let mine: Vec<usize> = (c * PER_CLIENT..(c + 1) * PER_CLIENT).collect();
                for batch in mine.chunks(100) {
                    let refs: Vec<&[u8]> = batch.iter().map(|&i| evs[i].as_slice()).collect();
                    let indices = client.submit(&refs).expect("retries converge");
                    let mut answers = answers.lock().expect("answers");
                    answers.extend(batch.iter().copied().zip(indices));
                    acknowledged.fetch_add(batch.len(), Ordering::SeqCst);
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(300);
    while acknowledged.load(Ordering::SeqCst) < evs.len() / 4 {
        assert!(Instant::now() < deadline, "load never reached a quarter");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut server = server;
    server.kill().expect("SIGKILL");
    server.wait().expect("reaped");
    let at_kill: Vec<(usize, u64)> = answers.lock().expect("answers").clone();
    let server = serve_again(dir.path(), &addr);
    for client in clients {
        client.join().expect("client");
    }
    terminate(server);

    let ledger = Ledger::open_read_only(dir.path()).expect("open");
    assert_eq!(ledger.size(), evs.len() as u64, "each event once");
    let answers = answers.lock().expect("answers");
    assert_eq!(answers.len(), evs.len());
    for &(i, index) in answers.iter() {
        assert_eq!(ledger.entry(index).expect("entry"), evs[i], "event {i}");
    }
    // What was acknowledged before the kill is still where it was acknowledged.
    assert!(!at_kill.is_empty());
    for &(i, index) in &at_kill {
        assert_eq!(ledger.entry(index).expect("entry"), evs[i]);
    }
    // The graceful stop signed a checkpoint over everything.
    let note = ledger.latest_checkpoint().expect("read").expect("note");
    let head = open_checkpoint(&note, ORIGIN, &[verifier])
        .expect("verifies")
        .tree_head();
    assert_eq!(head.size, evs.len() as u64);
    assert_eq!(ledger.root(head.size).expect("root"), head.root);
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// While `warrant serve` appends 10^5 events, other processes read the ledger with the
/// read-only commands (no log.key): each checkpoint they read verifies, and each inclusion
/// proof they make verifies against it for the entry they read.
#[test]
fn read_only_commands_beside_a_serving_writer_prove_against_its_checkpoints() {
    const TOTAL: usize = 100_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let verifier = init(dir.path());
    let evs = Arc::new(served::fresh_events(TOTAL, 64));
    let (server, addr) = serve(dir.path(), "127.0.0.1:0");
    let loader = {
        let (evs, addr) = (Arc::clone(&evs), addr.clone());
        std::thread::spawn(move || {
            let client = patient_client(&addr);
            let refs: Vec<&[u8]> = evs.iter().map(Vec::as_slice).collect();
            for chunk in refs.chunks(5_000) {
                client.submit(chunk).expect("submit");
            }
        })
    };
    let dir_arg = dir.path().to_str().expect("path");
    let task = warrant_ledger::envelope::decode_unverified(&evs[0], Default::default())
        .expect("event")
        .task
        .expect("task");
    let mut sizes_seen = Vec::new();
    let mut rounds = 0;
    while !loader.is_finished() || rounds < 3 {
        rounds += 1;
        let note = stdout_of(warrant().args(["checkpoint", dir_arg, "--latest"]));
        let head = open_checkpoint(note.as_bytes(), ORIGIN, std::slice::from_ref(&verifier))
            .expect("a checkpoint the writer signed")
            .tree_head();
        sizes_seen.push(head.size);
        if head.size == 0 {
            continue;
        }
        let index = (head.size * 7 / 11).to_string();
        let size = head.size.to_string();
        let json = stdout_of(warrant().args([
            "prove",
            "inclusion",
            dir_arg,
            "--index",
            &index,
            "--size",
            &size,
        ]));
        let proof: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let path = proof["path"]
            .as_array()
            .expect("path")
            .iter()
            .map(|h| Hash::from_hex(h.as_str().expect("hex")).expect("hash"))
            .collect();
        let entries = stdout_of(warrant().args([
            "entries",
            dir_arg,
            "--from",
            &index,
            "--to",
            &(head.size * 7 / 11 + 1).to_string(),
        ]));
        let entry = base64_decode(entries.trim());
        let leaf = HashProfile::Sha256.leaf_hash(&entry);
        let proof = InclusionProof {
            leaf_index: head.size * 7 / 11,
            tree_size: head.size,
            path,
        };
        verify_inclusion(HashProfile::Sha256, &leaf, &proof, &head).expect("proof verifies");
        assert!(evs.contains(&entry), "the entry is one the services sent");
        let out = dir.path().join(format!("round{rounds}.bundle"));
        stdout_of(
            warrant()
                .args(["export", dir_arg, "--task", &task.to_string(), "--out"])
                .arg(&out),
        );
        assert!(std::fs::metadata(&out).expect("bundle").len() > 0);
    }
    loader.join().expect("loader");
    terminate(server);
    assert!(
        sizes_seen.windows(2).all(|w| w[0] <= w[1]),
        "checkpoints only grow: {sizes_seen:?}"
    );
    assert!(
        sizes_seen.iter().any(|&s| s > 0 && s < TOTAL as u64),
        "some reads happened mid-load: {sizes_seen:?}"
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

/// The demo in its deployed shape: the services submit over HTTP to a ledger server, the
/// auditor reads bundles from it, and every outcome is still the scenario's.
#[test]
fn the_demo_runs_served_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = warrant()
        .args(["demo", "--serve", "--dir"])
        .arg(dir.path().join("demo"))
        .output()
        .expect("demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("(a ledger server on http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("services submitted to http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("18 bundles read back over HTTP"),
        "{stdout}"
    );
    assert!(stdout.contains("every compliant task passed"), "{stdout}");
    // The directory it leaves is served again, as the README says, and read-only commands
    // work on it beside the server.
    let ledger = dir.path().join("demo/ledger");
    let key = dir.path().join("demo/keys/log.key");
    let (server, addr) = match try_serve_with(
        &ledger,
        "127.0.0.1:0",
        &["--log-key".as_ref(), key.as_ref()],
    ) {
        (child, Some(addr)) => (child, addr),
        (_, None) => panic!("warrant serve did not start on the demo's directory"),
    };
    let client = Client::new(&addr, ClientConfig::default()).expect("client");
    let note = client.checkpoint().expect("checkpoint");
    let info = stdout_of(warrant().arg("info").arg(&ledger));
    let size: serde_json::Value = serde_json::from_str(&info).expect("JSON");
    assert_eq!(
        String::from_utf8_lossy(&note).lines().nth(1),
        Some(size["size"].to_string().as_str())
    );
    terminate(server);
}
