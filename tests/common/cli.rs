//! Running the real `warrant` binary from CLI tests.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

/// Runs `warrant ARGS` with `stdin` on its standard input and collects its output.
pub(crate) fn warrant(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warrant"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn warrant");
    // The child may exit before reading everything (malformed input): ignore broken pipes.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("wait")
}
