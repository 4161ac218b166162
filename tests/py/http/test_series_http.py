"""POST /appointments/series and POST /appointments/{id}/cancel-following (contract
section 7), through the real app and database: 201 with every occurrence, or 409 naming
the first refused occurrence and nothing booked; the same local time across a DST change;
a key replays the series; bad counts and intervals are 422."""

from __future__ import annotations

from datetime import date

from tests.py.http.test_http_appointments import assert_problem


def series(shop, first: date, hhmm: str = "10:00", every: int = 1, count: int = 4, **extra) -> dict:
    return {
        "barber_id": shop.barber,
        "service": "Haircut",
        "booking_date": first.isoformat(),
        "booking_time": hhmm,
        "every_weeks": every,
        "count": count,
        **extra,
    }


async def test_a_series_books_every_occurrence_at_the_same_local_time(client, shop):
    # The London barber works Mon-Sat 09:00-18:00; BST starts on Sunday 2030-03-31.
    r = await client.post("/appointments/series", json=series(shop, date(2030, 3, 18)), headers=shop.client)
    assert r.status_code == 201, r.text
    items = r.json()["items"]
    assert [i["booking_date"] for i in items] == ["2030-03-18", "2030-03-25", "2030-04-01", "2030-04-08"]
    assert {i["booking_time"] for i in items} == {"10:00"}
    assert [i["start_time"][11:16] for i in items] == ["10:00", "10:00", "09:00", "09:00"]
    assert {i["series_id"] for i in items} == {items[0]["id"]}

    clash = await client.post(
        "/appointments/series", json=series(shop, date(2030, 3, 11), "10:15"), headers=shop.client2
    )
    p = assert_problem(clash, 409, "23P01")
    assert (p["occurrence"], p["occurrence_date"]) == (2, "2030-03-18")
    assert p["conflicting_appointment_id"] == items[0]["id"]
    mine = await client.get("/appointments", headers=shop.client2)
    assert mine.json()["items"] == []  # nothing of the refused series

    cancelled = await client.post(f"/appointments/{items[2]['id']}/cancel-following", headers=shop.client)
    assert cancelled.status_code == 200, cancelled.text
    assert [(i["id"], i["status"]) for i in cancelled.json()["items"]] == [
        (items[2]["id"], "cancelled"),
        (items[3]["id"], "cancelled"),
    ]
    assert (await client.get(f"/appointments/{items[1]['id']}", headers=shop.client)).json()["status"] == "scheduled"


async def test_a_keyed_series_replays_and_bad_series_are_422(client, shop):
    body = series(shop, date(2030, 5, 6), "11:00", every=2, count=3)
    first = await client.post("/appointments/series", json=body, headers={**shop.client, "Idempotency-Key": "s-1"})
    assert first.status_code == 201
    again = await client.post("/appointments/series", json=body, headers={**shop.client, "Idempotency-Key": "s-1"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    for bad in (
        {"count": 0},
        {"count": 101},
        {"every_weeks": 0},
        {"every_weeks": 53},
        {"count": 2**40},
        {"booking_date": "9999-12-31"},
        {"booking_time": "24:00"},
        {"booking_date": "0001-01-01"},
    ):
        r = await client.post("/appointments/series", json={**body, **bad}, headers=shop.client)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert_problem(await client.post("/appointments/abc/cancel-following", headers=shop.client), 404, "BK011")
