"""GET and PUT /shops/{shop_id}/policy (contract section 7), and what the policy does over
HTTP: a client's booking inside the minimum notice or past the maximum advance is 422
BK023, availability leaves those starts out, a client past the cancel cut-off is refused
while an admin may cancel (and is on record); only the shop's admin may change it. A policy
change racing bookings: each booking obeys the policy its statement saw."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.py.http.test_http_appointments import assert_problem


@pytest.fixture(autouse=True)
async def open_policy_afterwards(clean_db):
    """The default shop's policy back to open after each test (the next test may not clean)."""
    yield
    await clean_db.execute(
        "UPDATE booking.shops SET min_notice_minutes = 0, max_advance_days = NULL, cancel_cutoff_minutes = 0,"
        " reschedule_cutoff_minutes = 0 WHERE id = 1"
    )


POLICY = {
    "min_notice_minutes": 120,
    "max_advance_days": 30,
    "cancel_cutoff_minutes": 1440,
    "reschedule_cutoff_minutes": 720,
}


def at_utc(delta: timedelta) -> tuple[str, str]:
    """(booking_date, booking_time) in UTC, delta from now, on a 15-minute grid."""
    t = datetime.now(UTC) + delta
    t = t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0) + timedelta(minutes=15)
    return t.date().isoformat(), t.strftime("%H:%M")


async def test_the_admin_sets_the_policy_and_clients_obey_it(client, shop):
    assert (await client.get("/shops/1/policy", headers=shop.client)).json() == {
        "min_notice_minutes": 0,
        "max_advance_days": None,
        "cancel_cutoff_minutes": 0,
        "reschedule_cutoff_minutes": 0,
        "shop_id": 1,
    }
    assert_problem(await client.put("/shops/1/policy", json=POLICY, headers=shop.client), 403, "BK012")
    assert_problem(await client.put("/shops/1/policy", json=POLICY, headers=shop.barber_staff), 403, "BK012")
    r = await client.put("/shops/1/policy", json=POLICY, headers=shop.admin)
    assert r.status_code == 200 and r.json() == {**POLICY, "shop_id": 1}
    bad = await client.put("/shops/1/policy", json={**POLICY, "min_notice_minutes": -1}, headers=shop.admin)
    assert_problem(bad, 422, "BK008")
    assert_problem(await client.get("/shops/abc/policy", headers=shop.admin), 404, "BK014")

    soon_date, soon_time = at_utc(timedelta(minutes=30))
    body = {"barber_id": shop.other_barber, "service": "Haircut", "booking_date": soon_date, "booking_time": soon_time}
    p = assert_problem(await client.post("/appointments", json=body, headers=shop.client), 422, "BK023")
    assert "at least 120 minutes in advance" in p["detail"]
    far_date, far_time = at_utc(timedelta(days=40))
    p = assert_problem(
        await client.post(
            "/appointments", json={**body, "booking_date": far_date, "booking_time": far_time}, headers=shop.client
        ),
        422,
        "BK023",
    )
    slots = await client.get(
        f"/barbers/{shop.other_barber}/availability",
        params={"date": far_date, "service": "Haircut"},
        headers=shop.client,
    )
    assert slots.json()["slots"] == []

    # Booked three hours ahead: the client may no longer cancel (24 h cut-off); an admin may.
    ok_date, ok_time = at_utc(timedelta(hours=3))
    made = await client.post(
        "/appointments", json={**body, "booking_date": ok_date, "booking_time": ok_time}, headers=shop.client
    )
    assert made.status_code == 201, made.text
    appt = made.json()
    assert_problem(await client.post(f"/appointments/{appt['id']}/cancel", headers=shop.client), 422, "BK023")
    cancelled = await client.post(f"/appointments/{appt['id']}/cancel", headers=shop.admin)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["changed_by"] == 301


async def test_a_policy_change_racing_bookings(client, shop, clean_db):
    """Twenty bookings 60 minutes ahead race a change to a 120-minute notice: every booking
    that succeeded was made under the old policy (committed before the change), none after."""
    date, time_ = at_utc(timedelta(minutes=60))
    await client.put("/shops/1/policy", json={**POLICY, "min_notice_minutes": 0}, headers=shop.admin)

    async def book(i: int):
        return await client.post(
            "/appointments",
            json={
                "barber_id": shop.other_barber,
                "service": "Beard Trim",
                "booking_date": date,
                "booking_time": time_,
                "buffer_time_before": 0,
                "notes": str(i),
            },
            headers=shop.client if i % 2 else shop.client2,
        )

    results = await asyncio.gather(
        *(book(i) for i in range(10)),
        client.put("/shops/1/policy", json=POLICY, headers=shop.admin),
        *(book(i) for i in range(10, 20)),
    )
    codes = sorted(r.status_code for r in results)
    assert set(codes) <= {200, 201, 409, 422}, codes
    assert codes.count(201) <= 1  # one slot
    after = await book(99)
    assert_problem(after, 422, "BK023")


async def test_policy_bodies_at_their_edges_are_422_problems(client, shop):
    for field in POLICY:
        for value in (-1, 525601, 2**31, 2**63, -(2**63) - 1, 1e308, "", None, [], {}):
            if field == "max_advance_days" and value is None:
                continue  # null: no maximum
            r = await client.put("/shops/1/policy", json={**POLICY, field: value}, headers=shop.admin)
            assert r.status_code == 422, (field, value, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
    for missing in POLICY:
        r = await client.put(
            "/shops/1/policy", json={k: v for k, v in POLICY.items() if k != missing}, headers=shop.admin
        )
        assert r.status_code == 422, (missing, r.text)
    r = await client.put("/shops/1/policy", json={**POLICY, "max_advance_days": 3651}, headers=shop.admin)
    assert_problem(r, 422, "BK008")
    assert (await client.put("/shops/99999999/policy", json=POLICY, headers=shop.admin)).status_code == 404
