//! `warrant witness serve`: a C2SP `tlog-witness` (docs/witnessing.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use warrant_ledger::checkpoint::{NoteSigner, NoteVerifier};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::server::{ServerConfig, WitnessServer};
use warrant_ledger::witness::{Witness, WitnessedLog};

use crate::cli_io::{Input, Outcome, read_file};

#[derive(Subcommand)]
pub(crate) enum WitnessCommand {
    /// Serves POST /add-checkpoint: cosigns a log's checkpoint only if it is consistent
    /// with the last one it cosigned for that log. Prints the address it listens on and
    /// its verifier key; stops gracefully on SIGINT or SIGTERM.
    Serve {
        /// State directory (one file per log: the latest cosigned size and root).
        #[arg(long)]
        dir: PathBuf,
        /// The witness's signing key (from `warrant note keygen`).
        #[arg(long)]
        key: PathBuf,
        /// A log to witness, by its verifier key (its name is the log's origin); may be
        /// repeated.
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
        /// The logs' hash profile (tlog-witness is SHA-256; BLAKE3 is this project's
        /// extension).
        #[arg(long = "hash", default_value = "sha256")]
        profile: HashProfile,
        /// Address to listen on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:8471")]
        listen: SocketAddr,
    },
}

pub(crate) fn run(cmd: WitnessCommand) -> Result<Outcome> {
    let WitnessCommand::Serve {
        dir,
        key,
        logs,
        profile,
        listen,
    } = cmd;
    let key = String::from_utf8(read_file(&key, Input::Key)?).context("the key is not UTF-8")?;
    let signer = NoteSigner::parse(key.trim()).context("witness key")?;
    let logs = logs
        .iter()
        .map(|v| {
            let verifier = NoteVerifier::parse(v).with_context(|| format!("log key {v}"))?;
            Ok(WitnessedLog {
                origin: verifier.name().to_owned(),
                verifiers: vec![verifier],
                profile,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let witness = Arc::new(Witness::open(&dir, signer, logs)?);
    let verifier = witness.verifier();
    let handle = WitnessServer::new(witness, ServerConfig::default()).spawn(listen)?;
    // The first line says where it listens (tests and scripts read the port from it).
    println!("listening on http://{}", handle.local_addr());
    println!("{verifier}");
    crate::serve_cmd::wait_for_signal()?;
    handle.shutdown();
    Ok(Outcome::Success)
}
