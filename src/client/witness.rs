//! A witness over HTTP, as [`Ledger::witness`](crate::ledger::Ledger::witness) asks it.

use super::{Client, ClientConfig, ClientError};
use crate::checkpoint::CosignerVerifier;
use crate::witness::{CosignError, Cosigner, SizeHint, conflict_size};

/// A `tlog-witness` reached over HTTP (blocking).
pub struct WitnessClient {
    url: String,
    client: Client,
    key: Option<CosignerVerifier>,
    hint: SizeHint,
}

impl WitnessClient {
    /// The witness at `url` (its submission prefix); with its `key`, only cosignatures by
    /// that key are accepted from it.
    ///
    /// # Errors
    /// As [`Client::new`].
    pub fn new(
        url: &str,
        config: ClientConfig,
        key: Option<CosignerVerifier>,
    ) -> Result<Self, ClientError> {
        Ok(Self {
            url: url.to_owned(),
            client: Client::new(url, config)?,
            key,
            hint: SizeHint::default(),
        })
    }
}

impl Cosigner for WitnessClient {
    fn name(&self) -> String {
        self.url.clone()
    }

    fn key(&self) -> Option<CosignerVerifier> {
        self.key.clone()
    }

    fn add_checkpoint(&self, body: &[u8]) -> Result<Vec<u8>, CosignError> {
        let answer = self
            .client
            .runtime
            .block_on(self.client.inner.add_checkpoint(body));
        answer.map_err(|e| match e {
            ClientError::Refused {
                status, message, ..
            } => CosignError::Refused {
                status,
                size: if status == 409 {
                    conflict_size(&message)
                } else {
                    None
                },
                message,
            },
            other => CosignError::Unreachable(other.to_string()),
        })
    }

    fn size_hint(&self) -> u64 {
        self.hint.get()
    }

    fn set_size_hint(&self, size: u64) {
        self.hint.set(size);
    }
}
