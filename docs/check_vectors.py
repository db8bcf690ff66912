#!/usr/bin/env python3
"""Checks the test vectors of docs/signing.md and docs/formats.md with an independent
implementation.

Reads each vector's inputs from the documents, recomputes its outputs (PAE, public key,
signature; leaf bytes, entry hash, Merkle leaf hash) with the standard library and the
`cryptography` package, and exits non-zero on any difference. Run from the project root:
python3 docs/check_vectors.py
"""
import base64
import hashlib
import json
import re
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PAYLOAD_TYPE = "application/vnd.lineage.event+json"


def pae(payload_type: str, body: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def block(doc: str, label: str) -> str:
    match = re.search(r"<!-- vector:%s -->\s*```[a-z]*\n(.*?)\n```" % re.escape(label), doc, re.S)
    if not match:
        sys.exit(f"no block labelled {label}")
    return match.group(1)


def inline(doc: str, label: str) -> str:
    match = re.search(r"<!-- vector:%s -->`([^`]*)`" % re.escape(label), doc)
    if not match:
        sys.exit(f"no inline value labelled {label}")
    return match.group(1)


def check_leaf(doc: str, envelope: bytes) -> bool:
    if block(doc, "envelope").encode() != envelope:
        print("formats.md: the envelope differs from signing.md's")
        return False
    project = b"aurora-spring"
    leaf = (
        b"\x01"
        + (5).to_bytes(8, "big")
        + len(project).to_bytes(4, "big")
        + project
        + (2).to_bytes(8, "big")
        + int(inline(doc, "received-at-us")).to_bytes(8, "big", signed=True)
        + b"\x11" * 32
        + len(envelope).to_bytes(4, "big")
        + envelope
    )
    checks = {
        "leaf": leaf.hex(),
        "hash": hashlib.sha256(leaf).hexdigest(),
        "leaf-hash": hashlib.sha256(b"\x00" + leaf).hexdigest(),
    }
    ok = True
    for label, want in checks.items():
        if block(doc, label) != want:
            print(f"formats.md {label}: the document differs from the computed {want}")
            ok = False
    return ok


def main() -> None:
    doc = open("docs/signing.md", encoding="utf-8").read()
    seed = bytes.fromhex(block(doc, "seed"))
    payload = block(doc, "payload").encode()
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes_raw()
    message = pae(PAYLOAD_TYPE, payload)
    signature = key.sign(message)
    checks = {
        "public-key": base64.b64encode(public).decode(),
        "pae": message.hex(),
        "signature": base64.b64encode(signature).decode(),
    }
    failed = False
    for label, want in checks.items():
        got = block(doc, label)
        if got != want:
            print(f"{label}: the document says {got!r}, computed {want!r}")
            failed = True
    envelope = json.loads(block(doc, "envelope"))
    if base64.b64decode(envelope["payload"]) != payload or envelope["payloadType"] != PAYLOAD_TYPE:
        print("envelope: payload or payloadType differ")
        failed = True
    Ed25519PublicKey.from_public_bytes(public).verify(
        base64.b64decode(envelope["signatures"][0]["sig"]), pae(envelope["payloadType"], payload)
    )
    formats = open("docs/formats.md", encoding="utf-8").read()
    if not check_leaf(formats, block(doc, "envelope").encode()):
        failed = True
    if failed:
        sys.exit(1)
    print("vectors: 7 checks passed, 0 failed")


main()
