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


class PartitionHealth(msgspec.Struct):
    partition: int
    status: str  # ok | unavailable (the service's LISTEN connection to it is down)


class Health(msgspec.Struct, omit_defaults=True):
    status: str  # ok | degraded (a cluster's partition is unavailable: its shops get 503)
    database: str
    change_feed: ChangeFeedHealth | None = None
    partitions: list[PartitionHealth] | None = None  # over a cluster (docs/SCALING.md)
    # host:port of the server that takes the writes (over a multi-host URL, the primary
    # the service found: docs/RELIABILITY.md); absent over a Unix socket
    primary: str | None = None


_WORST = {"ok": 0, "behind": 1, "slot_lost": 2}


async def change_feed_health(request: Request, timeout: float) -> ChangeFeedHealth:
    """The feed's state; over a cluster, the worst partition's (one row per partition)."""
    relays = request.app.state.relays
    leading = [r for r in relays if r.leader.is_set()]
    role = "off" if not relays else ("leader" if leading else "standby")
    reading = leading[0].reading if leading else None
    try:
        rows = await asyncio.wait_for(request.app.state.read_pool.fetch(QUERIES["change_feed_status"]), timeout)
    except Exception as e:  # the database answered SELECT 1: report, do not fail
        log.warning("change feed status unavailable: %r", e)
        return ChangeFeedHealth("unknown", relay=role, reading=reading)
    if not rows:
        return ChangeFeedHealth("unknown", relay=role, reading=reading)
    states = [_feed_state(row, role, reading) for row in rows]
    return max(states, key=lambda state: _WORST.get(state.status, 0))


def _feed_state(row, role: str, reading: str | None) -> ChangeFeedHealth:
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
    summary="200 when the database answers within HEALTH_TIMEOUT, 503 otherwise; reports the change feed "
    "and the primary's host:port",
)
async def health(request: Request) -> Response[Health]:
    timeout = request.app.state.settings.health_timeout
    try:
        primary = await asyncio.wait_for(request.app.state.pool.fetchval(QUERIES["server_address"]), timeout=timeout)
    except Exception as e:  # any failure to answer is "unavailable"
        log.warning("health check failed: %r", e)
        metrics.DATABASE_UP.set(0)
        return problem_response(
            503,
            "database_unavailable",
            "The database is not available",
            f"SELECT 1 did not answer within {timeout:g} s ({type(e).__name__}).",
            {"Retry-After": "5", "Cache-Control": "no-store"},
        )
    metrics.DATABASE_UP.set(1)
    feed = await change_feed_health(request, timeout)
    listening = request.app.state.events.partitions_listening
    partitions = [PartitionHealth(k, "ok" if up else "unavailable") for k, up in sorted(listening.items())] or None
    status = "degraded" if partitions and any(p.status != "ok" for p in partitions) else "ok"
    return Response(Health(status, "ok", feed, partitions, primary), headers={"Cache-Control": "no-store"})


@get("/metrics", summary="Prometheus metrics", media_type="text/plain")
async def prometheus_metrics(request: Request) -> Response:
    # booking_database_up is what this scrape saw (the alert "database down" reads it)
    try:
        timeout = request.app.state.settings.health_timeout
        await asyncio.wait_for(request.app.state.pool.fetchval(QUERIES["health"]), timeout=timeout)
        metrics.DATABASE_UP.set(1)
    except Exception:  # any failure to answer is "down"
        metrics.DATABASE_UP.set(0)
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)


HANDLERS = [health, prometheus_metrics]
