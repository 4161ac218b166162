"""The HTTP API over a 2-partition cluster (`PARTITIONS=N make run`; docs/SCALING.md): the
real app with DATABASE_URL = the proxy's, under uvicorn on loopback. Bookings, conflicts and
reads answer as on one database; the SSE feed of a barber on either partition delivers its
events; /health lists the partitions; a partition that is down makes only its own shops
answer 503 with Retry-After (BK016), counted per partition in /metrics, and its shops
resume when it is back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from app.config import Settings
from app.tokens import hash_token, new_token
from app.web import create_app
from harness.cluster import LocalCluster as Node
from harness.service import serving
from tests.py.http.test_http_events import EventReader

WAIT = 15.0


@pytest.fixture
async def cluster_app(test_cluster):
    await test_cluster.reset()
    app = create_app(Settings.from_env(database_url=test_cluster.proxy_url, purge_interval=0))
    async with serving(app, wait=WAIT) as base:
        # Every partition's LISTEN and relay are up before the test books.
        for _ in range(int(WAIT * 10)):
            if all(app.state.events.partitions_listening.values()) and all(r.leader.is_set() for r in app.state.relays):
                break
            await asyncio.sleep(0.1)
        yield test_cluster, app, base


async def _setup(cluster) -> dict:
    """Two shops (one per partition), a barber and a service in each, a client token."""
    proxy = await asyncpg.connect(cluster.proxy_url)
    try:
        out = {}
        for name in ("On one", "On zero"):
            shop = await proxy.fetchval("SELECT id FROM booking.create_shop($1, 'Europe/Paris')", name)
            partition = await proxy.fetchval(
                "SELECT partition FROM booking_proxy.shop_directory WHERE shop_id = $1", shop
            )
            barber = await proxy.fetchval("SELECT id FROM booking.create_barber($1, 'Ann')", shop)
            await proxy.execute("SELECT booking.create_service($1, 'Haircut', 30)", shop)
            out[partition] = (shop, barber)
        token = new_token()
        await proxy.execute("SELECT booking.create_api_token($1, 501, 'client')", hash_token(token))
        out["client"] = {"Authorization": f"Bearer {token}"}
        return out
    finally:
        await proxy.close()


def booking(barber: int, hhmm: str = "10:00", days: int = 40) -> dict:
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    return {"barber_id": barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": hhmm}


async def test_bookings_reads_and_event_streams_over_the_cluster(cluster_app):
    cluster, app, base = cluster_app
    setup = await _setup(cluster)
    client = setup["client"]
    async with httpx.AsyncClient(base_url=base, timeout=WAIT) as http:
        health = (await http.get("/health")).json()
        assert health["status"] == "ok"
        assert health["partitions"] == [{"partition": 0, "status": "ok"}, {"partition": 1, "status": "ok"}]
        for partition in (0, 1):
            shop, barber = setup[partition]
            reader = EventReader(http, f"/barbers/{barber}/events", client)
            await asyncio.wait_for(reader.connected.wait(), WAIT)
            made = await http.post("/appointments", json=booking(barber), headers=client)
            assert made.status_code == 201, made.text
            body = made.json()
            assert body["shop_id"] == shop and body["booking_time"] == "10:00" and body["timezone"] == "Europe/Paris"
            clash = await http.post("/appointments", json=booking(barber, "10:15"), headers=client)
            assert clash.status_code == 409
            assert clash.json()["conflicting_appointment_id"] == body["id"]
            assert clash.json()["detail"].startswith(f"Appointment {body['id']} blocks ")
            got = await http.get(f"/appointments/{body['id']}", headers=client)
            assert got.status_code == 200 and got.headers["etag"] == '"1"'
            moved = await http.patch(
                f"/appointments/{body['id']}", json={"booking_time": "11:00"}, headers={**client, "If-Match": '"1"'}
            )
            assert moved.status_code == 200, moved.text
            appointment = body["id"]
            event = await reader.wait_for(
                lambda e, a=appointment: e["data"]["appointment_id"] == a and e["data"]["payload"]["version"] == 2
            )
            assert event["event"] == "changed"
            assert event["data"]["payload"]["start_time"] == moved.json()["start_time"]
            assert [e["event"] for e in reader.events if e["data"]["appointment_id"] == body["id"]] == [
                "booked",
                "changed",
            ]
            await reader.close()
            barbers = (await http.get(f"/barbers?shop_id={shop}", headers=client)).json()["barbers"]
            assert [b["id"] for b in barbers] == [barber]
            slots = await http.get(
                f"/barbers/{barber}/availability",
                params={"date": booking(barber)["booking_date"], "service": "Haircut"},
                headers=client,
            )
            assert slots.status_code == 200 and slots.json()["slots"]


async def test_a_partition_down_answers_503_for_its_shops_only_and_they_resume(cluster_app):
    cluster, app, base = cluster_app
    setup = await _setup(cluster)
    client = setup["client"]
    (_, down_barber), (up_shop, up_barber) = setup[1], setup[0]
    node = Node(cluster.dir / "partition-1")
    async with httpx.AsyncClient(base_url=base, timeout=WAIT) as http:
        first = await http.post("/appointments", json=booking(down_barber, "09:00"), headers=client)
        assert first.status_code == 201
        node.crash()
        try:
            refused = await http.post(
                "/appointments", json=booking(down_barber), headers={**client, "Idempotency-Key": "down-1"}
            )
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"]
            assert refused.json()["code"] == "BK016"
            assert (await http.get(f"/appointments/{first.json()['id']}", headers=client)).status_code == 503
            ok = await http.post("/appointments", json=booking(up_barber), headers=client)
            assert ok.status_code == 201, ok.text
            assert ok.json()["shop_id"] == up_shop
            for _ in range(int(WAIT * 10)):
                health = (await http.get("/health")).json()
                if health["status"] == "degraded":
                    break
                await asyncio.sleep(0.1)
            assert health["status"] == "degraded", health
            assert {"partition": 1, "status": "unavailable"} in health["partitions"]
            metrics = (await http.get("/metrics")).text
            assert 'booking_partition_unavailable_total{partition="1"}' in metrics
        finally:
            node.start()
        again = await http.post(
            "/appointments", json=booking(down_barber), headers={**client, "Idempotency-Key": "down-1"}
        )
        assert again.status_code == 201, again.text
        kept = await http.get(f"/appointments/{first.json()['id']}", headers=client)
        assert kept.status_code == 200 and kept.json()["booking_time"] == "09:00"
