"""Hypothesis drives JSON bodies of every shape at POST /appointments and PATCH
/appointments/{id} of a real `python -m app serve`: whatever the body, the answer is a 2xx,
or a 4xx problem document that says what is wrong; never a 5xx, never a half-written row.

schemathesis (tests/py/test_fuzz.py) covers paths, queries and headers from the OpenAPI
schema, which does not describe these bodies (the handlers parse them themselves); this
covers the bodies: known fields with values of every JSON type, plausible and not, unknown
fields, non-objects, NaN and huge numbers.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.migrate import libpq_url
from harness.service import ServiceProcess
from tests.py.support import TABLES

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = int(os.environ.get("BODY_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

DAY = date.today() + timedelta(days=40)
CHEN = 3  # the demo barber in UTC (ids follow the demo order after a TRUNCATE)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)
near = st.integers(0, 3650).map(lambda d: str(DAY + timedelta(days=d - 40)))
dates = st.one_of(
    near,
    near,
    near,
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(str),
    st.sampled_from(["2030-02-30", "2030-13-01", "today", "2030-1-1", "20300101", ""]),
)
on_grid = st.tuples(st.integers(0, 23), st.sampled_from([0, 15, 30, 45])).map(lambda hm: f"{hm[0]:02d}:{hm[1]:02d}")
times = st.one_of(
    on_grid,
    on_grid,
    on_grid,
    st.times().map(lambda t: t.isoformat()),
    st.sampled_from(["24:00", "10:60", "1:30", "noon", "01:30 America/New_York", ""]),
)
minutes = st.one_of(st.integers(0, 60), st.integers(0, 60), st.integers(-5, 1500), st.integers(-(2**40), 2**40))


def field(plausible):
    """Mostly a plausible value, sometimes any JSON value at all."""
    return st.one_of(*[plausible] * 7, json_values)


extras = st.one_of(
    st.just({}),
    st.just({}),
    st.just({}),
    st.just({}),
    st.dictionaries(st.text(max_size=12), json_values, min_size=1, max_size=2),
)


def body(required: dict, optional: dict) -> st.SearchStrategy:
    complete = st.fixed_dictionaries(required, optional=optional)
    partial = st.fixed_dictionaries({}, optional={**required, **optional})
    objects = st.one_of(complete, complete, complete, partial).flatmap(
        lambda d: extras.map(lambda extra: {**extra, **d})
    )
    return st.one_of(objects, objects, objects, objects, objects, json_values)  # now and then not an object


MINUTES = field(minutes)
POST_BODY = body(
    {
        "service": field(st.sampled_from(["Haircut", "Beard Trim", "Kids Cut", "Perm"])),
        "booking_date": field(dates),
        "booking_time": field(times),
    },
    {
        "barber_id": field(st.one_of(st.integers(1, 4), st.none())),
        "buffer_time_before": MINUTES,
        "buffer_time_after": MINUTES,
        "notes": field(st.text(max_size=50)),
    },
)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda t: t.replace(microsecond=0).isoformat() + "Z"
)
PATCH_BODY = body(
    {},
    {
        "barber_id": field(st.integers(1, 4)),
        "start_time": field(instants),
        "service": field(st.sampled_from(["Haircut", "Perm"])),  # not changeable: always BK009
        "booking_date": field(dates),
        "booking_time": field(times),
        "buffer_time_before": MINUTES,
        "buffer_time_after": MINUTES,
        "notes": field(st.text(max_size=50)),
        "status": field(st.sampled_from(["scheduled", "confirmed", "completed", "cancelled", "no_show", "lost"])),
    },
)


@pytest.fixture(scope="module")
def service(database_url):
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute("TRUNCATE " + ", ".join(f"booking.{t}" for t in TABLES) + " RESTART IDENTITY CASCADE")
    subprocess.run(
        [sys.executable, "-m", "app", "demo-data"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": database_url},
    )
    svc = ServiceProcess(database_url, users=range(1001, 1002))  # the demo client user
    svc.start()
    try:
        with httpx.Client(
            base_url=svc.base, headers={"Authorization": f"Bearer {svc.tokens[1001]}"}, timeout=30
        ) as client:
            yield client
    finally:
        svc.stop()


def fresh_slot(counter=itertools.count()) -> tuple[str, str]:
    """A (date, time) no earlier example used: Chen (UTC) works 09:00-18:00 Monday to Saturday."""
    n = next(counter)
    workdays = (d for d in (DAY + timedelta(days=i) for i in itertools.count()) if d.isoweekday() != 7)
    day = next(itertools.islice(workdays, n // 16, None))
    return str(day), f"{9 + (n % 16) // 2:02d}:{30 * (n % 2):02d}"


def send(client: httpx.Client, method: str, path: str, payload) -> httpx.Response:
    # json.dumps writes NaN and Infinity, which are not JSON: the service must say so.
    content = json.dumps(payload, allow_nan=True).encode("utf-8", "surrogatepass")
    return client.request(method, path, content=content, headers={"Content-Type": "application/json"})


def check(response: httpx.Response, payload) -> None:
    event(f"HTTP {response.status_code} {response.json().get('code', '') if 400 <= response.status_code < 500 else ''}")
    assert response.status_code < 500, (response.status_code, payload, response.text[:500])
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.text[:300]
        problem = response.json()
        assert problem["status"] == response.status_code and problem["code"] and problem["detail"], problem
        # Written for a person: no Python type names or tracebacks.
        assert not re.search(r"NoneType|\bdict\b|Traceback|asyncpg", problem["detail"]), problem


@FUZZ
@given(payload=POST_BODY)
def test_any_create_body_gets_a_booking_or_a_clear_4xx(service, payload):
    response = send(service, "POST", "/appointments", payload)
    check(response, payload)
    if response.status_code == 201:
        assert service.get(response.headers["location"]).status_code == 200


@FUZZ
@given(payload=PATCH_BODY)
def test_any_change_body_gets_a_change_or_a_clear_4xx(service, payload):
    for _ in range(10):  # an earlier example may have moved an appointment onto a fresh slot
        booking_date, booking_time = fresh_slot()
        created = service.post(
            "/appointments",
            json={"service": "Haircut", "barber_id": CHEN, "booking_date": booking_date, "booking_time": booking_time},
        )
        if created.status_code != 409:
            break
    assert created.status_code == 201, created.text
    appointment = created.json()["id"]
    before = service.get(f"/appointments/{appointment}").json()
    response = send(service, "PATCH", f"/appointments/{appointment}", payload)
    check(response, payload)
    after = service.get(f"/appointments/{appointment}").json()
    if response.status_code >= 400:  # refused: nothing changed
        assert after == before
    else:
        assert after["version"] in (before["version"], before["version"] + 1)
