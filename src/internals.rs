//! **Not part of the API.** Hooks through which this crate's own fuzz targets, benches, CLI
//! and integration tests reach what the library keeps private: the batch verifier (raw, for
//! the speed reference and its differential fuzzing) and the generic CBOR value codec (an
//! oracle for the strict one). Hidden from the docs and outside semver: anything here may
//! change or go in any release. See `docs/public-api.md`.

pub use crate::cbor::value::{parse_value, value_to_vec};
pub use crate::envelope::batch::{Signed, verify_all};
