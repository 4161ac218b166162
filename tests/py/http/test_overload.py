"""A burst beyond capacity gets 503 + Retry-After at once, not a pile-up (issue 5, item 5)."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from app.config import Settings
from app.web import create_app
from harness.service import running


def shed_count(metrics_text: str) -> float:
    line = next(x for x in metrics_text.splitlines() if x.startswith("http_requests_shed_total "))
    return float(line.split()[1])


async def test_requests_beyond_max_in_flight_are_shed_with_retry_after(database_url, shop, day):
    app = create_app(
        Settings.from_env(
            database_url=database_url, purge_interval=0, max_in_flight=2, queue_timeout=0.2, rate_limit_per_minute=0
        )
    )
    holder = await asyncpg.connect(database_url)
    try:
        # Hold barber Ana's lock for the day, so two bookings of that day wait inside.
        tr = holder.transaction()
        await tr.start()
        start = await holder.fetchval("SELECT booking.local_start($1, $2, '09:00')", shop.barber, day)
        await holder.execute("SELECT id FROM booking.book_appointment($1, 900, 'Haircut', $2)", shop.barber, start)
        async with running(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
                shed_before = shed_count((await client.get("/metrics")).text)

                def book(hhmm):
                    return client.post(
                        "/appointments",
                        headers=shop.client,
                        json={
                            "barber_id": shop.barber,
                            "service": "Haircut",
                            "booking_date": day.isoformat(),
                            "booking_time": hhmm,
                        },
                    )

                waiting = [asyncio.create_task(book("10:00")), asyncio.create_task(book("11:00"))]
                await asyncio.sleep(0.5)  # both are inside, waiting for the lock
                assert not any(t.done() for t in waiting)
                shed = await client.get(
                    f"/barbers/{shop.barber}/availability",
                    params={"date": day.isoformat(), "service": "Haircut"},
                    headers=shop.client,
                )
                assert shed.status_code == 503
                assert shed.headers["retry-after"] == "1"
                assert shed.headers["content-type"].startswith("application/problem+json")
                assert shed.json()["code"] == "overloaded"
                health = await client.get("/health")  # never shed
                assert health.status_code == 200
                await tr.commit()  # the lock is free: both complete
                results = await asyncio.gather(*waiting)
                assert [r.status_code for r in results] == [201, 201]
                assert shed_count((await client.get("/metrics")).text) == shed_before + 1
    finally:
        await holder.close()
