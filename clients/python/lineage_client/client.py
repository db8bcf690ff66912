"""The HTTP client: appends with retries, reads, the live feed with resume, webhook endpoints."""

import datetime
import json
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from .errors import LineageError, Unavailable, problem_error
from .keys import KeyFile, envelope

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: the bearer token goes to the ledger's own URL only, and an
    append redirected elsewhere is an error, never a success of another host's answer."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)

#: The kinds whose current schema version is 2 (docs/signing.md); every other kind is at 1.
SCHEMA_V2 = {
    "project_created",
    "actor_registered",
    "model_version_registered",
    "reference_added",
    "qc_review_recorded",
    "delivery_recorded",
}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Client:
    """A client of one ledger at `url`, reading with `token` (a bearer token) if given.

    Appends retry `retries` times on a 503/507 or a lost connection, sending the same bytes
    again: the ledger answers a repeated event with the entry it already holds, so a retry never
    records an event twice.
    """

    def __init__(self, url: str, token: str = None, timeout: float = 30.0, retries: int = 4):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self._ledger = None

    # -- plumbing ---------------------------------------------------------------------------

    def _request(self, method, path, body=None, headers=None, stream=False):
        request = urllib.request.Request(self.url + path, data=body, method=method)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            response = _opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                problem = json.loads(raw)
            except ValueError:
                raise LineageError(f"{e.code} from {path}: {raw[:200]!r}") from None
            retry_after = e.headers.get("Retry-After")
            raise problem_error(e.code, problem, float(retry_after) if retry_after else None) from None
        except (urllib.error.URLError, OSError) as e:
            raise LineageError(f"{method} {path}: {e}") from e
        if stream:
            return response
        with response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)

    def get(self, path: str, **query):
        """GET a path of the API with query parameters (None ones left out); the JSON answer."""
        query = {k: v for k, v in query.items() if v is not None}
        if query:
            path += "?" + urllib.parse.urlencode(query)
        return self._request("GET", path)[1]

    def _send(self, method, path, document):
        body = b"" if document is None else json.dumps(document).encode()
        return self._request(method, path, body=body)[1]

    def _with_retries(self, method, path, body):
        attempt = 0
        while True:
            try:
                return self._request(method, path, body=body)
            except (Unavailable, LineageError) as e:
                retryable = isinstance(e, Unavailable) or type(e) is LineageError
                if not retryable or attempt >= self.retries:
                    raise
                wait = getattr(e, "retry_after", None) or min(10.0, 0.2 * 2**attempt)
                time.sleep(wait * (0.5 + random.random() / 2))
                attempt += 1

    # -- appends ----------------------------------------------------------------------------

    def ledger(self) -> str:
        """The ledger's name (its checkpoint's origin), which every new event names."""
        if self._ledger is None:
            request = urllib.request.Request(self.url + "/v1/checkpoint")
            with _opener.open(request, timeout=self.timeout) as response:
                self._ledger = response.read().decode().split("\n", 1)[0]
        return self._ledger

    def payload(self, key: KeyFile, project: str, kind: str, body: dict, expected_version=None,
                event_id=None, occurred_at=None, schema_version=None) -> bytes:
        """The payload bytes of an event signed by `key` (docs/signing.md)."""
        payload = {
            "event_id": event_id or str(uuid.uuid4()),
            "project": project,
            "kind": kind,
            "schema_version": schema_version or (2 if kind in SCHEMA_V2 else 1),
            "actor": key.actor,
            "occurred_at": occurred_at or _now(),
            "ledger": self.ledger(),
            "body": body,
        }
        if expected_version is not None:
            payload["expected_version"] = expected_version
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()

    def envelope(self, key: KeyFile, project: str, kind: str, body: dict, **options) -> bytes:
        """A signed envelope, for `append_envelope` or `append_batch`."""
        return envelope(key, self.payload(key, project, kind, body, **options))

    def append(self, key: KeyFile, project: str, kind: str, body: dict, **options) -> dict:
        """Signs and appends one event; the entry (sequence, hash, ...). Options:
        `expected_version`, `event_id`, `occurred_at`, `schema_version`."""
        return self.append_envelope(self.envelope(key, project, kind, body, **options))

    def append_envelope(self, signed: bytes) -> dict:
        return self._with_retries("POST", "/v1/events", signed)[1]

    def append_batch(self, envelopes: list) -> list:
        """Appends envelopes as one atomic batch: every one, or none; the entries."""
        body = b'{"envelopes":[' + b",".join(envelopes) + b"]}"
        return self._with_retries("POST", "/v1/batches", body)[1]["entries"]

    # -- reads ------------------------------------------------------------------------------

    def head(self) -> dict:
        return self.get("/v1/head")

    def entries(self, after=None, limit=None, wait=None) -> dict:
        """A page of the log: {"entries": [...], "next": ...}; `wait` long-polls (1 to 60 s)."""
        return self.get("/v1/entries", after=after, limit=limit, wait=wait)

    def entry(self, sequence: int) -> dict:
        return self.get(f"/v1/entries/{sequence}")

    def event(self, event_id: str) -> dict:
        return self.get(f"/v1/events/{urllib.parse.quote(event_id, safe='')}")

    def projects(self) -> dict:
        return self.get("/v1/projects")

    def project_events(self, project: str, after=None, limit=None) -> dict:
        return self.get(f"/v1/projects/{urllib.parse.quote(project, safe='')}/events", after=after, limit=limit)

    def project(self, project: str, what: str, **query) -> dict:
        """A project's read model: `status`, `governance`, `history`, `compliance`, `prov`."""
        return self.get(f"/v1/projects/{urllib.parse.quote(project, safe='')}/{what}", **query)

    def asset(self, project: str, asset: str, what: str, **query) -> dict:
        """An asset's read: `provenance`, `audit`, `evidence`, `verdict`, `readiness`,
        `disclosure`, `prov`, `c2pa`."""
        p, a = urllib.parse.quote(project, safe=""), urllib.parse.quote(asset, safe="")
        return self.get(f"/v1/projects/{p}/assets/{a}/{what}", **query)

    def checkpoint(self) -> str:
        response = self._request("GET", "/v1/checkpoint", stream=True)
        with response:
            return response.read().decode()

    # -- the live feed ----------------------------------------------------------------------

    def feed(self, after=None, project=None, kind=None, reconnect=True):
        """Yields each entry the token may read, in log order, from after `after` (from the
        first entry if None), then live. A broken stream is reopened from the last entry
        received (Last-Event-ID): nothing is missed, nothing repeated."""
        last = after
        while True:
            query = {k: v for k, v in {"project": project, "kind": kind}.items() if v is not None}
            path = "/v1/feed" + ("?" + urllib.parse.urlencode(query) if query else "")
            headers = {"Last-Event-ID": str(last)} if last is not None else {}
            wait = 1.0
            try:
                response = self._request("GET", path, headers=headers, stream=True)
                with response:
                    for sequence, entry in _events(response):
                        last = sequence
                        yield entry
            except (LineageError, socket.timeout, ConnectionError) as e:
                status = getattr(e, "status", None)
                # Too many feeds open (an old connection not yet noticed gone) or a busy server:
                # wait as told, then come back.
                if not reconnect or (status is not None and status not in (429, 503)):
                    raise
                wait = getattr(e, "retry_after", None) or wait
            if not reconnect:
                return
            time.sleep(wait)

    # -- webhooks ---------------------------------------------------------------------------

    def register_webhook(self, url: str, **fields) -> dict:
        """Registers an endpoint (fields: project, organization, kinds, description, from_);
        the answer carries its secret, once."""
        if "from_" in fields:
            fields["from"] = fields.pop("from_")
        return self._send("POST", "/v1/webhooks", {"url": url, **fields})

    def webhooks(self) -> list:
        return self.get("/v1/webhooks")["webhooks"]

    def webhook(self, webhook_id: str) -> dict:
        return self.get(f"/v1/webhooks/{webhook_id}")

    def pause_webhook(self, webhook_id: str, paused: bool = True) -> dict:
        return self._send("PATCH", f"/v1/webhooks/{webhook_id}", {"status": "paused" if paused else "active"})

    def rotate_webhook_secret(self, webhook_id: str) -> dict:
        return self._send("POST", f"/v1/webhooks/{webhook_id}/secret", None)

    def deliveries(self, webhook_id: str, sequence=None, limit=None) -> list:
        return self.get(f"/v1/webhooks/{webhook_id}/deliveries", sequence=sequence, limit=limit)["deliveries"]

    def replay_webhook(self, webhook_id: str, from_sequence: int) -> dict:
        return self._send("POST", f"/v1/webhooks/{webhook_id}/deliveries", {"from": from_sequence})

    def delete_webhook(self, webhook_id: str) -> None:
        self._request("DELETE", f"/v1/webhooks/{webhook_id}")


def _events(response):
    """(sequence, entry) of each `entry` event of a Server-Sent Events stream."""
    event_id, data = None, []
    for raw in response:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data and event_id is not None:
                yield int(event_id), json.loads("\n".join(data))
            event_id, data = None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                event_id = value
            elif name == "data":
                data.append(value)
