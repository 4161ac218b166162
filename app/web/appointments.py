"""Appointments: book, read, change, cancel. Each handler parses the request into typed
values, makes one call of app.booking (or app.reads), and answers its record; the rules are
the engine's."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, HeaderParameter, JSONBody

from app import booking, reads
from app.errors import catalogue_error
from app.records import Appointment
from app.web.auth import Authenticated, count_write
from app.web.bodies import AppointmentChanges, NewAppointment
from app.web.conditional import etag, expected_version
from app.web.openapi import PROBLEMS, path_id

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
        made = await booking.create_booking(
            request.app.state.pool,
            user_id=caller.user_id,
            booking_date=data.booking_date,
            booking_time=data.booking_time,
            service=data.service,
            barber_id=data.barber_id,
            buffer_time_before=data.buffer_time_before or 0,
            buffer_time_after=data.buffer_time_after or 0,
            notes=data.notes,
            idempotency_key=idempotency_key,
            acting_role=caller.role,
            shop_id=data.shop_id,
        )
        headers = {"Location": f"/appointments/{made.id}"}
        if made.replayed:
            headers["Idempotent-Replayed"] = "true"
        return answer(made, 201, headers)

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

    @post("/{appointment_id:str}/cancel", status_code=200, summary="Cancel an appointment", responses=PROBLEMS)
    async def cancel(
        self, request: Request, caller: Authenticated, appointment_id: FromPath[str], if_match: IfMatch = None
    ) -> Response[Appointment]:
        target, expected = await _conditional_write(request, caller, appointment_id, if_match)
        cancelled = await booking.cancel_booking(
            request.app.state.pool, target, caller.user_id, expected, acting_role=caller.role
        )
        return answer(cancelled)
