//! `warrant`: the command-line face of warrant-ledger.
//!
//! Exit codes: 0 success or verified, 1 verification failed, 2 usage or input error.

mod cli_io;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Merkle(c) => merkle_cmd::run(c),
        Command::Note(c) => note_cmd::run(c),
    };
    match outcome {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed(reason)) => {
            eprintln!("verification failed: {reason}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
