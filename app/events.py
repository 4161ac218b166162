"""The change feed, fanned out to Server-Sent Events streams.

The relay (app.relay, booking.relay_change_feed) writes committed changes into
booking.appointment_events after their transactions, and NOTIFYs `booking_events`
'{"barber_id": n}' once per barber per batch, from its own transaction. One dedicated
connection (not pooled) LISTENs there. A notification is only a hint that a barber's feed
moved (any session may send one): what a stream sends is read back from the table.

**One read per barber, fanned out.** Streams of one barber share a BarberFeed. On a
notification the feed reads booking.events_since(barber, the newest id it has seen) once,
encodes each new event once, and puts the bytes into every stream's queue. Event ids grow
in the order the relay commits them (one relay at a time), so reading after the newest
id seen misses nothing. A booking thus costs one query however many streams watch the
barber; the previous design ran one query per stream, and 4,000 streams made an unrelated
request wait 870 ms behind them (issue 11).

**Limits.** At most MAX_STREAMS streams in the process (then 503) and
MAX_STREAMS_PER_TOKEN per token (then 429), both with Retry-After. Every
STREAM_RECHECK_SECONDS the hub sends each stream a keep-alive comment and re-checks every
distinct token of the open streams in one query (booking.authenticate_token for each): a
stream whose token was revoked or expired, or whose user lost the staff role the token
carries, ends then. A stream whose queue fills (a client that does not read) is closed;
the client reconnects with Last-Event-ID.

When the LISTEN connection drops, the hub reconnects with backoff and every feed reads
again, so nothing committed in between is lost to a connected stream.

**Over a cluster** (docs/SCALING.md) the relays run on the partitions, so the hub LISTENs
on each partition for `booking_events` (partition_urls), and on the proxy only for the
other channels (the token cache's: tokens live on the proxy). Feeds still read through the
proxy, which routes events_since by barber. `partitions_listening` says which partitions
the hub hears (for /health); a partition whose LISTEN is down resynchronises its feeds
when it is back, like the single connection does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import asyncpg

from app import db as dbmod
from app import metrics, reads
from app.config import Settings
from app.queries import QUERIES
from app.streams import KEEPALIVE, PAGE, Stream, sse_chunk

log = logging.getLogger("booking.events")

CHANNEL = "booking_events"


class StreamRefused(Exception):
    """Too many streams: reason 'token' (429) or 'process' (503)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(eq=False)
class BarberFeed:
    barber_id: int
    high: int  # the newest event id read (or the start point)
    streams: set[Stream] = field(default_factory=set)
    dirty: bool = False
    task: asyncio.Task | None = None


class EventHub:
    def __init__(
        self,
        settings: Settings,
        *,
        read_pool: asyncpg.Pool | None = None,
        max_backoff: float = 5.0,
        partition_urls: dict[int, str] | None = None,
    ):
        self.settings = settings
        self.partition_urls = dict(partition_urls or {})
        self.partitions_listening: dict[int, bool] = dict.fromkeys(self.partition_urls, False)
        self._partition_tasks: list[asyncio.Task] = []
        self.pool = read_pool
        self.max_backoff = max_backoff
        self._feeds: dict[int, BarberFeed] = {}
        self._per_token: dict[bytes, int] = {}
        self._streams = 0
        self._task: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self.listening = asyncio.Event()  # set while a LISTEN connection is up
        self.connections_made = 0
        self.reads = 0  # events_since queries run by the feeds (tests count them)
        # Other channels heard on the same connection: {channel: callback(payload)}, and
        # callbacks told when listening starts (True) or stops (False) (app.web.auth's
        # token cache: it may only serve while it would hear a revocation).
        self._channels: dict[str, Callable[[str], None]] = {}
        self._on_listening: list[Callable[[bool], None]] = []

    def subscribe(self, channel: str, on_payload: Callable[[str], None], on_listening: Callable[[bool], None]) -> None:
        """Hear `channel` on the hub's LISTEN connection (call before start())."""
        self._channels[channel] = on_payload
        self._on_listening.append(on_listening)

    def _listening(self, up: bool) -> None:
        if up:
            self.listening.set()
        else:
            self.listening.clear()
        for callback in self._on_listening:
            try:
                callback(up)
            except Exception:
                log.exception("a listener of the event hub failed")

    # --- streams --------------------------------------------------------------------------
    def open(self, barber_id: int, token_hash: bytes, identity: tuple, start_after: int) -> Stream:
        """A new stream of the barber's feed; StreamRefused beyond the limits."""
        if self._streams >= self.settings.max_streams:
            metrics.STREAMS_REFUSED.labels("process").inc()
            raise StreamRefused("process", f"The service holds {self.settings.max_streams} event streams; retry later.")
        if self._per_token.get(token_hash, 0) >= self.settings.max_streams_per_token:
            metrics.STREAMS_REFUSED.labels("token").inc()
            raise StreamRefused(
                "token", f"This token has {self.settings.max_streams_per_token} event streams open; close one first."
            )
        stream = Stream(barber_id, token_hash, identity, start_after)
        feed = self._feeds.get(barber_id)
        if feed is None:
            feed = self._feeds[barber_id] = BarberFeed(barber_id, high=start_after)
        feed.streams.add(stream)
        self._per_token[token_hash] = self._per_token.get(token_hash, 0) + 1
        self._streams += 1
        metrics.EVENT_SUBSCRIBERS.inc()
        return stream

    def close(self, stream: Stream) -> None:
        feed = self._feeds.get(stream.barber_id)
        if feed is None or stream not in feed.streams:
            return
        stream.close()
        feed.streams.discard(stream)
        self._streams -= 1
        self._per_token[stream.token_hash] -= 1
        if not self._per_token[stream.token_hash]:
            del self._per_token[stream.token_hash]
        metrics.EVENT_SUBSCRIBERS.dec()
        if not feed.streams:
            if feed.task is not None:
                feed.task.cancel()
            del self._feeds[stream.barber_id]

    @property
    def stream_count(self) -> int:
        return self._streams

    # --- one read per barber, fanned out ---------------------------------------------------
    def _wake(self, barber_id: int) -> None:
        feed = self._feeds.get(barber_id)
        if feed is None:
            return
        feed.dirty = True
        if feed.task is None or feed.task.done():
            feed.task = asyncio.get_running_loop().create_task(self._read(feed))

    async def _read(self, feed: BarberFeed) -> None:
        while feed.dirty and feed.streams:
            feed.dirty = False
            try:
                while True:
                    self.reads += 1
                    rows = await reads.events_since(self.pool, feed.barber_id, feed.high)
                    for row in rows:
                        feed.high = max(feed.high, row["id"])
                        item = sse_chunk(row)
                        for stream in tuple(feed.streams):
                            stream.offer(item)
                    if len(rows) < PAGE:
                        break
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the next notification or resynchronisation reads again
                log.warning("event feed of barber %s: reading failed (%r)", feed.barber_id, e)
                return

    def _wake_all(self) -> None:
        for barber_id in tuple(self._feeds):
            self._wake(barber_id)

    # --- keep-alives and token re-checks ---------------------------------------------------
    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.settings.stream_recheck_seconds)
            streams = [s for feed in self._feeds.values() for s in feed.streams]
            for stream in streams:
                stream.offer(KEEPALIVE)
            hashes = sorted({s.token_hash for s in streams})
            if not hashes:
                continue
            try:
                valid = await reads.callers(self.pool, hashes)
            except Exception as e:  # cannot tell: keep the streams, try at the next tick
                log.warning("event streams: re-checking tokens failed (%r)", e)
                continue
            for stream in streams:
                if valid.get(stream.token_hash) != stream.identity:
                    log.info("event stream of barber %s closed: its token is no longer valid", stream.barber_id)
                    self.close(stream)

    # --- the LISTEN connection -------------------------------------------------------------
    def _on_notify(self, conn, pid, channel, payload: str) -> None:
        try:
            barber_id = int(json.loads(payload)["barber_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed %s notification: %.200s", CHANNEL, payload)
            return
        self._wake(barber_id)

    async def _run(self, partition: int | None = None) -> None:
        """One LISTEN connection: the main one (DATABASE_URL: the other channels, and
        booking_events too unless partitions carry it), or a partition's (booking_events)."""
        backoff = 0.1
        first = True
        main = partition is None
        settings = self.settings if main else replace(self.settings, database_url=self.partition_urls[partition])
        hears_events = not main or not self.partition_urls
        lost = self._lost if main else asyncio.Event()
        where = "" if main else f" (partition {partition})"
        while True:
            try:
                conn = await dbmod.connect(settings, timeout=5)
                if hears_events:
                    await conn.add_listener(CHANNEL, self._on_notify)
                if main:
                    for channel, on_payload in self._channels.items():
                        await conn.add_listener(channel, lambda _c, _p, _ch, payload, f=on_payload: f(payload))
                conn.add_termination_listener(lambda _c: lost.set())
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                log.warning("event feed%s: cannot LISTEN (%s); retrying in %.1fs", where, e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(self.max_backoff, backoff * 2)
                continue
            if main:
                self._conn = conn
            self.connections_made += 1
            lost.clear()
            if main:
                self._listening(True)
            else:
                self.partitions_listening[partition] = True
            backoff = 0.1
            if not first:
                log.info("event feed%s: LISTEN connection restored; the feeds read again", where)
                self._wake_all()
            first = False
            try:
                # Wait for the connection to drop; a periodic ping notices a silent loss.
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), timeout=10)
                    except TimeoutError:
                        try:
                            await asyncio.wait_for(conn.fetchval(QUERIES["health"]), timeout=5)
                        except Exception:
                            break
            finally:
                if main:
                    self._listening(False)
                    self._conn = None
                else:
                    self.partitions_listening[partition] = False
                if not conn.is_closed():
                    conn.terminate()
            log.warning("event feed%s: LISTEN connection lost; reconnecting", where)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="booking-event-hub")
            self._ticker = asyncio.create_task(self._tick(), name="booking-event-streams-tick")
            self._partition_tasks = [
                asyncio.create_task(self._run(k), name=f"booking-event-hub-partition-{k}") for k in self.partition_urls
            ]

    async def stop(self) -> None:
        for feed in list(self._feeds.values()):
            for stream in list(feed.streams):
                self.close(stream)
        for task in (self._task, self._ticker, *self._partition_tasks):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._ticker = None
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close(timeout=2)

    @property
    def listener_pid(self) -> int | None:
        return self._conn.get_server_pid() if self._conn is not None else None
