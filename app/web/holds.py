"""Holds (contract section 7): POST /holds takes a slot for the caller while they pay or
decide; POST /holds/{id}/confirm makes it the appointment. Each handler parses the request,
makes one call of app.booking, and answers its record; the rules (what blocks what, when a
hold expires, who may confirm) are the engine's (booking.hold_slot, booking.confirm_hold)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, Request, Response, post
from litestar.params import FromPath, JSONBody

from app import booking
from app.records import Appointment
from app.web.appointments import IdempotencyKey, answer, placement
from app.web.auth import Authenticated, count_write
from app.web.bodies import NewAppointment
from app.web.conditional import etag
from app.web.openapi import PROBLEMS, path_id


class Hold(Appointment, omit_defaults=True):
    """A hold: the appointment row it is (status 'held'), and expires_at, when the slot is
    free again unless confirmed (the same instant as hold_expires_at)."""

    expires_at: datetime | None = None


class HoldController(Controller):
    path = "/holds"
    tags = ["holds"]
    security = [{"bearer": []}]

    @post("/", status_code=201, summary="Hold a slot until expires_at (then it is free again)", responses=PROBLEMS)
    async def hold(
        self,
        request: Request,
        caller: Authenticated,
        data: JSONBody[NewAppointment],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Hold]:
        count_write(request, caller)
        held = await booking.hold_slot(request.app.state.pool, **placement(caller, data, idempotency_key))
        headers = {"Location": f"/appointments/{held.id}", "ETag": etag(held.version), "Cache-Control": "no-store"}
        if held.replayed:
            headers["Idempotent-Replayed"] = "true"
        fields = msgspec.structs.asdict(msgspec.structs.replace(held, replayed=False))
        return Response(Hold(**fields, expires_at=held.hold_expires_at), status_code=201, headers=headers)

    @post(
        "/{hold_id:str}/confirm",
        status_code=201,
        summary="Make the hold the appointment (410 when it expired or was released)",
        responses=PROBLEMS,
    )
    async def confirm(
        self, request: Request, caller: Authenticated, hold_id: FromPath[str], idempotency_key: IdempotencyKey = None
    ) -> Response[Appointment]:
        # Confirming is idempotent by itself (a second confirm answers the appointment again,
        # Idempotent-Replayed: true), so a key adds nothing to remember; it is accepted.
        count_write(request, caller)
        target = path_id(hold_id, "Appointment")
        made = await booking.confirm_hold(request.app.state.pool, target, caller.user_id, acting_role=caller.role)
        headers = {"Location": f"/appointments/{made.id}"}
        if made.replayed:
            headers["Idempotent-Replayed"] = "true"
        return answer(made, 201, headers)
