"""What /schema says about the parts of a request the handlers read themselves.

The handlers parse their JSON bodies, query parameters and headers by hand (so that every
refusal is a problem document in the project's words), which leaves Litestar nothing to
describe. `documented(...)` gives a route an Operation class that adds them: the request
body's JSON Schema, the query and header parameters, and the bearer-token requirement.
It describes; it does not validate: the handlers and the SQL functions remain the judges,
and a request the schema would reject still gets the handler's own answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from litestar.openapi.spec import (
    Components, OpenAPIFormat, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Parameter, RequestBody,
    Schema, SecurityScheme,
)

BEARER = "bearer"
SECURITY_COMPONENTS = Components(security_schemes={
    BEARER: SecurityScheme(type="http", scheme="bearer",
                           description="A token from `python -m app token create` (client, barber or admin)."),
})

_ID = Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=2**63 - 1)
_MINUTES = Schema(type=OpenAPIType.INTEGER, minimum=0, maximum=1440,
                  description="Buffer in whole minutes; the barber's time around the appointment.")
_DATE = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE,
               description="The barber's local date, YYYY-MM-DD.")
_TIME = Schema(type=OpenAPIType.STRING, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
               description="The barber's local time, HH:MM (a time skipped by a clock change is refused, "
                           "a repeated one is its earlier instant).")
_SERVICE = Schema(type=OpenAPIType.STRING, min_length=1, max_length=200, description="A service name.")
_NOTES = Schema(one_of=[Schema(type=OpenAPIType.STRING, max_length=2000), Schema(type=OpenAPIType.NULL)])

CREATE_BODY = Schema(
    type=OpenAPIType.OBJECT,
    properties={
        "barber_id": Schema(one_of=[_ID, Schema(type=OpenAPIType.NULL)],
                            description="Omitted or null: any barber who offers the service and is free."),
        "service": _SERVICE, "booking_date": _DATE, "booking_time": _TIME,
        "buffer_time_before": _MINUTES, "buffer_time_after": _MINUTES, "notes": _NOTES,
    },
    required=["service", "booking_date", "booking_time"],
    additional_properties=False,
)
CHANGE_BODY = Schema(
    type=OpenAPIType.OBJECT,
    properties={
        "start_time": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME,
                             description="A new start as an RFC 3339 instant (instead of booking_date/booking_time)."),
        "booking_date": _DATE, "booking_time": _TIME, "barber_id": _ID,
        "buffer_time_before": _MINUTES, "buffer_time_after": _MINUTES, "notes": _NOTES,
        "status": Schema(type=OpenAPIType.STRING,
                         enum=["scheduled", "confirmed", "completed", "cancelled", "no_show"]),
    },
    additional_properties=False,
    description="Only the fields to change (the keys booking.update_appointment accepts); without If-Match "
                "the change applies to the current version.",
)


_INSTANT = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME)
_INT = Schema(type=OpenAPIType.INTEGER)
_STATUS = Schema(type=OpenAPIType.STRING, enum=["scheduled", "confirmed", "completed", "cancelled", "no_show"])

# An appointment as every appointment answer carries it (app.http.appointment_json); the
# ETag header is its version.
APPOINTMENT = Schema(
    type=OpenAPIType.OBJECT,
    properties={
        "id": _INT, "barber_id": _INT, "user_id": _INT, "service": Schema(type=OpenAPIType.STRING),
        "booking_date": _DATE, "booking_time": _TIME,
        "timezone": Schema(type=OpenAPIType.STRING, description="The barber's IANA time zone."),
        "start_time": _INSTANT, "end_time": _INSTANT, "duration_minutes": _INT,
        "buffer_time_before": _INT, "buffer_time_after": _INT, "status": _STATUS,
        "notes": Schema(one_of=[Schema(type=OpenAPIType.STRING), Schema(type=OpenAPIType.NULL)]),
        "version": Schema(type=OpenAPIType.INTEGER, minimum=1), "created_at": _INSTANT, "updated_at": _INSTANT,
    },
    required=["id", "barber_id", "user_id", "service", "booking_date", "booking_time", "timezone", "start_time",
              "end_time", "duration_minutes", "buffer_time_before", "buffer_time_after", "status", "notes",
              "version", "created_at", "updated_at"],
    additional_properties=False,
)
SLOTS = Schema(
    type=OpenAPIType.OBJECT,
    properties={
        "barber_id": Schema(one_of=[_INT, Schema(type=OpenAPIType.NULL)]), "date": _DATE,
        "service": Schema(type=OpenAPIType.STRING),
        "slots": Schema(type=OpenAPIType.ARRAY, items=Schema(
            type=OpenAPIType.OBJECT, properties={"start": _INSTANT, "end": _INSTANT}, required=["start", "end"],
            additional_properties=False)),
    },
    required=["barber_id", "date", "service", "slots"],
    additional_properties=False,
)

# RFC 9457 problem details, as app/errors.py writes them; `code` is the stable name (the
# SQLSTATE for the engine's refusals, see the README's table).
PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    properties={"type": Schema(type=OpenAPIType.STRING), "title": Schema(type=OpenAPIType.STRING),
                "status": Schema(type=OpenAPIType.INTEGER), "detail": Schema(type=OpenAPIType.STRING),
                "code": Schema(type=OpenAPIType.STRING)},
    required=["type", "title", "status", "code"],
)
PROBLEM_STATUSES = {
    "400": "Malformed JSON, header or path", "401": "No valid bearer token", "403": "Not allowed for this token",
    "404": "Not found, or not visible to the caller", "409": "The slot is taken, or the status cannot change so",
    "412": "If-Match names another version", "413": "The body is too large",
    "422": "The request is understood but refused; `code` says why", "429": "Too many requests for this token",
    "503": "Lock timeout, overload or database unavailable: retry after Retry-After",
}


def query(name: str, schema: Schema, description: str, *, required: bool = False) -> Parameter:
    return Parameter(name=name, param_in="query", schema=schema, description=description, required=required)


def header(name: str, schema: Schema, description: str) -> Parameter:
    return Parameter(name=name, param_in="header", schema=schema, description=description, required=False)


IDEMPOTENCY_KEY = header("Idempotency-Key", Schema(type=OpenAPIType.STRING, pattern=r"^[\x21-\x7e]{1,200}$"),
                         "Same key and same body replays the first answer (Idempotent-Replayed: true); "
                         "same key with another body is 422. Keys are scoped to the caller.")
IF_MATCH = header("If-Match", Schema(type=OpenAPIType.STRING),
                  'The ETag read before, "<version>": a stale one is 412.')
LAST_EVENT_ID = header("Last-Event-ID", Schema(type=OpenAPIType.STRING, pattern=r"^[0-9]{1,19}$"),
                       "Replay the events after this id first.")
SLOT_QUERY = [
    query("date", _DATE, "The local date.", required=True),
    query("service", _SERVICE, "The service to fit.", required=True),
    query("buffer_time_before", _MINUTES, "Buffer before, in minutes (default 0)."),
    query("buffer_time_after", _MINUTES, "Buffer after, in minutes (default 0)."),
]


def documented(*, body: Schema | None = None, parameters: list[Parameter] = (), answer: Schema | None = None,
               authenticated: bool = True) -> type[Operation]:
    """An Operation class for a route: Litestar builds it, this adds what the handler reads
    and, with `answer`, the JSON its success response carries."""

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            if body is not None:
                self.request_body = RequestBody(content={"application/json": OpenAPIMediaType(schema=body)},
                                                required=True)
            if parameters:
                self.parameters = [*(self.parameters or []), *parameters]
            if authenticated:
                self.security = [{BEARER: []}]
            responses = dict(self.responses or {})
            if answer is not None:
                for status, response in list(responses.items()):
                    if status.startswith("2"):
                        responses[status] = OpenAPIResponse(
                            description=response.description,
                            content={"application/json": OpenAPIMediaType(schema=answer)})
            for status, description in PROBLEM_STATUSES.items():
                responses[status] = OpenAPIResponse(
                    description=description,
                    content={"application/problem+json": OpenAPIMediaType(schema=PROBLEM)})
            self.responses = responses

    return DocumentedOperation

