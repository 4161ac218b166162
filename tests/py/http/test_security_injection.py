"""An injection corpus through every string the HTTP API reads: the JSON fields service,
notes, booking_date, booking_time (POST) and notes, booking_date, booking_time (PATCH); the
headers Idempotency-Key and If-Match; the path ids; the query parameters of availability
and Last-Event-ID. Each answer is a clear 4xx problem or a stored literal read back
byte-identical; never a 5xx; a refused request leaves the tables as they were, and the
schema and the other rows stay intact. (The SQL side: tests/sql/11_injection.sql.)"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.py.support import relay_all

CORPUS = {
    "sql_quote": "'; DROP TABLE booking.appointments; --",
    "printf": "%s %d %n %x",
    "positional": "$1 $2::text",
    "dollar_quote": "$$; DROP SCHEMA booking CASCADE; $$",
    "backslashes": "\\ \\\\ \\x00 \\u0000 \\",
    "double_quote": '"; SELECT pg_sleep(5); --',
    "json_inside": '{"status": "completed", "user_id": 1}',
    "rtl_override": "abc\u202egpj.exe",
    "zwj": "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "combining": "e\u0301\u0302\u0303 Z\u0351\u0352",
    "emoji": "\U0001f488 \u2702\ufe0f",
    "bom_nel_linesep": "\ufeffx\u0085y\u2028z",
    "crlf_tab": "a\r\nb\tc",
    "long_2001": "n" * 2001,
    "long_100k": "x" * 100_000,
    "lone_surrogate": "abc\ud800def",
    "null_byte": "abc\u0000def",
    "empty": "",
}
BODY_FIELDS = [
    ("POST", "service"),
    ("POST", "notes"),
    ("POST", "booking_date"),
    ("POST", "booking_time"),
    ("PATCH", "notes"),
    ("PATCH", "booking_date"),
    ("PATCH", "booking_time"),
]
OTHER_PLACES = [
    "Idempotency-Key",
    "If-Match",
    "path:appointment",
    "path:cancel",
    "path:barber",
    "query:date",
    "query:service",
    "query:buffer_time_before",
    "Last-Event-ID",
]


def json_bytes(obj) -> bytes:
    """JSON as a client would send it; a lone surrogate goes out as the escape \\ud800."""
    return json.dumps(obj, ensure_ascii=True).encode("ascii")


def url_part(s: str) -> str:
    return quote(s.encode("utf-8", "surrogatepass"), safe="")


async def snapshot(db):
    await relay_all(db)  # events of what committed so far (a refused request must add none)
    return (
        await db.fetch("SELECT * FROM booking.appointments ORDER BY id"),
        await db.fetchval("SELECT count(*) FROM booking.idempotency_keys"),
        await db.fetchval("SELECT count(*) FROM booking.appointment_events"),
        await db.fetch(
            "SELECT c.oid::regclass::text AS rel FROM pg_class c "
            "WHERE c.relnamespace = 'booking'::regnamespace ORDER BY 1"
        ),
    )


def header_safe(s: str) -> bool:
    # A header value with CR, LF or NUL never reaches an application (the HTTP server
    # refuses the request line), and h11 would refuse to send it.
    return not any(ch in s for ch in "\r\n\x00") and all(not 0xD800 <= ord(ch) <= 0xDFFF for ch in s)


HEADER_PLACES = ("Idempotency-Key", "If-Match", "Last-Event-ID")
# Header values an HTTP server would never pass on (CR, LF, NUL, lone surrogates) are left
# out, and so is an empty Last-Event-ID (it means "no id": an endless live stream).
CASES = [(f"{m} {f}", name) for m, f in BODY_FIELDS for name in CORPUS] + [
    (place, name)
    for place in OTHER_PLACES
    for name in CORPUS
    if place not in HEADER_PLACES
    or (header_safe(CORPUS[name]) and not (place == "Last-Event-ID" and CORPUS[name] == ""))
]


@pytest.mark.parametrize("place,name", CASES, ids=[f"{p}-{n}" for p, n in CASES])
async def test_injection_corpus(client, shop, day, clean_db, place, name):
    s = CORPUS[name]
    body = {
        "barber_id": shop.barber,
        "service": "Haircut",
        "booking_date": day.isoformat(),
        "booking_time": "10:00",
        "notes": "sentinel",
    }
    r = await client.post("/appointments", headers=shop.client, json=body)
    assert r.status_code == 201
    appt = r.json()["id"]
    before = await snapshot(clean_db)
    ctype = {"Content-Type": "application/json"}
    stored_field = None

    if place.startswith(("path:", "query:")) and len(s) > 8000:
        # A request line that long never reaches the app (h11 refuses more than 16 KiB of
        # head; httpx will not build a URL over 64 KiB): send the longest that could.
        s = s[:8000]
    if place.startswith(("Idempotency-Key", "If-Match", "Last-Event-ID")) and len(s) > 8000:
        s = s[:8000]
    if place.startswith("POST "):
        field = place.split()[1]
        r = await client.post(
            "/appointments",
            headers={**shop.client, **ctype},
            content=json_bytes({**body, "booking_time": "15:00", field: s}),
        )
        stored_field = field
    elif place.startswith("PATCH "):
        field = place.split()[1]
        r = await client.patch(
            f"/appointments/{appt}", headers={**shop.client, **ctype}, content=json_bytes({field: s})
        )
        stored_field = field
    elif place in ("Idempotency-Key", "If-Match"):
        value = s.encode("utf-8")
        if place == "Idempotency-Key":
            r = await client.post(
                "/appointments", headers={**shop.client, place: value}, json={**body, "booking_time": "15:00"}
            )
        else:
            r = await client.patch(
                f"/appointments/{appt}", headers={**shop.client, place: value}, json={"notes": "changed"}
            )
    elif place == "path:appointment":
        r = await client.get(f"/appointments/{url_part(s)}", headers=shop.client)
    elif place == "path:cancel":
        r = await client.post(f"/appointments/{url_part(s)}/cancel", headers=shop.client)
    elif place == "path:barber":
        r = await client.get(
            f"/barbers/{url_part(s)}/availability?date={day.isoformat()}&service=Haircut", headers=shop.client
        )
    elif place.startswith("query:"):
        params = {"date": day.isoformat(), "service": "Haircut", place.split(":")[1]: s}
        qs = "&".join(f"{k}={url_part(v)}" for k, v in params.items())
        r = await client.get(f"/barbers/{shop.barber}/availability?{qs}", headers=shop.client)
    elif place == "Last-Event-ID":
        r = await client.get(f"/barbers/{shop.barber}/events", headers={**shop.client, place: s.encode("utf-8")})
        # An accepted id would start an endless stream; none of the corpus is an event id.
    else:
        raise AssertionError(place)

    assert r.status_code < 500, r.text[:500]
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["status"] == r.status_code and problem["code"] and problem["detail"]
        assert await snapshot(clean_db) == before, "a refused request changed something"
        return

    # Accepted: the string is stored as sent and reads back byte-identical.
    if stored_field == "notes":
        row_id = r.json()["id"]
        assert r.json()["notes"] == s
        assert await clean_db.fetchval("SELECT notes FROM booking.appointments WHERE id = $1", row_id) == s
        got = await client.get(f"/appointments/{row_id}", headers=shop.client)
        assert got.json()["notes"] == s
    elif place == "Idempotency-Key":
        assert (
            await clean_db.fetchval(
                "SELECT count(*) FROM booking.idempotency_keys WHERE idempotency_key = $1", f"user:101:{s}"
            )
            == 1
        )
    elif place.startswith("query:"):
        pass  # e.g. an empty buffer means the default
    elif place == "path:appointment" and s == "":
        assert "items" in r.json()  # GET /appointments/ is the list (the caller's schedule)
    else:
        raise AssertionError(f"{place} accepted {s[:40]!r}: {r.status_code}")
    after = await snapshot(clean_db)
    assert after[3] == before[3]  # the schema
    if not place.startswith("PATCH "):
        assert after[0][0] == before[0][0]  # the other appointment is untouched
    else:
        first = after[0][0]
        assert first["notes"] == s and first["barber_id"] == shop.barber
