"""Shared fixtures: a real PostgreSQL (DATABASE_URL, migrated by scripts/run-tests.sh),
real connections, and small factories for reference data.

Tests run on one database; every test that writes starts from empty booking tables
(`clean_db`) and creates the barbers and services it needs.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone

import asyncpg
import pytest

TABLES = ("appointments", "appointment_events", "idempotency_keys", "working_hours", "time_off", "staff",
          "api_tokens", "barbers", "services")


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
    await pool.execute(
        "TRUNCATE " + ", ".join(f"booking.{t}" for t in TABLES) + " RESTART IDENTITY CASCADE"
    )
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
                barber_id, weekday, opens, closes,
            )
        return barber_id

    return make


@pytest.fixture
def make_service(clean_db):
    async def make(name: str = "Haircut", duration_minutes: int = 30, price_cents: int = 2500) -> str:
        await clean_db.execute(
            "INSERT INTO booking.services (name, duration_minutes, price_cents) VALUES ($1, $2, $3)",
            name, duration_minutes, price_cents,
        )
        return name

    return make


def future_day(days_ahead: int = 30) -> date:
    """A date safely in the future, so 'start in the past' never trips a test."""
    return (datetime.now(timezone.utc) + timedelta(days=days_ahead)).date()


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """An instant on `day` at hh:mm UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=timezone.utc)
