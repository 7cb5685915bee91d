#!/usr/bin/env python3
"""Cross-checks warrant's signed events with independent implementations.

For every event example: `warrant event sign` signs it; pycose (Python COSE) verifies the
envelope given only the public key; cbor2 (Python CBOR) decodes the payload and protected
header and re-encodes them under deterministic encoding to the same bytes. Flipping a byte
of the envelope makes pycose reject it.

Usage: cose-check.py WARRANT_BINARY EXAMPLES_DIR
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

import cbor2
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message


def run(args, stdin=b""):
    return subprocess.run(args, input=stdin, capture_output=True, check=True).stdout


def deterministic(obj):
    return cbor2.dumps(obj, canonical=True)


def pycose_verifies(envelope, public):
    msg = Sign1Message.decode(envelope)
    msg.key = OKPKey(crv=Ed25519, x=public)
    return msg.verify_signature()


def main():
    warrant, examples = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        key_file = os.path.join(tmp, "emitter.key")
        info = json.loads(run([warrant, "keygen", "--out", key_file]))
        public = base64.b64decode(info["public_key"])
        names = sorted(n for n in os.listdir(examples) if n.endswith(".json"))
        assert len(names) == 12, names
        for name in names:
            with open(os.path.join(examples, name), "rb") as f:
                envelope = run([warrant, "event", "sign", "--key", key_file], f.read())
            assert pycose_verifies(envelope, public), name

            tag = cbor2.loads(envelope)
            assert isinstance(tag, cbor2.CBORTag) and tag.tag == 18, name
            protected, unprotected, payload, signature = tag.value
            assert unprotected == {} and len(signature) == 64, name
            # Independent decoder, deterministic re-encoding: the same bytes.
            assert deterministic(cbor2.loads(payload)) == payload, name
            assert deterministic(cbor2.loads(protected)) == protected, name
            header = cbor2.loads(protected)
            assert header[1] == -8 and header[4] == bytes.fromhex(info["key_id"]), name
            assert deterministic(tag) == envelope, name

            for i in range(0, len(envelope), 11):
                bad = bytearray(envelope)
                bad[i] ^= 0x04
                try:
                    ok = pycose_verifies(bytes(bad), public)
                except Exception:  # a flip may break the structure: also a rejection
                    ok = False
                assert not ok, f"{name}: flip at {i} accepted"
    print(f"pycose verifies and cbor2 re-encodes identically all {len(names)} signed event kinds")


if __name__ == "__main__":
    main()
