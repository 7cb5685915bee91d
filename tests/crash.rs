//! Crash safety with real processes: a child appends continuously and is killed with
//! SIGKILL at random moments; every acknowledged entry must survive, and the ledger must
//! reopen and pass fsck every time. The CI variant kills 50 times; `--ignored` runs 500.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ORIGIN, log_key, trust};
use warrant_ledger::event::{Assurance, Digest, TaskId, WorkloadId};
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::HashProfile;

const CHILD_ENV: &str = "WARRANT_CRASH_CHILD_DIR";

/// The child: append forever (single appends and batches), printing "index digest" for
/// every acknowledged entry. Only runs when the parent sets the environment variable.
#[test]
fn crash_child_appender() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let ledger = Ledger::open(Path::new(&dir), log_key(), trust())
        .expect("child open")
        .with_time_bounds(TimeBounds::history());
    let w = WorkloadId::new("spiffe://bank.example/gateway").expect("id");
    let mut out = std::io::stdout().lock();
    for round in 0u64.. {
        let mut chain = warrant_ledger::envelope::EmitterChain::for_task(
            common::test_key(),
            w.clone(),
            TaskId::new_v7(),
            Assurance::Enforced,
        );
        let batch: Vec<Vec<u8>> = (0..1 + round % 17)
            .map(|i| {
                chain
                    .emit(common::signal_body(i), common::ts(common::T0 + i), vec![])
                    .expect("sign")
                    .into_bytes()
            })
            .collect();
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        let indices = if round % 3 == 0 {
            refs.iter()
                .map(|b| ledger.append(b).expect("append"))
                .collect()
        } else {
            ledger.append_batch(&refs).expect("append batch")
        };
        for (i, b) in indices.iter().zip(&batch) {
            writeln!(out, "{i} {}", Digest::of(b)).expect("stdout");
        }
        out.flush().expect("flush");
        if round % 10 == 9 {
            ledger.checkpoint().expect("checkpoint");
        }
    }
}

fn run_kills(kills: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(
        Ledger::create(dir.path(), ORIGIN, HashProfile::Blake3, log_key(), trust())
            .expect("create")
            .with_time_bounds(TimeBounds::history()),
    );
    let mut acked: Vec<(u64, String)> = Vec::new();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for kill in 0..kills {
        let mut child = Command::new(std::env::current_exe().expect("exe"))
            .args([
                "crash_child_appender",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let wait = Duration::from_millis(20 + rng % 120);
        let stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        let start = Instant::now();
        while start.elapsed() < wait {
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        // Only complete "index digest" lines count: the harness prints its own lines, and
        // the kill may cut the last line short.
        for line in reader.join().expect("reader") {
            if let Some((i, d)) = line.split_once(' ')
                && let Ok(i) = i.parse::<u64>()
                && d.len() == 64
            {
                acked.push((i, d.to_owned()));
            }
        }
        let ledger = Ledger::open(dir.path(), log_key(), trust())
            .unwrap_or_else(|e| panic!("kill {kill}: reopen failed: {e}"));
        for (index, digest) in &acked {
            let bytes = ledger
                .entry(*index)
                .unwrap_or_else(|e| panic!("kill {kill}: acknowledged entry {index} lost: {e}"));
            assert_eq!(
                &Digest::of(&bytes).to_string(),
                digest,
                "kill {kill}: entry {index} changed"
            );
        }
        let report = ledger.fsck().expect("fsck");
        assert_eq!(report.problem, None, "kill {kill}: fsck after SIGKILL");
    }
    assert!(
        acked.len() > kills,
        "the child made progress: {} acknowledged",
        acked.len()
    );
}

#[test]
fn sigkill_50_times_loses_nothing_acknowledged() {
    if std::env::var_os(CHILD_ENV).is_none() {
        run_kills(50);
    }
}

#[test]
#[ignore = "long: 500 kills"]
fn sigkill_500_times_loses_nothing_acknowledged() {
    if std::env::var_os(CHILD_ENV).is_none() {
        run_kills(500);
    }
}
