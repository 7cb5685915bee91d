//! `warrant keygen` and `warrant event …`: emitter keys and signed events.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Subcommand;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::Serialize;
use warrant_ledger::envelope::{self, CONTENT_TYPE, EnvelopeError, event_key_id};
use warrant_ledger::event::{Digest, Event, EventId, Timestamp, action_digest};
use warrant_ledger::keys::generate_signing_key;
use warrant_ledger::trust::public_key_base64;
use zeroize::Zeroizing;

use crate::cli_io::{
    Input, Outcome, b64_decode, b64_encode, hex_encode, print_json, read_file, read_input,
    read_stdin, write_secret,
};

#[derive(Subcommand)]
pub(crate) enum EventCommand {
    /// Signs the event JSON on standard input; writes the COSE_Sign1 bytes.
    Sign {
        /// Secret key file (from `warrant keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The emitter's chain-state file: fills in `eseq` and `prev` from the emitter's
        /// previous event in the same task (created on first use, updated after signing).
        #[arg(long)]
        chain: Option<PathBuf>,
        /// Replaces the event's `id` with a fresh UUIDv7.
        #[arg(long)]
        fresh_id: bool,
        /// Moves the event to this time (`now`, or ms since the epoch), and every time of its
        /// body by as much: for signing a recorded event (an example) as a new one.
        #[arg(long)]
        at: Option<String>,
        /// Sets the event's task (a task event's), e.g. from `warrant event new-id`.
        #[arg(long)]
        task: Option<String>,
        /// `NAME=ENVELOPE`: every string `"@NAME"` in the JSON becomes a reference to the
        /// signed event in ENVELOPE (its id and digest). May be repeated.
        #[arg(long = "ref")]
        refs: Vec<String>,
        /// A chain-state file of an emitter of the task: `"@manifest"` in the JSON becomes
        /// the `TaskClosed` manifest of every such emitter's last event. May be repeated.
        #[arg(long)]
        manifest: Vec<PathBuf>,
    },
    /// Prints the citation digest of a COSE_Sign1 event (FILE, or standard input): what
    /// `refs`, `prev` and body references carry.
    Digest {
        /// The envelope file (default: standard input).
        file: Option<PathBuf>,
    },
    /// Prints the digest an approval request names for an action on resources.
    ActionDigest {
        /// The action, e.g. payments:transfer.
        #[arg(long)]
        action: String,
        /// A resource (repeat for several; order and repeats do not matter).
        #[arg(long = "resource")]
        resources: Vec<String>,
    },
    /// Prints a fresh UUIDv7, for an event or a task id.
    NewId,
    /// Verifies a COSE_Sign1 event (FILE, or standard input): exit 0 valid, 1 invalid,
    /// 2 malformed.
    Verify {
        /// The emitter's public key, standard base64.
        #[arg(long)]
        pubkey: String,
        /// The envelope file (default: standard input).
        file: Option<PathBuf>,
    },
    /// Prints a COSE_Sign1 event (FILE, or standard input) as JSON, header included (no
    /// verification).
    Show {
        /// The envelope file (default: standard input).
        file: Option<PathBuf>,
    },
}

#[derive(Serialize)]
struct KeyOut {
    public_key: String,
    key_id: String,
}

/// `warrant keygen --out FILE`.
/// `warrant keygen --out FILE [--emitter ID --kinds K,… --assurance A]`.
pub(crate) fn keygen(
    out: &Path,
    emitter: Option<&str>,
    kinds: &[String],
    assurance: &str,
) -> Result<Outcome> {
    let key = generate_signing_key();
    let public_key = public_key_base64(&key.verifying_key());
    let Some(workload) = emitter else {
        let seed = Zeroizing::new(format!("{}\n", b64_encode(key.as_bytes())));
        write_secret(out, seed.as_bytes())?;
        crate::cli_io::print_json(&KeyOut {
            public_key,
            key_id: hex_encode(&event_key_id(&key.verifying_key())),
        })?;
        return Ok(Outcome::Success);
    };
    // The block is checked the way a trust policy will read it, before the key is written.
    let entry = warrant_ledger::trust::EmitterEntry {
        workload: workload.to_owned(),
        assurance: serde_json::from_value(serde_json::Value::from(assurance))
            .context("--assurance: enforced or self_reported")?,
        kinds: kinds.to_vec(),
        keys: vec![warrant_ledger::trust::KeyEntry {
            public_key,
            not_before: None,
            not_after: None,
        }],
    };
    let block = format!(
        "\n[[emitters]]\nworkload = {:?}\nassurance = {:?}\nkinds = {:?}\nkeys = [{{ public_key = {:?} }}]\n",
        entry.workload, assurance, entry.kinds, entry.keys[0].public_key
    );
    warrant_ledger::trust::TrustPolicy::from_toml(&format!("version = 1\n{block}"))
        .context("the emitter block")?;
    let seed = Zeroizing::new(format!("{}\n", b64_encode(key.as_bytes())));
    write_secret(out, seed.as_bytes())?;
    print!("{block}");
    Ok(Outcome::Success)
}

/// Reads a secret key file: standard base64 of the 32-byte Ed25519 seed.
pub(crate) fn read_signing_key(path: &Path) -> Result<SigningKey> {
    let text = Zeroizing::new(
        String::from_utf8(read_file(path, Input::Key)?).context("key file is not UTF-8")?,
    );
    let seed = Zeroizing::new(b64_decode(text.trim()).context("key file is not base64")?);
    let seed: &[u8; 32] = seed
        .as_slice()
        .try_into()
        .context("key file must hold a 32-byte seed")?;
    Ok(SigningKey::from_bytes(seed))
}

/// Fills an event template: its task, `"@NAME"` references, the `"@manifest"`.
fn fill_template(
    json: &mut serde_json::Value,
    task: Option<&str>,
    refs: &[String],
    manifest: &[PathBuf],
) -> Result<()> {
    if let (Some(task), Some(slot)) = (task, json.get_mut("task")) {
        *slot = task.into();
    }
    let mut named = std::collections::HashMap::new();
    for r in refs {
        let (name, file) = r
            .split_once('=')
            .with_context(|| format!("--ref {r:?}: NAME=ENVELOPE"))?;
        let bytes = read_file(Path::new(file), Input::Envelope)?;
        let event = envelope::decode_unverified(&bytes, warrant_ledger::cbor::Limits::default())
            .with_context(|| format!("--ref {name}: {file} is not an event envelope"))?;
        let reference = serde_json::json!({
            "id": event.id.to_string(),
            "digest": Digest::of_envelope(&bytes).to_hex(),
        });
        named.insert(format!("@{name}"), reference);
    }
    if !manifest.is_empty() {
        let task = json
            .get("task")
            .and_then(|t| t.as_str())
            .context("--manifest: the event has no task")?
            .to_owned();
        let mut entries = Vec::new();
        for path in manifest {
            entries.extend(crate::chain_state::manifest_entry(path, &task)?);
        }
        named.insert("@manifest".into(), entries.into());
    }
    substitute(json, &named);
    Ok(())
}

/// Replaces every string value that names an entry of `named` with that entry.
fn substitute(
    json: &mut serde_json::Value,
    named: &std::collections::HashMap<String, serde_json::Value>,
) {
    match json {
        serde_json::Value::String(s) => {
            if let Some(v) = named.get(s.as_str()) {
                *json = v.clone();
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, named)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| substitute(v, named)),
        _ => {}
    }
}

/// Prints one value: alone on its line, or as `{"name": value}`.
fn one_value(json: bool, name: &str, value: &str) -> Result<Outcome> {
    if json {
        print_json(&serde_json::json!({ name: value }))?;
    } else {
        println!("{value}");
    }
    Ok(Outcome::Success)
}

/// `now`, or milliseconds since the epoch.
pub(crate) fn parse_time(text: &str) -> Result<Timestamp> {
    if text == "now" {
        return Ok(Timestamp::now());
    }
    let ms: u64 = text
        .parse()
        .with_context(|| format!("--at {text:?}: `now` or milliseconds since the epoch"))?;
    Ok(Timestamp::from_millis(ms))
}

fn parse_pubkey(b64: &str) -> Result<VerifyingKey> {
    let raw = b64_decode(b64).context("--pubkey is not standard base64")?;
    let raw: [u8; 32] = raw
        .as_slice()
        .try_into()
        .context("--pubkey must be 32 bytes")?;
    VerifyingKey::from_bytes(&raw).context("--pubkey is not an ed25519 public key")
}

pub(crate) fn run(cmd: EventCommand, json: bool) -> Result<Outcome> {
    match cmd {
        EventCommand::Sign {
            key,
            out,
            chain,
            fresh_id,
            at,
            task,
            refs,
            manifest,
        } => {
            let signer = read_signing_key(&key)?;
            let mut json: serde_json::Value =
                serde_json::from_slice(&read_stdin(Input::EventJson)?).context("event JSON")?;
            fill_template(&mut json, task.as_deref(), &refs, &manifest)?;
            let mut event: Event = serde_json::from_value(json).context("event JSON")?;
            if fresh_id {
                event.id = EventId::new_v7();
            }
            if let Some(at) = at {
                event.retime(parse_time(&at)?);
            }
            let signed = match &chain {
                Some(path) => crate::chain_state::sign_next(path, event, &signer)?,
                None => envelope::sign(&event, &signer)?,
            };
            match out {
                Some(path) => std::fs::write(&path, signed.bytes())
                    .with_context(|| format!("writing {}", path.display()))?,
                None => std::io::stdout().write_all(signed.bytes())?,
            }
            Ok(Outcome::Success)
        }
        EventCommand::Verify { pubkey, file } => {
            let key = parse_pubkey(&pubkey)?;
            match envelope::verify(&read_input(file.as_deref(), Input::Envelope)?, &key) {
                Ok(v) => {
                    let e = v.event();
                    if json {
                        print_json(&serde_json::json!({
                            "valid": true, "kind": e.kind().name(),
                            "id": e.id.to_string(), "digest": v.digest().to_hex(),
                        }))?;
                    } else {
                        println!("valid {} {} {}", e.kind(), e.id, v.digest());
                    }
                    Ok(Outcome::Success)
                }
                Err(
                    e @ (EnvelopeError::BadSignature
                    | EnvelopeError::KeyIdMismatch
                    | EnvelopeError::IssuerMismatch { .. }
                    | EnvelopeError::SubjectMismatch),
                ) => Ok(Outcome::Failed(e.to_string())),
                Err(e) => Err(anyhow::Error::new(e).context("malformed event")),
            }
        }
        EventCommand::Show { file } => show(&read_input(file.as_deref(), Input::Envelope)?),
        EventCommand::Digest { file } => {
            let bytes = read_input(file.as_deref(), Input::Envelope)?;
            envelope::parse(&bytes, warrant_ledger::cbor::Limits::default())
                .context("not a COSE_Sign1 event")?;
            one_value(json, "digest", &Digest::of_envelope(&bytes).to_hex())
        }
        EventCommand::ActionDigest { action, resources } => {
            one_value(json, "digest", &action_digest(&action, &resources).to_hex())
        }
        EventCommand::NewId => one_value(json, "id", &EventId::new_v7().to_string()),
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    content_type: &'static str,
    kid: String,
    iss: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<&'a str>,
}

#[derive(Serialize)]
struct Shown<'a> {
    header: Header<'a>,
    digest: Digest,
    event: Event,
    signature_checked: bool,
}

fn show(bytes: &[u8]) -> Result<Outcome> {
    let limits = warrant_ledger::cbor::Limits::default();
    let parsed = envelope::parse(bytes, limits).context("malformed envelope")?;
    let h = parsed.header().clone();
    let event = parsed
        .payload_unverified(limits)
        .context("malformed payload")?;
    crate::cli_io::print_json(&Shown {
        header: Header {
            alg: "EdDSA",
            content_type: CONTENT_TYPE,
            kid: hex_encode(&h.kid),
            iss: &h.issuer,
            sub: h.subject.as_deref(),
        },
        digest: Digest::of_envelope(bytes),
        event,
        signature_checked: false,
    })?;
    Ok(Outcome::Success)
}
