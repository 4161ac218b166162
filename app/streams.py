"""One client's Server-Sent Events stream of a barber's change feed: its queue, the bytes it
sends, and how it is set up (app.events holds the feeds, fans the events out and bounds how
many streams there are).

Each event is encoded once (`sse_chunk`) for every stream that gets it. A stream sends a
greeting, then the events it missed since Last-Event-ID, then what its feed fans out, each
event once, and a keep-alive comment every STREAM_RECHECK_SECONDS (the hub's tick).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING

import asyncpg

from app import reads
from app.records import Caller

if TYPE_CHECKING:
    from app.events import EventHub

PAGE = 1000  # booking.events_since answers at most this many rows
QUEUE_SIZE = 1000  # chunks a stream may have unsent before it is closed
CLOSE = None  # queue marker: end the stream
KEEPALIVE = (0, b": keepalive\n\n")


def _rfc3339(value) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sse_chunk(row: asyncpg.Record) -> tuple[int, bytes]:
    """(event id, the event's Server-Sent Events bytes), encoded once for every stream."""
    event = {
        "id": row["id"],
        "barber_id": row["barber_id"],
        "appointment_id": row["appointment_id"],
        "kind": row["kind"],
        "payload": json.loads(row["payload"]),
        "created_at": _rfc3339(row["created_at"]),
    }
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return row["id"], f"id: {row['id']}\nevent: {row['kind']}\ndata: {data}\n\n".encode()


@dataclass(eq=False)
class Stream:
    barber_id: int
    token_hash: bytes
    identity: tuple  # (user_id, role, barber_id) the token had at the start
    start_after: int  # events up to this id are not sent (already seen)
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE))
    closed: bool = False

    def offer(self, item: tuple[int, bytes] | None) -> None:
        if self.closed:
            return
        if item is not CLOSE and item[0] and item[0] <= self.start_after:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(CLOSE)

    async def chunks(self, backlog: list[tuple[int, bytes]]) -> AsyncIterator[bytes]:
        """The stream's bytes: a greeting, the backlog, then what the feed fans out, each
        event once and in id order. The backlog and the feed may both carry an event
        relayed meanwhile; event ids grow in the order the relay commits them, so anything
        at or below the newest id sent was sent."""
        newest = self.start_after
        yield b": connected\nretry: 2000\n\n"
        for event_id, chunk in backlog:
            if event_id > newest:
                newest = event_id
                yield chunk
        while True:
            item = await self.queue.get()
            if item is CLOSE:
                return
            event_id, chunk = item
            if event_id == 0:
                yield chunk
            elif event_id > newest:
                newest = event_id
                yield chunk


async def open_stream(
    hub: EventHub, read_pool: asyncpg.Pool, barber_id: int, caller: Caller, last_event_id: int | None
) -> AsyncIterator[bytes]:
    """Set up one client's stream of a barber's feed and return its bytes: opened on the hub
    first (StreamRefused beyond the limits), then the events missed since Last-Event-ID read
    in pages, so nothing falls between the two. Without Last-Event-ID it starts after the
    barber's newest event. The stream is closed on the hub when its bytes stop being read."""
    start_after = last_event_id if last_event_id is not None else await reads.latest_event_id(read_pool, barber_id)
    stream = hub.open(barber_id, caller.token_hash, (caller.user_id, caller.role, caller.barber_id), start_after)
    try:
        backlog = []
        since = last_event_id
        while since is not None:
            rows = await reads.events_since(read_pool, barber_id, since)
            backlog.extend(sse_chunk(row) for row in rows)
            since = rows[-1]["id"] if len(rows) == PAGE else None
    except BaseException:
        hub.close(stream)
        raise

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async for chunk in stream.chunks(backlog):
                yield chunk
        finally:
            hub.close(stream)

    return chunks()
