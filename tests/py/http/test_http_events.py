"""GET /barbers/{id}/events (Server-Sent Events) through a real uvicorn server on loopback.

httpx's ASGITransport buffers a whole response, so an endless stream needs a real server:
the app runs under uvicorn on 127.0.0.1 (a free port) in the test's event loop.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.config import Settings
from app.web import create_app
from harness.service import serving

WAIT = 10.0  # a bound against hanging, not a speed requirement


@pytest.fixture(scope="module")
async def server(database_url):
    app = create_app(Settings.from_env(database_url=database_url, purge_interval=0))
    async with serving(app, wait=WAIT) as base:
        yield app, base


class EventReader:
    """Reads one SSE stream in the background, collecting parsed events."""

    def __init__(self, client: httpx.AsyncClient, url: str, headers: dict):
        self.client, self.url, self.headers = client, url, headers
        self.events: list[dict] = []
        self.status: int | None = None
        self.content_type: str | None = None
        self.connected = asyncio.Event()
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self):
        async with self.client.stream("GET", self.url, headers=self.headers, timeout=None) as r:
            self.status, self.content_type = r.status_code, r.headers.get("content-type")
            current: dict = {}
            async for line in r.aiter_lines():
                if line.startswith(": connected"):
                    self.connected.set()
                elif line == "":
                    if "data" in current:
                        self.events.append(
                            {"id": int(current["id"]), "event": current["event"], "data": json.loads(current["data"])}
                        )
                        self.changed.set()
                    current = {}
                elif not line.startswith(":"):
                    k, _, v = line.partition(":")
                    current[k] = v.lstrip(" ")

    async def wait_for(self, predicate, timeout=WAIT):
        async def loop():
            while not any(predicate(e) for e in self.events):
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)
        return next(e for e in self.events if predicate(e))

    async def close(self):
        self.task.cancel()
        try:
            await self.task
        except (asyncio.CancelledError, httpx.HTTPError):
            pass


@pytest.fixture
async def http(server):
    async with httpx.AsyncClient(base_url=server[1], timeout=WAIT) as c:
        yield c


def booking(barber, hhmm="10:00", days=40):
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    return {"barber_id": barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": hhmm}


async def open_stream(http, shop, headers=None, barber=None):
    reader = EventReader(http, f"/barbers/{barber or shop.other_barber}/events", headers or shop.client)
    await asyncio.wait_for(reader.connected.wait(), WAIT)
    assert reader.status == 200 and reader.content_type.startswith("text/event-stream")
    return reader


async def test_http_booking_change_and_cancel_are_streamed(http, shop):
    reader = await open_stream(http, shop)
    try:
        r = await http.post("/appointments", json=booking(shop.other_barber), headers=shop.client)
        assert r.status_code == 201, r.text
        appt = r.json()
        booked = await reader.wait_for(lambda e: e["data"]["appointment_id"] == appt["id"])
        assert booked["event"] == "booked" and booked["data"]["kind"] == "booked"
        assert booked["data"]["payload"]["start_time"] == appt["start_time"]
        assert booked["id"] == booked["data"]["id"]
        await http.patch(f"/appointments/{appt['id']}", json={"booking_time": "11:00"}, headers=shop.client)
        await http.post(f"/appointments/{appt['id']}/cancel", headers=shop.client)
        await reader.wait_for(lambda e: e["event"] == "cancelled")
        kinds = [e["event"] for e in reader.events if e["data"]["appointment_id"] == appt["id"]]
        assert kinds == ["booked", "changed", "cancelled"]
        # Another barber's events are not in this stream.
        other = await http.post("/appointments", json=booking(shop.barber, days=43), headers=shop.client)
        assert other.status_code in (201, 422), other.text
        assert all(e["data"]["barber_id"] == shop.other_barber for e in reader.events)
    finally:
        await reader.close()


async def test_a_closed_stream_unsubscribes(server, http, shop):
    hub = server[0].state.events
    before = hub.stream_count
    reader = await open_stream(http, shop)
    assert hub.stream_count == before + 1
    await reader.close()
    for _ in range(1000):
        if hub.stream_count == before:
            break
        await asyncio.sleep(0.01)
    assert hub.stream_count == before


async def test_direct_sql_insert_is_streamed(http, shop, clean_db):
    reader = await open_stream(http, shop)
    try:
        appt_id = await clean_db.fetchval(
            "INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)"
            " VALUES ($1, 7, 'Haircut', now() + interval '50 days', 30) RETURNING id",
            shop.other_barber,
        )
        event = await reader.wait_for(lambda e: e["data"]["appointment_id"] == appt_id)
        assert event["event"] == "booked"
    finally:
        await reader.close()


async def test_last_event_id_replays_missed_events(http, shop, clean_db):
    mark = await clean_db.fetchval("SELECT coalesce(max(id), 0) FROM booking.appointment_events")
    ids = []
    for hhmm in ("09:00", "10:00", "11:00"):
        r = await http.post("/appointments", json=booking(shop.other_barber, hhmm), headers=shop.client)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    reader = await open_stream(http, shop, {**shop.client, "Last-Event-ID": str(mark)})
    try:
        await reader.wait_for(lambda e: e["data"]["appointment_id"] == ids[-1])
        replayed = [e["data"]["appointment_id"] for e in reader.events]
        assert replayed == ids
        assert [e["id"] for e in reader.events] == sorted(e["id"] for e in reader.events)
        # Then live events follow.
        r = await http.post("/appointments", json=booking(shop.other_barber, "12:00"), headers=shop.client)
        await reader.wait_for(lambda e: e["data"]["appointment_id"] == r.json()["id"])
    finally:
        await reader.close()
    # Resuming from the second event replays only the third.
    second = reader.events[1]["id"]
    reader = await open_stream(http, shop, {**shop.client, "Last-Event-ID": str(second)})
    try:
        await reader.wait_for(lambda e: e["data"]["appointment_id"] == ids[2])
        assert reader.events[0]["data"]["appointment_id"] == ids[2]
    finally:
        await reader.close()


async def test_listen_connection_reconnects_and_resynchronises(server, http, shop, clean_db):
    app = server[0]
    hub = app.state.events
    reader = await open_stream(http, shop)
    try:
        made = hub.connections_made
        assert await clean_db.fetchval("SELECT pg_terminate_backend($1)", hub.listener_pid)
        # Booked while the LISTEN connection may be down: the resync reads it from the table.
        r = await http.post("/appointments", json=booking(shop.other_barber, "13:00"), headers=shop.client)
        assert r.status_code == 201
        await reader.wait_for(lambda e: e["data"]["appointment_id"] == r.json()["id"])
        for _ in range(1000):
            if hub.connections_made > made and hub.listening.is_set():
                break
            await asyncio.sleep(0.01)
        assert hub.connections_made == made + 1
        r2 = await http.post("/appointments", json=booking(shop.other_barber, "14:00"), headers=shop.client)
        await reader.wait_for(lambda e: e["data"]["appointment_id"] == r2.json()["id"])
    finally:
        await reader.close()


async def test_events_need_a_token_and_a_barber(http, shop):
    r = await http.get(f"/barbers/{shop.other_barber}/events")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = await http.get("/barbers/999999/events", headers=shop.client)
    assert r.status_code == 404
    r = await http.get(f"/barbers/{shop.other_barber}/events", headers={**shop.client, "Last-Event-ID": "x"})
    assert r.status_code == 422


async def test_a_forged_notification_is_not_streamed(http, shop, clean_db):
    """Any database session may NOTIFY booking_events; the stream sends only what
    events_since() reads back, so a forged event never reaches a subscriber."""
    reader = await open_stream(http, shop)
    try:
        forged = {
            "id": 9_000_000_000,
            "barber_id": shop.other_barber,
            "appointment_id": 1,
            "kind": "cancelled",
            "payload": {"appointment_id": 1, "start_time": "2030-01-01T10:00:00Z"},
            "created_at": "2030-01-01T10:00:00+00:00",
        }
        await clean_db.execute("SELECT pg_notify('booking_events', $1)", json.dumps(forged))
        # A real booking afterwards is streamed; the forged event before it never was.
        appt_id = await clean_db.fetchval(
            "INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)"
            " VALUES ($1, 7, 'Haircut', now() + interval '51 days', 30) RETURNING id",
            shop.other_barber,
        )
        await reader.wait_for(lambda e: e["data"]["appointment_id"] == appt_id)
        assert all(e["id"] != forged["id"] for e in reader.events)
        assert [e["data"]["appointment_id"] for e in reader.events] == [appt_id]
    finally:
        await reader.close()
