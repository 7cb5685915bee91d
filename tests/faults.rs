//! Failing storage and flipped bytes.
//!
//! - A hook fails the N-th write, truncation, sync or rename (as a full disk would), for every
//!   N across open, appends and checkpoints: the error reaches the caller, and a reopened
//!   ledger holds a consistent prefix with every acknowledged entry and passes fsck.
//! - Any single flipped byte in any store file is caught by fsck (or by open).

mod common;

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{ORIGIN, events, log_key, trust};
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::store::{FaultHook, Op};

struct FailAt {
    seen: AtomicU64,
    fail_at: u64,
}

impl FaultHook for FailAt {
    fn before(&self, _op: Op, file: &str) -> io::Result<()> {
        if self.seen.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                format!("injected failure on {file}"),
            ));
        }
        Ok(())
    }
}

#[test]
fn failing_the_nth_operation_leaves_a_consistent_prefix() {
    let evs = events(400, 9);
    let mut failures_seen = 0;
    for fail_at in 1..=90u64 {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let l = Ledger::create(dir.path(), ORIGIN, HashProfile::Sha256, log_key(), trust())
                .expect("create")
                .with_time_bounds(TimeBounds::history());
            let first: Vec<&[u8]> = evs[..5].iter().map(Vec::as_slice).collect();
            l.append_batch(&first).expect("seed");
        }
        let hook = Arc::new(FailAt {
            seen: AtomicU64::new(0),
            fail_at,
        });
        let mut acked: Vec<(u64, usize)> = (0..5).map(|i| (i, i as usize)).collect();
        let mut next = 5usize;
        match Ledger::open_with_hook(dir.path(), log_key(), trust(), Some(hook.clone())) {
            Err(_) => failures_seen += 1,
            Ok(l) => {
                for round in 0..12 {
                    let n = 1 + round * 3;
                    let batch: Vec<&[u8]> = evs[next..next + n].iter().map(Vec::as_slice).collect();
                    let result = if n == 1 {
                        l.append(batch[0]).map(|i| vec![i])
                    } else {
                        l.append_batch(&batch)
                    };
                    match result {
                        Ok(indices) => acked.extend(indices.into_iter().zip(next..)),
                        Err(_) => {
                            failures_seen += 1;
                            break;
                        }
                    }
                    next += n;
                    if round % 4 == 3 && l.checkpoint().is_err() {
                        failures_seen += 1;
                        break;
                    }
                }
            }
        }
        let l = Ledger::open(dir.path(), log_key(), trust())
            .unwrap_or_else(|e| panic!("fail_at {fail_at}: reopen: {e}"));
        assert_eq!(l.fsck().expect("fsck").problem, None, "fail_at {fail_at}");
        for &(index, ev) in &acked {
            assert_eq!(
                l.entry(index).expect("acknowledged entry"),
                evs[ev],
                "fail_at {fail_at}: entry {index}"
            );
        }
        // The log is a prefix of what was attempted: acknowledged entries, then perhaps the
        // batch whose error came after its commit point.
        let size = l.size() as usize;
        assert!(
            size >= acked.len() && size <= next + 40,
            "fail_at {fail_at}: size {size}"
        );
        for (index, attempted) in evs.iter().enumerate().take(size) {
            assert_eq!(
                &l.entry(index as u64).expect("entry"),
                attempted,
                "fail_at {fail_at}: entry {index} is not the attempted one"
            );
        }
    }
    assert!(
        failures_seen >= 60,
        "injected failures reached the caller: {failures_seen}"
    );
}

fn store_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for sub in ["", "checkpoints"] {
        for e in std::fs::read_dir(dir.join(sub)).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_file() && std::fs::metadata(&p).expect("meta").len() > 0 {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("checkpoints")).expect("mkdir");
    for f in store_files(from) {
        let rel = f.strip_prefix(from).expect("relative");
        std::fs::copy(&f, to.join(rel)).expect("copy");
    }
}

#[test]
fn any_flipped_byte_is_detected() {
    let base = tempfile::tempdir().expect("tempdir");
    let evs = events(60, 5);
    {
        let l = Ledger::create(base.path(), ORIGIN, HashProfile::Blake3, log_key(), trust())
            .expect("create")
            .with_time_bounds(TimeBounds::history());
        for chunk in evs.chunks(20) {
            let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
            l.append_batch(&refs).expect("append");
            l.checkpoint().expect("checkpoint");
        }
        assert_eq!(l.fsck().expect("fsck").problem, None);
    }
    let files = store_files(base.path());
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).expect("meta").len())
        .sum();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut per_file = std::collections::BTreeMap::new();
    for flip in 0..400 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Every file gets flips; beyond that, bytes are drawn across all files.
        let file = if flip < files.len() * 4 {
            &files[flip % files.len()]
        } else {
            let mut at = rng % total;
            files
                .iter()
                .find(|f| {
                    let len = std::fs::metadata(f).expect("meta").len();
                    if at < len {
                        true
                    } else {
                        at -= len;
                        false
                    }
                })
                .expect("a file")
        };
        let work = tempfile::tempdir().expect("tempdir");
        copy_dir(base.path(), work.path());
        let target = work
            .path()
            .join(file.strip_prefix(base.path()).expect("relative"));
        let mut bytes = std::fs::read(&target).expect("read");
        let at = (rng >> 8) as usize % bytes.len();
        bytes[at] ^= 1 << (rng % 8);
        std::fs::write(&target, &bytes).expect("write");
        let detected = match Ledger::open(work.path(), log_key(), trust()) {
            Err(_) => true,
            Ok(l) => l.fsck().expect("fsck runs").problem.is_some(),
        };
        assert!(
            detected,
            "flip {flip}: byte {at} of {} not detected",
            target.display()
        );
        *per_file
            .entry(
                file.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
            )
            .or_insert(0) += 1;
    }
    assert!(
        per_file.len() >= 9,
        "flips reached every file: {per_file:?}"
    );
}
