"""A webhook receiver for trying the service: prints each reminder and checks its signature.

    python3 examples/webhook_receiver.py --port 9000 --secret s3cret

Answers 200 to a correctly signed request (or any request when no --secret is given), 401 to a
badly signed one, and 200 without printing again to a repeated Idempotency-Key.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def is_authentic(body: bytes, header: str | None, secret: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    # During a rotation of the team's secret the header carries two signatures, comma-separated.
    offered = (header or "").split(",")
    return any(hmac.compare_digest(expected, value.strip()) for value in offered)


def handler_for(secret: str | None) -> type[BaseHTTPRequestHandler]:
    seen: set[str] = set()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            signature = self.headers.get("X-Reminder-Signature")
            if secret is not None and not is_authentic(body, signature, secret):
                print("rejected: bad or missing signature", flush=True)
                self.send_response(401)
                self.end_headers()
                return
            key = self.headers.get("Idempotency-Key", "")
            if key not in seen:
                seen.add(key)
                reminder = json.loads(body)
                verdict = "verified" if secret else "unsigned"
                print(f"reminder ({verdict}) Idempotency-Key={key}: {json.dumps(reminder)}", flush=True)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Receiver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", default=None)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(args.secret))
    print(f"listening on http://127.0.0.1:{args.port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
