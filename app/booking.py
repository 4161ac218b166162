"""The Python API of the booking engine (contract section 4).

    from app.booking import create_booking, update_booking, cancel_booking, configure_booking_service

Every call is ONE statement on one connection (taken from the pool when `db` is a Pool),
in its own transaction (a savepoint when the caller's connection is inside a transaction):
it makes the settings transaction-local (lock timeout, application checks, idempotency key
lifetime) and calls the SQL function (sql/queries.sql says how). All rules (validation, working
hours, time zones, overlap, visibility, versions) are the SQL functions'; this module
parses arguments, maps rows to dicts and SQLSTATEs to exceptions, and retries.

Retries: serialization failures (40001), deadlocks (40P01) and lost connections are
retried up to `max_retry_attempts` times after the first attempt, with exponential
backoff and jitter: the n-th retry waits min(max_retry_delay, initial_retry_delay *
backoff_factor**(n-1)) times a random factor in [0.75, 1]. A lost connection is only
retried when `db` is a Pool (a closed Connection cannot come back). Nothing else is ever
retried: not a conflict (23P01), not a version mismatch (BK001), not a lock timeout.
A create without an idempotency key gets an internal one ("auto:<uuid>") while retries
are on, so a retry after a connection lost during COMMIT replays instead of conflicting
with its own booking.

`configure_booking_service(enable_double_booking_prevention=False)` turns off the
application-side layers: no advisory lock (booking.application_checks = off) and no
retries. The database's trigger and exclusion constraint still refuse every overlap
(BookingConflictError).

Each layer's decision is logged at DEBUG on the logger "booking".
"""

from __future__ import annotations

import json
import logging
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Callable

import asyncpg
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from app import metrics
from app.config import TUNING_DEFAULTS
from app.errors import (
    BookingConflictError, BookingError, ConcurrencyError, IdempotencyKeyMismatchError,
    InvalidInputError, LockTimeoutError, ValidationError, from_postgres,
)
from app.queries import QUERIES

__all__ = [
    "create_booking", "update_booking", "cancel_booking", "configure_booking_service",
    "get_booking", "BookingConflictError", "ConcurrencyError", "LockTimeoutError",
    "IdempotencyKeyMismatchError", "BookingError", "ValidationError", "ServiceConfig",
    "current_config",
]

log = logging.getLogger("booking")

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
TRANSIENT_SQLSTATES = {"40001": "serialization_failure", "40P01": "deadlock_detected"}


@dataclass(frozen=True)
class ServiceConfig:
    enable_double_booking_prevention: bool = True
    advisory_lock_timeout: float = TUNING_DEFAULTS["advisory_lock_timeout"]
    max_retry_attempts: int = TUNING_DEFAULTS["max_retry_attempts"]
    initial_retry_delay: float = TUNING_DEFAULTS["initial_retry_delay"]
    max_retry_delay: float = TUNING_DEFAULTS["max_retry_delay"]
    backoff_factor: float = TUNING_DEFAULTS["backoff_factor"]
    idempotency_key_ttl_hours: float = TUNING_DEFAULTS["idempotency_key_ttl_hours"]
    # Called as before_sleep(operation, attempt_number, delay_seconds, exception) before
    # each retry's sleep (tests and logs use it to see the delays).
    before_retry_sleep: Callable[[str, int, float, BaseException], None] | None = field(default=None, compare=False)


_config = ServiceConfig()


def configure_booking_service(enable_double_booking_prevention: bool = True, **tuning: Any) -> ServiceConfig:
    """Set the service's tuning for every later call; returns the configuration in force.

    Names and defaults: advisory_lock_timeout=5 (seconds), max_retry_attempts=3,
    initial_retry_delay=0.1, max_retry_delay=1.0, backoff_factor=2.0,
    idempotency_key_ttl_hours=24; also before_retry_sleep (a hook, see ServiceConfig).
    Unspecified names return to their defaults. An unknown name raises TypeError.
    """
    global _config
    allowed = set(TUNING_DEFAULTS) | {"before_retry_sleep"}
    unknown = set(tuning) - allowed
    if unknown:
        raise TypeError(f"configure_booking_service() got unknown tuning name(s): {', '.join(sorted(unknown))}; "
                        f"known: {', '.join(sorted(allowed))}")
    for name, value in tuning.items():
        if name == "before_retry_sleep":
            if value is not None and not callable(value):
                raise TypeError("before_retry_sleep must be callable or None")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number >= 0, not {value!r}")
    if "max_retry_attempts" in tuning and int(tuning["max_retry_attempts"]) != tuning["max_retry_attempts"]:
        raise ValueError("max_retry_attempts must be a whole number")
    if tuning.get("advisory_lock_timeout", 1) <= 0:
        raise ValueError("advisory_lock_timeout must be > 0 seconds")
    _config = ServiceConfig(enable_double_booking_prevention=bool(enable_double_booking_prevention), **tuning)
    log.debug("booking service configured: %s", _config)
    return _config


def current_config() -> ServiceConfig:
    return _config


# --- argument parsing (form only; every rule is the database's) ----------------------

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")


def parse_date(value: Any, field_name: str = "booking_date") -> date:
    if isinstance(value, datetime):
        raise ValidationError(f"{field_name} must be a date, not a datetime", field=field_name)
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise ValidationError(f"{field_name} must be a date YYYY-MM-DD (got {_show(value)})", field=field_name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{field_name}: {value} is not a real date", field=field_name) from None


def parse_time(value: Any, field_name: str = "booking_time") -> time:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValidationError(f"{field_name} is a local time and must not carry a UTC offset", field=field_name)
        return value
    if not isinstance(value, str) or not _TIME_RE.match(value):
        raise ValidationError(f"{field_name} must be a time HH:MM (got {_show(value)})", field=field_name)
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{field_name}: {value} is not a real time of day (00:00 to 23:59)",
                              field=field_name) from None


def parse_int(value: Any, field_name: str, *, minimum: int = -INT64_MAX - 1, maximum: int = INT64_MAX) -> int:
    """A whole number that fits the SQL parameter; range rules beyond that are SQL's."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field_name} must be a whole number (got {_show(value)})", field=field_name)
    if not minimum <= value <= maximum:
        raise ValidationError(f"{field_name} must be from {minimum} to {maximum} (got {value})", field=field_name)
    return value


def parse_text(value: Any, field_name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field_name} must be a string (got {_show(value)})", field=field_name)
    if "\x00" in value:
        raise ValidationError(f"{field_name} must not contain a null byte (\\u0000)", field=field_name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{field_name} is not valid Unicode text (lone surrogate)", field=field_name) from None
    return value


def _show(value: Any) -> str:
    text = json.dumps(value, default=repr) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    raise TypeError(f"{type(value).__name__} cannot be sent as a change")


# --- the call path -------------------------------------------------------------------

def _row_to_dict(row: asyncpg.Record | None) -> dict[str, Any]:
    if row is None:   # the functions answer a row or raise; never a silent nothing
        raise BookingError("The database returned no row", sqlstate="XX000", name="no_row", http_status=500)
    out = dict(row)
    out.pop("lock_wait_ms", None)
    return out


def is_connection_loss(exc: BaseException) -> bool:
    # InternalClientError: a connection that broke mid-statement and was then asked to roll
    # back ("another operation is in progress"), seen when the server is killed under load.
    return isinstance(exc, (asyncpg.PostgresConnectionError, asyncpg.ConnectionDoesNotExistError,
                            asyncpg.exceptions.ConnectionFailureError, asyncpg.InternalClientError,
                            ConnectionError, OSError)) or (
        isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc))


def _transient_reason(exc: BaseException, retry_lost_connections: bool) -> str | None:
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate in TRANSIENT_SQLSTATES:
        return TRANSIENT_SQLSTATES[sqlstate]
    if sqlstate and (sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")):
        return "connection_lost" if retry_lost_connections else None
    if isinstance(exc, asyncpg.DataError):
        return None
    if sqlstate is None and is_connection_loss(exc) and retry_lost_connections:
        return "connection_lost"
    return None


def _delay(cfg: ServiceConfig, retry_number: int) -> float:
    base = min(cfg.max_retry_delay, cfg.initial_retry_delay * cfg.backoff_factor ** (retry_number - 1))
    return base * random.uniform(0.75, 1.0)


ACTING_ROLES = ("client", "barber", "admin")


def _acting_role(value: str | None) -> str:
    """booking.acting_role for a call: the token's role, or '' (a trusted internal caller,
    acting with every right booking.staff gives the user)."""
    if value is None:
        return ""
    if value not in ACTING_ROLES:
        raise ValidationError(f"acting_role must be one of {', '.join(ACTING_ROLES)} or None (got {_show(value)})",
                              field="acting_role")
    return value


async def _run_once(db, cfg: ServiceConfig, query: str, args: tuple, acting_role: str) -> asyncpg.Record | None:
    settings = (f"{max(1, round(cfg.advisory_lock_timeout * 1000))}ms",
                "on" if cfg.enable_double_booking_prevention else "off",
                f"{cfg.idempotency_key_ttl_hours} hours", acting_role)

    async def run(conn: asyncpg.Connection):
        if conn.is_in_transaction():
            # The caller's transaction: a savepoint, so a refusal leaves it usable.
            async with conn.transaction():
                return await conn.fetchrow(QUERIES[query], *args, *settings)
        return await conn.fetchrow(QUERIES[query], *args, *settings)   # its own transaction

    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            return await run(conn)
    return await run(db)


async def _call(operation: str, db, query: str, args: tuple, acting_role: str = "") -> asyncpg.Record | None:
    """Run one named statement in its own transaction, retrying transient failures."""
    cfg = _config
    retries_on = cfg.enable_double_booking_prevention and cfg.max_retry_attempts > 0
    pooled = isinstance(db, asyncpg.Pool)
    metrics.BOOKING_ATTEMPTS.labels(operation).inc()

    def retryable(exc: BaseException) -> bool:
        return retries_on and _transient_reason(exc, pooled) is not None

    def wait(state: RetryCallState) -> float:
        return _delay(cfg, state.attempt_number)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception()
        reason = _transient_reason(exc, pooled) or "unknown"
        delay = state.next_action.sleep if state.next_action else 0.0
        metrics.BOOKING_RETRIES.labels(operation, reason).inc()
        log.debug("retry layer: %s attempt %d failed with %s (%s); retrying in %.3fs",
                  operation, state.attempt_number, reason, exc, delay)
        if cfg.before_retry_sleep is not None:
            cfg.before_retry_sleep(operation, state.attempt_number, delay, exc)

    retrying = AsyncRetrying(
        retry=retry_if_exception(retryable), wait=wait, before_sleep=before_sleep,
        stop=stop_after_attempt(1 + (cfg.max_retry_attempts if retries_on else 0)), reraise=True,
    )
    try:
        row = await retrying(_run_once, db, cfg, query, args, acting_role)
    except asyncpg.PostgresError as exc:
        err = from_postgres(exc)
        if err is None:
            metrics.BOOKING_OUTCOMES.labels(operation, exc.sqlstate or "error").inc()
            log.debug("database layer: %s failed with %s %s", operation, exc.sqlstate, exc)
            raise
        _record_error(operation, err)
        raise err from exc
    except (OverflowError, asyncpg.DataError) as exc:  # a value asyncpg cannot encode
        err = InvalidInputError("A number is out of range", detail=str(exc), sqlstate="22003")
        _record_error(operation, err)
        raise err from exc
    except BaseException as exc:
        metrics.BOOKING_OUTCOMES.labels(operation, "error").inc()
        log.debug("%s failed: %r", operation, exc)
        raise
    if row is not None:
        wait_ms = row.get("lock_wait_ms") if "lock_wait_ms" in row.keys() else None
        if wait_ms is not None:
            metrics.LOCK_WAIT.labels(operation).observe(float(wait_ms) / 1000.0)
            log.debug("lock layer: %s waited %.1f ms for the slot lock", operation, float(wait_ms))
        elif operation == "create" and not row["replayed"]:
            log.debug("lock layer: %s took no advisory lock (application checks off)", operation)
        outcome = "replayed" if row["replayed"] else "success"
        metrics.BOOKING_OUTCOMES.labels(operation, outcome).inc()
        log.debug("database layer: %s of appointment %s %s (version %s)", operation, row["id"],
                  outcome, row["version"])
    return row


def _record_error(operation: str, err: BookingError) -> None:
    metrics.BOOKING_OUTCOMES.labels(operation, err.name).inc()
    if isinstance(err, BookingConflictError):
        metrics.CONSTRAINT_VIOLATIONS.labels(err.source).inc()
        log.debug("overlap layer (%s): %s refused: %s", err.source, operation, err.detail)
    else:
        log.debug("database layer: %s refused with %s %s: %s", operation, err.sqlstate, err.name, err.detail)


# --- the API -------------------------------------------------------------------------

async def create_booking(db, *, user_id: int, booking_date: date | str, booking_time: time | str,
                         service: str, barber_id: int | None, buffer_time_before: int = 0,
                         buffer_time_after: int = 0, notes: str | None = None,
                         idempotency_key: str | None = None, acting_role: str | None = None) -> dict[str, Any]:
    """Book `service` with `barber_id` at the barber's local `booking_date` `booking_time`.

    barber_id None books "any barber": the engine picks, atomically, a free barber who offers
    the service (fewest bookings that local day, then lowest id); the local time is read in
    the time zone all barbers share.

    acting_role ('client', 'barber', 'admin') caps what the user may do to the role of the
    credential it acts with (booking.acting_role); None is a trusted internal caller.
    Idempotency keys belong to the user: another user's key of the same text is another key.

    Returns the appointment: its columns, end_time, booking_date/booking_time (local to
    the barber), timezone and replayed. Raises BookingConflictError, LockTimeoutError,
    IdempotencyKeyMismatchError, or another BookingError (unknown barber or service,
    past, outside working hours, a local time that does not exist, bad input).
    """
    args = (
        None if barber_id is None else parse_int(barber_id, "barber_id"), parse_int(user_id, "user_id"), parse_text(service, "service"),
        parse_date(booking_date).isoformat(), parse_time(booking_time).isoformat(),
        parse_int(buffer_time_before, "buffer_time_before", minimum=-INT32_MAX - 1, maximum=INT32_MAX),
        parse_int(buffer_time_after, "buffer_time_after", minimum=-INT32_MAX - 1, maximum=INT32_MAX),
        parse_text(notes, "notes", optional=True), parse_text(idempotency_key, "idempotency_key", optional=True),
    )
    if args[-1] is None and _config.enable_double_booking_prevention and _config.max_retry_attempts > 0:
        args = args[:-1] + (f"auto:{uuid.uuid4()}",)
    role = _acting_role(acting_role)
    row = await _call("create", db, "create_booking", args, role)
    result = _row_to_dict(row)
    if idempotency_key is not None:
        metrics.IDEMPOTENCY.labels("replay" if result["replayed"] else "miss").inc()
    return result


async def update_booking(db, booking_id: int, user_id: int, update_data: dict[str, Any],
                         expected_version: int | None = None, *, acting_role: str | None = None) -> dict[str, Any]:
    """Apply `update_data` (keys: booking_date, booking_time, start_time, barber_id,
    buffer_time_before, buffer_time_after, notes, status) to appointment `booking_id` as
    `user_id`; with `expected_version`, only to that version (else ConcurrencyError)."""
    if not isinstance(update_data, dict):
        raise ValidationError("update_data must be a mapping of field names to new values", field="update_data")
    try:
        changes = json.dumps(update_data, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValidationError(f"update_data cannot be sent: {e}", field="update_data") from None
    args = (parse_int(booking_id, "booking_id"), parse_int(user_id, "user_id"), changes,
            None if expected_version is None else parse_int(expected_version, "expected_version",
                                                            minimum=-INT32_MAX - 1, maximum=INT32_MAX))
    return _row_to_dict(await _call("update", db, "update_booking", args, _acting_role(acting_role)))


async def cancel_booking(db, booking_id: int, user_id: int, expected_version: int | None = None, *,
                         acting_role: str | None = None) -> dict[str, Any]:
    """Cancel appointment `booking_id` as `user_id` (a cancelled one is returned unchanged)."""
    args = (parse_int(booking_id, "booking_id"), parse_int(user_id, "user_id"),
            None if expected_version is None else parse_int(expected_version, "expected_version",
                                                            minimum=-INT32_MAX - 1, maximum=INT32_MAX))
    return _row_to_dict(await _call("cancel", db, "cancel_booking", args, _acting_role(acting_role)))


async def get_booking(db, booking_id: int, user_id: int, *, acting_role: str | None = None) -> dict[str, Any] | None:
    """The appointment as `user_id` (acting as `acting_role`) may see it, or None."""
    args = (parse_int(booking_id, "booking_id"), parse_int(user_id, "user_id"), _acting_role(acting_role))
    row = await db.fetchrow(QUERIES["get_booking"], *args)
    return None if row is None else _row_to_dict(row)
