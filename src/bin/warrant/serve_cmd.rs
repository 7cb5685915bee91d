//! `warrant serve DIR --listen ADDR`, the ledger server, and `warrant submit URL FILES`, its
//! client (docs/server.md).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use warrant_ledger::client::{Client, ClientConfig, ClientError};
use warrant_ledger::ledger::Ledger;
use warrant_ledger::server::{LogSink, Server, ServerConfig};
use warrant_ledger::store::Storage;

use crate::cli_io::Outcome;
use crate::ledger_cmd;

/// The server's address, key and limits as the command line sets them.
#[derive(clap::Args)]
pub(crate) struct ServeOptions {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8470")]
    listen: SocketAddr,
    /// The log's signing key (default: DIR/log.key; `warrant demo --dir D` keeps it in
    /// D/keys/log.key).
    #[arg(long)]
    log_key: Option<PathBuf>,
    /// /add requests admitted at once; more are answered 503 with Retry-After.
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Largest /add body in bytes.
    #[arg(long, default_value_t = 8 << 20)]
    max_body: usize,
    /// Signs a checkpoint this often (milliseconds) when the log grew.
    #[arg(long, default_value_t = 1000)]
    checkpoint_ms: u64,
    /// No request log on standard error.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// The ledger lives in this PostgreSQL database (a postgres:// URL) instead of DIR,
    /// which then only holds log.key and trust.toml. Several servers may share it: one
    /// leads (appends, signs), the others serve reads and answer /add 503 not_leader until
    /// the leader is gone (docs/server.md, "Several servers").
    #[arg(long, value_name = "URL")]
    pub(crate) store: Option<String>,
}

impl ServeOptions {
    /// The key file: --log-key, or DIR/log.key.
    pub(crate) fn key_file(&self, dir: &Path) -> PathBuf {
        self.log_key.clone().unwrap_or_else(|| dir.join("log.key"))
    }

    pub(crate) fn config(&self) -> ServerConfig {
        let mut config = ServerConfig::default();
        config.queue = self.queue;
        config.max_body = self.max_body;
        config.checkpoint_interval = Duration::from_millis(self.checkpoint_ms.max(1));
        config
    }

    pub(crate) const fn listen(&self) -> SocketAddr {
        self.listen
    }
}

/// Serves until SIGINT or SIGTERM, then shuts down gracefully (the requests in flight
/// finish, a last checkpoint is signed).
pub(crate) fn run(dir: &Path, options: &ServeOptions) -> Result<Outcome> {
    if let Some(url) = &options.store {
        return crate::serve_pg::run(dir, url, options);
    }
    let ledger = Arc::new(ledger_cmd::open_with_key(dir, &options.key_file(dir))?);
    let handle = server(ledger.clone(), options).spawn(options.listen)?;
    // The first line says where it listens (tests and scripts read the port from it).
    println!("listening on http://{}", handle.local_addr());
    wait_for_signal()?;
    eprintln!("shutting down: finishing requests in flight");
    handle.shutdown();
    eprintln!("stopped at {} entries", ledger.size());
    Ok(Outcome::Success)
}

/// A server for `ledger` as the options configure it (its request log included).
pub(crate) fn server<S: Storage + 'static>(
    ledger: Arc<Ledger<S>>,
    options: &ServeOptions,
) -> Server<S> {
    let server = Server::new(ledger, options.config());
    if options.quiet {
        return server;
    }
    let sink: LogSink = Arc::new(|line| eprintln!("{line}"));
    server.with_log(sink)
}

pub(crate) fn wait_for_signal() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("signal runtime")?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r.context("SIGINT handler"),
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.context("Ctrl-C handler")
        }
    })
}

/// Envelopes sent per `Client::submit` call (the client splits them into requests).
const SUBMIT_CHUNK: usize = 10_000;

/// `warrant submit URL [FILES]`: sends envelopes to a ledger server; prints their indices.
pub(crate) fn submit(url: &str, files: &[PathBuf], json: bool) -> Result<Outcome> {
    let client = Client::new(url, ClientConfig::default())?;
    // Only the current chunk's names and bytes are held: standard input may be any length.
    let mut indices = Vec::new();
    let mut chunk: Vec<(String, Vec<u8>)> = Vec::new();
    let mut items = ledger_cmd::envelopes(files).peekable();
    while let Some(item) = items.next() {
        chunk.push(item?);
        if chunk.len() < SUBMIT_CHUNK && items.peek().is_some() {
            continue;
        }
        let refs: Vec<&[u8]> = chunk.iter().map(|(_, b)| b.as_slice()).collect();
        let got = match client.submit(&refs) {
            Ok(got) => got,
            Err(ClientError::Refused {
                position: Some(p),
                message,
                ..
            }) => {
                let name = &chunk[p].0;
                return Ok(Outcome::Failed(format!("{name} refused: {message}")));
            }
            Err(e) => return Err(e.into()),
        };
        if json {
            indices.extend(got);
        } else {
            // Each chunk's indices as soon as they are durable.
            for ((name, _), index) in chunk.iter().zip(got) {
                println!("{index}\t{name}");
            }
        }
        chunk.clear();
    }
    if json {
        crate::cli_io::print_json(&serde_json::json!({ "indices": indices }))?;
    }
    Ok(Outcome::Success)
}
