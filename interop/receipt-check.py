#!/usr/bin/env python3
"""Cross-checks warrant's COSE Receipts (RFC 9942) with independent implementations.

For every `<index>.receipt` in RECEIPTS_DIR (from `warrant export --format cose-receipt`),
with `<index>.entry` beside it: cbor2 decodes the receipt; an RFC 6962 reference written
here (hashlib only) recomputes the root from the entry's bytes and the inclusion proof at
header label 396; pycose verifies the COSE_Sign1 with that root as its detached payload,
given only the log's public key (from log.pub). The protected header must name EdDSA and
the RFC9162_SHA256 tree type (395: 1). A changed entry must make pycose refuse.

Usage: receipt-check.py LOG_PUB RECEIPTS_DIR
"""
import base64
import hashlib
import os
import sys

import cbor2
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(index, size, leaf, path):
    """RFC 9162 section 2.1.3.2, as written there."""
    if index >= size:
        raise ValueError("index past size")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("path too long")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("path too short")
    return r


def log_key(pub_path):
    # The current key: log.pub's last line, `name+hex8+base64(0x01 || key)`.
    vkey = open(pub_path).read().strip().split("\n")[-1]
    raw = base64.b64decode(vkey.split("+", 2)[2])
    assert raw[0] == 0x01 and len(raw) == 33, vkey
    return OKPKey(crv=Ed25519, x=raw[1:])


def verify(receipt, entry, key):
    tag = cbor2.loads(receipt)
    assert isinstance(tag, cbor2.CBORTag) and tag.tag == 18, "a tagged COSE_Sign1"
    protected, unprotected, payload, _ = tag.value
    header = cbor2.loads(protected)
    assert header[1] == -8 and header[395] == 1, header
    assert payload is None, "detached payload"
    size, index, path = cbor2.loads(unprotected[396][-1][0])
    assert (header[-70001], header[-70002]) == (size, index), "signed size and index"
    root = root_from_path(index, size, leaf_hash(entry), path)
    msg = Sign1Message.decode(receipt)
    msg.payload = root
    msg.key = key
    return msg.verify_signature()


def main():
    key = log_key(sys.argv[1])
    folder = sys.argv[2]
    names = sorted(n for n in os.listdir(folder) if n.endswith(".receipt"))
    assert names, "no receipts"
    for name in names:
        receipt = open(os.path.join(folder, name), "rb").read()
        entry = open(os.path.join(folder, name[: -len(".receipt")] + ".entry"), "rb").read()
        assert verify(receipt, entry, key), name
        changed = bytes([entry[0] ^ 1]) + entry[1:]
        try:
            ok = verify(receipt, changed, key)
        except Exception:
            ok = False
        assert not ok, "pycose accepted a receipt for a changed entry: " + name
    print(f"pycose and an RFC 6962 reference verify {len(names)} COSE Receipts; changed entries are refused")


if __name__ == "__main__":
    main()
