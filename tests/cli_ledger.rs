//! The real `warrant` binary on a ledger: init, append, checkpoint, entries, prove, fsck,
//! info, export and verify, with their exit codes.
#![cfg(feature = "cli")]

#[path = "common/cli.rs"]
mod cli;

use warrant_ledger::demo::Scenario;

use cli::warrant;

fn json(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn ledger_commands_end_to_end() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ledger");
    let d = dir.to_str().expect("utf8");
    let init = warrant(
        &[
            "init",
            d,
            "--origin",
            "example.com/agents",
            "--hash",
            "sha256",
        ],
        b"",
    );
    assert_eq!(init.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&init.stdout).starts_with("example.com/agents+"));
    assert_eq!(
        warrant(&["init", d, "--origin", "x"], b"").status.code(),
        Some(2),
        "no second init"
    );

    let key = tmp.path().join("front.key");
    let k = key.to_str().expect("utf8");
    let pk = json(&warrant(&["keygen", "--out", k], b""))["public_key"]
        .as_str()
        .expect("pk")
        .to_owned();
    let mut trust = std::fs::read_to_string(dir.join("trust.toml")).expect("trust");
    trust.push_str(&format!("\n[[emitters]]\nworkload = \"spiffe://bank.example/front-door\"\nassurance = \"enforced\"\nkinds = [\"TaskOpened\", \"DelegationGranted\"]\nkeys = [{{ public_key = \"{pk}\" }}]\n"));
    trust.push_str("\n[governance.humans]\nissuers = [\"https://idp.bank.example\"]\nids = [\"*@bank.example\"]\n");
    std::fs::write(dir.join("trust.toml"), trust).expect("write trust");

    // A one-event chain: the example intent as the front door's first event of the task.
    let example = std::fs::read_to_string(format!(
        "{}/examples/events/TaskOpened.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("example");
    let mut v: serde_json::Value = serde_json::from_str(&example).expect("json");
    v["eseq"] = 0.into();
    v.as_object_mut().expect("object").remove("prev");
    let cose = warrant(
        &["event", "sign", "--key", k, "--at", "now"],
        v.to_string().as_bytes(),
    )
    .stdout;
    let file = tmp.path().join("opened.cose");
    std::fs::write(&file, &cose).expect("write");
    let f = file.to_str().expect("utf8");
    let first = json(&warrant(&["--json", "append", d, f], b""));
    assert_eq!(
        (
            &first["size"],
            &first["appended"],
            &first["already_present"]
        ),
        (&1.into(), &1.into(), &0.into())
    );
    let again = json(&warrant(&["--json", "append", d], &cose));
    assert_eq!(
        (
            &again["size"],
            &again["appended"],
            &again["already_present"]
        ),
        (&1.into(), &0.into(), &1.into()),
        "identical resubmission keeps one copy and is reported as such"
    );
    let bad = warrant(&["append", d], b"\xd2\x84junk");
    assert_eq!(
        bad.status.code(),
        Some(2),
        "not a CBOR sequence of envelopes"
    );

    let note = warrant(&["checkpoint", d], b"");
    assert!(String::from_utf8_lossy(&note.stdout).starts_with("example.com/agents\n1\n"));
    let info = json(&warrant(&["info", d], b""));
    assert_eq!(
        (info["size"].as_u64(), info["hash"].as_str()),
        (Some(1), Some("sha256"))
    );
    let entries = warrant(&["entries", d], b"");
    assert_eq!(String::from_utf8_lossy(&entries.stdout).lines().count(), 1);
    assert_eq!(
        json(&warrant(&["prove", "inclusion", d, "--index", "0"], b""))["tree_size"],
        1
    );
    assert_eq!(
        warrant(&["prove", "inclusion", d, "--index", "1"], b"")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(warrant(&["fsck", d], b"").status.code(), Some(0));

    let bundle = tmp.path().join("task.bundle");
    let b = bundle.to_str().expect("utf8");
    let task = v["task"].as_str().expect("task").to_owned();
    assert_eq!(
        warrant(&["export", d, "--task", &task, "-o", b], b"")
            .status
            .code(),
        Some(0)
    );
    let trust = dir.join("trust.toml");
    let t = trust.to_str().expect("utf8");
    // Authentic and complete (A1–A5, B1 pass), but never closed: B10 fails, exit 1.
    let verdict = warrant(&["verify", b, "--trust", t, "--json"], b"");
    assert_eq!(verdict.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&verdict.stdout).expect("json");
    assert_eq!(report["verdict"], "fail", "{report}");
    assert_eq!(report["task"], task);
    let failed: Vec<&str> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(failed, ["B10"], "{report}");
    let mut tampered = std::fs::read(&bundle).expect("read");
    let n = tampered.len();
    tampered[n - 10] ^= 1;
    std::fs::write(&bundle, &tampered).expect("write");
    assert_eq!(
        warrant(&["verify", b, "--trust", t], b"").status.code(),
        Some(1)
    );
    std::fs::write(&bundle, b"junk").expect("write");
    assert_eq!(
        warrant(&["verify", b, "--trust", t], b"").status.code(),
        Some(2)
    );
}

/// Runs the demo with `extra` arguments and checks each scenario's line and bundle against
/// `expect`: the check the gate blocked its action for, and the check its audit still fails.
fn demo_as_expected(
    extra: &[&str],
    expect: fn(Scenario) -> (Option<&'static str>, &'static [&'static str]),
) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("demo");
    let mut args = vec!["demo", "--dir", dir.to_str().expect("utf8")];
    args.extend(extra);
    let out = warrant(&args, b"");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One line per task: each scenario with what the gate blocked and the check it fails;
    // the tampered copy fails A1 and what follows from it is marked so; a legend names
    // every check.
    for scenario in Scenario::ALL {
        let line = text
            .lines()
            .find(|l| l.ends_with(scenario.describe()))
            .unwrap_or_else(|| panic!("no line for {scenario:?} in:\n{text}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        let (blocked, failing) = expect(scenario);
        // n, task, risk, [blocked], verdict, [failed], description…
        let mut at = 3;
        if let Some(id) = blocked {
            assert_eq!(words[at], id, "{scenario:?}: {line}");
            at += 1;
        }
        match failing {
            [] => assert_eq!(words[at], "PASS", "{scenario:?}: {line}"),
            ids => {
                assert_eq!(words[at], "FAIL", "{scenario:?}: {line}");
                assert_eq!(
                    words[at + 1..at + 1 + ids.len()],
                    *ids,
                    "{scenario:?}: {line}"
                );
            }
        }
    }
    for want in [
        "FAIL A1",
        "[follows from A1]",
        "B10  the task closed and no credential outlived it",
        "every compliant task passed",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(
        !text.contains("— bank.example/agent-ledger"),
        "the note only with --verbose"
    );
    // The directory holds what an auditor needs: bundles and the trust policy.
    let trust = dir.join("trust.toml");
    let bundles: Vec<_> = std::fs::read_dir(dir.join("bundles"))
        .expect("bundles")
        .map(|e| e.expect("entry").path())
        .collect();
    let tasks = Scenario::ALL.len() + 1;
    assert_eq!(
        bundles.len(),
        tasks + 1,
        "a task per scenario, a low-risk compliant one and one tampered copy"
    );
    let codes: Vec<Option<i32>> = bundles
        .iter()
        .map(|b| {
            let args = [
                "verify",
                b.to_str().expect("utf8"),
                "--trust",
                trust.to_str().expect("utf8"),
            ];
            warrant(&args, b"").status.code()
        })
        .collect();
    // The low-risk compliant task and every scenario left with no failure pass; the others
    // and the tampered copy fail.
    let passing = 1 + Scenario::ALL
        .iter()
        .filter(|s| expect(**s).1.is_empty())
        .count();
    let count = |code| codes.iter().filter(|c| **c == Some(code)).count();
    assert_eq!(count(0), passing, "{codes:?}");
    assert_eq!(count(1), tasks + 1 - passing, "{codes:?}");
}

#[test]
fn demo_without_the_gate_leaves_every_violation_to_the_auditor() {
    demo_as_expected(&["--no-gate"], |s| (None, s.expected_failure()));
}

#[test]
fn demo_with_the_gate_blocks_every_violating_action_and_revokes_what_is_due() {
    demo_as_expected(&[], Scenario::with_gate);
}

#[test]
fn bench_reports_every_figure_from_one_run() {
    // A small run (the figures themselves are for `docs/performance.md`, not for tests):
    // every key is there, the rates are positive, the ratios are the quotients they name,
    // and the storage overhead, which does not depend on the machine, is within its budget.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("bench");
    std::fs::create_dir(&dir).expect("dir");
    std::fs::write(dir.join("keep.txt"), b"the user's").expect("file");
    let d = dir.to_str().expect("utf8");
    let out = json(&warrant(
        &[
            "bench",
            "--events",
            "20000",
            "--json",
            "--dir",
            d,
            "--witness",
        ],
        b"",
    ));
    let num = |k: &str| out[k].as_f64().unwrap_or_else(|| panic!("{k} in {out}"));
    assert_eq!(num("events"), 20_000.0);
    let ingest = num("ingest_eps");
    // The reference is the faster of the two verifiers timed beside the ingest.
    let fastest = num("verify_limit_dalek_eps").max(num("verify_limit_own_eps"));
    assert_eq!(num("verify_limit_eps"), fastest);
    for (ratio, reference) in [
        ("ratio", "verify_limit_eps"),
        ("ratio_to_dalek", "verify_limit_dalek_eps"),
        ("ratio_to_own", "verify_limit_own_eps"),
        ("ratio_to_single_core", "verify_limit_single_core_eps"),
    ] {
        assert!(num(reference) > 0.0, "{reference}");
        let want = ingest / num(reference);
        assert!((num(ratio) - want).abs() < 1e-9 * want, "{ratio}");
    }
    assert!(ingest > 0.0 && num("proof_us") > 0.0 && num("proof_reopened_us") > 0.0);
    assert!(num("ingest_cpu_utilisation") > 0.0);
    assert!(num("bytes_per_entry") > 0.0 && num("bytes_per_entry") <= 96.0);
    assert!(num("peak_rss_bytes") > 0.0 && num("ingest_storage_writes_per_entry") > 0.0);
    let w = &out["witness"];
    let wnum = |k: &str| {
        w[k].as_f64()
            .unwrap_or_else(|| panic!("witness.{k} in {out}"))
    };
    assert_eq!(wnum("checkpoints"), 400.0);
    for (ratio, num, den, factor) in [
        (
            "ratio_loopback_to_in_process",
            "loopback_add_checkpoint_per_s",
            "in_process_add_checkpoint_per_s",
            1.0,
        ),
        (
            "quorum_ratio_to_two_verifies",
            "quorum_checks_per_s",
            "verify_strict_per_s",
            2.0,
        ),
    ] {
        assert!(wnum(num) > 0.0 && wnum(den) > 0.0, "{num} {den}");
        let want = wnum(num) * factor / wnum(den);
        assert!((wnum(ratio) - want).abs() < 1e-9 * want, "{ratio}");
    }
    // Only the bench's own work directory is removed afterwards.
    let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(
        std::fs::read(dir.join("keep.txt")).expect("kept"),
        b"the user's"
    );
}

#[test]
fn bench_with_the_gate_measures_the_gate_on_the_tasks_it_left_open() {
    // Governed tasks instead of bare actions: a tenth of the entries' worth of tasks stay
    // open, the gate follows exactly those after the reopen, and every one of them was
    // admitted (an honest request denied fails the bench).
    let out = json(&warrant(
        &["bench", "--events", "8000", "--gate", "--json"],
        b"",
    ));
    let num = |k: &str| out[k].as_f64().unwrap_or_else(|| panic!("{k} in {out}"));
    let (events, open) = (num("events"), num("open_tasks"));
    assert!(events >= 8000.0, "{out}");
    assert!(
        (open * 10.0 - events).abs() <= 0.1 * events,
        "{open} open of {events}"
    );
    assert_eq!(num("admits"), open);
    assert!(num("admit_p50_us") > 0.0 && num("admit_p99_us") >= num("admit_p50_us"));
    assert!(num("state_bytes_per_open_task") > 0.0 && num("reopen_ms") > 0.0);
    assert!(num("ratio") > 0.0);
}

#[test]
fn a_demo_without_dir_removes_its_keys_and_verbose_tells_the_stories() {
    let out = warrant(&["demo", "--verbose"], b"");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let dir = text
        .lines()
        .find_map(|l| l.strip_prefix("(ledger, keys, trust policy and bundles in "))
        .and_then(|l| l.split(',').next())
        .expect("the directory is named");
    assert!(!std::path::Path::new(dir).exists(), "{dir} was removed");
    for want in ["human      ", "credential ", "— bank.example/agent-ledger"] {
        assert!(text.contains(want), "--verbose shows {want:?}");
    }
}

#[test]
fn every_command_that_prints_data_prints_json_on_request() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let demo = tmp.path().join("demo");
    let d = demo.to_str().expect("utf8");
    assert_eq!(warrant(&["demo", "--dir", d], b"").status.code(), Some(0));
    let ledger = demo.join("ledger");
    let l = ledger.to_str().expect("utf8");
    let json_of = |args: &[&str]| -> serde_json::Value {
        let out = warrant(args, b"");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let first = text
            .lines()
            .next()
            .unwrap_or_else(|| panic!("{args:?}: no output"));
        serde_json::from_str(first).unwrap_or_else(|e| panic!("{args:?}: {e}: {first}"))
    };
    let tasks = json_of(&["tasks", l, "--json"]);
    let tasks = tasks.as_array().expect("a list");
    // One task per scenario, a low-risk compliant one, and the task logged when only one
    // witness could be reached.
    assert_eq!(tasks.len(), warrant_ledger::demo::Scenario::ALL.len() + 2);
    assert!(tasks.iter().all(|t| t["entries"].as_u64() >= Some(7)));
    let cp = json_of(&["checkpoint", l, "--latest", "--json"]);
    let root = cp["root"].as_str().expect("root");
    assert!(
        root.len() == 64 && root.bytes().all(|b| b.is_ascii_hexdigit()),
        "hex: {root}"
    );
    assert!(cp["signed_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(
        json_of(&["fsck", l, "--json"])["problem"],
        serde_json::Value::Null
    );
    assert_eq!(json_of(&["info", l, "--json"])["size"], cp["size"]);
    assert_eq!(json_of(&["entries", l, "--to", "1", "--json"])["index"], 0);
    assert_eq!(
        json_of(&["event", "new-id", "--json"])["id"]
            .as_str()
            .map(str::len),
        Some(36)
    );
    let task = tasks[0]["task"].as_str().expect("task");
    let bundle = tmp.path().join("t.bundle");
    let b = bundle.to_str().expect("utf8");
    assert_eq!(
        warrant(&["export", l, "--task", task, "-o", b], b"")
            .status
            .code(),
        Some(0)
    );
    let trust = demo.join("trust.toml");
    let report = json_of(&[
        "verify",
        b,
        "--trust",
        trust.to_str().expect("utf8"),
        "--json",
    ]);
    assert_eq!(report["verdict"], "pass");
    // Without --json, the task list is a table a person reads.
    let table = String::from_utf8(warrant(&["tasks", l], b"").stdout).expect("utf8");
    assert!(table.starts_with("task "), "{table}");
}
