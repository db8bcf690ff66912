"""The client against a real server: the binary named by LINEAGE_BIN, on a temporary data
directory, with webhook receivers on 127.0.0.1 allowed."""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import standardwebhooks
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lineage_client import (
    Client,
    Forbidden,
    KeyFile,
    NotFound,
    ProblemError,
    Unauthorized,
    VersionConflict,
    WebhookVerificationError,
    envelope,
    pae,
    verify_webhook,
)

PROJECT = "py-client:spot"


class Server:
    def __init__(self):
        binary = os.environ.get("LINEAGE_BIN")
        if not binary:
            raise RuntimeError("LINEAGE_BIN must name the lineage binary the tests run against")
        self.dir = tempfile.mkdtemp()
        self.data = os.path.join(self.dir, "data")
        self.process = subprocess.Popen(
            [binary, "serve", "--addr", "127.0.0.1:0", "--data", self.data, "--webhook-allow-local",
             "--webhook-retry-ms", "50"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"},
        )
        for line in self.process.stdout:
            line = line.decode()
            if line.startswith("listening on "):
                self.url = line.split()[2]
                break
        else:
            raise RuntimeError("the server stopped before it listened")
        with open(os.path.join(self.data, "admin.token")) as f:
            self.token = f.read().strip()
        self.admin = KeyFile.load(os.path.join(self.data, "admin.key"))

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.client = Client(cls.server.url, token=cls.server.token)
        admin = cls.server.admin
        for org, kind in [("py-agency", "agency"), ("py-client", "client")]:
            cls.client.append(admin, "system", "organization_registered",
                              {"organization_id": org, "display_name": org, "kind": kind})
        cls.producer = KeyFile.generate("py-producer", "py-producer-k1")
        cls.client.append(admin, "system", "actor_registered", {
            "actor_id": "py-producer", "display_name": "Producer", "role": "producer", "organization": "py-agency",
            "keys": [{"key_id": cls.producer.key_id, "public_key": cls.producer.public_key}],
        })
        cls.client.append(cls.producer, PROJECT, "project_created",
                          {"content_type": "social", "title": "Spot", "client_organization": "py-client"},
                          expected_version=0)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def note(self, text, **options):
        return self.client.append(self.producer, PROJECT, "note_added", {"text": text}, **options)

    def test_an_envelope_is_ed25519_over_pae(self):
        payload = b'{"a":1}'
        signed = json.loads(envelope(self.producer, payload))
        self.assertEqual(base64.b64decode(signed["payload"]), payload)
        self.assertEqual(pae("t", b"xy"), b"DSSEv1 1 t 2 xy")
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.producer.public_key))
        public.verify(base64.b64decode(signed["signatures"][0]["sig"]), pae(signed["payloadType"], payload))
        path = os.path.join(tempfile.mkdtemp(), "k.key")
        self.producer.save(path)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(KeyFile.load(path).public_key, self.producer.public_key)

    def test_appends_with_expected_versions_and_idempotent_retries(self):
        version = self.client.project_events(PROJECT, limit=1000)["entries"][-1]["version"]
        entry = self.note("expected", expected_version=version)
        self.assertEqual(entry["version"], version + 1)
        with self.assertRaises(VersionConflict) as refused:
            self.note("stale", expected_version=version)
        self.assertEqual((refused.exception.status, refused.exception.type), (409, "version-conflict"))
        self.assertEqual(refused.exception.field, "payload.expected_version")
        self.assertEqual((refused.exception.expected, refused.exception.actual), (version, version + 1))
        signed = self.client.envelope(self.producer, PROJECT, "note_added", {"text": "sent twice"})
        first = self.client.append_envelope(signed)
        again = self.client.append_envelope(signed)
        self.assertEqual(first["sequence"], again["sequence"], "a retried event is recorded once")

    def test_a_batch_is_atomic_and_its_refusal_names_the_envelope(self):
        before = self.client.head()["size"]
        envelopes = [self.client.envelope(self.producer, PROJECT, "note_added", {"text": f"b{i}"}) for i in range(3)]
        entries = self.client.append_batch(envelopes)
        self.assertEqual([e["sequence"] for e in entries], [before, before + 1, before + 2])
        stranger = KeyFile.generate("nobody", "nobody-k1")
        bad = envelopes[:1] + [self.client.envelope(stranger, PROJECT, "note_added", {"text": "x"})]
        bad[0] = self.client.envelope(self.producer, PROJECT, "note_added", {"text": "b-ok"})
        with self.assertRaises(ProblemError) as refused:
            self.client.append_batch(bad)
        self.assertEqual((refused.exception.type, refused.exception.index), ("unknown-key", 1))
        self.assertEqual(self.client.head()["size"], before + 3, "nothing of a refused batch is written")

    def test_reads_and_typed_errors(self):
        entry = self.note("read me")
        self.assertEqual(self.client.entry(entry["sequence"])["event_id"], entry["event_id"])
        self.assertEqual(self.client.event(entry["event_id"])["sequence"], entry["sequence"])
        self.assertIn(PROJECT, [p["project"] for p in self.client.projects()["projects"]])
        self.assertTrue(self.client.project(PROJECT, "status"))
        self.assertTrue(self.client.checkpoint().startswith(self.client.ledger() + "\n"))
        with self.assertRaises(NotFound):
            self.client.entry(10**9)
        with self.assertRaises(Unauthorized) as refused:
            Client(self.server.url, token="lin_nope").head()
        self.assertEqual(refused.exception.type, "unauthorized")
        scoped = self.client._send("POST", "/v1/tokens", {"name": "py scoped", "organization": "py-agency"})
        with self.assertRaises(Forbidden):
            Client(self.server.url, token=scoped["token"]).project_events("system")
        page = self.client.entries(after=entry["sequence"] - 1, limit=1)
        self.assertEqual(page["entries"][0]["sequence"], entry["sequence"])

    def test_redirects_are_not_followed(self):
        hits = []

        class Redirector(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.headers.get("Authorization"))
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{elsewhere.server_address[1]}/v1/head")
                self.send_header("content-length", "0")
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *_):
                pass

        redirector = ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
        elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
        for server in (redirector, elsewhere):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            client = Client(f"http://127.0.0.1:{redirector.server_address[1]}", token="lin_secret", retries=0)
            with self.assertRaises(Exception):
                client.head()
            self.assertEqual(hits, ["Bearer lin_secret"], "the token went to the ledger's URL only")
        finally:
            redirector.shutdown()
            elsewhere.shutdown()

    def test_the_feed_resumes_with_no_gap_and_no_duplicate(self):
        start = self.client.head()["size"] - 1
        stop = threading.Event()

        def append():
            for i in range(40):
                if stop.is_set():
                    return
                self.note(f"live {i}")
                time.sleep(0.01)

        writer = threading.Thread(target=append)
        writer.start()
        seen = []
        for entry in self.client.feed(after=start, project=PROJECT, reconnect=False):
            seen.append(entry["sequence"])
            if len(seen) == 15:
                break
        # Resumed from the last entry received, while appends go on.
        writer.join()
        head = self.client.head()["size"]
        for entry in self.client.feed(after=seen[-1], project=PROJECT):
            seen.append(entry["sequence"])
            if entry["sequence"] == head - 1:
                break
        stop.set()
        self.assertEqual(len(seen), len(set(seen)), "no duplicate")
        self.assertEqual(seen, sorted(seen))
        listed = [e["sequence"] for e in self.client.entries(after=start, limit=1000)["entries"]
                  if e["project"] == PROJECT]
        self.assertEqual(seen, listed, "no gap")

    def test_webhook_deliveries_verify(self):
        received = []

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                received.append((body, dict(self.headers.items())))
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        try:
            hook = self.client.register_webhook(f"http://127.0.0.1:{receiver.server_address[1]}/",
                                                project=PROJECT, kinds=["note_added"])
            self.assertTrue(hook["secret"].startswith("whsec_"))
            entry = self.note("hooked")
            deadline = time.time() + 20
            while not received and time.time() < deadline:
                time.sleep(0.05)
            body, headers = received[0]
            message = verify_webhook(hook["secret"], body, headers)
            self.assertEqual(message["data"]["sequence"], entry["sequence"])
            # The Standard Webhooks package agrees.
            self.assertEqual(standardwebhooks.Webhook(hook["secret"]).verify(body, headers), message)
            with self.assertRaises(WebhookVerificationError):
                verify_webhook(hook["secret"], body + b" ", headers)
            other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
            with self.assertRaises(WebhookVerificationError):
                verify_webhook(other, body, headers)
            # An empty or malformed secret verifies nothing; a strange header is refused, not a crash.
            for secret in ["", "whsec_", "whsec_!!!!", "whsec_abc"]:
                with self.assertRaises(WebhookVerificationError):
                    verify_webhook(secret, body, headers)
            for name, value in [("webhook-signature", "v1,é"), ("webhook-timestamp", "+" + headers["webhook-timestamp"])]:
                with self.assertRaises(WebhookVerificationError):
                    verify_webhook(hook["secret"], body, {**headers, name: value})
            self.assertTrue(self.client.deliveries(hook["id"])[0]["delivered"])
            self.assertEqual([h["id"] for h in self.client.webhooks()], [hook["id"]])
            self.client.delete_webhook(hook["id"])
        finally:
            receiver.shutdown()


if __name__ == "__main__":
    unittest.main()
