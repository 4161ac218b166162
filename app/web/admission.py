"""Admission: what a request must pass before it may use the database.

1. Its **whole body**, read within BODY_TIMEOUT seconds (else 408) and MAX_BODY_BYTES
   (else 413, at once when Content-Length says so), before anything else happens. The
   application then reads it from memory.
2. One of **MAX_IN_FLIGHT places**, taken only once the body is in, waited for at most
   QUEUE_TIMEOUT seconds (else 503 + Retry-After: no pile-up in front of the pool), and
   given back as soon as the response starts: a slow client, sending its body a byte at a
   time or reading its answer slowly, never holds a place. An event stream holds one while
   it is set up (token, barber, the events it missed), not while it streams.

/health, /metrics, /schema, the booking page and its files take no place: they must
answer while the service is busy.

An attack (issue 11) sent 64 bodies at a byte every 2 s: the places were taken before the
body was read, and every other caller got 503 for as long as those connections stayed
open, while /health said 200.
"""

from __future__ import annotations

import asyncio

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.web.problems import PROBLEM, problem_body

_OPEN_PREFIXES = ("/health", "/metrics", "/schema", "/static")


def _uses_database(path: str) -> bool:
    return path != "/" and not path.startswith(_OPEN_PREFIXES)


async def answer_problem(
    send: Send, status: int, code: str, title: str, detail: str, retry_after: str | None = None
) -> None:
    """Answer a problem from a middleware, before any handler ran."""
    body = problem_body(status, code, title, detail)
    headers = [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", retry_after.encode()))
    if status in (408, 413):
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def admission(*, max_in_flight: int, queue_timeout: float, body_timeout: float, max_body_bytes: int):
    """The ASGI middleware factory (Litestar's `middleware=[...]`)."""
    places = asyncio.Semaphore(max_in_flight)

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            # 1. The body, within the deadline and the size limit.
            headers = dict(scope.get("headers") or [])
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
                await answer_problem(
                    send,
                    413,
                    "payload_too_large",
                    "Request body too large",
                    f"The body may be at most {max_body_bytes} bytes (Content-Length says {int(declared)}).",
                )
                return
            buffered: list[Message] = []
            if declared not in (None, b"0") or b"transfer-encoding" in headers:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + body_timeout
                size = 0
                while True:
                    try:
                        # asyncio.timeout_at, not wait_for: no task per message (issue 13's profile)
                        async with asyncio.timeout_at(deadline):
                            message = await receive()
                    except TimeoutError:
                        await answer_problem(
                            send,
                            408,
                            "request_timeout",
                            "Request timeout",
                            f"The request's body did not arrive within {body_timeout:g} s.",
                        )
                        return
                    if message["type"] == "http.disconnect":
                        return
                    buffered.append(message)
                    size += len(message.get("body", b""))
                    if size > max_body_bytes:
                        await answer_problem(
                            send,
                            413,
                            "payload_too_large",
                            "Request body too large",
                            f"The body may be at most {max_body_bytes} bytes.",
                        )
                        return
                    if not message.get("more_body", False):
                        break

            async def replay() -> Message:
                if buffered:
                    return buffered.pop(0)
                return await receive()

            if not _uses_database(scope.get("path", "")):
                await app(scope, replay, send)
                return

            # 2. A place, only now, given back when the response starts.
            try:
                if places.locked():  # a free place is taken at once, without a timer
                    async with asyncio.timeout(queue_timeout):
                        await places.acquire()
                else:
                    await places.acquire()
            except TimeoutError:
                metrics.SHED.inc()
                await answer_problem(
                    send,
                    503,
                    "overloaded",
                    "The service is busy",
                    f"More than {max_in_flight} requests are in progress; retry in a second.",
                    "1",
                )
                return
            held = [True]

            def give_back() -> None:
                if held[0]:
                    held[0] = False
                    places.release()

            async def send_and_release(message: Message) -> None:
                if message["type"] == "http.response.start":
                    give_back()
                await send(message)

            try:
                await app(scope, replay, send_and_release)
            finally:
                give_back()

        return middleware

    return factory
