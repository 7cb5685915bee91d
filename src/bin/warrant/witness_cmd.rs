//! `warrant witness serve`: a C2SP `tlog-witness` (docs/witnessing.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use warrant_ledger::checkpoint::{CosignerVerifier, NoteSigner, NoteVerifier};
use warrant_ledger::client::{ClientConfig, WitnessClient};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::server::{ServerConfig, WitnessServer};
use warrant_ledger::trust::WitnessPolicy;
use warrant_ledger::witness::{Cosigner, Witness, WitnessedLog};

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
    // What a tlog-policy pins for this witness: its cosignature/v1 key.
    let verifier = CosignerVerifier::from(&witness.verifier());
    let handle = WitnessServer::new(witness, ServerConfig::default()).spawn(listen)?;
    // The first line says where it listens (tests and scripts read the port from it).
    println!("listening on http://{}", handle.local_addr());
    println!("{verifier}");
    crate::serve_cmd::wait_for_signal()?;
    handle.shutdown();
    Ok(Outcome::Success)
}

/// `warrant checkpoint DIR --witness URL… [--witness-policy FILE]`.
pub(crate) fn checkpoint(
    dir: &std::path::Path,
    urls: &[String],
    policy: Option<&std::path::Path>,
    json: bool,
) -> Result<Outcome> {
    let ledger = crate::ledger_cmd::open(dir)?;
    let mut clients = Vec::new();
    for url in urls {
        clients.push(WitnessClient::new(url, ClientConfig::default(), None)?);
    }
    if let Some(path) = policy {
        let text = String::from_utf8(read_file(path, Input::Trust)?)
            .context("the witness policy is not UTF-8")?;
        let policy = WitnessPolicy::parse(&text, &[ledger.verifier()])?;
        for w in policy.witnesses() {
            if let Some(url) = &w.url {
                clients.push(WitnessClient::new(
                    url,
                    ClientConfig::default(),
                    Some(w.key.clone()),
                )?);
            }
        }
    }
    let asked: Vec<&dyn Cosigner> = clients.iter().map(|c| c as &dyn Cosigner).collect();
    let outcome = ledger.witness(&asked)?;
    if json {
        crate::cli_io::print_json(&serde_json::json!({
            "size": outcome.size,
            "cosigned": outcome.cosigned,
            "refused": outcome.refused.iter().map(|(w, e)| serde_json::json!({"witness": w, "error": e.to_string()})).collect::<Vec<_>>(),
            "note": String::from_utf8_lossy(&outcome.note),
        }))?;
    } else {
        print!("{}", String::from_utf8_lossy(&outcome.note));
        for w in &outcome.cosigned {
            eprintln!("cosigned by {w}");
        }
    }
    match outcome.refused.first() {
        None => Ok(Outcome::Success),
        Some(_) => Ok(Outcome::Failed(
            outcome
                .refused
                .iter()
                .map(|(w, e)| format!("{w}: {e}"))
                .collect::<Vec<_>>()
                .join("; "),
        )),
    }
}
