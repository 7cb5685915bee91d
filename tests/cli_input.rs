//! Every input the CLI reads is bounded: 200 MB of zeros or of random bytes, on standard
//! input or as a file, gets a typed error (exit 2) after reading at most a bounded prefix,
//! in bounded memory (the child's peak resident set, from GNU time).
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Peak memory allowed to a command refusing bad input: the binary idles at ~10 MB; the
/// inputs are 200 MB.
const MAX_RSS_KB: u64 = 64 * 1024;
const INPUT_LEN: usize = 200 * 1024 * 1024;

/// Exit code and peak RSS (kB) of `warrant ARGS` with `stdin` as standard input.
fn run(args: &[&str], stdin: Option<&Path>, scratch: &Path) -> (Option<i32>, u64, String) {
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "GNU time is needed (Debian package `time`; .ci/run installs it)"
    );
    let mem = scratch.join("rss");
    let mut cmd = Command::new(time);
    cmd.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&mem)
        .arg(env!("CARGO_BIN_EXE_warrant"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.stdin(match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).expect("open input")),
        None => Stdio::null(),
    });
    let out = cmd.output().expect("run");
    let kb = std::fs::read_to_string(&mem)
        .expect("rss")
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("a number");
    (
        out.status.code(),
        kb,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// 200 MB of `byte`, or of pseudo-random bytes when `None`.
fn big_file(dir: &Path, name: &str, byte: Option<u8>) -> PathBuf {
    let path = dir.join(name);
    let mut data = vec![byte.unwrap_or(0); INPUT_LEN];
    if byte.is_none() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for chunk in data.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
    }
    std::fs::write(&path, data).expect("write");
    path
}

#[test]
fn two_hundred_megabytes_of_garbage_are_refused_in_bounded_memory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = tmp.path();
    let dir = t.join("ledger");
    let d = dir.to_str().expect("utf8");
    let w = |args: &[&str]| run(args, None, t);
    assert_eq!(w(&["init", d, "--origin", "example.com/agents"]).0, Some(0));
    let key = t.join("k.key");
    let k = key.to_str().expect("utf8");
    assert_eq!(w(&["keygen", "--out", k]).0, Some(0));
    let pk = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let trust = dir.join("trust.toml");
    let tr = trust.to_str().expect("utf8");
    for (label, byte) in [("zeros", Some(0u8)), ("random", None)] {
        let input = big_file(t, label, byte);
        let f = input.to_str().expect("utf8");
        let on_stdin: [&[&str]; 11] = [
            &["append", d],
            &["admit", d],
            &["event", "sign", "--key", k],
            &["event", "verify", "--pubkey", pk],
            &["event", "show"],
            &["event", "digest"],
            &["note", "sign", "--key", k],
            &["note", "verify", "--key", vkey],
            &["merkle", "root"],
            &["merkle", "prove", "--index", "0"],
            &["merkle", "prove-consistency", "--old", "1"],
        ];
        let as_file: [&[&str]; 10] = [
            &["append", d, f],
            &["admit", d, "--request", f],
            &["revocations", d, "--trust", f],
            &["event", "show", f],
            &["event", "digest", f],
            &["merkle", "verify", "--proof", f, "--root", &"0".repeat(64)],
            &["verify", f, "--trust", tr],
            &["verify", f, "--trust", f],
            &[
                "export",
                d,
                "--task",
                "01935f3a-1c00-7000-8000-00000000ffff",
                "--since-checkpoint",
                f,
                "-o",
                "/dev/null",
            ],
            &["fsck", d, "--trust", f],
        ];
        let cases = on_stdin
            .iter()
            .map(|a| (*a, Some(input.as_path())))
            .chain(as_file.iter().map(|a| (*a, None)));
        for (args, stdin) in cases {
            let (code, kb, stderr) = run(args, stdin, t);
            assert_eq!(code, Some(2), "{label} {args:?}: {stderr}");
            assert!(kb <= MAX_RSS_KB, "{label} {args:?}: peak RSS {kb} kB");
            assert!(
                stderr.len() < 2_000,
                "{label} {args:?}: {} bytes of errors",
                stderr.len()
            );
            assert!(stderr.starts_with("error: "), "{label} {args:?}: {stderr}");
        }
        std::fs::remove_file(&input).expect("remove");
    }
    // The ledger is as it was: nothing was appended.
    assert_eq!(w(&["fsck", d]).0, Some(0));
}
