"""The appointment routes of the HTTP contract, through the real app and database."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

PROBLEM = "application/problem+json"


def body(shop, day: date, hhmm: str = "10:00", **extra) -> dict:
    return {
        "barber_id": shop.barber,
        "service": "Haircut",
        "booking_date": day.isoformat(),
        "booking_time": hhmm,
        **extra,
    }


def utc(day: date, hhmm: str, tz: str = "Europe/London") -> str:
    h, m = map(int, hhmm.split(":"))
    local = datetime(day.year, day.month, day.day, h, m, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).isoformat().replace("+00:00", "Z")


JSON = {"Content-Type": "application/json"}


def assert_problem(r, status: int, code: str):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    p = r.json()
    assert p["status"] == status and p["code"] == code, p
    assert p["type"] and p["title"] and p["detail"]
    return p


async def test_create_returns_201_location_etag_and_the_appointment(client, shop, day):
    r = await client.post(
        "/appointments",
        json=body(shop, day, buffer_time_before=5, buffer_time_after=10, notes="short"),
        headers=shop.client,
    )
    assert r.status_code == 201, r.text
    a = r.json()
    assert r.headers["location"] == f"/appointments/{a['id']}"
    assert r.headers["etag"] == '"1"'
    assert "idempotent-replayed" not in r.headers
    assert a["barber_id"] == shop.barber and a["user_id"] == 101 and a["service"] == "Haircut"
    assert (a["booking_date"], a["booking_time"]) == (day.isoformat(), "10:00")
    assert a["start_time"] == utc(day, "10:00") and a["end_time"] == utc(day, "10:30")
    assert (a["duration_minutes"], a["buffer_time_before"], a["buffer_time_after"]) == (30, 5, 10)
    assert (a["status"], a["notes"], a["version"]) == ("scheduled", "short", 1)
    assert a["created_at"].endswith("Z") and a["updated_at"].endswith("Z")

    g = await client.get(r.headers["location"], headers=shop.client)
    assert g.status_code == 200 and g.headers["etag"] == '"1"'
    assert g.json() == a


async def test_conflict_is_a_409_naming_the_interval(client, shop, day):
    first = (await client.post("/appointments", json=body(shop, day, buffer_time_after=15), headers=shop.client)).json()
    r = await client.post("/appointments", json=body(shop, day, "10:30"), headers=shop.client2)
    p = assert_problem(r, 409, "23P01")
    assert p["conflicting_appointment_id"] == first["id"]
    assert (p["conflict_start"], p["conflict_end"]) == (utc(day, "10:00"), utc(day, "10:45"))


def total_retries() -> float:
    from app import metrics

    return sum(s.value for m in metrics.BOOKING_RETRIES.collect() for s in m.samples if s.name.endswith("_total"))


async def test_thirty_concurrent_clients_one_slot(client, shop, day, clean_db):
    async def attempt(i: int):
        return await client.post(
            "/appointments",
            json=body(shop, day, "11:00", notes=f"client {i}"),
            headers=shop.client if i % 2 else shop.client2,
        )

    retries_before = total_retries()
    responses = await asyncio.gather(*(attempt(i) for i in range(30)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 29, statuses
    assert total_retries() == retries_before  # a conflict is an answer: never retried
    winner = next(r for r in responses if r.status_code == 201).json()
    for r in responses:
        if r.status_code == 409:
            p = assert_problem(r, 409, "23P01")
            assert p["conflicting_appointment_id"] == winner["id"]
    assert await clean_db.fetchval("SELECT count(*) FROM booking.appointments") == 1


async def test_idempotent_replay_answers_as_the_first(client, shop, day, clean_db):
    headers = {**shop.client, "Idempotency-Key": "order-42"}
    first = await client.post("/appointments", json=body(shop, day), headers=headers)
    again = await client.post("/appointments", json=body(shop, day), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await clean_db.fetchval("SELECT count(*) FROM booking.appointments") == 1

    misuse = await client.post("/appointments", json=body(shop, day, "12:00"), headers=headers)
    assert_problem(misuse, 422, "BK002")
    # Another user's key of the same spelling is another key.
    other = await client.post(
        "/appointments", json=body(shop, day, "13:00"), headers={**shop.client2, "Idempotency-Key": "order-42"}
    )
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers
    bad = await client.post(
        "/appointments", json=body(shop, day, "14:00"), headers={**shop.client, "Idempotency-Key": "x" * 201}
    )
    assert_problem(bad, 422, "BK008")  # the key's form is the engine's rule, stated once


async def test_patch_with_and_without_if_match(client, shop, day):
    a = (await client.post("/appointments", json=body(shop, day), headers=shop.client)).json()
    url = f"/appointments/{a['id']}"
    r = await client.patch(url, json={"notes": "no if-match"}, headers=shop.client)
    assert r.status_code == 200 and r.headers["etag"] == '"2"' and r.json()["notes"] == "no if-match"

    stale = await client.patch(url, json={"notes": "stale"}, headers={**shop.client, "If-Match": '"1"'})
    assert_problem(stale, 412, "BK001")

    r = await client.patch(
        url, json={"booking_time": "15:00", "buffer_time_after": 5}, headers={**shop.client, "If-Match": '"2"'}
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"3"'
    moved = r.json()
    assert (moved["booking_time"], moved["start_time"], moved["buffer_time_after"]) == ("15:00", utc(day, "15:00"), 5)
    assert (await client.get(url, headers=shop.client)).json() == moved

    bad = await client.patch(url, json={"notes": "x"}, headers={**shop.client, "If-Match": "3"})
    assert_problem(bad, 400, "invalid_if_match")
    star = await client.patch(url, json={"notes": "any version"}, headers={**shop.client, "If-Match": "*"})
    assert star.status_code == 200 and star.headers["etag"] == '"4"'


async def test_patch_moving_onto_a_booked_slot_is_409(client, shop, day):
    await client.post("/appointments", json=body(shop, day, "10:00"), headers=shop.client)
    b = (await client.post("/appointments", json=body(shop, day, "12:00"), headers=shop.client)).json()
    r = await client.patch(f"/appointments/{b['id']}", json={"booking_time": "10:15"}, headers=shop.client)
    assert_problem(r, 409, "23P01")


async def test_cancel_frees_the_slot(client, shop, day):
    a = (await client.post("/appointments", json=body(shop, day), headers=shop.client)).json()
    stale = await client.post(f"/appointments/{a['id']}/cancel", headers={**shop.client, "If-Match": '"7"'})
    assert_problem(stale, 412, "BK001")
    r = await client.post(f"/appointments/{a['id']}/cancel", headers={**shop.client, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.headers["etag"] == '"2"'
    again = await client.post("/appointments", json=body(shop, day), headers=shop.client2)
    assert again.status_code == 201, again.text


async def test_a_client_never_sees_or_changes_anothers_appointment(client, shop, day):
    a = (await client.post("/appointments", json=body(shop, day), headers=shop.client)).json()
    url = f"/appointments/{a['id']}"
    assert_problem(await client.get(url, headers=shop.client2), 404, "BK011")
    assert_problem(await client.patch(url, json={"notes": "mine now"}, headers=shop.client2), 404, "BK011")
    assert_problem(await client.post(url + "/cancel", headers=shop.client2), 404, "BK011")
    assert_problem(await client.get("/appointments/999999", headers=shop.client), 404, "BK011")
    assert_problem(await client.get("/appointments/abc", headers=shop.client), 404, "BK011")
    assert_problem(await client.get("/appointments/" + "9" * 30, headers=shop.client), 404, "BK011")
    assert (await client.get(url, headers=shop.client)).json()["notes"] is None


async def test_barber_and_admin_visibility(client, shop, day):
    a = (await client.post("/appointments", json=body(shop, day), headers=shop.client)).json()
    url = f"/appointments/{a['id']}"
    assert (await client.get(url, headers=shop.barber_staff)).status_code == 200
    assert (await client.get(url, headers=shop.admin)).status_code == 200
    assert_problem(await client.get(url, headers=shop.other_staff), 404, "BK011")
    # The barber may confirm; the client may not.
    assert_problem(await client.patch(url, json={"status": "confirmed"}, headers=shop.client), 403, "BK012")
    r = await client.patch(url, json={"status": "confirmed"}, headers=shop.barber_staff)
    assert r.status_code == 200 and r.json()["status"] == "confirmed"


def _dst_days(tz: str) -> tuple[date, date]:
    """The next spring-forward and fall-back days of `tz` (both in the future)."""
    zone = ZoneInfo(tz)
    d = datetime.now(UTC).date() + timedelta(days=2)
    gap = overlap = None
    while gap is None or overlap is None:
        a = datetime(d.year, d.month, d.day, 0, tzinfo=zone).utcoffset()
        b = datetime(d.year, d.month, d.day, 23, tzinfo=zone).utcoffset()
        if a != b:
            if b > a and gap is None:
                gap = d
            elif b < a and overlap is None:
                overlap = d
        d += timedelta(days=1)
    return gap, overlap


async def test_dst_gap_is_422_and_ambiguity_is_the_earlier_instant(client, make_barber, make_service, make_token):
    ny = await make_barber("Cara", "America/New_York")
    await make_service("Haircut", 30)
    headers = await make_token(103, "client")
    gap, overlap = _dst_days("America/New_York")
    r = await client.post(
        "/appointments",
        json={"barber_id": ny, "service": "Haircut", "booking_date": gap.isoformat(), "booking_time": "02:30"},
        headers=headers,
    )
    p = assert_problem(r, 422, "BK007")
    assert "does not exist" in p["detail"]
    r = await client.post(
        "/appointments",
        json={"barber_id": ny, "service": "Haircut", "booking_date": overlap.isoformat(), "booking_time": "01:30"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    a = r.json()
    earlier = datetime(overlap.year, overlap.month, overlap.day, 1, 30, tzinfo=ZoneInfo("America/New_York"), fold=0)
    assert a["start_time"] == earlier.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert (a["booking_date"], a["booking_time"]) == (overlap.isoformat(), "01:30")


@pytest.mark.parametrize(
    "raw, status, code",
    [
        (b"{", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (b'{"barber_id": NaN}', 400, "invalid_json"),
        (b"[1, 2]", 422, "validation_error"),
        (b'"text"', 422, "validation_error"),
        (b"[" * 10000, 400, "invalid_json"),  # deep nesting within the 16 KiB body limit
    ],
)
async def test_malformed_bodies(client, shop, raw, status, code):
    r = await client.post("/appointments", content=raw, headers={**shop.client, "Content-Type": "application/json"})
    assert_problem(r, status, code)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"barber_id": "one"}, "barber_id"),
        ({"barber_id": 10**30}, "barber_id"),
        ({"barber_id": True}, "barber_id"),
        ({"service": 5}, "service"),
        ({"booking_date": 20270101}, "booking_date"),
        ({"buffer_time_before": 1.5}, "buffer_time_before"),
        ({"buffer_time_after": 10**20}, "buffer_time_after"),
        ({"notes": ["a"]}, "notes"),
        ({"colour": "blue"}, "colour"),
        ({"booking_date": None}, "booking_date"),
    ],
)
async def test_wrong_types_are_422_naming_the_field(client, shop, day, change, field, clean_db):
    """The body's form (its types) is HTTP's to check: validation_error, naming the field."""
    r = await client.post("/appointments", json={**body(shop, day), **change}, headers=shop.client)
    p = assert_problem(r, 422, "validation_error")
    assert p["field"] == field
    assert await clean_db.fetchval("SELECT count(*) FROM booking.appointments") == 0


@pytest.mark.parametrize(
    "change, code",
    [
        ({"booking_date": "2026-02-30"}, "BK008"),
        ({"booking_date": "30/01/2027"}, "BK008"),
        ({"booking_time": "25:00"}, "BK008"),
        ({"booking_time": "10:61"}, "BK008"),
        ({"booking_time": "24:00"}, "BK008"),
        ({"notes": "null\u0000byte"}, "22021"),
    ],
)
async def test_values_the_engine_refuses_are_422_with_its_code(client, shop, day, change, code, clean_db):
    """What is a real date, a time of day, text PostgreSQL can hold: the engine's rules."""
    r = await client.post("/appointments", json={**body(shop, day), **change}, headers=shop.client)
    assert_problem(r, 422, code)
    assert await clean_db.fetchval("SELECT count(*) FROM booking.appointments") == 0


async def test_missing_fields_are_422(client, shop, day):
    for missing in ("service", "booking_date", "booking_time"):
        b = body(shop, day)
        del b[missing]
        p = assert_problem(await client.post("/appointments", json=b, headers=shop.client), 422, "validation_error")
        assert p["field"] == missing


async def test_without_barber_id_any_barber_is_booked(client, shop, day, clean_db):
    b = body(shop, day)
    del b["barber_id"]
    # The shop's barbers work in two time zones, so a local time alone names no instant.
    p = assert_problem(await client.post("/appointments", json=b, headers=shop.client), 422, "BK008")
    assert "time zone" in p["detail"]
    await clean_db.execute("UPDATE booking.barbers SET timezone = 'Europe/London'")
    r = await client.post("/appointments", json=b, headers=shop.client)
    assert r.status_code == 201, r.text
    assert r.json()["barber_id"] == shop.barber  # a tie goes to the lowest id
    r = await client.post("/appointments", json=b, headers=shop.client2)
    assert r.status_code == 201, r.text
    assert r.json()["barber_id"] == shop.other_barber  # the first one is busy then
    assert_problem(await client.post("/appointments", json=b, headers=shop.client2), 409, "23P01")


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"service": "Perm"}, 422, "BK004"),
        ({"barber_id": 999999}, 404, "BK003"),
        ({"booking_date": "2020-01-06"}, 422, "BK005"),
        ({"booking_time": "20:00"}, 422, "BK006"),
        ({"buffer_time_before": -5}, 422, "BK008"),
        ({"buffer_time_after": 1441}, 422, "BK008"),
        ({"notes": "x" * 2001}, 422, "BK008"),
    ],
)
async def test_engine_refusals(client, shop, day, change, status, code):
    r = await client.post("/appointments", json={**body(shop, day), **change}, headers=shop.client)
    assert_problem(r, status, code)


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"colour": "red"}, 422, "validation_error"),  # the body's type refuses an unknown field
        ({"booking_date": "2027-02-30"}, 422, "BK008"),
        ({"booking_time": "25:00"}, 422, "BK008"),
        ({"notes": "nul \u0000 byte"}, 422, "22P05"),
        ({"buffer_time_after": 10**40}, 422, "validation_error"),
        ({"buffer_time_after": 1441}, 422, "BK008"),
        ({"barber_id": "x"}, 422, "validation_error"),
        ({"barber_id": 999999}, 404, "BK003"),
        ({"booking_date": "2020-01-06"}, 422, "BK005"),
    ],
)
async def test_patch_bad_input(client, shop, day, change, status, code):
    a = (await client.post("/appointments", json=body(shop, day), headers=shop.client)).json()
    r = await client.patch(f"/appointments/{a['id']}", json=change, headers=shop.client)
    assert_problem(r, status, code)
    after = (await client.get(f"/appointments/{a['id']}", headers=shop.client)).json()
    assert after == a


async def test_lone_surrogates_are_refused_as_malformed(client, shop, day, clean_db):
    """A "\\ud800" escape is JSON's syntax, but names no character: not Unicode text."""
    raw = (
        '{"barber_id": %d, "service": "Haircut", "booking_date": "%s", "booking_time": "10:00",'
        ' "notes": "\\ud800"}' % (shop.barber, day)
    ).encode()
    r = await client.post("/appointments", content=raw, headers={**shop.client, **JSON})
    assert_problem(r, 400, "invalid_json")
    a = (await client.post("/appointments", json=body(shop, day), headers=shop.client)).json()
    r = await client.patch(
        f"/appointments/{a['id']}", content=b'{"notes": "\\udc00 alone"}', headers={**shop.client, **JSON}
    )
    assert_problem(r, 400, "invalid_json")
    assert await clean_db.fetchval("SELECT count(*) FROM booking.appointments") == 1


async def test_patch_malformed_json_is_400(client, shop, day):
    a = (await client.post("/appointments", json=body(shop, day), headers=shop.client)).json()
    r = await client.patch(f"/appointments/{a['id']}", content=b"{nope", headers={**shop.client, **JSON})
    assert_problem(r, 400, "invalid_json")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-real-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ],
)
async def test_401_without_or_with_a_bad_token(client, shop, day, headers):
    for r in (
        await client.post("/appointments", json=body(shop, day), headers=headers),
        await client.get("/appointments/1", headers=headers),
        await client.get(f"/barbers/{shop.barber}/availability?date={day}&service=Haircut", headers=headers),
    ):
        assert_problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")


async def test_revoked_token_is_401(client, clean_db, shop, day):
    await clean_db.execute("UPDATE booking.api_tokens SET revoked_at = now() WHERE user_id = 101")
    assert_problem(await client.post("/appointments", json=body(shop, day), headers=shop.client), 401, "unauthorized")
