"""The HTTP API (contract section 3) as a Litestar app, thin over app.booking and app.reads.

    from app.web import create_app
    app = create_app(Settings.from_env())

| module          | what                                                                   |
|-----------------|------------------------------------------------------------------------|
| appointments    | POST /appointments, GET/PATCH /appointments/{id}, POST .../cancel      |
|                 | and GET /appointments, the caller's schedule (one page per call)      |
| cursor          | the opaque next_cursor of GET /appointments                            |
| barbers         | availability (two routes, one handler), the event stream, the listings |
| shops           | running a shop: barbers, services, working hours (ETag), time off      |
| calendar        | iCalendar: a barber's feed (staff or feed key), its keys, one appt.    |
| learning        | buffer recommendations and their application; refused bookings noted   |
| operations      | /health, /metrics                                                      |
| page            | the booking page and its files                                         |
| auth            | the bearer token as a dependency (`caller: Caller`)                    |
| bodies          | the request bodies, as types (the OpenAPI document is made from them)  |
| conditional     | If-Match (RFC 9110)                                                    |
| problems        | RFC 9457 problem documents, the app's one exception handler            |
| admission       | bodies read within a deadline, MAX_IN_FLIGHT places                    |
| middleware      | latency, JSON bodies, security headers, HEAD                           |
| server          | uvicorn's protocol with the connection limits                          |
| openapi         | /schema: the bearer scheme and the problem answers                     |

Data flows one way: a handler parses the request into typed values (Litestar, from the
types of app.web.bodies and the handler's parameters), makes one call, and answers the
typed record it gets back. No handler holds SQL or a booking rule.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import replace

import asyncpg
from litestar import Litestar
from litestar.config.cors import CORSConfig

from app import db as dbmod
from app.config import Settings
from app.events import EventHub
from app.queries import QUERIES
from app.ratelimit import WriteLimiter
from app.relay import ChangeFeedRelay
from app.tuning import configure_booking_service
from app.web import barbers, calendar, learning, operations, page, policies
from app.web.admission import admission
from app.web.appointments import AppointmentController
from app.web.auth import DEPENDENCIES, TokenCache
from app.web.holds import HoldController
from app.web.middleware import head_as_get, json_bodies, latency, security_headers
from app.web.openapi import openapi_config
from app.web.problems import exception_to_response
from app.web.shops import HANDLERS as SHOP_HANDLERS
from app.web.webhooks import HANDLERS as WEBHOOK_HANDLERS
from app.webhooks import WebhookWorker

log = logging.getLogger("booking.http")


async def _purge_loop(app: Litestar) -> None:
    """Expired idempotency keys and change-feed events past the operator's retention."""
    interval = app.state.settings.purge_interval
    while True:
        try:
            deleted = await app.state.pool.fetchval(QUERIES["purge_idempotency_keys"])
            events = await app.state.pool.fetchval(QUERIES["purge_appointment_events"])
            log.info(
                "purged %s expired idempotency key(s) and %s old change-feed event(s)",
                deleted,
                events,
                extra={"idempotency_keys_deleted": deleted, "events_deleted": events},
            )
        except Exception as e:  # the next round tries again
            log.warning("purging idempotency keys and old events failed: %r", e)
        await asyncio.sleep(interval)


async def _create_pools(settings: Settings) -> dbmod.Pools:
    try:
        return await dbmod.create_pools(settings)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        # Start anyway: /health says 503 until the database answers, requests get 503.
        log.error("database not reachable at startup (%r); connecting on demand", e)
        return await dbmod.create_pools(settings, min_size=0)


def _cors(settings: Settings) -> CORSConfig | None:
    if not settings.cors_allow_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_allow_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "Last-Event-ID"],
        expose_headers=["ETag", "Location", "Idempotent-Replayed", "Retry-After", "WWW-Authenticate"],
        allow_credentials=False,
        max_age=600,
    )


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        configure_booking_service(settings.enable_double_booking_prevention, **settings.tuning)
        app.state.settings = settings
        app.state.pools = await _create_pools(settings)
        app.state.pool = app.state.pools.write  # the booking calls
        app.state.read_pool = app.state.pools.read  # everything else
        # Over a cluster (DATABASE_URL is its proxy): one relay and one LISTEN per partition.
        app.state.partitions = await dbmod.cluster_partitions(app.state.read_pool)
        app.state.events = EventHub(settings, read_pool=app.state.read_pool, partition_urls=app.state.partitions)
        app.state.token_cache = TokenCache(settings.token_cache_seconds)
        app.state.events.subscribe(TokenCache.CHANNEL, app.state.token_cache.clear, app.state.token_cache.listening)
        app.state.write_limiter = WriteLimiter(settings.rate_limit_per_minute)
        await app.state.events.start()
        app.state.relays = (
            [
                ChangeFeedRelay(replace(settings, database_url=url) if app.state.partitions else settings)
                for url in (app.state.partitions.values() or [settings.database_url])
            ]
            if settings.change_feed_relay
            else []
        )
        app.state.relay = app.state.relays[0] if app.state.relays and not app.state.partitions else None
        for relay in app.state.relays:
            await relay.start()
        # The webhook delivery worker: one connection per database that holds deliveries.
        app.state.webhooks = (
            WebhookWorker(settings, list(app.state.partitions.values()) or None, name="service")
            if settings.webhook_delivery
            else None
        )
        if app.state.webhooks is not None:
            await app.state.webhooks.start()
        purge = asyncio.create_task(_purge_loop(app)) if settings.purge_interval > 0 else None
        try:
            yield
        finally:
            if purge is not None:
                purge.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await purge
            if app.state.webhooks is not None:
                await app.state.webhooks.stop()
            for relay in app.state.relays:
                await relay.stop()
            await app.state.events.stop()
            with suppress(Exception):
                await asyncio.wait_for(app.state.pools.close(), timeout=5)

    app = Litestar(
        route_handlers=[
            AppointmentController,
            HoldController,
            *barbers.HANDLERS,
            *calendar.HANDLERS,
            *SHOP_HANDLERS,
            *policies.HANDLERS,
            *learning.HANDLERS,
            *WEBHOOK_HANDLERS,
            *operations.HANDLERS,
            *page.HANDLERS,
        ],
        dependencies=DEPENDENCIES,
        lifespan=[lifespan],
        exception_handlers={Exception: exception_to_response},
        middleware=[
            latency,
            admission(
                max_in_flight=settings.max_in_flight,
                queue_timeout=settings.queue_timeout,
                body_timeout=settings.body_timeout,
                max_body_bytes=settings.max_body_bytes,
            ),
            json_bodies,
        ],
        cors_config=_cors(settings),
        before_send=[security_headers],
        openapi_config=openapi_config(),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
        logging_config=None,  # app.logs configures logging once, for every logger
    )
    # Around the router (Litestar's middleware runs after routing, where HEAD finds no route).
    app.asgi_handler = head_as_get(app.asgi_handler)
    app.asgi_handler = calendar.ics_paths(app.asgi_handler)  # GET /appointments/{id}.ics
    return app
