//! The PostgreSQL store over TLS, on a throwaway cluster that accepts TCP connections with
//! TLS only: `sslmode=require` connects with the server's certificate verified (against the
//! connection string's `sslrootcert`), a certificate from another CA is refused, and a
//! connection in the clear is refused by the server.
#![cfg(feature = "postgres")]

mod common;
#[path = "common/pg.rs"]
mod pg;

use warrant_ledger::merkle::HashProfile;
use warrant_ledger::store::{PgStore, Storage, StoreError};

#[test]
fn tls_connections_verify_the_server_and_the_clear_is_refused() {
    let (cluster, port) = match pg::Cluster::start_tls() {
        Ok(started) => started,
        Err(why) => {
            assert!(
                std::env::var_os("WARRANT_REQUIRE_POSTGRES").is_none(),
                "a TLS cluster is required here but could not be started: {why}"
            );
            eprintln!("skipped: no TLS cluster ({why})");
            return;
        }
    };
    cluster.database("tls");
    let ca = cluster.dir().join("ca.pem");
    let other = cluster.dir().join("other-ca.pem");
    let url = |host: &str, query: String| format!("postgresql://warrant@{host}:{port}/tls?{query}");
    let verified = |host| {
        url(
            host,
            format!("sslmode=require&sslrootcert={}", ca.display()),
        )
    };

    let store = PgStore::create(&verified("localhost"), HashProfile::Sha256).expect("over TLS");
    let entries = common::conformance_entries(5);
    let batch: Vec<_> = entries
        .iter()
        .map(|e| e.as_new(HashProfile::Sha256))
        .collect();
    assert_eq!(store.append(&batch).expect("append"), 0);
    drop(store);
    // By address too: the certificate names 127.0.0.1.
    let reopened = PgStore::open(&verified("127.0.0.1")).expect("reopen over TLS");
    assert_eq!(reopened.size(), 5);
    assert_eq!(reopened.entry(4).expect("entry"), entries[4].bytes);

    let refused = |config: String, why: &str, says: &str| match PgStore::open(&config) {
        Err(StoreError::Database(message)) => {
            eprintln!("{why}: {message}");
            assert!(message.contains(says), "{why}: {message}");
        }
        other => panic!("{why}: {:?}", other.map(|s| s.size())),
    };
    refused(
        url(
            "localhost",
            format!("sslmode=require&sslrootcert={}", other.display()),
        ),
        "a certificate another CA signed",
        "certificate",
    );
    refused(
        url(
            "localhost",
            format!(
                "sslmode=require&sslrootcert={}",
                cluster.dir().join("none.pem").display()
            ),
        ),
        "no root certificate file",
        "sslrootcert",
    );
    refused(
        url("localhost", "sslmode=disable".into()),
        "in the clear",
        "pg_hba",
    );
    // rust-postgres's default, `prefer`, connects in the clear here: refused by this server.
    refused(url("localhost", String::new()), "no sslmode", "pg_hba");
}
