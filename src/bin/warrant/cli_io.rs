//! Input and output helpers shared by the commands.

use std::io::{Read as _, Write as _};
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;

/// What a command that completed found: success, or a verification that failed (exit 1).
/// Usage and input errors travel as `Err` (exit 2).
pub enum Outcome {
    /// The command did its job or the check passed.
    Success,
    /// The check ran and failed, with the reason.
    Failed(String),
}

/// Largest standard input accepted, so a runaway pipe cannot exhaust memory.
const MAX_STDIN: u64 = 1 << 30;

pub fn read_stdin() -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .take(MAX_STDIN + 1)
        .read_to_end(&mut buf)
        .context("reading standard input")?;
    if buf.len() as u64 > MAX_STDIN {
        bail!("standard input is larger than {MAX_STDIN} bytes");
    }
    Ok(buf)
}

/// Entries from standard input: one standard base64 entry per line; an empty line is the
/// empty entry.
pub fn read_entries() -> Result<Vec<Vec<u8>>> {
    let input = String::from_utf8(read_stdin()?).context("standard input is not UTF-8")?;
    input
        .lines()
        .enumerate()
        .map(|(i, line)| {
            base64::engine::general_purpose::STANDARD
                .decode(line.trim())
                .with_context(|| format!("line {}: not standard base64", i + 1))
        })
        .collect()
}

pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Writes a secret file readable by its owner only (mode 0600 on Unix), refusing to replace
/// an existing file.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<()> {
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

pub fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn b64_decode(text: &str) -> Result<Vec<u8>> {
    Ok(base64::engine::general_purpose::STANDARD.decode(text)?)
}

pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
