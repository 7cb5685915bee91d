//! `warrant`: the command-line face of warrant-ledger.
//!
//! Exit codes: 0 success or verified, 1 verification failed, 2 usage or input error.

mod bench_cmd;
mod bench_gate;
mod bench_pg;
mod bench_remote;
mod bench_witness;
mod chain_state;
mod cli_io;
mod demo_cmd;
mod demo_gate;
mod demo_serve;
mod demo_witness;
mod event_cmd;
mod gate_cmd;
mod ledger_cmd;
mod merkle_cmd;
mod migrate_cmd;
mod note_cmd;
mod receipt_cmd;
mod serve_cmd;
mod serve_pg;
mod verify_cmd;
mod witness_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli_io::Outcome;

/// jemalloc instead of the system allocator: under glibc's per-thread arenas the memory the
/// ingest threads freed stayed resident and the resident set crept up with the log (34 → 82
/// MB over 10^6 entries; flat at 46–62 MB with jemalloc). See `docs/dependencies.md`.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Signed evidence of what AI agents did, in a verifiable append-only log.
#[derive(Parser)]
#[command(
    name = "warrant",
    version,
    about,
    after_help = "Exit codes, for every command: 0 success (or verified), 1 verification failed \
                  or problem found, 2 usage or input error."
)]
struct Cli {
    /// Print data as JSON (every command that prints data takes it; those whose output is
    /// JSON already print the same). Hashes are lowercase hex everywhere, base64 only where
    /// a format demands it (signed notes, key strings, envelope entries).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Low-level Merkle tree tools over base64 entries on standard input.
    #[command(subcommand)]
    Merkle(merkle_cmd::MerkleCommand),
    /// C2SP signed-note keys, signing and verification.
    #[command(subcommand)]
    Note(note_cmd::NoteCommand),
    /// A transparency-log witness (C2SP tlog-witness): cosigns checkpoints that extend the
    /// last one it cosigned.
    #[command(subcommand)]
    Witness(witness_cmd::WitnessCommand),
    /// Generates an emitter's Ed25519 key into a file; prints the public key and key id as
    /// JSON, or with --emitter the `[[emitters]]` block a trust.toml takes.
    Keygen {
        /// Secret key file to create (mode 0600; never overwritten).
        #[arg(long)]
        out: std::path::PathBuf,
        /// The workload the key is for: print its trust-policy block.
        #[arg(long)]
        emitter: Option<String>,
        /// With --emitter: the event kinds it may sign, comma-separated.
        #[arg(long, value_delimiter = ',', requires = "emitter")]
        kinds: Vec<String>,
        /// With --emitter: `self_reported` for an agent (default: enforced).
        #[arg(long, default_value = "enforced", requires = "emitter")]
        assurance: String,
    },
    /// Governance events: sign, verify, show.
    #[command(subcommand)]
    Event(event_cmd::EventCommand),
    /// Creates a ledger in DIR with a new log key; prints its verifier key.
    Init {
        /// Ledger directory.
        dir: std::path::PathBuf,
        /// Log origin (checkpoint origin line and key name), e.g. example.com/agents.
        #[arg(long)]
        origin: String,
        /// Hash profile.
        #[arg(long = "hash", default_value = "blake3")]
        profile: warrant_ledger::merkle::HashProfile,
    },
    /// Appends COSE_Sign1 event files (or a CBOR sequence of them on standard input).
    Append {
        /// Ledger directory.
        dir: std::path::PathBuf,
        /// Envelope files; none: read standard input.
        files: Vec<std::path::PathBuf>,
    },
    /// Rotates the log's checkpoint key: signs the latest checkpoint with the new key too
    /// (the bridge), lists the new key in log.pub, moves the old key to log.key.retired and
    /// the new one to log.key. Prints the bridge's size: pin the old key until it and the
    /// new key from it (docs/trust-policy.md).
    RotateKey {
        /// Ledger directory.
        dir: std::path::PathBuf,
        /// The new signing key (from `warrant note keygen --name <origin>`).
        #[arg(long)]
        new_key: std::path::PathBuf,
    },
    /// Copies a ledger to another store and checks the copy (same size, every checkpoint
    /// byte for byte, the same root at each checkpoint's size): a directory into
    /// PostgreSQL, or back. FROM and TO are each a ledger directory or a postgres:// URL;
    /// TO must hold no ledger. Nothing may write FROM meanwhile (it is opened exclusively).
    Migrate {
        /// The ledger to copy.
        from: String,
        /// Where to copy it.
        to: String,
    },
    /// Signs a checkpoint if the log grew; prints the latest signed checkpoint. With
    /// witnesses, sends it to each (C2SP tlog-witness) and stores and prints the note with
    /// their cosignatures; fails if any witness did not cosign.
    Checkpoint {
        /// Ledger directory.
        dir: std::path::PathBuf,
        /// Print the latest stored checkpoint without signing (no key needed).
        #[arg(long, conflicts_with_all = ["witness", "witness_policy"])]
        latest: bool,
        /// A witness's URL (its add-checkpoint prefix); may be repeated.
        #[arg(long)]
        witness: Vec<String>,
        /// A C2SP tlog-policy file: every witness line with a URL is asked, and only
        /// cosignatures by that line's key are accepted from it.
        #[arg(long)]
        witness_policy: Option<std::path::PathBuf>,
    },
    /// Prints entries [FROM, TO) as base64, one per line.
    Entries {
        /// Ledger directory.
        dir: std::path::PathBuf,
        /// First index.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// End index, exclusive (default: the size).
        #[arg(long)]
        to: Option<u64>,
    },
    /// Inclusion and consistency proofs.
    #[command(subcommand)]
    Prove(ledger_cmd::ProveCommand),
    /// Re-verifies every record, hash, index and checkpoint: exit 0 clean, 1 problem found.
    Fsck {
        /// Ledger directory.
        dir: std::path::PathBuf,
        /// Trust policy to check signatures against (default: DIR/trust.toml).
        #[arg(long)]
        trust: Option<std::path::PathBuf>,
    },
    /// Prints size, origin, hash profile and verifier key as JSON.
    Info {
        /// Ledger directory.
        dir: std::path::PathBuf,
    },
    /// Lists the ledger's tasks: id, number of entries, first and last index.
    Tasks {
        /// Ledger directory.
        dir: std::path::PathBuf,
    },
    /// Serves the ledger over HTTP (docs/server.md): services POST signed envelopes to /add,
    /// anyone reads the checkpoint, the C2SP tlog-tiles API, entries, proofs and bundles.
    /// Prints the address it listens on; stops gracefully on SIGINT or SIGTERM.
    Serve {
        /// Ledger directory (opened as its writer: it needs log.key and trust.toml).
        dir: std::path::PathBuf,
        #[command(flatten)]
        options: serve_cmd::ServeOptions,
    },
    /// Sends COSE_Sign1 event files (or a CBOR sequence on standard input) to a ledger
    /// server; prints each one's index once it is durable. Safe to run again: the server
    /// answers envelopes it holds with their indices.
    Submit {
        /// The server, e.g. http://127.0.0.1:8470.
        url: String,
        /// Envelope files; none: read standard input.
        files: Vec<std::path::PathBuf>,
    },
    /// Asks the runtime gate whether an action may run now: the request (JSON,
    /// docs/gate.md) judged by the auditor's governance rules on the events logged so far.
    /// Exit 0 allowed, 1 denied (each rule broken is named), 2 input error. Writes nothing.
    Admit {
        /// Ledger directory (opened read-only, beside its writer).
        dir: std::path::PathBuf,
        /// The request; standard input when absent.
        #[arg(long)]
        request: Option<std::path::PathBuf>,
        /// The trust policy to judge under (default: the ledger's trust.toml).
        #[arg(long)]
        trust: Option<std::path::PathBuf>,
        /// Sets the request's task (a request template's, for example).
        #[arg(long)]
        task: Option<String>,
        /// Sets the request's time: `now`, or ms since the epoch.
        #[arg(long)]
        at: Option<String>,
    },
    /// Lists the credentials to revoke now, and why (their task closed, a trust signal, the
    /// holder's delegation ended, expired and never revoked).
    Revocations {
        /// Ledger directory (opened read-only, beside its writer).
        dir: std::path::PathBuf,
        /// The trust policy to judge under (default: the ledger's trust.toml).
        #[arg(long)]
        trust: Option<std::path::PathBuf>,
        /// The time to judge at (`now`, the default, or ms since the epoch).
        #[arg(long)]
        at: Option<String>,
        /// Keep watching the log and print each credential as it falls due (one JSON object
        /// per line with --json), until interrupted.
        #[arg(long)]
        follow: bool,
        /// With --follow: stop after this many seconds.
        #[arg(long = "for", requires = "follow", value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
        follow_for: Option<u64>,
    },
    /// Exports the evidence bundle of a task (CBOR).
    Export {
        /// Ledger directory.
        dir: std::path::PathBuf,
        /// Task id (UUID).
        #[arg(long)]
        task: warrant_ledger::event::TaskId,
        /// An older checkpoint note of this log the auditor holds: adds a consistency proof.
        #[arg(long)]
        since_checkpoint: Option<std::path::PathBuf>,
        /// Output file (a directory for `tlog-proof` and `cose-receipt`: one proof and the
        /// entry's bytes per entry of the task).
        #[arg(short = 'o', long = "out")]
        out: std::path::PathBuf,
        /// What to write: the evidence bundle, or each entry's proof in a standard format
        /// (SHA-256 logs only).
        #[arg(long, value_enum, default_value = "bundle")]
        format: receipt_cmd::Format,
    },
    /// Runs governed agent tasks end to end, compliant and not, and audits them offline.
    Demo {
        /// Directory for the ledger, keys, trust policy and bundles (default: a new
        /// temporary directory).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Hash profile.
        #[arg(long = "hash", default_value = "blake3")]
        profile: warrant_ledger::merkle::HashProfile,
        /// Number of tasks (default: one per scenario), 1 to 10^7.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        tasks: Option<u64>,
        /// Tell each task's chain as a story (runs of 40 tasks or fewer) and print the
        /// signed checkpoint.
        #[arg(long)]
        verbose: bool,
        /// Run without the runtime gate and the token service following the revocation
        /// feed: every action runs, and each violation is left for the auditor to find.
        #[arg(long)]
        no_gate: bool,
        /// Run the ledger behind a ledger server on loopback: each component of the
        /// deployment submits its own events over HTTP, the auditor fetches bundles from it.
        #[arg(long)]
        serve: bool,
    },
    /// Audits an evidence bundle offline: exit 0 pass, 1 fail, 2 unusable input.
    Verify {
        /// The bundle (from `warrant export`), or a tlog-proof or COSE Receipt (from
        /// `warrant export --format …`, then with --entry).
        bundle: std::path::PathBuf,
        /// For a tlog-proof or COSE Receipt: the entry's bytes.
        #[arg(long)]
        entry: Option<std::path::PathBuf>,
        /// The auditor's trust policy (TOML, or JSON by extension).
        #[arg(long)]
        trust: std::path::PathBuf,
        /// Checkpoint notes of this log the auditor already holds; may be repeated.
        #[arg(long = "trusted-checkpoint")]
        trusted_checkpoint: Vec<std::path::PathBuf>,
    },
    /// Measures durable ingest against the raw Ed25519 batch-verification limit, proof
    /// latency, storage overhead and peak memory, in one run.
    Bench {
        /// Number of events, 1 000 to 10^9.
        #[arg(long, default_value_t = 100_000,
              value_parser = clap::value_parser!(u64).range(1_000..=1_000_000_000))]
        events: u64,
        /// Hash profile.
        #[arg(long = "hash", default_value = "blake3")]
        profile: warrant_ledger::merkle::HashProfile,
        /// Where to put the work directory (default: the system's temporary directory). The
        /// bench works in a new `warrant-bench-<pid>` directory inside it and removes only
        /// that afterwards.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Log governed tasks (a tenth of the entries' worth left open) instead of bare actions, so that the
        /// runtime gate's state is kept during the ingest; then measure the gate: admission
        /// latency, state per open task, reopen time.
        #[arg(long)]
        gate: bool,
        /// Also ingest the same events through the ledger server on loopback (one client
        /// per appender, in this process), against the embedded ingest of the same run.
        #[arg(long)]
        remote: bool,
        /// Also measure witnessing: add-checkpoint throughput of a witness on loopback
        /// against the same witness in process, and the cost of judging a 2-of-2 quorum.
        #[arg(long)]
        witness: bool,
        /// Also ingest the same events into a ledger in this PostgreSQL database (a
        /// postgres:// URL; the bench works in schemas of its own there and drops them),
        /// alternated with the file store; then proof latency and bytes per entry there.
        #[arg(long, value_name = "URL")]
        store: Option<String>,
    },
}

/// A reader that stops reading (`warrant … | head`) is not a crash: the output could not be
/// written, an I/O error (exit 2), said in one line. Rust's `println!` panics on a closed
/// pipe, and resetting SIGPIPE would take `unsafe`; the hook turns that one panic into an
/// exit and leaves every other panic as it is.
fn exit_quietly_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") {
            eprintln!("error: standard output closed");
            std::process::exit(2);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    exit_quietly_on_closed_stdout();
    let cli = Cli::parse();
    let json = cli.json;
    let outcome = match cli.command {
        Command::Merkle(c) => merkle_cmd::run(c),
        Command::Note(c) => note_cmd::run(c, json),
        Command::Witness(c) => witness_cmd::run(c),
        Command::Keygen {
            out,
            emitter,
            kinds,
            assurance,
        } => event_cmd::keygen(&out, emitter.as_deref(), &kinds, &assurance),
        Command::Event(c) => event_cmd::run(c, json),
        Command::Init {
            dir,
            origin,
            profile,
        } => ledger_cmd::init(&dir, &origin, profile),
        Command::Append { dir, files } => ledger_cmd::append(&dir, &files, json),
        Command::RotateKey { dir, new_key } => ledger_cmd::rotate_key(&dir, &new_key, json),
        Command::Migrate { from, to } => migrate_cmd::run(&from, &to, json),
        Command::Checkpoint {
            dir,
            latest: _,
            witness,
            witness_policy,
        } if !witness.is_empty() || witness_policy.is_some() => {
            witness_cmd::checkpoint(&dir, &witness, witness_policy.as_deref(), json)
        }
        Command::Checkpoint { dir, latest, .. } => ledger_cmd::checkpoint(&dir, latest, json),
        Command::Entries { dir, from, to } => ledger_cmd::entries(&dir, from, to, json),
        Command::Prove(c) => ledger_cmd::prove(c),
        Command::Fsck { dir, trust } => ledger_cmd::fsck(&dir, trust.as_deref(), json),
        Command::Info { dir } => ledger_cmd::info(&dir),
        Command::Tasks { dir } => ledger_cmd::tasks(&dir, json),
        Command::Serve { dir, options } => serve_cmd::run(&dir, &options),
        Command::Submit { url, files } => serve_cmd::submit(&url, &files, json),
        Command::Admit {
            dir,
            request,
            trust,
            task,
            at,
        } => gate_cmd::admit(
            &dir,
            request.as_deref(),
            trust.as_deref(),
            (task.as_deref(), at.as_deref()),
            json,
        ),
        Command::Revocations {
            dir,
            trust,
            at,
            follow,
            follow_for,
        } => gate_cmd::revocations(
            &dir,
            trust.as_deref(),
            at.as_deref(),
            follow,
            follow_for,
            json,
        ),
        Command::Export {
            dir,
            task,
            since_checkpoint,
            out,
            format,
        } => match format {
            receipt_cmd::Format::Bundle => {
                ledger_cmd::export(&dir, &task, since_checkpoint.as_deref(), &out)
            }
            other => receipt_cmd::export(&dir, &task, other, &out),
        },
        Command::Demo {
            dir,
            profile,
            tasks,
            verbose,
            no_gate,
            serve,
        } => demo_cmd::run(
            dir,
            profile,
            &demo_cmd::Options {
                tasks,
                verbose,
                no_gate,
                serve,
            },
        ),
        Command::Verify {
            bundle,
            entry,
            trust,
            trusted_checkpoint,
        } => verify_cmd::run(&bundle, entry.as_deref(), &trust, &trusted_checkpoint, json),
        Command::Bench {
            events,
            profile,
            dir,
            gate,
            remote,
            witness,
            store,
        } => bench_cmd::run(
            events,
            json,
            profile,
            dir,
            &bench_cmd::Extras {
                gate,
                remote,
                witness,
                store,
            },
        ),
    };
    match outcome {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed(reason)) => {
            eprintln!("verification failed: {}", excerpt(&reason));
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, skipping a cause its parent already spells out
/// (library errors include their source's text in their own message).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.last().is_some_and(|prev| prev.contains(&text)) {
            out.push(text);
        }
    }
    excerpt(&out.join(": "))
}

/// Longest error line printed: an error quoting its input (a parser's excerpt of a line
/// hundreds of megabytes long) is cut, not echoed.
const MAX_ERROR_LEN: usize = 1000;

fn excerpt(text: &str) -> String {
    if text.len() <= MAX_ERROR_LEN {
        return text.to_owned();
    }
    let mut end = MAX_ERROR_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} … ({} bytes in all)", &text[..end], text.len())
}
