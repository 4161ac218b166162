"""Problem documents (RFC 9457, application/problem+json): every error the service answers,
whatever raised it, with a stable `code` (the SQLSTATE of the error catalogue, or one of
the service's slugs) and what was wrong.

`problem_response()` writes one; `exception_to_response()` is the app's one exception
handler: the project's exceptions (app.errors) answer with their status and code, the
database's through app.gateway, Litestar's own (validation, 404, 405, 413) in the same
form; anything else is a logged 500 that says nothing of its cause.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from app.errors import BookingError
from app.events import StreamRefused
from app.gateway import translate
from app.ratelimit import TooManyRequests

log = logging.getLogger("booking.http")

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://booking.example/problems/"
_encoder = msgspec.json.Encoder()


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem document as the service writes it (the OpenAPI document's too)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    hint: str | None = None


class ProblemError(Exception):
    """An HTTP-layer problem (not the engine's): status, code slug, title, detail."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.headers = headers or {}
        self.extra = extra


def problem_body(status: int, code: str, title: str, detail: str | None = None, **extra: Any) -> bytes:
    """The JSON of a problem document (also written below the app: app.web.admission and
    app.web.server answer with it)."""
    body = {
        "type": PROBLEM_BASE + code.lower(),
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return _encoder.encode(body)


def problem_response(
    status: int, code: str, title: str, detail: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    return Response(
        content=problem_body(status, code, title, detail, **extra),
        status_code=status,
        media_type=PROBLEM,
        headers=headers or {},
    )


def _booking_error_response(exc: BookingError) -> Response:
    headers = (
        {"Retry-After": "1" if exc.transient or exc.sqlstate == "55P03" else "2"} if exc.http_status == 503 else {}
    )
    extra = dict(exc.extra())
    if exc.hint:
        extra["hint"] = exc.hint
    extra.setdefault("name", exc.name)
    return problem_response(exc.http_status, exc.code, exc.message, exc.detail, headers, **extra)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}
_HTTP_TITLES = {404: "Not found", 405: "Method not allowed", 413: "Request body too large", 429: "Too many requests"}


def _validation_response(exc: ValidationException) -> Response:
    """A request that did not have the form its types say: 422 validation_error, naming the
    first field at fault (msgspec's message, e.g. "Object contains unknown field `x`")."""
    errors = exc.extra if isinstance(exc.extra, list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    message = first.get("message") or exc.detail
    missing = re.search(r"Missing required \w+ parameter '([^']+)'", message)
    field = first.get("key") or (missing.group(1) if missing else None)
    if missing:
        message = message.split(" for path ")[0]
    if field == "data":  # the body as a whole
        named = re.search(r"field `([^`]+)`", message)
        kind = re.search(r"Expected `object`, got `(\w+)`", message)
        if named is not None:  # a field it lacks or should not have
            field = named.group(1)
        elif kind is not None:
            return problem_response(
                422,
                "validation_error",
                "Invalid request",
                f"The request body must be a JSON object, not {kind.group(1)}.",
                field="body",
            )
        else:
            return problem_response(
                400, "invalid_json", "Malformed JSON", "The request body is missing; send a JSON object."
            )
    detail = f"{field}: {message}" if field and field not in message else message
    return problem_response(422, "validation_error", "Invalid request", detail[:300], field=field)


def exception_to_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ProblemError):
        return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.headers, **exc.extra)
    if isinstance(exc, TooManyRequests):
        return problem_response(
            429, "too_many_requests", "Too many requests", str(exc), {"Retry-After": str(exc.retry_after)}
        )
    if isinstance(exc, StreamRefused):
        return problem_response(
            429 if exc.reason == "token" else 503,
            "too_many_streams",
            "Too many event streams",
            exc.detail,
            {"Retry-After": "5"},
        )
    if isinstance(exc, ValidationException):
        return _validation_response(exc)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code = _HTTP_CODES.get(status, "http_error" if status < 500 else "internal_error")
        return problem_response(
            status, code, _HTTP_TITLES.get(status, exc.detail or "Error"), exc.detail, dict(exc.headers or {})
        )
    error = translate(exc)
    if isinstance(error, BookingError):
        if error.http_status >= 500:
            log.warning("database: %s on %s %s", error.name, request.method, request.url.path)
        return _booking_error_response(error)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, "internal_error", "Internal server error", "The service failed; the error is logged.")
