"""A webhook receiver for the tests: verifies every delivery with the `standardwebhooks`
package (https://github.com/standard-webhooks/standard-webhooks), as an integration would.

    python3 tests/webhook_receiver.py --port P --secrets FILE --log FILE [--fail-first N] [--gone-after N]

Listens on 127.0.0.1:P (0: any port; the port is printed as `listening on P`). Each POST is
verified with every secret in FILE (one per line, read at each request, so that a test can
write it after registering the endpoint, or change it after a rotation; until FILE exists every
delivery is answered 503): one that verifies with none is answered 401 and logged as
`{"bad": ...}`. The first N deliveries that verify are
answered 500 (and logged as `{"failed": webhook-id}`); after N accepted ones, 410 Gone. Each
accepted delivery is logged as one JSON line: its webhook-id, the entry's sequence, project and
kind, and which secrets' signatures it carried.
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

args = None
lock = threading.Lock()
counts = {"failed": 0, "accepted": 0}


def log(record):
    with lock, open(args.log, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k: v for k, v in self.headers.items()}
        try:
            with open(args.secrets) as f:
                secrets = [line.strip() for line in f if line.strip()]
        except FileNotFoundError:
            # Not told its secret yet (the test writes it once the registration answered, and
            # deliveries may come first): not ready, as a receiver still starting would be.
            return self.answer(503)
        verified = []
        message = None
        for index, secret in enumerate(secrets):
            try:
                message = Webhook(secret).verify(body, headers)
                verified.append(index)
            except Exception:
                pass
        if message is None:
            log({"bad": headers.get("webhook-id"), "signature": headers.get("webhook-signature")})
            return self.answer(401)
        with lock:
            if counts["failed"] < args.fail_first:
                counts["failed"] += 1
                status = 500
            elif args.gone_after is not None and counts["accepted"] >= args.gone_after:
                status = 410
            else:
                counts["accepted"] += 1
                status = 204
        if status != 204:
            log({"failed": headers.get("webhook-id"), "status": status})
            return self.answer(status)
        data = message["data"]
        log({
            "id": headers["webhook-id"],
            "type": message["type"],
            "sequence": data["sequence"],
            "project": data["project"],
            "kind": data["kind"],
            "verified_by": verified,
            "signatures": len(headers["webhook-signature"].split(" ")),
        })
        self.answer(204)

    def answer(self, status):
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secrets", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--gone-after", type=int)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Receiver)
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
