"""The boundary corpus, HTTP layer: every date, time, number, string, id and header any
route reads, at the extremes of its value space (0001-01-01, 9999-12-31, infinity,
out-of-range years, 24:00, 23:59:60, negative and huge numbers, empty and very long
strings).

Each request must be answered within 2 seconds with a success, or with an RFC 9457
problem (4xx, or 503 with Retry-After) whose `code` is a catalogue SQLSTATE or one of the
documented slugs; never a 500, never text/plain. The SQL layer has its own corpus
(tests/py/test_boundaries.py); the review found the endless slot search at these edges
over HTTP first (issue 10).
"""

from __future__ import annotations

import time as _time
from datetime import date, timedelta

import httpx
import pytest

from app.config import Settings
from app.errors import CATALOGUE
from app.web import create_app
from harness.service import running

DEADLINE = 2.0
SLUGS = {
    "validation_error",
    "invalid_json",
    "not_found",
    "invalid_if_match",
    "payload_too_large",
    "unauthorized",
    "method_not_allowed",
    "unsupported_media_type",
}

DATES = [
    "0001-01-01",
    "9999-12-31",
    "9999-12-30",
    "infinity",
    "-infinity",
    "10000-01-01",
    "0000-01-01",
    "2030-02-30",
    "2030-1-1",
    "",
    "2" * 1000,
]
TIMES = ["00:00", "23:59", "24:00", "23:59:60", "25:00", "9:00", "10:00:00.5", "", "1" * 1000]
NUMBERS = [0, -1, 1440, 1441, 2**31, 2**63 - 1, 2**63, 2**64, 10**30, 1e308, -(2**63) - 1, 1.5, "1", None, True]
STRINGS = ["", " ", "x" * 200, "x" * 201, "x" * 10_000, "é" * 5_000]
PATH_IDS = ["0", "-1", "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e3", "x" * 2000]
QUERY_NUMBERS = ["0", "-1", "1440", "1441", "2147483648", "99999999999999999999", "1.5", "", "x" * 1000]
IF_MATCH = ['"1"', 'W/"1"', '"0"', '"-1"', '"99999999999"', '"' + "9" * 1000 + '"', "*", "", "x" * 1000]
KEYS = ["k", "k" * 200, "k" * 201, "k" * 8000, "with space"]


@pytest.fixture
async def corpus_app(database_url):
    """The real app without the per-token rate limit (the corpus sends hundreds of writes)."""
    app = create_app(Settings.from_env(database_url=database_url, purge_interval=0, rate_limit_per_minute=0))
    async with running(app):
        yield app


@pytest.fixture
async def corpus_client(corpus_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(corpus_app), base_url="http://booking.test") as c:
        yield c


async def judged(client: httpx.AsyncClient, method: str, url: str, **kw) -> httpx.Response:
    started = _time.monotonic()
    r = await client.request(method, url, **kw)
    elapsed = _time.monotonic() - started
    what = f"{method} {url[:120]} {str(kw.get('json'))[:200]} {str(kw.get('headers'))[:200]}"
    assert elapsed < DEADLINE, f"{what} took {elapsed:.2f} s"
    if r.status_code < 400:
        return r
    assert r.status_code != 500 and (r.status_code < 500 or r.status_code == 503), (
        f"{what} -> {r.status_code} {r.text[:300]}"
    )
    assert r.headers["content-type"].startswith("application/problem+json"), f"{what} -> {r.headers} {r.text[:200]}"
    problem = r.json()
    assert problem["code"] in CATALOGUE or problem["code"] in SLUGS, f"{what} -> code {problem['code']}: {problem}"
    assert len(r.content) < 4000, f"{what} -> a {len(r.content)}-byte problem echoes too much"
    if r.status_code == 503:
        assert r.headers.get("retry-after"), what
    return r


def appointment_body(shop, day: date, **changes):
    body = {
        "barber_id": shop.other_barber,
        "service": "Haircut",
        "booking_date": day.isoformat(),
        "booking_time": "10:00",
    }
    body.update(changes)
    return body


async def test_post_appointments_at_the_edges(corpus_client, shop, day):
    base = day + timedelta(days=3)
    cases = [("booking_date", v) for v in DATES] + [("booking_time", v) for v in TIMES]
    cases += [(f, v) for f in ("barber_id", "buffer_time_before", "buffer_time_after", "shop_id") for v in NUMBERS]
    cases += [(f, v) for f in ("service", "notes") for v in STRINGS]
    for i, (field, value) in enumerate(cases):
        # Each accepted one at its own time, so a success never turns the next into a conflict.
        body = appointment_body(shop, base + timedelta(days=i // 20), booking_time=f"{8 + i % 12:02d}:{i % 4 * 15:02d}")
        body[field] = value
        await judged(corpus_client, "POST", "/appointments", json=body, headers=shop.client)
    for key in KEYS:
        await judged(
            corpus_client,
            "POST",
            "/appointments",
            json=appointment_body(shop, base + timedelta(days=30)),
            headers={**shop.client, "Idempotency-Key": key},
        )


async def test_change_an_appointment_at_the_edges(corpus_client, shop, day):
    made = await judged(corpus_client, "POST", "/appointments", json=appointment_body(shop, day), headers=shop.client)
    path = made.headers["location"]
    cases = [("booking_date", v) for v in DATES] + [("booking_time", v) for v in TIMES]
    cases += [(f, v) for f in ("barber_id", "buffer_time_before", "buffer_time_after") for v in NUMBERS]
    cases += [("notes", v) for v in STRINGS]
    cases += [
        ("start_time", v)
        for v in (
            "infinity",
            "9999-12-31T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "294276-12-31T00:00:00Z",
            "2030-06-03T10:00:00+25:00",
            "",
        )
    ]
    for field, value in cases:
        await judged(corpus_client, "PATCH", path, json={field: value}, headers=shop.client)
    for tag in IF_MATCH:
        await judged(corpus_client, "PATCH", path, json={"notes": "x"}, headers={**shop.client, "If-Match": tag})
        await judged(corpus_client, "POST", path + "/cancel", headers={**shop.client, "If-Match": tag})


async def test_ids_in_paths_at_the_edges(corpus_client, shop, day):
    for pid in PATH_IDS:
        for method, url in (
            ("GET", f"/appointments/{pid}"),
            ("PATCH", f"/appointments/{pid}"),
            ("POST", f"/appointments/{pid}/cancel"),
            ("GET", f"/barbers/{pid}/availability?date={day}&service=Haircut"),
            ("GET", f"/barbers/{pid}/events"),
        ):
            kw = {"json": {"notes": "x"}} if method == "PATCH" else {}
            r = await judged(corpus_client, method, url, headers=shop.client, **kw)
            assert r.status_code == 404, (url, r.status_code)


async def test_availability_at_the_edges(corpus_client, shop, day):
    for route in (
        f"/barbers/{shop.other_barber}/availability",
        f"/barbers/{shop.barber}/availability",
        "/availability",
    ):
        for d in DATES:
            await judged(corpus_client, "GET", route, params={"date": d, "service": "Haircut"}, headers=shop.client)
        for s in STRINGS:
            await judged(
                corpus_client, "GET", route, params={"date": day.isoformat(), "service": s}, headers=shop.client
            )
        for name in ("buffer_time_before", "buffer_time_after"):
            for v in QUERY_NUMBERS:
                await judged(
                    corpus_client,
                    "GET",
                    route,
                    params={"date": day.isoformat(), "service": "Haircut", name: v},
                    headers=shop.client,
                )
    for v in [*PATH_IDS, "any", ""]:
        await judged(
            corpus_client,
            "GET",
            "/availability",
            params={"date": day.isoformat(), "service": "Haircut", "barber_id": v},
            headers=shop.client,
        )
    # The shop (issue 14): of any barber, and of a named one.
    for v in [*QUERY_NUMBERS, *PATH_IDS]:
        for barber in (None, str(shop.barber)):
            params = {"date": day.isoformat(), "service": "Haircut", "shop_id": v}
            if barber:
                params["barber_id"] = barber
            await judged(corpus_client, "GET", "/availability", params=params, headers=shop.client)
        for route in ("/barbers", "/services"):
            await judged(corpus_client, "GET", route, params={"shop_id": v}, headers=shop.client)


async def test_the_edges_of_the_calendar_answer_at_once(corpus_client, shop):
    """The request of the review: a barber without working hours, the last and the first
    day of the calendar. It never answered, and PostgreSQL wrote 1.5 GB of temp files."""
    for d in ("9999-12-31", "0001-01-01"):
        for route in (f"/barbers/{shop.other_barber}/availability", "/availability"):
            r = await judged(corpus_client, "GET", route, params={"date": d, "service": "Haircut"}, headers=shop.client)
            assert r.status_code == 200 and r.json()["slots"] == [], (route, d, r.text)


async def test_event_stream_ids_at_the_edges(corpus_client, shop):
    for last in ("-1", "9223372036854775808", "99999999999999999999", "1e3", "x" * 2000):
        r = await judged(
            corpus_client, "GET", f"/barbers/{shop.barber}/events", headers={**shop.client, "Last-Event-ID": last}
        )
        assert r.status_code == 422, (last, r.status_code)
