"""Operations: /health (does the database answer? how far behind is the change feed?) and
/metrics (Prometheus). Both open, and never shed (app.web.admission)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import msgspec
from litestar import Request, Response, get

from app import metrics
from app.queries import QUERIES
from app.web.problems import problem_response

log = logging.getLogger("booking.http")


# The change feed is "behind" past either bound (bookings are not affected: /health stays 200).
FEED_MAX_LAG_BYTES = 256 * 1024 * 1024  # WAL the slot keeps (mode logical)
FEED_MAX_PENDING_SECONDS = 60.0  # age of the oldest outbox row not relayed (mode outbox)


class ChangeFeedHealth(msgspec.Struct, omit_defaults=True):
    status: str  # ok | behind | slot_lost | unknown
    mode: str | None = None
    relay: str = "off"  # this process: leader | standby | off
    reading: str | None = None  # the leader: stream (the slot, over replication) | poll
    slot_status: str | None = None
    lag_bytes: int | None = None
    pending_changes: int | None = None
    latest_event_id: int | None = None


class Health(msgspec.Struct):
    status: str
    database: str
    change_feed: ChangeFeedHealth | None = None


async def change_feed_health(request: Request, timeout: float) -> ChangeFeedHealth:
    relay = request.app.state.relay
    role = "off" if relay is None else ("leader" if relay.leader.is_set() else "standby")
    reading = relay.reading if relay is not None and role == "leader" else None
    try:
        row = await asyncio.wait_for(request.app.state.read_pool.fetchrow(QUERIES["change_feed_status"]), timeout)
    except Exception as e:  # the database answered SELECT 1: report, do not fail
        log.warning("change feed status unavailable: %r", e)
        return ChangeFeedHealth("unknown", relay=role, reading=reading)
    lag = None if row["lag_bytes"] is None else int(row["lag_bytes"])
    pending_age = (
        (datetime.now(UTC) - row["oldest_pending"]).total_seconds() if row["oldest_pending"] is not None else 0.0
    )
    if row["slot_status"] in ("lost", "missing") and row["mode"] == "logical":
        status = "slot_lost"
    elif (lag or 0) > FEED_MAX_LAG_BYTES or pending_age > FEED_MAX_PENDING_SECONDS:
        status = "behind"
    else:
        status = "ok"
    return ChangeFeedHealth(
        status, row["mode"], role, reading, row["slot_status"], lag, row["pending_changes"], row["latest_event_id"]
    )


@get(
    "/health",
    summary="200 when the database answers within HEALTH_TIMEOUT, 503 otherwise; reports the change feed",
)
async def health(request: Request) -> Response[Health]:
    timeout = request.app.state.settings.health_timeout
    try:
        await asyncio.wait_for(request.app.state.pool.fetchval(QUERIES["health"]), timeout=timeout)
    except Exception as e:  # any failure to answer is "unavailable"
        log.warning("health check failed: %r", e)
        return problem_response(
            503,
            "database_unavailable",
            "The database is not available",
            f"SELECT 1 did not answer within {timeout:g} s ({type(e).__name__}).",
            {"Retry-After": "5", "Cache-Control": "no-store"},
        )
    feed = await change_feed_health(request, timeout)
    return Response(Health("ok", "ok", feed), headers={"Cache-Control": "no-store"})


@get("/metrics", summary="Prometheus metrics", media_type="text/plain")
async def prometheus_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)


HANDLERS = [health, prometheus_metrics]
