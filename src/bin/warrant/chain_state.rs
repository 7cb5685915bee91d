//! `warrant event sign --chain FILE`: an emitter's chain state kept between invocations, so
//! that events signed by hand chain like those a service signs with `EmitterChain`.
//!
//! ```json
//! { "emitter": "spiffe://bank.example/front-door",
//!   "chains": { "<task id, or \"ledger\">": { "next_eseq": 2, "prev": "<64 hex digits>" } } }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use warrant_ledger::envelope::{self, VerifiedEvent};
use warrant_ledger::event::{Digest, Event};

use crate::cli_io::{Input, read_file};

/// Where one emitter's chain stands in one task (or among its ledger-level events).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Position {
    next_eseq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prev: Option<Digest>,
}

/// The state file: one emitter, its position per task.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    emitter: Option<String>,
    #[serde(default)]
    chains: BTreeMap<String, Position>,
}

fn load(path: &Path) -> Result<State> {
    if !path.exists() {
        return Ok(State::default());
    }
    serde_json::from_slice(&read_file(path, Input::ChainState)?)
        .with_context(|| format!("{} is not a chain-state file", path.display()))
}

/// Writes the state next to its place and renames it over, so a crash leaves the old state
/// or the new one, never half of either.
fn store(path: &Path, state: &State) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(state)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
}

/// Sets `eseq` and `prev` of `event` from the chain state in `path`, signs it, and records
/// it as the emitter's last event in its task.
pub(crate) fn sign_next(path: &Path, mut event: Event, key: &SigningKey) -> Result<VerifiedEvent> {
    let mut state = load(path)?;
    let emitter = event.emitter.to_string();
    match &state.emitter {
        Some(e) if *e != emitter => {
            bail!(
                "{} is the chain state of {e}, not of {emitter}",
                path.display()
            )
        }
        _ => state.emitter = Some(emitter),
    }
    let task = event
        .task
        .map_or_else(|| "ledger".to_owned(), |t| t.to_string());
    let position = state.chains.entry(task).or_default();
    (event.eseq, event.prev) = (position.next_eseq, position.prev);
    let signed = envelope::sign(&event, key)?;
    *position = Position {
        next_eseq: event.eseq + 1,
        prev: Some(signed.digest()),
    };
    store(path, &state)?;
    Ok(signed)
}

/// The `TaskClosed` manifest entry of the emitter whose chain state is in `path`: its last
/// event in `task`, or `None` if it logged none there.
pub(crate) fn manifest_entry(path: &Path, task: &str) -> Result<Option<serde_json::Value>> {
    let state = load(path)?;
    let (Some(emitter), Some(position)) = (state.emitter, state.chains.get(task)) else {
        return Ok(None);
    };
    let Some(prev) = position.prev else {
        return Ok(None);
    };
    Ok(Some(serde_json::json!({
        "emitter": emitter,
        "last_eseq": position.next_eseq.saturating_sub(1),
        "last_digest": prev.to_hex(),
    })))
}
