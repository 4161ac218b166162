"""The booking page's routes (app/page.py): the page and its static files are open; the
listings it reads (GET /barbers, /services, /availability) need a token like the rest of
the API, and /availability without barber_id is booking.free_slots(NULL, ...): the union
of every barber's free starts."""

from __future__ import annotations

from datetime import UTC, time

import pytest


async def test_page_is_public_html(client):
    r = await client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<script src="/static/app.js"' in html and 'href="/static/app.css"' in html
    # No inline script or style (the Content-Security-Policy allows 'self' only).
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert "aria-live" in html and '<label for="token">' in html


@pytest.mark.parametrize("path, kind", [("/static/app.js", "javascript"), ("/static/app.css", "text/css")])
async def test_static_files_are_public(client, path, kind):
    r = await client.get(path)
    assert r.status_code == 200, r.text
    assert kind in r.headers["content-type"]
    assert len(r.content) > 500


async def test_static_files_do_not_escape_their_folder(client):
    for path in ("/static/../page.py", "/static/%2e%2e/page.py", "/static/nothing.js"):
        r = await client.get(path)
        assert r.status_code == 404, path


@pytest.mark.parametrize("path", ["/barbers", "/services", "/availability?date=2030-01-08&service=Haircut"])
async def test_listings_need_a_token(client, shop, path):
    r = await client.get(path)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "unauthorized"
    r = await client.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


async def test_barbers_and_services(client, shop):
    r = await client.get("/barbers", headers=shop.client)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "barbers": [
            {"id": shop.barber, "name": "Ana", "timezone": "Europe/London", "shop_id": 1},
            {"id": shop.other_barber, "name": "Ben", "timezone": "UTC", "shop_id": 1},
        ]
    }
    r = await client.get("/services", headers=shop.client)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "services": [
            {"name": "Beard Trim", "duration_minutes": 15, "price_cents": 2500, "shop_id": 1},
            {"name": "Haircut", "duration_minutes": 30, "price_cents": 2500, "shop_id": 1},
        ]
    }


def _instants(slots):
    return [(s["start"], s["end"]) for s in slots]


def rfc3339(value) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _free_slots(pool, barber, day, service):
    rows = await pool.fetch(
        "SELECT start_time, end_time FROM booking.free_slots($1, $2, $3) ORDER BY 1", barber, day, service
    )
    return [(rfc3339(r["start_time"]), rfc3339(r["end_time"])) for r in rows]


async def test_availability_of_one_barber_matches_the_barber_route(client, shop, day):
    q = {"date": day.isoformat(), "service": "Haircut"}
    one = await client.get("/availability", params={**q, "barber_id": shop.barber}, headers=shop.client)
    assert one.status_code == 200, one.text
    route = await client.get(f"/barbers/{shop.barber}/availability", params=q, headers=shop.client)
    assert one.json()["slots"] == route.json()["slots"]
    assert one.json()["barber_id"] == shop.barber and one.json()["date"] == day.isoformat()
    assert len(one.json()["slots"]) == (18 - 9) * 4 - 1  # 09:00 ... 17:30 on a 15-minute grid


async def test_availability_of_any_barber_is_the_union(client, shop, day, clean_db, make_barber):
    # A second London barber working only 12:00-14:00, and a booking of Ana's at 10:00
    # London: 10:00 stays free for "any barber" only if someone else is free then.
    carla = await make_barber("Carla", "Europe/London", [(day.isoweekday(), time(12), time(14))])
    r = await client.post(
        "/appointments",
        headers=shop.client,
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "10:00"},
    )
    assert r.status_code == 201, r.text
    q = {"date": day.isoformat(), "service": "Haircut"}
    anyone = await client.get("/availability", params=q, headers=shop.client)
    assert anyone.status_code == 200, anyone.text
    body = anyone.json()
    assert body["barber_id"] is None and body["service"] == "Haircut"
    got = _instants(body["slots"])
    assert got == await _free_slots(clean_db, None, day, "Haircut")
    # It is the union of the barbers' own free starts, without repeats, in time order.
    union: set = set()
    for barber in (shop.barber, shop.other_barber, carla):
        union |= set(await _free_slots(clean_db, barber, day, "Haircut"))
    assert got == sorted(union)
    assert len(got) == len(set(got))
    # "any" is accepted as a spelling of "no barber_id".
    spelled = await client.get("/availability", params={**q, "barber_id": "any"}, headers=shop.client)
    assert spelled.json()["slots"] == body["slots"]


async def test_availability_errors(client, shop, day):
    h = shop.client
    r = await client.get("/availability", params={"service": "Haircut"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "date"
    r = await client.get("/availability", params={"date": day.isoformat()}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "service"
    r = await client.get("/availability", params={"date": "08/01/2030", "service": "Haircut"}, headers=h)
    assert r.status_code == 422
    r = await client.get(
        "/availability", params={"date": day.isoformat(), "service": "Haircut", "barber_id": "x1"}, headers=h
    )
    assert r.status_code == 422 and r.json()["field"] == "barber_id"
    r = await client.get("/availability", params={"date": day.isoformat(), "service": "Perm"}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "BK004"
    r = await client.get(
        "/availability", params={"date": day.isoformat(), "service": "Haircut", "barber_id": 999999}, headers=h
    )
    assert r.status_code == 404 and r.json()["code"] == "BK003"
