"""Client for the lineage ledger.

    from lineage_client import Client, KeyFile

    client = Client("http://127.0.0.1:8080", token="lin_...")
    signer = KeyFile.load("pipeline.key")
    entry = client.append(signer, "acme:aurora", "note_added", {"text": "Rendered."})
    for entry in client.feed(after=entry["sequence"] - 1):
        ...
"""

from .client import Client
from .errors import (
    Conflict,
    Forbidden,
    LineageError,
    NotFound,
    ProblemError,
    Unauthorized,
    Unavailable,
    VersionConflict,
)
from .keys import KeyFile, envelope, pae
from .webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "Client",
    "Conflict",
    "Forbidden",
    "KeyFile",
    "LineageError",
    "NotFound",
    "ProblemError",
    "Unauthorized",
    "Unavailable",
    "VersionConflict",
    "WebhookVerificationError",
    "envelope",
    "pae",
    "verify_webhook",
]
