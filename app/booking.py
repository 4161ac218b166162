"""The Python API of the booking engine (contract section 4).

    from app.booking import create_booking, update_booking, cancel_booking, configure_booking_service

Every call is ONE statement on one connection (taken from the pool when `db` is a Pool), in
its own transaction (a savepoint when the caller's connection is inside a transaction): it
makes the settings transaction-local (lock timeout, application checks, idempotency key
lifetime, acting role; booking.with_settings) and calls the SQL function (sql/queries.sql).
All rules (what is a real date, working hours, time zones, overlap, visibility, versions)
are the SQL functions'; this module checks only the form of its arguments (types that can
be sent), turns the answer into an app.records.Appointment, and retries.

Retries: a transient failure (app.gateway.is_transient: serialization failure, deadlock,
lost connection) is retried up to `max_retry_attempts` times after the first attempt, with
exponential backoff and jitter: the n-th retry waits min(max_retry_delay,
initial_retry_delay * backoff_factor**(n-1)) times a random factor in [0.75, 1]. A lost
connection is only retried when `db` is a Pool (a closed Connection cannot come back).
Nothing else is ever retried: not a conflict (23P01), not a version mismatch (BK001), not a
lock timeout. A create without an idempotency key gets an internal one ("auto:<uuid>")
while retries are on, so a retry after a connection lost during COMMIT replays instead of
conflicting with its own booking. A lost connection (or a cluster's BK016) leaves the
outcome unknown, so it is retried only when repeating the call is safe: a create, hold or
series (their key), a confirm (idempotent), a cancel without an expected version (a
cancelled appointment is answered unchanged); or when nothing reached the server
(app.gateway.never_sent: no connection could be had, as while a failover is under way). An
update, a conditional cancel or a cancel-following is otherwise not retried: it fails with
DatabaseUnavailableError (HTTP 503, Retry-After) saying that its outcome is unknown.

`configure_booking_service(enable_double_booking_prevention=False)` turns off the
application-side layers: no advisory lock (booking.application_checks = off) and no
retries. The database's trigger and exclusion constraint still refuse every overlap
(BookingConflictError).

Each layer's decision is logged at DEBUG on the logger "booking".
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import date, time
from typing import Any

import asyncpg
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from app import metrics, reads
from app.arguments import INT32, json_changes, local_date, local_time, role_setting, text, whole_number
from app.errors import (
    BookingConflictError,
    BookingError,
    ConcurrencyError,
    DatabaseUnavailableError,
    IdempotencyKeyMismatchError,
    LockTimeoutError,
    ValidationError,
)
from app.gateway import NOT_SENT, never_sent, transient_reason, translate
from app.queries import QUERIES
from app.records import Appointment, from_row
from app.tuning import ServiceConfig, configure_booking_service, current_config

__all__ = [
    "create_booking",
    "update_booking",
    "cancel_booking",
    "get_booking",
    "hold_slot",
    "confirm_hold",
    "book_series",
    "cancel_following",
    "start_appointment",
    "finish_appointment",
    "configure_booking_service",
    "current_config",
    "ServiceConfig",
    "Appointment",
    "BookingConflictError",
    "ConcurrencyError",
    "LockTimeoutError",
    "IdempotencyKeyMismatchError",
    "BookingError",
    "ValidationError",
]

log = logging.getLogger("booking")


# --- the call path ----------------------------------------------------------------------


def _delay(cfg: ServiceConfig, retry_number: int) -> float:
    base = min(cfg.max_retry_delay, cfg.initial_retry_delay * cfg.backoff_factor ** (retry_number - 1))
    return base * random.uniform(0.75, 1.0)


async def _run_once(db, cfg: ServiceConfig, query: str, args: tuple, role: str, many: bool = False):
    settings = (
        f"{max(1, round(cfg.advisory_lock_timeout * 1000))}ms",
        "on" if cfg.enable_double_booking_prevention else "off",
        f"{cfg.idempotency_key_ttl_hours} hours",
        role,
    )

    async def run(conn: asyncpg.Connection):
        fetch = conn.fetch if many else conn.fetchrow  # many: a series' rows, in one statement
        if conn.is_in_transaction():
            # The caller's transaction: a savepoint, so a refusal leaves it usable.
            async with conn.transaction():
                return await fetch(QUERIES[query], *args, *settings)
        return await fetch(QUERIES[query], *args, *settings)  # its own transaction

    if isinstance(db, asyncpg.Pool):
        try:
            conn = await db.acquire()
        except Exception as exc:
            exc.add_note(NOT_SENT)  # no connection: the statement never left
            raise
        try:
            return await run(conn)
        finally:
            await db.release(conn)
    return await run(db)


_OUTCOME_UNKNOWN = ("connection_lost", "partition_unavailable")


async def _call(
    operation: str, db, query: str, args: tuple, role: str, many: bool = False, *, repeatable: bool = False
):
    """Run one named statement in its own transaction, retrying transient failures: its
    Appointment, or with many=True the list of them (a series). repeatable: running it twice
    has the effect of running it once (a key, an idempotent call), so a call whose outcome
    is unknown (a connection lost mid-call) may be tried again."""
    cfg = current_config()
    retries_on = cfg.enable_double_booking_prevention and cfg.max_retry_attempts > 0
    pooled = isinstance(db, asyncpg.Pool)
    metrics.BOOKING_ATTEMPTS.labels(operation).inc()

    def retryable(exc: BaseException) -> bool:
        reason = transient_reason(exc) if retries_on else None
        if reason == "connection_lost":  # a closed Connection cannot come back; a pool's can
            return pooled and (repeatable or never_sent(exc))
        if reason in _OUTCOME_UNKNOWN:
            return repeatable
        return reason is not None

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception()
        reason = transient_reason(exc) or "unknown"
        delay = state.next_action.sleep if state.next_action else 0.0
        metrics.BOOKING_RETRIES.labels(operation, reason).inc()
        log.debug(
            "retry layer: %s attempt %d failed with %s (%s); retrying in %.3fs",
            operation,
            state.attempt_number,
            reason,
            exc,
            delay,
        )
        if cfg.before_retry_sleep is not None:
            cfg.before_retry_sleep(operation, state.attempt_number, delay, exc)

    retrying = AsyncRetrying(
        retry=retry_if_exception(retryable),
        wait=lambda state: _delay(cfg, state.attempt_number),
        before_sleep=before_sleep,
        stop=stop_after_attempt(1 + (cfg.max_retry_attempts if retries_on else 0)),
        reraise=True,
    )
    try:
        row = await retrying(_run_once, db, cfg, query, args, role, many)
    except Exception as exc:
        error = translate(exc)
        if isinstance(error, DatabaseUnavailableError) and not repeatable and not never_sent(exc):
            error = DatabaseUnavailableError(
                detail=f"The connection to the database was lost during the {operation} (a failover, a restart): "
                "whether it was applied is unknown. Read the appointment (its version) before trying again."
            )
        _record_error(operation, error)
        if error is exc:
            raise
        raise error from exc
    if many:
        appointments = [from_row(Appointment, r) for r in row]
        for r in row[:1]:
            if r["lock_wait_ms"]:
                metrics.LOCK_WAIT.labels(operation).observe(float(r["lock_wait_ms"]) / 1000.0)
        metrics.BOOKING_OUTCOMES.labels(operation, "success").inc()
        return appointments
    if row is None:  # the functions answer a row or raise; never a silent nothing
        raise BookingError("The database returned no row", sqlstate="XX000")
    wait_ms = row["lock_wait_ms"]
    if wait_ms:
        metrics.LOCK_WAIT.labels(operation).observe(float(wait_ms) / 1000.0)
        log.debug("lock layer: %s waited %.1f ms for the slot lock", operation, float(wait_ms))
    appointment = from_row(Appointment, row)
    outcome = "replayed" if appointment.replayed else "success"
    metrics.BOOKING_OUTCOMES.labels(operation, outcome).inc()
    log.debug(
        "database layer: %s of appointment %s %s (version %s)", operation, appointment.id, outcome, appointment.version
    )
    return appointment


def _record_error(operation: str, error: BaseException) -> None:
    name = getattr(error, "name", None) if isinstance(error, BookingError) else None
    metrics.BOOKING_OUTCOMES.labels(operation, name or "error").inc()
    if isinstance(error, BookingConflictError):
        metrics.CONSTRAINT_VIOLATIONS.labels(error.source).inc()
        log.debug("overlap layer (%s): %s refused: %s", error.source, operation, error.detail)
    else:
        log.debug("database layer: %s failed with %r", operation, error)


# --- the API -------------------------------------------------------------------------


async def _place(
    operation: str,
    query: str,
    db,
    *,
    user_id: int,
    booking_date: date | str,
    booking_time: time | str,
    service: str,
    barber_id: int | None,
    buffer_time_before: int | None = 0,
    buffer_time_after: int | None = 0,
    notes: str | None = None,
    idempotency_key: str | None = None,
    acting_role: str | None = None,
    shop_id: int | None = None,
) -> Appointment:
    """create_booking and hold_slot: the same arguments, the same engine call but for the
    kind of row it makes.

    Book `service` with `barber_id` at the barber's local `booking_date` `booking_time`.
    Buffers None are the barber's default for the service
    (booking.set_service_buffers; 0 when none was set).

    barber_id None books "any barber" of shop `shop_id` (None: the default shop, 1): the
    engine picks, atomically, a free barber of the shop who offers the service (fewest
    bookings that local day, then lowest id); the local time is read in the time zone the
    shop's barbers share. With a barber, the shop is the barber's (a shop_id that says
    otherwise: BookingError barber_not_found). acting_role ('client', 'barber', 'admin') caps what the
    user may do to the role of the credential it acts with; None is a trusted caller.
    Idempotency keys belong to the user: another user's key of the same text is another key.

    Returns the Appointment (replayed=True when the key replays an earlier answer). Raises
    BookingConflictError, LockTimeoutError, IdempotencyKeyMismatchError, or another
    BookingError (unknown barber or service, past, outside working hours, a local time that
    does not exist, bad input).
    """
    role = role_setting(acting_role)
    key = text(idempotency_key, "idempotency_key", optional=True)
    cfg = current_config()
    if key is None and cfg.enable_double_booking_prevention and cfg.max_retry_attempts > 0:
        key = f"auto:{uuid.uuid4()}"
    args = (
        None if barber_id is None else whole_number(barber_id, "barber_id"),
        whole_number(user_id, "user_id"),
        text(service, "service"),
        local_date(booking_date),
        local_time(booking_time),
        None if buffer_time_before is None else whole_number(buffer_time_before, "buffer_time_before", INT32),
        None if buffer_time_after is None else whole_number(buffer_time_after, "buffer_time_after", INT32),
        text(notes, "notes", optional=True),
        key,
        None if shop_id is None else whole_number(shop_id, "shop_id"),
    )
    result = await _call(operation, db, query, args, role, repeatable=key is not None)
    if idempotency_key is not None:
        metrics.IDEMPOTENCY.labels("replay" if result.replayed else "miss").inc()
    return result


async def create_booking(
    db,
    *,
    user_id: int,
    booking_date: date | str,
    booking_time: time | str,
    service: str,
    barber_id: int | None,
    buffer_time_before: int | None = 0,
    buffer_time_after: int | None = 0,
    notes: str | None = None,
    idempotency_key: str | None = None,
    acting_role: str | None = None,
    shop_id: int | None = None,
) -> Appointment:
    """Book `service` with `barber_id` at the barber's local `booking_date` `booking_time`
    (booking.book_appointment). barber_id None books "any barber" of shop `shop_id` (None:
    the default shop, 1). acting_role ('client', 'barber', 'admin') caps what the user may
    do to the role of the credential it acts with; None is a trusted caller. Idempotency
    keys belong to the user. Returns the Appointment (replayed=True when the key replays an
    earlier answer); raises BookingConflictError, LockTimeoutError,
    IdempotencyKeyMismatchError, or another BookingError (see _place)."""
    return await _place(
        "create",
        "create_booking",
        db,
        user_id=user_id,
        booking_date=booking_date,
        booking_time=booking_time,
        service=service,
        barber_id=barber_id,
        buffer_time_before=buffer_time_before,
        buffer_time_after=buffer_time_after,
        notes=notes,
        idempotency_key=idempotency_key,
        acting_role=acting_role,
        shop_id=shop_id,
    )


async def hold_slot(
    db,
    *,
    user_id: int,
    booking_date: date | str,
    booking_time: time | str,
    service: str,
    barber_id: int | None,
    buffer_time_before: int | None = 0,
    buffer_time_after: int | None = 0,
    notes: str | None = None,
    idempotency_key: str | None = None,
    acting_role: str | None = None,
    shop_id: int | None = None,
) -> Appointment:
    """Hold the slot create_booking would book (booking.hold_slot): the same arguments and
    refusals; the answer is a hold (status 'held') that blocks the slot for everyone until
    its hold_expires_at (the shop's hold_minutes, 5 by default). confirm_hold makes it the
    appointment; cancel_booking releases it."""
    return await _place(
        "hold",
        "hold_slot",
        db,
        user_id=user_id,
        booking_date=booking_date,
        booking_time=booking_time,
        service=service,
        barber_id=barber_id,
        buffer_time_before=buffer_time_before,
        buffer_time_after=buffer_time_after,
        notes=notes,
        idempotency_key=idempotency_key,
        acting_role=acting_role,
        shop_id=shop_id,
    )


async def confirm_hold(db, hold_id: int, user_id: int, *, acting_role: str | None = None) -> Appointment:
    """Make hold `hold_id` the appointment (booking.confirm_hold): the same row, status
    'scheduled'. Confirming it again answers the appointment with replayed=True. Raises
    BookingError hold_expired (410) when it expired or was released, not_a_hold, or
    appointment_not_found (not the user's to see)."""
    role = role_setting(acting_role)
    args = (whole_number(hold_id, "hold_id"), whole_number(user_id, "user_id"))
    return await _call("confirm", db, "confirm_hold", args, role, repeatable=True)


async def book_series(
    db,
    *,
    user_id: int,
    booking_date: date | str,
    booking_time: time | str,
    service: str,
    barber_id: int,
    every_weeks: int,
    count: int,
    buffer_time_before: int | None = 0,
    buffer_time_after: int | None = 0,
    notes: str | None = None,
    idempotency_key: str | None = None,
    acting_role: str | None = None,
) -> list[Appointment]:
    """Book `count` appointments every `every_weeks` weeks from the local `booking_date`, at
    the same local `booking_time` in the barber's zone (booking.book_series): all or none.
    The first refusal raises its error (a BookingConflictError carries `occurrence` and
    `occurrence_date`) and nothing is booked. Each appointment carries the series_id of the
    first. A key makes the whole series replayable; without one the service makes one, as
    for create_booking."""
    role = role_setting(acting_role)
    key = text(idempotency_key, "idempotency_key", optional=True)
    cfg = current_config()
    if key is None and cfg.enable_double_booking_prevention and cfg.max_retry_attempts > 0:
        key = f"auto:{uuid.uuid4()}"
    args = (
        whole_number(barber_id, "barber_id"),
        whole_number(user_id, "user_id"),
        text(service, "service"),
        local_date(booking_date),
        local_time(booking_time),
        whole_number(every_weeks, "every_weeks", INT32),
        whole_number(count, "count", INT32),
        None if buffer_time_before is None else whole_number(buffer_time_before, "buffer_time_before", INT32),
        None if buffer_time_after is None else whole_number(buffer_time_after, "buffer_time_after", INT32),
        text(notes, "notes", optional=True),
        key,
    )
    return await _call("series", db, "book_series", args, role, many=True, repeatable=key is not None)


async def cancel_following(db, booking_id: int, user_id: int, *, acting_role: str | None = None) -> list[Appointment]:
    """Cancel appointment `booking_id` and the later occurrences of its series that are
    still active (booking.cancel_following), all or none; the cancelled appointments."""
    role = role_setting(acting_role)
    args = (whole_number(booking_id, "booking_id"), whole_number(user_id, "user_id"))
    return await _call("cancel", db, "cancel_following", args, role, many=True)


async def update_booking(
    db,
    booking_id: int,
    user_id: int,
    update_data: dict[str, Any],
    expected_version: int | None = None,
    *,
    acting_role: str | None = None,
) -> Appointment:
    """Apply `update_data` (keys: booking_date, booking_time, start_time, barber_id,
    buffer_time_before, buffer_time_after, notes, status) to appointment `booking_id` as
    `user_id`; with `expected_version`, only to that version (else ConcurrencyError)."""
    role = role_setting(acting_role)
    changes = json_changes(update_data)
    args = (
        whole_number(booking_id, "booking_id"),
        whole_number(user_id, "user_id"),
        changes,
        None if expected_version is None else whole_number(expected_version, "expected_version", INT32),
    )
    return await _call("update", db, "update_booking", args, role)


async def cancel_booking(
    db, booking_id: int, user_id: int, expected_version: int | None = None, *, acting_role: str | None = None
) -> Appointment:
    """Cancel appointment `booking_id` as `user_id` (a cancelled one is returned unchanged)."""
    role = role_setting(acting_role)
    args = (
        whole_number(booking_id, "booking_id"),
        whole_number(user_id, "user_id"),
        None if expected_version is None else whole_number(expected_version, "expected_version", INT32),
    )
    return await _call("cancel", db, "cancel_booking", args, role, repeatable=expected_version is None)


async def get_booking(db, booking_id: int, user_id: int, *, acting_role: str | None = None) -> Appointment | None:
    """The appointment as `user_id` (acting as `acting_role`) may see it, or None."""
    role = role_setting(acting_role)
    return await reads.appointment(db, whole_number(booking_id, "booking_id"), whole_number(user_id, "user_id"), role)


async def start_appointment(
    db, booking_id: int, user_id: int, expected_version: int | None = None, *, acting_role: str | None = None
) -> Appointment:
    """Mark appointment `booking_id` started (booking.start_appointment): status
    'in_progress', started_at the database's clock. Its barber or an admin of its shop
    (else not_permitted, or appointment_not_found to a stranger); scheduled or confirmed
    only (invalid_status_transition otherwise); starting it again answers it unchanged."""
    role = role_setting(acting_role)
    args = (
        whole_number(booking_id, "booking_id"),
        whole_number(user_id, "user_id"),
        None if expected_version is None else whole_number(expected_version, "expected_version", INT32),
    )
    return await _call("start", db, "start_appointment", args, role, repeatable=expected_version is None)


async def finish_appointment(
    db, booking_id: int, user_id: int, expected_version: int | None = None, *, acting_role: str | None = None
) -> Appointment:
    """Mark a started appointment finished (booking.finish_appointment): status 'completed',
    finished_at the database's clock. Who may, as start_appointment; only an appointment in
    progress (invalid_status_transition otherwise); finishing it again answers it unchanged."""
    role = role_setting(acting_role)
    args = (
        whole_number(booking_id, "booking_id"),
        whole_number(user_id, "user_id"),
        None if expected_version is None else whole_number(expected_version, "expected_version", INT32),
    )
    return await _call("finish", db, "finish_appointment", args, role, repeatable=expected_version is None)
