"""The error catalogue (sql/errors.csv) as Python exceptions.

The catalogue is loaded once at import. `from_postgres(e)` maps an asyncpg error by its
SQLSTATE: the four contract exceptions (BookingConflictError, ConcurrencyError,
LockTimeoutError, IdempotencyKeyMismatchError) for their codes, a BookingError for every
other catalogue code, InvalidInputError (422) for the data exceptions bad input can cause
(class 22: bad encoding, null byte, out-of-range numbers and dates; 23502, 23514), and
None for anything else (a real fault: let it propagate).
"""

from __future__ import annotations

import csv
import re
from typing import Any

from app.paths import ERRORS_FILE


def load_catalogue() -> dict[str, dict[str, Any]]:
    with ERRORS_FILE.open(newline="", encoding="utf-8") as f:
        return {
            row["sqlstate"]: {"sqlstate": row["sqlstate"], "name": row["name"],
                              "http_status": int(row["http_status"]), "message": row["message"]}
            for row in csv.DictReader(f)
        }


CATALOGUE: dict[str, dict[str, Any]] = load_catalogue()
BY_NAME: dict[str, dict[str, Any]] = {row["name"]: row for row in CATALOGUE.values()}


class BookingError(Exception):
    """An error of the booking engine: a catalogue row plus the specifics."""

    sqlstate: str = "BK000"
    name: str = "booking_error"
    http_status: int = 500
    default_message: str = "Booking error"

    def __init__(self, message: str | None = None, *, detail: str | None = None, hint: str | None = None,
                 sqlstate: str | None = None, name: str | None = None, http_status: int | None = None,
                 field: str | None = None):
        if sqlstate is not None:
            self.sqlstate = sqlstate
        if name is not None:
            self.name = name
        if http_status is not None:
            self.http_status = http_status
        self.message = message or self.default_message
        self.detail = detail
        self.hint = hint
        self.field = field
        super().__init__(self.message if not detail else f"{self.message}: {detail}")

    @property
    def code(self) -> str:
        """The stable code clients see: the SQLSTATE."""
        return self.sqlstate

    def extra(self) -> dict[str, Any]:
        """Members added to a problem body (overridden by errors that know more)."""
        return {"field": self.field} if self.field else {}


def _catalogued(sqlstate: str, cls_name: str, base: type[BookingError] = BookingError,
                doc: str = "") -> type[BookingError]:
    row = CATALOGUE[sqlstate]
    return type(cls_name, (base,), {
        "__doc__": doc or row["message"], "sqlstate": sqlstate, "name": row["name"],
        "http_status": row["http_status"], "default_message": row["message"],
    })


_INTERVAL_RE = re.compile(r"Appointment (\d+) blocks (\S+) to (\S+)\.")
# PostgreSQL's own DETAIL for the exclusion constraint:
#   Key (barber_id, blocked_during)=(1, ["2026-01-01 10:00:00+00","2026-01-01 10:30:00+00")) conflicts
#   with existing key (barber_id, blocked_during)=(1, ["...","...")).
_CONSTRAINT_RE = re.compile(r'existing key \(barber_id, blocked_during\)=\(\d+, [\[(]"?([^",]+)"?,"?([^",\])]+)"?[\])]\)')


class BookingConflictError(BookingError):
    """23P01: the slot conflicts with an existing appointment of the barber."""

    sqlstate = "23P01"

    def __init__(self, message: str | None = None, **kw):
        super().__init__(message, **kw)
        self.conflicting_appointment_id: int | None = None
        self.conflict_start: str | None = None
        self.conflict_end: str | None = None
        self.source = "trigger"
        m = _INTERVAL_RE.search(self.detail or "")
        if m:
            self.conflicting_appointment_id = int(m.group(1))
            self.conflict_start, self.conflict_end = m.group(2), m.group(3)
            return
        self.source = "constraint"
        m = _CONSTRAINT_RE.search(self.detail or "")
        if m:
            self.conflict_start, self.conflict_end = (_pg_to_rfc3339(m.group(1)), _pg_to_rfc3339(m.group(2)))

    def extra(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.conflicting_appointment_id is not None:
            out["conflicting_appointment_id"] = self.conflicting_appointment_id
        if self.conflict_start:
            out["conflict_start"] = self.conflict_start
            out["conflict_end"] = self.conflict_end
        return out


def _pg_to_rfc3339(text: str) -> str:
    """'2026-01-01 10:00:00+00' -> '2026-01-01T10:00:00+00:00' (best effort)."""
    from datetime import datetime

    t = text.strip()
    if re.search(r"[+-]\d{2}$", t):
        t += ":00"
    try:
        return datetime.fromisoformat(t).isoformat().replace("+00:00", "Z")
    except ValueError:
        return text


for _code in ("23P01", "BK001", "BK002", "55P03"):
    if _code not in CATALOGUE:  # pragma: no cover - the catalogue test guards this
        raise RuntimeError(f"sql/errors.csv lacks the contract code {_code}")

for _attr in ("name", "http_status"):
    setattr(BookingConflictError, _attr, CATALOGUE["23P01"][_attr])
BookingConflictError.default_message = CATALOGUE["23P01"]["message"]

ConcurrencyError = _catalogued("BK001", "ConcurrencyError",
                               doc="BK001: the expected version is not the current version.")
IdempotencyKeyMismatchError = _catalogued("BK002", "IdempotencyKeyMismatchError",
                                          doc="BK002: an idempotency key was reused with another request.")
LockTimeoutError = _catalogued("55P03", "LockTimeoutError",
                               doc="55P03: the slot lock was not acquired within the lock timeout.")


class InvalidInputError(BookingError):
    """422: input PostgreSQL or the parser refused as data (not a catalogue code)."""

    sqlstate = "22000"
    name = "invalid_input"
    http_status = 422
    default_message = "Invalid input"


class ValidationError(InvalidInputError):
    """422: a request field is missing or has the wrong type or form (checked before SQL)."""

    sqlstate = "validation_error"
    name = "validation_error"
    default_message = "Invalid request"

    @property
    def code(self) -> str:
        return "validation_error"


# Every catalogue code has a class; the four above keep their contract names.
ERROR_CLASSES: dict[str, type[BookingError]] = {
    "23P01": BookingConflictError, "BK001": ConcurrencyError,
    "BK002": IdempotencyKeyMismatchError, "55P03": LockTimeoutError,
}
for _state, _row in CATALOGUE.items():
    if _state not in ERROR_CLASSES:
        _cls_name = "".join(p.capitalize() for p in _row["name"].split("_")) + "Error"
        ERROR_CLASSES[_state] = _catalogued(_state, _cls_name)
        globals()[_cls_name] = ERROR_CLASSES[_state]

# Data exceptions bad input can cause: never a 500.
_INPUT_MESSAGES = {
    "22021": "The input contains a character that is not allowed (such as a null byte) or is not valid UTF-8",
    "22P05": "The input contains a character that is not allowed (such as a null byte \\u0000)",
    "22P02": "A value has the wrong form",
    "22003": "A number is out of range",
    "22008": "A date or time is out of range (for example 2026-02-30 or 25:00)",
    "22007": "A date or time has the wrong format",
    "23514": "A value breaks a rule of the data (check constraint)",
    "23502": "A required value is missing",
}
MAX_ECHO = 200     # characters of PostgreSQL's own text passed on (it may quote the input)

# The server ran out of something or gave up on the statement: nobody's input is wrong,
# and the same request may succeed shortly. 503 with Retry-After, never a 500.
_SERVER_LIMITS = {
    "57014": ("statement_timeout", "The database took too long to answer; retry shortly"),
    "40P01": ("deadlock_detected", "The booking waited in a cycle with another transaction; retry it"),
    "53000": ("insufficient_resources", "The database is short of resources; retry shortly"),
    "53100": ("disk_full", "The database is short of disk space; retry later"),
    "53200": ("out_of_memory", "The database is short of memory; retry shortly"),
    "53300": ("too_many_connections", "The database has no connection free; retry shortly"),
    "53400": ("resource_limit", "The request needed more of the database than one request may use"),
}


class ServiceUnavailableError(BookingError):
    """503: a limit or a transient state of the database server, not the caller's fault."""

    name = "service_unavailable"
    http_status = 503
    default_message = "The database could not finish the request; retry shortly"


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_ECHO:
        return text
    return text[:MAX_ECHO] + f"... ({len(text)} characters)"


def from_postgres(exc: BaseException) -> BookingError | None:
    """The BookingError for an asyncpg PostgresError, or None when it is not input's fault."""
    sqlstate = getattr(exc, "sqlstate", None)
    if not sqlstate:
        return None
    detail = getattr(exc, "detail", None)
    hint = getattr(exc, "hint", None)
    cls = ERROR_CLASSES.get(sqlstate)
    if cls is not None:
        # The catalogue's message always; PostgreSQL's own wording (the exclusion
        # constraint's "conflicting key value ...", lock_timeout's "canceling statement
        # ...") goes to the detail when there is no other.
        own = getattr(exc, "message", None)
        if not detail and own and own != CATALOGUE[sqlstate]["message"]:
            detail = own
        return cls(CATALOGUE[sqlstate]["message"], detail=detail, hint=hint)
    if sqlstate in _SERVER_LIMITS:
        name, message = _SERVER_LIMITS[sqlstate]
        return ServiceUnavailableError(message, detail=_cut(getattr(exc, "message", None)), sqlstate=sqlstate,
                                       name=name)
    if sqlstate.startswith("23"):
        # PostgreSQL's DETAIL of a constraint violation prints the whole failing row (other
        # columns, notes included): say which rule, never the row.
        constraint = getattr(exc, "constraint_name", None)
        message = _INPUT_MESSAGES.get(sqlstate, "A value breaks a rule of the data")
        return InvalidInputError(message, sqlstate=sqlstate, hint=hint,
                                 detail=f"The value breaks the rule {constraint}." if constraint else None)
    if sqlstate in _INPUT_MESSAGES or sqlstate.startswith("22"):
        message = _INPUT_MESSAGES.get(sqlstate, "Invalid input")
        return InvalidInputError(message, detail=_cut(detail or getattr(exc, "message", None)), hint=hint,
                                 sqlstate=sqlstate)
    return None


def catalogue_error(sqlstate: str, detail: str | None = None, hint: str | None = None) -> BookingError:
    """The catalogue's error for `sqlstate`, for the rare refusal the service decides
    before any SQL runs (an If-Match no version can match): the same class, message and
    HTTP status as when the database raises it."""
    return ERROR_CLASSES[sqlstate](CATALOGUE[sqlstate]["message"], detail=detail, hint=hint)
