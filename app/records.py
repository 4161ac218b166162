"""What the engine answers, typed: each SQL result row becomes one of these records, which
app.booking returns to Python callers and the HTTP service sends as JSON (msgspec encodes
them; Litestar describes them in the OpenAPI document from the same types).

An appointment's shape is defined once in SQL, by the view booking.appointment_records;
`Appointment` takes those columns by name. Adding a field to every answer is one line
there and one here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

import msgspec

R = TypeVar("R", bound=msgspec.Struct)


def from_row(cls: type[R], row: Any) -> R:
    """A record from a database row (an asyncpg Record or a mapping), by field name."""
    return cls(**{name: row[name] for name in cls.__struct_fields__})


class Appointment(msgspec.Struct, omit_defaults=True):
    """An appointment as the engine answers it. booking_date and booking_time are local to
    the barber's time zone (`timezone`); start_time and end_time are instants (RFC 3339,
    UTC); `version` is its ETag. `replayed` is true only in book_appointment's answer to a
    repeated idempotent request (over HTTP that is the Idempotent-Replayed header; the body
    is the first answer's)."""

    id: int
    barber_id: int
    shop_id: int
    user_id: int
    service_name: str = msgspec.field(name="service")
    booking_date: date
    booking_time: str
    timezone: str
    start_time: datetime
    end_time: datetime
    duration_minutes: int
    buffer_time_before: int
    buffer_time_after: int
    status: str
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    hold_expires_at: datetime | None = None  # a hold (status 'held'), or an appointment that was one
    series_id: int | None = None  # an occurrence of a series (booking.book_series): its first's id
    changed_by: int | None = None  # the user who made the last change (a staff override is on record)
    started_at: datetime | None = None  # when its barber marked it started (status in_progress)
    finished_at: datetime | None = None  # when it was marked finished (status completed)
    replayed: bool = False


class Slot(msgspec.Struct, omit_defaults=True):
    """A start the barber (or, for any barber, someone) is free to take, and its end. With
    ?predict=true and a conflict model (docs/LEARNING.md): the predicted chance that it is
    taken within the model's horizon, and whether that is at least its threshold. Advice:
    the booking itself is the database's to accept or refuse."""

    start: datetime
    end: datetime
    taken_probability: float | None = None
    likely_to_go_soon: bool | None = None


class SlotPrediction(msgspec.Struct, omit_defaults=True):
    """What the marks of a predicted availability come from: `available` false (and
    `reason`) when there are none (no model file, any barber)."""

    available: bool
    reason: str | None = None
    model: str | None = None  # logistic, gradient_boosting, or the baseline hour_of_week
    horizon_hours: float | None = None
    threshold: float | None = None
    trained_at: str | None = None
    beats_baseline: bool | None = None  # on its validation data, against the hour-of-week frequency


class Slots(msgspec.Struct, omit_defaults=True):
    """The free starts of one barber, or of any barber (barber_id null), on a local date."""

    barber_id: int | None
    date: str
    service: str
    slots: list[Slot]
    prediction: SlotPrediction | None = None  # only with ?predict=true


class Barber(msgspec.Struct):
    id: int
    name: str
    timezone: str
    shop_id: int


class Barbers(msgspec.Struct):
    barbers: list[Barber]


class Service(msgspec.Struct):
    name: str
    duration_minutes: int
    price_cents: int
    shop_id: int


class Services(msgspec.Struct):
    services: list[Service]


class Caller(msgspec.Struct, frozen=True):
    """Who a request acts for, and as what: the token's role bounds every call it makes
    (booking.acting_role), whatever other roles the user holds."""

    user_id: int
    role: str
    barber_id: int | None
    token_hash: bytes
    shop_id: int | None = None  # an admin token limited to one shop (None: every shop)


class Appointments(msgspec.Struct):
    """Several appointments made or changed by one call (a series, a cancellation of the
    following occurrences), by start."""

    items: list[Appointment]


class AppointmentPage(msgspec.Struct):
    """A page of GET /appointments: the caller's visible appointments, oldest first, and the
    opaque cursor of the next page (null on the last one)."""

    items: list[Appointment]
    next_cursor: str | None


class Webhook(msgspec.Struct):
    """A shop's webhook subscription and its delivery state (booking.webhook_records).
    `secret` only in the answers of its creation and of a rotation; `previous_secret_until`
    while the secret before a rotation still signs; `disabled_reason` says why it stopped
    (the failure rule or an admin); `pending` and `dead` count its deliveries."""

    id: int
    shop_id: int
    url: str
    events: list[str]
    created_at: datetime
    pending: int
    dead: int
    secret: str | None = None
    previous_secret_until: datetime | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    oldest_pending_at: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None


class Webhooks(msgspec.Struct):
    items: list[Webhook]


class WebhookDelivery(msgspec.Struct):
    """One message to one subscription: its id (the webhook-id header), type, the change
    it announces, its state, and its last attempt's outcome."""

    message_id: str
    event_type: str
    appointment_id: int | None
    version: int | None
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None


class WebhookDeliveries(msgspec.Struct):
    items: list[WebhookDelivery]


class WebhookTest(msgspec.Struct):
    """The message id of a queued test message (type webhook.test)."""

    message_id: str


class BufferRecommendation(msgspec.Struct, omit_defaults=True):
    """A recommendation for one service of a barber (app.learning.buffers): status "ok", or
    "not_enough_history" with how many more finished appointments are `needed`. Minutes
    throughout; `summary` says it in words."""

    service: str
    duration_minutes: int
    status: str
    samples: int
    current_buffer_time_before: int
    current_buffer_time_after: int
    summary: str
    needed: int | None = None
    excluded: int | None = None
    buffer_time_before: int | None = None
    buffer_time_after: int | None = None
    late_starts_are_the_pattern: bool | None = None
    end_delay_p90_minutes: float | None = None
    interval_minutes: list[float] | None = None  # 90% bootstrap interval of that percentile
    interval_buffer_time_after: list[int] | None = None
    on_time_now: float | None = None  # in-sample share of next appointments on time, as booked
    on_time_recommended: float | None = None  # ... with the recommended buffers
    cost_minutes_per_day: float | None = None
    cost_appointments_per_day: float | None = None
    default_set_at: datetime | None = None  # when the current default was set (none: never)


class BufferRecommendations(msgspec.Struct):
    """GET /barbers/{id}/buffer-recommendations: one item per service with history or a
    default; the minimum history and the target share behind them."""

    barber_id: int
    min_samples: int
    target_on_time: float
    items: list[BufferRecommendation]


class ServiceBuffers(msgspec.Struct):
    """The default buffers of a barber's service now in force (POST .../apply)."""

    barber_id: int
    service: str
    buffer_time_before: int
    buffer_time_after: int
    set_by: int | None
    set_at: datetime
    basis: dict | None = None
