//! The demo's two witnesses: C2SP tlog-witness services on loopback ports, each with its
//! own key and state, which the ledger asks to cosign its checkpoint; the auditor's trust
//! policy asks for both (2 of 2).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use warrant_ledger::checkpoint::{CosignerVerifier, NoteSigner};
use warrant_ledger::client::{ClientConfig, WitnessClient};
use warrant_ledger::ledger::{Ledger, WitnessOutcome};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::server::{ServerConfig, ServerHandle, WitnessServer};
use warrant_ledger::witness::{Cosigner, Witness, WitnessedLog};

use crate::cli_io::write_secret;

const NAMES: [&str; 2] = ["w1", "w2"];

/// The witnesses' keys, written under `keys/` in `dir`, and the `tlog-policy` text that
/// pins them with a quorum of both.
pub(crate) fn keys(dir: &Path) -> Result<(Vec<NoteSigner>, String)> {
    let mut signers = Vec::new();
    let mut policy = String::new();
    for name in NAMES {
        let signer = NoteSigner::generate(&format!("witness.bank-auditors.example/{name}"))?;
        write_secret(
            &dir.join("keys").join(format!("witness-{name}.key")),
            format!("{}\n", *signer.to_key_string()).as_bytes(),
        )?;
        policy.push_str(&format!(
            "witness {name} {}\n",
            CosignerVerifier::from(&signer)
        ));
        signers.push(signer);
    }
    policy.push_str(&format!(
        "group both all {}\nquorum both\n",
        NAMES.join(" ")
    ));
    Ok((signers, policy))
}

/// Running witnesses and a client of each.
pub(crate) struct Witnesses {
    servers: Vec<ServerHandle>,
    clients: Vec<WitnessClient>,
}

impl Witnesses {
    /// Starts one witness per key, following `ledger`'s log, state under `dir/witnesses`.
    pub(crate) fn start(dir: &Path, signers: Vec<NoteSigner>, ledger: &Ledger) -> Result<Self> {
        let log = WitnessedLog {
            origin: ledger.origin().to_owned(),
            verifiers: vec![ledger.verifier()],
            profile: ledger.profile(),
        };
        let mut servers = Vec::new();
        let mut clients = Vec::new();
        for (name, signer) in NAMES.iter().zip(signers) {
            let key = CosignerVerifier::from(&signer);
            let state = dir.join("witnesses").join(name);
            let witness = Witness::open(&state, signer, vec![log.clone()])?;
            let server = WitnessServer::new(Arc::new(witness), ServerConfig::default())
                .spawn("127.0.0.1:0".parse().context("address")?)?;
            let url = format!("http://{}", server.local_addr());
            clients.push(WitnessClient::new(
                &url,
                ClientConfig::default(),
                Some(key),
            )?);
            servers.push(server);
        }
        Ok(Self { servers, clients })
    }

    /// The URLs, for messages.
    pub(crate) fn urls(&self) -> Vec<String> {
        self.clients.iter().map(Cosigner::name).collect()
    }

    /// Asks the first `n` witnesses to cosign the ledger's latest checkpoint.
    pub(crate) fn cosign(&self, ledger: &Ledger, n: usize) -> Result<WitnessOutcome> {
        let asked: Vec<&dyn Cosigner> = self
            .clients
            .iter()
            .take(n)
            .map(|c| c as &dyn Cosigner)
            .collect();
        let outcome = ledger.witness(&asked)?;
        if let Some((w, e)) = outcome.refused.first() {
            anyhow::bail!("witness {w} refused: {e}");
        }
        Ok(outcome)
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        self.clients.len()
    }

    /// Stops them.
    pub(crate) fn stop(self) {
        for s in self.servers {
            s.shutdown();
        }
    }
}

/// Whether `profile` is one tlog-witness names (SHA-256) or this project's extension.
pub(crate) fn profile_note(profile: HashProfile) -> &'static str {
    match profile {
        HashProfile::Sha256 => "",
        _ => " (BLAKE3 proofs: this project's extension of tlog-witness)",
    }
}
