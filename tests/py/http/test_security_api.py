"""API hardening (docs/SECURITY.md): body size limit, string length limits, per-token rate
limit on booking requests, security headers on every response, nothing secret in the logs,
CORS closed unless configured. Through the real app and database."""

from __future__ import annotations

import hashlib
import logging
from contextlib import asynccontextmanager

import httpx
import pytest

from app.config import Settings
from app.web import create_app
from harness.service import running


@asynccontextmanager
async def app_client(database_url, **settings):
    app = create_app(Settings.from_env(database_url=database_url, purge_interval=0, **settings))
    async with running(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://booking.test") as c:
            yield c


def booking_body(shop, day, time="10:00", **extra):
    return {
        "barber_id": shop.barber,
        "service": "Haircut",
        "booking_date": day.isoformat(),
        "booking_time": time,
        **extra,
    }


def assert_problem(r, status, code=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if code:
        assert body["code"] == code, body


async def count(db) -> int:
    return await db.fetchval("SELECT count(*) FROM booking.appointments")


# --- sizes ----------------------------------------------------------------------------


async def test_a_body_over_16_kib_is_413(client, shop, day, clean_db):
    body = (
        '{"barber_id": %d, "service": "Haircut", "booking_date": "%s", "booking_time": "10:00", "notes": "%s"}'
        % (shop.barber, day.isoformat(), "x" * 17000)
    ).encode()
    r = await client.post("/appointments", headers={**shop.client, "Content-Type": "application/json"}, content=body)
    assert_problem(r, 413, "payload_too_large")
    assert await count(clean_db) == 0


async def test_body_limit_is_configurable(database_url, shop, day, clean_db):
    async with app_client(database_url, max_body_bytes=200) as c:
        r = await c.post("/appointments", headers=shop.client, json=booking_body(shop, day, notes="y" * 300))
        assert_problem(r, 413, "payload_too_large")
        r = await c.post("/appointments", headers=shop.client, json=booking_body(shop, day))
        assert r.status_code == 201


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("notes", "n" * 2001, "BK008"),
        ("service", "s" * 201, "BK004"),  # no service is named so; the name is echoed cut
    ],
)
async def test_too_long_strings_are_422(client, shop, day, clean_db, field, value, code):
    r = await client.post("/appointments", headers=shop.client, json=booking_body(shop, day, **{field: value}))
    assert_problem(r, 422, code)
    assert await count(clean_db) == 0


async def test_notes_of_2000_characters_are_kept(client, shop, day, clean_db):
    notes = "é" * 2000
    r = await client.post("/appointments", headers=shop.client, json=booking_body(shop, day, notes=notes))
    assert r.status_code == 201 and r.json()["notes"] == notes
    r = await client.patch(f"/appointments/{r.json()['id']}", headers=shop.client, json={"notes": notes + "!"})
    assert_problem(r, 422, "BK008")


async def test_too_long_idempotency_key_is_422(client, shop, day, clean_db):
    r = await client.post(
        "/appointments", headers={**shop.client, "Idempotency-Key": "k" * 201}, json=booking_body(shop, day)
    )
    assert_problem(r, 422, "BK008")
    assert await count(clean_db) == 0
    r = await client.post(
        "/appointments", headers={**shop.client, "Idempotency-Key": "k" * 200}, json=booking_body(shop, day)
    )
    assert r.status_code == 201


async def test_too_long_service_in_availability_is_422(client, shop, day):
    r = await client.get(
        f"/barbers/{shop.barber}/availability",
        headers=shop.client,
        params={"date": day.isoformat(), "service": "s" * 201},
    )
    assert_problem(r, 422, "BK004")
    assert len(r.content) < 1000


# --- rate limit -----------------------------------------------------------------------


def test_rate_limit_settings():
    assert Settings.from_env({"DATABASE_URL": "postgresql:///x"}).rate_limit_per_minute == 120
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql:///x",
            "RATE_LIMIT_PER_MINUTE": "7",
            "MAX_BODY_BYTES": "99",
            "CORS_ALLOW_ORIGINS": "https://a.example, https://b.example",
        }
    )
    assert (s.rate_limit_per_minute, s.max_body_bytes) == (7, 99)
    assert s.cors_allow_origins == ("https://a.example", "https://b.example")
    assert Settings.from_env({"DATABASE_URL": "postgresql:///x"}).cors_allow_origins == ()


async def test_booking_requests_are_rate_limited_per_token(database_url, shop, day, clean_db):
    async with app_client(database_url, rate_limit_per_minute=3) as c:
        r = await c.post("/appointments", headers=shop.client, json=booking_body(shop, day, "10:00"))
        assert r.status_code == 201
        appt = r.json()["id"]
        assert (await c.patch(f"/appointments/{appt}", headers=shop.client, json={"notes": "a"})).status_code == 200
        assert (await c.post(f"/appointments/{appt}/cancel", headers=shop.client)).status_code == 200
        # The fourth booking request of this token within the minute:
        r = await c.post("/appointments", headers=shop.client, json=booking_body(shop, day, "11:00"))
        assert_problem(r, 429, "too_many_requests")
        assert 1 <= int(r.headers["retry-after"]) <= 60
        r = await c.patch(f"/appointments/{appt}", headers=shop.client, json={"notes": "b"})
        assert_problem(r, 429, "too_many_requests")
        assert await count(clean_db) == 1
        assert await clean_db.fetchval("SELECT notes FROM booking.appointments") == "a"
        # Reads are not limited; another token has its own budget.
        for _ in range(5):
            assert (await c.get(f"/appointments/{appt}", headers=shop.client)).status_code == 200
        r = await c.post("/appointments", headers=shop.client2, json=booking_body(shop, day, "12:00"))
        assert r.status_code == 201


async def test_rate_limit_zero_is_off(database_url, shop, day, clean_db):
    async with app_client(database_url, rate_limit_per_minute=0) as c:
        for i in range(5):
            r = await c.post("/appointments", headers=shop.client, json=booking_body(shop, day, f"1{i}:00"))
            assert r.status_code == 201


# --- headers ----------------------------------------------------------------------------

BASE_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}


@pytest.mark.parametrize(
    "method,path,auth,status",
    [
        ("GET", "/health", False, 200),
        ("GET", "/metrics", False, 200),
        ("GET", "/schema/openapi.json", False, 200),
        ("GET", "/no/such/route", False, 404),
        ("GET", "/appointments/1", False, 401),
        ("POST", "/appointments", True, 201),
        ("GET", "/appointments/999999", True, 404),
        ("DELETE", "/appointments/1", True, 405),
    ],
)
async def test_security_headers_on_every_response(client, shop, day, method, path, auth, status):
    kwargs = {"json": booking_body(shop, day)} if method == "POST" else {}
    r = await client.request(method, path, headers=shop.client if auth else {}, **kwargs)
    assert r.status_code == status, r.text
    for name, value in BASE_HEADERS.items():
        assert r.headers[name] == value, name
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "default-src 'none'" in r.headers["content-security-policy"]


async def test_html_page_csp_allows_only_self(client):
    r = await client.get("/")
    assert r.headers["content-type"].startswith("text/html")
    csp = {d.split()[0]: d.split()[1:] for d in r.headers["content-security-policy"].split("; ")}
    assert csp["default-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert all("unsafe" not in v and "*" not in v for values in csp.values() for v in values)
    assert r.headers["x-frame-options"] == "DENY"


# --- logs ------------------------------------------------------------------------------


async def test_no_token_hash_or_notes_in_logs(client, shop, day, clean_db, caplog):
    caplog.set_level(logging.DEBUG)
    token = shop.client["Authorization"].split()[1]
    secrets = [token, hashlib.sha256(token.encode()).hexdigest(), "PRIVATE-NOTE-7f3a"]
    r = await client.post(
        "/appointments",
        headers={**shop.client, "Idempotency-Key": "log-test"},
        json=booking_body(shop, day, notes="PRIVATE-NOTE-7f3a: allergic to lavender"),
    )
    assert r.status_code == 201
    appt = r.json()["id"]
    await client.post(
        "/appointments",
        headers={**shop.client, "Idempotency-Key": "log-test"},
        json=booking_body(shop, day, notes="PRIVATE-NOTE-7f3a: allergic to lavender"),
    )
    await client.post(
        "/appointments",
        headers={**shop.client, "Idempotency-Key": "log-test"},
        json=booking_body(shop, day, notes="PRIVATE-NOTE-7f3a changed"),
    )  # 422 mismatch
    await client.post("/appointments", headers=shop.client2, json=booking_body(shop, day, notes="PRIVATE-NOTE-7f3a"))
    await client.patch(f"/appointments/{appt}", headers=shop.client, json={"notes": "PRIVATE-NOTE-7f3a " * 200})
    await client.patch(
        f"/appointments/{appt}", headers={**shop.client, "If-Match": '"99"'}, json={"notes": "PRIVATE-NOTE-7f3a again"}
    )
    await client.get(f"/appointments/{appt}", headers=shop.client)
    await client.get(f"/appointments/{appt}", headers={"Authorization": f"Bearer {token}x"})
    await client.post(f"/appointments/{appt}/cancel", headers=shop.client)
    assert caplog.records, "nothing was logged at all: the capture is not working"
    text = caplog.text + "".join(repr(rec.args) for rec in caplog.records)
    for secret in secrets:
        assert secret not in text


# --- CORS --------------------------------------------------------------------------------


async def test_cors_is_closed_by_default(client, shop):
    r = await client.options(
        "/appointments",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert "access-control-allow-origin" not in r.headers
    r = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


async def test_cors_opens_only_to_configured_origins(database_url, shop):
    async with app_client(database_url, cors_allow_origins=("https://shop.example",)) as c:
        pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        r = await c.options("/appointments", headers={"Origin": "https://shop.example", **pre})
        assert r.headers.get("access-control-allow-origin") == "https://shop.example"
        assert "access-control-allow-credentials" not in r.headers
        r = await c.options("/appointments", headers={"Origin": "https://evil.example", **pre})
        assert r.headers.get("access-control-allow-origin") != "https://evil.example"
        r = await c.get("/health", headers={"Origin": "https://evil.example"})
        assert r.headers.get("access-control-allow-origin") in (None, "https://shop.example")
