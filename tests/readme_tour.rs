//! The README's tour runs as written: the block between `<!-- tour:begin -->` and
//! `<!-- tour:end -->` is run by bash from the repository root, with `W` pointing at the
//! binary under test instead of a release build, and must end in the auditor's PASS.
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::Command;

/// The tour's shell lines, without the fences and without the build and `W=` lines that the
/// test replaces (it runs the binary cargo built for it).
fn tour_script(readme: &str) -> String {
    let begin = readme
        .find("<!-- tour:begin -->")
        .expect("tour:begin marker");
    let end = readme.find("<!-- tour:end -->").expect("tour:end marker");
    let block = &readme[begin..end];
    let lines: Vec<&str> = block
        .lines()
        .skip_while(|l| !l.starts_with("```sh"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("cargo build --release --features cli")),
        "the tour builds the CLI first"
    );
    assert!(
        lines.contains(&"W=target/release/warrant"),
        "the tour names the binary W"
    );
    lines
        .iter()
        .filter(|l| !l.starts_with("cargo build") && !l.starts_with("W="))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_readme_tour_runs_as_written_and_ends_in_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let script = tour_script(&readme);
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Command::new("bash")
        .arg("-eu")
        .arg("-c")
        .arg(&script)
        .current_dir(root)
        .env("W", env!("CARGO_BIN_EXE_warrant"))
        .env("TMPDIR", tmp.path())
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tour failed ({:?}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.trim_end().ends_with("verdict: pass"),
        "tour did not end in PASS:\n{stdout}"
    );
    assert!(!stdout.contains("[fail]"), "a check failed:\n{stdout}");
    // Every step was logged, the gate allowed the action and denied it to another instance.
    assert!(stdout.contains("ok: 8 entries"), "fsck:\n{stdout}");
    assert!(
        stdout.contains("allow (judged on the log's first 5 entries)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("deny (judged on the log's first 5 entries)"),
        "{stdout}"
    );
    assert!(stdout.contains("(denied: exit 1)"), "{stdout}");
}
