"""The change feed, fanned out to Server-Sent Events subscribers.

One dedicated connection (not pooled) LISTENs on the channel `booking_events`, where the
trigger booking.publish_appointment_event() NOTIFYs each event row as JSON when its
transaction commits. The hub hands every event to the queues of the subscribers of that
event's barber. When the connection drops, the hub reconnects with backoff and tells
every subscriber to resynchronise (RESYNC): the stream then reads what it missed with
booking.events_since(barber, last id seen). A subscriber whose queue overflows is told
the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from app import db as dbmod
from app import metrics
from app.config import Settings
from app.queries import QUERIES

log = logging.getLogger("booking.events")

CHANNEL = "booking_events"
RESYNC = object()    # queue marker: events may have been missed, read them from the table
CLOSE = object()     # queue marker: the service is shutting down


@dataclass(eq=False)
class Subscriber:
    barber_id: int
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    overflowed: bool = False

    def offer(self, item: Any) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Drop what is queued and ask the stream to read the table instead.
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)


class EventHub:
    def __init__(self, settings: Settings, *, max_backoff: float = 5.0):
        self.settings = settings
        self.max_backoff = max_backoff
        self._subscribers: dict[int, set[Subscriber]] = {}
        self._task: asyncio.Task | None = None
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self.listening = asyncio.Event()      # set while a LISTEN connection is up
        self.connections_made = 0
        self.last_event_id = 0                # the newest event id heard or read

    # --- subscribers -------------------------------------------------------------
    def subscribe(self, barber_id: int) -> Subscriber:
        sub = Subscriber(barber_id)
        self._subscribers.setdefault(barber_id, set()).add(sub)
        metrics.EVENT_SUBSCRIBERS.inc()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self._subscribers.get(sub.barber_id)
        if subs and sub in subs:
            subs.discard(sub)
            metrics.EVENT_SUBSCRIBERS.dec()
            if not subs:
                del self._subscribers[sub.barber_id]

    def _broadcast(self, item: Any) -> None:
        for subs in self._subscribers.values():
            for sub in subs:
                sub.offer(item)

    # --- the LISTEN connection ---------------------------------------------------
    def _on_notify(self, conn, pid, channel, payload: str) -> None:
        try:
            event = json.loads(payload)
            barber_id = int(event["barber_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed %s notification: %.200s", CHANNEL, payload)
            return
        with contextlib.suppress(KeyError, TypeError, ValueError):
            self.last_event_id = max(self.last_event_id, int(event["id"]))
        for sub in tuple(self._subscribers.get(barber_id, ())):
            sub.offer(event)

    def _on_terminate(self, conn) -> None:
        self._lost.set()

    async def _run(self) -> None:
        backoff = 0.1
        first = True
        while True:
            try:
                conn = await dbmod.connect(self.settings, timeout=5)
                await conn.add_listener(CHANNEL, self._on_notify)
                conn.add_termination_listener(self._on_terminate)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncio.TimeoutError) as e:
                log.warning("event feed: cannot LISTEN (%s); retrying in %.1fs", e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(self.max_backoff, backoff * 2)
                continue
            self._conn = conn
            self.connections_made += 1
            self._lost.clear()
            self.listening.set()
            backoff = 0.1
            if not first:
                log.info("event feed: LISTEN connection restored; subscribers resynchronise")
                self._broadcast(RESYNC)
            first = False
            try:
                # Wait for the connection to drop; a periodic ping notices a silent loss.
                while not self._lost.is_set():
                    try:
                        await asyncio.wait_for(self._lost.wait(), timeout=10)
                    except asyncio.TimeoutError:
                        try:
                            await asyncio.wait_for(conn.fetchval(QUERIES["health"]), timeout=5)
                        except Exception:
                            break
            finally:
                self.listening.clear()
                self._conn = None
                if not conn.is_closed():
                    conn.terminate()
            log.warning("event feed: LISTEN connection lost; reconnecting")

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="booking-event-hub")

    async def stop(self) -> None:
        self._broadcast(CLOSE)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close(timeout=2)

    @property
    def listener_pid(self) -> int | None:
        return self._conn.get_server_pid() if self._conn is not None else None
