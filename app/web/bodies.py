"""The request bodies, as types: msgspec Structs that refuse unknown fields. They check
form only (JSON types, and numbers that fit the SQL parameter); every rule (a real date, a
time before 24:00, buffers of 0 to 1440 minutes, notes of at most 2000 characters, an
idempotency key's form) is the engine's, stated once in SQL. The OpenAPI document is
generated from these types."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

BigInt = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
Int = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]
LocalDate = Annotated[str, Meta(description="The barber's local date, YYYY-MM-DD.", examples=["2030-01-08"])]
LocalTime = Annotated[
    str,
    Meta(
        description="The barber's local time, HH:MM (a time skipped by a clock change is "
        "refused, a repeated one is its earlier instant).",
        examples=["10:00"],
    ),
]
Minutes = Annotated[Int, Meta(description="Buffer in whole minutes (0 to 1440): the barber's time around it.")]


class NewAppointment(msgspec.Struct, forbid_unknown_fields=True):
    """POST /appointments. barber_id omitted or null books any barber of shop `shop_id`
    (omitted: the default shop, 1) who offers the service and is free (the fewest bookings
    that local day, then the lowest id). With a barber, the shop is the barber's."""

    service: str
    booking_date: LocalDate
    booking_time: LocalTime
    barber_id: BigInt | None = None
    buffer_time_before: Minutes | None = None
    buffer_time_after: Minutes | None = None
    notes: str | None = None
    shop_id: BigInt | None = None


class NewSeries(msgspec.Struct, forbid_unknown_fields=True):
    """POST /appointments/series: `count` appointments every `every_weeks` weeks from
    booking_date, at booking_time local to the barber (the same wall-clock time across a
    change of daylight saving time), all or none."""

    barber_id: BigInt
    service: str
    booking_date: LocalDate
    booking_time: LocalTime
    every_weeks: Int
    count: Int
    buffer_time_before: Minutes | None = None
    buffer_time_after: Minutes | None = None
    notes: str | None = None


class AppointmentChanges(msgspec.Struct, forbid_unknown_fields=True):
    """PATCH /appointments/{id}: only the fields to change (booking.update_appointment's
    keys); notes null clears them; start_time is an RFC 3339 instant instead of
    booking_date/booking_time; status is for staff (confirm, complete, no-show) and clients
    (cancel)."""

    booking_date: LocalDate | UnsetType = UNSET
    booking_time: LocalTime | UnsetType = UNSET
    start_time: str | UnsetType = UNSET
    barber_id: BigInt | UnsetType = UNSET
    buffer_time_before: Int | UnsetType = UNSET
    buffer_time_after: Int | UnsetType = UNSET
    notes: str | None | UnsetType = UNSET
    status: str | UnsetType = UNSET

    def changes(self) -> dict:
        return {name: value for name in self.__struct_fields__ if (value := getattr(self, name)) is not UNSET}
