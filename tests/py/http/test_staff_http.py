"""Running a shop over HTTP (issue 15 part 1, contract section 7): barbers, services,
working hours (split shifts, ETag/If-Match, 409 BK019 naming the appointments they would
strand unless force), time off (admin or that barber); every role's token; bad inputs; a
booking racing an hours change on real connections; the SQL through a cluster's proxy."""

from __future__ import annotations

import asyncio
import json
from datetime import time

import asyncpg
import pytest

from app.tokens import hash_token, new_token
from tests.py.support import at, workday

NINE_TO_SIX = [{"weekday": d, "opens_at": "09:00", "closes_at": "18:00"} for d in range(1, 7)]


async def token(db, user_id: int, role: str, barber_id: int | None = None, shop_id: int | None = None) -> dict:
    t = new_token()
    await db.execute(
        "SELECT booking.create_api_token($1, $2, $3, $4, NULL, $5)", hash_token(t), user_id, role, barber_id, shop_id
    )
    return {"Authorization": f"Bearer {t}"}


@pytest.fixture
async def staff(clean_db, shop):
    """shop's tokens plus an admin of shop 1 only (302) and an admin of shop 2 only (402)."""
    shop2 = await clean_db.fetchval("SELECT id FROM booking.create_shop('Second', 'UTC')")
    return {
        "client": shop.client,
        "barber": shop.barber_staff,
        "other_barber": shop.other_staff,
        "admin_all": shop.admin,
        "admin_here": await token(clean_db, 302, "admin", shop_id=1),
        "admin_there": await token(clean_db, 402, "admin", shop_id=shop2),
        "shop2": shop2,
    }


async def test_barbers_and_services_by_role(client, shop, staff):
    body = {"name": "Cleo", "timezone": "Europe/Paris"}
    for who, status, code in (("client", 403, "BK012"), ("barber", 403, "BK012"), ("admin_there", 403, "BK012")):
        r = await client.post("/shops/1/barbers", json=body, headers=staff[who])
        assert (r.status_code, r.json()["code"]) == (status, code), (who, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    for who in ("admin_here", "admin_all"):
        r = await client.post("/shops/1/barbers", json={"name": f"Cleo {who}"}, headers=staff[who])
        assert r.status_code == 201, r.text
        assert r.json()["shop_id"] == 1 and r.json()["timezone"] == "UTC" and r.json()["name"] == f"Cleo {who}"
    r = await client.post("/shops/1/barbers", json=body, headers=staff["admin_here"])
    assert r.status_code == 201 and r.json()["timezone"] == "Europe/Paris"
    r = await client.post(f"/shops/{staff['shop2']}/barbers", json=body, headers=staff["admin_there"])
    assert r.status_code == 201 and r.json()["shop_id"] == staff["shop2"]
    for shop_id, status, code in (("999", 404, "BK014"), ("0", 404, "BK014"), ("x", 404, "BK014")):
        r = await client.post(f"/shops/{shop_id}/barbers", json=body, headers=staff["admin_all"])
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
    for bad in ({"name": "x" * 201}, {"name": "  "}, {"name": "A", "timezone": "Mars/Olympus"}):
        r = await client.post("/shops/1/barbers", json=bad, headers=staff["admin_here"])
        assert r.status_code == 422 and r.json()["code"] == "BK008", r.text
    for bad in ({"name": 1}, {}, {"name": "A", "colour": "red"}, {"name": "x" * 20_000}):
        r = await client.post("/shops/1/barbers", json=bad, headers=staff["admin_here"])
        assert r.status_code in (400, 413, 422), r.text

    r = await client.post(
        "/shops/1/services",
        json={"name": "Fade", "duration_minutes": 40, "price_cents": 3000},
        headers=staff["admin_here"],
    )
    assert r.status_code == 201, r.text
    assert r.json() | {"id": 0} == {"id": 0, "name": "Fade", "duration_minutes": 40, "price_cents": 3000, "shop_id": 1}
    r = await client.post(
        "/shops/1/services", json={"name": "Fade", "duration_minutes": 40}, headers=staff["admin_all"]
    )
    assert r.status_code == 422 and r.json()["code"] == "BK008"  # the shop has one
    r = await client.post("/shops/1/services", json={"name": "Nap", "duration_minutes": 40}, headers=staff["client"])
    assert r.status_code == 403
    for bad in (0, 1441, -1, 2**31 - 1):
        r = await client.post(
            "/shops/1/services", json={"name": "B", "duration_minutes": bad}, headers=staff["admin_here"]
        )
        assert r.status_code == 422 and r.json()["code"] == "BK008", (bad, r.text)
    for bad in (2**31, 10**30, "thirty", None):
        r = await client.post(
            "/shops/1/services", json={"name": "B", "duration_minutes": bad}, headers=staff["admin_here"]
        )
        assert r.status_code in (400, 422), (bad, r.text)


async def test_working_hours_roles_etag_and_if_match(client, shop, staff):
    url = f"/barbers/{shop.barber}/working-hours"
    r = await client.get(url, headers=staff["barber"])
    assert r.status_code == 200, r.text
    etag = r.headers["etag"]
    assert r.json()["version"] and etag == f'"{r.json()["version"]}"' and len(r.json()["hours"]) == 6
    for who in ("client", "other_barber", "admin_there"):
        assert (await client.get(url, headers=staff[who])).status_code == 403, who
    split = [
        {"weekday": 1, "opens_at": "09:00", "closes_at": "12:00"},
        {"weekday": 1, "opens_at": "13:00", "closes_at": "18:00"},
        {"weekday": 2, "opens_at": "22:00", "closes_at": "02:00"},
    ]
    for who in ("client", "barber", "other_barber", "admin_there"):
        r = await client.put(url, json=split, headers=staff[who])
        assert r.status_code == 403 and r.json()["code"] == "BK012", (who, r.text)
    r = await client.put(url, json=split, headers={**staff["admin_here"], "If-Match": '"1"'})
    assert r.status_code == 412 and r.json()["code"] == "BK001", r.text
    r = await client.put(url, json=split, headers={**staff["admin_here"], "If-Match": f"W/{etag}"})
    assert r.status_code == 412
    r = await client.put(url, json=split, headers={**staff["admin_here"], "If-Match": "nonsense"})
    assert r.status_code == 400
    r = await client.put(url, json=split, headers={**staff["admin_here"], "If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.json()["hours"] == split and r.headers["etag"] != etag
    new_etag = r.headers["etag"]
    r = await client.get(url, headers=staff["admin_all"])
    assert r.headers["etag"] == new_etag and r.json()["hours"] == split
    r = await client.put(url, json=NINE_TO_SIX, headers={**staff["admin_all"], "If-Match": etag})  # stale
    assert r.status_code == 412
    r = await client.put(url, json=NINE_TO_SIX, headers={**staff["admin_all"], "If-Match": f'"1", {new_etag}'})
    assert r.status_code == 200, r.text
    r = await client.put(url, json=[], headers={**staff["admin_all"], "If-Match": "*"})
    assert r.status_code == 200 and r.json()["hours"] == [] and r.headers["etag"] == '"0"'
    r = await client.get("/barbers/999999/working-hours", headers=staff["admin_all"])
    assert r.status_code == 404 and r.json()["code"] == "BK003"


@pytest.mark.parametrize(
    "hours",
    [
        [{"weekday": 1, "opens_at": "24:00", "closes_at": "12:00"}],
        [{"weekday": 1, "opens_at": "09:00", "closes_at": "24:00"}],
        [{"weekday": 0, "opens_at": "09:00", "closes_at": "12:00"}],
        [{"weekday": 8, "opens_at": "09:00", "closes_at": "12:00"}],
        [{"weekday": 1, "opens_at": "09:00", "closes_at": "09:00"}],
        [{"weekday": 1, "opens_at": "9am", "closes_at": "12:00"}],
        [{"weekday": 1, "opens_at": "x" * 60, "closes_at": "12:00"}],
        [{"weekday": 2**31 - 1, "opens_at": "09:00", "closes_at": "12:00"}],
        [{"weekday": 10**20, "opens_at": "09:00", "closes_at": "12:00"}],
        [{"weekday": 1, "opens_at": "09:00"}],
        [{"weekday": 1, "opens_at": "09:00", "closes_at": "12:00", "x": 1}],
        {"weekday": 1},
        [{"weekday": 1, "opens_at": "09:00", "closes_at": "12:00"}] * 101,
    ],
)
async def test_bad_working_hours(client, shop, staff, hours):
    r = await client.put(f"/barbers/{shop.barber}/working-hours", json=hours, headers=staff["admin_all"])
    assert r.status_code in (400, 413, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_overlapping_split_shifts_are_one_stretch(client, shop, staff):
    # Overlapping or touching shifts are allowed: working time is their union (booking.unavailability).
    hours = [
        {"weekday": d, "opens_at": o, "closes_at": c}
        for d in range(1, 8)
        for o, c in (("09:00", "13:00"), ("12:00", "18:00"))
    ]
    r = await client.put(f"/barbers/{shop.barber}/working-hours", json=hours, headers=staff["admin_all"])
    assert r.status_code == 200 and len(r.json()["hours"]) == 14


async def test_hours_that_strand_appointments_need_force(client, shop, staff):
    day = workday()
    made = []
    for hhmm in ("10:00", "16:00"):
        r = await client.post(
            "/appointments",
            json={
                "barber_id": shop.barber,
                "service": "Haircut",
                "booking_date": day.isoformat(),
                "booking_time": hhmm,
            },
            headers=staff["client"],
        )
        assert r.status_code == 201, r.text
        made.append(r.json())
    mornings = [{"weekday": d, "opens_at": "09:00", "closes_at": "12:00"} for d in range(1, 8)]
    url = f"/barbers/{shop.barber}/working-hours"
    r = await client.put(url, json=mornings, headers=staff["admin_here"])
    assert r.status_code == 409 and r.json()["code"] == "BK019", r.text
    assert str(made[1]["id"]) in r.json()["detail"] and str(made[0]["id"]) + " (" not in r.json()["detail"]
    assert " 1 active appointment " in r.json()["detail"]
    r = await client.put(url + "?force=true", json=mornings, headers=staff["admin_here"])
    assert r.status_code == 200, r.text
    r = await client.get(f"/appointments/{made[1]['id']}", headers=staff["client"])
    assert r.json()["status"] == "scheduled"


async def test_time_off_by_role_force_and_bad_inputs(client, shop, staff):
    day = workday()
    r = await client.post(
        "/appointments",
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "10:00"},
        headers=staff["client"],
    )
    booked = r.json()
    url = f"/barbers/{shop.barber}/time-off"
    start, end = booked["start_time"], booked["end_time"]
    body = {"start": start, "end": end, "reason": "Dentist"}
    r = await client.post(url, json=body, headers=staff["barber"])
    assert r.status_code == 409 and r.json()["code"] == "BK019" and str(booked["id"]) in r.json()["detail"], r.text
    r = await client.post(url + "?force=true", json=body, headers=staff["barber"])
    assert r.status_code == 403, r.text  # only an admin may force
    for who in ("client", "other_barber", "admin_there"):
        r = await client.post(url, json=body, headers=staff[who])
        assert r.status_code == 403 and r.json()["code"] == "BK012", (who, r.text)
    r = await client.post(url + "?force=true", json=body, headers=staff["admin_here"])
    assert r.status_code == 201, r.text
    assert r.json()["reason"] == "Dentist" and r.json()["barber_id"] == shop.barber
    later = {"start": at(day, 17).isoformat(), "end": at(day, 18).isoformat()}
    r = await client.post(url, json=later, headers=staff["barber"])
    assert r.status_code == 201, r.text
    r = await client.get(url, headers=staff["barber"])
    assert r.status_code == 200 and len(r.json()["time_off"]) == 2
    for who in ("client", "other_barber", "admin_there"):
        assert (await client.get(url, headers=staff[who])).status_code == 403, who
    assert (await client.get(url, headers=staff["admin_all"])).status_code == 200
    bad_bodies = [
        {"start": "0001-01-01T00:00:00Z", "end": "0001-01-01T01:00:00Z"},
        {"start": "9999-12-31T00:00:00Z", "end": "infinity"},
        {"start": "-infinity", "end": "2030-01-01T00:00:00Z"},
        {"start": later["end"], "end": later["start"]},
        {"start": "2030-01-01", "end": "2030-01-02"},
        {"start": "2030-01-01T24:00:00Z", "end": "2030-01-02T01:00:00Z"},
        {"start": later["start"], "end": later["end"], "reason": "r" * 201},
        {"start": later["start"], "end": later["end"], "reason": "r" * 20_000},
        {"start": 1, "end": 2},
        {"start": later["start"]},
    ]
    for bad in bad_bodies:
        r = await client.post(url, json=bad, headers=staff["admin_all"])
        assert r.status_code in (400, 413, 422), (bad, r.status_code, r.text[:200])


async def test_a_booking_racing_an_hours_change_never_ends_outside_them(
    database_url, clean_db, make_barber, make_service
):
    """Real connections: whichever commits first, no active appointment ends up outside
    the hours. (1) The booking holds the barber's row (FOR SHARE): the change waits, then
    sees it and is refused. (2) The change goes first: the booking waits, then sees the new
    hours and is refused (BK006)."""
    barber = await make_barber("Race", "UTC", [(d, time(9), time(18)) for d in range(1, 8)])
    await make_service("Haircut", 30)
    day = workday()
    afternoons = json.dumps([{"weekday": d, "opens_at": "13:00", "closes_at": "18:00"} for d in range(1, 8)])
    nine_to_six = json.dumps([{"weekday": d, "opens_at": "09:00", "closes_at": "18:00"} for d in range(1, 8)])
    a, b = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        # (1) booking first, uncommitted
        tx = a.transaction()
        await tx.start()
        await a.fetch("SELECT * FROM booking.book_appointment($1, 7, 'Haircut', $2)", barber, at(day, 10))
        change = asyncio.create_task(
            b.fetch("SELECT * FROM booking.set_working_hours($1, $2::jsonb)", barber, afternoons)
        )
        await asyncio.sleep(0.3)
        assert not change.done(), "the hours change must wait for the booking"
        await tx.commit()
        with pytest.raises(asyncpg.PostgresError) as e:
            await change
        assert e.value.sqlstate == "BK019"

        # (2) hours change first, uncommitted
        tx = b.transaction()
        await tx.start()
        await b.fetch("SELECT * FROM booking.set_working_hours($1, $2::jsonb)", barber, nine_to_six)
        await b.fetch("SELECT * FROM booking.set_working_hours($1, $2::jsonb, p_force => true)", barber, afternoons)
        booking = asyncio.create_task(
            a.fetch("SELECT * FROM booking.book_appointment($1, 8, 'Haircut', $2)", barber, at(day, 11))
        )
        await asyncio.sleep(0.3)
        assert not booking.done(), "the booking must wait for the hours change"
        await tx.commit()
        with pytest.raises(asyncpg.PostgresError) as e:
            await booking
        assert e.value.sqlstate == "BK006"
    finally:
        await a.close()
        await b.close()
    outside = await clean_db.fetchval(
        "SELECT count(*) FROM booking.appointments a WHERE a.barber_id = $1 AND a.status = 'scheduled'"
        " AND booking.unavailability(a.barber_id, 'UTC', a.start_time, a.duration_minutes) IS NOT NULL",
        barber,
    )
    assert outside == 1  # only the 10:00 one, kept by the forced change in (2)


async def test_refusals_through_the_engine(engine):
    """The SQL of the staff API on one database and through a 2-partition cluster's proxy:
    the same answers (the routes of sql/proxy/routes.csv)."""
    barber = await engine.make_barber("Engine", "UTC", [(d, time(9), time(18)) for d in range(1, 8)])
    await engine.make_service("Haircut", 30)
    day = workday()
    conn = await asyncpg.connect(engine.url)
    try:
        booked = await conn.fetchrow(
            "SELECT * FROM booking.book_appointment($1, 7, 'Haircut', $2)", barber, at(day, 10)
        )
        mornings = json.dumps([{"weekday": d, "opens_at": "13:00", "closes_at": "18:00"} for d in range(1, 8)])
        with pytest.raises(asyncpg.PostgresError) as e:
            await conn.fetch("SELECT * FROM booking.set_working_hours($1, $2::jsonb)", barber, mornings)
        assert e.value.sqlstate == "BK019" and str(booked["id"]) in e.value.detail
        with pytest.raises(asyncpg.PostgresError) as e:
            await conn.fetch("SELECT * FROM booking.add_time_off($1, $2, $3)", barber, at(day, 9), at(day, 11))
        assert e.value.sqlstate == "BK019"
        version = await conn.fetchval("SELECT max(version) FROM booking.get_working_hours($1)", barber)
        with pytest.raises(asyncpg.PostgresError) as e:
            await conn.fetch(
                "SELECT * FROM booking.set_working_hours($1, $2::jsonb, p_expected_version => $3)", barber, mornings, -1
            )
        assert e.value.sqlstate == "BK001"
        rows = await conn.fetch(
            "SELECT * FROM booking.set_working_hours($1, $2::jsonb, p_force => true, p_expected_version => $3)",
            barber,
            mornings,
            version,
        )
        assert len(rows) == 7
        off = await conn.fetchrow(
            "SELECT * FROM booking.add_time_off($1, $2, $3, 'x', NULL, true)", barber, at(day, 9), at(day, 11)
        )
        assert off["barber_id"] == barber
        assert len(await conn.fetch("SELECT * FROM booking.list_time_off($1)", barber)) == 1
    finally:
        await conn.close()
