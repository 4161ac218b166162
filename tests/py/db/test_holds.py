"""Holds racing everything else (issue 15, part 4), through many real connections, on one
database and through a 2-partition cluster's proxy (the `engine` fixture): a hold and a
booking racing for one slot make exactly one winner; two confirms of one hold make one
appointment; a booking over an expired hold wins with no sweeper; a stranger cannot confirm.
The single-connection rules are pgTAP's (tests/sql/18_holds.sql)."""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg

from tests.py.db.test_sql_concurrency import BOOK, connections, outcome
from tests.py.support import at, future_day

HOLD = "SELECT * FROM booking.hold_slot($1, $2, $3, $4)"
CONFIRM = "SELECT * FROM booking.confirm_hold($1, $2)"


async def test_holds_and_bookings_racing_for_one_slot_make_exactly_one_winner(engine):
    barber = await engine.make_barber("Ana")
    service = await engine.make_service("Haircut", 30)
    start = at(future_day(), 10)
    n = 20
    async with connections(engine.url, n) as conns:
        results = await asyncio.gather(
            *(
                outcome(
                    c.fetchrow(
                        HOLD if i % 2 else BOOK, barber, 100 + i, service, start, *(() if i % 2 else (0, 0, None, None))
                    )
                )
                for i, c in enumerate(conns)
            )
        )
    codes = Counter(code for code, _ in results)
    assert codes == {"ok": 1, "23P01": n - 1}, codes
    rows = await engine.rows.fetch("SELECT status FROM booking.appointments")
    assert len(rows) == 1 and rows[0]["status"] in ("held", "scheduled")


async def test_two_confirms_of_one_hold_make_one_appointment(engine):
    barber = await engine.make_barber()
    service = await engine.make_service()
    async with connections(engine.url, 8) as conns:
        hold = await conns[0].fetchrow(HOLD, barber, 7, service, at(future_day(), 11))
        results = await asyncio.gather(*(outcome(c.fetchrow(CONFIRM, hold["id"], 7)) for c in conns))
    assert Counter(code for code, _ in results) == {"ok": 8}, results
    rows = [r for _, r in results]
    assert {(r["id"], r["status"], r["version"]) for r in rows} == {(hold["id"], "scheduled", 2)}
    assert sum(1 for r in rows if not r["replayed"]) == 1
    assert await engine.rows.fetchval("SELECT count(*) FROM booking.appointments") == 1


async def test_a_booking_over_an_expired_hold_wins_without_a_sweeper(engine):
    barber = await engine.make_barber()
    service = await engine.make_service()
    start = at(future_day(), 12)
    async with connections(engine.url, 4) as conns:
        hold = await conns[0].fetchrow(HOLD, barber, 7, service, start)
        # Time passes: the hold's expiry is behind us (nothing marks it expired).
        await engine.rows.execute(
            "UPDATE booking.appointments SET hold_expires_at = now() - interval '1 second' WHERE id = $1", hold["id"]
        )
        late, *bookings = await asyncio.gather(
            outcome(conns[0].fetchrow(CONFIRM, hold["id"], 7)),
            *(
                outcome(c.fetchrow(BOOK, barber, 20 + i, service, start, 0, 0, None, None))
                for i, c in enumerate(conns[1:])
            ),
        )
    assert late[0] == "BK017", late
    assert Counter(code for code, _ in bookings) == {"ok": 1, "23P01": 2}, bookings
    statuses = Counter(
        r["status"]
        for r in await engine.rows.fetch("SELECT status FROM booking.appointments WHERE barber_id = $1", barber)
    )
    assert statuses == {"expired": 1, "scheduled": 1}


async def test_a_stranger_cannot_confirm_and_a_released_hold_stays_released(engine):
    barber = await engine.make_barber()
    service = await engine.make_service()
    conn = await asyncpg.connect(engine.url)
    try:
        hold = await conn.fetchrow(HOLD, barber, 7, service, at(future_day(), 13))
        code, err = await outcome(conn.fetchrow(CONFIRM, hold["id"], 8))
        assert code == "BK011", err
        await conn.fetchrow("SELECT * FROM booking.cancel_appointment($1, 7)", hold["id"])
        code, err = await outcome(conn.fetchrow(CONFIRM, hold["id"], 7))
        assert code == "BK017" and err.detail == f"Hold {hold['id']} was released.", err
        free = await conn.fetchval(
            "SELECT count(*) FROM booking.free_slots($1, $2::date, $3) s WHERE s.start_time = $4",
            barber,
            at(future_day(), 13).date(),
            service,
            at(future_day(), 13),
        )
        assert free == 1
    finally:
        await conn.close()
