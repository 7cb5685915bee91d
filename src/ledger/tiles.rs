//! The log as C2SP `tlog-tiles` tiles: what the ledger server serves on `/tile/`, and what
//! a static mirror could write to files.

use super::{Ledger, LedgerError};
use crate::merkle::{HASH_LEN, Tile, TileKind};
use crate::store::Storage;

impl<S: Storage> Ledger<S> {
    /// The bytes of `tile` in the log as committed: node hashes (32 bytes each) for a hash
    /// tile, entries each behind a big-endian `u16` length for an entry bundle. A tile's
    /// bytes never change once the log holds it whole, so they may be cached forever.
    ///
    /// In a SHA-256 log these are the tiles of C2SP `tlog-tiles`; in a BLAKE3 log the same
    /// layout with BLAKE3 node hashes (an extension: `docs/server.md`).
    ///
    /// # Errors
    /// [`LedgerError::TileOutOfRange`] when the log does not (yet) hold the whole tile,
    /// [`LedgerError::EntryTooLongForBundle`] for an entry of more than 65,535 bytes, or a
    /// store error.
    pub fn tile(&self, tile: &Tile) -> Result<Vec<u8>, LedgerError> {
        let size = self.store.size();
        if !tile.within(size) {
            return Err(LedgerError::TileOutOfRange { size });
        }
        match tile.kind {
            TileKind::Entries => self.entry_bundle(tile),
            _ => {
                let nodes = tile.nodes().ok_or(LedgerError::TileOutOfRange { size })?;
                let mut out = Vec::with_capacity(usize::from(tile.width) * HASH_LEN);
                for id in nodes {
                    out.extend_from_slice(self.store.node(id)?.as_bytes());
                }
                Ok(out)
            }
        }
    }

    fn entry_bundle(&self, tile: &Tile) -> Result<Vec<u8>, LedgerError> {
        let size = self.store.size();
        let range = tile.entries().ok_or(LedgerError::TileOutOfRange { size })?;
        let mut out = Vec::new();
        for index in range {
            let entry = self.store.entry(index)?;
            let len =
                u16::try_from(entry.len()).map_err(|_| LedgerError::EntryTooLongForBundle {
                    index,
                    len: entry.len(),
                })?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&entry);
        }
        Ok(out)
    }
}
