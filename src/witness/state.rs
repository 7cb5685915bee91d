//! What a witness remembers of each log: the size and root of the latest checkpoint it
//! cosigned, one small file per log, replaced atomically and synced before any answer.
//!
//! ```text
//! <dir>/<hex SHA-256 of the origin>.state:
//!   <origin>\n<size>\n<base64 root>\n<last cosignature time>\n
//! ```
//!
//! A new state is written to a temporary file, synced, renamed over the old one, and the
//! directory synced: a crash at any point leaves the old state or the new one, never a mix
//! and never nothing, so a witness killed mid-request cannot be talked into cosigning a
//! checkpoint that is not consistent with one it cosigned.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::Digest as _;

use crate::encoding::{b64_decode, b64_encode, hex_encode};
use crate::merkle::Hash;

/// The latest checkpoint a witness cosigned for one log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LogState {
    pub(crate) size: u64,
    pub(crate) root: Hash,
    /// The timestamp of the last cosignature (seconds): the next is never earlier.
    pub(crate) time: u64,
}

fn path(dir: &Path, origin: &str) -> PathBuf {
    dir.join(format!(
        "{}.state",
        hex_encode(&sha2::Sha256::digest(origin.as_bytes()))
    ))
}

/// The stored state of `origin`, or `None` if the witness never cosigned for it.
pub(crate) fn load(dir: &Path, origin: &str) -> std::io::Result<Option<LogState>> {
    let text = match std::fs::read_to_string(path(dir, origin)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed state file");
    let lines: Vec<&str> = text.lines().collect();
    let [stored_origin, size, root, time] = lines[..] else {
        return Err(bad());
    };
    if stored_origin != origin {
        return Err(bad());
    }
    let root = b64_decode(root).and_then(|r| Hash::try_from_slice(&r).ok());
    Ok(Some(LogState {
        size: size.parse().map_err(|_| bad())?,
        root: root.ok_or_else(bad)?,
        time: time.parse().map_err(|_| bad())?,
    }))
}

/// Replaces the stored state of `origin`, durably (see the module documentation).
pub(crate) fn store(dir: &Path, origin: &str, state: &LogState) -> std::io::Result<()> {
    let target = path(dir, origin);
    let temporary = target.with_extension("state.new");
    let text = format!(
        "{origin}\n{}\n{}\n{}\n",
        state.size,
        b64_encode(state.root.as_bytes()),
        state.time
    );
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temporary)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&temporary, &target)?;
    sync_dir(dir)
}

/// Makes a rename in `dir` durable. Windows cannot open a directory to sync it; there the
/// rename is as durable as the file system makes it.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
