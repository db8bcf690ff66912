#!/usr/bin/env python3
"""Checks the signing test vector of docs/signing.md with an independent implementation.

Reads the seed, payload, PAE, public key, signature and envelope from the document, recomputes
each from the seed and the payload with the `cryptography` package, and exits non-zero on any
difference. Usage: python3 docs/check_signing_vector.py [docs/signing.md]
"""
import base64
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
        sys.exit(f"docs/signing.md has no block labelled {label}")
    return match.group(1)


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "docs/signing.md"
    doc = open(path, encoding="utf-8").read()
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
    if failed:
        sys.exit(1)
    print("signing vector: 4 checks passed, 0 failed")


main()
