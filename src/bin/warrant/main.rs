//! `warrant`: the command-line face of warrant-ledger.
//!
//! Exit codes: 0 success or verified, 1 verification failed, 2 usage or input error.

mod cli_io;
mod event_cmd;
mod merkle_cmd;
mod note_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli_io::Outcome;

/// Signed evidence of what AI agents did, in a verifiable append-only log.
#[derive(Parser)]
#[command(name = "warrant", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Low-level Merkle tree tools over base64 entries on standard input.
    #[command(subcommand)]
    Merkle(merkle_cmd::MerkleCommand),
    /// C2SP signed-note keys, signing and verification.
    #[command(subcommand)]
    Note(note_cmd::NoteCommand),
    /// Generates an emitter's Ed25519 key; prints the public key and key id as JSON.
    Keygen {
        /// Secret key file to create (mode 0600; never overwritten).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Governance events: sign, verify, show.
    #[command(subcommand)]
    Event(event_cmd::EventCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Merkle(c) => merkle_cmd::run(c),
        Command::Note(c) => note_cmd::run(c),
        Command::Keygen { out } => event_cmd::keygen(&out),
        Command::Event(c) => event_cmd::run(c),
    };
    match outcome {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed(reason)) => {
            eprintln!("verification failed: {reason}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, skipping a cause its parent already spells out
/// (library errors include their source's text in their own message).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.last().is_some_and(|prev| prev.contains(&text)) {
            out.push(text);
        }
    }
    out.join(": ")
}
