#!/usr/bin/env bash
# Cross-checks warrant's SHA-256 profile and signed notes against Go's golang.org/x/mod
# sumdb/tlog and sumdb/note (an independent implementation), offline.
#
# Needs: go and golang.org/x/mod sources in GOPATH (Debian: golang-go and
# golang-golang-x-mod-dev, which put them in /usr/share/gocode), and the warrant binary
# ($WARRANT, default target/debug/warrant).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
warrant=${WARRANT:-$here/../target/debug/warrant}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export GOPATH="$here/go:/usr/share/gocode" GO111MODULE=off GOFLAGS= GOCACHE="$work/gocache"
go build -o "$work/tlogcheck" tlogcheck
check="$work/tlogcheck"

# 1. Roots, inclusion and consistency proofs at many sizes, byte-identical to sumdb/tlog.
python3 - "$work/entries" <<'PY'
import base64, random, sys
rnd = random.Random(6962)
with open(sys.argv[1], "w") as f:
    for i in range(1100):
        f.write(base64.b64encode(bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 40)))).decode() + "\n")
PY
cases=0
for size in 1 2 3 4 5 7 8 9 15 16 17 31 32 33 100 127 128 129 255 256 257 511 512 513 1000 1023 1024 1025 1100; do
  for index in 0 $((size / 3)) $((size / 2)) $((size - 1)); do
    old=$(( index + 1 ))
    go_out=$("$check" tree "$work/entries" "$size" "$index" "$old")
    root=$("$warrant" merkle root --hash sha256 --size "$size" < "$work/entries")
    incl=$("$warrant" merkle prove --hash sha256 --index "$index" --size "$size" < "$work/entries")
    cons=$("$warrant" merkle prove-consistency --hash sha256 --old "$old" --new "$size" < "$work/entries")
    python3 - "$go_out" "$root" "$incl" "$cons" <<'PY'
import json, sys
go, root, incl, cons = (json.loads(a) for a in sys.argv[1:])
assert go["root"] == root["root"], ("root", go["root"], root)
assert go["inclusion"] == incl["path"], ("inclusion", go["inclusion"], incl)
# Go returns an empty proof for equal sizes, as we do.
assert (go["consistency"] or []) == cons["path"], ("consistency", go["consistency"], cons)
PY
    cases=$((cases + 1))
  done
done
echo "sumdb/tlog agrees on $cases (size, index, old) cases"

# 2. Our notes open with sumdb/note; Go's notes verify with warrant.
"$warrant" note keygen --name example.com/warrant --out "$work/our.key" > "$work/our.vkey"
printf 'example.com/warrant\n42\n%s\n' "$(head -c 32 /dev/urandom | base64)" > "$work/text"
"$warrant" note sign --key "$work/our.key" < "$work/text" > "$work/our.note"
"$check" open "$(cat "$work/our.vkey")" < "$work/our.note" | cmp - "$work/text"
"$check" keygen example.com/go > "$work/go.keys"
sed -n 1p "$work/go.keys" > "$work/go.skey"
"$check" sign "$work/go.skey" < "$work/text" > "$work/go.note"
"$warrant" note verify --key "$(sed -n 2p "$work/go.keys")" < "$work/go.note" | cmp - "$work/text"
# Tampering is caught on both sides.
sed 's/^42$/43/' "$work/our.note" > "$work/bad.note"
if "$check" open "$(cat "$work/our.vkey")" < "$work/bad.note" 2>/dev/null; then echo "Go accepted a tampered note" >&2; exit 1; fi
if "$warrant" note verify --key "$(sed -n 2p "$work/go.keys")" < <(sed 's/^42$/43/' "$work/go.note") >/dev/null 2>&1; then
  echo "warrant accepted a tampered note" >&2; exit 1
fi
echo "sumdb/note and warrant accept each other's notes and reject tampered ones"

# 3. A SHA-256 ledger: its checkpoint opens with sumdb/note, and its entries give Go the
#    same root and the same inclusion and consistency proofs.
L="$work/ledger"
vkey=$("$warrant" init "$L" --origin example.com/ledger --hash sha256)
pub=$("$warrant" keygen --out "$work/emitter.key" | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])')
kinds=$(ls "$here/../examples/events" | sed 's/\.json$//' | sed 's/.*/"&"/' | paste -sd, -)
printf '\n[[emitters]]\nworkload = "%s"\nassurance = "enforced"\nkinds = [%s]\nkeys = [{ public_key = "%s" }]\n' \
  "spiffe://bank.example/any" "$kinds" "$pub" >> "$L/trust.toml"
for f in "$here"/../examples/events/*.json; do
  sed 's#"emitter": "[^"]*"#"emitter": "spiffe://bank.example/any"#' "$f" |
    "$warrant" event sign --key "$work/emitter.key" --at now --out "$work/$(basename "$f" .json).cose"
done
"$warrant" append "$L" "$work"/*.cose > /dev/null
"$warrant" checkpoint "$L" > "$work/checkpoint.note"
"$check" open "$vkey" < "$work/checkpoint.note" > "$work/checkpoint.txt"
"$warrant" entries "$L" > "$work/ledger-entries"
n=$(wc -l < "$work/ledger-entries")
go_out=$("$check" tree "$work/ledger-entries" "$n" 5 3)
incl=$("$warrant" prove inclusion "$L" --index 5)
cons=$("$warrant" prove consistency "$L" --old 3)
python3 - "$go_out" "$incl" "$cons" "$work/checkpoint.txt" <<'PY'
import base64, json, sys
go, incl, cons = (json.loads(a) for a in sys.argv[1:4])
lines = open(sys.argv[4]).read().split("\n")
root = base64.b64decode(lines[2]).hex()
assert go["root"] == root, ("checkpoint root", go["root"], root)
assert go["inclusion"] == incl["path"], ("inclusion", go, incl)
assert go["consistency"] == cons["path"], ("consistency", go, cons)
PY
echo "a $n-entry SHA-256 ledger: checkpoint opens with sumdb/note; root and proofs equal sumdb/tlog's"

# 3b. The same ledger's standard proofs: each entry's C2SP tlog-proof verifies with
#     sumdb/note and sumdb/tlog; its COSE Receipts with pycose and an RFC 6962 reference
#     (interop/receipt-check.py: needs pycose and cbor2); warrant verify accepts both.
task=$("$warrant" tasks "$L" --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[0]["task"])')
"$warrant" export "$L" --task "$task" --format tlog-proof -o "$work/proofs" 2>/dev/null
"$warrant" export "$L" --task "$task" --format cose-receipt -o "$work/receipts" 2>/dev/null
proofs=0
for p in "$work"/proofs/*.tlog-proof; do
  e="${p%.tlog-proof}.entry"
  "$check" tlogproof "$vkey" "$p" "$e" > /dev/null
  "$warrant" verify "$p" --entry "$e" --trust "$L/trust.toml" > /dev/null
  proofs=$((proofs + 1))
done
for r in "$work"/receipts/*.receipt; do
  "$warrant" verify "$r" --entry "${r%.receipt}.entry" --trust "$L/trust.toml" > /dev/null
done
first=$(ls "$work"/proofs/*.tlog-proof | head -1)
sed 's/^index \([0-9]*\)$/index 9\1/' "$first" > "$work/bad.tlog-proof"
if "$check" tlogproof "$vkey" "$work/bad.tlog-proof" "${first%.tlog-proof}.entry" 2>/dev/null; then
  echo "Go accepted a tlog-proof with a changed index" >&2; exit 1
fi
python3 "$here/receipt-check.py" "$L/log.pub" "$work/receipts"
echo "$proofs tlog-proofs verify with sumdb/note and sumdb/tlog, and with warrant verify"

# 4. A running `warrant serve`: 600 events submitted over HTTP, then sumdb/tlog reads the
#    C2SP tlog-tiles API (hash tiles at two levels, entry bundles, full and partial),
#    checks every tile against the signed checkpoint and proves every entry from them.
S="$work/served"
vkey=$("$warrant" init "$S" --origin example.com/served --hash sha256)
printf '\n[[emitters]]\nworkload = "%s"\nassurance = "enforced"\nkinds = ["TrustSignal"]\nkeys = [{ public_key = "%s" }]\n' \
  "spiffe://bank.example/any" "$pub" >> "$S/trust.toml"
sed 's#"emitter": "[^"]*"#"emitter": "spiffe://bank.example/any"#' "$here/../examples/events/TrustSignal.json" > "$work/signal.json"
for _ in $(seq 600); do
  "$warrant" event sign --key "$work/emitter.key" --fresh-id --at now --chain "$work/signal.chain" < "$work/signal.json"
done > "$work/signals.seq"
"$warrant" serve "$S" --listen 127.0.0.1:0 --quiet --checkpoint-ms 50 > "$work/serve.out" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^listening on ' "$work/serve.out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/serve.out")
python3 - "$url" "$work/signals.seq" <<'PY'
import json, sys, urllib.request
body = open(sys.argv[2], "rb").read()
answer = json.load(urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/add", data=body)))
assert answer["indices"] == list(range(600)), answer
PY
for _ in $(seq 100); do
  size=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + "/checkpoint").read().decode().split("\n")[1])' "$url")
  [ "$size" = 600 ] && break
  sleep 0.1
done
tiles=$("$check" tiles "$url" "$vkey")
kill -TERM "$server"
wait "$server"
python3 - "$tiles" <<'PY'
import json, sys
got = json.loads(sys.argv[1])
assert got["size"] == 600 and got["entries_checked"] == 600, got
PY
echo "sumdb/tlog read a live server's tiles: $tiles"
