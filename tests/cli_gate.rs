//! `warrant admit` and `warrant revocations` against a ledger built with the CLI alone (the
//! README tour's templates): the gate allows the honest action and denies a dishonest one;
//! a token service following the feed sees the credential fall due when the task closes
//! without revoking it, and the revocation takes it off.
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::Command;

const SCRIPT: &str = r#"
set -eu
T=$(mktemp -d); L=$T/ledger
$W init $L --origin example.com/agents > /dev/null
for c in front-door:TaskOpened,DelegationGranted,TaskClosed pdp:PolicyDecision \
         sts:CredentialIssued,CredentialRevoked gateway:ActionExecuted registry:PolicyRegistered; do
  $W keygen --out $T/${c%%:*}.key --emitter spiffe://bank.example/${c%%:*} --kinds ${c#*:} >> $L/trust.toml
done
printf '\n[governance.humans]\nids = ["*@bank.example"]\n' >> $L/trust.toml
TASK=$($W event new-id)
sign() {
  c=$1 step=$2; shift 2
  $W event sign --key $T/$c.key --chain $T/$c.chain --fresh-id --at now --task $TASK "$@" \
    < examples/tour/$step.json > $T/$step.cose
  $W append $L $T/$step.cose > /dev/null
}
sign registry   policy
sign front-door opened
sign front-door delegated --ref opened=$T/opened.cose
sign pdp        decided   --ref delegated=$T/delegated.cose
sign sts        issued    --ref decided=$T/decided.cose
$W --json admit $L --request examples/tour/request.json --task $TASK --at now > $T/allowed
echo "allowed: $(cat $T/allowed)"
if sed '/permissions_used/,/]/ s|reports:read|reports:write|' examples/tour/request.json \
     | $W admit $L --task $TASK --at now > $T/denied; then exit 10; fi
echo "denied: $(cat $T/denied)"
echo "due before close: $($W --json revocations $L)"
$W --json revocations $L --follow --for 4 > $T/feed &
FOLLOWER=$!
sleep 1
sign front-door closed --manifest $T/pdp.chain --manifest $T/sts.chain --manifest $T/front-door.chain
sleep 1
sign sts revoked --ref acted=$T/issued.cose
wait $FOLLOWER
echo "feed: $(cat $T/feed)"
echo "due after revocation: $($W --json revocations $L)"
"#;

#[test]
fn the_gate_and_the_feed_from_the_command_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Command::new("bash")
        .arg("-c")
        .arg(SCRIPT)
        .current_dir(root)
        .env("W", env!("CARGO_BIN_EXE_warrant"))
        .env("TMPDIR", tmp.path())
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let line = |prefix: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {stdout}"))
            .to_owned()
    };
    let allowed: serde_json::Value = serde_json::from_str(&line("allowed: ")).expect("json");
    assert_eq!(allowed["allowed"], true, "{allowed}");
    assert_eq!(allowed["decisions"].as_array().map(Vec::len), Some(1));
    // A permission the credential does not carry: scope widens (B6).
    assert!(line("denied: ").starts_with("deny"), "{stdout}");
    assert!(stdout.contains("  B6 "), "{stdout}");
    assert_eq!(line("due before close: "), "[]");
    // The follower printed the credential once, when the close made it due.
    let feed = line("feed: ");
    let due: serde_json::Value = serde_json::from_str(&feed).expect("one JSON line");
    assert_eq!(due["credential_id"], "cred-1");
    assert_eq!(due["cause"]["cause"], "task_closed", "{due}");
    assert_eq!(line("due after revocation: "), "[]");
}
