"""Calendar feeds (issue 15 part 6): GET /barbers/{id}/calendar.ics for staff tokens or a
feed key, the keys' issue and revocation, and GET /appointments/{id}.ics. Every answer is
parsed with the `icalendar` library: UIDs stay, SEQUENCE follows the version, a
cancellation is STATUS:CANCELLED, 10:00 in London on the DST days of 2030 is 09:00Z and
10:00Z; a bad key is 404 at once; the window bounds what a feed returns."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import icalendar

from tests.py.http.test_http_appointments import assert_problem, body

ICS = "text/calendar; charset=utf-8"


def events(r) -> dict[str, icalendar.Event]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == ICS
    cal = icalendar.Calendar.from_ical(r.content)
    assert str(cal["VERSION"]) == "2.0" and cal["PRODID"]
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


async def insert(db, barber: int, user: int, start: datetime, status: str = "scheduled", notes: str | None = None):
    """A row as a direct writer makes it (a feed reads rows, however they were made)."""
    return await db.fetchval(
        "INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes, status,"
        " notes) VALUES ($1, $2, 'Haircut', $3, 30, $4, $5) RETURNING id",
        barber,
        user,
        start,
        status,
        notes,
    )


async def local(db, barber: int, day: date, hhmm: str) -> datetime:
    return await db.fetchval("SELECT booking.local_start($1, $2, $3::text::time)", barber, day, hhmm)


async def issue(client, barber: int, headers: dict) -> dict:
    r = await client.post(f"/barbers/{barber}/calendar-keys", headers=headers)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["url"] == f"/barbers/{barber}/calendar.ics?key={made['key']}" and r.headers["location"] == made["url"]
    return made


async def test_the_barbers_feed_has_stable_uids_and_sequence_and_status_follow_changes(client, shop, day):
    made = (await client.post("/appointments", json=body(shop, day, notes="fringe"), headers=shop.client)).json()
    uid = f"appointment-{made['id']}@booking.invalid"
    first = events(await client.get(f"/barbers/{shop.barber}/calendar.ics", headers=shop.barber_staff))
    ev = first[uid]
    assert int(ev["SEQUENCE"]) == 0 and str(ev["STATUS"]) == "CONFIRMED"
    assert str(ev["SUMMARY"]) == "Haircut" and str(ev["DESCRIPTION"]) == "fringe"  # staff see the notes
    assert ev.decoded("DTSTART") == datetime.fromisoformat(made["start_time"])
    assert ev.decoded("DTEND") == datetime.fromisoformat(made["end_time"])
    assert ev.decoded("DTSTART").tzinfo is not None and ev.decoded("DTSTART").utcoffset() == timedelta(0)
    assert ev.decoded("DTSTAMP") == datetime.fromisoformat(made["updated_at"]).replace(microsecond=0)
    assert "101" not in (await client.get(f"/barbers/{shop.barber}/calendar.ics", headers=shop.admin)).text

    r = await client.patch(f"/appointments/{made['id']}", json={"booking_time": "11:00"}, headers=shop.client)
    assert r.status_code == 200, r.text
    moved = events(await client.get(f"/barbers/{shop.barber}/calendar.ics", headers=shop.admin))[uid]
    assert int(moved["SEQUENCE"]) == 1 and moved.decoded("DTSTART") == datetime.fromisoformat(r.json()["start_time"])

    assert (await client.post(f"/appointments/{made['id']}/cancel", headers=shop.client)).status_code == 200
    gone = events(await client.get(f"/barbers/{shop.barber}/calendar.ics", headers=shop.barber_staff))
    assert list(gone) == [uid]  # the same event, now cancelled
    assert str(gone[uid]["STATUS"]) == "CANCELLED" and int(gone[uid]["SEQUENCE"]) == 2


async def test_holds_are_tentative_until_they_expire(client, shop, day, clean_db):
    held = (await client.post("/holds", json=body(shop, day), headers=shop.client)).json()
    uid = f"appointment-{held['id']}@booking.invalid"
    feed = events(await client.get(f"/barbers/{shop.barber}/calendar.ics", headers=shop.barber_staff))
    assert str(feed[uid]["STATUS"]) == "TENTATIVE"
    await clean_db.execute(
        "UPDATE booking.appointments SET hold_expires_at = now() - interval '1 second' WHERE id = $1", held["id"]
    )
    feed = events(await client.get(f"/barbers/{shop.barber}/calendar.ics", headers=shop.barber_staff))
    assert str(feed[uid]["STATUS"]) == "CANCELLED"


async def test_ten_oclock_in_london_on_the_dst_days_of_2030(client, shop, clean_db):
    spring = await insert(clean_db, shop.barber, 101, await local(clean_db, shop.barber, date(2030, 3, 31), "10:00"))
    autumn = await insert(clean_db, shop.barber, 101, await local(clean_db, shop.barber, date(2030, 10, 27), "10:00"))
    want = {spring: datetime(2030, 3, 31, 9, 0, tzinfo=UTC), autumn: datetime(2030, 10, 27, 10, 0, tzinfo=UTC)}
    window = "from=2030-03-01T00:00:00Z&to=2030-12-01T00:00:00Z"
    feed = events(await client.get(f"/barbers/{shop.barber}/calendar.ics?{window}", headers=shop.barber_staff))
    for appointment_id, start in want.items():
        ev = feed[f"appointment-{appointment_id}@booking.invalid"]
        assert ev.decoded("DTSTART") == start and ev.decoded("DTEND") == start + timedelta(minutes=30)
        assert "DTSTART:" + start.strftime("%Y%m%dT%H%M%SZ") in (
            await client.get(f"/appointments/{appointment_id}.ics", headers=shop.client)
        ).text.replace("\r\n", "\n")
        one = events(await client.get(f"/appointments/{appointment_id}.ics", headers=shop.client))
        assert one[f"appointment-{appointment_id}@booking.invalid"].decoded("DTSTART") == start


async def test_staff_tokens_only_those_of_the_barber_or_its_shop(client, shop):
    assert events(await client.get(f"/barbers/{shop.barber}/calendar.ics", headers=shop.barber_staff)) == {}
    assert events(await client.get(f"/barbers/{shop.barber}/calendar.ics", headers=shop.admin)) == {}
    assert_problem(await client.get(f"/barbers/{shop.barber}/calendar.ics", headers=shop.other_staff), 403, "BK012")
    assert_problem(await client.get(f"/barbers/{shop.barber}/calendar.ics", headers=shop.client), 403, "BK012")
    r = await client.get(f"/barbers/{shop.barber}/calendar.ics")
    assert r.status_code == 401
    assert_problem(await client.get("/barbers/999999/calendar.ics", headers=shop.admin), 404, "BK003")


async def test_a_key_reads_one_barbers_feed_without_client_data_until_revoked(client, shop, day):
    made = (await client.post("/appointments", json=body(shop, day, notes="secret"), headers=shop.client)).json()
    key = await issue(client, shop.barber, shop.barber_staff)
    r = await client.get(key["url"])  # no bearer token: a calendar app
    feed = events(r)
    assert list(feed) == [f"appointment-{made['id']}@booking.invalid"]
    assert "DESCRIPTION" not in feed[f"appointment-{made['id']}@booking.invalid"]
    assert "secret" not in r.text and "101" not in r.text.replace(str(made["id"]), "")
    # Not another barber's key, nor a barber that does not exist: the same 404.
    other = assert_problem(
        await client.get(f"/barbers/{shop.other_barber}/calendar.ics?key={key['key']}"), 404, "BK021"
    )
    nobody = assert_problem(await client.get(f"/barbers/999999/calendar.ics?key={key['key']}"), 404, "BK021")
    junk = assert_problem(await client.get(f"/barbers/x/calendar.ics?key={key['key']}"), 404, "BK021")
    assert other["detail"] == nobody["detail"] == junk["detail"]

    admin_key = await issue(client, shop.barber, shop.admin)
    assert admin_key["id"] != key["id"]
    assert (
        await client.delete(f"/barbers/{shop.barber}/calendar-keys/{key['id']}", headers=shop.admin)
    ).status_code == 204
    assert_problem(await client.get(key["url"]), 404, "BK021")
    assert (await client.get(admin_key["url"])).status_code == 200  # the other key still works
    # Revoking twice is harmless; a key that is not this barber's is 404.
    r = await client.delete(f"/barbers/{shop.barber}/calendar-keys/{key['id']}", headers=shop.barber_staff)
    assert r.status_code == 204
    assert_problem(
        await client.delete(f"/barbers/{shop.other_barber}/calendar-keys/{admin_key['id']}", headers=shop.admin),
        404,
        "BK021",
    )
    assert_problem(await client.delete(f"/barbers/{shop.barber}/calendar-keys/abc", headers=shop.admin), 404, "BK021")


async def test_only_an_admin_or_the_barber_issues_and_revokes_keys(client, shop):
    for headers in (shop.client, shop.other_staff):
        assert_problem(await client.post(f"/barbers/{shop.barber}/calendar-keys", headers=headers), 403, "BK012")
    key = await issue(client, shop.barber, shop.barber_staff)
    for headers in (shop.client, shop.other_staff):
        r = await client.delete(f"/barbers/{shop.barber}/calendar-keys/{key['id']}", headers=headers)
        assert_problem(r, 403, "BK012")
    assert (await client.get(key["url"])).status_code == 200
    assert (await client.post(f"/barbers/{shop.barber}/calendar-keys")).status_code == 401
    assert_problem(await client.post("/barbers/999999/calendar-keys", headers=shop.admin), 404, "BK003")


async def test_bad_keys_are_404_at_once(client, shop):
    await issue(client, shop.barber, shop.barber_staff)
    for bad in ("", "x" * 7000, "%D0%BA%D0%BB%D1%8E%D1%87", "A" * 43, "A" * 42 + "%00", "'%20OR%201=1--"):
        started = time.monotonic()
        r = await client.get(f"/barbers/{shop.barber}/calendar.ics?key={bad}")
        assert_problem(r, 404, "BK021")
        assert time.monotonic() - started < 1.0
        assert bad[:20] not in r.text or bad == ""


async def test_the_window_is_30_days_back_to_a_year_ahead_unless_asked(client, shop, clean_db):
    now = datetime.now(UTC).replace(microsecond=0)
    ids = {
        offset: await insert(clean_db, shop.other_barber, 101, now + timedelta(days=offset))
        for offset in (-31, -29, 364, 366)
    }
    feed = events(await client.get(f"/barbers/{shop.other_barber}/calendar.ics", headers=shop.admin))
    assert set(feed) == {f"appointment-{ids[d]}@booking.invalid" for d in (-29, 364)}
    since = (now - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    feed = events(await client.get(f"/barbers/{shop.other_barber}/calendar.ics?from={since}", headers=shop.admin))
    assert f"appointment-{ids[-31]}@booking.invalid" in feed
    r = await client.get(
        f"/barbers/{shop.other_barber}/calendar.ics?from=2030-01-01T00:00:00Z&to=2031-03-01T00:00:00Z",
        headers=shop.admin,
    )
    assert_problem(r, 422, "BK008")  # more than 400 days
    r = await client.get(f"/barbers/{shop.other_barber}/calendar.ics?from=yesterday", headers=shop.admin)
    assert r.status_code == 422


async def test_conditional_get_answers_304_until_something_changes(client, shop, day):
    made = (await client.post("/appointments", json=body(shop, day), headers=shop.client)).json()
    key = await issue(client, shop.barber, shop.barber_staff)
    r = await client.get(key["url"])
    tag, modified = r.headers["etag"], r.headers["last-modified"]
    assert tag.startswith('"') and "no-cache" in r.headers["cache-control"]
    again = await client.get(key["url"], headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert (await client.get(key["url"], headers={"If-None-Match": f'"x", W/{tag}'})).status_code == 304
    assert (await client.get(key["url"], headers={"If-Modified-Since": modified})).status_code == 304
    await client.patch(f"/appointments/{made['id']}", json={"booking_time": "12:00"}, headers=shop.client)
    changed = await client.get(key["url"], headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    one = await client.get(f"/appointments/{made['id']}.ics", headers=shop.client)
    assert (
        await client.get(
            f"/appointments/{made['id']}.ics", headers={**shop.client, "If-None-Match": one.headers["etag"]}
        )
    ).status_code == 304


async def test_the_clients_ics_is_for_whoever_may_get_the_appointment(client, shop, day):
    made = (await client.post("/appointments", json=body(shop, day, notes="mine"), headers=shop.client)).json()
    uid = f"appointment-{made['id']}@booking.invalid"
    for headers in (shop.client, shop.barber_staff, shop.admin):
        ev = events(await client.get(f"/appointments/{made['id']}.ics", headers=headers))[uid]
        assert str(ev["SUMMARY"]) == "Haircut with Ana" and str(ev["DESCRIPTION"]) == "mine"
        assert int(ev["SEQUENCE"]) == 0 and str(ev["STATUS"]) == "CONFIRMED"
    assert (await client.head(f"/appointments/{made['id']}.ics", headers=shop.client)).status_code == 200
    for headers in (shop.client2, shop.other_staff):
        assert_problem(await client.get(f"/appointments/{made['id']}.ics", headers=headers), 404, "BK011")
    assert (await client.get(f"/appointments/{made['id']}.ics")).status_code == 401
    for bad in ("abc", "0", "-1", "99999999999999999999", "%20", made["id"] * 1000):
        assert_problem(await client.get(f"/appointments/{bad}.ics", headers=shop.client), 404, "BK011")
    assert_problem(await client.get("/appointments/.ics", headers=shop.client), 404, "BK011")
    # The JSON route is as it was.
    r = await client.get(f"/appointments/{made['id']}", headers=shop.client)
    assert r.status_code == 200 and r.json()["id"] == made["id"]
    assert_problem(await client.get("/appointments/12x", headers=shop.client), 404, "BK011")
