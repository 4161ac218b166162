"""Learning from history over HTTP (issue 18; docs/LEARNING.md): check-in and check-out
(POST /appointments/{id}/start|finish, If-Match like cancel), the buffer recommendations
(GET, and POST .../apply making them the default of new bookings), refused bookings noted
for the conflict model after the refusal, and availability with ?predict=true: the same
answer by default, marks only from a model file, never a refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.config import Settings
from app.learning import features, generator, model
from app.web import create_app
from app.web.learning import settle_refused
from harness.service import running


async def _book(client, shop, day, hhmm: str, headers=None, **extra):
    r = await client.post(
        "/appointments",
        headers=headers or shop.client,
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": hhmm}
        | extra,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_start_then_finish_with_one_click_each(client, shop, day, clean_db):
    appt = await _book(client, shop, day, "10:00")
    r = await client.post(f"/appointments/{appt['id']}/finish", headers=shop.barber_staff)
    assert r.status_code == 409 and r.json()["code"] == "BK010", r.text  # the order: start first
    assert "Start it first" in r.json()["hint"]
    r = await client.post(f"/appointments/{appt['id']}/start", headers=shop.client)
    assert r.status_code == 403 and r.json()["code"] == "BK012"  # the client who booked it
    r = await client.post(f"/appointments/{appt['id']}/start", headers=shop.other_staff)
    assert r.status_code == 404  # another barber: it does not exist

    r = await client.post(f"/appointments/{appt['id']}/start", headers={**shop.barber_staff, "If-Match": '"7"'})
    assert r.status_code == 412 and r.json()["code"] == "BK001"
    r = await client.post(f"/appointments/{appt['id']}/start", headers={**shop.barber_staff, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    started = r.json()
    assert started["status"] == "in_progress" and started["version"] == 2 and r.headers["etag"] == '"2"'
    assert "finished_at" not in started
    started_at = datetime.fromisoformat(started["started_at"])
    assert abs((started_at - datetime.now(UTC)).total_seconds()) < 60  # the server's clock, not the client's

    # in progress it keeps its slot and stays where it is
    r = await client.post(
        "/appointments",
        headers=shop.client2,
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "10:15"},
    )
    assert r.status_code == 409
    r = await client.patch(f"/appointments/{appt['id']}", headers=shop.barber_staff, json={"booking_time": "12:00"})
    assert r.status_code == 409 and r.json()["code"] == "BK010"

    r = await client.post(f"/appointments/{appt['id']}/finish", headers={**shop.admin, "If-Match": '"2"'})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "completed" and done["version"] == 3
    assert datetime.fromisoformat(done["finished_at"]) >= datetime.fromisoformat(done["started_at"])
    again = await client.post(f"/appointments/{appt['id']}/finish", headers=shop.barber_staff)
    assert again.status_code == 200 and again.json()["version"] == 3  # a retried click changes nothing
    # what the appointment answers carries the times
    r = await client.get(f"/appointments/{appt['id']}", headers=shop.client)
    assert r.json()["started_at"] == done["started_at"] and r.json()["finished_at"] == done["finished_at"]


async def _history(
    clean_db, barber: int, service: str, duration: int, delays: list[tuple[float, float]], hour: int = 9
):
    """Finished appointments in the past, one a day at `hour`: (late start, overrun) minutes each."""
    base = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(days=len(delays) + 1)
    for k, (late, over) in enumerate(delays):
        start = base + timedelta(days=k)
        started = start + timedelta(minutes=late)
        await clean_db.execute(
            "INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes, status,"
            " started_at, finished_at) VALUES ($1, 101, $2, $3, $4, 'completed', $5, $6)",
            barber,
            service,
            start,
            duration,
            started,
            started + timedelta(minutes=duration + over),
        )


async def test_buffer_recommendations_for_the_barber_and_its_admins(client, shop, clean_db):
    await _history(clean_db, shop.barber, "Haircut", 30, [(0, k) for k in range(10)])  # overruns 0..9
    await _history(clean_db, shop.barber, "Beard Trim", 15, [(0, 1)] * 3, hour=14)  # too few
    for headers in (shop.barber_staff, shop.admin):
        r = await client.get(f"/barbers/{shop.barber}/buffer-recommendations", headers=headers)
        assert r.status_code == 200, r.text
    body = r.json()
    assert body["barber_id"] == shop.barber and body["min_samples"] == 8 and body["target_on_time"] == 0.9
    items = {i["service"]: i for i in body["items"]}
    haircut, beard = items["Haircut"], items["Beard Trim"]
    assert haircut["status"] == "ok" and haircut["samples"] == 10
    assert (haircut["buffer_time_before"], haircut["buffer_time_after"]) == (0, 10)
    assert haircut["end_delay_p90_minutes"] == 8.1 and len(haircut["interval_minutes"]) == 2
    assert (haircut["current_buffer_time_before"], haircut["current_buffer_time_after"]) == (0, 0)
    assert haircut["cost_minutes_per_day"] > 0 and "Ana" in haircut["summary"]
    assert beard["status"] == "not_enough_history" and beard["needed"] == 5 and "buffer_time_after" not in beard
    for headers in (shop.client, shop.other_staff):
        r = await client.get(f"/barbers/{shop.barber}/buffer-recommendations", headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "BK012"


async def test_applying_a_recommendation_makes_it_the_default_of_new_bookings_only(client, shop, day, clean_db):
    await _history(clean_db, shop.barber, "Haircut", 30, [(0, k) for k in range(10)])
    before = await _book(client, shop, day, "10:00")
    path = f"/barbers/{shop.barber}/buffer-recommendations/apply"
    r = await client.post(path, headers=shop.barber_staff, json={"service": "Haircut"})
    assert r.status_code == 403 and r.json()["code"] == "BK012"
    r = await client.post(path, headers=shop.admin, json={"service": "Beard Trim"})
    assert r.status_code == 422 and r.json()["code"] == "BK008"  # no history for it
    r = await client.post(path, headers=shop.admin, json={"service": "Haircut", "extra": 1})
    assert r.status_code in (400, 422)
    r = await client.post(path, headers=shop.admin, json={"service": "Haircut"})
    assert r.status_code == 200, r.text
    applied = r.json()
    assert (applied["service"], applied["buffer_time_before"], applied["buffer_time_after"]) == ("Haircut", 0, 10)
    assert applied["set_by"] == 301 and applied["basis"]["samples"] == 10

    after = await _book(client, shop, day, "12:00")  # no buffers given: the default
    assert (after["buffer_time_before"], after["buffer_time_after"]) == (0, 10)
    explicit = await _book(client, shop, day, "14:00", buffer_time_after=0)  # given: kept
    assert explicit["buffer_time_after"] == 0
    r = await client.get(f"/appointments/{before['id']}", headers=shop.client)
    assert r.json()["buffer_time_after"] == 0 and r.json()["version"] == 1  # booked before: untouched
    # the free starts follow the default: 12:00-12:30 + 10 blocks 12:30
    r = await client.get(
        f"/barbers/{shop.barber}/availability",
        headers=shop.client,
        params={"date": day.isoformat(), "service": "Haircut"},
    )
    starts = {s["start"] for s in r.json()["slots"]}
    zone_noon = await clean_db.fetchval("SELECT start_time FROM booking.appointments WHERE id = $1", after["id"])
    assert (zone_noon + timedelta(minutes=30)).isoformat().replace("+00:00", "Z") not in starts
    assert (zone_noon + timedelta(minutes=45)).isoformat().replace("+00:00", "Z") in starts
    r = await client.get(f"/barbers/{shop.barber}/buffer-recommendations", headers=shop.admin)
    haircut = next(i for i in r.json()["items"] if i["service"] == "Haircut")
    assert haircut["current_buffer_time_after"] == 10 and haircut["default_set_at"]


async def test_a_refused_booking_is_noted_after_the_refusal(client, shop, day, clean_db):
    await _book(client, shop, day, "10:00")
    r = await client.post(
        "/appointments",
        headers=shop.client2,
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "10:15"},
    )
    assert r.status_code == 409
    await settle_refused()
    rows = await clean_db.fetch("SELECT barber_id, service_name, start_time, outcome FROM booking.booking_attempts")
    assert [(x["barber_id"], x["service_name"], x["outcome"]) for x in rows] == [(shop.barber, "Haircut", "conflict")]
    assert rows[0]["start_time"] == await clean_db.fetchval(
        "SELECT booking.local_start($1, $2, '10:15')", shop.barber, day
    )
    assert await clean_db.fetchval("SELECT count(*) FROM booking.appointments") == 1  # the refusal stands


@pytest.fixture
async def predicting(database_url, tmp_path):
    """An app whose CONFLICT_MODEL is a file of this test's (absent until written)."""
    path = tmp_path / "conflict-model.joblib"
    app = create_app(
        Settings.from_env(database_url=database_url, purge_interval=0, webhook_delivery=False, conflict_model=str(path))
    )
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        yield c, path


async def test_availability_is_unchanged_unless_predictions_are_asked_for(client, shop, day):
    params = {"date": day.isoformat(), "service": "Haircut"}
    plain = await client.get(f"/barbers/{shop.barber}/availability", headers=shop.client, params=params)
    assert set(plain.json()) == {"barber_id", "date", "service", "slots"}
    assert all(set(s) == {"start", "end"} for s in plain.json()["slots"])


async def test_without_a_model_file_predictions_say_why_and_mark_nothing(predicting, shop, day):
    c, _ = predicting
    params = {"date": day.isoformat(), "service": "Haircut"}
    plain = await c.get(f"/barbers/{shop.barber}/availability", headers=shop.client, params=params)
    r = await c.get(f"/barbers/{shop.barber}/availability", headers=shop.client, params={**params, "predict": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["prediction"] == {
        "available": False,
        "reason": "no model file yet: `python -m app learn train` writes one",
    }
    assert body["slots"] == plain.json()["slots"]


async def test_with_a_model_file_each_free_start_is_marked(predicting, shop, day, clean_db):
    c, path = predicting
    trace = generator.generate(days=28, seed=4)
    rows = features.build(trace, per_moment=6, seed=4)
    selection = model.select(rows)
    payload = model.save(path, model.fit("logistic", rows), selection=selection, rows=rows, threshold=0.1)
    await _book(c, shop, day, "11:00")
    params = {"date": day.isoformat(), "service": "Haircut", "predict": "true"}
    r = await c.get(f"/barbers/{shop.barber}/availability", headers=shop.client, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["prediction"]["available"] is True and body["prediction"]["model"] == "logistic"
    assert body["prediction"]["horizon_hours"] == 24.0 and body["prediction"]["threshold"] == 0.1
    assert body["prediction"]["beats_baseline"] == payload["beats_baseline"]
    assert body["slots"]
    for s in body["slots"]:
        assert 0 <= s["taken_probability"] <= 1
        assert s["likely_to_go_soon"] == (s["taken_probability"] >= 0.1)
    # the marks are advice: the same slots as without them, and booking a marked one works
    plain = await c.get(
        f"/barbers/{shop.barber}/availability",
        headers=shop.client,
        params={k: v for k, v in params.items() if k != "predict"},
    )
    assert [(s["start"], s["end"]) for s in body["slots"]] == [(s["start"], s["end"]) for s in plain.json()["slots"]]
    # "any barber": per barber only
    r = await c.get("/availability", headers=shop.client, params=params)
    assert r.json()["prediction"] == {"available": False, "reason": "predictions are per barber: name one"}
    # a barber's token reads the same; the demand read carries no personal data
    demand = await clean_db.fetchrow("SELECT * FROM booking.slot_demand($1, $2)", shop.barber, day)
    assert set(demand.keys()) == {
        "timezone", "busy_from", "busy_until", "booked_24h", "refused_24h", "booked_28d", "shop_booked_28d",
        "shop_barbers", "read_at",
    }  # fmt: skip
    assert demand["booked_24h"] == 1 and len(demand["busy_from"]) == 1
    assert json.dumps(body)  # plain JSON


async def test_durations_extracted_in_sql_are_the_ones_the_python_port_computes(shop, clean_db):
    """booking.service_durations and app.learning.buffers.histories_from_trace (the
    evaluation's port of it) agree on one generated barber-week."""
    from app.learning import buffers
    from app.learning.trace import Booked, Trace

    trace = generator.generate(days=14, seed=9)
    ana = [a for a in trace.appointments if a.barber_id == 1 and a.status != "held"]
    shift = (datetime.now(UTC) - timedelta(days=2)) - max(a.start_time for a in ana)  # all in the recent past
    moved = []
    for a in ana:
        moved.append(
            Booked(
                shop.barber,
                "UTC",
                a.service,
                a.duration_minutes,
                0,
                0,
                a.start_time + shift,
                a.created_at + shift,
                None if a.ended_at is None else a.ended_at + shift,
                a.status,
                None if a.started_at is None else a.started_at + shift,
                None if a.finished_at is None else a.finished_at + shift,
            )  # fmt: skip
        )
    for name, minutes in {(a.service, a.duration_minutes) for a in moved}:
        await clean_db.execute(
            "INSERT INTO booking.services (name, duration_minutes) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            name,
            minutes,
        )
    for a in moved:
        await clean_db.execute(
            "INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes, status,"
            " started_at, finished_at) VALUES ($1, 101, $2, $3, $4, $5, $6, $7)",
            a.barber_id, a.service, a.start_time, a.duration_minutes, a.status, a.started_at, a.finished_at,
        )  # fmt: skip
    sql = {
        r["service"]: r for r in await clean_db.fetch("SELECT * FROM booking.service_durations($1, NULL)", shop.barber)
    }
    python, days = buffers.histories_from_trace(Trace(moved, []))
    assert set(sql) == {s for (_, s) in python}
    for (_, service), h in python.items():
        row = sql[service]
        assert sorted(row["late_start_minutes"]) == pytest.approx(sorted(h.late_starts), abs=1e-6)
        assert sorted(row["overrun_minutes"]) == pytest.approx(sorted(h.overruns), abs=1e-6)
        assert (row["appointments"], row["excluded"]) == (h.appointments, h.excluded)
        assert row["work_days"] == days[shop.barber]


async def test_learn_export_writes_the_shops_history_as_a_trace(client, shop, day, clean_db, database_url, tmp_path):
    import asyncio

    from app.learning.trace import read_csv
    from tests.py.support import app_cli

    await _history(clean_db, shop.barber, "Haircut", 30, [(2, 5)] * 3)
    await _book(client, shop, day, "10:00")
    refused = await client.post(
        "/appointments",
        headers=shop.client2,
        json={"barber_id": shop.barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": "10:15"},
    )
    assert refused.status_code == 409
    await settle_refused()
    path = tmp_path / "trace.csv"
    out = await asyncio.to_thread(app_cli, database_url, "learn", "export", "--shop", "1", "--out", str(path))
    assert out.returncode == 0, out.stderr
    assert "4 appointments, 1 refused attempts" in out.stdout
    trace = read_csv(path)
    assert len(trace.appointments) == 4 and len(trace.attempts) == 1
    finished = [a for a in trace.appointments if a.finished_at]
    assert len(finished) == 3 and all(a.timezone == "Europe/London" for a in trace.appointments)
    assert {round((a.finished_at - a.started_at).total_seconds() / 60) for a in finished} == {35}
