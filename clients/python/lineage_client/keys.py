"""Key files and DSSE envelopes (docs/signing.md): the signature is ed25519 over
PAE(payloadType, payload), the payload the exact JSON bytes signed."""

import base64
import json
import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PAYLOAD_TYPE = "application/vnd.lineage.event+json"


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE's pre-authentication encoding: "DSSEv1 <len> <type> <len> <body>"."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


class KeyFile:
    """An actor's ed25519 key, as `lineage keygen` writes it: {actor, key_id, seed, public_key}."""

    def __init__(self, actor: str, key_id: str, seed: bytes):
        if len(seed) != 32:
            raise ValueError("an ed25519 seed is 32 bytes")
        self.actor = actor
        self.key_id = key_id
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = seed

    def __repr__(self):
        return f"KeyFile(actor={self.actor!r}, key_id={self.key_id!r})"

    @classmethod
    def generate(cls, actor: str, key_id: str) -> "KeyFile":
        return cls(actor, key_id, os.urandom(32))

    @classmethod
    def load(cls, path) -> "KeyFile":
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        key = cls(data["actor"], data["key_id"], base64.b64decode(data["seed"], validate=True))
        if key.public_key != data["public_key"]:
            raise ValueError(f"{path}: public_key does not match the seed")
        return key

    def save(self, path) -> None:
        """Writes the key file, readable by its owner alone."""
        text = json.dumps(
            {
                "actor": self.actor,
                "key_id": self.key_id,
                "seed": base64.b64encode(self._seed).decode(),
                "public_key": self.public_key,
            },
            indent=2,
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")

    @property
    def public_key(self) -> str:
        """The public key, standard base64, as actor and key events carry it."""
        from cryptography.hazmat.primitives import serialization

        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def envelope(key: KeyFile, payload: bytes) -> bytes:
    """The DSSE envelope of payload bytes signed by key, as the ledger takes it (JSON bytes)."""
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    return json.dumps(
        {
            "payloadType": PAYLOAD_TYPE,
            "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": key.key_id, "sig": base64.b64encode(signature).decode()}],
        },
        separators=(",", ":"),
    ).encode()
