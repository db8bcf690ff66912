"""Verifying webhook deliveries (Standard Webhooks, docs/integrations.md): `webhook-signature`
holds `v1,<base64 HMAC-SHA-256>` signatures over "{webhook-id}.{webhook-timestamp}.{body}"."""

import base64
import binascii
import hashlib
import hmac
import json
import re
import time


class WebhookVerificationError(Exception):
    pass


def verify_webhook(secret: str, body: bytes, headers, tolerance: int = 300) -> dict:
    """The delivery's message ({"type", "timestamp", "data"}) once its signature verifies with
    `secret` (`whsec_...`) and its timestamp is within `tolerance` seconds of now; raises
    WebhookVerificationError otherwise. `body` is the raw request body, as received."""
    headers = {k.lower(): v for k, v in dict(headers).items()}
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (webhook_id and timestamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds")
    if abs(time.time() - int(timestamp)) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is too far from now")
    try:
        key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("the secret is not whsec_ and base64") from None
    if not key:
        # An empty key would verify what anyone signs with an empty key.
        raise WebhookVerificationError("the secret is empty")
    signed = f"{webhook_id}.{timestamp}.".encode() + bytes(body)
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for signature in signatures.split(" "):
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode("utf-8", "replace"), expected):
            return json.loads(body)
    raise WebhookVerificationError("no signature verifies with the secret")
