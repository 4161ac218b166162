"""Fixtures of the HTTP tests: the real app (its own lifespan: pool as booking_app, LISTEN
connection) over the test database, driven by httpx through ASGITransport on the test's
event loop, and bearer tokens made the way `python -m app token create` makes them.

Why not tests/py/http/conftest.py: tests/py is not a package, so a second conftest.py
would also be the module `conftest`, and the shared `from conftest import at, future_day`
of tests/py/*.py would then find this one. Test modules import these fixtures instead:
    from httpfixtures import *  # noqa: F403
(tests/py/http is on sys.path while its test modules are imported, rootless.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from app.booking import configure_booking_service
from app.config import Settings
from app.http import create_app
from app.tokens import hash_token, new_token
from apprunner import running


@pytest.fixture(scope="session")
async def http_app(database_url):
    app = create_app(Settings.from_env(database_url=database_url, purge_interval=0))
    async with running(app):
        yield app


__all__ = ["http_app", "default_service_config", "client", "make_token", "shop", "day", "Shop", "workday",
           "running"]


@pytest.fixture(autouse=True)
def default_service_config():
    """Tests that start apps with other tuning leave the process-wide default behind."""
    yield
    configure_booking_service()


@pytest.fixture
async def client(http_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(http_app), base_url="http://booking.test") as c:
        yield c


@dataclass
class Shop:
    barber: int            # Europe/London, 09:00-18:00 Mon-Sat
    other_barber: int      # UTC, no working hours (bookable any time)
    client: dict           # Authorization headers, user 101
    client2: dict          # user 102
    barber_staff: dict     # user 201, barber of `barber`
    other_staff: dict      # user 202, barber of `other_barber`
    admin: dict            # user 301


@pytest.fixture
def make_token(clean_db):
    async def make(user_id: int, role: str, barber_id: int | None = None) -> dict:
        token = new_token()
        await clean_db.execute("SELECT booking.create_api_token($1, $2, $3, $4, NULL)",
                               hash_token(token), user_id, role, barber_id)
        return {"Authorization": f"Bearer {token}"}
    return make


@pytest.fixture
async def shop(make_barber, make_service, make_token) -> Shop:
    hours = [(d, "09:00", "18:00") for d in range(1, 7)]
    from datetime import time as t
    barber = await make_barber("Ana", "Europe/London", [(d, t(9), t(18)) for d, _, _ in hours])
    other = await make_barber("Ben", "UTC")
    await make_service("Haircut", 30)
    await make_service("Beard Trim", 15)
    return Shop(barber, other, await make_token(101, "client"), await make_token(102, "client"),
                await make_token(201, "barber", barber), await make_token(202, "barber", other),
                await make_token(301, "admin"))


def workday(days_ahead: int = 30) -> date:
    """A future Monday-Friday (the London barber works Mon-Sat)."""
    d = (datetime.now(timezone.utc) + timedelta(days=days_ahead)).date()
    while d.isoweekday() > 5:
        d += timedelta(days=1)
    return d


@pytest.fixture
def day() -> date:
    return workday()
