#!/usr/bin/env python3
"""Runs the edge cases of ed25519 verification through OpenSSL (Python's `cryptography`) and
libsodium (PyNaCl), and checks their verdicts against the table in docs/signing.md (the
`verifier-table` section). The cases are built here, from the seed of the signing test vector,
with the curve arithmetic written out below, so nothing but this file and the two libraries is
trusted. Exits non-zero when a library's verdict differs from the table.

    python3 docs/check_verifiers.py          # check the table
    python3 docs/check_verifiers.py --print  # print the table as measured
"""

import hashlib
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
import nacl.bindings
import nacl.exceptions
import nacl.signing

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def inv(x):
    return pow(x, P - 2, P)


def add(a, b):
    (x1, y1, z1, t1), (x2, y2, z2, t2) = a, b
    A = (y1 - x1) * (y2 - x2) % P
    B = (y1 + x1) * (y2 + x2) % P
    C = 2 * t1 * t2 * D % P
    Dd = 2 * z1 * z2 % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def mul(k, point):
    result = (0, 1, 1, 0)
    while k:
        if k & 1:
            result = add(result, point)
        point = add(point, point)
        k >>= 1
    return result


def encode(point):
    x, y, z, _ = point
    zi = inv(z)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def decode(data):
    value = int.from_bytes(data, "little")
    sign, y = value >> 255, value & ((1 << 255) - 1)
    y %= P
    x2 = (y * y - 1) * inv(D * y * y + 1) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    if (x & 1) != sign:
        x = P - x
    return (x, y, 1, x * y % P)


BASE = decode((4 * inv(5) % P).to_bytes(32, "little"))


def order_8_point():
    """A point of order 8: the cofactor times a point that is not in the prime-order group."""
    for y in range(2, 1000):
        point = decode(y.to_bytes(32, "little"))
        if point is None:
            continue
        torsion = mul(L, point)
        if encode(mul(4, torsion)) != encode((0, 1, 1, 0)):
            return torsion
    raise AssertionError("no point of order 8 found")


T8 = order_8_point()
IDENTITY = (0, 1, 1, 0)


def h(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def secret(seed):
    digest = hashlib.sha512(seed).digest()
    a = int.from_bytes(digest[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, digest[32:]


def sign(a, prefix, public, message, *, extra_r=IDENTITY, zero_r=False, s_plus=0):
    """An RFC 8032 signature with `public` in the challenge, its R shifted by `extra_r`."""
    r = 0 if zero_r else h(prefix, message) % L
    R = encode(add(mul(r, BASE), extra_r))
    k = h(R, public, message) % L
    s = (r + k * a) % L + s_plus
    return R + s.to_bytes(32, "little")


SEED = bytes(range(32))
PAYLOAD = (
    b'{"event_id":"evt-0001","project":"aurora-spring","kind":"note_added","schema_version":1,'
    b'"actor":"ines-qc","occurred_at":"2026-11-27T09:30:00Z","body":{"text":"Proofs look right."}}'
)
TYPE = b"application/vnd.lineage.event+json"


def pae(payload):
    return b"DSSEv1 %d %s %d %s" % (len(TYPE), TYPE, len(payload), payload)


def openssl(public, signature, message):
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def libsodium(public, signature, message):
    try:
        nacl.signing.VerifyKey(public).verify(message, signature)
        return True
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError, TypeError):
        return False


def cases():
    """(case, public key, [(signature, message)]): one row each."""
    a, prefix = secret(SEED)
    A = mul(a, BASE)
    public = encode(A)
    assert public == Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes_raw()
    message = pae(PAYLOAD)
    messages = [pae(PAYLOAD.replace(b"right.", b"right %d." % i)) for i in range(16)]
    honest = [(sign(a, prefix, public, m), m) for m in messages]
    # A key with a point of order 8 added: the same secret signs, the challenge hashes the key.
    torsioned = encode(add(A, T8))
    with_torsion = [(sign(a, prefix, torsioned, m), m) for m in messages]
    # The identity point written with y = p + 1: not canonical.
    noncanonical_key = (P + 1).to_bytes(32, "little")
    return [
        ("the key's RFC 8032 signatures", public, honest),
        ("R plus a point of order 8", public, [(sign(a, prefix, public, m, extra_r=T8), m) for m in messages]),
        ("R the identity (r = 0)", public, [(sign(a, prefix, public, message, zero_r=True), message)]),
        ("S + ℓ instead of S", public, [(sign(a, prefix, public, message, s_plus=L), message)]),
        ("a key plus a point of order 8, its signatures", torsioned, with_torsion),
        ("a key written with y = p + 1 (the identity)", noncanonical_key, [(bytes(64), message)]),
    ]


def measured():
    rows = []
    for case, public, signatures in cases():
        verdicts = []
        for verify in (openssl, libsodium):
            accepted = sum(verify(public, sig, msg) for sig, msg in signatures)
            verdicts.append(f"{accepted} of {len(signatures)}")
        rows.append((case, *verdicts))
    return rows


def main():
    rows = measured()
    if "--print" in sys.argv:
        for row in rows:
            print(" | ".join(row))
        return
    doc = open("docs/signing.md", encoding="utf-8").read()
    section = re.search(r"<!-- verifier-table:start -->\n(.*?)<!-- verifier-table:end -->", doc, re.S)
    if not section:
        sys.exit("docs/signing.md has no verifier-table section")
    table = {}
    for line in section.group(1).splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        table[cells[0]] = cells
    failures = 0
    for case, ssl, sodium in rows:
        documented = table.get(case)
        if documented is None or documented[2] != ssl or documented[3] != sodium:
            print(f"{case}: measured OpenSSL {ssl}, libsodium {sodium}; documented {documented}")
            failures += 1
    versions = f"cryptography (OpenSSL) and PyNaCl {nacl.__version__} (libsodium)"
    print(f"verifiers: {len(rows) - failures} of {len(rows)} cases as documented, with {versions}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
