"""The HTTP API (contract section 3): a Litestar app, thin over app.booking and the SQL.

    from app.http import create_app
    app = create_app(Settings.from_env())

Routes
    POST  /appointments                     201 + Location + ETag; Idempotency-Key optional
    GET   /appointments/{id}                200 + ETag; 404 when absent or not the caller's
    PATCH /appointments/{id}                200 + ETag; If-Match optional (412 when stale)
    POST  /appointments/{id}/cancel         200 + ETag; If-Match optional
    GET   /barbers/{id}/availability        ?date=YYYY-MM-DD&service=NAME
                                            [&buffer_time_before=N&buffer_time_after=N]
    GET   /barbers/{id}/events              text/event-stream; Last-Event-ID replays
    GET   /health                           200 / 503 (open)
    GET   /metrics                          Prometheus text (open)
    GET   /schema, /schema/openapi.json     OpenAPI (open)

Rules of this layer (the booking rules are the database's):
- Authorization: Bearer <token>; its SHA-256 goes to booking.authenticate_token(). The
  caller's user id is p_user_id of every call, so visibility and permissions are decided
  by the SQL functions (booking.actor_role).
- Errors are RFC 9457 problems (application/problem+json) with type, title, status,
  detail and `code`: the SQLSTATE for engine errors (23P01, BK001, ...), or a slug:
  unauthorized, invalid_json, validation_error, not_found, invalid_if_match,
  method_not_allowed, database_unavailable, internal_error.
- Idempotency-Key (1-200 printable ASCII characters) is scoped to the caller by the
  engine (booking.idempotency_keys is keyed by user and key), so two users never collide. A replay answers as the first request
  did (status, body, Location, ETag) plus `Idempotent-Replayed: true`.
- If-Match: `"<version>"` (or W/"<version>") checks the version; `*` or no header applies
  to the current version. Anything else is 400 invalid_if_match.
- ETag is `"<version>"`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time as _time
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, time, timezone
from typing import Any, AsyncIterator

import asyncpg
from litestar import Litestar, Request, Response, get, patch, post
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.response import Stream
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app import booking, metrics
from app import db as dbmod
from app.admission import admission
from app.config import Settings
from app.errors import BookingError, ValidationError, catalogue_error, from_postgres
from app.events import PAGE, EventHub, StreamRefused, sse_chunk
from app.openapi import (
    APPOINTMENT, CHANGE_BODY, CREATE_BODY, IDEMPOTENCY_KEY, IF_MATCH, LAST_EVENT_ID, SECURITY_COMPONENTS, SLOT_QUERY,
    SLOTS, documented,
)
from app.queries import QUERIES
from app.ratelimit import TooManyRequests, WriteLimiter

log = logging.getLogger("booking.http")

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://booking.example/problems/"
INT64_MAX = 2**63 - 1
MAX_LAST_EVENT_ID = INT64_MAX
CREATE_FIELDS = {"barber_id", "service", "booking_date", "booking_time", "buffer_time_before",
                 "buffer_time_after", "notes"}
_IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")
# RFC 9110 If-Match: "*" or a comma-separated list of entity tags, weak (W/"x") or strong.
_ENTITY_TAG = r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"'
_ENTITY_TAG_RE = re.compile(_ENTITY_TAG)
_IF_MATCH_LIST_RE = re.compile(rf'\s*{_ENTITY_TAG}(?:\s*,\s*{_ENTITY_TAG})*\s*')
# RFC 7235: the credentials after the scheme are a token68; our tokens are 43 such characters.
_AUTHORIZATION_RE = re.compile(r"\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]+([A-Za-z0-9._~+/-]+=*)\s*")
MAX_SERVICE_LENGTH = 200          # a service name longer than this cannot exist: 422 at once


# --- problems --------------------------------------------------------------------------

class ProblemError(Exception):
    """An HTTP-layer problem (not from the engine)."""

    def __init__(self, status: int, code: str, title: str, detail: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.headers = headers or {}
        self.extra = extra


def problem_response(status: int, code: str, title: str, detail: str | None = None,
                     headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body = {"type": PROBLEM_BASE + code.lower(), "title": title, "status": status,
            "detail": detail or title, "code": code}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(content=_dumps(body), status_code=status, media_type=PROBLEM, headers=headers or {})


def _booking_error_response(exc: BookingError) -> Response:
    headers = {}
    if exc.http_status == 503:
        headers["Retry-After"] = "1"
    extra = dict(exc.extra())
    if exc.hint:
        extra["hint"] = exc.hint
    extra.setdefault("name", exc.name)
    return problem_response(exc.http_status, exc.code, exc.message, exc.detail, headers, **extra)


def _is_db_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, (asyncpg.PostgresConnectionError, asyncpg.ConnectionDoesNotExistError,
                        asyncpg.CannotConnectNowError, OSError, asyncio.TimeoutError)):
        return True
    if booking.is_connection_loss(exc):
        return True
    sqlstate = getattr(exc, "sqlstate", None) or ""
    return sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")


def exception_to_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ProblemError):
        return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.headers, **exc.extra)
    if isinstance(exc, BookingError):
        return _booking_error_response(exc)
    if isinstance(exc, TooManyRequests):
        return problem_response(429, "too_many_requests", "Too many requests", str(exc),
                                {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, asyncpg.PostgresError) and (mapped := from_postgres(exc)) is not None:
        return _booking_error_response(mapped)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
                429: "too_many_requests"}.get(status, "http_error" if status < 500 else "internal_error")
        title = {404: "Not found", 405: "Method not allowed", 413: "Request body too large",
                 429: "Too many requests"}.get(status, exc.detail or "Error")
        headers = dict(exc.headers or {})
        return problem_response(status, code, title, exc.detail, headers)
    if _is_db_unavailable(exc):
        log.warning("database unavailable: %r", exc)
        return problem_response(503, "database_unavailable", "The database is not available",
                                "The booking database did not answer; try again shortly.",
                                {"Retry-After": "2"})
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, "internal_error", "Internal server error",
                            "The service failed; the error is logged.")


# --- helpers ---------------------------------------------------------------------------

def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def rfc3339(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def appointment_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "barber_id": row["barber_id"], "user_id": row["user_id"],
        "service": row["service_name"],
        "booking_date": row["booking_date"].isoformat(), "booking_time": _hhmm(row["booking_time"]),
        "timezone": row["timezone"],
        "start_time": rfc3339(row["start_time"]), "end_time": rfc3339(row["end_time"]),
        "duration_minutes": row["duration_minutes"],
        "buffer_time_before": row["buffer_time_before"], "buffer_time_after": row["buffer_time_after"],
        "status": row["status"], "notes": row["notes"], "version": row["version"],
        "created_at": rfc3339(row["created_at"]), "updated_at": rfc3339(row["updated_at"]),
    }


def etag(version: int) -> str:
    return f'"{version}"'


def appointment_response(row: dict[str, Any], status: int = 200, extra_headers: dict | None = None) -> Response:
    headers = {"ETag": etag(row["version"]), "Cache-Control": "no-store"}
    headers.update(extra_headers or {})
    return Response(content=_dumps(appointment_json(row)), status_code=status,
                    media_type="application/json", headers=headers)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _json_kind(value: Any) -> str:
    """What a JSON value is, in JSON's words (not Python's: NoneType, dict)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"


_JSON_MEDIA_RE = re.compile(r"application/(?:[a-z0-9!#$&^_.+-]+\+)?json", re.IGNORECASE)


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key[:60]!r} appears twice")
        seen[key] = value
    return seen


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object. Form, not rules: Content-Type application/json
    (or application/<x>+json), charset absent or utf-8, else 415; UTF-8 without a byte-order
    mark, one value, no key twice (`"barber_id": 1, "barber_id": 3` used to book barber 3),
    else 400 invalid_json; an object, else 422."""
    media, _, params = (request.headers.get("content-type") or "").partition(";")
    charset = re.search(r"charset\s*=\s*\"?([^\";\s]+)", params, re.IGNORECASE)
    if not _JSON_MEDIA_RE.fullmatch(media.strip()) or (charset and charset.group(1).lower() not in ("utf-8", "utf8")):
        raise ProblemError(415, "unsupported_media_type", "Unsupported media type",
                           f"Send the body as Content-Type: application/json (UTF-8), not {media.strip()[:60]!r}.",
                           headers={"Accept": "application/json"})
    raw = await request.body()
    if raw.startswith(b"\xef\xbb\xbf"):
        raise ProblemError(400, "invalid_json", "Malformed JSON", "The body starts with a byte-order mark; send plain UTF-8.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProblemError(400, "invalid_json", "Malformed JSON", "The body is not UTF-8 text.") from None
    if not text.strip():
        raise ProblemError(400, "invalid_json", "Malformed JSON", "The request body is empty; send a JSON object.")
    try:
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_object_without_duplicates)
    except (ValueError, RecursionError) as e:
        raise ProblemError(400, "invalid_json", "Malformed JSON",
                           f"The request body is not valid JSON: {str(e)[:200]}") from None
    if not isinstance(data, dict):
        raise ProblemError(422, "validation_error", "Invalid request",
                           f"The request body must be a JSON object, not {_json_kind(data)}.", field="body")
    return data


def parse_path_id(value: str, what: str) -> int:
    """A path id; one that cannot exist (not a positive 64-bit number) is simply not found."""
    if not value.isascii() or not value.isdigit() or len(value) > 19 or int(value) > INT64_MAX or int(value) < 1:
        raise ProblemError(404, "not_found", f"{what} not found", f"There is no {what.lower()} {value[:40]!r}.")
    return int(value)


def parse_if_match(request: Request) -> frozenset[int] | None:
    """If-Match as RFC 9110 reads it: None when absent or `*` (any current version);
    otherwise the versions whose ETag one of the listed entity tags matches under the
    strong comparison the header requires: a weak tag (W/"2") matches nothing, and a tag
    is an opaque string, so "04" is not version 4's "4". An empty set means no tag can
    match (412). Anything that is not a list of entity tags is 400 invalid_if_match."""
    value = request.headers.get("if-match")
    if value is None:
        return None
    if value.strip() == "*":
        return None
    if len(value) > 1024 or not _IF_MATCH_LIST_RE.fullmatch(value):
        raise ProblemError(400, "invalid_if_match", "Malformed If-Match",
                           f'If-Match must be a list of entity tags such as "3" or "3", "4" (got {value[:60]!r}).',
                           field="If-Match")
    versions = set()
    for weak, tag in _ENTITY_TAG_RE.findall(value):
        if not weak and re.fullmatch(r"[1-9][0-9]{0,8}", tag):
            versions.add(int(tag))
    return frozenset(versions)


async def expected_version(request: Request, appt_id: int, caller: "Caller") -> int | None:
    """The p_expected_version an If-Match asks for: None (no condition), the one version a
    single tag names, or, for a list of several, the current version when it is one of them
    (read just before the change; a change in between makes the call answer 412). No
    match is 412 at once."""
    versions = parse_if_match(request)
    if versions is None:
        return None
    if len(versions) == 1:
        return next(iter(versions))
    if versions:
        rows = await fetch(request, "get_booking", appt_id, caller.user_id, caller.role)
        if rows and rows[0]["version"] in versions:
            return rows[0]["version"]
        if not rows:
            raise catalogue_error("BK011", f"No appointment {appt_id} is visible to you.")
    raise catalogue_error("BK001", "None of the entity tags of If-Match is the appointment's current ETag "
                                           "(If-Match compares strongly: a weak W/ tag never matches).")


def _db_call_errors(exc: asyncpg.PostgresError) -> Exception:
    mapped = from_postgres(exc)
    return mapped if mapped is not None else exc


async def fetch(request: Request, name: str, *args: Any) -> list[asyncpg.Record]:
    """One named read on the read pool (READ_STATEMENT_TIMEOUT), errors mapped to BookingError."""
    try:
        return await request.app.state.read_pool.fetch(QUERIES[name], *args)
    except asyncpg.PostgresError as e:
        raise _db_call_errors(e) from e


# --- authentication --------------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    """Who a request acts for, and as what: the token's role bounds every call it makes
    (booking.acting_role), whatever other roles the user holds."""
    user_id: int
    role: str
    barber_id: int | None
    token_hash: bytes


def _unauthorized(detail: str, error: str | None = None) -> ProblemError:
    challenge = 'Bearer realm="booking"' + (f', error="{error}"' if error else "")
    return ProblemError(401, "unauthorized", "Unauthorized", detail, {"WWW-Authenticate": challenge})


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, parsed once as RFC 7235 reads
    it (scheme in any case, any run of spaces): every spelling of one token is one token,
    for authentication and for the rate limit alike. A value that cannot be a token is
    refused without asking the database."""
    if not header:
        raise _unauthorized("Send Authorization: Bearer <token>.")
    m = _AUTHORIZATION_RE.fullmatch(header)
    if not m or m.group(1).lower() != "bearer":
        raise _unauthorized("The Authorization header must be: Bearer <token>.", "invalid_request")
    if len(m.group(2)) > 256:
        raise _unauthorized("The token is unknown, expired or revoked.", "invalid_token")
    return m.group(2)


async def authenticate(request: Request) -> Caller:
    token_hash = hashlib.sha256(bearer_token(request.headers.get("authorization")).encode("ascii")).digest()
    rows = await fetch(request, "authenticate_token", token_hash)
    if not rows:
        raise _unauthorized("The token is unknown, expired or revoked, or its role was withdrawn.", "invalid_token")
    row = rows[0]
    return Caller(row["user_id"], row["role"], row["barber_id"], token_hash)


def count_write(request: Request, caller: Caller) -> None:
    """One booking write of this token against RATE_LIMIT_PER_MINUTE (app.ratelimit)."""
    request.app.state.write_limiter.hit(caller.token_hash.hex())


def _check_service_length(value: Any) -> None:
    if isinstance(value, str) and len(value) > MAX_SERVICE_LENGTH:
        raise ValidationError(f"service must be at most {MAX_SERVICE_LENGTH} characters (got {len(value)}).",
                              field="service")


# --- appointments ----------------------------------------------------------------------

@post("/appointments", status_code=201, summary="Book an appointment",
      operation_class=documented(body=CREATE_BODY, parameters=[IDEMPOTENCY_KEY], answer=APPOINTMENT))
async def create_appointment(request: Request) -> Response:
    caller = await authenticate(request)
    count_write(request, caller)
    data = await read_json_object(request)
    unknown = sorted(set(data) - CREATE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown field {unknown[0]!r}; the fields are {', '.join(sorted(CREATE_FIELDS))}.",
                              field=unknown[0])
    # barber_id omitted or null books "any barber" (booking.choose_barber's fair rule).
    for required in ("service", "booking_date", "booking_time"):
        if required not in data or data[required] is None:
            raise ValidationError(f"{required} is required.", field=required)
    _check_service_length(data["service"])
    key = request.headers.get("idempotency-key")
    if key is not None and not _IDEMPOTENCY_KEY_RE.match(key):
        raise ValidationError("Idempotency-Key must be 1 to 200 printable ASCII characters without spaces.",
                              field="Idempotency-Key")
    if "buffer_time_before" in data and data["buffer_time_before"] is None:
        data["buffer_time_before"] = 0
    if "buffer_time_after" in data and data["buffer_time_after"] is None:
        data["buffer_time_after"] = 0
    for name in ("booking_date", "booking_time"):   # JSON strings only (the API takes objects too)
        if not isinstance(data[name], str):
            raise ValidationError(f"{name} must be a string.", field=name)
    row = await booking.create_booking(
        request.app.state.pool, user_id=caller.user_id, booking_date=data["booking_date"],
        booking_time=data["booking_time"], service=data["service"], barber_id=data.get("barber_id"),
        buffer_time_before=data.get("buffer_time_before", 0), buffer_time_after=data.get("buffer_time_after", 0),
        notes=data.get("notes"), idempotency_key=key,     # the engine scopes it to the user
        acting_role=caller.role,
    )
    headers = {"Location": f"/appointments/{row['id']}"}
    if key is not None and row["replayed"]:
        headers["Idempotent-Replayed"] = "true"
    return appointment_response(row, 201, headers)


@get("/appointments/{appointment_id:str}", summary="Read an appointment",
     operation_class=documented(answer=APPOINTMENT))
async def read_appointment(request: Request) -> Response:
    caller = await authenticate(request)
    appt_id = parse_path_id(request.path_params["appointment_id"], "Appointment")
    rows = await fetch(request, "get_booking", appt_id, caller.user_id, caller.role)
    if not rows:
        raise ProblemError(404, "not_found", "Appointment not found",
                           f"No appointment {appt_id} is visible to you.")
    return appointment_response(dict(rows[0]))


@patch("/appointments/{appointment_id:str}", summary="Change an appointment",
       operation_class=documented(body=CHANGE_BODY, parameters=[IF_MATCH], answer=APPOINTMENT))
async def change_appointment(request: Request) -> Response:
    caller = await authenticate(request)
    count_write(request, caller)
    appt_id = parse_path_id(request.path_params["appointment_id"], "Appointment")
    data = await read_json_object(request)
    expected = await expected_version(request, appt_id, caller)
    row = await booking.update_booking(request.app.state.pool, appt_id, caller.user_id, data, expected,
                                       acting_role=caller.role)
    return appointment_response(row)


@post("/appointments/{appointment_id:str}/cancel", status_code=200, summary="Cancel an appointment",
      operation_class=documented(parameters=[IF_MATCH], answer=APPOINTMENT))
async def cancel_appointment(request: Request) -> Response:
    caller = await authenticate(request)
    count_write(request, caller)
    appt_id = parse_path_id(request.path_params["appointment_id"], "Appointment")
    expected = await expected_version(request, appt_id, caller)
    row = await booking.cancel_booking(request.app.state.pool, appt_id, caller.user_id, expected,
                                       acting_role=caller.role)
    return appointment_response(row)


# --- barbers ---------------------------------------------------------------------------

def _query_int(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    if not re.fullmatch(r"-?\d{1,10}", value):
        raise ValidationError(f"{name} must be a whole number (got {value[:40]!r}).", field=name)
    return booking.parse_int(int(value), name, minimum=-(2**31), maximum=2**31 - 1)


@get("/barbers/{barber_id:str}/availability", summary="Free start times of a barber on a day",
     operation_class=documented(parameters=SLOT_QUERY, answer=SLOTS))
async def availability(request: Request) -> Response:
    await authenticate(request)
    bid = parse_path_id(request.path_params["barber_id"], "Barber")
    params = request.query_params
    if "date" not in params:
        raise ValidationError("date is required (YYYY-MM-DD, the barber's local date).", field="date")
    if "service" not in params:
        raise ValidationError("service is required (a service name).", field="service")
    day = booking.parse_date(params.get("date"), "date")
    service = booking.parse_text(params.get("service"), "service")
    _check_service_length(service)
    rows = await fetch(request, "free_slots", bid, day.isoformat(), service,
                       _query_int(request, "buffer_time_before", 0), _query_int(request, "buffer_time_after", 0))
    body = {"barber_id": bid, "date": day.isoformat(), "service": service,
            "slots": [{"start": rfc3339(r["start_time"]), "end": rfc3339(r["end_time"])} for r in rows]}
    return Response(content=_dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"})


@get("/barbers/{barber_id:str}/events", summary="Server-Sent Events: the barber's bookings, changes, cancellations",
     media_type="text/event-stream", operation_class=documented(parameters=[LAST_EVENT_ID]))
async def barber_events(request: Request) -> Stream:
    """Set up within one of the MAX_IN_FLIGHT places (token, barber, the events missed since
    Last-Event-ID), then streamed by app.events without one: see app.events for the one read
    per barber, the caps and the token re-checks."""
    caller = await authenticate(request)
    bid = parse_path_id(request.path_params["barber_id"], "Barber")
    if not await fetch(request, "barber_exists", bid):
        raise catalogue_error("BK003", f"No barber has id {bid}.")
    last = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    after: int | None = None
    if last is not None and last.strip() != "":
        if not re.fullmatch(r"\d{1,19}", last.strip()) or int(last) > MAX_LAST_EVENT_ID:
            raise ValidationError(f"Last-Event-ID must be an event id (got {last[:40]!r}).", field="Last-Event-ID")
        after = int(last)
    hub: EventHub = request.app.state.events
    # Without Last-Event-ID the stream starts now, after the barber's newest event.
    start_after = after if after is not None else (await fetch(request, "latest_event_id", bid))[0][0]
    try:
        stream = hub.open(bid, caller.token_hash, (caller.user_id, caller.role, caller.barber_id), start_after)
    except StreamRefused as e:
        raise ProblemError(429 if e.reason == "token" else 503, "too_many_streams", "Too many event streams",
                           e.detail, {"Retry-After": "5"}) from None
    try:
        backlog = []                  # opened first: nothing falls between the two
        since = after
        while since is not None:      # events_since() answers in pages
            rows = await fetch(request, "events_since", bid, since)
            backlog.extend(sse_chunk(row) for row in rows)
            since = rows[-1]["id"] if len(rows) == PAGE else None
    except BaseException:
        hub.close(stream)
        raise

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in stream.chunks(backlog):
                yield chunk
        finally:
            hub.close(stream)

    return Stream(body(), media_type="text/event-stream",
                  headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# --- operations ------------------------------------------------------------------------

@get("/health", summary="200 when the database answers, 503 otherwise")
async def health(request: Request) -> Response:
    timeout = request.app.state.settings.health_timeout
    try:
        await asyncio.wait_for(request.app.state.pool.fetchval(QUERIES["health"]), timeout=timeout)
    except Exception as e:  # any failure to answer is "unavailable"
        log.warning("health check failed: %r", e)
        return problem_response(503, "database_unavailable", "The database is not available",
                                f"SELECT 1 did not answer within {timeout:g} s ({type(e).__name__}).",
                                {"Retry-After": "5", "Cache-Control": "no-store"})
    return Response(content=_dumps({"status": "ok", "database": "ok"}), media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@get("/metrics", summary="Prometheus metrics", media_type="text/plain")
async def prometheus_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)


def latency_middleware(app: ASGIApp) -> ASGIApp:
    """http_request_duration_seconds by method, route template and status."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = _time.perf_counter()
        state = {"status": 500, "recorded": False}

        def record(code: int) -> None:
            if not state["recorded"]:
                state["recorded"] = True
                metrics.REQUEST_LATENCY.labels(scope["method"], scope.get("path_template", "unmatched"),
                                               str(code)).observe(_time.perf_counter() - started)

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                # A stream (SSE) is measured to its first byte, not its whole life.
                if dict(message.get("headers") or []).get(b"content-type", b"").startswith(b"text/event-stream"):
                    record(message["status"])
            await send(message)

        try:
            await app(scope, receive, capture)
        except Exception as exc:
            code = getattr(exc, "status", None) or getattr(exc, "http_status", None) or getattr(exc, "status_code", 500)
            record(code if isinstance(code, int) else 500)
            raise
        record(state["status"])

    return middleware


# --- hardening: security headers, rate limit, CORS (docs/SECURITY.md) --------------------

SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
}
# JSON, problems, event streams: nothing may be loaded or framed.
CSP_API = b"default-src 'none'; frame-ancestors 'none'"
# HTML pages (the booking page at /): scripts, styles and calls from this origin only, no
# inline code, no plugins, never framed.
CSP_PAGE = (b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            b"font-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
# The OpenAPI viewers under /schema load their scripts from a CDN and inline: only framing is barred.
CSP_SCHEMA_HTML = b"frame-ancestors 'none'"


async def security_headers(message: Message, scope: Scope) -> None:
    """before_send hook: the headers of every response, errors and 404s included."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders(message)
    for name, value in SECURITY_HEADERS.items():
        if headers.get(name.decode()) is None:
            headers[name.decode()] = value.decode()
    if headers.get("content-security-policy") is None:
        html = (headers.get("content-type") or "").startswith("text/html")
        csp = CSP_API if not html else CSP_SCHEMA_HTML if scope.get("path", "").startswith("/schema") else CSP_PAGE
        headers["content-security-policy"] = csp.decode()


def head_as_get(app: ASGIApp) -> ASGIApp:
    """HEAD on any resource that answers GET (RFC 9110 9.3.2): the GET's status and headers,
    without its body."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await app({**scope, "method": "GET"}, receive, headers_only)

    return middleware


def hardening(settings: Settings) -> dict[str, Any]:
    """The Litestar arguments of docs/SECURITY.md's API hardening, from the settings."""
    middleware = [admission(max_in_flight=settings.max_in_flight, queue_timeout=settings.queue_timeout,
                            body_timeout=settings.body_timeout, max_body_bytes=settings.max_body_bytes)]
    cors = None
    if settings.cors_allow_origins:
        cors = CORSConfig(allow_origins=list(settings.cors_allow_origins),
                          allow_methods=["GET", "POST", "PATCH", "OPTIONS"],
                          allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match",
                                         "Last-Event-ID"],
                          expose_headers=["ETag", "Location", "Idempotent-Replayed", "Retry-After",
                                          "WWW-Authenticate"],
                          allow_credentials=False, max_age=600)
    return {"middleware": middleware, "cors_config": cors, "before_send": [security_headers],
            "request_max_body_size": settings.max_body_bytes}


# --- the app ---------------------------------------------------------------------------

async def _purge_loop(app: Litestar) -> None:
    interval = app.state.settings.purge_interval
    while True:
        try:
            deleted = await app.state.pool.fetchval(QUERIES["purge_idempotency_keys"])
            events = await app.state.pool.fetchval(QUERIES["purge_appointment_events"])
            log.info("purged %s expired idempotency key(s) and %s old change-feed event(s)", deleted, events,
                     extra={"idempotency_keys_deleted": deleted, "events_deleted": events})
        except Exception as e:   # the next round tries again
            log.warning("purging idempotency keys and old events failed: %r", e)
        await asyncio.sleep(interval)


async def _create_pools(settings: Settings) -> dbmod.Pools:
    try:
        return await dbmod.create_pools(settings)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncio.TimeoutError) as e:
        # Start anyway: /health says 503 until the database answers, requests get 503.
        log.error("database not reachable at startup (%r); connecting on demand", e)
        return await dbmod.create_pools(settings, min_size=0)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        booking.configure_booking_service(settings.enable_double_booking_prevention, **settings.tuning)
        app.state.settings = settings
        app.state.pools = await _create_pools(settings)
        app.state.pool = app.state.pools.write           # the booking calls
        app.state.read_pool = app.state.pools.read       # everything else
        app.state.events = EventHub(settings, read_pool=app.state.read_pool)
        app.state.write_limiter = WriteLimiter(settings.rate_limit_per_minute)
        await app.state.events.start()
        purge = asyncio.create_task(_purge_loop(app)) if settings.purge_interval > 0 else None
        try:
            yield
        finally:
            if purge is not None:
                purge.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await purge
            await app.state.events.stop()
            with suppress(Exception):
                await asyncio.wait_for(app.state.pools.close(), timeout=5)

    from app.page import PAGE_HANDLERS   # the booking page, /static, /barbers, /services, /availability

    hard = hardening(settings)
    app = Litestar(
        route_handlers=[create_appointment, read_appointment, change_appointment, cancel_appointment,
                        availability, barber_events, health, prometheus_metrics, *PAGE_HANDLERS],
        lifespan=[lifespan],
        exception_handlers={Exception: exception_to_response},
        middleware=[latency_middleware, *hard["middleware"]],
        cors_config=hard["cors_config"],
        before_send=hard["before_send"],
        openapi_config=OpenAPIConfig(title="Barbershop booking", version="1.0.0", path="/schema",
                                     components=SECURITY_COMPONENTS),
        request_max_body_size=hard["request_max_body_size"],
        debug=False,
        logging_config=None,      # app.logs configures logging once, for every logger
    )
    # Around the router (Litestar's middleware runs after routing, where HEAD finds no route).
    app.asgi_handler = head_as_get(app.asgi_handler)
    return app
