"""The project's exceptions: one class per row of the error catalogue (sql/errors.csv), and
the few errors that are not the engine's refusals (bad input PostgreSQL itself refused, a
form the service refused before any SQL, a database that is down or at a limit).

The classes are written out; each names its SQLSTATE and takes its name, HTTP status and
message from the catalogue, so the CSV stays the only place those are spelled (a test
checks that every row has exactly one class). `transient` says whether the same request
may succeed when simply tried again; app.gateway is the one place that turns a
database error into one of these.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from app.paths import ERRORS_FILE


def load_catalogue() -> dict[str, dict[str, Any]]:
    with ERRORS_FILE.open(newline="", encoding="utf-8") as f:
        return {
            row["sqlstate"]: {
                "sqlstate": row["sqlstate"],
                "name": row["name"],
                "http_status": int(row["http_status"]),
                "message": row["message"],
            }
            for row in csv.DictReader(f)
        }


CATALOGUE: dict[str, dict[str, Any]] = load_catalogue()
BY_NAME: dict[str, dict[str, Any]] = {row["name"]: row for row in CATALOGUE.values()}
ERROR_CLASSES: dict[str, type[BookingError]] = {}


class BookingError(Exception):
    """An error of the booking engine or service: a code plus the specifics."""

    sqlstate: ClassVar[str] = "BK000"
    name: ClassVar[str] = "booking_error"
    http_status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Booking error"
    transient: ClassVar[bool] = False  # may the same request succeed if tried again?

    def __init__(
        self,
        message: str | None = None,
        *,
        detail: str | None = None,
        hint: str | None = None,
        field: str | None = None,
        sqlstate: str | None = None,
    ):
        if sqlstate is not None:
            self.sqlstate = sqlstate
        self.message = message or self.default_message
        self.detail = detail
        self.hint = hint
        self.field = field
        super().__init__(self.message if not detail else f"{self.message}: {detail}")

    @property
    def code(self) -> str:
        """The stable code clients see: the SQLSTATE (a slug for the service's own errors)."""
        return self.sqlstate

    def extra(self) -> dict[str, Any]:
        """Members added to a problem document (overridden by errors that know more)."""
        return {"field": self.field} if self.field else {}


class CatalogueError(BookingError):
    """A row of sql/errors.csv; subclasses name only their SQLSTATE."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        row = CATALOGUE[cls.sqlstate]
        cls.name, cls.http_status, cls.default_message = row["name"], row["http_status"], row["message"]
        ERROR_CLASSES[cls.sqlstate] = cls


# PostgreSQL's DETAIL for the exclusion constraint:
#   Key (barber_id, blocked_during)=(1, ["2026-01-01 10:00:00+00","2026-01-01 10:30:00+00")) conflicts
#   with existing key (barber_id, blocked_during)=(1, ["...","...")).
_CONSTRAINT_DETAIL = re.compile(
    r'existing key \(barber_id, blocked_during\)=\(\d+, [\[(]"?([^",]+)"?,"?([^",\])]+)"?[\])]\)'
)


_OCCURRENCE_HINT = re.compile(r"^Occurrence (\d+) of \d+, (\d{4}-\d\d-\d\d): ")


def _rfc3339(text: str) -> str:
    """'2026-01-01 10:00:00+00' -> '2026-01-01T10:00:00Z' (as given when it does not parse)."""
    t = text.strip() + (":00" if re.search(r"[+-]\d{2}$", text.strip()) else "")
    try:
        return datetime.fromisoformat(t).astimezone(UTC).isoformat().replace("+00:00", "Z")
    except ValueError:
        return text


class BookingConflictError(CatalogueError):
    """23P01: the slot conflicts with an existing appointment of the barber. The engine's
    DETAIL names it: conflicting_appointment_id, conflict_start, conflict_end."""

    sqlstate = "23P01"

    def __init__(self, message: str | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.conflicting_appointment_id: int | None = None
        self.conflict_start: str | None = None
        self.conflict_end: str | None = None
        # "Appointment 17 blocks 2030-01-08T09:45:00Z to 2030-01-08T10:45:00Z." (the trigger);
        # otherwise the refusal came from the exclusion constraint itself, whose DETAIL
        # names the existing key's interval in the session's DateStyle.
        # A series (booking.book_series) names its refused occurrence in the HINT.
        self.occurrence: int | None = None
        self.occurrence_date: str | None = None
        if m := _OCCURRENCE_HINT.match(self.hint or ""):
            self.occurrence, self.occurrence_date = int(m.group(1)), m.group(2)
        words = (self.detail or "").rstrip(".").split()
        if len(words) == 6 and words[0] == "Appointment" and words[2] == "blocks" and words[1].isdigit():
            self.conflicting_appointment_id = int(words[1])
            self.conflict_start, self.conflict_end = words[3], words[5]
            self.source = "trigger"
            return
        self.source = "constraint"
        m = _CONSTRAINT_DETAIL.search(self.detail or "")
        if m:
            self.conflict_start, self.conflict_end = _rfc3339(m.group(1)), _rfc3339(m.group(2))

    def extra(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.occurrence is not None:
            out["occurrence"], out["occurrence_date"] = self.occurrence, self.occurrence_date
        if self.conflicting_appointment_id is not None:
            out["conflicting_appointment_id"] = self.conflicting_appointment_id
        if self.conflict_start:
            out["conflict_start"], out["conflict_end"] = self.conflict_start, self.conflict_end
        return out


class ConcurrencyError(CatalogueError):
    """BK001: the expected version is not the current version."""

    sqlstate = "BK001"


class IdempotencyKeyMismatchError(CatalogueError):
    """BK002: an idempotency key was reused with another request."""

    sqlstate = "BK002"


class LockTimeoutError(CatalogueError):
    """55P03: a lock was not acquired within booking.lock_timeout."""

    sqlstate = "55P03"


class BarberNotFoundError(CatalogueError):
    sqlstate = "BK003"


class ServiceNotFoundError(CatalogueError):
    sqlstate = "BK004"


class StartInPastError(CatalogueError):
    sqlstate = "BK005"


class BarberUnavailableError(CatalogueError):
    sqlstate = "BK006"


class NonexistentLocalTimeError(CatalogueError):
    sqlstate = "BK007"


class InvalidArgumentError(CatalogueError):
    sqlstate = "BK008"


class UnknownChangeKeyError(CatalogueError):
    sqlstate = "BK009"


class InvalidStatusTransitionError(CatalogueError):
    sqlstate = "BK010"


class AppointmentNotFoundError(CatalogueError):
    sqlstate = "BK011"


class NotPermittedError(CatalogueError):
    sqlstate = "BK012"


class ServiceNotOfferedError(CatalogueError):
    sqlstate = "BK013"


class ShopNotFoundError(CatalogueError):
    sqlstate = "BK014"


class ShopMovingError(CatalogueError):
    """BK015: a cluster's proxy is moving the shop to another partition (`python -m app
    cluster move-shop`); tried again after the move, the call reaches the new partition."""

    sqlstate = "BK015"
    transient = True


class HoldExpiredError(CatalogueError):
    """BK017 (410): the hold expired, or was released, before it was confirmed."""

    sqlstate = "BK017"


class NotAHoldError(CatalogueError):
    """BK018 (409): confirming an appointment that was booked, not held."""

    sqlstate = "BK018"


class ScheduleConflictError(CatalogueError):
    """BK019 (409): new working hours or time off would leave active appointments outside
    the barber's working time; the detail says how many and lists the first ones (the
    admin may pass force)."""

    sqlstate = "BK019"


class CalendarFeedNotFoundError(CatalogueError):
    """BK021 (404): a calendar feed's key is unknown, revoked or another barber's (the
    answer does not say whether the barber exists), or a key to revoke is not that barber's."""

    sqlstate = "BK021"


class PolicyRefusedError(CatalogueError):
    """BK023 (422): the shop's booking policy does not let a client do this (too short a
    notice, too far ahead, past the cancellation or reschedule cut-off); staff may."""

    sqlstate = "BK023"


class WebhookNotFoundError(CatalogueError):
    """BK024 (404): the shop has no webhook subscription with this id (or the caller is not
    its admin's shop: an admin of another shop gets BK012)."""

    sqlstate = "BK024"


class PartitionUnavailableError(CatalogueError):
    """BK016: the partition that holds the shop did not answer the cluster's proxy (down,
    or the connection was lost mid-call: whether a write happened there is unknown, as for
    database_unavailable). Other shops are not affected."""

    sqlstate = "BK016"
    transient = True


class SerializationFailureError(CatalogueError):
    """40001: the transaction raced another (PostgreSQL's, or the engine's under
    REPEATABLE READ / SERIALIZABLE): retried, it gets the definitive answer."""

    sqlstate = "40001"
    transient = True


class InvalidInputError(BookingError):
    """422: a value PostgreSQL refused as data (class 22: out of range, bad encoding; class
    23 outside the catalogue: a CHECK), for a caller that bypassed the engine's own checks."""

    sqlstate = "22000"
    name = "invalid_input"
    http_status = 422
    default_message = "Invalid input"


class ValidationError(InvalidInputError):
    """422: a request field is missing or has the wrong type or form (checked before SQL)."""

    sqlstate = "validation_error"
    name = "validation_error"
    default_message = "Invalid request"


class ServiceUnavailableError(BookingError):
    """503: a limit or a transient state of the database server, not the caller's fault:
    the SQLSTATE is the code (57014 statement timeout, 53xxx resources, 40P01 deadlock)."""

    name = "service_unavailable"
    http_status = 503
    default_message = "The database could not finish the request; retry shortly"


class DeadlockDetectedError(ServiceUnavailableError):
    sqlstate = "40P01"
    name = "deadlock_detected"
    default_message = "The booking waited in a cycle with another transaction; retry it"
    transient = True


class DatabaseUnavailableError(ServiceUnavailableError):
    """The database did not answer, or the connection was lost mid-call: whether a write
    happened is unknown (an idempotency key makes its retry safe)."""

    sqlstate = "database_unavailable"
    name = "database_unavailable"
    default_message = "The database is not available"
    transient = True


def catalogue_error(sqlstate: str, detail: str | None = None, hint: str | None = None) -> BookingError:
    """The catalogue's error for `sqlstate`, for the rare refusal the service decides
    before any SQL runs (an If-Match no version can match)."""
    return ERROR_CLASSES[sqlstate](detail=detail, hint=hint)
