//! File access with a fault-injection point: every write, truncation and sync first asks an
//! optional [`FaultHook`], so tests can fail the N-th operation as a full disk would.

use std::fs::File;
use std::io;
#[cfg(unix)]
use std::os::unix::fs::FileExt as _;
use std::sync::Arc;

// The store's durability rests on two unix facilities: positioned reads and writes that do
// not move a shared cursor (`pread`/`pwrite`: readers and the writer share one handle), and
// fsync of a directory, which is what makes a rename durable. Other platforms differ on both
// (Windows has no directory fsync), so rather than build a store whose promise silently weakens,
// the crate refuses to compile there.
#[cfg(not(unix))]
compile_error!(
    "warrant-ledger's file store supports unix targets only (positioned I/O and directory \
     fsync); see docs/storage-format.md, \"Platforms\""
);

/// A mutating file operation, as seen by a [`FaultHook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// A positioned write.
    Write,
    /// Setting a file's length.
    Truncate,
    /// `fdatasync`/`fsync`.
    Sync,
    /// Renaming a file into place.
    Rename,
}

/// Called before every mutating operation; an error is returned to the caller instead of
/// performing the operation.
pub trait FaultHook: Send + Sync {
    /// Decides whether `op` on `file` fails.
    ///
    /// # Errors
    /// The error to report instead of doing the operation.
    fn before(&self, op: Op, file: &str) -> io::Result<()>;
}

/// A store file: its name (for reports) and handle, and the hook.
#[derive(Clone)]
pub(super) struct StoreFile {
    pub name: &'static str,
    pub file: Arc<File>,
    hook: Option<Arc<dyn FaultHook>>,
}

impl StoreFile {
    pub(super) fn new(name: &'static str, file: File, hook: Option<Arc<dyn FaultHook>>) -> Self {
        Self {
            name,
            file: Arc::new(file),
            hook,
        }
    }

    fn check(&self, op: Op) -> io::Result<()> {
        self.hook
            .as_ref()
            .map_or(Ok(()), |h| h.before(op, self.name))
    }

    pub(super) fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    pub(super) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    pub(super) fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.check(Op::Write)?;
        self.file.write_all_at(buf, offset)
    }

    pub(super) fn set_len(&self, len: u64) -> io::Result<()> {
        self.check(Op::Truncate)?;
        self.file.set_len(len)
    }

    pub(super) fn sync(&self) -> io::Result<()> {
        self.check(Op::Sync)?;
        self.file.sync_data()
    }

    pub(super) fn hook(&self) -> Option<Arc<dyn FaultHook>> {
        self.hook.clone()
    }
}

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename, fsync of the directory.
pub(super) fn write_atomic(
    dir: &std::path::Path,
    name: &str,
    bytes: &[u8],
    hook: Option<&Arc<dyn FaultHook>>,
) -> io::Result<()> {
    let check = |op| hook.map_or(Ok(()), |h| h.before(op, "checkpoint"));
    let tmp = dir.join(format!(".{name}.tmp"));
    check(Op::Write)?;
    std::fs::write(&tmp, bytes)?;
    check(Op::Sync)?;
    File::open(&tmp)?.sync_all()?;
    check(Op::Rename)?;
    std::fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

/// Makes the directory's entries (a rename, a new file) durable.
pub(crate) fn sync_dir(dir: &std::path::Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
