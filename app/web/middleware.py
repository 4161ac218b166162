"""The middleware around the handlers, in the order a request meets it (docs/SECURITY.md):

- `latency`: http_request_duration_seconds by method, route template and status;
- `app.web.admission`: the whole body within BODY_TIMEOUT and MAX_BODY_BYTES, then one of
  MAX_IN_FLIGHT places until the response starts;
- `json_bodies`: a body is JSON in UTF-8, or the request is refused before any handler:
  415 for another Content-Type, 400 invalid_json for a byte-order mark, bytes that are not
  UTF-8, a key given twice (`"barber_id": 1, "barber_id": 3` used to book barber 3), a
  lone surrogate escape, or text that is not JSON. The handlers' types then check the fields (app.web.bodies);
- `security_headers` (a before_send hook): the security headers of every response;
- `head_as_get`, around the router: HEAD on every resource that answers GET.
"""

from __future__ import annotations

import json
import re
import time as _time
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.web.admission import answer_problem

_JSON_MEDIA_RE = re.compile(r"application/(?:[a-z0-9!#$&^_.+-]+\+)?json", re.IGNORECASE)
_CHARSET_RE = re.compile(r"charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key[:60]!r} appears twice")
        seen[key] = value
    return seen


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def json_form_problem(content_type: str | None, body: bytes) -> tuple[int, str, str] | None:
    """(status, code, detail) when a request body is not JSON in UTF-8; None when it is."""
    media, _, params = (content_type or "").partition(";")
    charset = _CHARSET_RE.search(params)
    if not _JSON_MEDIA_RE.fullmatch(media.strip()) or (charset and charset.group(1).lower() not in ("utf-8", "utf8")):
        return (
            415,
            "unsupported_media_type",
            f"Send the body as Content-Type: application/json (UTF-8), not {media.strip()[:60]!r}.",
        )
    if body.startswith(b"\xef\xbb\xbf"):
        return 400, "invalid_json", "The body starts with a byte-order mark; send plain UTF-8."
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return 400, "invalid_json", "The body is not UTF-8 text."
    if not text.strip():
        return 400, "invalid_json", "The request body is empty; send a JSON object."
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as e:
        return 400, "invalid_json", f"The request body is not valid JSON: {str(e)[:200]}"
    try:  # an escape like "\ud800" (a lone surrogate) is JSON, but not Unicode text
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return 400, "invalid_json", "A string of the body holds a lone surrogate escape (such as \\ud800): not text."
    return None


def json_bodies(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        if scope["type"] != "http" or (
            headers.get(b"content-length") in (None, b"0") and b"transfer-encoding" not in headers
        ):
            await app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:  # app.web.admission has read it already: this is memory
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages)
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        problem = json_form_problem(content_type, body)
        if problem is not None:
            status, code, detail = problem
            title = "Unsupported media type" if status == 415 else "Malformed JSON"
            await answer_problem(send, status, code, title, detail)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await app(scope, replay, send)

    return middleware


def latency(app: ASGIApp) -> ASGIApp:
    """http_request_duration_seconds by method, route template and status."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = _time.perf_counter()
        state = {"status": 500, "recorded": False}

        def record(code: int) -> None:
            if not state["recorded"]:
                state["recorded"] = True
                metrics.REQUEST_LATENCY.labels(
                    scope["method"], scope.get("path_template", "unmatched"), str(code)
                ).observe(_time.perf_counter() - started)

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                # A stream (SSE) is measured to its first byte, not its whole life.
                if dict(message.get("headers") or []).get(b"content-type", b"").startswith(b"text/event-stream"):
                    record(message["status"])
            await send(message)

        try:
            await app(scope, receive, capture)
        except Exception as exc:
            code = getattr(exc, "status", None) or getattr(exc, "http_status", None) or getattr(exc, "status_code", 500)
            record(code if isinstance(code, int) else 500)
            raise
        record(state["status"])

    return middleware


def head_as_get(app: ASGIApp) -> ASGIApp:
    """HEAD on any resource that answers GET (RFC 9110 9.3.2): the GET's status and headers,
    without its body."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await app({**scope, "method": "GET"}, receive, headers_only)

    return middleware


# --- security headers (docs/SECURITY.md) ---------------------------------------------------

SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
}
# JSON, problems, event streams: nothing may be loaded or framed.
CSP_API = b"default-src 'none'; frame-ancestors 'none'"
# HTML pages (the booking page at /): scripts, styles and calls from this origin only, no
# inline code, no plugins, never framed.
CSP_PAGE = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    b"font-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
# The OpenAPI viewers under /schema load their scripts from a CDN and inline: only framing is barred.
CSP_SCHEMA_HTML = b"frame-ancestors 'none'"


async def security_headers(message: Message, scope: Scope) -> None:
    """before_send hook: the headers of every response, errors and 404s included."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders(message)
    for name, value in SECURITY_HEADERS.items():
        if headers.get(name.decode()) is None:
            headers[name.decode()] = value.decode()
    if headers.get("content-security-policy") is None:
        html = (headers.get("content-type") or "").startswith("text/html")
        csp = CSP_API if not html else CSP_SCHEMA_HTML if scope.get("path", "").startswith("/schema") else CSP_PAGE
        headers["content-security-policy"] = csp.decode()
