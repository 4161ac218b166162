"""The HTTP server: uvicorn (httptools, uvloop) with the limits a server facing the network
needs and uvicorn lacks, enforced per connection before the application sees a request.

uvicorn keeps a connection open that sends nothing, or trickles its headers, for ever; it
buffers a header of any size; it closes a keep-alive connection only after a response. An
attack on the service (issue 11) held 20,000 idle connections until the process ran out of
file descriptors, and four unfinished 64 MiB headers raised its memory by 256 MiB. So:

| limit                 | setting             | answer                                       |
|-----------------------|---------------------|----------------------------------------------|
| request head deadline | HEADER_TIMEOUT 10 s | from the connection (or the first byte of a  |
|                       |                     | next request) to the end of the headers: 408 |
|                       |                     | and close                                    |
| request body deadline | BODY_TIMEOUT 10 s   | from the end of the headers to the end of    |
|                       |                     | the body: 408 and close (the application's   |
|                       |                     | own deadline, app.admission, answers first)  |
| idle keep-alive       | KEEPALIVE_TIMEOUT 5 | close                                        |
| head size             | MAX_HEADER_BYTES    | 431 (a URL alone over half of it: 414), and  |
|                       | 16384               | nothing more is buffered                     |
| header count          | MAX_HEADERS 100     | 431                                          |
| open connections      | MAX_CONNECTIONS     | 503 with Retry-After at once, then close     |
|                       | 1000                |                                              |

Every refusal is an RFC 9457 problem (application/problem+json) like the application's,
with the security headers of docs/SECURITY.md, and closes the connection; so are the
malformed requests httptools refuses (a garbage request line, two Content-Length headers,
Content-Length with Transfer-Encoding: request smuggling forms), which uvicorn answers
400 text/plain. Refusals are counted in http_connections_refused_total{reason} and logged
at most once a second.

The subclass uses uvicorn's HttpToolsProtocol hooks (connection_made, data_received, the
parser callbacks); pyproject.toml pins the uvicorn versions it was written against, and
tests/py/e2e/test_attacks.py holds it to the table above against a real process.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app import metrics
from app.web.problems import PROBLEM, problem_body

log = logging.getLogger("booking.server")

# The headers of docs/SECURITY.md, for the answers written here (the app adds its own).
_SECURITY_HEADERS = (
    b"x-content-type-options: nosniff\r\nreferrer-policy: no-referrer\r\n"
    b"x-frame-options: DENY\r\ncontent-security-policy: default-src 'none'; frame-ancestors 'none'\r\n"
)
_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class ServerLimits:
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    max_header_bytes: int = 16384
    max_headers: int = 100
    max_connections: int = 1000
    max_body_bytes: int = 16384  # only to bound what is buffered before the headers end


def problem_bytes(status: int, code: str, title: str, detail: str, retry_after: int | None = None) -> bytes:
    """A complete HTTP/1.1 response carrying an RFC 9457 problem, closing the connection."""
    body = problem_body(status, code, title, detail)
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n"
        f"content-type: {PROBLEM}\r\ncontent-length: {len(body)}\r\nconnection: close\r\n"
    )
    if retry_after is not None:
        head += f"retry-after: {retry_after}\r\n"
    return head.encode() + _SECURITY_HEADERS + b"\r\n" + body


class _RateLimitedLog:
    """At most one warning a second per reason, with the count since the last one."""

    def __init__(self) -> None:
        self.last: dict[str, float] = {}
        self.pending: dict[str, int] = {}

    def warn(self, reason: str, message: str) -> None:
        self.pending[reason] = self.pending.get(reason, 0) + 1
        now = time.monotonic()
        if now - self.last.get(reason, 0.0) >= 1.0:
            log.warning(
                "%s (%d refused since the last report)",
                message,
                self.pending[reason],
                extra={"refusal": reason, "count": self.pending[reason]},
            )
            self.last[reason] = now
            self.pending[reason] = 0


_refusals = _RateLimitedLog()


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the deadlines and caps of the module docstring.
    `limits` is set on a subclass by guarded_protocol()."""

    limits = ServerLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer = None
        self._in_head = False
        self._head_bytes = 0  # raw bytes received while the head is incomplete
        self._header_count = 0
        self._header_size = 0
        self._refusal: tuple[int, str, str, str] | None = None
        self._done = False

    # --- deadlines --------------------------------------------------------------------
    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._expired, what)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self, what: str) -> None:
        self._timer = None
        if self._done or self.transport.is_closing():
            return
        if what == "head":
            self._refuse(
                408,
                "request_timeout",
                "Request timeout",
                f"The request's headers did not arrive within {self.limits.header_timeout:g} s.",
                "head_timeout",
            )
        elif self.cycle is not None and not self.cycle.response_started:
            self._refuse(
                408,
                "request_timeout",
                "Request timeout",
                f"The request's body did not arrive within {self.limits.body_timeout:g} s.",
                "body_timeout",
            )
        else:
            self._close("body_timeout")

    def _refuse(
        self, status: int, code: str, title: str, detail: str, reason: str, retry_after: int | None = None
    ) -> None:
        if self._done:
            return
        metrics.CONNECTIONS_REFUSED.labels(reason).inc()
        _refusals.warn(reason, f"refused a connection from {self.client}: {detail}")
        self.transport.write(problem_bytes(status, code, title, detail, retry_after))
        self._close(None)

    def _close(self, reason: str | None) -> None:
        if reason is not None:
            metrics.CONNECTIONS_REFUSED.labels(reason).inc()
        self._done = True
        self._disarm()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()

    # --- uvicorn's hooks --------------------------------------------------------------
    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(
                503,
                "too_many_connections",
                "Too many connections",
                f"The service holds {self.limits.max_connections} connections; retry shortly.",
                "max_connections",
                retry_after=1,
            )
            return
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._done = True
        self._disarm()
        super().connection_lost(exc)

    def _start_head(self) -> None:
        self._in_head = True
        self._head_bytes = self._header_count = self._header_size = 0
        self._arm(self.limits.header_timeout, "head")

    def data_received(self, data: bytes) -> None:
        if self._done:
            return
        if self._in_head:
            self._head_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(400, "bad_request", "Bad request", "Protocol upgrades are not supported.", "upgrade")
        except httptools.HttpParserError as e:
            if self._refusal is not None:
                self._refuse(*self._refusal)
            else:
                self._refuse(
                    400,
                    "bad_request",
                    "Bad request",
                    f"The request is not valid HTTP/1.1 ({str(e)[:80]}).",
                    "malformed",
                )
            return
        # A header still unfinished: httptools keeps it until it ends. What may legitimately
        # arrive before the headers end is the head and a body; beyond that, stop buffering.
        if self._in_head and self._head_bytes > self.limits.max_header_bytes + self.limits.max_body_bytes + 4096:
            self._refuse(
                431,
                "request_header_fields_too_large",
                "Request header fields too large",
                f"The request's headers exceed {self.limits.max_header_bytes} bytes.",
                "header_bytes",
            )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_head:  # a next request on a kept-alive connection
            self._start_head()

    def on_url(self, url: bytes) -> None:
        self._header_size += len(url)
        if self._header_size > self.limits.max_header_bytes // 2:
            self._refusal = (
                414,
                "uri_too_long",
                "URI too long",
                f"The request's URL exceeds {self.limits.max_header_bytes // 2} bytes.",
                "url_bytes",
            )
            raise httptools.HttpParserError("URL too long")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_size += len(name) + len(value) + 4
        if self._header_count > self.limits.max_headers:
            self._refusal = (
                431,
                "request_header_fields_too_large",
                "Request header fields too large",
                f"The request has more than {self.limits.max_headers} headers.",
                "header_count",
            )
            raise httptools.HttpParserError("too many headers")
        if self._header_size > self.limits.max_header_bytes:
            self._refusal = (
                431,
                "request_header_fields_too_large",
                "Request header fields too large",
                f"The request's headers exceed {self.limits.max_header_bytes} bytes.",
                "header_bytes",
            )
            raise httptools.HttpParserError("headers too large")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._arm(self.limits.body_timeout, "body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:  # uvicorn's own, text/plain
        self._refuse(400, "bad_request", "Bad request", msg, "malformed")


def guarded_protocol(limits: ServerLimits) -> type[GuardedHttpToolsProtocol]:
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})
