"""Single-caller checks of the SQL functions from Python, where pgTAP is awkward: isolation
levels across two sessions, session settings, named notation through a driver, and the
idempotence of `python -m app migrate` itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.py.support import at, future_day

ROOT = Path(__file__).resolve().parents[3]
BOOK = "SELECT * FROM booking.book_appointment($1, $2, $3, $4, $5, $6, $7, $8)"
ACTIVE = "status NOT IN ('cancelled', 'no_show')"


async def book(conn, barber_id, user_id, service, start, before=0, after=0, notes=None, key=None):
    return await conn.fetchrow(BOOK, barber_id, user_id, service, start, before, after, notes, key)


async def outcome(awaitable):
    try:
        return "ok", await awaitable
    except asyncpg.PostgresError as e:
        return e.sqlstate, e


async def wait_until_blocked_by(observer, waiter_pid, holder_pid, timeout=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while holder_pid not in await observer.fetchval("SELECT pg_blocking_pids($1)", waiter_pid):
        assert loop.time() < deadline, f"backend {waiter_pid} never waited for {holder_pid}"
        await asyncio.sleep(0.01)


async def active_count(db, barber_id):
    return await db.fetchval(f"SELECT count(*) FROM booking.appointments WHERE barber_id = $1 AND {ACTIVE}", barber_id)


# ------------------------------------------------------------------- isolation levels


@pytest.mark.parametrize("when", ["committed_before_the_call", "committed_while_the_call_waits"])
async def test_repeatable_read_caller_is_refused_by_the_constraint_not_double_booked(
    database_url, clean_db, make_barber, make_service, when
):
    """A REPEATABLE READ transaction whose snapshot predates another session's booking cannot
    see that booking, so the trigger's check passes; the exclusion constraint still refuses,
    and book_appointment() reports it as 40001 so that a retry gets the usual 23P01."""
    barber = await make_barber()
    service = await make_service("Haircut", 30)
    day = future_day()
    a = await asyncpg.connect(database_url)
    b = await asyncpg.connect(database_url)
    observer = await asyncpg.connect(database_url)
    try:
        tb = b.transaction(isolation="repeatable_read")
        await tb.start()
        assert await b.fetchval("SELECT count(*) FROM booking.appointments") == 0  # B's snapshot
        if when == "committed_before_the_call":
            await book(a, barber, 1, service, at(day, 10))
            code, err = await outcome(book(b, barber, 2, service, at(day, 10, 15)))
        else:
            ta = a.transaction()
            await ta.start()
            await book(a, barber, 1, service, at(day, 10))
            call = asyncio.create_task(outcome(book(b, barber, 2, service, at(day, 10, 15))))
            await wait_until_blocked_by(observer, b.get_server_pid(), a.get_server_pid())
            await ta.commit()
            code, err = await call
        # The constraint refused a conflict B's snapshot cannot show: 40001, "retry" (as
        # PostgreSQL reports unique violations under SERIALIZABLE), in the catalogue's words.
        assert code == "40001", (code, err)
        assert err.args[0] == "The booking raced another transaction; retry it"
        assert "after this transaction's snapshot" in err.detail
        await tb.rollback()
        # The retry, in a new REPEATABLE READ transaction, sees the winner: 23P01 naming it.
        async with b.transaction(isolation="repeatable_read"):
            code, err = await outcome(book(b, barber, 2, service, at(day, 10, 15)))
        assert code == "23P01", (code, err)
        assert err.detail.startswith("Appointment ")
        # Still at REPEATABLE READ: a slot that does not overlap is bookable, so the refusal
        # above was the rule, not a blanket failure of stale snapshots.
        async with b.transaction(isolation="repeatable_read"):
            await b.fetchval("SELECT 1")
            ok = await book(b, barber, 2, service, at(day, 10, 30))
        assert ok["start_time"] == at(day, 10, 30)
    finally:
        for c in (a, b, observer):
            await c.close()
    rows = await clean_db.fetch(
        f"SELECT user_id, start_time FROM booking.appointments WHERE {ACTIVE} ORDER BY start_time"
    )
    assert [(r["user_id"], r["start_time"]) for r in rows] == [(1, at(day, 10)), (2, at(day, 10, 30))]


# ------------------------------------------------------------------- session settings


async def test_last_lock_wait_ms_reports_the_wait(database_url, clean_db, make_barber, make_service):
    barber = await make_barber()
    service = await make_service()
    day = future_day()
    a = await asyncpg.connect(database_url)
    b = await asyncpg.connect(database_url)
    observer = await asyncpg.connect(database_url)
    try:
        # No contention: reported, and small.
        async with b.transaction():
            await book(b, barber, 2, service, at(day, 8))
            waited = float(await b.fetchval("SELECT current_setting('booking.last_lock_wait_ms')"))
        assert 0 <= waited < 1000

        # A holds the barber/day lock; B waits at least 300 ms for it.
        ta = a.transaction()
        await ta.start()
        await book(a, barber, 1, service, at(day, 10))

        async def b_books_and_reads_wait():
            async with b.transaction():
                row = await book(b, barber, 2, service, at(day, 14))
                return row, float(await b.fetchval("SELECT current_setting('booking.last_lock_wait_ms')"))

        call = asyncio.create_task(b_books_and_reads_wait())
        await wait_until_blocked_by(observer, b.get_server_pid(), a.get_server_pid())
        await asyncio.sleep(0.3)
        await ta.commit()
        row, waited = await call
        assert row["start_time"] == at(day, 14)
        assert waited >= 250, f"B waited at least 300 ms but booking.last_lock_wait_ms says {waited}"

        # update_appointment reports its wait too (a move takes the slot locks).
        async with b.transaction():
            await b.fetchrow(
                "SELECT * FROM booking.update_appointment($1, 2, $2::jsonb)",
                row["id"],
                json.dumps({"start_time": at(day, 15).isoformat()}),
            )
            waited = float(await b.fetchval("SELECT current_setting('booking.last_lock_wait_ms')"))
        assert 0 <= waited < 1000
    finally:
        for c in (a, b, observer):
            await c.close()


async def test_lock_timeout_defaults_to_five_seconds(database_url, clean_db, make_barber, make_service):
    barber = await make_barber()
    service = await make_service()
    day = future_day()
    a = await asyncpg.connect(database_url)
    b = await asyncpg.connect(database_url)
    try:
        assert await b.fetchval("SELECT current_setting('booking.lock_timeout', true)") in (None, "")
        assert await b.fetchval("SELECT booking.lock_timeout()") == "5000ms"
        async with a.transaction():
            await book(a, barber, 1, service, at(day, 10))
            loop = asyncio.get_running_loop()
            started = loop.time()
            code, err = await outcome(book(b, barber, 2, service, at(day, 14)))
            elapsed = loop.time() - started
        assert code == "55P03", (code, err)
        assert err.args[0] == "Could not acquire lock within timeout period"
        # 5 s, with generous margins: not the 200 ms of a set timeout, not an endless wait.
        assert 4.0 <= elapsed < 15.0, elapsed
        await b.execute("SET booking.lock_timeout = '200ms'")
        assert await b.fetchval("SELECT booking.lock_timeout()") == "200ms"
        await b.execute("SET booking.lock_timeout = '1.5s'")
        assert await b.fetchval("SELECT booking.lock_timeout()") == "1500ms"
    finally:
        await a.close()
        await b.close()


async def test_invalid_lock_timeout_setting_is_reported_not_internal(database_url, clean_db, make_barber, make_service):
    barber = await make_barber()
    service = await make_service()
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SET booking.lock_timeout = 'soon'")
        code, err = await outcome(book(conn, barber, 1, service, at(future_day(), 10)))
        assert code == "BK008", (code, err)  # a catalogue error, not PostgreSQL's 22023
        assert "booking.lock_timeout" in err.detail
    finally:
        await conn.close()
    assert await clean_db.fetchval("SELECT count(*) FROM booking.appointments") == 0


async def test_update_appointment_leaves_the_callers_lock_timeout_alone(
    database_url, clean_db, make_barber, make_service
):
    barber = await make_barber()
    service = await make_service()
    conn = await asyncpg.connect(database_url)
    try:
        row = await book(conn, barber, 1, service, at(future_day(), 10))
        async with conn.transaction():
            before = await conn.fetchval("SHOW lock_timeout")
            await conn.fetchrow('SELECT * FROM booking.update_appointment($1, 1, \'{"notes": "x"}\')', row["id"])
            assert await conn.fetchval("SHOW lock_timeout") == before
    finally:
        await conn.close()


async def test_application_checks_off_still_refuses_overlaps(database_url, clean_db, make_barber, make_service):
    barber = await make_barber()
    service = await make_service("Haircut", 30)
    day = future_day()
    a = await asyncpg.connect(database_url)
    b = await asyncpg.connect(database_url)
    observer = await asyncpg.connect(database_url)
    try:
        for c in (a, b):
            await c.execute("SET booking.application_checks = off")
            await c.execute("SET booking.lock_timeout = '200ms'")
            assert await c.fetchval("SELECT booking.application_checks_enabled()") is False

        # One session: the trigger refuses (with its message), buffers included.
        first = await book(a, barber, 1, service, at(day, 9), 0, 15)  # blocks 09:00-09:45
        code, err = await outcome(book(a, barber, 2, service, at(day, 9, 40)))
        assert code == "23P01", (code, err)
        assert f"Appointment {first['id']} blocks" in err.detail
        code, err = await outcome(
            a.fetchrow(
                "SELECT * FROM booking.update_appointment($1, 1, $2::jsonb)",
                first["id"],
                json.dumps({"buffer_time_after": 0}),
            )
        )
        assert code == "ok"

        # Two sessions: without the advisory locks nothing serialises them, yet only one wins.
        ta = a.transaction()
        await ta.start()
        await book(a, barber, 1, service, at(day, 10))
        # No advisory lock is held: B books the same barber and day at once (200 ms bound).
        elsewhere = await book(b, barber, 2, service, at(day, 14))
        assert elsewhere["version"] == 1
        call = asyncio.create_task(outcome(book(b, barber, 2, service, at(day, 10, 15))))
        await wait_until_blocked_by(observer, b.get_server_pid(), a.get_server_pid())
        await ta.commit()
        code, err = await call
        assert code == "23P01", (code, err)
        assert err.constraint_name == "appointments_no_overlap"
    finally:
        for c in (a, b, observer):
            await c.close()
    assert await active_count(clean_db, barber) == 3  # 09:00, 10:00, 14:00


# ------------------------------------------------------------------- named notation

CONTRACT_PARAMETERS = {
    "book_appointment": [
        "p_barber_id",
        "p_user_id",
        "p_service",
        "p_start",
        "p_buffer_before",
        "p_buffer_after",
        "p_notes",
        "p_idempotency_key",
        "p_shop_id",  # contract section 6: "any barber of this shop"
    ],
    "create_shop": ["p_name", "p_timezone", "p_admin_user_id"],
    "create_barber": ["p_shop_id", "p_name", "p_timezone", "p_actor_user_id"],
    "create_service": ["p_shop_id", "p_name", "p_duration_minutes", "p_price_cents", "p_actor_user_id"],
    "set_working_hours": ["p_barber_id", "p_hours", "p_actor_user_id", "p_force", "p_expected_version"],
    "add_time_off": ["p_barber_id", "p_from", "p_to", "p_reason", "p_actor_user_id", "p_force"],
    "update_appointment": ["p_appointment_id", "p_user_id", "p_changes", "p_expected_version"],
    "cancel_appointment": ["p_appointment_id", "p_user_id", "p_expected_version"],
}


async def test_contract_parameter_names(clean_db):
    for name, expected in CONTRACT_PARAMETERS.items():
        rows = await clean_db.fetch(
            "SELECT p.proargnames[1:p.pronargs] AS names, p.pronargdefaults AS defaults "
            "FROM pg_proc p WHERE p.pronamespace = 'booking'::regnamespace AND p.proname = $1",
            name,
        )
        assert len(rows) == 1, f"booking.{name} is overloaded or missing: {rows}"
        assert rows[0]["names"] == expected, name


async def test_named_notation_calls(clean_db, make_barber, make_service):
    barber = await make_barber()
    service = await make_service("Haircut", 30)
    day = future_day()
    db = clean_db
    booked = await db.fetchrow(
        "SELECT * FROM booking.book_appointment(p_start => $1, p_service => $2, p_user_id => $3,"
        " p_barber_id => $4, p_buffer_after => 10, p_idempotency_key => 'named-1')",
        at(day, 10),
        service,
        42,
        barber,
    )
    assert (
        booked["barber_id"],
        booked["user_id"],
        booked["start_time"],
        booked["buffer_time_before"],
        booked["buffer_time_after"],
        booked["notes"],
        booked["version"],
        booked["replayed"],
    ) == (barber, 42, at(day, 10), 0, 10, None, 1, False)
    replay = await db.fetchrow(
        "SELECT * FROM booking.book_appointment(p_barber_id => $1, p_user_id => $2, p_service => $3,"
        " p_start => $4, p_buffer_before => 0, p_buffer_after => 10, p_notes => NULL,"
        " p_idempotency_key => 'named-1')",
        barber,
        42,
        service,
        at(day, 10),
    )
    assert replay["id"] == booked["id"] and replay["replayed"] is True

    updated = await db.fetchrow(
        "SELECT * FROM booking.update_appointment(p_changes => $1::jsonb, p_expected_version => 1,"
        " p_user_id => 42, p_appointment_id => $2)",
        json.dumps({"start_time": at(day, 11).isoformat(), "notes": "named"}),
        booked["id"],
    )
    assert (updated["start_time"], updated["notes"], updated["version"]) == (at(day, 11), "named", 2)

    code, err = await outcome(
        db.fetchrow(
            "SELECT * FROM booking.cancel_appointment(p_appointment_id => $1, p_user_id => 42, p_expected_version => 1)",
            booked["id"],
        )
    )
    assert code == "BK001", (code, err)
    cancelled = await db.fetchrow(
        "SELECT * FROM booking.cancel_appointment(p_user_id => 42, p_appointment_id => $1, p_expected_version => 2)",
        booked["id"],
    )
    assert (cancelled["status"], cancelled["version"]) == ("cancelled", 3)


# ------------------------------------------------------------------- migrate idempotence


def _schema_dump(database_url: str) -> str:
    done = subprocess.run(
        ["pg_dump", "--schema-only", "--schema=booking", "--no-comments", "-d", database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for expected in (
        "CREATE TABLE booking.appointments",
        "CREATE FUNCTION booking.book_appointment",
        "appointments_no_overlap",
        "GRANT",
    ):
        assert expected in done.stdout, expected
    # Recent pg_dump releases fence the script with \restrict/\unrestrict and a random key.
    return "".join(
        line for line in done.stdout.splitlines(True) if not line.startswith(("\\restrict ", "\\unrestrict "))
    )


async def test_migrate_is_idempotent(database_url, pool):
    before = await asyncio.to_thread(_schema_dump, database_url)
    codes_before = await pool.fetch("SELECT * FROM booking.error_codes ORDER BY name")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app", "migrate"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    after = await asyncio.to_thread(_schema_dump, database_url)
    if before != after:
        import difflib

        diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), "before", "after", n=1))
        pytest.fail("a second migrate changed the schema:\n" + diff[:4000])
    assert [tuple(r) for r in await pool.fetch("SELECT * FROM booking.error_codes ORDER BY name")] == [
        tuple(r) for r in codes_before
    ]
