//! Input and output helpers shared by the commands.

use std::io::{Read as _, Write as _};
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;

/// What a command that completed found: success, or a verification that failed (exit 1).
/// Usage and input errors travel as `Err` (exit 2).
pub(crate) enum Outcome {
    /// The command did its job or the check passed.
    Success,
    /// The check ran and failed, with the reason.
    Failed(String),
}

/// What a command reads, for its size limit and its error messages. Every input is read
/// with its limit: a larger one is refused once the limit is passed, never read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// A COSE_Sign1 event (64 KiB, the decoder's limit).
    Envelope,
    /// An event as JSON.
    EventJson,
    /// A trust policy file.
    Trust,
    /// A signed note or checkpoint (64 KiB, the note parser's limit), or note text to sign.
    Note,
    /// A key file.
    Key,
    /// An evidence bundle (1 GiB, the bundle decoder's limit).
    Bundle,
    /// A proof as JSON.
    Proof,
    /// A chain-state file.
    ChainState,
    /// A gate request as JSON.
    Request,
}

impl Input {
    pub(crate) const fn max(self) -> u64 {
        match self {
            Self::Envelope | Self::Note => 64 * 1024,
            Self::EventJson | Self::Trust | Self::Proof | Self::ChainState | Self::Request => {
                1 << 20
            }
            Self::Key => 4096,
            Self::Bundle => warrant_ledger::bundle::MAX_BUNDLE_LEN as u64,
        }
    }

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Envelope => "an event envelope",
            Self::EventJson => "event JSON",
            Self::Trust => "a trust policy",
            Self::Note => "a note",
            Self::Key => "a key file",
            Self::Bundle => "a bundle",
            Self::Proof => "a proof",
            Self::ChainState => "a chain-state file",
            Self::Request => "a gate request",
        }
    }
}

/// An input over its kind's size limit.
#[derive(Debug, thiserror::Error)]
#[error("{source_name} is larger than the {max} bytes {what} may be")]
pub(crate) struct TooLarge {
    source_name: String,
    what: &'static str,
    max: u64,
}

/// Reads at most `kind.max()` bytes from `r`, refusing more.
fn read_bounded(r: impl std::io::Read, kind: Input, source_name: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(kind.max() + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("reading {source_name}"))?;
    if buf.len() as u64 > kind.max() {
        return Err(TooLarge {
            source_name: source_name.to_owned(),
            what: kind.name(),
            max: kind.max(),
        }
        .into());
    }
    Ok(buf)
}

/// Standard input, whole, within `kind`'s limit.
pub(crate) fn read_stdin(kind: Input) -> Result<Vec<u8>> {
    read_bounded(std::io::stdin().lock(), kind, "standard input")
}

/// A file, whole, within `kind`'s limit (refused from its length before any read).
pub(crate) fn read_file(path: &Path, kind: Input) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("reading {name}"))?;
    if file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() > kind.max())
    {
        return Err(TooLarge {
            source_name: name,
            what: kind.name(),
            max: kind.max(),
        }
        .into());
    }
    read_bounded(file, kind, &name)
}

/// A file, or standard input when none is named.
pub(crate) fn read_input(path: Option<&Path>, kind: Input) -> Result<Vec<u8>> {
    path.map_or_else(|| read_stdin(kind), |p| read_file(p, kind))
}

/// Longest line of entries `warrant merkle` reads (base64 of a 768 KiB entry).
const MAX_ENTRY_LINE: usize = 1 << 20;

/// Entries from standard input: one standard base64 entry per line; an empty line is the
/// empty entry. Read line by line: a line over the limit, or one that is not base64, stops
/// the read there.
pub(crate) fn read_entries() -> Result<Vec<Vec<u8>>> {
    use std::io::BufRead as _;
    let mut input = std::io::stdin().lock();
    let mut out = Vec::new();
    let mut line = Vec::new();
    for n in 1.. {
        line.clear();
        let read = (&mut input)
            .take(MAX_ENTRY_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .context("reading standard input")?;
        if read == 0 {
            break;
        }
        if line.len() > MAX_ENTRY_LINE {
            bail!("line {n} is longer than {MAX_ENTRY_LINE} bytes");
        }
        let text = core::str::from_utf8(&line).with_context(|| format!("line {n} is not UTF-8"))?;
        let entry = base64::engine::general_purpose::STANDARD
            .decode(text.trim_end_matches(['\n', '\r']).trim())
            .with_context(|| format!("line {n}: not standard base64"))?;
        out.push(entry);
    }
    Ok(out)
}

pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Writes a secret file readable by its owner only (mode 0600 on Unix), refusing to replace
/// an existing file.
pub(crate) fn write_secret(path: &Path, contents: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn b64_decode(text: &str) -> Result<Vec<u8>> {
    Ok(base64::engine::general_purpose::STANDARD.decode(text)?)
}

pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
