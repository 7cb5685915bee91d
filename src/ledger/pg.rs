//! A ledger in PostgreSQL (feature `postgres`): its log in a [`PgStore`], its descriptor
//! (origin, log keys) in the same database, so that several servers share one ledger; one
//! of them leads (appends and signs), the others follow (read). `docs/storage-format.md`
//! ("PostgreSQL") has the schema and the leadership protocol.

use std::time::Duration;

use super::{Ledger, LedgerError, check_origin_and_key, parse_verifiers};
use crate::checkpoint::{NoteSigner, NoteVerifier};
use crate::merkle::HashProfile;
use crate::store::{PgDescriptor, PgStore};
use crate::trust::TrustPolicy;

/// Where the descriptor lives, for errors naming it.
const DESCRIPTOR: &str = "warrant_meta";

/// The descriptor of the ledger in `store`: origin, current key, retired keys.
fn descriptor(store: &PgStore) -> Result<(String, NoteVerifier, Vec<NoteVerifier>), LedgerError> {
    let d = store.descriptor()?.ok_or(LedgerError::IncompleteDatabase)?;
    let bad = |source| LedgerError::Descriptor {
        file: DESCRIPTOR,
        source,
    };
    if !super::valid_origin(&d.origin) {
        return Err(bad(super::DescriptorError::NotOneLine));
    }
    let (current, retired) = parse_verifiers(&d.log_keys).map_err(bad)?;
    Ok((d.origin, current, retired))
}

impl Ledger<PgStore> {
    /// Creates a ledger in the database `config` names (a libpq connection string or a
    /// `postgres://` URL), which must hold none: the schema, the empty log's checkpoint,
    /// then the descriptor. The creator is not its leader: open it with [`Ledger::lead`].
    ///
    /// # Errors
    /// As [`Ledger::create`]; [`crate::store::StoreError::Exists`] if the database holds a
    /// log.
    pub fn create_in_postgres(
        config: &str,
        origin: &str,
        profile: HashProfile,
        log_key: NoteSigner,
        trust: TrustPolicy,
    ) -> Result<(), LedgerError> {
        check_origin_and_key(origin, &log_key)?;
        let store = PgStore::create(config, profile)?;
        let ledger = Self::with_store(store, origin, log_key.clone(), trust);
        ledger.checkpoint()?;
        ledger.store.put_descriptor(&PgDescriptor {
            origin: origin.to_owned(),
            log_keys: format!("{}\n", log_key.verifier()),
        })?;
        Ok(())
    }

    /// Opens the ledger in the database as its one sequencer, waiting up to `wait` for the
    /// leadership ([`PgStore::lead`]): it appends, signs checkpoints and hosts the gate.
    ///
    /// # Errors
    /// [`LedgerError::KeyMismatch`] when `log_key` is not the ledger's (another origin: a
    /// database holding another log; or another key), [`LedgerError::IncompleteDatabase`],
    /// [`crate::store::StoreError::Locked`] when another leader holds on past `wait`, or a
    /// store error.
    pub fn lead(
        config: &str,
        log_key: NoteSigner,
        trust: TrustPolicy,
        wait: Duration,
    ) -> Result<Self, LedgerError> {
        let store = PgStore::lead(config, wait)?;
        let (origin, current, retired) = descriptor(&store)?;
        check_origin_and_key(&origin, &log_key)?;
        if log_key.verifier() != current {
            return Err(LedgerError::KeyMismatch {
                key: log_key.verifier().to_string(),
                expected: current.to_string(),
            });
        }
        let mut ledger = Self::with_store(store, &origin, log_key, trust).with_retired(retired);
        ledger.created = ledger.creation_time()?;
        ledger.load_live()?;
        Ok(ledger)
    }

    /// Opens the ledger in the database to read beside its leader, without a key: as
    /// [`Ledger::open_read_only`], [`Ledger::refresh`] catches up with the leader.
    ///
    /// # Errors
    /// [`LedgerError::IncompleteDatabase`], [`LedgerError::Descriptor`], or a store error.
    pub fn follow(config: &str) -> Result<Self, LedgerError> {
        let store = PgStore::open(config)?;
        let (origin, current, retired) = descriptor(&store)?;
        Ok(Self::without_key(store, &origin, current).with_retired(retired))
    }

    /// Opens the ledger in the database holding its leadership but without its key, as
    /// [`Ledger::open_exclusive`] does for a directory: nobody appends while it is open
    /// (for copies and checks). It does not wait for a leader to go.
    ///
    /// # Errors
    /// [`crate::store::StoreError::Locked`] while a leader runs, or as [`Ledger::follow`].
    pub fn lock_in_postgres(config: &str) -> Result<Self, LedgerError> {
        let store = PgStore::lead(config, Duration::ZERO)?;
        let (origin, current, retired) = descriptor(&store)?;
        Ok(Self::without_key(store, &origin, current).with_retired(retired))
    }

    /// Whether this ledger still leads ([`PgStore::still_leading`]: one query): a leader
    /// checks it every so often, so that a lost connection or a successor is noticed
    /// without waiting for an append to fail.
    #[must_use]
    pub fn is_leading(&self) -> bool {
        self.store.still_leading()
    }

    /// Whether the database connection is gone ([`PgStore::is_closed`]): a leader has then
    /// lost its leadership, and a follower its reads. Open the ledger again.
    #[must_use]
    pub fn is_disconnected(&self) -> bool {
        self.store.is_closed()
    }
}
