"""What the conflict model sees: one row per (barber, free start, moment), the same
features whether the row is built from a trace (training, evaluation) or from the database
at request time (booking.slot_demand, serving), by the one function `row()`.

The question: a start of a barber that is free at moment t; will a booking made in the next
HORIZON_HOURS take it (a booking whose blocked interval overlaps [start, start + duration))?

| feature          | what                                                                     |
|------------------|--------------------------------------------------------------------------|
| hour, weekday    | the start's local hour (0-23) and ISO weekday - 1 (0-6)                  |
| log_lead_hours   | log(1 + hours from t to the start)                                       |
| duration_hours   | the length asked for                                                     |
| day_booked_hours | hours of the barber's blocked intervals on the start's local day, at t   |
| adjacent         | the barber's active appointments within an hour of [start, end), at t    |
| log_booked_24h   | log(1 + bookings of the barber made in the 24 hours before t)            |
| log_refused_24h  | log(1 + refused attempts for the barber in those 24 hours (409s))        |
| popularity       | the barber's bookings of the last 28 days over the shop's average       |
| how_rate         | the share of free starts of that hour of the week that went, in training |
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from app.learning.trace import Trace

HORIZON_HOURS = 24.0
LEAD_DAYS = 7  # starts up to this many days ahead are asked about
GRID_MINUTES = 30  # candidate starts in training, from each opening hour
OBSERVATION_HOURS = (8, 11, 14, 17, 20)  # local moments a day at which training rows are taken

FEATURES = (
    "hour",
    "weekday",
    "log_lead_hours",
    "duration_hours",
    "day_booked_hours",
    "adjacent",
    "log_booked_24h",
    "log_refused_24h",
    "popularity",
    "how_rate",
)
CATEGORICAL = ("hour", "weekday")


def hour_of_week(start: datetime, zone: ZoneInfo) -> int:
    local = start.astimezone(zone)
    return local.weekday() * 24 + local.hour


@dataclass(frozen=True)
class Demand:
    """What booking.slot_demand answers (or a trace says) about one barber at moment `at`
    (instants as epoch seconds)."""

    at: float
    busy: tuple[tuple[float, float], ...]  # blocked intervals of active appointments that day
    booked_24h: int
    refused_24h: int
    booked_28d: int
    shop_booked_28d: int
    shop_barbers: int


def row(
    start: float, duration_minutes: int, demand: Demand, zone: ZoneInfo, how_rates: dict[int, float], base_rate: float
) -> list[float]:
    """The features of one start (epoch seconds; the table above)."""
    local = datetime.fromtimestamp(start, zone)
    end = start + duration_minutes * 60.0
    lead = max((start - demand.at) / 3600.0, 0.0)
    booked = sum(u - f for f, u in demand.busy) / 3600.0
    adjacent = sum(1 for f, u in demand.busy if u > start - 3600.0 and f < end + 3600.0)
    average = demand.shop_booked_28d / max(demand.shop_barbers, 1)
    popularity = demand.booked_28d / average if average > 0 else 1.0
    how = local.weekday() * 24 + local.hour
    return [
        float(local.hour),
        float(local.weekday()),
        math.log1p(lead),
        duration_minutes / 60.0,
        booked,
        float(adjacent),
        math.log1p(demand.booked_24h),
        math.log1p(demand.refused_24h),
        popularity,
        how_rates.get(how, base_rate),
    ]


@dataclass
class Rows:
    """Training or test rows: features (without how_rate filled: it depends on the
    training rows), labels, the hour of the week of each start, and the moment of each."""

    X: np.ndarray
    y: np.ndarray
    how: np.ndarray
    at: np.ndarray  # epoch seconds of the observation moment

    def select(self, mask: np.ndarray) -> Rows:
        return Rows(self.X[mask], self.y[mask], self.how[mask], self.at[mask])

    def __len__(self) -> int:
        return int(self.y.size)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


class _BarberHistory:
    """One barber's appointments, indexed for the questions asked at each moment."""

    def __init__(self, trace: Trace, barber: int, zone: ZoneInfo):
        items = [a for a in trace.appointments if a.barber_id == barber]
        self.created = np.array([_epoch(a.created_at) for a in items])
        self.ended = np.array([_epoch(a.ended_at) if a.ended_at else math.inf for a in items])
        self.block_from = np.array([_epoch(a.start_time - timedelta(minutes=a.buffer_time_before)) for a in items])
        self.block_until = np.array([_epoch(a.end_time + timedelta(minutes=a.buffer_time_after)) for a in items])
        # (created, ended, blocked from, blocked until) of each appointment, by local date
        self.by_day: dict = {}
        for i, a in enumerate(items):
            self.by_day.setdefault(a.start_time.astimezone(zone).date(), []).append(
                (float(self.created[i]), float(self.ended[i]), float(self.block_from[i]), float(self.block_until[i]))
            )
        self.created_sorted = np.sort(self.created)
        refused = [r for r in trace.attempts if r.barber_id == barber]
        self.refused_sorted = np.sort(np.array([_epoch(r.created_at) for r in refused]))
        self.durations = np.array([a.duration_minutes for a in items]) if items else np.array([30])
        # the hours of the week in which it ever had a start: its opening hours, as the trace
        # shows them; the grid of candidate starts over the trace's span, in those hours
        self.open_hours = {hour_of_week(a.start_time, zone) for a in items}
        self.grid = np.array(_grid(trace, zone, self.open_hours))

    def count_created(self, since: float, until: float) -> int:
        return int(bisect_right(self.created_sorted, until) - bisect_right(self.created_sorted, since))

    def count_refused(self, since: float, until: float) -> int:
        return int(bisect_right(self.refused_sorted, until) - bisect_right(self.refused_sorted, since))


def build(
    trace: Trace,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    per_moment: int = 24,
    seed: int = 18,
) -> Rows:
    """Rows from a trace: at each observation moment t in [since, until) (OBSERVATION_HOURS
    local, every day), for each barber, up to `per_moment` starts chosen at random among its
    free starts of the next LEAD_DAYS days (on a GRID_MINUTES grid, in the hours of the week
    it works), each with a length drawn from its own appointments; label: a booking made in
    (t, t + HORIZON_HOURS] blocks it. Only moments whose label window ends by `until` are
    used, so rows of a training period never see what comes after it."""
    rng = np.random.default_rng(seed)
    first, last = trace.span()
    since = since or first
    until = until or last
    barbers = trace.barbers
    if not barbers:
        return Rows(np.zeros((0, len(FEATURES))), np.zeros(0), np.zeros(0, dtype=int), np.zeros(0))
    zone = ZoneInfo(trace.timezone_of(barbers[0]))
    histories = {b: _BarberHistory(trace, b, ZoneInfo(trace.timezone_of(b))) for b in barbers}
    all_created = np.sort(np.array([_epoch(a.created_at) for a in trace.appointments]))
    horizon = HORIZON_HOURS * 3600.0
    features, labels, hows, moments = [], [], [], []
    day = since.astimezone(zone).date()
    while True:
        for hour in OBSERVATION_HOURS:
            t = datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)
            te = _epoch(t)
            if t < since:
                continue
            if te + horizon > _epoch(until):
                return _rows(features, labels, hows, moments)
            shop_28d = int(bisect_right(all_created, te) - bisect_right(all_created, te - 28 * 86400))
            for b in barbers:
                h = histories[b]
                bzone = ZoneInfo(trace.timezone_of(b))
                lo, hi = bisect_right(h.grid, te), bisect_right(h.grid, te + LEAD_DAYS * 86400)
                if hi <= lo:
                    continue
                size = min(per_moment, hi - lo)
                picks = lo + rng.choice(hi - lo, size=size, replace=False)
                lengths = rng.choice(h.durations, size=size)
                for k, duration in zip(picks.tolist(), lengths.tolist(), strict=True):
                    start = float(h.grid[k])
                    s0, s1 = start, start + duration * 60
                    busy = []
                    taken = blocked = False
                    for created, ended, f, u in h.by_day.get(datetime.fromtimestamp(start, bzone).date(), ()):
                        overlaps = f < s1 and u > s0
                        if created <= te < ended:
                            busy.append((f, u))
                            blocked = blocked or overlaps
                        elif overlaps and te < created <= te + horizon:
                            taken = True
                    if blocked:
                        continue  # not free for this length at t: not asked about
                    demand = Demand(
                        at=te,
                        busy=tuple(busy),
                        booked_24h=h.count_created(te - 86400, te),
                        refused_24h=h.count_refused(te - 86400, te),
                        booked_28d=h.count_created(te - 28 * 86400, te),
                        shop_booked_28d=shop_28d,
                        shop_barbers=len(barbers),
                    )
                    features.append(row(start, duration, demand, bzone, {}, 0.0))
                    labels.append(1.0 if taken else 0.0)
                    hows.append(int(features[-1][1]) * 24 + int(features[-1][0]))
                    moments.append(te)
        day += timedelta(days=1)


def _rows(features, labels, hows, moments) -> Rows:
    return Rows(
        np.array(features, dtype=float).reshape(-1, len(FEATURES)),
        np.array(labels, dtype=float),
        np.array(hows, dtype=int),
        np.array(moments, dtype=float),
    )


def _grid(trace: Trace, zone: ZoneInfo, open_hours: set[int]) -> list[float]:
    """Candidate starts (epoch seconds, ascending) every GRID_MINUTES over the trace's span
    and LEAD_DAYS beyond, in the hours of the week the barber works (as its history shows).
    Whether one is free for a given length, at a given moment, is the caller's question."""
    first, last = trace.span()
    day = first.astimezone(zone).date()
    end = (last + timedelta(days=LEAD_DAYS + 1)).astimezone(zone).date()
    out = []
    while day <= end:
        for minute in range(0, 24 * 60, GRID_MINUTES):
            if day.weekday() * 24 + minute // 60 in open_hours:
                out.append(datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone).timestamp())
        day += timedelta(days=1)
    return sorted(out)


def how_rates(rows: Rows, smoothing: float = 20.0) -> tuple[dict[int, float], float]:
    """The per-hour-of-week frequency (the baseline, and the feature how_rate), smoothed
    towards the base rate with `smoothing` pseudo-rows: (rates, base rate)."""
    base = float(rows.y.mean()) if len(rows) else 0.0
    rates = {}
    for how in np.unique(rows.how):
        mask = rows.how == how
        rates[int(how)] = float((rows.y[mask].sum() + smoothing * base) / (mask.sum() + smoothing))
    return rates, base


def with_how_rate(rows: Rows, rates: dict[int, float], base: float) -> np.ndarray:
    """The features with how_rate filled from a training period's rates."""
    X = rows.X.copy()
    X[:, FEATURES.index("how_rate")] = [rates.get(int(h), base) for h in rows.how]
    return X


def bisect_count(sorted_values: np.ndarray, low: float, high: float) -> int:
    return int(bisect_left(sorted_values, high) - bisect_left(sorted_values, low))
