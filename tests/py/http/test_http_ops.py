"""Health, metrics, OpenAPI, lock timeout and availability, through the real app."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time as _time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from app.config import Settings
from app.metrics import METRIC_NAMES
from app.web import create_app
from harness.service import running
from tests.py.support import relay_all

ROOT = Path(__file__).resolve().parents[3]
PROBLEM = "application/problem+json"


def utc(day, hhmm, tz="Europe/London"):
    h, m = map(int, hhmm.split(":"))
    return (
        datetime(day.year, day.month, day.day, h, m, tzinfo=ZoneInfo(tz))
        .astimezone(UTC)
        .isoformat()
        .replace("+00:00", "Z")
    )


def client_for(app):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://booking.test")


async def test_health_ok_and_open(client):
    r = await client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


async def test_health_reports_the_change_feed(client, http_app, clean_db):
    """The feed's mode and state, and whether this process runs the relay."""
    await http_app.state.relay.wait_leader(5)
    for _ in range(100):
        feed = (await client.get("/health")).json()["change_feed"]
        if feed.get("reading"):
            break
        await asyncio.sleep(0.05)
    mode = await clean_db.fetchval("SELECT mode FROM booking.change_feed")
    assert feed["status"] == "ok" and feed["mode"] == mode and feed["relay"] == "leader"
    if mode == "logical":  # the test suite logs in as a superuser: the slot is streamed
        assert feed["slot_status"] in ("reserved", "extended") and feed["lag_bytes"] >= 0
        assert feed["reading"] == "stream"
    assert feed["pending_changes"] == 0


async def test_the_app_runs_as_booking_app(http_app):
    from app.queries import QUERIES

    assert await http_app.state.pool.fetchval(QUERIES["current_role"]) == "booking_app"


async def test_openapi_schema_is_open(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in (
        "/appointments",
        "/appointments/{appointment_id}",
        "/appointments/{appointment_id}/cancel",
        "/barbers/{barber_id}/availability",
        "/barbers/{barber_id}/events",
        "/health",
        "/metrics",
    ):
        assert p in paths, sorted(paths)


async def test_answers_match_the_openapi_schema(client, shop, day):
    """Each success answer of the appointment and availability routes validates against the
    JSON Schema /schema documents for it (2020-12, formats checked), as clients would."""
    import jsonschema_rs

    doc = (await client.get("/schema/openapi.json")).json()

    def check(path: str, method: str, response: httpx.Response) -> None:
        content = doc["paths"][path][method]["responses"][str(response.status_code)]["content"]
        schema = {**content["application/json"]["schema"], "components": doc.get("components", {})}
        errors = [
            str(e)
            for e in jsonschema_rs.Draft202012Validator(schema, validate_formats=True).iter_errors(response.json())
        ]
        assert errors == [], (path, method, response.json(), errors)

    body = {
        "barber_id": shop.barber,
        "service": "Haircut",
        "booking_date": day.isoformat(),
        "booking_time": "10:00",
        "notes": "Short",
    }
    created = await client.post("/appointments", json=body, headers=shop.client)
    assert created.status_code == 201, created.text
    check("/appointments", "post", created)
    path = f"/appointments/{created.json()['id']}"
    check("/appointments/{appointment_id}", "get", await client.get(path, headers=shop.client))
    changed = await client.patch(path, json={"booking_time": "11:00", "notes": None}, headers=shop.client)
    assert changed.status_code == 200, changed.text
    check("/appointments/{appointment_id}", "patch", changed)
    cancelled = await client.post(path + "/cancel", headers=shop.client)
    check("/appointments/{appointment_id}/cancel", "post", cancelled)
    slots = await client.get(
        f"/barbers/{shop.barber}/availability",
        params={"date": day.isoformat(), "service": "Haircut"},
        headers=shop.client,
    )
    assert slots.json()["slots"], slots.text
    check("/barbers/{barber_id}/availability", "get", slots)
    check(
        "/availability",
        "get",
        await client.get(
            "/availability",
            headers=shop.client,
            params={"date": day.isoformat(), "service": "Haircut", "barber_id": str(shop.barber)},
        ),
    )


async def test_metrics_names_and_counts(client, shop):
    day = (datetime.now(UTC) + timedelta(days=40)).date()
    b = {"barber_id": shop.other_barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "10:00"}
    assert (await client.post("/appointments", json=b, headers=shop.client)).status_code == 201
    assert (await client.post("/appointments", json=b, headers=shop.client2)).status_code == 409
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    for name in METRIC_NAMES:
        assert name in text, name
    assert 'booking_outcomes_total{operation="create",outcome="slot_conflict"}' in text
    assert 'booking_constraint_violations_total{source="trigger"}' in text
    assert 'booking_lock_wait_seconds_count{operation="create"}' in text
    assert 'http_request_duration_seconds_count{method="POST",route="/appointments",status="409"}' in text
    assert 'booking_idempotency_total{result="replay"}' in text
    assert 'booking_retries_total{operation="create",reason="serialization_failure"}' in text


async def test_demo_data_is_idempotent_and_its_tokens_work(client, clean_db, database_url, capsys):
    from app import demo

    await asyncio.to_thread(demo.main, database_url)
    await asyncio.to_thread(demo.main, database_url)
    counts = await clean_db.fetchrow(
        "SELECT (SELECT count(*) FROM booking.barbers) AS b, (SELECT count(*) FROM booking.services) AS s,"
        " (SELECT count(*) FROM booking.working_hours) AS h"
    )
    assert tuple(counts) == (3, 4, 18)
    assert set(await clean_db.fetchval("SELECT array_agg(timezone) FROM booking.barbers")) == {
        "Europe/London",
        "America/New_York",
        "UTC",
    }
    lines = capsys.readouterr().out.splitlines()[-6:]
    assert [line.split()[0] for line in lines[0::2]] == ["client", "barber", "admin"]
    for token in lines[1::2]:
        r = await client.get("/appointments/1", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 404, r.text  # authenticated; nothing booked yet


async def test_lock_timeout_is_503_with_retry_after(database_url, clean_db, shop):
    app = create_app(
        Settings.from_env(
            database_url=database_url,
            purge_interval=0,
            tuning={
                "advisory_lock_timeout": 0.2,
                "max_retry_attempts": 3,
                "initial_retry_delay": 0.1,
                "max_retry_delay": 1.0,
                "backoff_factor": 2.0,
                "idempotency_key_ttl_hours": 24,
            },
        )
    )
    day = (datetime.now(UTC) + timedelta(days=40)).date()
    async with running(app), client_for(app) as c, clean_db.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        try:
            start = await holder.fetchval("SELECT booking.local_start($1, $2, '15:00')", shop.other_barber, day)
            await holder.fetchrow(
                "SELECT * FROM booking.book_appointment($1, 9, 'Haircut', $2)", shop.other_barber, start
            )
            r = await c.post(
                "/appointments",
                json={
                    "barber_id": shop.other_barber,
                    "service": "Haircut",
                    "booking_date": day.isoformat(),
                    "booking_time": "10:00",
                },
                headers=shop.client,
            )
        finally:
            await tx.rollback()
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "55P03" and int(r.headers["retry-after"]) >= 1


async def test_health_503_when_nothing_listens(tmp_path):
    app = create_app(
        Settings.from_env(
            database_url=f"postgresql://postgres@/booking?host={tmp_path}&port=5432",
            purge_interval=0,
            health_timeout=1.0,
        )
    )
    async with running(app), client_for(app) as c:
        r = await c.get("/health")
        assert r.status_code == 503 and r.json()["code"] == "database_unavailable"
        assert r.headers["content-type"].startswith(PROBLEM) and "retry-after" in r.headers
        # A request that needs the database is a 503 too, never a 500.
        r = await c.get("/appointments/1", headers={"Authorization": "Bearer whatever"})
        assert r.status_code == 503 and r.json()["code"] == "database_unavailable"


@pytest.fixture
def second_cluster():
    """A throwaway PostgreSQL of its own, so the test can stop it."""
    work = Path(tempfile.mkdtemp(prefix="bk-health-", dir="/tmp"))
    work.chmod(0o755)
    data = work / "data"
    pg = str(ROOT / "scripts" / "pg.sh")
    subprocess.run([pg, "start", str(data), "throwaway"], check=True, capture_output=True)
    url = subprocess.run([pg, "url", str(data), "postgres"], check=True, capture_output=True, text=True).stdout.strip()
    try:
        yield url, (lambda: subprocess.run([pg, "stop", str(data)], check=True, capture_output=True))
    finally:
        subprocess.run([pg, "stop", str(data)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


async def test_health_503_after_the_database_stops(second_cluster):
    url, stop = second_cluster
    app = create_app(Settings.from_env(database_url=url, db_role="", purge_interval=0, health_timeout=1.0))
    async with running(app), client_for(app) as c:
        assert (await c.get("/health")).status_code == 200
        await asyncio.to_thread(stop)
        r = await c.get("/health")
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "database_unavailable"


async def test_availability_lists_free_slots_and_excludes_booked(client, shop):
    day = (datetime.now(UTC) + timedelta(days=40)).date()
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    url = f"/barbers/{shop.barber}/availability?date={day}&service=Haircut"
    r = await client.get(url, headers=shop.client)
    assert r.status_code == 200, r.text
    slots = r.json()["slots"]
    starts = [s["start"] for s in slots]
    assert starts[0] == utc(day, "09:00") and starts[-1] == utc(day, "17:30")
    assert {"start": utc(day, "10:00"), "end": utc(day, "10:30")} in slots
    booked = await client.post(
        "/appointments",
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "10:00"},
        headers=shop.client,
    )
    assert booked.status_code == 201
    after = [s["start"] for s in (await client.get(url, headers=shop.client)).json()["slots"]]
    assert utc(day, "10:00") not in after and utc(day, "09:45") not in after and utc(day, "10:15") not in after
    assert utc(day, "09:30") in after and utc(day, "10:30") in after
    assert len(after) == len(starts) - 3


@pytest.mark.parametrize(
    "query, status, code",
    [
        ("date=2027-02-30&service=Haircut", 422, "BK008"),
        ("date=tomorrow&service=Haircut", 422, "BK008"),
        ("service=Haircut", 422, "validation_error"),
        ("date=2027-01-04", 422, "validation_error"),
        ("date=2027-01-04&service=Perm", 422, "BK004"),
        ("date=2027-01-04&service=Haircut&buffer_time_before=x", 422, "validation_error"),
        ("date=2027-01-04&service=Haircut&buffer_time_before=99999", 422, "BK008"),
        ("date=2027-01-04&service=Hair%00cut", 422, "22021"),
    ],
)
async def test_availability_bad_queries(client, shop, query, status, code):
    r = await client.get(f"/barbers/{shop.barber}/availability?{query}", headers=shop.client)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code


async def test_availability_unknown_barber_is_404(client, shop):
    for bid in ("999999", "x", "0"):
        r = await client.get(f"/barbers/{bid}/availability?date=2027-01-04&service=Haircut", headers=shop.client)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith(PROBLEM)


async def test_the_service_purges_expired_keys_and_old_events_at_start(database_url, clean_db, shop):
    day = (datetime.now(UTC) + timedelta(days=40)).date()
    for key, hour in (("old-key", 10), ("new-key", 11)):
        start = await clean_db.fetchval(
            "SELECT booking.local_start($1, $2, make_time($3, 0, 0))", shop.other_barber, day, hour
        )
        await clean_db.fetchrow(
            "SELECT * FROM booking.book_appointment($1, 101, 'Haircut', $2, p_idempotency_key => $3)",
            shop.other_barber,
            start,
            key,
        )
    await clean_db.execute(
        "UPDATE booking.idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key = 'old-key'"
    )
    await relay_all(clean_db)
    await clean_db.execute(
        "UPDATE booking.appointment_events SET created_at = now() - interval '3 hours' "
        "WHERE id = (SELECT min(id) FROM booking.appointment_events)"
    )
    # The operator's retention policy (the service cannot choose it).
    await clean_db.execute("UPDATE booking.retention_policy SET change_feed = interval '2 hours'")
    try:
        app = create_app(Settings.from_env(database_url=database_url, purge_interval=3600))
        async with running(app):
            for _ in range(50):  # the first purge runs as the service starts
                keys = await clean_db.fetch("SELECT idempotency_key FROM booking.idempotency_keys")
                events = await clean_db.fetchval("SELECT count(*) FROM booking.appointment_events")
                if len(keys) == 1 and events == 1:
                    break
                await asyncio.sleep(0.1)
    finally:
        await clean_db.execute("UPDATE booking.retention_policy SET change_feed = DEFAULT")
    assert [k["idempotency_key"] for k in keys] == ["new-key"]
    assert events == 1


async def test_event_retention_under_an_hour_is_refused(clean_db):
    with pytest.raises(asyncpg.CheckViolationError):
        await clean_db.execute("UPDATE booking.retention_policy SET change_feed = interval '59 minutes'")


async def test_a_read_blocked_by_a_lock_answers_503_after_the_timeout(database_url, clean_db, make_barber, make_token):
    """An ACCESS EXCLUSIVE lock (a migration) blocks the reads: they answer 503 with
    Retry-After after READ_STATEMENT_TIMEOUT, instead of holding the connection."""
    await make_barber()
    token = await make_token(5, "client")
    app = create_app(Settings.from_env(database_url=database_url, read_statement_timeout=0.3, purge_interval=0))
    blocker = await asyncpg.connect(database_url)
    try:
        async with (
            running(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://booking.test") as client,
        ):
            assert (await client.get("/services", headers=token)).status_code == 200
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute("LOCK TABLE booking.services IN ACCESS EXCLUSIVE MODE")
            started = _time.monotonic()
            r = await client.get("/services", headers=token)
            elapsed = _time.monotonic() - started
            await tx.rollback()
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "57014" and r.headers["retry-after"]
            assert elapsed < 2.0
            assert (await client.get("/services", headers=token)).status_code == 200
    finally:
        await blocker.close()
