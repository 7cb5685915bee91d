//! `warrant note …`: C2SP signed-note keys, signing and verification.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use warrant_ledger::checkpoint::{Note, NoteError, NoteSigner, NoteVerifier, sign};

use serde::Serialize;

use crate::cli_io::{Input, Outcome, print_json, read_file, read_input, write_secret};

#[derive(Subcommand)]
pub(crate) enum NoteCommand {
    /// Generates a key pair: writes the signer key to a file (mode 0600, never printed),
    /// prints the verifier key.
    Keygen {
        /// Key name (conventionally the log origin).
        #[arg(long)]
        name: String,
        /// The signer key file to create (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Signs the text (FILE, or standard input) and prints the note.
    Sign {
        /// File holding a signer key (`PRIVATE+KEY+…`).
        #[arg(long)]
        key: PathBuf,
        /// The text (default: standard input).
        file: Option<PathBuf>,
    },
    /// Verifies a note (FILE, or standard input): exit 0 if a given key signed it validly;
    /// prints its text.
    Verify {
        /// Verifier key (`name+hex8+base64`) or a file holding one; may be repeated.
        #[arg(long, required = true)]
        key: Vec<String>,
        /// The note (default: standard input).
        file: Option<PathBuf>,
    },
}

#[derive(Serialize)]
struct VerifiedOut<'a> {
    valid: bool,
    text: &'a str,
}

pub(crate) fn run(cmd: NoteCommand, json: bool) -> Result<Outcome> {
    match cmd {
        NoteCommand::Keygen { name, out } => {
            let signer = NoteSigner::generate(&name)?;
            write_secret(&out, format!("{}\n", *signer.to_key_string()).as_bytes())?;
            if json {
                print_json(&serde_json::json!({ "verifier_key": signer.verifier().to_string() }))?;
            } else {
                println!("{}", signer.verifier());
            }
        }
        NoteCommand::Sign { key, file } => {
            let text =
                String::from_utf8(read_file(&key, Input::Key)?).context("key file is not UTF-8")?;
            let signer = NoteSigner::parse(text.trim()).context("parsing the signer key")?;
            let msg = String::from_utf8(read_input(file.as_deref(), Input::Note)?)
                .context("note text is not UTF-8")?;
            print!("{}", String::from_utf8_lossy(&sign(&msg, &[&signer])?));
        }
        NoteCommand::Verify { key, file } => {
            let verifiers = key
                .iter()
                .map(|k| verifier(k))
                .collect::<Result<Vec<_>>>()?;
            let note = Note::parse(&read_input(file.as_deref(), Input::Note)?)
                .context("malformed note")?;
            return Ok(match note.verify(&verifiers) {
                Ok(v) => {
                    if json {
                        print_json(&VerifiedOut {
                            valid: true,
                            text: v.text(),
                        })?;
                    } else {
                        print!("{}", v.text());
                    }
                    Outcome::Success
                }
                Err(
                    e @ (NoteError::InvalidSignature { .. }
                    | NoteError::UnknownKeyId { .. }
                    | NoteError::NoTrustedSignature),
                ) => Outcome::Failed(e.to_string()),
                Err(e) => bail!(e),
            });
        }
    }
    Ok(Outcome::Success)
}

/// A verifier key given inline, or the path of a file holding one.
fn verifier(arg: &str) -> Result<NoteVerifier> {
    match NoteVerifier::parse(arg) {
        Ok(v) => Ok(v),
        Err(inline) if Path::new(arg).is_file() => {
            let text = String::from_utf8(read_file(Path::new(arg), Input::Key)?)
                .context("key file is not UTF-8")?;
            NoteVerifier::parse(text.trim()).with_context(|| format!("{arg}: {inline}"))
        }
        Err(e) => Err(e).with_context(|| format!("verifier key {arg:?}")),
    }
}
