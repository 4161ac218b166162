"""Calendar feeds (issue 15 part 6): appointments as iCalendar (RFC 5545), written with the
`icalendar` library, and the secret keys of barbers' feeds.

Who sees what is the engine's (booking.calendar_feed, booking.get_appointment); this module
reads the rows through named statements (sql/queries.sql) and writes them out:

| property      | value                                                                     |
|---------------|---------------------------------------------------------------------------|
| UID           | `appointment-<id>@<CALENDAR_UID_HOST>` (default `booking.invalid`): one  |
|               | appointment is one event, whatever changes, in every feed and .ics        |
| SEQUENCE      | version - 1 (a new appointment is 0; every change adds one)              |
| DTSTAMP       | updated_at (also LAST-MODIFIED; CREATED is created_at): the output       |
|               | depends only on the rows, so its ETag changes only when they do          |
| DTSTART/DTEND | UTC (`...Z`): no VTIMEZONE needed, a DST day cannot be misread            |
| STATUS        | CANCELLED when the appointment no longer blocks its slot (cancelled,      |
|               | no_show, an expired hold); TENTATIVE for a hold that has not expired;    |
|               | CONFIRMED otherwise (scheduled, confirmed, completed)                     |
| SUMMARY       | the service; the client's own .ics adds "with <barber>"                   |
| DESCRIPTION   | the notes, for staff and the client only (never in a feed read by key)    |

No client id is ever written. Keys are 256 random bits (43 URL-safe characters), shown
once, stored only as their SHA-256 (like bearer tokens, app.tokens).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from datetime import UTC, datetime

import msgspec
from icalendar import Calendar, Event

from app.gateway import database_errors
from app.queries import QUERIES

UID_HOST = os.environ.get("CALENDAR_UID_HOST", "booking.invalid")
PRODID = "-//barbershop-booking//calendar feed//EN"
# What a well-formed key looks like (secrets.token_urlsafe(32)); anything else is not one,
# and is refused without asking the database.
_KEY_RE = re.compile(r"[A-Za-z0-9_-]{43}")


class CalendarKey(msgspec.Struct):
    """A feed key, as POST /barbers/{id}/calendar-keys answers it: the only time the key
    itself is shown. `url` is the feed's path with the key (relative to the service)."""

    id: int
    barber_id: int
    key: str
    url: str


class CalendarEntry(msgspec.Struct):
    """One event of a feed: an appointment as booking.calendar_feed answers it (no client)."""

    id: int
    barber_id: int
    barber_name: str
    timezone: str
    service_name: str
    start_time: datetime
    end_time: datetime
    status: str
    hold_expires_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    notes: str | None


# ------------------------------------------------------------------------------- keys


def new_key() -> str:
    return secrets.token_urlsafe(32)


def key_hash(key: str) -> bytes | None:
    """The SHA-256 a key is stored as, or None for a value that cannot be a key (empty, too
    long, not ASCII...): such a request is 404 at once."""
    if not _KEY_RE.fullmatch(key):
        return None
    return hashlib.sha256(key.encode("ascii")).digest()


# ------------------------------------------------------------------------------- reads


async def feed(
    db,
    barber_id: int,
    *,
    user_id: int | None = None,
    acting_role: str = "",
    key_digest: bytes | None = None,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
) -> list[CalendarEntry]:
    """The rows of a barber's feed: by key (key_digest) or for a staff user."""
    with database_errors():
        rows = await db.fetch(
            QUERIES["calendar_feed"], barber_id, user_id, key_digest, acting_role, start_from, start_to
        )
    return [CalendarEntry(**{name: r[name] for name in CalendarEntry.__struct_fields__}) for r in rows]


async def appointment(db, appointment_id: int, user_id: int, acting_role: str) -> CalendarEntry | None:
    """One appointment, as GET /appointments/{id} would show it to this user; None if not."""
    with database_errors():
        rows = await db.fetch(QUERIES["appointment_calendar"], appointment_id, user_id, acting_role)
    if not rows:
        return None
    r = rows[0]
    fields = {name: r[name] for name in CalendarEntry.__struct_fields__ if name != "barber_name"}
    return CalendarEntry(**fields, barber_name=r["barber_name"] or "")


async def issue_key(db, barber_id: int, user_id: int, acting_role: str) -> CalendarKey:
    key = new_key()
    with database_errors():
        key_id = await db.fetchval(
            QUERIES["issue_calendar_key"], barber_id, hashlib.sha256(key.encode()).digest(), user_id, acting_role
        )
    return CalendarKey(key_id, barber_id, key, f"/barbers/{barber_id}/calendar.ics?key={key}")


async def revoke_key(db, barber_id: int, key_id: int, user_id: int, acting_role: str) -> bool:
    with database_errors():
        return bool(await db.fetchval(QUERIES["revoke_calendar_key"], barber_id, key_id, user_id, acting_role))


# ------------------------------------------------------------------------------- iCalendar


def ical_status(entry: CalendarEntry, now: datetime) -> str:
    if entry.status in ("cancelled", "no_show", "expired"):
        return "CANCELLED"
    if entry.status == "held":
        expired = entry.hold_expires_at is not None and entry.hold_expires_at <= now
        return "CANCELLED" if expired else "TENTATIVE"
    return "CONFIRMED"


def uid(appointment_id: int) -> str:
    return f"appointment-{appointment_id}@{UID_HOST}"


def _event(entry: CalendarEntry, now: datetime, *, with_barber: bool, with_notes: bool) -> Event:
    ev = Event()
    ev.add("uid", uid(entry.id))
    ev.add("sequence", max(entry.version - 1, 0))
    ev.add("dtstamp", entry.updated_at.astimezone(UTC))
    ev.add("created", entry.created_at.astimezone(UTC))
    ev.add("last-modified", entry.updated_at.astimezone(UTC))
    ev.add("dtstart", entry.start_time.astimezone(UTC))
    ev.add("dtend", entry.end_time.astimezone(UTC))
    ev.add("summary", f"{entry.service_name} with {entry.barber_name}" if with_barber else entry.service_name)
    ev.add("status", ical_status(entry, now))
    ev.add("transp", "OPAQUE" if ical_status(entry, now) != "CANCELLED" else "TRANSPARENT")
    if with_notes and entry.notes:
        ev.add("description", entry.notes)
    return ev


def to_ical(
    entries: list[CalendarEntry], *, name: str, with_barber: bool, with_notes: bool, now: datetime | None = None
) -> bytes:
    """A VCALENDAR of these appointments (CRLF lines, folded at 75 octets, UTF-8)."""
    now = now or datetime.now(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("name", name)  # RFC 7986
    for entry in entries:
        cal.add_component(_event(entry, now, with_barber=with_barber, with_notes=with_notes))
    return cal.to_ical()
