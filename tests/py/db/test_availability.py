"""free_slots() agrees exactly with book_appointment(), and "any barber" bookings under fire.

For every start on the day's 15-minute grid (local time, the barber's zone), a booking is
attempted inside a savepoint that is rolled back: an offered start must be accepted and any
other start must be refused. The days include shifts, time off, buffers on both sides,
the past, and daylight-saving changes in a non-UTC zone.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import pytest

from tests.py.support import future_day


async def grid_agreement(conn, barber: int, day: date, service: str, before: int = 0, after: int = 0) -> int:
    offered = {
        r["start_time"]
        for r in await conn.fetch(
            "SELECT start_time FROM booking.free_slots($1, $2, $3, $4, $5)", barber, day, service, before, after
        )
    }
    checked = 0
    for minute in range(0, 24 * 60, 15):
        local = time(minute // 60, minute % 60)
        try:
            start = await conn.fetchval("SELECT booking.local_start($1, $2, $3)", barber, day, local)
        except asyncpg.PostgresError as e:
            assert e.sqlstate == "BK007", e  # skipped by a DST change: never offered
            continue
        tr = conn.transaction()
        await tr.start()
        try:
            await conn.fetchrow(
                "SELECT id FROM booking.book_appointment($1, 7, $2, $3, $4, $5)", barber, service, start, before, after
            )
            accepted, reason = True, None
        except asyncpg.PostgresError as e:
            accepted, reason = False, e.sqlstate
        finally:
            await tr.rollback()
        assert accepted == (start in offered), (local, start, reason, sorted(offered))
        checked += 1
    return len(offered)


async def test_free_slots_agree_with_booking_on_a_busy_day(clean_db, make_barber, make_service):
    day = future_day(20)
    wd = day.isoweekday()
    barber = await make_barber("Paris", "Europe/Paris", hours=[(wd, time(9), time(12)), (wd, time(13, 30), time(18))])
    await make_service("Haircut", 30)
    async with clean_db.acquire() as conn:
        # existing bookings with buffers, a cancelled one (frees its slot) and a break
        for hh, mm, before, after in [(9, 30, 15, 15), (14, 0, 0, 10), (16, 45, 5, 0)]:
            start = await conn.fetchval("SELECT booking.local_start($1, $2, $3)", barber, day, time(hh, mm))
            await conn.execute(
                "SELECT id FROM booking.book_appointment($1, 1, 'Haircut', $2, $3, $4)", barber, start, before, after
            )
        start = await conn.fetchval("SELECT booking.local_start($1, $2, '11:00')", barber, day)
        cancelled = await conn.fetchval("SELECT id FROM booking.book_appointment($1, 2, 'Haircut', $2)", barber, start)
        await conn.execute("SELECT id FROM booking.cancel_appointment($1, 2)", cancelled)
        lo = await conn.fetchval("SELECT booking.local_start($1, $2, '15:00')", barber, day)
        await conn.execute(
            "INSERT INTO booking.time_off (barber_id, during, reason) VALUES ($1, tstzrange($2, $3), 'break')",
            barber,
            lo,
            lo + timedelta(minutes=40),
        )
        offered = await grid_agreement(conn, barber, day, "Haircut")
        assert 5 < offered < 30  # the day is neither empty nor fully free
        offered_with_buffers = await grid_agreement(conn, barber, day, "Haircut", before=10, after=20)
        assert offered_with_buffers < offered


async def test_free_slots_agree_on_daylight_saving_days(clean_db, make_barber, make_service):
    """New York: the spring-forward day skips 02:00-03:00, the fall-back day repeats 01:00-02:00."""
    barber = await make_barber("Night owl", "America/New_York")  # no working hours: bookable any time
    await make_service("Haircut", 30)
    year = datetime.now(UTC).year + 1
    spring = next(date(year, 3, d) for d in range(8, 15) if date(year, 3, d).isoweekday() == 7)
    autumn = next(date(year, 11, d) for d in range(1, 8) if date(year, 11, d).isoweekday() == 7)
    async with clean_db.acquire() as conn:
        assert await grid_agreement(conn, barber, spring, "Haircut") == 92  # 96 grid times, 4 skipped
        assert await grid_agreement(conn, barber, autumn, "Haircut") == 96


async def test_past_starts_are_not_offered(clean_db, make_barber, make_service):
    barber = await make_barber("Today")
    await make_service("Haircut", 30)
    today = datetime.now(UTC).date()
    async with clean_db.acquire() as conn:
        offered = await grid_agreement(conn, barber, today, "Haircut")
        now = datetime.now(UTC)
        assert offered <= (24 * 60 - (now.hour * 60 + now.minute)) // 15 + 1


@pytest.mark.parametrize("shop", ["default", "second"])
async def test_many_concurrent_any_barber_bookings_fill_each_barber_once(
    database_url, clean_db, make_barber, make_service, shop
):
    """20 concurrent "any barber" bookings of one time take each free barber exactly once.
    In a second shop (issue 14) they take only that shop's barbers, however many of the
    default shop's barbers are free then, with a service of the same name."""
    await make_service("Haircut", 30)
    if shop == "default":
        shop_id = None
        barbers = [await make_barber(f"B{i}", "Europe/Paris") for i in range(4)]
    else:
        others = [await make_barber(f"Default {i}", "Europe/Paris") for i in range(3)]
        shop_id = await clean_db.fetchval("SELECT (booking.create_shop('Second', 'Europe/Paris')).id")
        barbers = [
            await clean_db.fetchval("SELECT (booking.create_barber($1, $2)).id", shop_id, f"S{i}") for i in range(4)
        ]
        await clean_db.execute("SELECT booking.create_service($1, 'Haircut', 30)", shop_id)
        assert not set(others) & set(barbers)
    day = future_day(25)
    start = await clean_db.fetchval("SELECT booking.local_start(NULL, $1, '10:00', $2)", day, shop_id)
    conns = [await asyncpg.connect(database_url) for _ in range(20)]
    try:

        async def attempt(i: int, conn):
            try:
                row = await conn.fetchrow(
                    "SELECT id, barber_id FROM booking.book_appointment(NULL, $1, 'Haircut', $2, p_shop_id => $3)",
                    100 + i,
                    start,
                    shop_id,
                )
                return row["barber_id"]
            except asyncpg.PostgresError as e:
                return e.sqlstate

        results = await asyncio.gather(*(attempt(i, c) for i, c in enumerate(conns)))
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    booked = [r for r in results if isinstance(r, int)]
    assert sorted(booked) == sorted(barbers)  # exactly N successes, one per barber
    assert [r for r in results if not isinstance(r, int)] == ["23P01"] * (20 - len(barbers))
    overlaps = await clean_db.fetchval(
        """SELECT count(*) FROM booking.appointments a JOIN booking.appointments b
           ON a.barber_id = b.barber_id AND a.id < b.id
           WHERE a.start_time < b.start_time + b.duration_minutes * interval '1 minute'
             AND b.start_time < a.start_time + a.duration_minutes * interval '1 minute'"""
    )
    assert overlaps == 0


async def test_any_barber_spreads_bookings_fairly(clean_db, make_barber, make_service):
    first, second = await make_barber("First"), await make_barber("Second")
    await make_service("Haircut", 30)
    day = future_day(26)
    async with clean_db.acquire() as conn:
        chosen = []
        for hh in (9, 10, 11, 12):
            start = await conn.fetchval("SELECT booking.local_start(NULL, $1, $2)", day, time(hh))
            chosen.append(
                await conn.fetchval("SELECT barber_id FROM booking.book_appointment(NULL, 1, 'Haircut', $1)", start)
            )
    assert chosen == [first, second, first, second]
