"""app.booking (contract section 4) through real connections as booking_app.

Transient failures are provoked for real: a serialization failure (40001) of a REPEATABLE
READ update racing a committed change, and lost connections (pg_terminate_backend from
another connection). The delays are recorded through the before_retry_sleep hook.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import msgspec
import pytest

from app import booking, metrics
from app.booking import (
    BookingConflictError,
    ConcurrencyError,
    IdempotencyKeyMismatchError,
    LockTimeoutError,
    cancel_booking,
    configure_booking_service,
    create_booking,
    update_booking,
)
from app.errors import BookingError, DatabaseUnavailableError, ValidationError
from app.gateway import transient_reason


def future_day(days_ahead: int = 30) -> date:
    """A date safely in the future (the shared conftest's rule; not imported: tests/py/http
    has a conftest of its own, and both import as the module `conftest`)."""
    return (datetime.now(UTC) + timedelta(days=days_ahead)).date()


APP_NAME = "booking-api-test"


@pytest.fixture(autouse=True)
def default_config():
    configure_booking_service()
    yield
    configure_booking_service()


@pytest.fixture(scope="session")
async def app_pool(database_url):
    """Connections as the service runs them: role booking_app."""
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=10, server_settings={"role": "booking_app", "application_name": APP_NAME}
    )
    yield pool
    await pool.close()


@pytest.fixture
async def shop(make_barber, make_service):
    barber = await make_barber("Ana", "Europe/London")
    await make_service("Haircut", 30)
    return barber


async def book(db, barber, day, hh, mm=0, user=1, **kw):
    return await create_booking(
        db, user_id=user, booking_date=day, booking_time=time(hh, mm), service="Haircut", barber_id=barber, **kw
    )


async def wait_for_lock_waiter(pool, exclude=(), application_name=APP_NAME) -> int:
    """The pid of a backend of `application_name` waiting on a lock (polls up to 10 s)."""
    for _ in range(500):
        pid = await pool.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'"
            " AND pid <> ALL ($2::int[]) LIMIT 1",
            application_name,
            list(exclude),
        )
        if pid:
            return pid
        await asyncio.sleep(0.02)
    raise AssertionError("no backend started waiting on the lock")


async def wait_until(predicate) -> None:
    for _ in range(1000):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_runs_as_booking_app(app_pool):
    assert await app_pool.fetchval("SELECT current_user") == "booking_app"


async def test_create_returns_the_appointment_local_and_utc(app_pool, shop):
    day = future_day()
    appt = await book(app_pool, shop, day, 10, buffer_time_before=5, buffer_time_after=10, notes="hi")
    assert appt.barber_id == shop and appt.user_id == 1 and appt.service_name == "Haircut"
    assert appt.booking_date == day and appt.booking_time == "10:00"
    assert appt.timezone == "Europe/London"
    local = appt.start_time.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    assert (local.date(), local.time()) == (day, time(10, 0))
    assert (appt.end_time - appt.start_time).total_seconds() == 30 * 60
    assert (appt.version, appt.status, appt.replayed) == (1, "scheduled", False)
    assert (appt.buffer_time_before, appt.buffer_time_after, appt.notes) == (5, 10, "hi")


async def test_accepts_a_connection_and_iso_strings(app_pool, shop):
    async with app_pool.acquire() as conn:
        appt = await create_booking(
            conn,
            user_id=2,
            booking_date=future_day().isoformat(),
            booking_time="11:15",
            service="Haircut",
            barber_id=shop,
        )
    assert appt.booking_time == "11:15"


async def test_conflict_is_raised_at_once_without_retry(app_pool, pool, shop):
    delays = []
    configure_booking_service(before_retry_sleep=lambda *a: delays.append(a))
    first = await book(app_pool, shop, future_day(), 10, buffer_time_after=15)
    with pytest.raises(BookingConflictError) as info:
        await book(app_pool, shop, future_day(), 10, 30, user=2)
    err = info.value
    assert err.sqlstate == "23P01" and err.http_status == 409
    assert err.conflicting_appointment_id == first.id
    assert err.conflict_start and err.conflict_end
    assert delays == []
    assert await pool.fetchval("SELECT count(*) FROM booking.appointments") == 1


async def test_touching_intervals_do_not_conflict(app_pool, shop):
    await book(app_pool, shop, future_day(), 10)
    await book(app_pool, shop, future_day(), 10, 30, user=2)
    await book(app_pool, shop, future_day(), 9, 30, user=3)


async def test_version_mismatch_is_concurrency_error_and_not_retried(app_pool, shop):
    delays = []
    configure_booking_service(before_retry_sleep=lambda *a: delays.append(a))
    appt = await book(app_pool, shop, future_day(), 10)
    changed = await update_booking(app_pool, appt.id, 1, {"notes": "v2"}, expected_version=1)
    assert changed.version == 2 and changed.notes == "v2"
    with pytest.raises(ConcurrencyError) as info:
        await update_booking(app_pool, appt.id, 1, {"notes": "v3"}, expected_version=1)
    assert info.value.sqlstate == "BK001" and info.value.http_status == 412
    with pytest.raises(ConcurrencyError):
        await cancel_booking(app_pool, appt.id, 1, expected_version=1)
    assert delays == []


async def test_update_by_local_date_and_time(app_pool, shop):
    appt = await book(app_pool, shop, future_day(), 10)
    moved = await update_booking(app_pool, appt.id, 1, {"booking_time": time(14, 0)})
    assert moved.booking_time == "14:00" and moved.booking_date == future_day()
    assert moved.version == 2
    moved = await update_booking(app_pool, appt.id, 1, {"booking_date": future_day(31)})
    assert (moved.booking_date, moved.booking_time) == (future_day(31), "14:00")


async def test_cancel_frees_the_slot(app_pool, shop):
    appt = await book(app_pool, shop, future_day(), 10)
    cancelled = await cancel_booking(app_pool, appt.id, 1)
    assert cancelled.status == "cancelled" and cancelled.version == 2
    again = await book(app_pool, shop, future_day(), 10, user=2)
    assert again.id != appt.id


async def test_idempotent_replay_and_key_mismatch(app_pool, pool, shop):
    first = await book(app_pool, shop, future_day(), 10, idempotency_key="k-1")
    replay = await book(app_pool, shop, future_day(), 10, idempotency_key="k-1")
    assert replay.replayed is True and replay.id == first.id
    assert msgspec.structs.replace(replay, replayed=False) == first
    with pytest.raises(IdempotencyKeyMismatchError) as info:
        await book(app_pool, shop, future_day(), 11, idempotency_key="k-1")
    assert info.value.sqlstate == "BK002" and info.value.http_status == 422
    assert await pool.fetchval("SELECT count(*) FROM booking.appointments") == 1


async def test_lock_timeout(app_pool, pool, shop):
    configure_booking_service(advisory_lock_timeout=0.2)
    day = future_day()
    async with pool.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        try:
            # An uncommitted booking of the same barber and day holds the slot lock.
            await holder.fetchrow(
                "SELECT * FROM booking.book_appointment($1, 9, 'Haircut', $2)",
                shop,
                await holder.fetchval("SELECT booking.local_start($1, $2, '15:00')", shop, day),
            )
            started = asyncio.get_running_loop().time()
            with pytest.raises(LockTimeoutError) as info:
                await book(app_pool, shop, day, 10)
            assert info.value.sqlstate == "55P03" and info.value.http_status == 503
            # The configured 0.2 s bounded the wait, not the 5 s default: the setting reached SQL.
            assert asyncio.get_running_loop().time() - started < 2.5
            # Prevention off: no advisory lock, so no wait; a different slot books.
            configure_booking_service(enable_double_booking_prevention=False, advisory_lock_timeout=0.2)
            appt = await book(app_pool, shop, day, 10)
            assert appt.status == "scheduled"
        finally:
            await tx.rollback()


async def test_disabled_prevention_still_refused_by_the_database(app_pool, pool, shop):
    configure_booking_service(enable_double_booking_prevention=False)
    delays = []
    configure_booking_service(enable_double_booking_prevention=False, before_retry_sleep=lambda *a: delays.append(a))
    await book(app_pool, shop, future_day(), 10)
    with pytest.raises(BookingConflictError):
        await book(app_pool, shop, future_day(), 10, 15, user=2)
    assert delays == []
    assert await pool.fetchval("SELECT count(*) FROM booking.appointments") == 1


async def test_disabled_prevention_race_stopped_by_the_constraint(app_pool, pool, shop):
    """Without the advisory lock two racing writers meet at the exclusion constraint."""
    configure_booking_service(enable_double_booking_prevention=False)
    day = future_day()
    async with pool.acquire() as other:
        tx = other.transaction()
        await tx.start()
        await other.execute("SELECT set_config('booking.application_checks', 'off', true)")
        await other.fetchrow(
            "SELECT * FROM booking.book_appointment($1, 9, 'Haircut', $2)",
            shop,
            await other.fetchval("SELECT booking.local_start($1, $2, '10:00')", shop, day),
        )
        racer = asyncio.create_task(book(app_pool, shop, day, 10, 15))
        await wait_for_lock_waiter(pool)  # blocked by the constraint on the uncommitted row
        await tx.commit()
    with pytest.raises(BookingConflictError) as info:
        await racer
    assert info.value.source == "constraint"
    assert info.value.conflict_start is not None
    assert await pool.fetchval("SELECT count(*) FROM booking.appointments") == 1


async def test_serialization_failure_is_retried(database_url, pool, shop):
    """REPEATABLE READ: an update that waits for a concurrent change gets 40001, then succeeds."""
    rr_pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=2,
        server_settings={
            "role": "booking_app",
            "application_name": APP_NAME,
            "default_transaction_isolation": "repeatable read",
        },
    )
    try:
        appt = await book(rr_pool, shop, future_day(), 10)
        retries = []
        configure_booking_service(before_retry_sleep=lambda *a: retries.append(a))
        before = metrics.BOOKING_RETRIES.labels("update", "serialization_failure")._value.get()
        async with pool.acquire() as other:
            tx = other.transaction()
            await tx.start()
            await other.fetchrow('SELECT * FROM booking.update_appointment($1, 1, \'{"notes": "other"}\')', appt.id)
            updating = asyncio.create_task(update_booking(rr_pool, appt.id, 1, {"buffer_time_after": 5}))
            await wait_for_lock_waiter(pool)
            await tx.commit()
        result = await updating
        assert [(op, n, type(e).__name__) for op, n, _, e in retries] == [("update", 1, "SerializationError")]
        assert retries[0][3].sqlstate == "40001"
        assert (result.notes, result.buffer_time_after, result.version) == ("other", 5, 3)
        assert metrics.BOOKING_RETRIES.labels("update", "serialization_failure")._value.get() == before + 1
    finally:
        await rr_pool.close()


async def test_lost_connections_are_retried_with_growing_delays(app_pool, pool, shop):
    """The booking's connection is terminated three times while it waits; the fourth try books."""
    retries = []
    configure_booking_service(before_retry_sleep=lambda *a: retries.append(a))
    day = future_day()
    async with pool.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        await holder.fetchrow(
            "SELECT * FROM booking.book_appointment($1, 9, 'Haircut', $2)",
            shop,
            await holder.fetchval("SELECT booking.local_start($1, $2, '15:00')", shop, day),
        )
        booking_task = asyncio.create_task(book(app_pool, shop, day, 10))
        terminated = []
        for i in range(3):
            pid = await wait_for_lock_waiter(pool, exclude=terminated)
            terminated.append(pid)
            assert await pool.fetchval("SELECT pg_terminate_backend($1)", pid)
            await wait_until(lambda n=i: len(retries) > n)
        await tx.rollback()
    appt = await booking_task
    assert appt.booking_time == "10:00"
    assert [n for _, n, _, _ in retries] == [1, 2, 3]
    assert all(transient_reason(e) == "connection_lost" for _, _, _, e in retries), retries
    delays = [d for _, _, d, _ in retries]
    assert delays[0] < delays[1] < delays[2], delays
    assert 0.075 <= delays[0] <= 0.1 and 0.15 <= delays[1] <= 0.2 and 0.3 <= delays[2] <= 0.4


async def test_retries_stop_after_max_attempts(app_pool, pool, shop):
    retries = []
    configure_booking_service(
        max_retry_attempts=1, initial_retry_delay=0.01, before_retry_sleep=lambda *a: retries.append(a)
    )
    day = future_day()
    async with pool.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        await holder.fetchrow(
            "SELECT * FROM booking.book_appointment($1, 9, 'Haircut', $2)",
            shop,
            await holder.fetchval("SELECT booking.local_start($1, $2, '15:00')", shop, day),
        )
        booking_task = asyncio.create_task(book(app_pool, shop, day, 10))
        terminated = []
        for _ in range(2):
            pid = await wait_for_lock_waiter(pool, exclude=terminated)
            terminated.append(pid)
            await pool.fetchval("SELECT pg_terminate_backend($1)", pid)
        with pytest.raises(DatabaseUnavailableError):
            await booking_task
        await tx.rollback()
    assert len(retries) == 1


async def test_unknown_tuning_name_is_a_type_error():
    with pytest.raises(TypeError):
        configure_booking_service(advisory_lock_timeot=1)
    cfg = configure_booking_service(max_retry_attempts=5, backoff_factor=3.0)
    assert (cfg.max_retry_attempts, cfg.backoff_factor, cfg.initial_retry_delay) == (5, 3.0, 0.1)
    assert cfg.advisory_lock_timeout == 5 and cfg.max_retry_delay == 1.0 and cfg.idempotency_key_ttl_hours == 24


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"barber_id": 10**30}, "barber_id"),
        ({"barber_id": "1"}, "barber_id"),
        ({"service": None}, "service"),
        ({"booking_date": 20300101}, "booking_date"),
        ({"buffer_time_before": 2**31}, "buffer_time_before"),
    ],
)
async def test_arguments_of_the_wrong_form_are_validation_errors(app_pool, shop, kwargs, field):
    """What cannot be sent at all is refused in Python, before any SQL."""
    args = dict(user_id=1, booking_date=future_day(), booking_time="10:00", service="Haircut", barber_id=shop)
    args.update(kwargs)
    with pytest.raises(ValidationError) as info:
        await create_booking(app_pool, **args)
    assert info.value.field == field and info.value.http_status == 422


@pytest.mark.parametrize(
    "kwargs, sqlstate",
    [
        ({"booking_date": "2026-02-30"}, "BK008"),
        ({"booking_date": "tomorrow"}, "BK008"),
        ({"booking_time": "25:00"}, "BK008"),
        ({"booking_time": "24:00"}, "BK008"),
        ({"notes": "a\x00b"}, "22021"),
    ],
)
async def test_values_the_engine_refuses_are_its_errors(app_pool, shop, kwargs, sqlstate):
    """A real date, a time of day, text PostgreSQL can hold: the engine's rules, stated once."""
    args = dict(user_id=1, booking_date=future_day(), booking_time="10:00", service="Haircut", barber_id=shop)
    args.update(kwargs)
    with pytest.raises(BookingError) as info:
        await create_booking(app_pool, **args)
    assert info.value.code == sqlstate and info.value.http_status == 422


@pytest.mark.parametrize(
    "kwargs, sqlstate",
    [
        ({"service": "Perm"}, "BK004"),
        ({"barber_id": 999999}, "BK003"),
        ({"booking_date": date(2020, 1, 6)}, "BK005"),
        ({"buffer_time_before": -1}, "BK008"),
        ({"buffer_time_after": 2000}, "BK008"),
    ],
)
async def test_engine_errors_are_booking_errors(app_pool, shop, kwargs, sqlstate):
    args = dict(user_id=1, booking_date=future_day(), booking_time="10:00", service="Haircut", barber_id=shop)
    args.update(kwargs)
    with pytest.raises(BookingError) as info:
        await create_booking(app_pool, **args)
    assert info.value.sqlstate == sqlstate


async def test_update_errors(app_pool, shop):
    appt = await book(app_pool, shop, future_day(), 10)
    with pytest.raises(BookingError) as info:
        await update_booking(app_pool, appt.id, 1, {"colour": "red"})
    assert info.value.sqlstate == "BK009"
    with pytest.raises(BookingError) as info:
        await update_booking(app_pool, appt.id, 2, {"notes": "not mine"})
    assert info.value.sqlstate == "BK011" and info.value.http_status == 404
    with pytest.raises(BookingError) as info:
        await update_booking(app_pool, appt.id, 1, {"notes": "a\u0000b"})
    assert info.value.http_status == 422


async def test_debug_log_shows_each_layer(app_pool, shop, caplog):
    with caplog.at_level("DEBUG", logger="booking"):
        await book(app_pool, shop, future_day(), 10)
        with pytest.raises(BookingConflictError):
            await book(app_pool, shop, future_day(), 10, user=2)
    text = caplog.text
    assert "lock layer" in text and "overlap layer (trigger)" in text


def test_exports():
    for name in (
        "create_booking",
        "update_booking",
        "cancel_booking",
        "configure_booking_service",
        "BookingConflictError",
        "ConcurrencyError",
        "LockTimeoutError",
        "IdempotencyKeyMismatchError",
    ):
        assert name in booking.__all__


async def test_the_idempotency_key_lifetime_reaches_the_database(app_pool, pool, shop):
    configure_booking_service(idempotency_key_ttl_hours=48)  # at least 24: the SQL floor
    await book(app_pool, shop, future_day(), 10, idempotency_key="ttl-1")
    lifetime = await pool.fetchval(
        "SELECT expires_at - created_at FROM booking.idempotency_keys WHERE idempotency_key = 'ttl-1'"
    )
    assert lifetime == timedelta(hours=48)


async def test_a_call_inside_the_callers_transaction_uses_a_savepoint(app_pool, pool, shop):
    day = future_day()
    async with app_pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        first = await book(conn, shop, day, 10)
        with pytest.raises(BookingConflictError):
            await book(conn, shop, day, 10, 15, user=2)
        # The refusal rolled back to the savepoint: the caller's transaction goes on.
        second = await book(conn, shop, day, 11)
        # (booking_app reads appointments only through the functions)
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM unnest($1::bigint[]) AS i, booking.get_appointment(i, 1)", [first.id, second.id]
            )
            == 2
        )
        await tx.rollback()
    assert first.id != second.id
    assert await pool.fetchval("SELECT count(*) FROM booking.appointments") == 0


async def test_the_service_pool_rolls_back_what_a_released_connection_left_open(database_url):
    from app import db
    from app.config import Settings

    pools = await db.create_pools(
        Settings.from_env({"DATABASE_URL": database_url, "DB_POOL_MIN": "1", "DB_POOL_MAX": "1"})
    )
    pool = pools.write
    try:
        async with pool.acquire() as conn:
            await conn.execute("BEGIN")  # left open, as an interrupted request would
            await conn.execute("CREATE TEMP TABLE left_behind (x int)")
        async with pool.acquire() as conn:  # the same connection (max 1)
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT to_regclass('pg_temp.left_behind')") is None
            assert await conn.fetchval("SELECT current_user") == "booking_app"
    finally:
        await pools.close()
