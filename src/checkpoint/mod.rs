//! Signed checkpoints: C2SP `tlog-checkpoint` bodies in C2SP `signed-note`s with Ed25519,
//! byte-compatible with Go's `golang.org/x/mod/sumdb/note`.
//!
//! ```
//! use warrant_ledger::checkpoint::{Checkpoint, NoteSigner, open_checkpoint};
//! use warrant_ledger::merkle::HashProfile;
//!
//! let signer = NoteSigner::generate("example.com/log")?;
//! let cp = Checkpoint {
//!     origin: "example.com/log".into(),
//!     size: 0,
//!     root: HashProfile::Sha256.empty_root(),
//!     extensions: vec![],
//! };
//! let note = cp.sign(&[&signer])?;
//! let verified = open_checkpoint(&note, "example.com/log", &[signer.verifier()])?;
//! assert_eq!(verified.checkpoint(), &cp);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod body;
mod cosignature;
mod key;
mod note;

pub use body::{Checkpoint, CheckpointError, VerifiedCheckpoint, open_checkpoint};
pub use cosignature::{
    ALG_COSIGNATURE_V1, CosignerVerifier, MAX_TIMESTAMP, cosigned_time, cosigner_key_id,
};
pub use key::{ALG_ED25519, KeyError, NoteSigner, NoteVerifier, is_valid_key_name, key_id};
pub use note::{
    MAX_NOTE_LEN, MAX_SIGNATURES, Note, NoteError, NoteSignature, VerifiedNote, open, sign,
};
