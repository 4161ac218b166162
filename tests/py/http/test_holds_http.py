"""POST /holds and POST /holds/{id}/confirm (contract section 7), through the real app and
database: a hold answers 201 with expires_at and blocks the slot (409 for others,
availability shows it taken); confirming answers 201 with the appointment, again with
Idempotent-Replayed; an expired hold answers 410 and its slot books; a stranger gets 404."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.py.http.test_http_appointments import assert_problem, body


async def _expire(clean_db, hold_id: int) -> None:
    """Time passes: the hold's expiry is behind us (nothing marks it expired)."""
    await clean_db.execute(
        "UPDATE booking.appointments SET hold_expires_at = now() - interval '1 second' WHERE id = $1", hold_id
    )


async def test_a_hold_blocks_the_slot_until_it_is_confirmed(client, shop, day):
    r = await client.post("/holds", json=body(shop, day, "10:00"), headers=shop.client)
    assert r.status_code == 201, r.text
    hold = r.json()
    assert hold["status"] == "held" and hold["version"] == 1
    assert r.headers["location"] == f"/appointments/{hold['id']}"
    expires = datetime.fromisoformat(hold["expires_at"])
    created = datetime.fromisoformat(hold["created_at"])
    assert expires - created == timedelta(minutes=5)
    assert hold["hold_expires_at"] == hold["expires_at"]

    other = await client.post("/appointments", json=body(shop, day, "10:15"), headers=shop.client2)
    p = assert_problem(other, 409, "23P01")
    assert p["conflicting_appointment_id"] == hold["id"]
    slots = await client.get(
        f"/barbers/{shop.barber}/availability",
        params={"date": day.isoformat(), "service": "Haircut"},
        headers=shop.client2,
    )
    taken = {s["start"] for s in slots.json()["slots"]}
    assert not any(s.startswith(hold["start_time"][:16]) for s in taken)

    stranger = await client.post(f"/holds/{hold['id']}/confirm", headers=shop.client2)
    assert_problem(stranger, 404, "BK011")
    first = await client.post(f"/holds/{hold['id']}/confirm", headers={**shop.client, "Idempotency-Key": "c-1"})
    assert first.status_code == 201, first.text
    made = first.json()
    assert (made["id"], made["status"], made["version"]) == (hold["id"], "scheduled", 2)
    assert first.headers["etag"] == '"2"' and "idempotent-replayed" not in first.headers
    again = await client.post(f"/holds/{hold['id']}/confirm", headers={**shop.client, "Idempotency-Key": "c-1"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == made


async def test_an_expired_hold_answers_410_and_its_slot_books(client, shop, day, clean_db):
    hold = (await client.post("/holds", json=body(shop, day, "11:00"), headers=shop.client)).json()
    await _expire(clean_db, hold["id"])
    late = await client.post(f"/holds/{hold['id']}/confirm", headers=shop.client)
    p = assert_problem(late, 410, "BK017")
    assert p["detail"].startswith(f"Hold {hold['id']} expired at ")
    booked = await client.post("/appointments", json=body(shop, day, "11:00"), headers=shop.client2)
    assert booked.status_code == 201, booked.text


async def test_a_released_hold_answers_410_and_a_booking_is_not_a_hold(client, shop, day):
    hold = (await client.post("/holds", json=body(shop, day, "12:00"), headers=shop.client)).json()
    released = await client.post(f"/appointments/{hold['id']}/cancel", headers=shop.client)
    assert released.status_code == 200 and released.json()["status"] == "cancelled"
    assert_problem(await client.post(f"/holds/{hold['id']}/confirm", headers=shop.client), 410, "BK017")
    booked = (await client.post("/appointments", json=body(shop, day, "13:00"), headers=shop.client)).json()
    assert_problem(await client.post(f"/holds/{booked['id']}/confirm", headers=shop.client), 409, "BK018")
    assert_problem(await client.post("/holds/abc/confirm", headers=shop.client), 404, "BK011")
    changed = await client.patch(f"/appointments/{hold['id']}", json={"notes": "x"}, headers=shop.client)
    assert changed.status_code in (409, 422), changed.text  # cancelled is final; a live hold is not changed


async def test_a_live_hold_is_not_changed_but_released(client, shop, day):
    hold = (await client.post("/holds", json=body(shop, day, "14:00"), headers=shop.client)).json()
    changed = await client.patch(f"/appointments/{hold['id']}", json={"notes": "later"}, headers=shop.client)
    p = assert_problem(changed, 422, "BK008")
    assert "is a hold" in p["detail"]
    assert_problem(await client.post("/holds", json=body(shop, day, "14:10"), headers=shop.client2), 409, "23P01")
