"""Recurring bookings racing single bookings (issue 15, part 5), through real connections,
on one database and through a 2-partition cluster's proxy (the `engine` fixture): a series
and single bookings on one of its dates: the series is all or nothing, never overlapping;
two series of one barber on the same dates: one wins whole. The single-connection rules
are pgTAP's (tests/sql/21_series.sql)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from tests.py.db.test_sql_concurrency import BOOK, connections, outcome
from tests.py.support import at, future_day

SERIES = "SELECT * FROM booking.book_series($1, $2, $3, $4, $5, 1, 6)"


async def test_a_series_racing_single_bookings_is_all_or_nothing(engine):
    barber = await engine.make_barber("Ana")
    service = await engine.make_service("Haircut", 30)
    first = future_day()
    for round_ in range(4):
        hour = 8 + 2 * round_
        target = at(first + timedelta(weeks=3), hour)  # the fourth occurrence's slot
        async with connections(engine.url, 4) as conns:
            series, *singles = await asyncio.gather(
                outcome(conns[0].fetch(SERIES, barber, 500 + round_, service, first, at(first, hour).time())),
                *(
                    outcome(c.fetchrow(BOOK, barber, 600 + i, service, target, 0, 0, None, None))
                    for i, c in enumerate(conns[1:])
                ),
            )
        made = await engine.rows.fetchval("SELECT count(*) FROM booking.appointments WHERE user_id = $1", 500 + round_)
        single_won = sum(1 for code, _ in singles if code == "ok")
        assert single_won + (1 if series[0] == "ok" else 0) == 1, (series[0], [c for c, _ in singles])
        if series[0] == "ok":
            assert made == 6 and len(series[1]) == 6
        else:
            assert series[0] == "23P01" and made == 0, series
            assert "Occurrence 4 of 6" in series[1].hint
    overlaps = await engine.rows.fetchval(
        """SELECT count(*) FROM booking.appointments a JOIN booking.appointments b
             ON a.barber_id = b.barber_id AND a.id < b.id AND a.blocked_during && b.blocked_during
            WHERE a.status NOT IN ('cancelled', 'no_show', 'expired') AND b.status NOT IN ('cancelled', 'no_show', 'expired')"""
    )
    assert overlaps == 0


async def test_two_series_of_one_barber_on_the_same_dates_one_wins_whole(engine):
    barber = await engine.make_barber()
    service = await engine.make_service()
    first = future_day()
    async with connections(engine.url, 6) as conns:
        results = await asyncio.gather(
            *(
                outcome(c.fetch(SERIES, barber, 700 + i, service, first, at(first, 15).time()))
                for i, c in enumerate(conns)
            )
        )
    assert Counter(code for code, _ in results) == {"ok": 1, "23P01": 5}, [c for c, _ in results]
    assert await engine.rows.fetchval("SELECT count(*) FROM booking.appointments") == 6
    assert await engine.rows.fetchval("SELECT count(DISTINCT series_id) FROM booking.appointments") == 1
