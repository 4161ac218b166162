"""The thinnest honest HTTP layer over the same booking: the service's second baseline.

A pure ASGI app, no framework: POST /appointments with the same JSON, the same bearer
token checked by the same SQL (booking.authenticate_token on the read pool, cached per
token like the service when TOKEN_CACHE_SECONDS > 0), and the same statement on the same
write pool (sql/queries.sql create_booking, with the service's settings and its automatic
idempotency key), answered 201 with the appointment as JSON. It runs under the same
server (uvicorn, app.web.server's guarded protocol and limits), with the same pools
(app.db). What it leaves out is what each millisecond of the service above it pays for:
Litestar's routing, dependencies and validation, the middleware (latency metrics,
admission, body checks, security headers), the rate limiter, retries, metrics and the
log line per request.

    python -m bench.asgi_baseline      (DATABASE_URL, HOST, PORT, DB_POOL_* as for the service)
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import msgspec
import uvicorn

from app import db as dbmod
from app.config import Settings
from app.queries import QUERIES
from app.records import Appointment, from_row
from app.serve import uvicorn_config

ENCODE = msgspec.json.Encoder().encode


def create_baseline(settings: Settings):
    state: dict = {}
    tokens: dict[bytes, tuple[float, int]] = {}
    ttl = getattr(settings, "token_cache_seconds", 0)
    call_settings = (f"{round(settings.tuning['advisory_lock_timeout'] * 1000)}ms", "on", "24 hours")

    async def answer(send, status: int, body: bytes) -> None:
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": body})

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    state["pools"] = await dbmod.create_pools(settings)
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await state["pools"].close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["method"] == "GET" and scope["path"] == "/health":
            return await answer(send, 200, b"{}")
        if scope["method"] != "POST" or scope["path"] != "/appointments":
            return await answer(send, 404, b"{}")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        auth = dict(scope["headers"]).get(b"authorization", b"")
        if not auth.lower().startswith(b"bearer "):
            return await answer(send, 401, b"{}")
        token_hash = hashlib.sha256(auth[7:].strip()).digest()
        cached = tokens.get(token_hash)
        if cached is not None and cached[0] > time.monotonic():
            user_id = cached[1]
        else:
            row = await state["pools"].read.fetchrow(QUERIES["authenticate_token"], token_hash)
            if row is None:
                return await answer(send, 401, b"{}")
            user_id = row["user_id"]
            if ttl > 0:
                tokens[token_hash] = (time.monotonic() + ttl, user_id)
        try:
            req = json.loads(body)
            args = (
                req.get("barber_id"),
                user_id,
                req["service"],
                req["booking_date"],
                req["booking_time"],
                req.get("buffer_time_before", 0),
                req.get("buffer_time_after", 0),
                req.get("notes"),
                req.get("idempotency_key") or f"auto:{uuid.uuid4()}",
                req.get("shop_id"),
            )
        except (ValueError, KeyError, TypeError):
            return await answer(send, 422, b"{}")
        async with state["pools"].write.acquire() as conn:
            row = await conn.fetchrow(QUERIES["create_booking"], *args, *call_settings, "client")
        await answer(send, 201, ENCODE(from_row(Appointment, row)))

    return app


def main() -> None:
    settings = Settings.from_env()
    uvicorn.Server(uvicorn_config(create_baseline(settings), settings)).run()


if __name__ == "__main__":
    main()
