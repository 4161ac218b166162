"""Learning from history over HTTP (issue 18; docs/LEARNING.md).

| route                                              | who                       | answers                   |
|----------------------------------------------------|---------------------------|---------------------------|
| GET  /barbers/{barber_id}/buffer-recommendations   | that barber, its shop's   | 200 one recommendation    |
|                                                    | admins                    | per service               |
| POST /barbers/{barber_id}/buffer-recommendations/apply {service} | an admin of its shop | 200 the default now |

The history is read in SQL (booking.service_durations: who may is assert_barber_staff), the
statistics are app.learning.buffers' (numpy and scipy, imported at the first request), and
applying writes the default buffers of that barber's new bookings of that service
(booking.set_service_buffers: admins only, assert_shop_admin). Appointments already booked
keep their buffers. Too little history to recommend from: 422 BK008 saying how many more
finished appointments are needed.

Refused bookings (a 409) are recorded for the conflict model by `note_refused`, after the
refusal, in a transaction of their own: never in the booking's.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date as Date

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody

from app.errors import catalogue_error
from app.gateway import database_errors
from app.queries import QUERIES
from app.records import BufferRecommendation, BufferRecommendations, ServiceBuffers
from app.web.auth import Authenticated, count_write
from app.web.openapi import PROBLEMS, path_id

log = logging.getLogger("booking.learning")
SECURE = {"security": [{"bearer": []}], "responses": PROBLEMS, "tags": ["learning from history"]}


class ApplyBody(msgspec.Struct, forbid_unknown_fields=True):
    """POST /barbers/{id}/buffer-recommendations/apply: the service whose recommendation
    becomes the barber's default."""

    service: str


def _recommend(row):
    from app.learning import buffers

    return buffers.recommend(
        row["service"],
        row["duration_minutes"],
        row["late_start_minutes"],
        row["overrun_minutes"],
        row["buffer_after"],
        current_before=row["buffer_time_before"],
        current_after=row["buffer_time_after"],
        appointments=row["appointments"],
        work_days=row["work_days"],
        excluded=row["excluded"],
        barber=row["barber_name"],
    )


def _record(rec, row) -> BufferRecommendation:
    def rounded(x, digits=1):
        return None if x is None else round(float(x), digits)

    return BufferRecommendation(
        service=rec.service,
        duration_minutes=rec.duration_minutes,
        status=rec.status,
        samples=rec.samples,
        current_buffer_time_before=rec.current_before,
        current_buffer_time_after=rec.current_after,
        summary=rec.summary,
        needed=rec.needed or None,
        excluded=rec.excluded,
        buffer_time_before=rec.buffer_time_before,
        buffer_time_after=rec.buffer_time_after,
        late_starts_are_the_pattern=rec.late_starts_are_the_pattern if rec.status == "ok" else None,
        end_delay_p90_minutes=rounded(rec.end_delay_p90),
        interval_minutes=None if rec.interval_minutes is None else [rounded(x) for x in rec.interval_minutes],
        interval_buffer_time_after=None if rec.interval_buffer_after is None else list(rec.interval_buffer_after),
        on_time_now=rounded(rec.on_time_now, 3),
        on_time_recommended=rounded(rec.on_time_recommended, 3),
        cost_minutes_per_day=rounded(rec.cost_minutes_per_day),
        cost_appointments_per_day=rounded(rec.cost_appointments_per_day, 2),
        default_set_at=row["default_set_at"],
    )


async def _history(request: Request, caller, barber: int) -> list:
    with database_errors():
        return await request.app.state.read_pool.fetch(
            QUERIES["service_durations"], barber, caller.user_id, caller.role, None
        )


@get(
    "/barbers/{barber_id:str}/buffer-recommendations", summary="Buffer recommendations from actual durations", **SECURE
)
async def buffer_recommendations(
    request: Request, caller: Authenticated, barber_id: FromPath[str]
) -> Response[BufferRecommendations]:
    from app.learning import buffers

    barber = path_id(barber_id, "Barber")
    rows = await _history(request, caller, barber)
    items = await asyncio.to_thread(lambda: [_record(_recommend(r), r) for r in rows])
    return Response(
        BufferRecommendations(barber, buffers.MIN_SAMPLES, buffers.TARGET, items), headers={"Cache-Control": "no-store"}
    )


@post(
    "/barbers/{barber_id:str}/buffer-recommendations/apply",
    status_code=200,
    summary="Make a service's recommended buffers the barber's default for new bookings (admins of its shop)",
    **SECURE,
)
async def apply_buffer_recommendation(
    request: Request, caller: Authenticated, barber_id: FromPath[str], data: JSONBody[ApplyBody]
) -> Response[ServiceBuffers]:
    count_write(request, caller)
    barber = path_id(barber_id, "Barber")
    if caller.role != "admin":  # the SQL function refuses them too; before reading the history
        raise catalogue_error("BK012", "Only an admin of the barber's shop may change its default buffers.")
    rows = await _history(request, caller, barber)
    row = next((r for r in rows if r["service"] == data.service), None)
    if row is None:
        from app.learning import buffers

        raise catalogue_error(
            "BK008",
            f"Barber {barber} has no finished appointments of {data.service[:60]!r} to learn from;"
            f" {buffers.MIN_SAMPLES} are needed.",
        )
    rec = await asyncio.to_thread(_recommend, row)
    if rec.status != "ok":
        raise catalogue_error("BK008", rec.summary, "Mark appointments started and finished in the day view.")
    with database_errors():
        applied = await request.app.state.pool.fetchrow(
            QUERIES["set_service_buffers"],
            barber,
            data.service,
            rec.buffer_time_before,
            rec.buffer_time_after,
            json.dumps(rec.basis()),
            caller.user_id,
            caller.role,
        )
    return Response(
        ServiceBuffers(
            applied["barber_id"],
            applied["service"],
            applied["buffer_time_before"],
            applied["buffer_time_after"],
            applied["set_by"],
            applied["set_at"],
            json.loads(applied["basis"]) if isinstance(applied["basis"], str) else applied["basis"],
        ),
        headers={"Cache-Control": "no-store"},
    )


# --- refused bookings, for the conflict model -----------------------------------------

MAX_PENDING = 8  # records in flight at once; beyond, a refusal goes unrecorded (never a queue)
_pending: set[asyncio.Task] = set()


def note_refused(
    pool, barber_id: int | None, shop_id: int | None, service: str, booking_date: str | Date, booking_time: str
) -> bool:
    """Record a refused booking (409) in the background, after the refusal: its own
    transaction on the service's pool (booking.record_booking_attempt), never the booking's,
    and never waited for. Best effort: False when too many are in flight already."""
    if len(_pending) >= MAX_PENDING:
        return False
    task = asyncio.get_running_loop().create_task(
        _record_refused(pool, barber_id, shop_id, service, str(booking_date), booking_time)
    )
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    return True


async def _record_refused(pool, barber_id, shop_id, service, booking_date, booking_time) -> None:
    try:
        await pool.fetchval(QUERIES["record_booking_attempt"], barber_id, shop_id, service, booking_date, booking_time)
    except Exception as e:  # advice lost, nothing else: the booking was refused already
        log.debug("a refused booking was not recorded: %r", e)


async def settle_refused() -> None:
    """Wait for the records in flight (tests, shutdown)."""
    if _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)


HANDLERS = [buffer_recommendations, apply_buffer_recommendation]
