"""The defects of the engine review (issue 10) that need several sessions or the service's
own pools; each failed before its fix. (The single-session ones are tests/sql/13_review_defects.sql.)

  - a second caller with an idempotency key in flight waits at most booking.lock_timeout;
  - an interval across UTC midnight holds both days' slot locks, so a booking of the next
    day waits for it and is told which appointment it conflicts with;
  - "any barber" among a thousand barbers never exhausts the lock table (53200);
  - a conflict is never retried, by the Python API or the service;
  - the service's reads stop at READ_STATEMENT_TIMEOUT, server-side, and its sessions
    cannot write more than TEMP_FILE_LIMIT of temporary files.
"""

from __future__ import annotations

import asyncio
import time as _time
from datetime import timedelta

import asyncpg
import pytest

from app import metrics
from app.booking import BookingConflictError, configure_booking_service, create_booking
from app.config import Settings
from app.db import create_pools
from tests.py.support import at, future_day

BOOK = "SELECT * FROM booking.book_appointment($1, $2, $3, $4, p_idempotency_key => $5)"


async def blocked_by(observer: asyncpg.Connection, waiter_pid: int, holder_pid: int, timeout: float = 10) -> None:
    deadline = _time.monotonic() + timeout
    while holder_pid not in (await observer.fetchval("SELECT pg_blocking_pids($1)", waiter_pid) or []):
        assert _time.monotonic() < deadline, f"backend {waiter_pid} never waited for {holder_pid}"
        await asyncio.sleep(0.01)


def total_retries() -> float:
    return sum(s.value for m in metrics.BOOKING_RETRIES.collect() for s in m.samples if s.name.endswith("_total"))


async def test_a_key_in_flight_is_waited_for_only_as_long_as_lock_timeout(
    database_url, clean_db, make_barber, make_service
):
    barber = await make_barber()
    await make_service("Haircut", 30)
    start = at(future_day(), 10)
    first, second = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        tx = first.transaction()
        await tx.start()
        made = await first.fetchrow(BOOK, barber, 7, "Haircut", start, "order-1")
        await second.execute("SET booking.lock_timeout = '200ms'")
        started = _time.monotonic()
        with pytest.raises(asyncpg.PostgresError) as info:
            await second.fetchrow(BOOK, barber, 7, "Haircut", start, "order-1")
        waited = _time.monotonic() - started
        assert info.value.sqlstate == "55P03"
        assert info.value.args[0] == "Could not acquire lock within timeout period"
        assert "Idempotency key 'order-1'" in info.value.detail
        assert 0.15 <= waited < 2.0, waited  # was: still waiting after 4 s
        await tx.commit()
        replay = await second.fetchrow(BOOK, barber, 7, "Haircut", start, "order-1")
        assert (replay["id"], replay["replayed"]) == (made["id"], True)
    finally:
        await first.close()
        await second.close()


async def test_an_interval_across_utc_midnight_holds_both_days(database_url, clean_db, make_barber, make_service):
    """The mutant that locked only the first UTC day survived every test; this one kills it:
    the next day's booking must wait for the lock, then be told which appointment wins."""
    barber = await make_barber()
    await make_service("Haircut", 30)
    await make_service("Hour", 60)
    day = future_day()
    holder, waiter, observer = [await asyncpg.connect(database_url) for _ in range(3)]
    try:
        tx = holder.transaction()
        await tx.start()
        night = await holder.fetchrow(BOOK, barber, 1, "Hour", at(day, 23, 30), None)  # 23:30-00:30 UTC
        call = asyncio.create_task(waiter.fetchrow(BOOK, barber, 2, "Haircut", at(day + timedelta(days=1), 0, 0), None))
        await blocked_by(observer, waiter.get_server_pid(), holder.get_server_pid())
        lock = await observer.fetchrow(
            "SELECT locktype, classid, objsubid FROM pg_locks WHERE pid = $1 AND NOT granted", waiter.get_server_pid()
        )
        assert (lock["locktype"], lock["objsubid"]) == ("advisory", 2)  # the slot lock, not the row
        assert lock["classid"] == await observer.fetchval("SELECT booking.lock_namespace('slot')::oid")
        await tx.commit()
        with pytest.raises(asyncpg.PostgresError) as info:
            await call
        assert info.value.sqlstate == "23P01"
        assert info.value.detail.startswith(f"Appointment {night['id']} blocks ")  # not the constraint's text
    finally:
        for c in (holder, waiter, observer):
            await c.close()


@pytest.mark.slow
async def test_any_barber_among_a_thousand_barbers_never_exhausts_the_lock_table(database_url, clean_db):
    """1,004 barbers, a day-long service with a day of buffers on each side: the review saw
    4,016 locks in one call and 11 of 16 concurrent calls fail with 53200."""
    await clean_db.execute("INSERT INTO booking.barbers (name) SELECT 'B' || g FROM generate_series(1, 1004) g")
    await clean_db.execute("INSERT INTO booking.services (name, duration_minutes) VALUES ('Day', 1440)")
    day = future_day(60)
    conns = [await asyncpg.connect(database_url) for _ in range(16)]
    try:

        async def attempt(i: int, conn: asyncpg.Connection):
            try:
                await conn.fetchrow(
                    "SELECT * FROM booking.book_appointment(NULL, $1, 'Day', $2, 1440, 1440)", 100 + i, at(day, 12)
                )
                return "ok"
            except asyncpg.PostgresError as e:
                return e.sqlstate

        outcomes = await asyncio.gather(*(attempt(i, c) for i, c in enumerate(conns)))
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    assert "53200" not in outcomes
    assert set(outcomes) <= {"ok", "40001"}, outcomes
    assert outcomes.count("ok") >= 8, outcomes
    booked = await clean_db.fetch("SELECT barber_id FROM booking.appointments")
    assert len(booked) == outcomes.count("ok") == len({r["barber_id"] for r in booked})


async def test_twenty_concurrent_python_calls_for_one_slot_never_retry_a_conflict(
    database_url, clean_db, make_barber, make_service
):
    barber = await make_barber()
    await make_service("Haircut", 30)
    day = future_day()
    retried = []
    configure_booking_service(before_retry_sleep=lambda *a: retried.append(a))
    pool = await asyncpg.create_pool(database_url, min_size=20, max_size=20, server_settings={"role": "booking_app"})
    try:

        async def attempt(i: int):
            try:
                await create_booking(
                    pool, user_id=100 + i, booking_date=day, booking_time="10:00", service="Haircut", barber_id=barber
                )
                return "ok"
            except BookingConflictError:
                return "23P01"

        before = total_retries()
        outcomes = await asyncio.gather(*(attempt(i) for i in range(20)))
    finally:
        configure_booking_service()
        await pool.close()
    assert sorted(outcomes) == ["23P01"] * 19 + ["ok"]
    assert retried == [] and total_retries() == before  # a conflict is an answer, never retried


async def test_reads_stop_at_the_read_statement_timeout_on_the_server(database_url, clean_db):
    pools = await create_pools(Settings.from_env(database_url=database_url, read_statement_timeout=0.3))
    try:
        assert await pools.read.fetchval("SHOW statement_timeout") == "300ms"
        assert await pools.write.fetchval("SHOW statement_timeout") == "0"  # writes carry lock_timeout
        started = _time.monotonic()
        with pytest.raises(asyncpg.QueryCanceledError):
            await pools.read.fetchval("SELECT pg_sleep(5)")
        assert _time.monotonic() - started < 2.0
        # The role cannot lift it for the pool's next user: it is the session default.
        assert await pools.read.fetchval("SELECT current_user") == "booking_app"
    finally:
        await pools.close()


async def test_the_services_sessions_cannot_write_more_than_temp_file_limit(database_url, clean_db):
    pools = await create_pools(Settings.from_env(database_url=database_url, temp_file_limit="1MB"))
    try:
        for pool in (pools.read, pools.write):
            assert await pool.fetchval("SHOW temp_file_limit") == "1MB"
        async with pools.write.acquire() as conn:
            await conn.execute("SET work_mem = '64kB'")
            with pytest.raises(asyncpg.PostgresError) as info:
                await conn.fetchval(
                    "SELECT count(*) FROM (SELECT g FROM generate_series(1, 500000) g ORDER BY g DESC) s"
                )
            assert info.value.sqlstate == "53400"
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("SET temp_file_limit = '1GB'")
            await conn.execute("RESET work_mem")
    finally:
        await pools.close()
    from app.gateway import translate

    mapped = translate(info.value)
    assert (mapped.http_status, mapped.code) == (503, "53400")


async def test_the_app_role_logging_in_itself_has_the_temp_file_limit(database_url):
    """sql/grants.sql sets the role's default in this database; it applies when booking_app
    is the login (how a deployment runs the service), and the login cannot raise it."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(database_url)
    as_app = urlunsplit(parts._replace(netloc="booking_app@" + parts.netloc.split("@")[-1]))
    conn = await asyncpg.connect(as_app)
    try:
        assert await conn.fetchval("SELECT session_user") == "booking_app"
        assert await conn.fetchval("SHOW temp_file_limit") == "256MB"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET temp_file_limit = -1")
    finally:
        await conn.close()
    pools = await create_pools(Settings.from_env(database_url=as_app, db_pool_min=1))
    try:  # the service logging in as booking_app starts fine
        assert await pools.read.fetchval("SHOW temp_file_limit") == "256MB"
    finally:
        await pools.close()


async def test_a_check_violation_never_shows_the_failing_row(clean_db, make_barber):
    """PostgreSQL's DETAIL of 23514 prints the whole row (a client's notes included); the
    Python API used to pass it on. Now: the rule's name only."""
    from app.gateway import translate

    barber = await make_barber()
    with pytest.raises(asyncpg.CheckViolationError) as info:
        await clean_db.execute(
            "INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes, notes)"
            " VALUES ($1, 1, 'x', now() + interval '1 day', 0, 'private: allergic to lavender')",
            barber,
        )
    assert "lavender" in (info.value.detail or "")  # what PostgreSQL says
    mapped = translate(info.value)
    assert mapped.http_status == 422
    assert "lavender" not in str(mapped) and "lavender" not in (mapped.detail or "")
    assert mapped.detail == "The value breaks the rule appointments_duration_positive."
