"""Fixtures of every test tier: a real PostgreSQL (DATABASE_URL, migrated by
scripts/run-tests.sh), real connections, factories for reference data, and the real app.

Tests run on one database; every test that writes starts from empty booking tables
(`clean_db`) and creates the barbers and services it needs. The tiers (unit, db, http,
e2e) each have a conftest.py of their own saying what they need; `make test-quick` runs
all but e2e.
"""

from __future__ import annotations

import os
from datetime import date, time

import asyncpg
import httpx
import pytest

from app.config import Settings
from app.tokens import hash_token, new_token
from app.tuning import configure_booking_service
from app.web import create_app
from harness.service import running
from tests.py.engines import ClusterUnderTest, Engine, cluster_engine
from tests.py.support import TABLES, Shop, workday


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.exit("DATABASE_URL is not set: run the suite with `make test`", returncode=2)
    return url


@pytest.fixture(scope="session")
async def pool(database_url):
    pool = await asyncpg.create_pool(database_url, min_size=2, max_size=40)
    yield pool
    await pool.close()


@pytest.fixture
async def clean_db(pool):
    async with pool.acquire() as conn:
        # The change feed's lock (booking.lock_namespace('change_feed'), 0) for the whole
        # reset: a relay (of an app already started) answers 'busy' instead of deadlocking
        # with the truncate, or relaying an earlier test's changes in between.
        await conn.execute("SELECT pg_advisory_lock(1112211461, 0)")
        try:
            for attempt in range(5):  # a reader of an app still running may deadlock with the truncate
                try:
                    async with conn.transaction():
                        await conn.execute("SET LOCAL synchronous_commit = on")  # flushes the WAL up to here
                        await conn.execute(
                            "TRUNCATE " + ", ".join(f"booking.{t}" for t in TABLES) + " RESTART IDENTITY CASCADE"
                        )
                        # Shops but the default one (whose rows the truncate emptied).
                        await conn.execute("DELETE FROM booking.shops WHERE id <> 1")
                        # The default shop's settings back to their defaults (policy, hold time).
                        await conn.execute(
                            "UPDATE booking.shops SET min_notice_minutes = 0, max_advance_days = NULL,"
                            " cancel_cutoff_minutes = 0, reschedule_cutoff_minutes = 0, hold_minutes = 5 WHERE id = 1"
                        )
                        await conn.execute("SELECT setval(pg_get_serial_sequence('booking.shops', 'id'), 1)")
                    break
                except asyncpg.DeadlockDetectedError:
                    if attempt == 4:
                        raise
            # The feed (mode logical) restarts after the truncate: what its slot still holds
            # from earlier tests would announce appointments that no longer exist. The relay
            # skips every commit up to relayed_lsn, whether it polls or streams the slot.
            await conn.execute("UPDATE booking.change_feed SET relayed_lsn = pg_current_wal_insert_lsn()")
        finally:
            await conn.execute("SELECT pg_advisory_unlock(1112211461, 0)")
    yield pool


@pytest.fixture
def make_barber(clean_db):
    async def make(name: str = "Barber", timezone_name: str = "UTC", hours: list[tuple] | None = None) -> int:
        barber_id = await clean_db.fetchval(
            "INSERT INTO booking.barbers (name, timezone) VALUES ($1, $2) RETURNING id", name, timezone_name
        )
        for weekday, opens, closes in hours or []:
            await clean_db.execute(
                "INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at) VALUES ($1, $2, $3, $4)",
                barber_id,
                weekday,
                opens,
                closes,
            )
        return barber_id

    return make


@pytest.fixture
def make_service(clean_db):
    async def make(name: str = "Haircut", duration_minutes: int = 30, price_cents: int = 2500) -> str:
        await clean_db.execute(
            "INSERT INTO booking.services (name, duration_minutes, price_cents) VALUES ($1, $2, $3)",
            name,
            duration_minutes,
            price_cents,
        )
        return name

    return make


@pytest.fixture(scope="session")
def test_cluster():
    """A 2-partition cluster (proxy + 2 servers), started once for the session."""
    cluster = ClusterUnderTest()
    yield cluster
    cluster.close()


@pytest.fixture(params=["one_database", "cluster"])
async def engine(request, database_url, clean_db, make_barber, make_service):
    """The function API on one database, then through a 2-partition cluster's proxy
    (tests/py/engines.py): a test that takes it runs on both."""
    if request.param == "one_database":
        yield Engine("one_database", database_url, database_url, clean_db, make_barber, make_service)
        return
    cluster = request.getfixturevalue("test_cluster")
    await cluster.reset()
    rows = await asyncpg.create_pool(cluster.partition_urls[1], min_size=1, max_size=4)
    try:
        yield await cluster_engine(cluster, rows)
    finally:
        await rows.close()


@pytest.fixture
def make_token(clean_db):
    """Bearer headers, made the way `python -m app token create` makes them."""

    async def make(user_id: int, role: str, barber_id: int | None = None) -> dict:
        token = new_token()
        await clean_db.execute(
            "SELECT booking.create_api_token($1, $2, $3, $4, NULL)", hash_token(token), user_id, role, barber_id
        )
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
async def shop(make_barber, make_service, make_token) -> Shop:
    barber = await make_barber("Ana", "Europe/London", [(d, time(9), time(18)) for d in range(1, 7)])
    other = await make_barber("Ben", "UTC")
    await make_service("Haircut", 30)
    await make_service("Beard Trim", 15)
    return Shop(
        barber,
        other,
        await make_token(101, "client"),
        await make_token(102, "client"),
        await make_token(201, "barber", barber),
        await make_token(202, "barber", other),
        await make_token(301, "admin"),
    )


@pytest.fixture
def day() -> date:
    return workday()


@pytest.fixture(autouse=True)
def default_service_config():
    """Tests that start apps with other tuning leave the process-wide default behind."""
    yield
    configure_booking_service()


@pytest.fixture(scope="session")
async def http_app(database_url):
    """The real app (its own lifespan: pools as booking_app, the LISTEN connection) over the
    test database."""
    # No webhook worker here: tests/py/http/test_webhooks.py runs apps with one, set for them.
    app = create_app(Settings.from_env(database_url=database_url, purge_interval=0, webhook_delivery=False))
    async with running(app):
        yield app


@pytest.fixture
async def client(http_app):
    """httpx through ASGITransport, in the test's event loop."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(http_app), base_url="http://booking.test") as c:
        yield c
