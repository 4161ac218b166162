"""The attacks of issue 11 that the application itself answers, through the real app
(ASGITransport, or uvicorn on loopback where a stream must stay open): a token of each role
for users who hold several roles, before and after revocation; bodies that are not JSON;
the forms of If-Match; HEAD; echoed input; the barber a service is not offered by; one
read per barber however many streams watch it. (The process-level attacks are in
test_attacks.py.)"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.config import Settings
from app.web import create_app
from harness.service import running, serving
from tests.py.support import refused_within

PROBLEM = "application/problem+json"


def body(shop, day, hhmm="10:00", **extra):
    return {
        "barber_id": shop.barber,
        "service": "Haircut",
        "booking_date": day.isoformat(),
        "booking_time": hhmm,
        **extra,
    }


@pytest.fixture
async def open_client(database_url):
    """The app without the rate limit, for tests that send many writes."""
    app = create_app(Settings.from_env(database_url=database_url, purge_interval=0, rate_limit_per_minute=0))
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        yield c


# --- the token's role is what a request may do -------------------------------------------


async def test_a_client_token_stays_a_client_when_its_user_becomes_admin(
    open_client, shop, day, make_token, clean_db, database_url
):
    """The review's reproduction: user 1700's client token read another user's appointment
    with its notes once an admin token was issued for 1700, and kept doing so after the
    admin token was revoked; it also confirmed another user's appointment."""
    c = open_client
    other = (await c.post("/appointments", json=body(shop, day, notes="private"), headers=shop.client2)).json()
    client_token = await make_token(1700, "client")
    assert (await c.get(f"/appointments/{other['id']}", headers=client_token)).status_code == 404
    admin_token = await make_token(1700, "admin")
    assert (await c.get(f"/appointments/{other['id']}", headers=admin_token)).status_code == 200
    # The client token is still a client's, whatever else its user is.
    r = await c.get(f"/appointments/{other['id']}", headers=client_token)
    assert r.status_code == 404 and "private" not in r.text
    for method, path, payload in (
        ("PATCH", f"/appointments/{other['id']}", {"status": "confirmed"}),
        ("PATCH", f"/appointments/{other['id']}", {"notes": "mine now"}),
        ("POST", f"/appointments/{other['id']}/cancel", None),
    ):
        r = await c.request(method, path, json=payload, headers=client_token)
        assert r.status_code == 404, (method, path, r.text)
    mine = (await c.post("/appointments", json=body(shop, day, "12:00"), headers=client_token)).json()
    r = await c.patch(f"/appointments/{mine['id']}", json={"status": "confirmed"}, headers=client_token)
    assert r.status_code == 403 and r.json()["code"] == "BK012"  # a client may not confirm
    # Revoking the admin token changes nothing for the client token; the admin token is gone.
    await clean_db.execute(
        "SELECT booking.revoke_api_token($1)",
        __import__("app.tokens", fromlist=["hash_token"]).hash_token(admin_token["Authorization"].split()[1]),
    )
    await refused_within(lambda: c.get(f"/appointments/{other['id']}", headers=admin_token))
    assert (await c.get(f"/appointments/{other['id']}", headers=client_token)).status_code == 404
    assert await clean_db.fetchval("SELECT status FROM booking.appointments WHERE id = $1", other["id"]) == "scheduled"


async def test_removing_a_staff_role_ends_its_tokens(open_client, shop, day, clean_db):
    c = open_client
    appt = (await c.post("/appointments", json=body(shop, day), headers=shop.client)).json()
    assert (await c.get(f"/appointments/{appt['id']}", headers=shop.barber_staff)).status_code == 200
    assert (await c.get(f"/appointments/{appt['id']}", headers=shop.admin)).status_code == 200
    await clean_db.execute("DELETE FROM booking.staff WHERE user_id IN (201, 301)")
    for headers in (shop.barber_staff, shop.admin):
        await refused_within(lambda h=headers: c.get(f"/appointments/{appt['id']}", headers=h))


@pytest.mark.parametrize("role", ["client", "barber", "admin"])
async def test_every_route_answers_a_token_by_its_role_before_and_after_revocation(
    open_client, shop, day, role, make_token, clean_db
):
    """One user (1800) holds all three roles; each token may do exactly what its role may."""
    c = open_client
    tokens = {"client": await make_token(1800, "client")}
    tokens[role] = tokens.get(role) or await make_token(1800, role, shop.barber if role == "barber" else None)
    headers = tokens[role]
    someone_elses = (await c.post("/appointments", json=body(shop, day), headers=shop.client2)).json()
    sees_others = role in ("barber", "admin")  # the appointment is barber shop.barber's
    routes = [
        ("GET", f"/appointments/{someone_elses['id']}", None, 200 if sees_others else 404),
        ("PATCH", f"/appointments/{someone_elses['id']}", {"notes": role}, 200 if sees_others else 404),
        ("GET", f"/barbers/{shop.barber}/availability?date={day}&service=Haircut", None, 200),
        ("GET", f"/availability?date={day}&service=Haircut", None, 200),
        ("GET", "/barbers", None, 200),
        ("GET", "/services", None, 200),
        ("POST", "/appointments", body(shop, day, "15:00"), 201),
        ("POST", f"/appointments/{someone_elses['id']}/cancel", None, 200 if sees_others else 404),
    ]
    for method, path, payload, status in routes:
        r = await c.request(method, path, json=payload, headers=headers)
        assert r.status_code == status, (role, method, path, r.text)
    await clean_db.execute("UPDATE booking.api_tokens SET revoked_at = now() WHERE user_id = 1800")
    await refused_within(lambda: c.get("/barbers", headers=headers))  # the notification was heard
    for method, path, payload, _ in routes:
        assert (await c.request(method, path, json=payload, headers=headers)).status_code == 401, (method, path)


# --- bodies that are not JSON --------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type, raw, status, code",
    [
        ("application/x-www-form-urlencoded", b"barber_id=1", 415, "unsupported_media_type"),
        ("text/plain", b"{}", 415, "unsupported_media_type"),
        ("multipart/form-data; boundary=x", b"--x--", 415, "unsupported_media_type"),
        (None, b"{}", 415, "unsupported_media_type"),
        ("application/json; charset=utf-16", b"{}", 415, "unsupported_media_type"),
        ("application/json", "{}".encode("utf-16"), 400, "invalid_json"),
        ("application/json", b"\xef\xbb\xbf{}", 400, "invalid_json"),
    ],
    ids=["form", "text", "multipart", "none", "charset-utf16", "utf16-body", "bom"],
)
async def test_write_bodies_must_be_json_in_utf8(client, shop, day, clean_db, content_type, raw, status, code):
    headers = {**shop.client, **({"Content-Type": content_type} if content_type else {})}
    for method, path in (("POST", "/appointments"), ("PATCH", "/appointments/1")):
        r = await client.request(method, path, content=raw, headers=headers)
        assert r.status_code == status and r.json()["code"] == code, (method, r.text)
    assert await clean_db.fetchval("SELECT count(*) FROM booking.appointments") == 0


async def test_json_types_and_duplicate_keys(client, shop, day, clean_db):
    ok = await client.post(
        "/appointments", json=body(shop, day), headers={**shop.client, "Content-Type": "application/vnd.booking+json"}
    )
    assert ok.status_code == 201, ok.text  # any application/<x>+json
    raw = (
        '{"barber_id": %d, "barber_id": %d, "service": "Haircut", "booking_date": "%s", "booking_time": "11:00"}'
        % (shop.barber, shop.other_barber, day)
    ).encode()
    r = await client.post("/appointments", content=raw, headers={**shop.client, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_json" and "twice" in r.json()["detail"]
    assert await clean_db.fetchval("SELECT count(*) FROM booking.appointments") == 1


# --- conditional requests and HEAD --------------------------------------------------------


async def test_if_match_is_compared_strongly_and_lists_match_any_member(open_client, shop, day):
    c = open_client
    appt = (await c.post("/appointments", json=body(shop, day), headers=shop.client)).json()
    path = f"/appointments/{appt['id']}"

    async def patch(if_match, notes):
        return await c.patch(path, json={"notes": notes}, headers={**shop.client, "If-Match": if_match})

    for stale in ('W/"1"', '"01"', '"2"', '"0"', '"99", "2"'):
        r = await patch(stale, "never")
        assert r.status_code == 412 and r.json()["code"] == "BK001", (stale, r.text)
    r = await patch('"3", "1"', "list")  # version 1 is in the list
    assert r.status_code == 200 and r.headers["etag"] == '"2"'
    r = await patch('W/"9", "2"', "weak then strong")
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    r = await patch("*", "any")
    assert r.status_code == 200 and r.headers["etag"] == '"4"'
    for malformed in ("3", '"3', "W/3", '"3",,"4"', "x" * 2000):
        r = await patch(malformed, "bad")
        assert r.status_code == 400 and r.json()["code"] == "invalid_if_match", malformed
    r = await c.post(f"{path}/cancel", headers={**shop.client, "If-Match": 'W/"4"'})
    assert r.status_code == 412
    r = await c.post(f"{path}/cancel", headers={**shop.client, "If-Match": '"7", "4"'})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


async def test_head_answers_every_get_resource(client, shop, day):
    appt = (await client.post("/appointments", json=body(shop, day), headers=shop.client)).json()
    for path, headers in (
        (f"/appointments/{appt['id']}", shop.client),
        ("/health", {}),
        ("/metrics", {}),
        ("/barbers", shop.client),
        (f"/barbers/{shop.barber}/availability?date={day}&service=Haircut", shop.client),
        ("/", {}),
    ):
        get = await client.get(path, headers=headers)
        head = await client.head(path, headers=headers)
        assert head.status_code == get.status_code == 200, (path, head.status_code)
        assert head.content == b"" and head.headers.get("etag") == get.headers.get("etag"), path
        assert head.headers["content-type"] == get.headers["content-type"]
    assert (await client.head("/appointments/999999", headers=shop.client)).status_code == 404


# --- echoes and offers -------------------------------------------------------------------


async def test_any_barber_availability_checks_the_service_like_the_barber_route(client, shop, day):
    long_name = "s" * 60_000
    for path in ("/availability", f"/barbers/{shop.barber}/availability"):
        r = await client.get(path, params={"date": day.isoformat(), "service": long_name}, headers=shop.client)
        assert r.status_code == 422 and len(r.content) < 2000, (path, len(r.content))


async def test_a_barber_is_booked_only_for_what_they_offer(client, shop, day, clean_db):
    await clean_db.execute(
        "INSERT INTO booking.barber_services (barber_id, service_id) "
        "SELECT $1, id FROM booking.services WHERE name = 'Beard Trim'",
        shop.barber,
    )
    r = await client.post("/appointments", json=body(shop, day), headers=shop.client)
    assert r.status_code == 422 and r.json()["code"] == "BK013"
    r = await client.get(
        f"/barbers/{shop.barber}/availability",
        params={"date": day.isoformat(), "service": "Haircut"},
        headers=shop.client,
    )
    assert r.status_code == 422 and r.json()["code"] == "BK013"
    other = (
        await client.post(
            "/appointments", json={**body(shop, day), "barber_id": shop.other_barber}, headers=shop.client
        )
    ).json()
    r = await client.patch(f"/appointments/{other['id']}", json={"barber_id": shop.barber}, headers=shop.client)
    assert r.status_code == 422 and r.json()["code"] == "BK013"
    assert (
        await client.post("/appointments", json={**body(shop, day), "service": "Beard Trim"}, headers=shop.client)
    ).status_code == 201


# --- event streams: one read per barber ---------------------------------------------------


async def test_one_booking_costs_one_read_however_many_streams_watch(database_url, shop, day, make_token):
    app = create_app(Settings.from_env(database_url=database_url, purge_interval=0, max_streams_per_token=50))
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as c:
        streams = []
        try:
            for _ in range(20):
                cm = c.stream("GET", f"/barbers/{shop.other_barber}/events", headers=shop.client)
                r = await cm.__aenter__()
                assert r.status_code == 200
                streams.append((cm, r.aiter_lines()))
            for _, lines in streams:
                assert (await anext(lines)).startswith(": connected")
            hub = app.state.events
            reads_before = hub.reads
            made = await c.post(
                "/appointments", json={**body(shop, day), "barber_id": shop.other_barber}, headers=shop.client
            )
            assert made.status_code == 201

            async def event_of(lines):
                async for line in lines:
                    if line.startswith("data:"):
                        return line

            got = await asyncio.wait_for(asyncio.gather(*(event_of(lines) for _, lines in streams)), 10)
            assert all(str(made.json()["id"]) in line for line in got)
            assert hub.reads - reads_before <= 2  # was: one query per stream (20)
        finally:
            for cm, _ in streams:
                await cm.__aexit__(None, None, None)
