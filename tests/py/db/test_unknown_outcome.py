"""A lost connection is retried only when that is safe (app.booking, app.gateway.never_sent).

A connection lost mid-call (a failover, a restart: here pg_terminate_backend while the call
waits on a row lock) leaves the outcome unknown: an update is then not retried, and says so
(503 database_unavailable over HTTP); a cancel without an expected version, which is
idempotent, is retried. A connection that could not be had at all (every host refused, as
while a failover is under way) proves nothing was sent: then every call is retried.
"""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from app.booking import cancel_booking, configure_booking_service, create_booking, update_booking
from app.errors import DatabaseUnavailableError
from app.gateway import never_sent, transient_reason

APP_NAME = "booking-unknown-outcome-test"


@pytest.fixture(autouse=True)
def default_config():
    configure_booking_service()
    yield
    configure_booking_service()


@pytest.fixture
async def app_pool(database_url):
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=4, server_settings={"role": "booking_app", "application_name": APP_NAME}
    )
    yield pool
    await pool.close()


@pytest.fixture
async def appointment(app_pool, make_barber, make_service):
    barber = await make_barber("Ana", "UTC")
    await make_service("Haircut", 30)
    day = (datetime.now(UTC) + timedelta(days=30)).date()
    return await create_booking(
        app_pool, user_id=1, booking_date=day, booking_time=time(10), service="Haircut", barber_id=barber
    )


async def terminate_the_waiter(pool, appointment_id: int, call) -> tuple[asyncio.Task, list]:
    """Runs `call` while another transaction holds the appointment's row, terminates the
    backend that waits for it, then lets the row go; (the call's task, the retries seen)."""
    retries: list = []
    configure_booking_service(before_retry_sleep=lambda *a: retries.append(a))
    async with pool.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT 1 FROM booking.appointments WHERE id = $1 FOR UPDATE", appointment_id)
        task = asyncio.create_task(call())
        for _ in range(500):
            pid = await pool.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", APP_NAME
            )
            if pid:
                break
            await asyncio.sleep(0.02)
        assert pid, "the call never waited on the row"
        assert await pool.fetchval("SELECT pg_terminate_backend($1)", pid)
        for _ in range(200):  # the retry (if any) is under way before the row is let go
            if retries or task.done():
                break
            await asyncio.sleep(0.01)
        await tx.rollback()
    return task, retries


async def test_an_update_whose_connection_was_lost_is_not_retried(app_pool, pool, appointment):
    task, retries = await terminate_the_waiter(
        pool, appointment.id, lambda: update_booking(app_pool, appointment.id, 1, {"notes": "moved"})
    )
    with pytest.raises(DatabaseUnavailableError) as raised:
        await task
    assert retries == []
    assert "whether it was applied is unknown" in raised.value.detail
    assert raised.value.http_status == 503 and raised.value.transient
    assert await pool.fetchval("SELECT version FROM booking.appointments WHERE id = $1", appointment.id) == 1


async def test_a_cancel_without_expected_version_is_retried(app_pool, pool, appointment):
    task, retries = await terminate_the_waiter(
        pool, appointment.id, lambda: cancel_booking(app_pool, appointment.id, 1)
    )
    cancelled = await task
    assert cancelled.status == "cancelled" and cancelled.version == 2
    assert [transient_reason(e) for *_, e in retries] == ["connection_lost"]


async def test_a_conditional_cancel_is_not_retried(app_pool, pool, appointment):
    task, retries = await terminate_the_waiter(
        pool, appointment.id, lambda: cancel_booking(app_pool, appointment.id, 1, expected_version=1)
    )
    with pytest.raises(DatabaseUnavailableError):
        await task
    assert retries == []


async def test_nothing_sent_is_retried_for_every_call():
    """A pool whose server refuses every connection (the hosts of a multi-host URL while no
    primary is up): an update is tried 1 + 3 times, then answers the plain unavailable error."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    pool = await asyncpg.create_pool(f"postgresql://postgres@127.0.0.1:{port}/booking", min_size=0, max_size=2)
    retries: list = []
    configure_booking_service(initial_retry_delay=0.01, before_retry_sleep=lambda *a: retries.append(a))
    try:
        with pytest.raises(DatabaseUnavailableError) as raised:
            await update_booking(pool, 1, 1, {"notes": "x"})
    finally:
        await pool.close()
    assert len(retries) == 3 and all(never_sent(e) for *_, e in retries), retries
    assert "unknown" not in raised.value.detail


def test_never_sent():
    assert never_sent(ConnectionRefusedError())
    assert never_sent(asyncpg.exceptions.TargetServerAttributeNotMatched("no host"))
    assert never_sent(asyncpg.InterfaceError("cannot perform operation: connection is closed"))
    assert not never_sent(asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"))
    assert not never_sent(TimeoutError())
    noted = OSError("refused")
    noted.add_note("booking: nothing was sent (no connection to the database could be had)")
    assert never_sent(noted)
