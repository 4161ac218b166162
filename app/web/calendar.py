"""Calendar feeds over HTTP (issue 15 part 6; contract section 7), written by app.calendar:

| request                                             | who                                       |
|-----------------------------------------------------|-------------------------------------------|
| GET /barbers/{id}/calendar.ics[?key=K][&from=&to=]   | an admin of the shop or that barber       |
|                                                     | (bearer token), or anyone with key K      |
| POST /barbers/{id}/calendar-keys                    | admin of the shop or that barber: 201,    |
|                                                     | the key (shown only here) and its URL     |
| DELETE /barbers/{id}/calendar-keys/{key_id}         | the same: 204; the key is 404 from now on |
| GET /appointments/{id}.ics                          | whoever may GET /appointments/{id}        |

A key that is unknown, revoked, another barber's or not even shaped like a key is 404
(BK021), the same answer whether the barber exists or not; a malformed one never reaches
the database. The feed covers appointments starting from 30 days ago to 365 days ahead
(`from`/`to`, RFC 3339, choose another window of at most 400 days) and at most 5000 of
them (booking.calendar_feed). Every answer has a strong ETag (a hash of the body) and
Last-Modified (the latest change among its appointments): a calendar app's conditional GET
(If-None-Match, or If-Modified-Since without it) gets 304.

`/appointments/{id}.ics`: Litestar's path parameters are whole segments, and
`/appointments/{id}` takes any segment already, so `ics_paths` (around the router, like
HEAD) sends GET and HEAD of `/appointments/<segment>.ics` to
`/appointments/<segment>/calendar.ics`, the route the OpenAPI document lists. Any other
path (`/appointments/5`, `/appointments/.ics`, `/appointments/5.ics/x`) is untouched.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated
from urllib.parse import quote

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, QueryParameter
from litestar.types import ASGIApp, Receive, Scope, Send

from app import calendar
from app.errors import catalogue_error
from app.web.appointments import ListFrom, ListTo, instant
from app.web.auth import Authenticated, count_write, provide_caller
from app.web.openapi import PROBLEMS, path_id

ICS = "text/calendar"  # Litestar adds "; charset=utf-8" to a text type
FeedKey = Annotated[
    str | None,
    QueryParameter(
        description="A key issued for this barber's feed (POST /barbers/{id}/calendar-keys); without it, send a "
        "staff bearer token. An unknown or revoked key is 404.",
    ),
]


def _not_found() -> Exception:
    return catalogue_error("BK021", "No calendar feed has this key.")


def _matches(if_none_match: str, tag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x"; * matches any."""
    for item in if_none_match.split(","):
        item = item.strip()
        if item == "*" or item.removeprefix("W/") == tag:
            return True
    return False


def ics_response(request: Request, body: bytes, last_modified: datetime | None, private: bool = True) -> Response:
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified.astimezone(UTC).replace(microsecond=0), usegmt=True)
    inm = request.headers.get("if-none-match")
    ims = request.headers.get("if-modified-since")
    fresh = False
    if inm is not None:
        fresh = _matches(inm[:2048], tag)
    elif ims is not None and last_modified is not None:
        try:
            fresh = last_modified.replace(microsecond=0) <= parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError, OverflowError):
            fresh = False  # an unreadable date is ignored (RFC 9110 13.1.3)
    if fresh:
        return Response(b"", status_code=304, headers=headers, media_type=ICS)
    return Response(body, headers=headers, media_type=ICS)


def _latest(entries: list[calendar.CalendarEntry]) -> datetime | None:
    return max((e.updated_at for e in entries), default=None)


@get(
    "/barbers/{barber_id:str}/calendar.ics",
    summary="The barber's appointments as iCalendar (RFC 5545), for staff or with a feed key",
    media_type=ICS,
    security=[{"bearer": []}, {}],
    responses=PROBLEMS,
    tags=["calendar"],
)
async def barber_calendar(
    request: Request, barber_id: FromPath[str], key: FeedKey = None, from_: ListFrom = None, to: ListTo = None
) -> Response[bytes]:
    window = {"start_from": instant("from", from_), "start_to": instant("to", to)}
    if key is not None:
        digest = calendar.key_hash(key)
        if digest is None:
            raise _not_found()
        try:
            barber = path_id(barber_id, "Barber")
        except Exception:
            raise _not_found() from None
        entries = await calendar.feed(request.app.state.read_pool, barber, key_digest=digest, **window)
        with_notes = False
    else:
        caller = await provide_caller(request)
        barber = path_id(barber_id, "Barber")
        entries = await calendar.feed(
            request.app.state.read_pool, barber, user_id=caller.user_id, acting_role=caller.role, **window
        )
        with_notes = True
    name = f"Appointments of {entries[0].barber_name}" if entries else f"Appointments of barber {barber}"
    body = calendar.to_ical(entries, name=name, with_barber=False, with_notes=with_notes)
    return ics_response(request, body, _latest(entries))


@post(
    "/barbers/{barber_id:str}/calendar-keys",
    status_code=201,
    summary="Issue a key for the barber's calendar feed (shown only in this answer)",
    security=[{"bearer": []}],
    responses=PROBLEMS,
    tags=["calendar"],
)
async def issue_calendar_key(
    request: Request, caller: Authenticated, barber_id: FromPath[str]
) -> Response[calendar.CalendarKey]:
    count_write(request, caller)
    barber = path_id(barber_id, "Barber")
    made = await calendar.issue_key(request.app.state.pool, barber, caller.user_id, caller.role)
    return Response(made, status_code=201, headers={"Cache-Control": "no-store", "Location": made.url})


@delete(
    "/barbers/{barber_id:str}/calendar-keys/{key_id:str}",
    status_code=204,
    summary="Revoke a key of the barber's calendar feed",
    security=[{"bearer": []}],
    responses=PROBLEMS,
    tags=["calendar"],
)
async def revoke_calendar_key(
    request: Request, caller: Authenticated, barber_id: FromPath[str], key_id: FromPath[str]
) -> None:
    count_write(request, caller)
    barber = path_id(barber_id, "Barber")
    if not (key_id.isascii() and key_id.isdigit() and len(key_id) <= 18):
        raise catalogue_error("BK021", f"Barber {barber} has no calendar key {key_id[:40]!r}.")
    await calendar.revoke_key(request.app.state.pool, barber, int(key_id), caller.user_id, caller.role)


@get(
    "/appointments/{appointment_id:str}/calendar.ics",
    summary="One appointment as iCalendar (also at /appointments/{id}.ics): add it to a calendar",
    media_type=ICS,
    security=[{"bearer": []}],
    responses=PROBLEMS,
    tags=["calendar"],
)
async def appointment_calendar(
    request: Request, caller: Authenticated, appointment_id: FromPath[str]
) -> Response[bytes]:
    target = path_id(appointment_id, "Appointment")
    found = await calendar.appointment(request.app.state.read_pool, target, caller.user_id, caller.role)
    if found is None:
        raise catalogue_error("BK011", f"No appointment {target} is visible to you.")
    body = calendar.to_ical(
        [found], name=f"{found.service_name} with {found.barber_name}", with_barber=True, with_notes=True
    )
    return ics_response(request, body, found.updated_at)


HANDLERS = [barber_calendar, issue_calendar_key, revoke_calendar_key, appointment_calendar]

_ICS_PATH = re.compile(r"/appointments/([^/]+)\.ics")


def ics_paths(app: ASGIApp) -> ASGIApp:
    """GET/HEAD /appointments/<segment>.ics -> /appointments/<segment>/calendar.ics."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            m = _ICS_PATH.fullmatch(scope["path"])
            if m is not None:
                path = f"/appointments/{m.group(1)}/calendar.ics"
                raw = quote(path, safe="/", errors="surrogateescape").encode("ascii")
                scope = {**scope, "path": path, "raw_path": raw}
        await app(scope, receive, send)

    return middleware
