"""Shops over HTTP, the Python API and the command line (issue 14, contract sections 6
and 7): a booking names its shop or gets the default one; an admin token of one shop acts
in that shop only; the listings and availability answer per shop; `python -m app shop
create` and `token create --shop-id` are how an operator makes them."""

from __future__ import annotations

import asyncio

import pytest

from app import booking
from app.errors import BarberNotFoundError, NotPermittedError, ServiceNotFoundError
from tests.py.support import app_cli, workday


@pytest.fixture
async def second_shop(clean_db, database_url):
    """Shop 2 (Paris) made the operator's way, with two barbers and its own 45-minute
    'Haircut', and an admin token for it alone (user 401)."""
    out = await asyncio.to_thread(
        app_cli, database_url, "shop", "create", "--name", "Rive Gauche", "--timezone", "Europe/Paris"
    )
    assert out.returncode == 0, out.stderr
    shop_id = int(out.stdout.strip().splitlines()[-1])
    barbers = [
        await clean_db.fetchval("SELECT (booking.create_barber($1, $2)).id", shop_id, name)
        for name in ("Chloé", "Dani")
    ]
    await clean_db.execute("SELECT booking.create_service($1, 'Haircut', 45, 3000)", shop_id)
    out = await asyncio.to_thread(
        app_cli, database_url, "token", "create", "--user-id", "401", "--role", "admin", "--shop-id", str(shop_id)
    )
    assert out.returncode == 0, out.stderr
    return {"id": shop_id, "barbers": barbers, "admin": {"Authorization": f"Bearer {out.stdout.splitlines()[-1]}"}}


def booking_body(day, **extra):
    return {"service": "Haircut", "booking_date": day.isoformat(), "booking_time": "10:00", **extra}


async def test_any_barber_of_a_shop_and_the_default_shop(client, shop, second_shop):
    day = workday()
    r = await client.post("/appointments", json=booking_body(day, shop_id=second_shop["id"]), headers=shop.client)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["shop_id"] == second_shop["id"] and made["barber_id"] in second_shop["barbers"]
    assert made["timezone"] == "Europe/Paris" and made["duration_minutes"] == 45  # shop 2's Haircut
    # Naming no shop books the default shop, as before.
    r = await client.post("/appointments", json=booking_body(day, barber_id=shop.barber), headers=shop.client)
    assert r.status_code == 201 and r.json()["shop_id"] == 1 and r.json()["duration_minutes"] == 30
    # A barber named with another shop is not found.
    r = await client.post(
        "/appointments",
        json=booking_body(day, barber_id=shop.barber, booking_time="12:00", shop_id=second_shop["id"]),
        headers=shop.client,
    )
    assert r.status_code == 404 and r.json()["code"] == "BK003", r.text


async def test_listings_and_availability_per_shop(client, shop, second_shop):
    r = await client.get(f"/barbers?shop_id={second_shop['id']}", headers=shop.client)
    assert [b["id"] for b in r.json()["barbers"]] == second_shop["barbers"]
    r = await client.get("/barbers", headers=shop.client)
    assert {b["id"] for b in r.json()["barbers"]} == {shop.barber, shop.other_barber}
    r = await client.get(f"/services?shop_id={second_shop['id']}", headers=shop.client)
    assert r.json()["services"] == [{"name": "Haircut", "duration_minutes": 45, "price_cents": 3000, "shop_id": 2}]
    day = workday().isoformat()
    r = await client.get(f"/availability?date={day}&service=Haircut&shop_id={second_shop['id']}", headers=shop.client)
    assert r.status_code == 200 and r.json()["slots"], r.text
    slot = r.json()["slots"][0]
    assert slot["end"] > slot["start"]
    for bad in ("0", "-1", "x", "9" * 30):
        r = await client.get(f"/barbers?shop_id={bad}", headers=shop.client)
        assert r.status_code in (400, 422), (bad, r.status_code)


async def test_an_admin_of_one_shop_is_nobody_in_another(client, shop, second_shop):
    day = workday()
    theirs = (
        await client.post("/appointments", json=booking_body(day, barber_id=shop.barber), headers=shop.client)
    ).json()
    ours = (
        await client.post("/appointments", json=booking_body(day, shop_id=second_shop["id"]), headers=shop.client)
    ).json()
    admin2 = second_shop["admin"]
    assert (await client.get(f"/appointments/{ours['id']}", headers=admin2)).status_code == 200
    r = await client.patch(f"/appointments/{ours['id']}", json={"status": "confirmed"}, headers=admin2)
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    # Shop 1's appointment: invisible, so neither readable nor changeable.
    assert (await client.get(f"/appointments/{theirs['id']}", headers=admin2)).status_code == 404
    r = await client.patch(f"/appointments/{theirs['id']}", json={"status": "confirmed"}, headers=admin2)
    assert r.status_code == 404
    assert (await client.post(f"/appointments/{theirs['id']}/cancel", headers=admin2)).status_code == 404
    # An admin of every shop (the shop fixture's) sees both.
    assert (await client.get(f"/appointments/{ours['id']}", headers=shop.admin)).status_code == 200


async def test_the_python_api_books_in_a_shop(pool, shop, second_shop):
    day = workday()
    made = await booking.create_booking(
        pool,
        user_id=101,
        booking_date=day,
        booking_time="11:00",
        service="Haircut",
        barber_id=None,
        shop_id=second_shop["id"],
    )
    assert made.shop_id == second_shop["id"] and made.barber_id in second_shop["barbers"]
    with pytest.raises(ServiceNotFoundError):
        await booking.create_booking(
            pool,
            user_id=101,
            booking_date=day,
            booking_time="11:00",
            service="Beard Trim",
            barber_id=None,
            shop_id=second_shop["id"],
        )
    with pytest.raises(BarberNotFoundError):
        await booking.create_booking(
            pool,
            user_id=101,
            booking_date=day,
            booking_time="11:00",
            service="Haircut",
            barber_id=shop.barber,
            shop_id=second_shop["id"],
        )


async def test_shop_operations_check_the_acting_admin(clean_db, shop, second_shop):
    with pytest.raises(Exception) as info:
        await clean_db.fetchval("SELECT (booking.create_barber(1, 'Intruder', NULL, 401)).id")
    assert getattr(info.value, "sqlstate", None) == "BK012"
    assert await clean_db.fetchval("SELECT (booking.create_barber($1, 'Hired', NULL, 401)).id", second_shop["id"])
    # The HTTP service's role must name an actor.
    async with clean_db.acquire() as conn:
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE booking_app")
            with pytest.raises(Exception) as info:
                await conn.fetchval("SELECT (booking.create_barber($1, 'Anonymous')).id", second_shop["id"])
    assert getattr(info.value, "sqlstate", None) == "BK012"
    assert NotPermittedError.sqlstate == "BK012"


async def test_the_cli_refuses_bad_shops_clearly(database_url, clean_db):
    out = await asyncio.to_thread(
        app_cli, database_url, "shop", "create", "--name", "Mars", "--timezone", "Mars/Olympus"
    )
    assert out.returncode != 0
    assert "BK008" in out.stderr and "Mars/Olympus" in out.stderr and "Traceback" not in out.stderr
    out = await asyncio.to_thread(
        app_cli, database_url, "token", "create", "--user-id", "5", "--role", "admin", "--shop-id", "999999"
    )
    assert out.returncode != 0 and "BK014" in out.stderr and "Traceback" not in out.stderr
