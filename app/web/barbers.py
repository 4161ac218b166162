"""Barbers: their free slots (one handler behind two routes), their event streams, and the
listings the booking page offers (barbers, services)."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

import msgspec
from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery, HeaderParameter, QueryParameter
from litestar.response import Stream

from app import reads
from app.errors import ValidationError, catalogue_error
from app.gateway import database_errors
from app.queries import QUERIES
from app.records import Barbers, Services, SlotPrediction, Slots
from app.streams import open_stream
from app.web.auth import Authenticated
from app.web.openapi import PROBLEMS, path_id

SECURE = {"security": [{"bearer": []}], "responses": PROBLEMS}
Buffer = Annotated[
    int | None,
    QueryParameter(
        ge=-(2**31),
        le=2**31 - 1,
        description="Buffer in minutes (0 to 1440); omitted: the barber's default for the service (0 without one).",
    ),
]
Predict = Annotated[
    bool,
    QueryParameter(
        description="true: each start gets taken_probability and likely_to_go_soon from the conflict model "
        "(advice, never a refusal; docs/LEARNING.md), and `prediction` says what they come from. "
        "Default false: the plain answer."
    ),
]
ShopId = Annotated[int, QueryParameter(ge=1, le=2**63 - 1, description="The shop (default 1, the default shop).")]
OptionalShopId = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**63 - 1, description="The shop (any barber: default 1; a named barber: its own)."),
]


def _json(content) -> Response:
    return Response(content, headers={"Cache-Control": "no-store"})


async def _slots(
    request: Request,
    barber_id: int | None,
    date: str,
    service: str,
    before: int | None,
    after: int | None,
    shop: int | None = None,
    predict: bool = False,
) -> Response:
    slots = await reads.free_slots(request.app.state.read_pool, barber_id, date, service, before, after, shop)
    if not predict:
        return _json(Slots(barber_id, date, service, slots))
    return _json(await _predicted(request, Slots(barber_id, date, service, slots)))


async def _predicted(request: Request, answer: Slots) -> Slots:
    """The slots marked by the conflict model (app.learning.serving), when there is one."""
    from app.learning import serving

    if answer.barber_id is None:
        return msgspec.structs.replace(
            answer, prediction=SlotPrediction(False, reason="predictions are per barber: name one")
        )
    payload, reason = await asyncio.to_thread(serving.load, request.app.state.settings.conflict_model)
    if payload is None:
        return msgspec.structs.replace(answer, prediction=SlotPrediction(False, reason=reason))
    with database_errors():
        demand = await request.app.state.read_pool.fetchrow(QUERIES["slot_demand"], answer.barber_id, answer.date)
    slots = await asyncio.to_thread(serving.mark, payload, answer.slots, demand)
    return msgspec.structs.replace(answer, slots=slots, prediction=serving.describe(payload))


@get("/barbers/{barber_id:str}/availability", summary="Free start times of a barber on a day", **SECURE)
async def barber_availability(
    request: Request,
    caller: Authenticated,
    barber_id: FromPath[str],
    date: FromQuery[str],
    service: FromQuery[str],
    buffer_time_before: Buffer = None,
    buffer_time_after: Buffer = None,
    predict: Predict = False,
) -> Response[Slots]:
    return await _slots(
        request, path_id(barber_id, "Barber"), date, service, buffer_time_before, buffer_time_after, predict=predict
    )


@get("/availability", summary="Free start times of one barber, or of any barber, on a day", **SECURE)
async def availability(
    request: Request,
    caller: Authenticated,
    date: FromQuery[str],
    service: FromQuery[str],
    barber_id: Annotated[
        str | None,
        QueryParameter(description='A barber\'s id; omitted, empty or "any": any barber who offers the service.'),
    ] = None,
    buffer_time_before: Buffer = None,
    buffer_time_after: Buffer = None,
    shop_id: OptionalShopId = None,
    predict: Predict = False,
) -> Response[Slots]:
    barber = None
    if barber_id is not None and barber_id.strip().lower() not in ("", "any"):
        if not re.fullmatch(r"\d{1,19}", barber_id.strip()) or not 1 <= int(barber_id) <= 2**63 - 1:
            raise ValidationError(
                f"barber_id must be a barber's id, or omitted for any barber (got {barber_id[:40]!r}).",
                field="barber_id",
            )
        barber = int(barber_id)
    return await _slots(request, barber, date, service, buffer_time_before, buffer_time_after, shop_id, predict)


@get(
    "/barbers/{barber_id:str}/events",
    media_type="text/event-stream",
    **SECURE,
    summary="Server-Sent Events: the barber's bookings, changes and cancellations",
)
async def barber_events(
    request: Request,
    caller: Authenticated,
    barber_id: FromPath[str],
    last_event_id: Annotated[
        str | None,
        HeaderParameter(name="Last-Event-ID", required=False, description="Replay the events after this id first."),
    ] = None,
) -> Stream:
    barber = path_id(barber_id, "Barber")
    last = last_event_id or request.query_params.get("last_event_id")
    after = None
    if last is not None and last.strip() != "":
        if not re.fullmatch(r"\d{1,19}", last.strip()) or int(last) > 2**63 - 1:
            raise ValidationError(f"Last-Event-ID must be an event id (got {last[:40]!r}).", field="Last-Event-ID")
        after = int(last)
    if not await reads.barber_exists(request.app.state.read_pool, barber):
        raise catalogue_error("BK003", f"No barber has id {barber}.")
    chunks = await open_stream(request.app.state.events, request.app.state.read_pool, barber, caller, after)
    return Stream(
        chunks, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@get("/barbers", summary="The barbers of a shop: id, name, time zone", **SECURE)
async def list_barbers(request: Request, caller: Authenticated, shop_id: ShopId = 1) -> Response[Barbers]:
    return _json(Barbers(await reads.barbers(request.app.state.read_pool, shop_id)))


@get("/services", summary="The services of a shop: name, duration, price", **SECURE)
async def list_services(request: Request, caller: Authenticated, shop_id: ShopId = 1) -> Response[Services]:
    return _json(Services(await reads.services(request.app.state.read_pool, shop_id)))


HANDLERS = [barber_availability, availability, barber_events, list_barbers, list_services]
