//! Several `warrant serve --store postgres://…` processes sharing one ledger on a real
//! (throwaway) PostgreSQL: the leader is SIGKILLed under load; the follower takes over
//! within a bounded time; no acknowledged event is lost, no index reused, and the tree
//! after the failover is consistent with every checkpoint either server served before it.
//! Also: `warrant migrate` into PostgreSQL and back gives the same ledger.
#![cfg(all(feature = "cli", feature = "postgres"))]

mod common;
#[path = "common/pg.rs"]
mod pg;
#[path = "common/served.rs"]
mod served;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use warrant_ledger::checkpoint::{NoteSigner, NoteVerifier, open_checkpoint};
use warrant_ledger::client::{Client, ClientConfig};
use warrant_ledger::ledger::{Ledger, LedgerError};
use warrant_ledger::merkle::{ConsistencyProof, HashProfile, TreeHead, verify_consistency};
use warrant_ledger::store::Storage as _;

const ORIGIN: &str = "example.com/replicated";

fn warrant() -> Command {
    Command::new(env!("CARGO_BIN_EXE_warrant"))
}

fn run_ok(args: &[&str]) -> String {
    let out = warrant().args(args).output().expect("run warrant");
    assert!(
        out.status.success(),
        "warrant {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `warrant init` a served ledger under [`ORIGIN`].
fn init(dir: &Path) -> NoteVerifier {
    served::init_served(dir, ORIGIN)
}

/// A `warrant serve --store` process: its address, and its standard error's lines.
struct Server {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
}

fn serve(dir: &Path, url: &str) -> Server {
    let mut child = warrant()
        .arg("serve")
        .arg(dir)
        .args(["--store", url, "--listen", "127.0.0.1:0", "--quiet"])
        .args(["--checkpoint-ms", "50"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("read");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening")
        .to_owned();
    let (tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // Shown when the test fails: what the server went through.
            eprintln!("[serve] {line}");
            let _ = tx.send(line);
        }
    });
    Server { child, addr, lines }
}

impl Server {
    /// Waits (bounded) for a line starting with `prefix`; returns it.
    fn wait_for(&self, prefix: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => {}
                Err(_) => panic!("no '{prefix}' from the server within {within:?}"),
            }
        }
    }
}

/// A client of one server that does not retry: the caller moves to the other server.
fn impatient(addr: &str) -> Client {
    let mut config = ClientConfig::default();
    config.attempts = 1;
    config.timeout = Duration::from_secs(10);
    config.batch_entries = 1000;
    Client::new(addr, config).expect("client")
}

/// Submits `batch` to whichever server appends it (bounded: two minutes).
fn submit_anywhere(servers: &[String], batch: &[&[u8]]) -> Vec<u64> {
    let deadline = Instant::now() + Duration::from_secs(120);
    for attempt in 0usize.. {
        assert!(Instant::now() < deadline, "no server appended the batch");
        if let Ok(indices) = impatient(&servers[attempt % servers.len()]).submit(batch) {
            return indices;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    unreachable!()
}

/// Each event's position in the load, and the index it was acknowledged with.
type Answers = Vec<(usize, u64)>;

/// Clients submitting their shares of `evs` in batches of 50, each to whichever server
/// appends it; every acknowledged batch's indices are kept.
struct Load {
    evs: Arc<Vec<Vec<u8>>>,
    acknowledged: Arc<AtomicUsize>,
    answers: Arc<Mutex<Answers>>,
    clients: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(evs: Vec<Vec<u8>>, clients: usize, servers: &[String]) -> Self {
        let evs = Arc::new(evs);
        let per_client = evs.len() / clients;
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let answers = Arc::new(Mutex::new(Vec::new()));
        let clients = (0..clients)
            .map(|c| {
                let (evs, servers) = (Arc::clone(&evs), servers.to_vec());
                let (acknowledged, answers) = (Arc::clone(&acknowledged), Arc::clone(&answers));
                std::thread::spawn(move || {
                    let mine: Vec<usize> = (c * per_client..(c + 1) * per_client).collect();
                    for batch in mine.chunks(50) {
                        let refs: Vec<&[u8]> = batch.iter().map(|&i| evs[i].as_slice()).collect();
                        let indices = submit_anywhere(&servers, &refs);
                        answers
                            .lock()
                            .expect("answers")
                            .extend(batch.iter().copied().zip(indices));
                        acknowledged.fetch_add(batch.len(), Ordering::SeqCst);
                    }
                })
            })
            .collect();
        Self {
            evs,
            acknowledged,
            answers,
            clients,
        }
    }

    /// Waits (bounded) until a third of the events are acknowledged; what was, by then.
    fn a_third_acknowledged(&self) -> Answers {
        let deadline = Instant::now() + Duration::from_secs(300);
        while self.acknowledged.load(Ordering::SeqCst) < self.evs.len() / 3 {
            assert!(Instant::now() < deadline, "load never reached a third");
            std::thread::sleep(Duration::from_millis(5));
        }
        self.answers.lock().expect("answers").clone()
    }

    /// Waits for every client; then every event was acknowledged once.
    fn finish(self) -> (Arc<Vec<Vec<u8>>>, Answers) {
        for client in self.clients {
            client.join().expect("client");
        }
        let answers = self.answers.lock().expect("answers").clone();
        (self.evs, answers)
    }
}

/// The log holds each event once, at the index it was acknowledged with, and nothing else:
/// no acknowledged event lost, no index reused or skipped.
fn check_log(
    ledger: &Ledger<warrant_ledger::store::PgStore>,
    evs: &[Vec<u8>],
    answers: &[(usize, u64)],
) {
    let n = evs.len() as u64;
    assert_eq!(ledger.size(), n, "each event once");
    let mut indices: Vec<u64> = answers.iter().map(|&(_, index)| index).collect();
    indices.sort_unstable();
    assert_eq!(
        indices,
        (0..n).collect::<Vec<_>>(),
        "no index reused or skipped"
    );
    for &(i, index) in answers {
        assert_eq!(ledger.entry(index).expect("entry"), evs[i], "event {i}");
    }
}

#[test]
fn the_leader_killed_under_load_is_replaced_with_nothing_lost_and_no_fork() {
    const CLIENTS: usize = 3;
    const PER_CLIENT: usize = 2_000;
    let Some(cluster) = pg::cluster_or_skip() else {
        return;
    };
    let url = cluster.url("failover");
    let dir = tempfile::tempdir().expect("tempdir");
    let verifier = init(dir.path());
    // The new ledger (its checkpoint of size 0) moves into the database.
    run_ok(&["migrate", dir.path().to_str().expect("utf-8"), &url]);

    let mut first = serve(dir.path(), &url);
    first.wait_for("leading at 0 entries", Duration::from_secs(30));
    let second = serve(dir.path(), &url);
    second.wait_for("following", Duration::from_secs(30));
    // The follower refuses writes, it does not take them.
    let one = served::fresh_events(1, 1);
    let refused = impatient(&second.addr).submit(&[&one[0]]);
    assert!(format!("{refused:?}").contains("not_leader"), "{refused:?}");
    let servers = vec![first.addr.clone(), second.addr.clone()];

    let load = Load::start(
        served::fresh_events(CLIENTS * PER_CLIENT, 24),
        CLIENTS,
        &servers,
    );
    // Every checkpoint either server serves, before and after the failover.
    let done = Arc::new(AtomicBool::new(false));
    let notes = Arc::new(Mutex::new(BTreeMap::new()));
    let watcher = {
        let (servers, done, notes) = (servers.clone(), Arc::clone(&done), Arc::clone(&notes));
        let verifier = verifier.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                for addr in &servers {
                    if let Ok(note) = impatient(addr).checkpoint() {
                        let head = open_checkpoint(&note, ORIGIN, std::slice::from_ref(&verifier))
                            .expect("a served checkpoint verifies")
                            .tree_head();
                        notes.lock().expect("notes").insert(head.size, head);
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let at_kill = load.a_third_acknowledged();
    first.child.kill().expect("SIGKILL the leader");
    let killed = Instant::now();
    first.child.wait().expect("reaped");
    let before_kill: Vec<TreeHead> = notes.lock().expect("notes").values().copied().collect();
    let line = second.wait_for("leading at", Duration::from_secs(30));
    let takeover = killed.elapsed();
    eprintln!(
        "takeover: {line}; {} ms after the SIGKILL",
        takeover.as_millis()
    );
    assert!(takeover < Duration::from_secs(30));

    let (evs, answers) = load.finish();
    done.store(true, Ordering::SeqCst);
    watcher.join().expect("watcher");
    // The new leader proves, over HTTP, that its tree extends what the old one signed.
    let survivor = impatient(&second.addr);
    let served = open_checkpoint(
        &survivor.checkpoint().expect("checkpoint"),
        ORIGIN,
        std::slice::from_ref(&verifier),
    )
    .expect("opens")
    .tree_head();
    let oldest = before_kill
        .iter()
        .find(|h| h.size > 0)
        .copied()
        .expect("signed before");
    let proof = survivor
        .consistency_proof(oldest.size, served.size)
        .expect("proof over HTTP");
    let proof = ConsistencyProof::from_bytes(&proof).expect("decode");
    verify_consistency(HashProfile::Sha256, &proof, &oldest, &served).expect("consistent");
    let mut second = second;
    Command::new("kill")
        .args(["-TERM", &second.child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(
        second.child.wait().expect("wait").success(),
        "graceful exit"
    );

    let ledger = Ledger::follow(&url).expect("follow");
    let n = evs.len() as u64;
    check_log(&ledger, &evs, &answers);
    assert!(!at_kill.is_empty());
    for &(i, index) in &at_kill {
        assert_eq!(
            ledger.entry(index).expect("entry"),
            evs[i],
            "acknowledged before the kill"
        );
    }
    // Every checkpoint served before the kill is a prefix of the tree after it.
    let head = ledger
        .latest_checkpoint()
        .expect("read")
        .map(|note| open_checkpoint(&note, ORIGIN, std::slice::from_ref(&verifier)).expect("opens"))
        .expect("a checkpoint")
        .tree_head();
    assert_eq!(head.size, n, "the graceful stop signed over everything");
    assert!(before_kill.len() > 2, "checkpoints seen before the kill");
    // So is every checkpoint either leader signed and stored, served or not.
    let stored = ledger.store().checkpoint_sizes().expect("sizes");
    assert!(
        stored.len() > before_kill.len() / 2,
        "{} stored",
        stored.len()
    );
    let signed = stored.iter().map(|&size| {
        let note = ledger
            .store()
            .checkpoint(size)
            .expect("read")
            .expect("note");
        open_checkpoint(&note, ORIGIN, std::slice::from_ref(&verifier))
            .expect("opens")
            .tree_head()
    });
    for old in before_kill
        .iter()
        .copied()
        .chain(signed)
        .filter(|h| h.size > 0)
    {
        let proof = ledger.prove_consistency(old.size, n).expect("prove");
        verify_consistency(HashProfile::Sha256, &proof, &old, &head).expect("consistent");
    }
}

/// PostgreSQL restarted under load: the leader loses its session (and lock), follows,
/// leads again; the clients' retries converge, nothing acknowledged is lost, no index is
/// reused.
#[test]
fn a_database_restarted_under_load_loses_nothing_acknowledged() {
    const CLIENTS: usize = 2;
    const PER_CLIENT: usize = 1_500;
    let Some(cluster) = pg::cluster_or_skip() else {
        return;
    };
    let url = cluster.url("restarted");
    let dir = tempfile::tempdir().expect("tempdir");
    init(dir.path());
    run_ok(&["migrate", dir.path().to_str().expect("utf-8"), &url]);
    let server = serve(dir.path(), &url);
    server.wait_for("leading at 0 entries", Duration::from_secs(30));
    let load = Load::start(
        served::fresh_events(CLIENTS * PER_CLIENT, 10),
        CLIENTS,
        std::slice::from_ref(&server.addr),
    );
    let at_restart = load.a_third_acknowledged();
    if !cluster.restart() {
        eprintln!("skipped the restart: WARRANT_PG_URL's server is not ours to restart");
    }
    let (evs, answers) = load.finish();
    let mut server = server;
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(
        server.child.wait().expect("wait").success(),
        "graceful exit"
    );

    let ledger = Ledger::follow(&url).expect("follow");
    check_log(&ledger, &evs, &answers);
    assert!(!at_restart.is_empty());
}

/// A file ledger copied into PostgreSQL and back: the same entries, roots and checkpoints;
/// a second copy into the same database is refused.
#[test]
fn migrate_into_postgres_and_back_keeps_the_ledger() {
    let Some(cluster) = pg::cluster_or_skip() else {
        return;
    };
    let url = cluster.url("migrate");
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = common::sample_ledger(&dir.path().join("a"), HashProfile::Sha256);
    let evs = common::events(300, 7);
    for chunk in evs.chunks(100) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        ledger.append_batch(&refs).expect("append");
        ledger.checkpoint().expect("checkpoint");
    }
    // A rotated log key: the copy keeps both (its older checkpoints open under the old).
    let new_key = NoteSigner::generate(common::ORIGIN).expect("key");
    let (ledger, _) = ledger.rotate_log_key(new_key).expect("rotate");
    let sizes = ledger.store().checkpoint_sizes().expect("sizes");
    let size = ledger.size();
    drop(ledger);
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let out = run_ok(&["migrate", a.to_str().expect("utf-8"), &url, "--json"]);
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["entries"], size);
    assert_eq!(report["checkpoints"], sizes.len());
    let again = warrant()
        .args(["migrate", a.to_str().expect("utf-8"), &url])
        .output()
        .expect("run");
    assert!(
        !again.status.success(),
        "a database holding a log is not overwritten"
    );
    // The database holds this log: a key of another origin, or another key of this origin,
    // cannot lead it.
    for stranger in [
        NoteSigner::generate("other.example/log").expect("key"),
        NoteSigner::generate(common::ORIGIN).expect("key"),
    ] {
        let led = Ledger::lead(
            &url,
            stranger,
            common::sample_trust(),
            Duration::from_secs(1),
        );
        assert!(
            matches!(led, Err(LedgerError::KeyMismatch { .. })),
            "{:?}",
            led.err()
        );
    }
    run_ok(&["migrate", &url, b.to_str().expect("utf-8")]);
    let (a, b) = (
        Ledger::open_read_only(&a).expect("a"),
        Ledger::open_read_only(&b).expect("b"),
    );
    assert_eq!(a.size(), b.size());
    assert_eq!(a.verifiers(), b.verifiers());
    assert_eq!(a.verifiers().len(), 2);
    assert_eq!(b.store().checkpoint_sizes().expect("sizes"), sizes);
    for s in sizes {
        assert_eq!(a.root(s).expect("root"), b.root(s).expect("root"));
        assert_eq!(
            a.store().checkpoint(s).expect("a"),
            b.store().checkpoint(s).expect("b")
        );
    }
    for i in 0..a.size() {
        assert_eq!(a.entry(i).expect("a"), b.entry(i).expect("b"));
    }
}

/// A server whose key is not the database's ledger's stops with the reason, rather than
/// following forever.
#[test]
fn a_server_with_another_logs_key_stops_with_the_reason() {
    let Some(cluster) = pg::cluster_or_skip() else {
        return;
    };
    let url = cluster.url("stranger");
    let dir = tempfile::tempdir().expect("tempdir");
    init(&dir.path().join("ours"));
    run_ok(&[
        "migrate",
        dir.path().join("ours").to_str().expect("utf-8"),
        &url,
    ]);
    let other = dir.path().join("other");
    run_ok(&[
        "init",
        "--origin",
        "other.example/log",
        other.to_str().expect("utf-8"),
    ]);
    let mut child = warrant()
        .arg("serve")
        .arg(&other)
        .args(["--store", &url, "--listen", "127.0.0.1:0", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server kept running with another log's key");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("read");
    assert!(!status.success());
    assert!(stderr.contains("is not this ledger's"), "{stderr}");
}

/// A leader whose epoch was taken (as a successor's lead does) notices within its health
/// check, steps down, and leads again under a new epoch; appends work after it.
#[test]
fn a_leader_whose_epoch_was_taken_steps_down() {
    let Some(cluster) = pg::cluster_or_skip() else {
        return;
    };
    let url = cluster.url("epoch");
    let dir = tempfile::tempdir().expect("tempdir");
    init(dir.path());
    run_ok(&["migrate", dir.path().to_str().expect("utf-8"), &url]);
    let mut server = serve(dir.path(), &url);
    server.wait_for("leading at 0 entries", Duration::from_secs(30));
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    admin
        .execute("UPDATE warrant_meta SET epoch = epoch + 1", &[])
        .expect("a successor's epoch");
    server.wait_for("no longer leading", Duration::from_secs(30));
    server.wait_for("leading at 0 entries", Duration::from_secs(30));
    let evs = served::fresh_events(3, 1);
    let refs: Vec<&[u8]> = evs.iter().map(Vec::as_slice).collect();
    assert_eq!(
        submit_anywhere(std::slice::from_ref(&server.addr), &refs),
        vec![0, 1, 2]
    );
    let epoch: i64 = admin
        .query_one("SELECT epoch FROM warrant_meta", &[])
        .expect("epoch")
        .get(0);
    assert_eq!(epoch, 3, "led, deposed, led again");
    server.child.kill().expect("kill");
    server.child.wait().expect("reaped");
}
