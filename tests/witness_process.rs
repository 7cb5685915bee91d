//! `warrant witness serve` as a real process, SIGKILLed over and over while two branches
//! of a forked log race to get their heads cosigned: the witness never cosigns both
//! branches, never goes back on a size it cosigned, and answers over HTTP as the
//! specification says.
#![cfg(feature = "cli")]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{ORIGIN, events, log_key, trust};
use warrant_ledger::checkpoint::{Note, NoteSigner, cosigned_time};
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::HashProfile;

/// The checkpoints branch A has; branch B has one more (32), so that whichever branch
/// wins, the other keeps asking with a proof from the winner's head to a larger size of its
/// own, and a witness that skipped the consistency check would cosign it.
const SIZES: [u64; 7] = [8, 12, 16, 20, 24, 28, 32];

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One branch of the log: its checkpoint note at each size, and a way to make requests.
struct Branch {
    ledger: Ledger,
    notes: BTreeMap<u64, Vec<u8>>,
    last: u64,
}

impl Branch {
    /// A ledger sharing the first 8 entries with every other branch made from the same
    /// `shared` events, then its own.
    fn new(dir: &Path, shared: &[Vec<u8>], own: &[Vec<u8>]) -> Self {
        let last = (shared.len() + own.len()) as u64;
        let ledger = Ledger::create(dir, ORIGIN, HashProfile::Sha256, log_key(), trust())
            .expect("create")
            .with_time_bounds(TimeBounds::history());
        let all: Vec<&Vec<u8>> = shared.iter().chain(own).collect();
        let mut notes = BTreeMap::new();
        let mut at = 0;
        for size in SIZES.into_iter().filter(|&s| s <= last) {
            let refs: Vec<&[u8]> = all[at..size as usize]
                .iter()
                .map(|v| v.as_slice())
                .collect();
            ledger.append_batch(&refs).expect("append");
            notes.insert(size, ledger.checkpoint().expect("checkpoint"));
            at = size as usize;
        }
        Self {
            ledger,
            notes,
            last,
        }
    }

    /// The `add-checkpoint` body for the checkpoint at `size`, from `old`.
    fn request(&self, old: u64, size: u64) -> Vec<u8> {
        let mut body = format!("old {old}\n").into_bytes();
        if old > 0 && old < size {
            for h in self
                .ledger
                .prove_consistency(old, size)
                .expect("proof")
                .path
            {
                body.extend_from_slice(format!("{}\n", b64(h.as_bytes())).as_bytes());
            }
        }
        body.push(b'\n');
        body.extend_from_slice(&self.notes[&size]);
        body
    }
}

/// POSTs `body` to `/add-checkpoint`; the status and body, or `None` if no answer came.
fn post(addr: &str, body: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let head = format!(
        "POST /add-checkpoint HTTP/1.1\r\nHost: w\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status = std::str::from_utf8(answer.get(9..12)?).ok()?.parse().ok()?;
    Some((status, answer[split + 4..].to_vec()))
}

fn witness_key_file(dir: &Path) -> (std::path::PathBuf, NoteSigner) {
    let signer = NoteSigner::new(
        "witness.example/w1",
        ed25519_dalek::SigningKey::from_bytes(&[0x77; 32]),
    )
    .expect("key");
    let path = dir.join("witness.key");
    std::fs::write(&path, format!("{}\n", *signer.to_key_string())).expect("write key");
    (path, signer)
}

/// Starts the witness on `listen` (retrying while a killed one's port lingers).
fn start(state: &Path, key: &Path, listen: &str) -> (Child, String) {
    for _ in 0..100 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_warrant"))
            .args(["witness", "serve", "--dir"])
            .arg(state)
            .arg("--key")
            .arg(key)
            .args([
                "--log",
                &log_key().verifier().to_string(),
                "--listen",
                listen,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("witness");
        // Both lines it prints (address, verifier key): closing the pipe before the second
        // is written would make that write fail and the witness exit.
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let (mut line, mut key) = (String::new(), String::new());
        let _ = out.read_line(&mut line);
        let _ = out.read_line(&mut key);
        if let Some(addr) = line.trim().strip_prefix("listening on http://") {
            return (child, addr.to_owned());
        }
        let _ = child.wait();
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the witness did not start on {listen}");
}

/// A 200: which branch, which size, the cosignature lines.
type Cosigned = (char, u64, Vec<u8>);

#[test]
fn a_witness_killed_again_and_again_never_cosigns_both_branches() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let shared = events(8, 2);
    let a = Arc::new(Branch::new(&tmp.path().join("a"), &shared, &events(20, 2)));
    let b = Arc::new(Branch::new(&tmp.path().join("b"), &shared, &events(24, 2)));
    assert_eq!(
        a.notes[&8].split(|&c| c == b'\n').nth(2),
        b.notes[&8].split(|&c| c == b'\n').nth(2)
    );
    assert_ne!(
        a.ledger.root(12).expect("root"),
        b.ledger.root(12).expect("root")
    );
    let state = tmp.path().join("state");
    let (key, signer) = witness_key_file(tmp.path());
    let (child, addr) = start(&state, &key, "127.0.0.1:0");
    let child = Arc::new(Mutex::new(child));
    let done = Arc::new(AtomicBool::new(false));
    let cosigned: Arc<Mutex<Vec<Cosigned>>> = Arc::new(Mutex::new(Vec::new()));
    let racers: Vec<_> = [('a', Arc::clone(&a)), ('b', Arc::clone(&b))]
        .into_iter()
        .map(|(name, branch)| {
            let (addr, done, cosigned) = (addr.clone(), Arc::clone(&done), Arc::clone(&cosigned));
            std::thread::spawn(move || {
                let mut held = 0;
                while !done.load(Ordering::SeqCst) {
                    let target = SIZES
                        .iter()
                        .copied()
                        .find(|&s| s > held && s <= branch.last)
                        .unwrap_or(branch.last);
                    let Some((status, body)) = post(&addr, &branch.request(held, target)) else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    match status {
                        200 => {
                            cosigned.lock().expect("log").push((name, target, body));
                            held = target;
                        }
                        409 => {
                            let text = String::from_utf8(body).expect("size");
                            held = text.trim().parse().expect("text/x.tlog.size");
                        }
                        // The witness holds the other branch: this one's proofs never verify.
                        422 => std::thread::sleep(Duration::from_millis(2)),
                        // The witness holds a head larger than this whole branch (B's 32
                        // against A's 28): its old size is past this checkpoint's.
                        400 if held > branch.last => std::thread::sleep(Duration::from_millis(2)),
                        other => panic!("status {other} (held {held}, target {target})"),
                    }
                }
            })
        })
        .collect();
    // Kill the witness every 30-80 ms, twenty times, and bring it back on the same port.
    let started = Instant::now();
    for round in 0..20u64 {
        std::thread::sleep(Duration::from_millis(30 + (round * 37) % 50));
        let mut c = child.lock().expect("child");
        c.kill().expect("SIGKILL");
        c.wait().expect("reaped");
        *c = start(&state, &key, &addr).0;
    }
    std::thread::sleep(Duration::from_millis(300));
    done.store(true, Ordering::SeqCst);
    for r in racers {
        r.join().expect("racer");
    }
    assert!(started.elapsed() < Duration::from_secs(120));

    let cosigned = cosigned.lock().expect("log");
    let beyond_fork: Vec<char> = cosigned
        .iter()
        .filter(|(_, s, _)| *s > 8)
        .map(|(n, _, _)| *n)
        .collect();
    assert!(
        !beyond_fork.is_empty(),
        "some checkpoint past the fork was cosigned"
    );
    assert!(
        beyond_fork.iter().all(|n| *n == beyond_fork[0]),
        "both branches cosigned: {beyond_fork:?}"
    );
    // Every answer is a valid cosignature by the witness over the checkpoint it was for.
    for (name, size, lines) in cosigned.iter() {
        let branch = if *name == 'a' { &a } else { &b };
        let mut note = branch.notes[size].clone();
        note.extend_from_slice(lines);
        let parsed = Note::parse(&note).expect("note");
        let time = cosigned_time(&signer.verifier(), parsed.text(), parsed.signatures());
        assert!(matches!(time, Ok(Some(_))), "{time:?}");
    }
    // Nothing cosigned was rolled back by a kill: the witness holds the largest size.
    let largest = cosigned.iter().map(|(_, s, _)| *s).max().expect("some");
    let (status, body) = post(&addr, &a.request(0, 8)).expect("answer");
    assert_eq!(
        (status, String::from_utf8(body).expect("text")),
        (409, format!("{largest}\n"))
    );
    let mut c = child.lock().expect("child");
    let _ = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status();
    assert!(c.wait().expect("wait").success());
}

/// `warrant checkpoint DIR --witness URL` and `--witness-policy FILE` against a real
/// `warrant witness serve`: the stored note gains the witness's cosignature, which is the
/// key the witness printed; an unreachable witness makes the command fail and name it.
#[test]
fn warrant_checkpoint_asks_witnesses_and_fails_naming_one_that_refuses() {
    use warrant_ledger::checkpoint::CosignerVerifier;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ledger");
    let ledger = Ledger::create(&dir, ORIGIN, HashProfile::Sha256, log_key(), trust())
        .expect("create")
        .with_time_bounds(TimeBounds::history());
    let evs = events(5, 1);
    let refs: Vec<&[u8]> = evs.iter().map(Vec::as_slice).collect();
    ledger.append_batch(&refs).expect("append");
    drop(ledger);
    std::fs::write(
        dir.join("log.key"),
        format!("{}\n", *log_key().to_key_string()),
    )
    .expect("key");
    std::fs::write(dir.join("trust.toml"), common::trust_toml()).expect("trust");
    let (wkey, signer) = witness_key_file(tmp.path());
    let (mut child, addr) = start(&tmp.path().join("state"), &wkey, "127.0.0.1:0");
    let warrant = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_warrant"))
            .args(args)
            .output()
            .expect("warrant")
    };
    let d = dir.to_str().expect("utf-8");
    let url = format!("http://{addr}");
    let out = warrant(&["checkpoint", d, "--witness", &url]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let note = Note::parse(&out.stdout).expect("a note");
    let cosigner = CosignerVerifier::from(&signer);
    assert!(
        cosigner
            .cosigned_time(note.text(), note.signatures())
            .expect("valid")
            .is_some()
    );
    // Stored: `--latest` prints the same note.
    let latest = warrant(&["checkpoint", d, "--latest"]);
    assert_eq!(latest.stdout, out.stdout);
    // A policy file naming the witness's key and URL; and an unreachable second witness.
    let policy = tmp.path().join("witnesses.policy");
    std::fs::write(
        &policy,
        format!(
            "witness w1 {cosigner} {url}\nwitness w2 {} http://127.0.0.1:9\nquorum w1\n",
            CosignerVerifier::from(&NoteSigner::generate("witness.example/w2").expect("key"))
        ),
    )
    .expect("policy");
    let out = warrant(&[
        "checkpoint",
        d,
        "--witness-policy",
        policy.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cosigned by {url}"))
            && err.contains("verification failed: http://127.0.0.1:9: unreachable"),
        "{err}"
    );
    let _ = child.kill();
    let _ = child.wait();
}
