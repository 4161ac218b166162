"""Operations: /health (does the database answer?) and /metrics (Prometheus). Both open,
and never shed (app.web.admission)."""

from __future__ import annotations

import asyncio
import logging

import msgspec
from litestar import Request, Response, get

from app import metrics
from app.queries import QUERIES
from app.web.problems import problem_response

log = logging.getLogger("booking.http")


class Health(msgspec.Struct):
    status: str
    database: str


@get("/health", summary="200 when the database answers within HEALTH_TIMEOUT, 503 otherwise")
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
    return Response(Health("ok", "ok"), headers={"Cache-Control": "no-store"})


@get("/metrics", summary="Prometheus metrics", media_type="text/plain")
async def prometheus_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)


HANDLERS = [health, prometheus_metrics]
