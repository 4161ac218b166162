"""The booking page and the small listings it needs.

    from app.page import PAGE_HANDLERS     # registered by app.http.create_app

Routes
    GET /                 the booking page (app/static/index.html); open, no token
    GET /static/...       its script and style sheet (app/static/); open
    GET /barbers          {"barbers": [{"id", "name", "timezone"}]}            (token)
    GET /services         {"services": [{"name", "duration_minutes", "price_cents"}]} (token)
    GET /availability     ?date=YYYY-MM-DD&service=NAME[&barber_id=N]
                          [&buffer_time_before=N&buffer_time_after=N]          (token)
                          {"barber_id": N|null, "date", "service", "slots": [{"start", "end"}]}
                          Without barber_id: "any barber", the union of the free starts of
                          every barber offering the service (booking.free_slots(NULL, ...)),
                          each barber's day read in that barber's own time zone.

The page holds no logic of its own about what is free: it shows what the database answers
and books through POST /appointments, where book_appointment() stays the judge. It keeps
its script and styles in separate files (no inline script or style), so a
Content-Security-Policy of 'self' suffices.
"""

from __future__ import annotations

import re
from pathlib import Path

from litestar import MediaType, Request, Response, get
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.static_files import create_static_files_router

from app import booking
from app.errors import ValidationError
from app.openapi import SLOT_QUERY, SLOTS, documented, query

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _http():
    # app.http imports this module inside create_app(); importing it lazily here keeps
    # the two modules free of an import cycle.
    from app import http
    return http


def _json(body: object) -> Response:
    return Response(content=_http()._dumps(body), media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@get("/", include_in_schema=False, sync_to_thread=False)
def booking_page() -> Response:
    html = (STATIC_DIR / "index.html").read_bytes()
    return Response(content=html, media_type=MediaType.HTML, headers={"Cache-Control": "no-cache"})


@get("/barbers", summary="Every barber: id, name, time zone", operation_class=documented())
async def list_barbers(request: Request) -> Response:
    http = _http()
    await http.authenticate(request)
    rows = await http.fetch(request, "list_barbers")
    return _json({"barbers": [{"id": r["id"], "name": r["name"], "timezone": r["timezone"]} for r in rows]})


@get("/services", summary="Every service: name, duration, price", operation_class=documented())
async def list_services(request: Request) -> Response:
    http = _http()
    await http.authenticate(request)
    rows = await http.fetch(request, "list_services")
    return _json({"services": [{"name": r["name"], "duration_minutes": r["duration_minutes"],
                                "price_cents": r["price_cents"]} for r in rows]})


def _optional_barber_id(value: str | None) -> int | None:
    if value is None or value.strip() == "" or value.strip().lower() == "any":
        return None
    value = value.strip()
    if not re.fullmatch(r"\d{1,19}", value) or not 1 <= int(value) <= 2**63 - 1:
        raise ValidationError(f"barber_id must be a barber's id, or omitted for any barber (got {value[:40]!r}).",
                              field="barber_id")
    return int(value)


@get("/availability", summary="Free start times of one barber, or of any barber, on a day",
     operation_class=documented(parameters=[
         query("barber_id", Schema(type=OpenAPIType.STRING, pattern=r"^([0-9]{1,19}|any)?$"),
               "A barber's id; omitted, empty or \"any\": any barber who offers the service."),
         *SLOT_QUERY], answer=SLOTS))
async def any_availability(request: Request) -> Response:
    http = _http()
    await http.authenticate(request)
    params = request.query_params
    if "date" not in params:
        raise ValidationError("date is required (YYYY-MM-DD, the barber's local date).", field="date")
    if "service" not in params:
        raise ValidationError("service is required (a service name).", field="service")
    barber_id = _optional_barber_id(params.get("barber_id"))
    day = booking.parse_date(params.get("date"), "date")
    service = booking.parse_text(params.get("service"), "service")
    http._check_service_length(service)
    rows = await http.fetch(request, "free_slots", barber_id, day.isoformat(), service,
                            http._query_int(request, "buffer_time_before", 0),
                            http._query_int(request, "buffer_time_after", 0))
    return _json({"barber_id": barber_id, "date": day.isoformat(), "service": service,
                  "slots": [{"start": http.rfc3339(r["start_time"]), "end": http.rfc3339(r["end_time"])}
                            for r in rows]})


static_files = create_static_files_router(path="/static", directories=[STATIC_DIR], name="static",
                                          include_in_schema=False)

PAGE_HANDLERS = [booking_page, static_files, list_barbers, list_services, any_availability]
