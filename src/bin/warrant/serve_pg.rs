//! `warrant serve DIR --store postgres://…`: one of several servers sharing a ledger in
//! PostgreSQL. Each starts as a follower (reads, `/add` answered 503 `not_leader`) and
//! tries for the leadership; the one that takes it serves as the writer on the same
//! address until it stops or loses its database connection, when it follows again.
//! docs/server.md ("Several servers") and docs/storage-format.md (the leadership protocol).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::ledger::{Ledger, LedgerError};
use warrant_ledger::server::ServerHandle;
use warrant_ledger::store::{PgStore, StoreError};
use warrant_ledger::trust::TrustPolicy;

use crate::cli_io::Outcome;
use crate::ledger_cmd;
use crate::serve_cmd::{self, ServeOptions};

/// How long one attempt at the leadership waits for the lock before the follower checks
/// its own health and the stop signal again.
const LEAD_ATTEMPT: Duration = Duration::from_millis(250);
/// How often a leader checks that it still leads (its connection alive, its epoch current).
const HEALTH_CHECK: Duration = Duration::from_millis(100);

/// What every phase needs.
struct Serving<'a> {
    url: &'a str,
    key: NoteSigner,
    trust: TrustPolicy,
    options: &'a ServeOptions,
    stop: Arc<AtomicBool>,
    /// The address, fixed once the first phase listened (port 0 then means that port).
    addr: SocketAddr,
    announced: bool,
}

pub(crate) fn run(dir: &Path, url: &str, options: &ServeOptions) -> Result<Outcome> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    std::thread::spawn(move || {
        let _ = serve_cmd::wait_for_signal();
        flag.store(true, Ordering::SeqCst);
    });
    let mut serving = Serving {
        url,
        key: ledger_cmd::read_log_key(&options.key_file(dir))?,
        trust: ledger_cmd::load_trust(&dir.join("trust.toml"))?,
        options,
        stop,
        addr: options.listen(),
        announced: false,
    };
    while let Some(leader) = serving.follow()? {
        serving.lead(leader)?;
    }
    eprintln!("stopped");
    Ok(Outcome::Success)
}

impl Serving<'_> {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Serves reads until this process becomes the leader (the ledger opened to lead),
    /// or stops (`None`).
    fn follow(&mut self) -> Result<Option<Ledger<PgStore>>> {
        let Some(follower) = self.retry(Ledger::follow)? else {
            return Ok(None);
        };
        let follower = Arc::new(follower);
        let handle = self.spawn(Arc::clone(&follower))?;
        eprintln!("following at {} entries", follower.size());
        let outcome = loop {
            if self.stopping() {
                break None;
            }
            match Ledger::lead(self.url, self.key.clone(), self.trust.clone(), LEAD_ATTEMPT) {
                Ok(leader) => break Some(leader),
                Err(LedgerError::Store(StoreError::Locked)) => {}
                // The database is away (restarting, unreachable): try again.
                Err(e @ LedgerError::Store(StoreError::Database(_))) => {
                    eprintln!("cannot lead yet: {e}");
                    std::thread::sleep(LEAD_ATTEMPT);
                }
                // Not this key's ledger, or not a complete one: waiting would not help.
                Err(e) => {
                    handle.shutdown();
                    return Err(e).context("leading the ledger in PostgreSQL");
                }
            }
            if follower.is_disconnected() {
                // The database went away: follow again on a new connection.
                handle.shutdown();
                return self.follow();
            }
        };
        handle.shutdown();
        Ok(outcome)
    }

    /// Serves as the writer until stopped (then returns) or the connection, and with it the
    /// lock, is lost (then returns to follow).
    fn lead(&mut self, leader: Ledger<PgStore>) -> Result<()> {
        let started = Instant::now();
        let leader = Arc::new(leader);
        let handle = self.spawn(Arc::clone(&leader))?;
        eprintln!(
            "leading at {} entries ({} ms to take over)",
            leader.size(),
            started.elapsed().as_millis()
        );
        while !self.stopping() && leader.is_leading() {
            std::thread::sleep(HEALTH_CHECK);
        }
        if !self.stopping() {
            eprintln!(
                "no longer leading (the database connection, or the epoch, is lost): following again"
            );
        }
        handle.shutdown();
        Ok(())
    }

    /// Opens with `open` until it works or the process stops; a database that is down or
    /// restarting is waited for.
    fn retry<T>(&self, open: fn(&str) -> Result<T, LedgerError>) -> Result<Option<T>> {
        loop {
            if self.stopping() {
                return Ok(None);
            }
            match open(self.url) {
                Ok(t) => return Ok(Some(t)),
                Err(e @ LedgerError::Store(StoreError::Database(_))) => {
                    eprintln!("waiting for the database: {e}");
                    std::thread::sleep(LEAD_ATTEMPT);
                }
                Err(e) => return Err(e).context("opening the ledger in PostgreSQL"),
            }
        }
    }

    /// Serves `ledger` on this process's address (retrying briefly while the previous
    /// phase's socket is released); announces the address the first time.
    fn spawn(&mut self, ledger: Arc<Ledger<PgStore>>) -> Result<ServerHandle> {
        let mut tries = 0;
        let handle = loop {
            match serve_cmd::server(Arc::clone(&ledger), self.options).spawn(self.addr) {
                Ok(handle) => break handle,
                Err(e) if tries < 50 => {
                    tries += 1;
                    eprintln!("listening again: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e.into()),
            }
        };
        self.addr = handle.local_addr();
        if !self.announced {
            // The first line says where it listens (tests and scripts read the port from it).
            println!("listening on http://{}", self.addr);
            self.announced = true;
        }
        Ok(handle)
    }
}
