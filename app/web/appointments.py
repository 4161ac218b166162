"""Appointments: book, read, change, cancel. Each handler parses the request into typed
values, makes one call of app.booking (or app.reads), and answers its record; the rules are
the engine's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from app import booking, reads
from app.errors import BookingConflictError, ValidationError, catalogue_error
from app.records import Appointment, AppointmentPage, Appointments
from app.web import cursor as cursors
from app.web import learning
from app.web.auth import Authenticated, count_write
from app.web.bodies import AppointmentChanges, NewAppointment, NewSeries
from app.web.conditional import etag, expected_version
from app.web.openapi import INT64_MAX, PROBLEMS, path_id

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Same key and same body replays the first answer (Idempotent-Replayed: true); the same key with "
        "another body is 422 (BK002). Keys belong to the caller; 1 to 200 printable ASCII characters.",
    ),
]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description='The ETag read before, "<version>", or a list of them; compared strongly. A stale one is 412.',
    ),
]

# GET /appointments: the filters and the page, as typed query parameters.
ListBarber = Annotated[int | None, QueryParameter(ge=1, le=INT64_MAX, description="Only this barber's appointments.")]
ListFrom = Annotated[
    str | None,
    QueryParameter(name="from", max_length=64, description="Start at or after this RFC 3339 instant."),
]
ListTo = Annotated[str | None, QueryParameter(max_length=64, description="Start before this RFC 3339 instant.")]
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})")


def instant(field: str, text: str | None) -> datetime | None:
    """An RFC 3339 date-time with its offset (seconds required; at most microseconds), as
    an instant of the years 1 to 9999 in UTC; ValidationError otherwise."""
    if text is None:
        return None
    if _RFC3339.fullmatch(text):
        try:
            return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(UTC)
        except (ValueError, OverflowError):  # a day that does not exist; before year 1 in UTC
            pass
    raise ValidationError(
        f"{field} must be an RFC 3339 instant with its offset, such as 2031-03-03T09:00:00Z, within the years "
        f"1 to 9999 in UTC (got {text[:40]!r}).",
        field=field,
    )


ListStatus = Annotated[
    str | None,
    QueryParameter(max_length=64, description="Only this status (scheduled, confirmed, completed, cancelled, ...)."),
]
ListCursor = Annotated[
    str | None,
    QueryParameter(
        max_length=64, description="The next_cursor of the previous page (opaque); omitted: the first page."
    ),
]
PageSize = Annotated[int, QueryParameter(ge=1, le=100, description="Appointments per page (1 to 100; default 50).")]


def answer(appointment: Appointment, status: int = 200, headers: dict[str, str] | None = None) -> Response[Appointment]:
    if appointment.replayed:  # a replay's body is the first answer's; the header says it is one
        appointment = msgspec.structs.replace(appointment, replayed=False)
    return Response(
        appointment,
        status_code=status,
        headers={"ETag": etag(appointment.version), "Cache-Control": "no-store", **(headers or {})},
    )


async def _conditional_write(
    request: Request, caller, appointment_id: str, if_match: str | None
) -> tuple[int, int | None]:
    """A change of one appointment: counted against the token's write limit, its id read
    from the path, its If-Match turned into the version it must still be."""
    count_write(request, caller)
    target = path_id(appointment_id, "Appointment")
    return target, await expected_version(request.app.state.read_pool, if_match, target, caller)


def placement(caller, data, idempotency_key: str | None) -> dict:
    """The arguments a body of POST /appointments (also /holds, /appointments/series) gives
    app.booking's create_booking, hold_slot and book_series, for the caller."""
    args = {
        "user_id": caller.user_id,
        "booking_date": data.booking_date,
        "booking_time": data.booking_time,
        "service": data.service,
        "barber_id": data.barber_id,
        # omitted: the barber's default for the service (booking.set_service_buffers; 0 without one)
        "buffer_time_before": data.buffer_time_before,
        "buffer_time_after": data.buffer_time_after,
        "notes": data.notes,
        "idempotency_key": idempotency_key,
        "acting_role": caller.role,
    }
    if hasattr(data, "shop_id"):
        args["shop_id"] = data.shop_id
    return args


class AppointmentController(Controller):
    path = "/appointments"
    tags = ["appointments"]
    security = [{"bearer": []}]

    @post("/", status_code=201, summary="Book an appointment", responses=PROBLEMS)
    async def book(
        self,
        request: Request,
        caller: Authenticated,
        data: JSONBody[NewAppointment],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Appointment]:
        count_write(request, caller)
        try:
            made = await booking.create_booking(request.app.state.pool, **placement(caller, data, idempotency_key))
        except BookingConflictError:
            # A 409 is information for the conflict model: recorded after the refusal, in a
            # transaction of its own, not waited for (app.web.learning).
            learning.note_refused(
                request.app.state.pool, data.barber_id, data.shop_id, data.service, data.booking_date, data.booking_time
            )
            raise
        headers = {"Location": f"/appointments/{made.id}"}
        if made.replayed:
            headers["Idempotent-Replayed"] = "true"
        return answer(made, 201, headers)

    @get("/", summary="List the appointments the caller may see, oldest first", responses=PROBLEMS)
    async def list_visible(
        self,
        request: Request,
        caller: Authenticated,
        barber_id: ListBarber = None,
        from_: ListFrom = None,
        to: ListTo = None,
        status: ListStatus = None,
        cursor: ListCursor = None,
        limit: PageSize = 50,
    ) -> Response[AppointmentPage]:
        after = cursors.decode(cursor) if cursor is not None else None
        # One row more than the page says whether another page follows.
        rows = await reads.appointments(
            request.app.state.read_pool,
            caller.user_id,
            caller.role,
            barber_id=barber_id,
            start_from=instant("from", from_),
            start_to=instant("to", to),
            status=status,
            after=after,
            limit=limit + 1,
        )
        items = rows[:limit]
        more = len(rows) > limit
        next_cursor = cursors.encode(items[-1].start_time, items[-1].id) if more else None
        return Response(AppointmentPage(items, next_cursor), headers={"Cache-Control": "no-store"})

    @post(
        "/series",
        status_code=201,
        summary="Book every N weeks, K times, at one local time: all, or nothing and 409 naming the first refused",
        responses=PROBLEMS,
    )
    async def book_series(
        self,
        request: Request,
        caller: Authenticated,
        data: JSONBody[NewSeries],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Appointments]:
        count_write(request, caller)
        made = await booking.book_series(
            request.app.state.pool,
            every_weeks=data.every_weeks,
            count=data.count,
            **placement(caller, data, idempotency_key),
        )
        headers = {"Cache-Control": "no-store"}
        if made and all(a.replayed for a in made):
            headers["Idempotent-Replayed"] = "true"
        items = [msgspec.structs.replace(a, replayed=False) for a in made]
        return Response(Appointments(items), status_code=201, headers=headers)

    @get("/{appointment_id:str}", summary="Read an appointment", responses=PROBLEMS)
    async def read(
        self, request: Request, caller: Authenticated, appointment_id: FromPath[str]
    ) -> Response[Appointment]:
        appointment_id_ = path_id(appointment_id, "Appointment")
        found = await reads.appointment(request.app.state.read_pool, appointment_id_, caller.user_id, caller.role)
        if found is None:
            raise catalogue_error("BK011", f"No appointment {appointment_id_} is visible to you.")
        return answer(found)

    @patch("/{appointment_id:str}", summary="Change an appointment", responses=PROBLEMS)
    async def change(
        self,
        request: Request,
        caller: Authenticated,
        appointment_id: FromPath[str],
        data: JSONBody[AppointmentChanges],
        if_match: IfMatch = None,
    ) -> Response[Appointment]:
        target, expected = await _conditional_write(request, caller, appointment_id, if_match)
        changed = await booking.update_booking(
            request.app.state.pool, target, caller.user_id, data.changes(), expected, acting_role=caller.role
        )
        return answer(changed)

    @post(
        "/{appointment_id:str}/cancel-following",
        status_code=200,
        summary="Cancel this appointment and the later ones of its series",
        responses=PROBLEMS,
    )
    async def cancel_following(
        self, request: Request, caller: Authenticated, appointment_id: FromPath[str]
    ) -> Response[Appointments]:
        count_write(request, caller)
        target = path_id(appointment_id, "Appointment")
        cancelled = await booking.cancel_following(
            request.app.state.pool, target, caller.user_id, acting_role=caller.role
        )
        return Response(Appointments(cancelled), headers={"Cache-Control": "no-store"})

    @post("/{appointment_id:str}/cancel", status_code=200, summary="Cancel an appointment", responses=PROBLEMS)
    async def cancel(
        self, request: Request, caller: Authenticated, appointment_id: FromPath[str], if_match: IfMatch = None
    ) -> Response[Appointment]:
        target, expected = await _conditional_write(request, caller, appointment_id, if_match)
        cancelled = await booking.cancel_booking(
            request.app.state.pool, target, caller.user_id, expected, acting_role=caller.role
        )
        return answer(cancelled)

    @post(
        "/{appointment_id:str}/start",
        status_code=200,
        summary="Mark an appointment started: check-in (its barber, an admin of its shop)",
        responses=PROBLEMS,
    )
    async def start(
        self, request: Request, caller: Authenticated, appointment_id: FromPath[str], if_match: IfMatch = None
    ) -> Response[Appointment]:
        target, expected = await _conditional_write(request, caller, appointment_id, if_match)
        started = await booking.start_appointment(
            request.app.state.pool, target, caller.user_id, expected, acting_role=caller.role
        )
        return answer(started)

    @post(
        "/{appointment_id:str}/finish",
        status_code=200,
        summary="Mark a started appointment finished: check-out (its barber, an admin of its shop)",
        responses=PROBLEMS,
    )
    async def finish(
        self, request: Request, caller: Authenticated, appointment_id: FromPath[str], if_match: IfMatch = None
    ) -> Response[Appointment]:
        target, expected = await _conditional_write(request, caller, appointment_id, if_match)
        finished = await booking.finish_appointment(
            request.app.state.pool, target, caller.user_id, expected, acting_role=caller.role
        )
        return answer(finished)
