//! `PgStore` on a real PostgreSQL (a throwaway cluster: `common/pg.rs`): the shared
//! `Storage` conformance suite, across a reopen; typed errors for a database that is not
//! this log's; a connection killed mid-batch leaves no partial batch; a ledger on it.
#![cfg(feature = "postgres")]

mod common;
#[path = "common/pg.rs"]
mod pg;

use warrant_ledger::merkle::HashProfile;
use warrant_ledger::store::conformance::{self, SampleEntry};
use warrant_ledger::store::{NewEntry, PG_SCHEMA_VERSION, PgStore, Storage, StoreError};

fn envelopes(n: usize) -> Vec<SampleEntry> {
    common::conformance_entries(n)
}

#[test]
fn the_postgres_store_conforms_and_keeps_everything_across_a_reopen() {
    let Some(cluster) = pg::cluster_or_skip() else {
        return;
    };
    let entries = envelopes(150);
    for profile in [HashProfile::Sha256, HashProfile::Blake3] {
        let counter = std::sync::atomic::AtomicUsize::new(0);
        let fresh = || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let url = cluster.database(&format!("conf_{}_{n}", profile.name()));
            PgStore::create(&url, profile).expect("create")
        };
        let reopen = |store: PgStore| {
            drop(store);
            let n = counter.load(std::sync::atomic::Ordering::Relaxed) - 1;
            let url = format!(
                "{} dbname=conf_{}_{n}",
                cluster_base(&cluster),
                profile.name()
            );
            PgStore::open(&url).expect("reopen")
        };
        conformance::check(&fresh, Some(&reopen), &entries).expect("conforms");
    }
}

/// The cluster's connection string without a database.
fn cluster_base(cluster: &pg::Cluster) -> String {
    let url = cluster.database("scratch");
    url.trim_end_matches(" dbname=scratch").to_owned()
}

fn batch(entries: &[SampleEntry], profile: HashProfile) -> Vec<NewEntry<'_>> {
    entries.iter().map(|e| e.as_new(profile)).collect()
}

#[test]
fn a_database_that_is_not_this_logs_gets_a_typed_error() {
    let Some(cluster) = pg::cluster_or_skip() else {
        return;
    };
    let url = cluster.database("typed");
    let store = PgStore::create(&url, HashProfile::Sha256).expect("create");
    drop(store);
    assert!(matches!(
        PgStore::create(&url, HashProfile::Sha256),
        Err(StoreError::Exists)
    ));
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    // A version-1 database (before the descriptor columns) is migrated when opened.
    admin
        .batch_execute(
            "ALTER TABLE warrant_meta DROP COLUMN origin, DROP COLUMN log_keys;
             UPDATE warrant_meta SET schema_version = 1",
        )
        .expect("downgrade to version 1");
    let migrated = PgStore::open(&url).expect("open migrates version 1");
    assert_eq!(migrated.descriptor().expect("descriptor"), None);
    let version: i32 = admin
        .query_one("SELECT schema_version FROM warrant_meta", &[])
        .expect("version")
        .get(0);
    assert_eq!(version, PG_SCHEMA_VERSION);
    drop(migrated);
    admin
        .execute(
            "UPDATE warrant_meta SET schema_version = $1",
            &[&(PG_SCHEMA_VERSION + 1)],
        )
        .expect("newer schema");
    assert!(matches!(PgStore::open(&url), Err(StoreError::Corrupt(_))));
    let empty = cluster.database("empty");
    assert!(matches!(
        PgStore::open(&empty),
        Err(StoreError::Database(_))
    ));
    assert!(matches!(
        PgStore::open("host=127.0.0.1 port=9 user=nobody connect_timeout=2"),
        Err(StoreError::Database(_))
    ));
}

#[test]
fn a_connection_killed_mid_batch_leaves_no_partial_batch_and_a_second_writer_cannot_fork() {
    let Some(cluster) = pg::cluster_or_skip() else {
        return;
    };
    let url = cluster.database("faults");
    let profile = HashProfile::Sha256;
    let entries = envelopes(40);
    let store = PgStore::create(&url, profile).expect("create");
    store
        .append(&batch(&entries[..10], profile))
        .expect("append");
    // The server ends this store's connection (as a failover or an operator would).
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = 'faults' AND pid <> pg_backend_pid()",
            &[],
        )
        .expect("terminate");
    assert!(matches!(
        store.append(&batch(&entries[10..20], profile)),
        Err(StoreError::Database(_))
    ));
    drop(store);
    let reopened = PgStore::open(&url).expect("reopen");
    assert_eq!(
        reopened.size(),
        10,
        "nothing of the failed batch is visible"
    );
    let count: i64 = admin
        .query_one("SELECT count(*) FROM warrant_entries", &[])
        .expect("count")
        .get(0);
    assert_eq!(count, 10);
    // Retrying is safe: the batch appends at 10.
    assert_eq!(
        reopened
            .append(&batch(&entries[10..20], profile))
            .expect("retry"),
        10
    );
    // A second writer on the same log, stale by one batch, is refused, not forked.
    let other = PgStore::open(&url).expect("second writer");
    reopened
        .append(&batch(&entries[20..30], profile))
        .expect("append");
    assert!(matches!(
        other.append(&batch(&entries[30..40], profile)),
        Err(StoreError::Corrupt(_))
    ));
    assert_eq!(PgStore::open(&url).expect("open").size(), 30);
}

#[test]
fn a_ledger_on_postgres_appends_checkpoints_and_exports_bundles_that_audit() {
    use warrant_ledger::ledger::{Ledger, TimeBounds};
    let Some(cluster) = pg::cluster_or_skip() else {
        return;
    };
    let url = cluster.database("ledger");
    let store = PgStore::create(&url, HashProfile::Blake3).expect("create");
    let ledger = Ledger::with_store(
        store,
        common::ORIGIN,
        common::log_key(),
        common::sample_trust(),
    )
    .with_time_bounds(TimeBounds::history());
    let event = &common::sample_events()[1];
    let signed = warrant_ledger::envelope::sign(event, &common::test_key()).expect("sign");
    ledger.append(signed.bytes()).expect("append");
    ledger.checkpoint().expect("checkpoint");
    let bundle = ledger
        .export_bundle(&event.task.expect("task"), None)
        .expect("export");
    let mut doc = common::sample_trust_document();
    doc.logs.push(warrant_ledger::trust::LogEntry {
        origin: common::ORIGIN.into(),
        hash: "blake3".into(),
        verifier_key: common::log_key().verifier().to_string(),
        until_size: None,
        rotated: Vec::new(),
    });
    let trust = warrant_ledger::trust::TrustPolicy::try_from(doc).expect("trust");
    let report = warrant_ledger::audit::verify(&bundle, &trust, &[]).expect("audit");
    let a = |id: &str| report.check(id).expect("check").status;
    assert_eq!(a("A1"), warrant_ledger::audit::Status::Pass);
    assert_eq!(a("A3"), warrant_ledger::audit::Status::Pass, "{report:#?}");
}

/// One sequencer at a time: a second leader waits for the lock and gets `Locked` when it
/// gives up; when the leader's connection dies (here ended by the server, as when its
/// process is killed), the waiting one takes over at the next epoch with the committed
/// size; a batch of a deposed leader fails (`Deposed`) instead of forking; a follower
/// (`open` + `refresh`) sees what the leader commits.
#[test]
fn one_leader_at_a_time_takes_over_when_the_leader_dies_and_fences_the_deposed() {
    use std::time::Duration;
    let Some(cluster) = pg::cluster_or_skip() else {
        return;
    };
    let url = cluster.database("leaders");
    let profile = HashProfile::Sha256;
    drop(PgStore::create(&url, profile).expect("create"));
    let entries = envelopes(30);
    let leader = PgStore::lead(&url, Duration::from_secs(5)).expect("lead");
    assert!(matches!(
        PgStore::lead(&url, Duration::from_millis(200)),
        Err(StoreError::Locked)
    ));
    let follower = PgStore::open(&url).expect("follower");
    leader
        .append(&batch(&entries[..10], profile))
        .expect("append");
    assert_eq!(follower.refresh().expect("refresh"), 10);
    assert_eq!(follower.entry(9).expect("entry"), entries[9].bytes);

    let waiting = {
        let url = url.clone();
        std::thread::spawn(move || PgStore::lead(&url, Duration::from_secs(20)))
    };
    std::thread::sleep(Duration::from_millis(300));
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    // End the leader's session: the one holding the advisory lock.
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks
             WHERE locktype = 'advisory' AND granted AND database =
               (SELECT oid FROM pg_database WHERE datname = 'leaders')",
            &[],
        )
        .expect("terminate the leader");
    let next = waiting.join().expect("thread").expect("took over");
    assert_eq!(
        next.size(),
        10,
        "the new leader starts from what was committed"
    );
    assert!(matches!(
        leader.append(&batch(&entries[10..20], profile)),
        Err(StoreError::Database(_))
    ));
    next.append(&batch(&entries[10..20], profile))
        .expect("append");

    // A deposed leader whose session survived (a successor took the epoch): fenced.
    let successor_epoch: i64 = admin
        .query_one(
            "UPDATE warrant_meta SET epoch = epoch + 1 RETURNING epoch",
            &[],
        )
        .expect("a successor")
        .get(0);
    assert!(successor_epoch >= 3);
    assert!(matches!(
        next.append(&batch(&entries[20..30], profile)),
        Err(StoreError::Deposed)
    ));
    assert_eq!(PgStore::open(&url).expect("open").size(), 20);
}
