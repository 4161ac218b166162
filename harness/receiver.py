"""A webhook receiver for the tests and the torture run: a real HTTP server on loopback
(the standard library's ThreadingHTTPServer in a thread) that verifies each POST's
Standard Webhooks signature with the `standardwebhooks` library, as a shop's system would.

It records every request (verified or not), and can misbehave on purpose: answer 500 to
the next N requests (`fail_next`), answer only after a delay (`delay`, longer than the
sender's timeout: a timeout), or go away and come back on the same port (`stop`, `start`).

    with WebhookReceiver([secret]) as receiver:
        ... receiver.url ...
        receiver.wait_for(lambda r: len(r.verified) >= 3, timeout=10)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    message_id: str
    headers: dict[str, str]
    body: bytes
    verified: bool  # the signature matched one of the receiver's secrets, timestamp fresh
    status: int  # what the receiver answered
    at: float = field(default_factory=time.monotonic)

    @property
    def message(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(
        self, secrets: list[str] | None = None, *, host: str = "127.0.0.1", port: int = 0, path: str = "/hook"
    ):
        self.secrets = list(secrets or [])
        self.host = host
        self.port = port
        self.path = path
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._fail = 0
        self._delay = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- behaviour -----------------------------------------------------------------------
    def fail_next(self, n: int) -> None:
        """Answer 500 to the next n requests (they are recorded, status 500)."""
        with self._lock:
            self._fail = n

    def delay(self, seconds: float) -> None:
        """Answer each request only after this long (0: at once)."""
        self._delay = seconds

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    # --- what arrived ----------------------------------------------------------------------
    @property
    def verified(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.verified and 200 <= r.status < 300]

    def wait_for(self, condition: Callable[[WebhookReceiver], bool], timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self):
                return True
            time.sleep(0.02)
        return condition(self)

    # --- the server -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(min(length, 1 << 20))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if receiver._delay:
                    time.sleep(receiver._delay)
                with receiver._lock:
                    failing = receiver._fail > 0
                    if failing:
                        receiver._fail -= 1
                verified = receiver.verify(headers, body)
                status = 500 if failing else (204 if verified else 401)
                with receiver._lock:
                    receiver.received.append(Received(headers.get("webhook-id", ""), headers, body, verified, status))
                try:
                    self.send_response(status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:  # the sender gave up (its timeout)
                    pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Go away (connections are refused) until start() again, on the same port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
