"""The staff and admin calls (contract section 7, "running a shop"), typed: each runs ONE
named statement of sql/queries.sql (through app.gateway) and returns records. Who may do
what, the hours' rules and the refusal of a change that would strand appointments
(BK019) are the SQL functions' (booking.create_barber, create_service, set_working_hours,
get_working_hours, add_time_off, list_time_off); this module only sends and types."""

from __future__ import annotations

import json
from datetime import datetime, time

import msgspec

from app.gateway import database_errors
from app.queries import QUERIES
from app.records import Barber, Caller, from_row


class NewService(msgspec.Struct):
    """A service as created: its id too (names are unique per shop)."""

    id: int
    name: str
    duration_minutes: int
    price_cents: int
    shop_id: int


class Shift(msgspec.Struct):
    """One row of working hours: ISO weekday (1 = Monday), local HH:MM opening and closing
    (a closes_at not after opens_at ends the next day)."""

    weekday: int
    opens_at: str
    closes_at: str


class WorkingHours(msgspec.Struct):
    """A barber's working hours and their version (the ETag)."""

    barber_id: int
    version: int
    hours: list[Shift]


class TimeOff(msgspec.Struct):
    id: int
    barber_id: int
    start: datetime
    end: datetime
    reason: str | None = None


class TimeOffList(msgspec.Struct):
    barber_id: int
    time_off: list[TimeOff]


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


async def _fetch(db, name: str, *args) -> list:
    with database_errors():
        return await db.fetch(QUERIES[name], *args)


async def create_barber(db, caller: Caller, shop_id: int, name: str, timezone: str | None) -> Barber:
    rows = await _fetch(db, "create_barber", shop_id, name, timezone, caller.user_id, caller.role)
    return from_row(Barber, rows[0])


async def create_service(
    db, caller: Caller, shop_id: int, name: str, duration_minutes: int, price_cents: int | None
) -> NewService:
    rows = await _fetch(db, "create_service", shop_id, name, duration_minutes, price_cents, caller.user_id, caller.role)
    return from_row(NewService, rows[0])


async def set_working_hours(
    db, caller: Caller, barber_id: int, hours: list[dict], *, force: bool, expected_version: int | None
) -> WorkingHours:
    rows = await _fetch(
        db, "set_working_hours", barber_id, json.dumps(hours), caller.user_id, force, expected_version, caller.role
    )
    shifts = [Shift(r["weekday"], _hhmm(r["opens_at"]), _hhmm(r["closes_at"])) for r in rows]
    # booking.working_hours_version: the greatest id of the rows, 0 for none.
    return WorkingHours(barber_id, max((r["id"] for r in rows), default=0), shifts)


async def get_working_hours(db, caller: Caller, barber_id: int) -> WorkingHours:
    rows = await _fetch(db, "get_working_hours", barber_id, caller.user_id, caller.role)
    shifts = [Shift(r["weekday"], _hhmm(r["opens_at"]), _hhmm(r["closes_at"])) for r in rows]
    return WorkingHours(barber_id, rows[0]["version"] if rows else 0, shifts)


async def add_time_off(
    db, caller: Caller, barber_id: int, start: datetime, end: datetime, reason: str | None, *, force: bool
) -> TimeOff:
    rows = await _fetch(db, "add_time_off", barber_id, start, end, reason, caller.user_id, force, caller.role)
    return from_row(TimeOff, rows[0])


async def list_time_off(db, caller: Caller, barber_id: int) -> TimeOffList:
    rows = await _fetch(db, "list_time_off", barber_id, caller.user_id, caller.role)
    return TimeOffList(barber_id, [from_row(TimeOff, r) for r in rows])
