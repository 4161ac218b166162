"""The change feed's relay loop: booking.relay_change_feed() called again and again, by one
process at a time.

Every service process runs a ChangeFeedRelay (CHANGE_FEED_RELAY=on); `python -m app relay`
runs one alone (for a deployment where only internal services write through SQL, and for
the benchmarks). Each opens its own connection and tries the session advisory lock
(booking.lock_namespace('change_feed'), 1): the one that holds it is the leader and relays,
the others retry every CHANGE_FEED_STANDBY_SECONDS, so when the leader's process or
connection dies another takes over within that. (The SQL function also takes a
transaction lock of its own, so two relays never interleave even if this one were wrong.)

The leader calls relay_change_feed(CHANGE_FEED_BATCH): when a call read a full batch it
calls again at once, otherwise it sleeps CHANGE_FEED_POLL_INTERVAL. A subscriber therefore
hears of a booking about one poll interval after its commit (plus the WAL flush delay when
synchronous_commit is off). When the slot is reported lost it reopens the feed
(booking.open_logical_change_feed, which also announces what may have been missed), and
falls back to mode outbox if logical decoding is no longer possible.
Every few seconds the leader reads booking.change_feed_status() into the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg

from app import db as dbmod
from app import metrics
from app.changefeed import DRAIN, MARK
from app.config import Settings

log = logging.getLogger("booking.relay")

LOCK_NAMESPACE = 0x424B0005  # booking.lock_namespace('change_feed')
LEADER_KEY = 1
STATUS_EVERY = 5.0  # seconds between reads of change_feed_status() into the metrics


class ChangeFeedRelay:
    def __init__(self, settings: Settings, *, max_backoff: float = 5.0):
        self.settings = settings
        self.max_backoff = max_backoff
        self.leader = asyncio.Event()
        self.relayed = 0  # events relayed by this process
        self.calls = 0
        self._task: asyncio.Task | None = None
        self._conn: asyncpg.Connection | None = None
        self._next_status = 0.0

    async def _connect(self) -> asyncpg.Connection:
        return await dbmod.connect(self.settings, timeout=5)

    async def _reopen(self, conn: asyncpg.Connection) -> None:
        try:
            slot = await conn.fetchval("SELECT booking.open_logical_change_feed()")
            log.warning("change feed: the replication slot was lost; reopened as %s (missed changes announced)", slot)
        except asyncpg.PostgresError as e:
            log.error("change feed: cannot reopen the replication slot (%s); falling back to mode outbox", e)
            await conn.fetchval("SELECT booking.open_outbox_change_feed()")

    async def _report(self, conn: asyncpg.Connection) -> None:
        if time.monotonic() < self._next_status:
            return
        self._next_status = time.monotonic() + STATUS_EVERY
        row = await conn.fetchrow("SELECT * FROM booking.change_feed_status()")
        metrics.FEED_LAG_BYTES.set(-1 if row["lag_bytes"] is None else float(row["lag_bytes"]))
        metrics.FEED_PENDING.set(row["pending_changes"])

    async def relay_once(self, conn: asyncpg.Connection) -> asyncpg.Record:
        self.calls += 1
        row = await conn.fetchrow(
            "SELECT status, events, changes FROM booking.relay_change_feed($1)", self.settings.change_feed_batch
        )
        if row["events"]:
            self.relayed += row["events"]
            metrics.FEED_EVENTS.inc(row["events"])
        if row["status"] == "slot_lost":
            await self._reopen(conn)
        return row

    async def _lead(self, conn: asyncpg.Connection) -> None:
        interval = self.settings.change_feed_poll_interval
        while True:
            row = await self.relay_once(conn)
            await self._report(conn)
            if row["status"] == "ok" and row["changes"] >= self.settings.change_feed_batch:
                continue  # more is waiting
            await asyncio.sleep(interval)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            conn = None
            try:
                conn = self._conn = await self._connect()
                while not await conn.fetchval(
                    "SELECT pg_try_advisory_lock($1::int, $2::int)", LOCK_NAMESPACE, LEADER_KEY
                ):
                    await asyncio.sleep(self.settings.change_feed_standby_seconds)
                log.info("change feed: this process runs the relay")
                self.leader.set()
                metrics.FEED_RELAY_LEADER.set(1)
                backoff = 0.1
                await self._lead(conn)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                log.warning("change feed relay: %s; retrying in %.1fs", e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(self.max_backoff, backoff * 2)
            finally:
                self.leader.clear()
                metrics.FEED_RELAY_LEADER.set(0)
                self._conn = None
                if conn is not None and not conn.is_closed():
                    conn.terminate()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="booking-change-feed-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None


async def drain(conn: asyncpg.Connection, *, timeout: float = 60.0) -> None:
    """Relay until every change committed before now is an event (app.changefeed.drain, async)."""
    async with conn.transaction():
        for statement in MARK:
            upto = await conn.fetchval(statement)
    deadline = time.monotonic() + timeout
    while True:
        row = await conn.fetchrow(DRAIN.replace("%s", "$1"), upto)
        if row["caught_up"]:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"change feed: not caught up within {timeout:g} s (last status {row['status']})")
        await asyncio.sleep(0.05)


async def run_forever(settings: Settings) -> None:
    """`python -m app relay`: the relay alone, until interrupted."""
    relay = ChangeFeedRelay(settings)
    await relay.start()
    try:
        await asyncio.Event().wait()
    finally:
        await relay.stop()
