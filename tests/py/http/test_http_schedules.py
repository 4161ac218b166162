"""GET /appointments (issue 15 part 2, contract sections 3 and 7): every token sees exactly
the appointments GET /appointments/{id} shows it, whatever other roles its user holds; the
filters; keyset pages that walk the list once while other connections insert; every bad
parameter is a 422 problem; the boundaries of time, limit and cursor."""

from __future__ import annotations

import asyncio
import base64
import random
from datetime import UTC, datetime, timedelta

import pytest

from app.tokens import hash_token, new_token
from app.web import cursor as cursors

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)  # a Monday


async def insert(db, barber: int, user: int, start: datetime, status: str = "scheduled") -> int:
    """A row as a direct writer makes it (the schedule reads rows, however they were made)."""
    return await db.fetchval(
        "INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes, status)"
        " VALUES ($1, $2, 'Haircut', $3, 30, $4) RETURNING id",
        barber,
        user,
        start,
        status,
    )


async def admin_token(db, user_id: int, shop_id: int | None) -> dict:
    token = new_token()
    await db.execute(
        "SELECT booking.create_api_token($1, $2, 'admin', NULL, NULL, $3)", hash_token(token), user_id, shop_id
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def world(clean_db, shop, make_token):
    """Shop 1 (barbers Ana and Ben, from `shop`) and shop 2 (barber Cleo, admin 401), and
    appointments: clients 101 and 102 in both shops, the barber 201 and the shop-2 admin
    401 booked as clients elsewhere, one cancelled, one completed."""
    s2 = await clean_db.fetchval("SELECT (booking.create_shop('Second', 'UTC')).id")
    cleo = await clean_db.fetchval("SELECT (booking.create_barber($1, 'Cleo')).id", s2)
    await clean_db.execute("SELECT booking.create_service($1, 'Haircut', 30)", s2)
    rows = [
        (shop.barber, 101, 0),
        (shop.barber, 102, 1),
        (shop.other_barber, 101, 1),
        (shop.other_barber, 201, 2),
        (shop.barber, 401, 3),
        (cleo, 101, 0),
        (cleo, 102, 2),
        (shop.barber, 102, 7),
        (cleo, 101, 8),
    ]
    ids = [await insert(clean_db, b, u, T0 + timedelta(hours=h)) for b, u, h in rows]
    ids.append(await insert(clean_db, shop.barber, 101, T0 + timedelta(days=1), "cancelled"))
    ids.append(await insert(clean_db, shop.other_barber, 102, T0 + timedelta(days=1), "completed"))
    return {
        "shop": shop,
        "s2": s2,
        "cleo": cleo,
        "ids": ids,
        "shop2_admin": await admin_token(clean_db, 401, s2),
        "admin_as_client": await make_token(301, "client"),
        "barber_as_client": await make_token(201, "client"),
    }


async def walk(client, headers, limit: int = 2, **params) -> list[dict]:
    """Every item, page after page; checks the order and that next_cursor is null only at
    the end."""
    items, cursor = [], None
    for _ in range(1000):
        query = {**params, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        r = await client.get("/appointments", params=query, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == limit
    keys = [(i["start_time"], i["id"]) for i in items]
    assert keys == sorted(keys, key=lambda k: (datetime.fromisoformat(k[0]), k[1]))
    return items


async def test_every_token_sees_exactly_what_get_by_id_shows_it(client, clean_db, world):
    shop = world["shop"]
    tokens = {
        "client 101": shop.client,
        "client 102": shop.client2,
        "barber of Ana": shop.barber_staff,
        "barber of Ben": shop.other_staff,
        "admin of every shop": shop.admin,
        "admin of shop 2": world["shop2_admin"],
        "the admin's client token": world["admin_as_client"],
        "the barber's client token": world["barber_as_client"],
    }
    all_ids = world["ids"]
    for name, headers in tokens.items():
        listed = [i["id"] for i in await walk(client, headers)]
        assert len(listed) == len(set(listed)), name
        visible = set()
        for appointment_id in all_ids:
            r = await client.get(f"/appointments/{appointment_id}", headers=headers)
            assert r.status_code in (200, 404), r.text
            if r.status_code == 200:
                visible.add(appointment_id)
        assert set(listed) == visible, name
    rows = await clean_db.fetch("SELECT id, barber_id, user_id, shop_id FROM booking.appointments")
    by = {
        "client 101": {r["id"] for r in rows if r["user_id"] == 101},
        "barber of Ana": {r["id"] for r in rows if r["barber_id"] == shop.barber or r["user_id"] == 201},
        "admin of every shop": {r["id"] for r in rows},
        "admin of shop 2": {r["id"] for r in rows if r["shop_id"] == world["s2"] or r["user_id"] == 401},
        "the admin's client token": set(),
        "the barber's client token": {r["id"] for r in rows if r["user_id"] == 201},
    }
    for name, expected in by.items():
        assert {i["id"] for i in await walk(client, tokens[name], limit=50)} == expected, name
    # Items are appointments as GET /appointments/{id} answers them.
    item = (await walk(client, shop.client, limit=1))[0]
    assert item == (await client.get(f"/appointments/{item['id']}", headers=shop.client)).json()


async def test_filters_by_barber_window_and_status(client, clean_db, world):
    shop = world["shop"]
    rows = await clean_db.fetch("SELECT id, barber_id, user_id, start_time, status FROM booking.appointments")
    ids = lambda items: {i["id"] for i in items}  # noqa: E731
    assert ids(await walk(client, shop.admin, barber_id=str(shop.barber))) == {
        r["id"] for r in rows if r["barber_id"] == shop.barber
    }
    # A client filtering by a barber sees only its own appointments with that barber.
    assert ids(await walk(client, shop.client, barber_id=str(shop.barber))) == {
        r["id"] for r in rows if r["barber_id"] == shop.barber and r["user_id"] == 101
    }
    # A barber's week: [from, to) on start_time, offsets of any zone.
    week = await walk(
        client,
        shop.barber_staff,
        barber_id=str(shop.barber),
        **{"from": "2031-03-03T01:00:00+01:00", "to": "2031-03-03T10:00:00Z"},
    )
    assert ids(week) == {
        r["id"]
        for r in rows
        if r["barber_id"] == shop.barber and T0 - timedelta(hours=9) <= r["start_time"] < T0 + timedelta(hours=1)
    }
    assert ids(await walk(client, shop.admin, status="cancelled")) == {
        r["id"] for r in rows if r["status"] == "cancelled"
    }
    assert ids(await walk(client, shop.client2, status="completed")) == {
        r["id"] for r in rows if r["status"] == "completed" and r["user_id"] == 102
    }
    # Another barber's filter for a barber token: nothing of theirs but the token user's own.
    assert ids(await walk(client, shop.barber_staff, barber_id=str(shop.other_barber))) == {
        r["id"] for r in rows if r["barber_id"] == shop.other_barber and r["user_id"] == 201
    }


async def test_pages_walk_every_item_once_while_others_insert(client, clean_db, pool, shop):
    """Items that existed when the walk began come exactly once, in order, however many
    rows other connections insert before and after the cursor meanwhile."""
    barbers = [shop.barber, shop.other_barber]
    existing = {
        await insert(clean_db, barbers[n % 2], 101 + n % 3, T0 + timedelta(minutes=30 * (n // 2))) for n in range(120)
    }
    stop = asyncio.Event()
    inserted: list[int] = []

    async def writer(seed: int) -> None:
        rnd = random.Random(seed)
        async with pool.acquire() as conn:
            while not stop.is_set():
                # start times between and around the existing rows, some equal to theirs
                # (a cancelled row at the same instant: the id breaks the tie)
                start = T0 + timedelta(minutes=rnd.choice([15, 30]) * rnd.randrange(-10, 130))
                inserted.append(await insert(conn, rnd.choice(barbers), 101, start, "cancelled"))
                await asyncio.sleep(0)

    writers = [asyncio.create_task(writer(s)) for s in range(3)]
    try:
        items = await walk(client, shop.admin, limit=7)
    finally:
        stop.set()
        await asyncio.gather(*writers)
    listed = [i["id"] for i in items]
    assert len(listed) == len(set(listed)), "an item came twice"
    assert existing <= set(listed), f"skipped: {sorted(existing - set(listed))[:5]}"
    assert inserted, "the writers inserted nothing while the walk ran"


async def problem(client, headers, **params):
    r = await client.get("/appointments", params=params, headers=headers)
    assert r.status_code == 422, (params, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 422 and body["code"], body
    return body


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"barber_id": "abc"}, "validation_error"),
        ({"barber_id": "0"}, "validation_error"),
        ({"barber_id": "-1"}, "validation_error"),
        ({"barber_id": str(2**63)}, "validation_error"),
        ({"from": "yesterday"}, "validation_error"),
        ({"from": "2031-03-03"}, "validation_error"),
        ({"from": "2031-03-03T10:00:00"}, "validation_error"),  # no offset
        ({"from": "2031-03-03T10:00Z"}, "validation_error"),  # no seconds
        ({"from": "infinity"}, "validation_error"),
        ({"to": "-infinity"}, "validation_error"),
        ({"to": "2031-02-30T10:00:00Z"}, "validation_error"),
        ({"to": "0000-12-31T23:00:00Z"}, "validation_error"),
        ({"from": "0001-01-01T00:00:00+01:00"}, "validation_error"),  # year 0 in UTC
        ({"to": "9999-12-31T23:59:59-01:00"}, "validation_error"),  # year 10000 in UTC
        ({"to": "2031-03-03T10:00:00.1234567Z"}, "validation_error"),
        ({"from": "x" * 65}, "validation_error"),
        ({"from": "2031-03-04T00:00:00Z", "to": "2031-03-03T00:00:00Z"}, "BK008"),
        ({"status": "done"}, "BK008"),
        ({"status": ""}, "BK008"),
        ({"status": "SCHEDULED"}, "BK008"),
        ({"cursor": "!!!"}, "validation_error"),
        ({"cursor": ""}, "validation_error"),
        ({"cursor": b64("1.2.3")}, "validation_error"),
        ({"cursor": b64("abc.1")}, "validation_error"),
        ({"cursor": b64("1.0")}, "validation_error"),  # id 0
        ({"cursor": b64(f"1.{2**63}")}, "validation_error"),
        ({"cursor": b64(f"{10**18 - 1}.1")}, "validation_error"),  # after the year 9999
        ({"cursor": b64(f"-{10**18 - 1}.1")}, "validation_error"),  # before the year 1
        ({"cursor": "A" * 65}, "validation_error"),
        ({"cursor": "QQ="}, "validation_error"),
        ({"limit": "0"}, "validation_error"),
        ({"limit": "101"}, "validation_error"),
        ({"limit": "2147483648"}, "validation_error"),
        ({"limit": "ten"}, "validation_error"),
    ],
)
async def test_a_bad_parameter_is_a_422_problem(client, shop, params, code):
    body = await problem(client, shop.admin, **params)
    assert body["code"] == code, body


async def test_boundaries(client, clean_db, shop):
    assert (await client.get("/appointments")).status_code == 401
    r = await client.get("/appointments", headers=shop.client)
    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}
    first = await insert(clean_db, shop.barber, 101, datetime(2031, 1, 1, tzinfo=UTC))
    last = await insert(clean_db, shop.barber, 101, datetime(9998, 12, 30, 23, 0, tzinfo=UTC))
    both = [first, last]
    for window in (
        {"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59.999999Z"},
        {"from": "0001-01-01T01:00:00+01:00", "to": "9999-12-31T00:00:00Z"},
        {"from": "2031-01-01T00:00:00z", "to": "9998-12-31T23:59:59+00:00"},
        {},
    ):
        assert [i["id"] for i in await walk(client, shop.client, limit=1, **window)] == both, window
    # The last page has no cursor, also when it is full.
    r = await client.get("/appointments", params={"limit": "2"}, headers=shop.client)
    assert [i["id"] for i in r.json()["items"]] == both and r.json()["next_cursor"] is None
    r = await client.get("/appointments", params={"limit": "1"}, headers=shop.client)
    cursor = r.json()["next_cursor"]
    assert cursor == cursors.encode(datetime(2031, 1, 1, tzinfo=UTC), first)
    # A cursor after everything: an empty last page.
    end = cursors.encode(datetime(9998, 12, 31, tzinfo=UTC), 1)
    r = await client.get("/appointments", params={"cursor": end}, headers=shop.client)
    assert r.json() == {"items": [], "next_cursor": None}
    # The largest page.
    for n in range(120):
        await insert(clean_db, shop.other_barber, 101, datetime(2032, 1, 1, tzinfo=UTC) + timedelta(hours=n))
    r = await client.get("/appointments", params={"limit": "100"}, headers=shop.client)
    assert len(r.json()["items"]) == 100 and r.json()["next_cursor"]
    assert len(await walk(client, shop.client, limit=100)) == 122


def test_the_cursor_round_trips_any_instant_of_the_years_1_to_9999():
    for instant in (
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2031, 3, 3, 9, 0, 0, 1, tzinfo=UTC),
        datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC),
    ):
        assert cursors.decode(cursors.encode(instant, 2**63 - 1)) == (instant, 2**63 - 1)
