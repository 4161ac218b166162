"""Helpers the test tiers share (the fixtures are in tests/py/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

PROBLEM = "application/problem+json"
# The tables a test empties before it writes (tests/py/conftest.py: clean_db).
TABLES = (
    "appointments",
    "appointment_events",
    "appointment_changes",
    "idempotency_keys",
    "working_hours",
    "time_off",
    "staff",
    "api_tokens",
    "barbers",
    "services",
    "webhook_subscriptions",
    "webhook_deliveries",
    "barber_service_buffers",
    "booking_attempts",
)


def future_day(days_ahead: int = 30) -> date:
    """A date safely in the future, so 'start in the past' never trips a test."""
    return (datetime.now(UTC) + timedelta(days=days_ahead)).date()


def workday(days_ahead: int = 30) -> date:
    """A future Monday-Friday (the London barber of `shop` works Mon-Sat)."""
    d = future_day(days_ahead)
    while d.isoweekday() > 5:
        d += timedelta(days=1)
    return d


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """An instant on `day` at hh:mm UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC)


@dataclass
class Shop:
    barber: int  # Europe/London, 09:00-18:00 Mon-Sat
    other_barber: int  # UTC, no working hours (bookable any time)
    client: dict  # Authorization headers, user 101
    client2: dict  # user 102
    barber_staff: dict  # user 201, barber of `barber`
    other_staff: dict  # user 202, barber of `other_barber`
    admin: dict  # user 301


async def relay_all(pool) -> None:
    """Every change committed so far becomes an event (the change feed's relay, run to the end)."""
    from app.relay import drain

    async with pool.acquire() as conn:
        await drain(conn)


def app_cli(database_url: str, *args: str, stdin: str | None = None):
    """`python -m app ARGS` against database_url, as an operator runs it (a CompletedProcess)."""
    import os
    import subprocess
    import sys

    from harness import ROOT

    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=60,
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
    )


async def refused_within(request, seconds: float = 2.0) -> None:
    """A token change reaches the service's token cache by a notification (app.web.auth):
    `request()` (an awaitable HTTP call) must answer 401 within `seconds`."""
    import asyncio
    import time

    deadline = time.monotonic() + seconds
    while True:
        r = await request()
        if r.status_code == 401:
            assert r.headers["www-authenticate"].startswith("Bearer")
            return
        assert time.monotonic() < deadline, f"still {r.status_code} {seconds} s after the change"
        await asyncio.sleep(0.02)
