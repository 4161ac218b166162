"""The change feed across sessions, in both modes (logical: the WAL through a replication
slot; outbox: a staged row per change), on databases of their own.

Its promises (README, "The change feed"): every committed change is announced and none
that rolled back; event ids grow in relay order, so a reader that resumes after the newest
id it saw misses nothing; a change read twice is announced once; the booking's transaction
carries no NOTIFY and, in mode logical, no second row; a lost slot is reopened and what it
may have missed is announced; a server without logical decoding gets the outbox.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import psycopg
import pytest

from app import changefeed
from app.config import Settings
from app.migrate import libpq_url, migrate
from app.relay import ChangeFeedRelay, drain
from harness.cluster import drop_database_sql
from tests.py.db.conftest import on_database

BARBERS = (1, 2, 3, 4)
DAY = (datetime.now(UTC) + timedelta(days=40)).replace(hour=0, minute=0, second=0, microsecond=0)


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in drop_database_sql(name).splitlines():
            conn.execute(statement)


def _new_database(database_url: str, mode: str) -> tuple[str, str]:
    name = f"booking_feed_{mode}_{uuid.uuid4().hex[:8]}"
    admin = on_database(database_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = on_database(database_url, name)
    migrate(url, change_feed=mode)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO booking.barbers (id, name) SELECT g, 'Feed ' || g FROM unnest(%s::bigint[]) g",
            (list(BARBERS),),
        )
        conn.execute("INSERT INTO booking.services (name, duration_minutes) VALUES ('Cut', 30)")
    return admin, url


@pytest.fixture(scope="module", params=["logical", "outbox"])
def feed_database(request, database_url):
    admin, url = _new_database(database_url, request.param)
    try:
        yield request.param, url
    finally:
        _drop(admin, urlsplit(url).path.lstrip("/"))


async def _workload(url: str, seconds: float, seed: int, committed: set, rolled_back: set, workers: int = 6) -> None:
    """Bookings, reschedules, moves between barbers and cancellations from several sessions,
    some rolled back and some refused; `committed` gets (appointment, version, barber) for
    every event that must exist, `rolled_back` the appointment ids that must never appear."""
    deadline = asyncio.get_running_loop().time() + seconds

    async def worker(n: int) -> None:
        rng = random.Random(seed * 100 + n)
        conn = await asyncpg.connect(url)
        mine: dict[int, tuple[int, int]] = {}  # appointment -> (version, barber)
        try:
            while asyncio.get_running_loop().time() < deadline:
                op = rng.random()
                start = DAY + timedelta(minutes=30 * rng.randrange(0, 2000))
                barber = rng.choice(BARBERS)
                try:
                    if op < 0.45 or not mine:
                        row = await conn.fetchrow(
                            "SELECT id, version, barber_id FROM booking.book_appointment($1, $2, 'Cut', $3)",
                            barber,
                            1000 + n,
                            start,
                        )
                        mine[row["id"]] = (1, barber)
                        committed.add((row["id"], 1, barber))
                    elif op < 0.55:
                        async with conn.transaction():
                            row = await conn.fetchrow(
                                "SELECT id FROM booking.book_appointment($1, $2, 'Cut', $3)", barber, 1000 + n, start
                            )
                            rolled_back.add(row["id"])
                            raise _Undo
                    elif op < 0.8:
                        a = rng.choice(list(mine))
                        version, old = mine[a]
                        row = await conn.fetchrow(
                            "SELECT version, barber_id FROM booking.update_appointment($1, $2, $3::jsonb, $4)",
                            a,
                            1000 + n,
                            f'{{"barber_id": {barber}, "booking_date": "{start.date()}", '
                            f'"booking_time": "{start:%H:%M}"}}',
                            version,
                        )
                        mine[a] = (row["version"], row["barber_id"])
                        for b in {old, row["barber_id"]}:
                            committed.add((a, row["version"], b))
                    else:
                        a = rng.choice(list(mine))
                        version, old = mine.pop(a)
                        row = await conn.fetchrow(
                            "SELECT version FROM booking.cancel_appointment($1, $2, $3)", a, 1000 + n, version
                        )
                        committed.add((a, row["version"], old))
                except _Undo:
                    pass
                except asyncpg.PostgresError as e:
                    assert e.sqlstate in ("23P01", "40001", "55P03"), e  # refused: nothing committed
        finally:
            await conn.close()

    await asyncio.gather(*(worker(n) for n in range(workers)))


class _Undo(Exception):
    pass


async def _events(conn, after: int = 0) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, appointment_id, version, barber_id, kind FROM booking.appointment_events WHERE id > $1 ORDER BY id",
        after,
    )


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "polled"])
async def test_every_committed_change_is_announced_once_and_none_that_rolled_back(feed_database, stream):
    """In mode outbox a relay asked to stream polls: there is no slot to stream."""
    mode, url = feed_database
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT mode FROM booking.change_feed") == mode
        await drain(conn)
        mark = await conn.fetchval("SELECT coalesce(max(id), 0) FROM booking.appointment_events")
        committed: set = set()
        rolled_back: set = set()
        relay = ChangeFeedRelay(
            Settings.from_env(database_url=url, db_role=None, change_feed_poll_interval=0.02, change_feed_stream=stream)
        )
        await relay.start()
        await relay.wait_leader(5)
        try:
            await _workload(url, 3.0, seed=1, committed=committed, rolled_back=rolled_back)
            assert relay.reading == ("stream" if stream and mode == "logical" else "poll")
            await drain(conn)  # while the relay runs: a streaming relay reaches the mark
        finally:
            await relay.stop()
        await drain(conn)
        events = await _events(conn, mark)
        got = [(e["appointment_id"], e["version"], e["barber_id"]) for e in events]
        assert len(got) == len(set(got)), "an event was announced twice"
        assert set(got) == committed
        assert not rolled_back & {e["appointment_id"] for e in events}
        assert len(committed) > 50 and rolled_back, "the workload did too little to prove anything"
        # Per appointment, versions come in id order; kinds follow the rule.
        last: dict[tuple[int, int], int] = {}
        for e in events:
            key = (e["appointment_id"], e["barber_id"])
            assert e["version"] > last.get(key, 0)
            last[key] = e["version"]
            assert (e["kind"] == "booked") == (e["version"] == 1)
        assert relay.relayed > 0
    finally:
        await conn.close()


async def test_a_reader_resuming_after_the_newest_id_it_saw_misses_nothing(feed_database):
    """Last-Event-ID: read events_since(barber, newest id seen) again and again during the
    load; what was read equals what exists at the end, without duplicates."""
    mode, url = feed_database
    conn = await asyncpg.connect(url)
    relay = ChangeFeedRelay(Settings.from_env(database_url=url, db_role=None, change_feed_poll_interval=0.02))
    seen: dict[int, list[int]] = {b: [] for b in BARBERS}
    high = {b: await conn.fetchval("SELECT booking.latest_event_id($1)", b) for b in BARBERS}
    start = dict(high)
    stop = asyncio.Event()

    async def reader():
        while True:
            for b in BARBERS:
                for row in await conn.fetch("SELECT id FROM booking.events_since($1, $2)", b, high[b]):
                    seen[b].append(row["id"])
                    high[b] = row["id"]
            if stop.is_set():
                return
            await asyncio.sleep(0.01)

    await relay.start()
    task = asyncio.create_task(reader())
    try:
        await _workload(url, 2.5, seed=2, committed=set(), rolled_back=set())
        await drain(await asyncpg.connect(url))
    finally:
        await relay.stop()
    stop.set()
    await task
    for b in BARBERS:
        every: list[int] = []
        while True:  # events_since answers pages of at most 1000
            page = [
                r["id"]
                for r in await conn.fetch("SELECT id FROM booking.events_since($1, $2)", b, (every or [start[b]])[-1])
            ]
            if not page:
                break
            every += page
        assert seen[b] == every
    await conn.close()


async def test_one_relay_at_a_time(feed_database):
    _, url = feed_database
    a, b = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        async with a.transaction():
            assert await a.fetchval("SELECT status FROM booking.relay_change_feed()") == "ok"
            assert await b.fetchval("SELECT status FROM booking.relay_change_feed()") == "busy"
        assert await b.fetchval("SELECT status FROM booking.relay_change_feed()") == "ok"
    finally:
        await a.close()
        await b.close()


async def test_a_relay_whose_transaction_rolls_back_loses_nothing(feed_database):
    _, url = feed_database
    conn = await asyncpg.connect(url)
    try:
        await drain(conn)
        a = await conn.fetchval(
            "SELECT id FROM booking.book_appointment(1, 7, 'Cut', $1)", DAY + timedelta(days=200, hours=3)
        )
        async with conn.transaction():  # a readable mark of where the WAL ends (app.changefeed.MARK)
            await conn.execute("SET LOCAL synchronous_commit = on")
            upto = await conn.fetchval("SELECT booking.change_feed_mark()")
        tr = conn.transaction()
        await tr.start()
        for _ in range(100):
            row = await conn.fetchrow("SELECT events, caught_up FROM booking.relay_change_feed(10000, $1)", upto)
            if row["caught_up"]:
                break
            await asyncio.sleep(0.05)
        assert await conn.fetchval("SELECT count(*) FROM booking.appointment_events WHERE appointment_id = $1", a) == 1
        await tr.rollback()
        assert await conn.fetchval("SELECT count(*) FROM booking.appointment_events WHERE appointment_id = $1", a) == 0
        await drain(conn)
        assert await conn.fetchval("SELECT count(*) FROM booking.appointment_events WHERE appointment_id = $1", a) == 1
    finally:
        await conn.close()


async def test_an_idle_relay_writes_nothing(feed_database):
    """A relay with nothing to announce commits no write (which would itself be a transaction
    for the next call to read): the feed's state row keeps its row version."""
    _, url = feed_database
    conn = await asyncpg.connect(url)
    try:
        await drain(conn)
        await drain(conn)
        before = await conn.fetchval("SELECT xmin::text FROM booking.change_feed")
        for _ in range(20):
            row = await conn.fetchrow("SELECT status, events FROM booking.relay_change_feed()")
            assert tuple(row) == ("ok", 0)
        assert await conn.fetchval("SELECT xmin::text FROM booking.change_feed") == before
    finally:
        await conn.close()


async def test_a_booking_sends_no_notification_and_in_mode_logical_writes_no_second_row(feed_database):
    mode, url = feed_database
    conn, listener = await asyncpg.connect(url), await asyncpg.connect(url)
    heard: list[str] = []
    await listener.add_listener("booking_events", lambda *args: heard.append(args[3]))
    try:
        await drain(conn)
        heard.clear()
        async with conn.transaction():
            a = await conn.fetchval(
                "SELECT id FROM booking.book_appointment(2, 7, 'Cut', $1)", DAY + timedelta(days=210, hours=5)
            )
            staged = await conn.fetchval(
                "SELECT count(*) FROM booking.appointment_changes WHERE appointment_id = $1", a
            )
            assert staged == (1 if mode == "outbox" else 0)
        await asyncio.sleep(0.3)
        assert heard == [], "the booking's own transaction notified"
        await drain(conn)
        for _ in range(50):
            if heard:
                break
            await asyncio.sleep(0.02)
        assert heard == ['{"barber_id" : 2}']
    finally:
        await listener.close()
        await conn.close()


async def test_relay_leadership_passes_on_when_the_leader_stops(feed_database):
    _, url = feed_database
    settings = Settings.from_env(database_url=url, db_role=None, change_feed_standby_seconds=0.1)
    first, second = ChangeFeedRelay(settings), ChangeFeedRelay(settings)
    await first.start()
    await first.wait_leader(5)
    await second.start()
    try:
        await asyncio.sleep(0.5)
        assert not second.leader.is_set()
        await first.stop()
        await second.wait_leader(5)
    finally:
        await first.stop()
        await second.stop()


# --------------------------------------------------------------- mode logical: its own cases


@pytest.fixture
def logical_database(database_url):
    admin, url = _new_database(database_url, "logical")
    try:
        yield url
    finally:
        _drop(admin, urlsplit(url).path.lstrip("/"))


async def test_switching_modes_under_load_loses_and_repeats_nothing(logical_database):
    url = logical_database
    committed: set = set()
    rolled_back: set = set()
    relay = ChangeFeedRelay(Settings.from_env(database_url=url, db_role=None, change_feed_poll_interval=0.02))

    def switch():
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            for mode in ("outbox", "logical", "outbox", "logical"):
                assert changefeed.configure(conn, mode) == mode

    await relay.start()
    try:
        await asyncio.gather(
            _workload(url, 4.0, seed=3, committed=committed, rolled_back=rolled_back),
            asyncio.to_thread(switch),
        )
    finally:
        await relay.stop()
    conn = await asyncpg.connect(url)
    try:
        await drain(conn)
        got = [(e["appointment_id"], e["version"], e["barber_id"]) for e in await _events(conn)]
        assert len(got) == len(set(got))
        assert set(got) == committed
        assert await conn.fetchval("SELECT count(*) FROM booking.appointment_changes") == 0
        slots = await conn.fetchval("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()")
        assert slots == 1
    finally:
        await conn.close()


async def test_a_lost_slot_is_reopened_and_what_it_missed_is_announced(logical_database):
    url = logical_database
    conn = await asyncpg.connect(url)
    try:
        a = await conn.fetchval("SELECT id FROM booking.book_appointment(3, 7, 'Cut', $1)", DAY + timedelta(hours=9))
        await drain(conn)
        # PostgreSQL invalidates a slot that keeps more than max_slot_wal_keep_size; dropping
        # it is the same loss, seen by the relay as a missing slot.
        await conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM booking.change_feed")
        await conn.fetchval("SELECT version FROM booking.cancel_appointment($1, 7, 1)", a)
        b = await conn.fetchval("SELECT id FROM booking.book_appointment(3, 7, 'Cut', $1)", DAY + timedelta(hours=11))
        assert await conn.fetchval("SELECT status FROM booking.relay_change_feed()") == "slot_lost"
        relay = ChangeFeedRelay(Settings.from_env(database_url=url, db_role=None))
        await relay.start()  # reopens the slot, and announces the catch-up
        try:
            for _ in range(200):
                status = await conn.fetchrow("SELECT * FROM booking.change_feed_status()")
                if status["slot_status"] == "reserved":
                    break
                await asyncio.sleep(0.05)
            assert status["mode"] == "logical" and status["slot_status"] == "reserved"
            await drain(conn)
        finally:
            await relay.stop()
        kinds = {
            (r["appointment_id"], r["version"]): r["kind"]
            for r in await conn.fetch("SELECT appointment_id, version, kind FROM booking.appointment_events")
        }
        assert kinds == {(a, 1): "booked", (a, 2): "cancelled", (b, 1): "booked"}
    finally:
        await conn.close()


async def test_without_logical_decoding_the_feed_falls_back_to_the_outbox(database_url):
    """A server that refuses logical decoding (here: booking_owner without REPLICATION, as
    when the migrating role is not a superuser): CHANGE_FEED=auto takes the outbox and the
    feed works; CHANGE_FEED=logical fails loudly."""
    admin, url = _new_database(database_url, "outbox")
    try:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute("ALTER ROLE booking_owner NOREPLICATION")
            try:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    changefeed.configure(conn, "logical")
                assert changefeed.configure(conn, "auto") == "outbox"
            finally:
                conn.execute("ALTER ROLE booking_owner REPLICATION")
        conn = await asyncpg.connect(url)
        try:
            a = await conn.fetchval(
                "SELECT id FROM booking.book_appointment(4, 7, 'Cut', $1)", DAY + timedelta(hours=8)
            )
            await drain(conn)
            assert await conn.fetchval("SELECT kind FROM booking.appointment_events WHERE appointment_id = $1", a) == (
                "booked"
            )
        finally:
            await conn.close()
    finally:
        _drop(admin, urlsplit(url).path.lstrip("/"))


async def test_rolling_back_the_migration_drops_the_slot(logical_database):
    from yoyo import get_backend, read_migrations

    from app.migrate import yoyo_url
    from app.paths import MIGRATIONS_DIR

    url = logical_database
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()") == 1
        backend = get_backend(yoyo_url(url))
        try:
            migrations = read_migrations(str(MIGRATIONS_DIR))
            # 0008 and whatever was built on it since, newest first
            feed = migrations[[m.id for m in migrations].index("0008.change_feed") :]
            with backend.lock():
                backend.rollback_migrations(backend.to_rollback(feed))
        finally:
            backend.connection.close()
        assert await conn.fetchval("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()") == 0
    finally:
        await conn.close()
