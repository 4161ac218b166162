"""booking.list_appointments on one database and through a 2-partition cluster's proxy
(the `engine` fixture): a client's list spans shops on both partitions and is merged in
(start_time, id) order, page by page; a list of one barber runs on that barber's partition;
its refusals are the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


async def pages(conn, user: int, size: int, **filters) -> list[int]:
    ids, after_start, after_id = [], None, None
    while True:
        rows = await conn.fetch(
            "SELECT id, start_time FROM booking.list_appointments($1, p_barber_id => $2, p_after_start => $3,"
            " p_after_id => $4, p_limit => $5)",
            user,
            filters.get("barber"),
            after_start,
            after_id,
            size,
        )
        ids += [r["id"] for r in rows]
        if len(rows) < size:
            return ids
        after_start, after_id = rows[-1]["start_time"], rows[-1]["id"]


async def test_a_clients_list_spans_shops_and_partitions_in_order(engine):
    here = await engine.make_barber("Here")
    await engine.make_service("Haircut")
    conn = await asyncpg.connect(engine.url)
    try:
        # A barber of the default shop (partition 0 of the cluster; the same database otherwise).
        there = await conn.fetchval("SELECT (booking.create_barber(1, 'There')).id")
        if engine.name == "cluster":
            await conn.fetchval("SELECT (booking.create_service(1, 'Haircut', 30)).id")
        made = []
        for n in range(7):  # interleaved in time across the two barbers, hence both partitions
            for barber, offset in ((here, 0), (there, 15)):
                start = T0 + timedelta(hours=n, minutes=offset)
                made.append(
                    (
                        start,
                        await conn.fetchval(
                            "SELECT (booking.book_appointment($1, 42, 'Haircut', $2)).id", barber, start
                        ),
                    )
                )
        await conn.fetchval("SELECT (booking.book_appointment($1, 43, 'Haircut', $2)).id", here, T0 + timedelta(days=1))
        expected = [i for _, i in sorted(made)]
        for size in (1, 3, 200):
            assert await pages(conn, 42, size) == expected, size
        assert await pages(conn, 42, 2, barber=here) == [i for s, i in sorted(made) if s.minute == 0]
        assert await pages(conn, 42, 2, barber=there) == [i for s, i in sorted(made) if s.minute == 15]
        with pytest.raises(asyncpg.PostgresError) as e:
            await conn.fetch("SELECT * FROM booking.list_appointments(42, p_limit => 201)")
        assert e.value.sqlstate == "BK008"
        with pytest.raises(asyncpg.PostgresError) as e:
            await conn.fetch("SELECT * FROM booking.list_appointments(42, p_status => 'nope')")
        assert e.value.sqlstate == "BK008"
        # The acting role reaches the partitions: user 42 acting as an admin is still a client.
        rows = await conn.fetch(
            "SELECT id FROM booking.list_appointments(booking.with_settings(42::bigint, NULL, NULL, NULL, 'admin'))"
        )
        assert [r["id"] for r in rows] == expected
    finally:
        await conn.close()
