"""Running a shop (contract section 7): an admin adds barbers and services, sets a barber's
working hours; an admin or the barber adds time off; staff read the hours and the time off.

| route                                   | who                     | answers                   |
|-----------------------------------------|-------------------------|---------------------------|
| POST /shops/{shop_id}/barbers           | an admin of the shop    | 201 the barber            |
| POST /shops/{shop_id}/services          | an admin of the shop    | 201 the service           |
| GET  /barbers/{barber_id}/working-hours | its shop's admin, itself| 200 the hours, ETag       |
| PUT  /barbers/{barber_id}/working-hours | an admin of its shop    | 200 the hours, ETag       |
| POST /barbers/{barber_id}/time-off      | its shop's admin, itself| 201 the time off          |
| GET  /barbers/{barber_id}/time-off      | its shop's admin, itself| 200 the time off to come  |

Each handler parses the request into typed values (the bodies below: form only), makes
ONE call of app.staff, and answers its record. The rules are the SQL functions': who may
(booking.assert_shop_admin, booking.assert_barber_staff: BK012 403; an admin of shop A is
nobody in shop B), what hours are (BK008), and the refusal of hours or time off that would
leave active appointments outside the working time (BK019 409, its detail listing them;
`?force=true` keeps them, for admins). The hours' ETag is their version
(booking.working_hours_version); a PUT with a stale If-Match is 412 (BK001), as for an
appointment (app.web.conditional).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from msgspec import Meta

from app import staff
from app.errors import catalogue_error
from app.records import Barber
from app.web.appointments import IfMatch, instant
from app.web.auth import Authenticated, count_write
from app.web.conditional import etag, matching_versions
from app.web.openapi import PROBLEMS, path_id

Int = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]
Text = Annotated[str, Meta(max_length=10_000)]
Force = Annotated[
    bool,
    QueryParameter(
        description="Admins: apply the change even when it leaves active appointments outside the working time "
        "(otherwise 409 BK019 lists them)."
    ),
]
ETagHeader = {"ETag": HeaderParameter(name="ETag", description="The hours' version", required=False)}


class NewBarber(msgspec.Struct, forbid_unknown_fields=True):
    """POST /shops/{shop_id}/barbers. timezone omitted: the shop's."""

    name: Text
    timezone: Text | None = None


class NewServiceBody(msgspec.Struct, forbid_unknown_fields=True):
    """POST /shops/{shop_id}/services: 1 to 1440 minutes, a price in cents (default 0)."""

    name: Text
    duration_minutes: Int
    price_cents: Int | None = None


class ShiftBody(msgspec.Struct, forbid_unknown_fields=True):
    """One shift: ISO weekday 1 (Monday) to 7, local HH:MM; several a day make split shifts;
    a closes_at not after opens_at ends the next day."""

    weekday: Int
    opens_at: Annotated[str, Meta(max_length=64, examples=["09:00"])]
    closes_at: Annotated[str, Meta(max_length=64, examples=["17:00"])]


class NewTimeOff(msgspec.Struct, forbid_unknown_fields=True):
    """POST /barbers/{barber_id}/time-off: [start, end), RFC 3339 instants with an offset
    (read as app.web.appointments.instant reads them: seconds required)."""

    start: Annotated[str, Meta(max_length=64, examples=["2030-01-08T12:00:00Z"])]
    end: Annotated[str, Meta(max_length=64, examples=["2030-01-08T13:00:00Z"])]
    reason: Text | None = None


# The hours' version (booking.working_hours_version): 0 without hours, else a row id.
HOURS_VERSION = r"0|[1-9][0-9]{0,17}"


def _no_store(content, status: int = 200, headers: dict | None = None) -> Response:
    return Response(content, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


class ShopController(Controller):
    path = "/shops"
    tags = ["running a shop"]
    security = [{"bearer": []}]

    @post("/{shop_id:str}/barbers", status_code=201, summary="Add a barber (admins of the shop)", responses=PROBLEMS)
    async def create_barber(
        self, request: Request, caller: Authenticated, shop_id: FromPath[str], data: JSONBody[NewBarber]
    ) -> Response[Barber]:
        count_write(request, caller)
        barber = await staff.create_barber(
            request.app.state.pool, caller, path_id(shop_id, "Shop"), data.name, data.timezone
        )
        return _no_store(barber, 201, {"Location": f"/barbers/{barber.id}/working-hours"})

    @post("/{shop_id:str}/services", status_code=201, summary="Add a service (admins of the shop)", responses=PROBLEMS)
    async def create_service(
        self, request: Request, caller: Authenticated, shop_id: FromPath[str], data: JSONBody[NewServiceBody]
    ) -> Response[staff.NewService]:
        count_write(request, caller)
        service = await staff.create_service(
            request.app.state.pool, caller, path_id(shop_id, "Shop"), data.name, data.duration_minutes, data.price_cents
        )
        return _no_store(service, 201)


class BarberScheduleController(Controller):
    path = "/barbers"
    tags = ["running a shop"]
    security = [{"bearer": []}]

    @get(
        "/{barber_id:str}/working-hours",
        summary="A barber's working hours (admins of its shop, the barber); ETag: their version",
        responses=PROBLEMS,
        response_headers=ETagHeader,
    )
    async def get_working_hours(
        self, request: Request, caller: Authenticated, barber_id: FromPath[str]
    ) -> Response[staff.WorkingHours]:
        hours = await staff.get_working_hours(request.app.state.read_pool, caller, path_id(barber_id, "Barber"))
        return _no_store(hours, headers={"ETag": etag(hours.version)})

    @put(
        "/{barber_id:str}/working-hours",
        summary="Replace a barber's working hours (admins; If-Match: the ETag read; 409 BK019 unless force)",
        responses=PROBLEMS,
        response_headers=ETagHeader,
    )
    async def set_working_hours(
        self,
        request: Request,
        caller: Authenticated,
        barber_id: FromPath[str],
        data: JSONBody[Annotated[list[ShiftBody], Meta(max_length=100)]],
        if_match: IfMatch = None,
        force: Force = False,
    ) -> Response[staff.WorkingHours]:
        count_write(request, caller)
        target = path_id(barber_id, "Barber")
        versions = matching_versions(if_match, HOURS_VERSION)
        expected: int | None = None
        if versions is not None:
            if len(versions) == 1:
                (expected,) = versions
            else:
                # several tags (rare): the current version when it is one of them, read just
                # before the change; a change in between makes the call itself answer 412
                current = await staff.get_working_hours(request.app.state.read_pool, caller, target)
                if current.version not in versions:
                    raise catalogue_error(
                        "BK001",
                        "None of the entity tags of If-Match is the working hours' current ETag "
                        "(If-Match compares strongly: a weak W/ tag never matches).",
                    )
                expected = current.version
        hours = await staff.set_working_hours(
            request.app.state.pool,
            caller,
            target,
            [msgspec.structs.asdict(s) for s in data],
            force=force,
            expected_version=expected,
        )
        return _no_store(hours, headers={"ETag": etag(hours.version)})

    @post(
        "/{barber_id:str}/time-off",
        status_code=201,
        summary="Add time off (admins of its shop, the barber; 409 BK019 when it covers appointments, unless force)",
        responses=PROBLEMS,
    )
    async def add_time_off(
        self,
        request: Request,
        caller: Authenticated,
        barber_id: FromPath[str],
        data: JSONBody[NewTimeOff],
        force: Force = False,
    ) -> Response[staff.TimeOff]:
        count_write(request, caller)
        row = await staff.add_time_off(
            request.app.state.pool,
            caller,
            path_id(barber_id, "Barber"),
            instant("start", data.start),
            instant("end", data.end),
            data.reason,
            force=force,
        )
        return _no_store(row, 201)

    @get(
        "/{barber_id:str}/time-off",
        summary="A barber's time off that has not ended (admins of its shop, the barber)",
        responses=PROBLEMS,
    )
    async def list_time_off(
        self, request: Request, caller: Authenticated, barber_id: FromPath[str]
    ) -> Response[staff.TimeOffList]:
        rows = await staff.list_time_off(request.app.state.read_pool, caller, path_id(barber_id, "Barber"))
        return _no_store(rows)


HANDLERS = [ShopController, BarberScheduleController]
