//! `warrant init|append|checkpoint|entries|prove|fsck|info`: the embedded ledger.
//!
//! A ledger directory holds the store, `log.key` (the log's note signer key, mode 0600) and
//! `trust.toml` (the emitters the ledger accepts events from).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use warrant_ledger::cbor::Limits;
use warrant_ledger::checkpoint::{NoteSigner, open_checkpoint};
use warrant_ledger::envelope::{self, SequenceReader};
use warrant_ledger::event::Timestamp;
use warrant_ledger::ledger::{AppendError, Ledger, LedgerError};
use warrant_ledger::merkle::{HashProfile, NodeId};
use warrant_ledger::store::{Storage as _, StoreError};
use warrant_ledger::trust::TrustPolicy;

use crate::cli_io::{Input, Outcome, b64_encode, print_json, read_file, write_secret};
use crate::merkle_cmd::{ConsistencyJson, InclusionJson, hex_path};

#[derive(Subcommand)]
pub(crate) enum ProveCommand {
    /// Inclusion proof of one entry (JSON as `warrant merkle prove`).
    Inclusion {
        /// Ledger directory.
        dir: PathBuf,
        /// Entry index.
        #[arg(long)]
        index: u64,
        /// Tree size (default: the current size).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Consistency proof between two sizes (JSON as `warrant merkle prove-consistency`).
    Consistency {
        /// Ledger directory.
        dir: PathBuf,
        /// Old size.
        #[arg(long)]
        old: u64,
        /// New size (default: the current size).
        #[arg(long)]
        new: Option<u64>,
    },
}

pub(crate) fn init(dir: &Path, origin: &str, profile: HashProfile) -> Result<Outcome> {
    if dir.join("log.key").exists() {
        bail!("{} already holds a ledger", dir.display());
    }
    std::fs::create_dir_all(dir)?;
    let signer = NoteSigner::generate(origin).context("origin is not a valid key name")?;
    let verifier = signer.verifier().to_string();
    let trust = format!(
        "# Emitters this ledger accepts events from; add one [[emitters]] block per workload.\n\
         version = 1\n\n[[logs]]\norigin = {origin:?}\nhash = \"{}\"\nverifier_key = \"{verifier}\"\n\n\
         # An auditor also says who counts as a person (intents, approvals, overrides), for\n\
         # example:\n\
         # [governance.humans]\n\
         # issuers = [\"https://idp.example.com\"]\n\
         # ids = [\"*@example.com\"]\n\
         # (docs/trust-policy.md: trust domains, partners, risk-tier profiles)\n",
        profile.name()
    );
    TrustPolicy::from_toml(&trust).context("generated trust policy")?;
    Ledger::create(dir, origin, profile, signer.clone(), TrustPolicy::default())?;
    write_secret(
        &dir.join("log.key"),
        format!("{}\n", *signer.to_key_string()).as_bytes(),
    )?;
    std::fs::write(dir.join("trust.toml"), trust)?;
    println!("{verifier}");
    Ok(Outcome::Success)
}

/// Opens the ledger in `dir` to append and sign, with its key and trust policy.
pub(crate) fn open(dir: &Path) -> Result<Ledger> {
    open_with_key(dir, &dir.join("log.key"))
}

/// As [`open`], with the log key read from `key_file` (the demo keeps it in `keys/`).
pub(crate) fn open_with_key(dir: &Path, key_file: &Path) -> Result<Ledger> {
    if !dir.join("origin").is_file() {
        return Err(LedgerError::NotALedger(dir.to_path_buf()).into());
    }
    let key = read_log_key(key_file)?;
    let trust = load_trust(&dir.join("trust.toml"))?;
    Ok(Ledger::open(dir, key, trust)?)
}

/// The log's signing key from `key_file`.
pub(crate) fn read_log_key(key_file: &Path) -> Result<NoteSigner> {
    let key =
        String::from_utf8(read_file(key_file, Input::Key)?).context("log.key is not UTF-8")?;
    NoteSigner::parse(key.trim()).context("log.key")
}

/// Opens the ledger in `dir` to read only: no key, no lock, beside a running writer.
pub(crate) fn open_reader(dir: &Path) -> Result<Ledger> {
    Ok(Ledger::open_read_only(dir)?)
}

/// Reads a trust policy: TOML, or JSON when the file name ends in `.json`.
pub(crate) fn load_trust(path: &Path) -> Result<TrustPolicy> {
    let text = String::from_utf8(read_file(path, Input::Trust)?)
        .with_context(|| format!("{} is not UTF-8", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        let doc: warrant_ledger::trust::TrustDocument =
            serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
        return TrustPolicy::try_from(doc).with_context(|| format!("{}", path.display()));
    }
    TrustPolicy::from_toml(&text).with_context(|| format!("{}", path.display()))
}

pub(crate) fn progress(len: u64, what: &str) -> ProgressBar {
    // Hidden automatically when standard error is not a terminal.
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{elapsed_precise}} {{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}})"
    )) {
        bar.set_style(style);
    }
    bar
}

#[derive(Serialize)]
struct AppendSummary {
    /// New entries.
    appended: usize,
    /// Byte-identical resubmissions of entries already in the log (not added again).
    already_present: usize,
    rejected: usize,
    size: u64,
}

/// Rejections named one by one on standard error; past them, only counted.
const REJECTIONS_SHOWN: usize = 20;

/// Entries appended at a time (one group commit each).
const APPEND_CHUNK: usize = 1024;

/// What an append run did so far.
#[derive(Default)]
struct Tally {
    seen: usize,
    present: usize,
    rejected: usize,
}

impl Tally {
    /// Appends one chunk of named items; names the first rejections.
    fn append(&mut self, ledger: &Ledger, chunk: &[(String, Vec<u8>)]) -> Result<()> {
        self.seen += chunk.len();
        let items: Vec<&[u8]> = chunk.iter().map(|(_, b)| b.as_slice()).collect();
        // This process holds the ledger's lock, so an index below the size before an append
        // is an entry that was already there.
        let before = ledger.size();
        if let Ok(indices) = ledger.append_batch(&items) {
            self.present += indices.iter().filter(|&&i| i < before).count();
            return Ok(());
        }
        // The batch is all or nothing: retry one by one to accept the good entries and name
        // the bad ones.
        for (name, item) in chunk {
            let before = ledger.size();
            match ledger.append(item) {
                Ok(i) => self.present += usize::from(i < before),
                Err(AppendError::Store(e)) => bail!("{name}: {e}"),
                Err(e) => {
                    if self.rejected < REJECTIONS_SHOWN {
                        eprintln!("{name}: rejected: {e}");
                    }
                    self.rejected += 1;
                }
            }
        }
        Ok(())
    }
}

/// The envelopes to append, named: the files given (each one envelope), or the CBOR
/// sequence on standard input, read one envelope at a time. Input that is not an envelope
/// stops the command (exit 2) before anything of it is appended.
pub(crate) fn envelopes(
    files: &[PathBuf],
) -> Box<dyn Iterator<Item = Result<(String, Vec<u8>)>> + '_> {
    if files.is_empty() {
        let stdin = std::io::stdin().lock();
        let items = SequenceReader::new(stdin, Limits::default(), u64::MAX);
        return Box::new(
            items
                .enumerate()
                .map(|(k, item)| Ok((format!("standard input item {k}"), item?))),
        );
    }
    Box::new(files.iter().map(|f| {
        let bytes = read_file(f, Input::Envelope)?;
        envelope::parse(&bytes, Limits::default())
            .with_context(|| format!("{} is not an event envelope", f.display()))?;
        Ok((f.display().to_string(), bytes))
    }))
}

pub(crate) fn append(dir: &Path, files: &[PathBuf], json: bool) -> Result<Outcome> {
    let ledger = open(dir)?;
    let bar = progress(files.len() as u64, "entries");
    let mut tally = Tally::default();
    let mut chunk = Vec::with_capacity(APPEND_CHUNK);
    for item in envelopes(files) {
        chunk.push(item?);
        if chunk.len() == APPEND_CHUNK {
            tally.append(&ledger, &chunk)?;
            bar.inc(chunk.len() as u64);
            chunk.clear();
        }
    }
    tally.append(&ledger, &chunk)?;
    bar.finish_and_clear();
    if tally.rejected > REJECTIONS_SHOWN {
        eprintln!("… and {} more rejected", tally.rejected - REJECTIONS_SHOWN);
    }
    // Readers prove against signed checkpoints: sign one for what was appended.
    ledger.checkpoint()?;
    let summary = AppendSummary {
        appended: tally.seen - tally.rejected - tally.present,
        already_present: tally.present,
        rejected: tally.rejected,
        size: ledger.size(),
    };
    if json {
        print_json(&summary)?;
    } else {
        println!(
            "appended {}, already present {}, rejected {}; the log has {} entries",
            summary.appended, summary.already_present, summary.rejected, summary.size
        );
    }
    Ok(if tally.rejected == 0 {
        Outcome::Success
    } else {
        Outcome::Failed(format!("{} entries rejected", tally.rejected))
    })
}

#[derive(Serialize)]
struct CheckpointOut {
    origin: String,
    size: u64,
    /// Lowercase hex (the note itself has it in base64, as its format demands).
    root: String,
    /// When the log signed it (RFC 3339), if the note says.
    signed_at: Option<String>,
    note: String,
}

pub(crate) fn checkpoint(dir: &Path, latest: bool, json: bool) -> Result<Outcome> {
    let ledger = if latest {
        open_reader(dir)?
    } else {
        open(dir)?
    };
    let note = if latest {
        ledger
            .latest_checkpoint()?
            .ok_or(LedgerError::NoCheckpoint)?
    } else {
        ledger.checkpoint()?
    };
    if !json {
        print!("{}", String::from_utf8_lossy(&note));
        return Ok(Outcome::Success);
    }
    let cp = open_checkpoint(&note, ledger.origin(), &[ledger.verifier()])?;
    let head = cp.tree_head();
    print_json(&CheckpointOut {
        origin: ledger.origin().to_owned(),
        size: head.size,
        root: head.root.to_hex(),
        signed_at: cp
            .log_time()
            .map(|s| Timestamp::from_millis(s.saturating_mul(1000)).to_string()),
        note: String::from_utf8_lossy(&note).into_owned(),
    })?;
    Ok(Outcome::Success)
}

#[derive(Serialize)]
struct EntryOut {
    index: u64,
    /// The envelope, standard base64.
    entry: String,
}

/// Entries `[from, to)`: one base64 envelope a line, or with `json` one JSON object a line.
pub(crate) fn entries(dir: &Path, from: u64, to: Option<u64>, json: bool) -> Result<Outcome> {
    use std::io::Write as _;
    let ledger = open_reader(dir)?;
    let to = to.unwrap_or(ledger.size()).min(ledger.size());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for index in from..to {
        let entry = b64_encode(&ledger.entry(index)?);
        if json {
            serde_json::to_writer(&mut out, &EntryOut { index, entry })?;
            writeln!(out)?;
        } else {
            writeln!(out, "{entry}")?;
        }
    }
    Ok(Outcome::Success)
}

#[derive(Serialize)]
struct TaskOut {
    task: String,
    entries: u64,
    first: u64,
    last: u64,
}

/// Every task of the ledger, in order of first appearance.
pub(crate) fn tasks(dir: &Path, json: bool) -> Result<Outcome> {
    let ledger = open_reader(dir)?;
    let bar = progress(ledger.size(), "entries read");
    let tasks = ledger.tasks(&|done| bar.set_position(done))?;
    bar.finish_and_clear();
    let rows: Vec<TaskOut> = tasks
        .into_iter()
        .map(|t| TaskOut {
            task: t.task.to_string(),
            entries: t.entries,
            first: t.first,
            last: t.last,
        })
        .collect();
    if json {
        print_json(&rows)?;
    } else {
        println!(
            "{:<36} {:>8} {:>10} {:>10}",
            "task", "entries", "first", "last"
        );
        for r in rows {
            println!(
                "{:<36} {:>8} {:>10} {:>10}",
                r.task, r.entries, r.first, r.last
            );
        }
    }
    Ok(Outcome::Success)
}

pub(crate) fn prove(cmd: ProveCommand) -> Result<Outcome> {
    match cmd {
        ProveCommand::Inclusion { dir, index, size } => {
            let ledger = open_reader(&dir)?;
            let size = size.unwrap_or(ledger.size());
            let p = ledger.prove_inclusion(index, size)?;
            let leaf = ledger.store().node(NodeId::leaf(index))?;
            print_json(&InclusionJson {
                hash: ledger.profile().name().into(),
                leaf_index: index,
                tree_size: size,
                leaf_hash: leaf.to_hex(),
                path: hex_path(&p.path),
            })?;
        }
        ProveCommand::Consistency { dir, old, new } => {
            let ledger = open_reader(&dir)?;
            let new = new.unwrap_or(ledger.size());
            let p = ledger.prove_consistency(old, new)?;
            print_json(&ConsistencyJson {
                hash: ledger.profile().name().into(),
                old_size: old,
                new_size: new,
                path: hex_path(&p.path),
            })?;
        }
    }
    Ok(Outcome::Success)
}

#[derive(Serialize)]
struct FsckOut {
    entries: u64,
    /// The first problem: file, byte offset (or entry index), what.
    problem: Option<(String, u64, String)>,
}

pub(crate) fn fsck(dir: &Path, trust: Option<&Path>, json: bool) -> Result<Outcome> {
    let trust = load_trust(&trust.map_or_else(|| dir.join("trust.toml"), Path::to_path_buf))?;
    let ledger = match Ledger::open_exclusive(dir, trust) {
        Ok(l) => l,
        // A store too damaged to open is a problem found, not a usage error.
        Err(LedgerError::Store(StoreError::Corrupt(what))) => {
            return Ok(Outcome::Failed(format!("the store does not open: {what}")));
        }
        Err(e) => return Err(e.into()),
    };
    let bar = progress(
        ledger.size() * 2,
        "entries checked (records, then signatures)",
    );
    let report = ledger.fsck_with_progress(&|done| bar.set_position(done))?;
    bar.finish_and_clear();
    if json {
        print_json(&FsckOut {
            entries: report.entries,
            problem: report.problem.clone(),
        })?;
    }
    Ok(match report.problem {
        None => {
            if !json {
                println!(
                    "ok: {} entries, every record, hash, index and checkpoint verified",
                    report.entries
                );
            }
            Outcome::Success
        }
        Some((file, offset, what)) => Outcome::Failed(format!("{file} at byte {offset}: {what}")),
    })
}

/// The size of the latest checkpoint within what the reader serves: what its proofs and
/// bundles cover.
fn covered_size(ledger: &Ledger) -> Option<u64> {
    ledger.latest_checkpoint_size().ok()?
}

#[derive(Serialize)]
struct InfoOut {
    origin: String,
    hash: &'static str,
    size: u64,
    verifier_key: String,
    checkpoints: usize,
}

pub(crate) fn info(dir: &Path) -> Result<Outcome> {
    let ledger = open_reader(dir)?;
    print_json(&InfoOut {
        origin: ledger.origin().to_owned(),
        hash: ledger.profile().name(),
        size: ledger.size(),
        verifier_key: ledger.verifier().to_string(),
        checkpoints: ledger.store().checkpoint_sizes()?.len(),
    })?;
    Ok(Outcome::Success)
}

pub(crate) fn export(
    dir: &Path,
    task: &warrant_ledger::event::TaskId,
    since: Option<&Path>,
    out: &Path,
) -> Result<Outcome> {
    let ledger = open_reader(dir)?;
    let since = since.map(|p| read_file(p, Input::Note)).transpose()?;
    let bar = progress(0, "entries proven");
    let bundle = ledger.export_bundle_with_progress(task, since.as_deref(), &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let later = ledger
        .task_entries(task)?
        .into_iter()
        .filter(|&i| i >= covered_size(&ledger).unwrap_or(0))
        .count();
    if later > 0 {
        eprintln!(
            "warning: {later} entries of the task were logged after the latest checkpoint and are not in the bundle; sign a checkpoint (warrant checkpoint) to include them"
        );
    }
    std::fs::write(out, &bundle).with_context(|| format!("writing {}", out.display()))?;
    Ok(Outcome::Success)
}

/// `warrant rotate-key DIR --new-key FILE`.
pub(crate) fn rotate_key(dir: &Path, new_key: &Path, json: bool) -> Result<Outcome> {
    let text =
        String::from_utf8(read_file(new_key, Input::Key)?).context("the key is not UTF-8")?;
    let new = NoteSigner::parse(text.trim()).context("new key")?;
    let (ledger, bridge) = open(dir)?.rotate_log_key(new.clone())?;
    drop(ledger);
    // The old key leaves log.key (kept beside it: destroying it is the operator's call),
    // and the new one takes its place: `open` takes only the current key from now on.
    std::fs::rename(dir.join("log.key"), dir.join("log.key.retired"))?;
    write_secret(
        &dir.join("log.key"),
        format!("{}\n", *new.to_key_string()).as_bytes(),
    )?;
    if json {
        print_json(&serde_json::json!({
            "bridge_size": bridge,
            "verifier_key": new.verifier().to_string(),
        }))?;
    } else {
        println!("{bridge}");
        eprintln!(
            "rotated to {}; pin the old key with until_size = {bridge} and the new one with from_size = {bridge}; the old key is in log.key.retired",
            new.verifier()
        );
    }
    Ok(Outcome::Success)
}
