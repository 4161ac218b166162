"""The service's reads, typed: each runs one named statement of sql/queries.sql through
the error gateway and returns records (app.records). The writes are app.booking's.
`db` is an asyncpg pool or connection (the service passes its read pool, whose sessions
have READ_STATEMENT_TIMEOUT)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.gateway import database_errors
from app.queries import QUERIES
from app.records import Appointment, Barber, Caller, Service, Slot, from_row


async def _fetch(db, name: str, *args: Any) -> list:
    with database_errors():
        return await db.fetch(QUERIES[name], *args)


async def authenticate(db, token_hash: bytes) -> tuple[Caller, float | None] | None:
    """The caller of a bearer token (its SHA-256) and until when that holds at most (the
    token's expiry as a Unix time; None: no expiry), or None: unknown, expired, revoked, or
    a staff token whose user lost the role."""
    rows = await _fetch(db, "authenticate_token", token_hash)
    if not rows:
        return None
    r = rows[0]
    until = r["valid_until"].timestamp() if r["valid_until"] is not None else None
    return Caller(r["user_id"], r["role"], r["barber_id"], token_hash, r["shop_id"]), until


async def appointment(db, appointment_id: int, user_id: int, acting_role: str = "") -> Appointment | None:
    """The appointment as `user_id`, acting as `acting_role` ('' = every right booking.staff
    gives), may see it; None when absent or not visible."""
    rows = await _fetch(db, "get_booking", appointment_id, user_id, acting_role)
    return from_row(Appointment, rows[0]) if rows else None


async def free_slots(
    db,
    barber_id: int | None,
    day: str,
    service: str,
    buffer_before: int | None = None,
    buffer_after: int | None = None,
    shop_id: int | None = None,
) -> list[Slot]:
    """Free starts of the barber (None: any barber of shop `shop_id`, None: the default
    shop) on local date `day` (text; the engine reads it), for the service with those buffers
    (None: the barber's default for the service, 0 without one)."""
    rows = await _fetch(db, "free_slots", barber_id, day, service, buffer_before, buffer_after, shop_id)
    return [Slot(r["start_time"], r["end_time"]) for r in rows]


async def barbers(db, shop_id: int = 1) -> list[Barber]:
    return [from_row(Barber, r) for r in await _fetch(db, "list_barbers", shop_id)]


async def services(db, shop_id: int = 1) -> list[Service]:
    return [from_row(Service, r) for r in await _fetch(db, "list_services", shop_id)]


async def barber_exists(db, barber_id: int) -> bool:
    return bool(await _fetch(db, "barber_exists", barber_id))


async def latest_event_id(db, barber_id: int) -> int:
    return (await _fetch(db, "latest_event_id", barber_id))[0][0]


async def events_since(db, barber_id: int, after_id: int) -> list:
    """The barber's change-feed rows after an event id (a page of at most 1000)."""
    return await _fetch(db, "events_since", barber_id, after_id)


async def callers(db, token_hashes: list[bytes]) -> dict[bytes, tuple]:
    """{token hash: (user_id, role, barber_id)} of the tokens still valid, in one query."""
    rows = await _fetch(db, "authenticate_tokens", token_hashes)
    return {bytes(r["token_hash"]): (r["user_id"], r["role"], r["barber_id"]) for r in rows if r["user_id"] is not None}


async def appointments(
    db,
    user_id: int,
    acting_role: str,
    *,
    barber_id: int | None = None,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    status: str | None = None,
    after: tuple | None = None,
    limit: int = 50,
) -> list[Appointment]:
    """A page of the appointments `user_id`, acting as `acting_role`, may see, oldest first:
    at most `limit` after the key `after` ((start_time, id) of the previous page's last
    row), starting in [start_from, start_to) (None: unbounded)."""
    after_start, after_id = after if after is not None else (None, None)
    rows = await _fetch(
        db,
        "list_appointments",
        user_id,
        acting_role,
        barber_id,
        start_from,
        start_to,
        status,
        after_start,
        after_id,
        limit,
    )
    return [from_row(Appointment, r) for r in rows]
