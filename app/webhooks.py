"""Webhooks: the delivery worker, the message a receiver gets, and the URL rule.

The change feed's relay records each committed change of an appointment in
booking.appointment_events; a trigger there (booking.queue_webhook_deliveries) queues one
delivery per subscription of the shop that wants that type, in the relay's transaction,
never in the booking's. This module delivers them:

- **Claim.** A `WebhookWorker` runs in every service process (WEBHOOK_DELIVERY=on) or alone
  (`python -m app deliver`), with one connection per database (each partition of a
  cluster). It claims due deliveries with booking.claim_webhook_deliveries (FOR UPDATE SKIP
  LOCKED: workers never wait for each other and never take the same delivery), which leases
  each for WEBHOOK_TIMEOUT + LEASE_MARGIN seconds: the POST ends (timeout) before the lease
  does, so two workers never attempt one delivery at the same time.
- **POST.** Up to WEBHOOK_CONCURRENCY at once, with httpx, no redirects followed, the body
  signed per Standard Webhooks by the `standardwebhooks` library with every valid secret
  (two for 24 hours after a rotation): headers webhook-id (the message id, the same on
  every retry: receivers drop duplicates by it), webhook-timestamp, webhook-signature.
- **Report.** booking.finish_webhook_delivery records the outcome: a 2xx is delivered;
  anything else is retried with exponential backoff and jitter until
  WEBHOOK_HORIZON_SECONDS after the first attempt, then dead, and the subscription is
  disabled (the failure rule; an admin enables it again, which replays). A worker that
  dies between claim and report leaves the lease to expire: the delivery is tried again
  (at least once).
- **Order.** The claim holds a change back while an earlier change of the same appointment
  is pending for the same subscription: one appointment's messages arrive in order.

The backlog (pending deliveries, the oldest one's age, disabled subscriptions) goes to the
metrics every BACKLOG_EVERY seconds; delivered deliveries older than 7 days are purged
every PURGE_EVERY seconds (booking.purge_webhook_deliveries).

**URLs.** A subscription's URL whose host is (or resolves to) a loopback, private,
link-local, multicast or reserved address is refused at creation (422) and at each
delivery (a failure "address not allowed"), unless WEBHOOK_ALLOW_PRIVATE=1: the service
must not become a way to reach the machines behind it. A name resolved at delivery may
still change between the check and the connection (DNS rebinding); docs/SECURITY.md says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import socket
import time
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import asyncpg
import httpx
import msgspec
from standardwebhooks import Webhook

from app import db as dbmod
from app import metrics
from app.config import Settings
from app.errors import ValidationError
from app.records import Appointment

log = logging.getLogger("booking.webhooks")

EVENT_TYPES = ("appointment.booked", "appointment.changed", "appointment.cancelled")
LEASE_MARGIN = 10.0  # seconds a lease outlasts the POST's timeout
CLAIM_BATCH = 50
BACKLOG_EVERY = 5.0
PURGE_EVERY = 3600.0
USER_AGENT = "barbershop-booking-webhooks/1"

CLAIM = "SELECT * FROM booking.claim_webhook_deliveries($1, $2)"
FINISH = "SELECT booking.finish_webhook_delivery($1, $2, $3, $4, $5, $6, $7, $8)"
BACKLOG = "SELECT * FROM booking.webhook_backlog()"
PURGE = "SELECT booking.purge_webhook_deliveries()"


class Message(msgspec.Struct):
    """What a receiver gets: the type, the change's commit time, and the appointment as the
    HTTP API shows it (a test message's data is {"webhook_id", "shop_id"})."""

    type: str
    timestamp: datetime
    data: Appointment | dict


def message_body(event_type: str, event_at: datetime, data: dict) -> bytes:
    """The body of a delivery: JSON, the appointment in the API's one shape (app.records)."""
    if event_type.startswith("appointment."):
        data = dict(data)
        data["service"] = data.pop("service_name", None)
        data.pop("replayed", None)
        data = msgspec.convert(data, Appointment, strict=False)
    return msgspec.json.encode(Message(event_type, event_at, data))


def sign(message_id: str, at: datetime, body: bytes, secrets: list[str]) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, signed with every secret given."""
    text = body.decode()
    signatures = " ".join(Webhook(secret).sign(message_id, at, text) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def _address_refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def refused_address(url: str, *, allow_private: bool) -> str | None:
    """Why url may not be called (its host is or resolves to a non-public address), or None."""
    if allow_private:
        return None
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return "the URL has no host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "the URL's port is not a number from 0 to 65535"
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        return f"its host {host!r} does not resolve ({e})"
    for info in infos:
        address = info[4][0]
        if _address_refused(address):
            return f"its host {host!r} is a loopback, private or reserved address ({address})"
    return None


async def check_url(url: str, *, allow_private: bool) -> None:
    """422 (field url) for a URL the service may not call (creation of a subscription)."""
    reason = await refused_address(url, allow_private=allow_private)
    if reason is not None:
        raise ValidationError(
            "Webhook URL refused",
            detail=f"{url[:200]!r} may not receive webhooks: {reason} (WEBHOOK_ALLOW_PRIVATE=1 allows it).",
            field="url",
        )


class WebhookWorker:
    """Claims, POSTs and reports deliveries of one or more databases (the partitions of a
    cluster, or the one database), until stop()."""

    def __init__(self, settings: Settings, database_urls: list[str] | None = None, *, name: str = "worker"):
        self.settings = settings
        self.urls = database_urls or [settings.database_url]
        self.name = name
        self.delivered = 0
        self.failed = 0
        self._tasks: list[asyncio.Task] = []
        self._client: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(settings.webhook_concurrency)
        self._backlog: dict[str, tuple[int, float, int]] = {}

    async def start(self) -> None:
        timeout = self.settings.webhook_timeout
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=self.settings.webhook_concurrency, max_keepalive_connections=8),
            trust_env=False,
        )
        self._tasks = [
            asyncio.create_task(self._run(url), name=f"webhooks {self.name} {i}") for i, url in enumerate(self.urls)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self, url: str) -> None:
        settings = replace(self.settings, database_url=url)
        backoff = 0.5
        conn: asyncpg.Connection | None = None
        next_backlog = next_purge = 0.0
        while True:
            try:
                if conn is None or conn.is_closed():
                    conn = await dbmod.connect(settings)
                    backoff = 0.5
                now = time.monotonic()
                if now >= next_backlog:
                    await self._read_backlog(conn, url)
                    next_backlog = now + BACKLOG_EVERY
                if now >= next_purge:
                    await conn.fetchval(PURGE)
                    next_purge = now + PURGE_EVERY
                busy = await self.deliver_once(conn)
                if not busy:
                    await asyncio.sleep(self.settings.webhook_poll_interval)
            except asyncio.CancelledError:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), timeout=2)
                raise
            except Exception as e:  # a lost database: reconnect with backoff
                log.warning("webhook worker: %r; retrying in %.1f s", e, backoff, extra={"database": url})
                if conn is not None:
                    conn.terminate()
                    conn = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def deliver_once(self, conn: asyncpg.Connection) -> int:
        """One claim and its POSTs and reports; returns how many deliveries it claimed."""
        lease = self.settings.webhook_timeout + LEASE_MARGIN
        rows = await conn.fetch(CLAIM, CLAIM_BATCH, lease)
        if not rows:
            return 0
        # One appointment's deliveries come one per claim (the claim holds later ones back),
        # so POSTs of one claim may run concurrently without breaking the order.
        outcomes = await asyncio.gather(*(self._attempt(row) for row in rows))
        s = self.settings
        for row, (status, error) in zip(rows, outcomes, strict=True):
            result = await conn.fetchval(
                FINISH,
                row["webhook_id"],
                row["message_id"],
                row["attempt"],
                status,
                error,
                s.webhook_retry_base_seconds,
                s.webhook_retry_max_seconds,
                s.webhook_horizon_seconds,
            )
            if result == "delivered":
                self.delivered += 1
                metrics.WEBHOOK_DELIVERIES.labels("delivered").inc()
            elif result in ("retry", "dead"):
                self.failed += 1
                metrics.WEBHOOK_DELIVERIES.labels("failed" if result == "retry" else "dead").inc()
                log.info(
                    "webhook delivery %s to subscription %s failed (%s): %s",
                    row["message_id"],
                    row["webhook_id"],
                    result,
                    error or f"HTTP {status}",
                    extra={"webhook_id": row["webhook_id"], "message_id": row["message_id"], "attempt": row["attempt"]},
                )
        return len(rows)

    async def _attempt(self, row) -> tuple[int | None, str | None]:
        """POST one delivery: (HTTP status, None) or (status or None, why it failed)."""
        async with self._slots:
            reason = await refused_address(row["url"], allow_private=self.settings.webhook_allow_private)
            if reason is not None:
                return None, f"address not allowed: {reason}"
            data = row["data"]
            data = json.loads(data) if isinstance(data, str) else data
            body = message_body(row["event_type"], row["event_at"], data)
            headers = sign(row["message_id"], datetime.now(UTC), body, list(row["secrets"]))
            assert self._client is not None
            try:
                response = await self._client.post(row["url"], content=body, headers=headers)
            except httpx.TimeoutException:
                return None, f"no answer within {self.settings.webhook_timeout:g} s"
            except httpx.HTTPError as e:
                return None, f"{type(e).__name__}: {e}"[:300]
            if 200 <= response.status_code < 300:
                return response.status_code, None
            return response.status_code, f"HTTP {response.status_code}"

    async def _read_backlog(self, conn: asyncpg.Connection, url: str) -> None:
        row = await conn.fetchrow(BACKLOG)
        oldest = row["oldest_pending_at"]
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        self._backlog[url] = (row["pending"], max(age, 0.0), row["disabled"])
        metrics.WEBHOOK_BACKLOG.set(sum(b[0] for b in self._backlog.values()))
        metrics.WEBHOOK_BACKLOG_AGE.set(max(b[1] for b in self._backlog.values()))
        metrics.WEBHOOK_DISABLED.set(sum(b[2] for b in self._backlog.values()))


async def _serve(settings: Settings, stop: asyncio.Event) -> None:
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        partitions = await dbmod.cluster_partitions(pool)  # a cluster's proxy: deliver on each partition
    finally:
        await pool.close()
    worker = WebhookWorker(settings, list(partitions.values()) or None, name="deliver")
    await worker.start()
    log.info("webhook delivery worker started", extra={"databases": len(worker.urls)})
    try:
        await stop.wait()
    finally:
        await worker.stop()


def run_forever(settings: Settings) -> None:
    """`python -m app deliver`: the delivery worker alone, until SIGINT or SIGTERM."""
    import signal

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await _serve(settings, stop)

    asyncio.run(main())
