//! `warrant note …`: C2SP signed-note keys, signing and verification.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use warrant_ledger::checkpoint::{Note, NoteError, NoteSigner, NoteVerifier, sign};

use crate::cli_io::{Input, Outcome, read_file, read_stdin, write_secret};

#[derive(Subcommand)]
pub enum NoteCommand {
    /// Generates a key pair; prints the signer key, then the verifier key.
    Keygen {
        /// Key name (conventionally the log origin).
        #[arg(long)]
        name: String,
        /// Write the signer key to this file (mode 0600) instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Signs the text on standard input and prints the note.
    Sign {
        /// File holding a signer key (`PRIVATE+KEY+…`).
        #[arg(long)]
        key: PathBuf,
    },
    /// Verifies the note on standard input: exit 0 if a given key signed it validly.
    Verify {
        /// Verifier key (`name+hex8+base64`) or a file holding one; may be repeated.
        #[arg(long, required = true)]
        key: Vec<String>,
    },
}

pub fn run(cmd: NoteCommand) -> Result<Outcome> {
    match cmd {
        NoteCommand::Keygen { name, out } => {
            let signer = NoteSigner::generate(&name)?;
            match out {
                Some(path) => {
                    write_secret(&path, format!("{}\n", *signer.to_key_string()).as_bytes())?
                }
                None => println!("{}", *signer.to_key_string()),
            }
            println!("{}", signer.verifier());
        }
        NoteCommand::Sign { key } => {
            let text =
                String::from_utf8(read_file(&key, Input::Key)?).context("key file is not UTF-8")?;
            let signer = NoteSigner::parse(text.trim()).context("parsing the signer key")?;
            let msg =
                String::from_utf8(read_stdin(Input::Note)?).context("note text is not UTF-8")?;
            print!("{}", String::from_utf8_lossy(&sign(&msg, &[&signer])?));
        }
        NoteCommand::Verify { key } => {
            let verifiers = key
                .iter()
                .map(|k| verifier(k))
                .collect::<Result<Vec<_>>>()?;
            let note = Note::parse(&read_stdin(Input::Note)?).context("malformed note")?;
            return Ok(match note.verify(&verifiers) {
                Ok(v) => {
                    print!("{}", v.text());
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
