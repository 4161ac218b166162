"""The SQL clients of the torture run: they book, reschedule, cancel and change statuses through
the booking functions, with idempotency keys and client-side retries, and record every
acknowledged outcome (Record) for torture.checker.

Through a cluster's proxy (Workload(..., barbers=[...], proxied=True)) the barbers are those
of several shops, and BK015 shop_moving and BK016 partition_unavailable are retried: BK015
at once (the proxy refused before routing), BK016 only with the same idempotency key (the
partition did not answer: whether the booking committed is unknown, the key resolves it).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

BARBERS = 4
STAFF_USER = 9_000  # an admin: may confirm, complete, mark no-show
CLIENT_USERS = range(1, 41)

# What a client may legitimately see: the catalogue, plus what a crash or a kill causes.
TRANSIENT = {"40001", "40P01", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001"}
# Through a cluster's proxy: the shop is moving (nothing ran), the partition did not answer
# (outcome unknown, like a lost connection).
SHOP_MOVING, PARTITION_UNAVAILABLE = "BK015", "BK016"
SHOP_BITS = 40  # a barber or appointment id is shop_id * 2^40 + n (shop 1: plain ids)


def shop_of(entity_id: int) -> int:
    """The shop an id carries (booking.shop_of_id, computed here)."""
    return entity_id >> SHOP_BITS if entity_id >= 1 << SHOP_BITS else 1


# A call whose connection broke: its outcome is unknown.
CONNECTION_LOST = (
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)


@dataclass
class Record:
    """Everything the clients were told, for the checker."""

    acked_books: dict[int, dict] = field(default_factory=dict)  # id -> row as acknowledged
    acked_changes: list[dict] = field(default_factory=list)  # {id, version, status}
    key_results: dict[str, set[int]] = field(default_factory=dict)  # idempotency key -> ids returned
    errors: dict[str, int] = field(default_factory=dict)  # sqlstate -> count
    unknown_outcomes: int = 0  # connection lost mid-call
    ops: int = 0
    # Holds (booking.hold_slot): taken, then confirmed (booking.confirm_hold) or left to
    # expire (the shops' hold time is 1 minute in a torture run); confirms refused as expired.
    series: int = 0  # recurring bookings (booking.book_series) acknowledged, 3 appointments each
    holds: dict[str, int] = field(default_factory=lambda: {"taken": 0, "confirmed": 0, "abandoned": 0, "expired": 0})
    faults: dict[str, int] = field(
        default_factory=lambda: {"kills": 0, "restarts": 0, "lock_timeouts": 0, "slow_clients": 0}
    )
    # Through a cluster's proxy: BK015/BK016 answers seen (SQL, and HTTP 503 problems).
    partition_answers: dict[str, int] = field(default_factory=lambda: {SHOP_MOVING: 0, PARTITION_UNAVAILABLE: 0})
    notes: list[str] = field(default_factory=list)  # fault injector's remarks (a failed move, ...)
    rolled_back: list[int] = field(default_factory=list)  # ids of bookings whose transaction rolled back


def day_base() -> datetime:
    tomorrow = datetime.now(UTC).date() + timedelta(days=2)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC)


class Workload:
    """The SQL clients, sharing one Record: client() until the deadline, slow_client() once."""

    def __init__(
        self,
        url: str,
        record: Record,
        rng: random.Random,
        deadline: float,
        *,
        barbers: list[int] | None = None,
        proxied: bool = False,
    ):
        """barbers: the ids to book (default 1..BARBERS, one database's); proxied: `url` is a
        cluster's proxy (no rows to read there; BK015/BK016 retried)."""
        self.url = url
        self.barbers = list(barbers) if barbers else None
        self.proxied = proxied
        self.record = record
        self.rng = rng
        self.deadline = deadline
        self.base = day_base()
        self.low_lock_timeout_until = 0.0
        self.pending_retries: list[tuple] = []  # keyed requests whose outcome is unknown
        self.open_ids: list[int] = []  # acknowledged, not known to be final

    # -- helpers ---------------------------------------------------------------
    def slot(self) -> datetime:
        # Two days, 08:00-20:00 UTC, a 15-minute grid: dense enough for many conflicts.
        return self.base + timedelta(days=self.rng.randrange(2), minutes=8 * 60 + 15 * self.rng.randrange(48))

    def note_error(self, sqlstate: str) -> None:
        self.record.errors[sqlstate] = self.record.errors.get(sqlstate, 0) + 1

    def pick_barber(self) -> int:
        if self.barbers is None:
            return self.rng.randrange(1, BARBERS + 1)
        return self.rng.choice(self.barbers)

    def barber_for_move(self, current: int) -> int:
        """A barber to move an appointment to: on a cluster one of the same shop (an
        appointment never changes shop; another shop's barber is BK003, as on one database)."""
        if self.barbers is None:
            return self.rng.randrange(1, BARBERS + 1)
        same = [b for b in self.barbers if shop_of(b) == shop_of(current)]
        return self.rng.choice(same or self.barbers)

    async def connect(self) -> asyncpg.Connection | None:
        while time.monotonic() < self.deadline + 30:
            try:
                return await asyncpg.connect(self.url, timeout=2)
            except (TimeoutError, OSError, asyncpg.PostgresError):
                await asyncio.sleep(0.2)
        return None

    async def call(self, conn, query: str, *args, retries: int = 3, keyed: bool = False, many: bool = False):
        """One function call in its own transaction, retried on transient errors (through a
        proxy also BK015, and BK016 when `keyed`: the same arguments, so the same key)."""
        attempt = moved = 0
        while True:
            try:
                async with conn.transaction():
                    if time.monotonic() < self.low_lock_timeout_until:
                        await conn.execute("SET LOCAL booking.lock_timeout = '5ms'")
                    return await (conn.fetch if many else conn.fetchrow)(query, *args)
            except asyncpg.PostgresError as e:
                state = getattr(e, "sqlstate", None) or "XX000"
                if state in ("40001", "40P01") and attempt < retries:
                    self.note_error(state)
                    await asyncio.sleep(0.01 * 2**attempt * (1 + self.rng.random()))
                    attempt += 1
                    continue
                if self.proxied and state in (SHOP_MOVING, PARTITION_UNAVAILABLE):
                    self.record.partition_answers[state] += 1
                    # A partition is back within seconds, a move takes well under one: about
                    # 8 s of retries, then the caller sees the error (a keyed booking is kept
                    # to be retried later, like one whose connection broke).
                    if (state == SHOP_MOVING or keyed) and moved < 10 and time.monotonic() < self.deadline + 20:
                        self.note_error(state)
                        await asyncio.sleep(min(0.05 * 2**moved, 1.0) * (1 + self.rng.random() / 2))
                        moved += 1
                        continue
                raise

    # -- operations ------------------------------------------------------------
    async def book(self, conn, request: tuple | None = None) -> None:
        if request is None:
            key = f"k-{uuid.uuid4()}" if self.rng.random() < 0.5 else None
            request = (
                self.pick_barber(),
                self.rng.choice(CLIENT_USERS),
                self.rng.choice(["Haircut", "Beard Trim", "Long Cut"]),
                self.slot(),
                self.rng.choice([0, 0, 5, 15]),
                self.rng.choice([0, 0, 5, 15]),
                key,
            )
        barber, user, service, start, before, after, key = request
        try:
            row = await self.call(
                conn,
                "SELECT id, version, replayed FROM booking.book_appointment($1, $2, $3, $4, $5, $6, NULL, $7)",
                barber,
                user,
                service,
                start,
                before,
                after,
                key,
                keyed=key is not None,
            )
        except CONNECTION_LOST:
            self.record.unknown_outcomes += 1
            if key:
                self.pending_retries.append(request)  # a client would retry with its key
            raise
        except asyncpg.PostgresError as e:
            if self.proxied and getattr(e, "sqlstate", None) == PARTITION_UNAVAILABLE:
                self.record.unknown_outcomes += 1  # as a lost connection: committed or not
                if key:
                    self.pending_retries.append(request)
            raise
        if key:
            self.record.key_results.setdefault(key, set()).add(row["id"])
        # Through the proxy a replay acknowledges too (the first answer may have been a BK016).
        if not row["replayed"] or (self.proxied and row["id"] not in self.record.acked_books):
            self.record.acked_books[row["id"]] = {
                "id": row["id"],
                "barber_id": barber,
                "user_id": user,
                "version": row["version"],
            }
            self.open_ids.append(row["id"])

    async def hold(self, conn) -> None:
        """Hold a slot, then confirm it (most of the time) or walk away: an abandoned hold
        expires within the run and must then block nobody."""
        barber, user = self.pick_barber(), self.rng.choice(CLIENT_USERS)
        row = await self.call(
            conn,
            "SELECT id, version, status FROM booking.hold_slot($1, $2, $3, $4)",
            barber,
            user,
            self.rng.choice(["Haircut", "Beard Trim", "Long Cut"]),
            self.slot(),
        )
        self.record.holds["taken"] += 1
        self.record.acked_books[row["id"]] = {"id": row["id"], "barber_id": barber, "user_id": user, "version": 1}
        if self.rng.random() < 0.3:
            self.record.holds["abandoned"] += 1
            return
        try:
            confirmed = await self.call(
                conn, "SELECT id, version, status FROM booking.confirm_hold($1, $2)", row["id"], user
            )
        except asyncpg.PostgresError as e:
            if getattr(e, "sqlstate", None) == "BK017":  # a 5 ms lock window, a crash: it expired meanwhile
                self.record.holds["expired"] += 1
            raise
        self.record.holds["confirmed"] += 1
        self.note_change(confirmed)
        self.open_ids.append(confirmed["id"])

    async def series(self, conn) -> None:
        """A recurring booking: three weekly occurrences from a random slot, all or none."""
        barber, user = self.pick_barber(), self.rng.choice(CLIENT_USERS)
        start = self.slot()
        rows = await self.call(
            conn,
            "SELECT id, version FROM booking.book_series($1, $2, $3, $4, $5, 1, 3)",
            barber,
            user,
            self.rng.choice(["Haircut", "Beard Trim", "Long Cut"]),
            start.date(),
            start.time(),
            many=True,
        )
        self.record.series += 1
        for row in rows:
            self.record.acked_books[row["id"]] = {"id": row["id"], "barber_id": barber, "user_id": user, "version": 1}
            self.open_ids.append(row["id"])

    def pick_appointment(self) -> dict | None:
        # Mostly appointments still open to change; sometimes any (final ones must refuse).
        pool = self.open_ids if self.open_ids and self.rng.random() < 0.9 else list(self.record.acked_books)
        if not pool:
            return None
        return self.record.acked_books[self.rng.choice(pool)]

    def note_change(self, row) -> None:
        self.record.acked_changes.append({"id": row["id"], "version": row["version"], "status": row["status"]})
        if row["status"] in ("completed", "cancelled", "no_show") and row["id"] in self.open_ids:
            self.open_ids.remove(row["id"])

    async def reschedule(self, conn) -> None:
        appt = self.pick_appointment()
        if appt is None:
            return
        changes = {"start_time": self.slot().isoformat()}
        if self.rng.random() < 0.3:
            changes["barber_id"] = self.barber_for_move(appt["barber_id"])
        await self.change(
            conn,
            "SELECT id, version, status FROM booking.update_appointment($1, $2, $3::jsonb, $4)",
            appt,
            changes_json(changes),
        )

    async def cancel(self, conn) -> None:
        appt = self.pick_appointment()
        if appt is None:
            return
        await self.change(conn, "SELECT id, version, status FROM booking.cancel_appointment($1, $2, $3)", appt, None)

    async def set_status(self, conn) -> None:
        appt = self.pick_appointment()
        if appt is None:
            return
        status = self.rng.choice(["confirmed", "completed", "no_show"])
        row = await self.call(
            conn,
            "SELECT id, version, status FROM booking.update_appointment($1, $2, $3::jsonb)",
            appt["id"],
            STAFF_USER,
            changes_json({"status": status}),
        )
        self.note_change(row)

    async def change(self, conn, query: str, appt: dict, changes: str | None) -> None:
        # Half the changes are conditional on a version read just before (optimistic).
        expected = None
        if self.rng.random() < 0.5:
            if self.proxied:  # the proxy holds no rows: the routed read
                expected = await conn.fetchval(
                    "SELECT version FROM booking.get_appointment($1, $2)", appt["id"], appt["user_id"]
                )
            else:
                expected = await conn.fetchval("SELECT version FROM booking.appointments WHERE id = $1", appt["id"])
        args = (appt["id"], appt["user_id"]) + ((changes,) if changes is not None else ()) + (expected,)
        row = await self.call(conn, query, *args)
        self.note_change(row)

    # -- clients -----------------------------------------------------------------
    async def client(self) -> None:
        conn = await self.connect()
        while conn is not None and time.monotonic() < self.deadline:
            self.record.ops += 1
            roll = self.rng.random()
            try:
                if self.pending_retries and roll < 0.1:
                    await self.book(conn, self.pending_retries.pop())
                elif roll < 0.47:
                    await self.book(conn)
                elif roll < 0.52:
                    await self.hold(conn)
                elif roll < 0.55:
                    await self.series(conn)
                elif roll < 0.75:
                    await self.reschedule(conn)
                elif roll < 0.9:
                    await self.cancel(conn)
                else:
                    await self.set_status(conn)
            except asyncpg.PostgresError as e:
                state = getattr(e, "sqlstate", None) or "XX000"
                self.note_error(state)
                if state in TRANSIENT or state.startswith(("08", "57")):
                    await self.reconnect(conn)
                    conn = await self.connect()
            except CONNECTION_LOST:
                self.note_error("connection_lost")
                await self.reconnect(conn)
                conn = await self.connect()
        if conn is not None:
            await self.reconnect(conn)

    @staticmethod
    async def reconnect(conn) -> None:
        try:
            await asyncio.wait_for(conn.close(), 1)
        except Exception:  # noqa: BLE001 - whatever went wrong, the connection is dropped
            conn.terminate()

    async def slow_client(self) -> None:
        """Holds a booking's locks open for a while, then commits or rolls back."""
        conn = await self.connect()
        if conn is None:
            return
        try:
            tr = conn.transaction()
            await tr.start()
            barber, user = self.pick_barber(), self.rng.choice(CLIENT_USERS)
            row = await conn.fetchrow(
                "SELECT id, version FROM booking.book_appointment($1, $2, 'Haircut', $3)", barber, user, self.slot()
            )
            await asyncio.sleep(self.rng.uniform(0.5, 1.5))
            if self.rng.random() < 0.5:
                await tr.commit()
                self.record.acked_books[row["id"]] = {
                    "id": row["id"],
                    "barber_id": barber,
                    "user_id": user,
                    "version": row["version"],
                }
            else:
                await tr.rollback()
                self.record.rolled_back.append(row["id"])
        except asyncpg.PostgresError as e:
            self.note_error(getattr(e, "sqlstate", None) or "XX000")
        except CONNECTION_LOST:
            self.note_error("connection_lost")
        finally:
            await self.reconnect(conn)


def changes_json(changes: dict) -> str:
    return json.dumps(changes)
