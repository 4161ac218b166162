"""A seeded generator of a shop's history, for `make evaluate` and the tests.

It is a small simulation, not a replay of anything real, written so that the models have
something to find and the figures can be reproduced exactly (same seed, same trace):

* **The shop**: four barbers in Europe/Paris, open Monday to Saturday 09:00-19:00, closed
  on Sunday; four services: Haircut 30 min, Beard Trim 15, Fade 45 and Colour 90.
* **Demand**: booking requests arrive all day (07:00-23:00 local, most at lunch time and in
  the evening), about `requests_per_day` a day; each wants a start some days ahead (a quarter
  the same day, most within a week), at a local time that follows a **daily cycle** (peaks
  at 12:00-13:00 and 17:00-19:00) and a **weekly cycle** (Saturday 1.6x, Friday 1.3x,
  Monday 0.7x). **Popular barbers**: 15% ask for any barber, the others choose by
  popularity 40/30/20/10%.
* **Refusals**: a wanted start that is taken is tried anyway (and refused: a 409, recorded
  as an attempt) by 35% of the clients; then 60% take the nearest free start of the same
  barber within 90 minutes, half of the rest another barber at the same time, the others
  give up.
* **Cancellations and no-shows**: 8% of the bookings are cancelled at a random moment
  before their start; 4% of the others are no-shows.
* **Actual durations**: clients are on time (70%), a few minutes late (25%) or 10-25 minutes
  late (5%); every Colour needs about 8 minutes of preparation before it can start (late
  starts are its pattern); services overrun by their own amounts (Colour about 14 minutes,
  and Ben's Colours 10 more: **late-running services**), 2% of appointments run 25-60
  minutes over (outliers), and a barber who runs over starts the next client late.

The generated history has no buffers (what a shop starting out has): the evaluation asks
what the learned buffers would have changed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.learning.trace import Booked, Refused, Trace

OPEN_MINUTES = (9 * 60, 19 * 60)  # local, Monday to Saturday
WEEKDAY_DEMAND = {0: 0.7, 1: 0.9, 2: 1.0, 3: 1.0, 4: 1.3, 5: 1.6, 6: 0.0}


@dataclass(frozen=True)
class Service:
    name: str
    minutes: int
    share: float  # of the requests
    overrun_mean: float  # minutes past the booked length, on average
    overrun_sd: float
    preparation: float = 0.0  # minutes before it can start, even with the barber free


@dataclass(frozen=True)
class Barber:
    id: int
    name: str
    popularity: float
    extra_overrun: dict[str, float] = field(default_factory=dict)  # service -> minutes


@dataclass(frozen=True)
class ShopModel:
    days: int = 140
    start: date = date(2029, 1, 1)  # a Monday
    timezone: str = "Europe/Paris"
    seed: int = 18
    requests_per_day: float = 58.0
    warm_up_days: int = 14  # requests before `start` (the first days are booked already)
    services: tuple[Service, ...] = (
        Service("Haircut", 30, 0.50, 2.0, 3.0),
        Service("Beard Trim", 15, 0.20, 0.0, 2.0),
        Service("Fade", 45, 0.20, 4.0, 5.0),
        Service("Colour", 90, 0.10, 14.0, 8.0, preparation=8.0),
    )
    barbers: tuple[Barber, ...] = (
        Barber(1, "Ana", 0.40),
        Barber(2, "Ben", 0.30, {"Colour": 10.0}),
        Barber(3, "Cleo", 0.20),
        Barber(4, "Dev", 0.10, {"Haircut": 3.0, "Fade": 3.0}),
    )


def _weighted(rng: random.Random, weights: dict) -> object:
    total = sum(weights.values())
    x = rng.random() * total
    for key, w in weights.items():
        x -= w
        if x < 0:
            return key
    return key


# The daily cycle of wanted starts (local hour -> weight) and of request times.
START_HOURS = {9: 0.6, 10: 0.8, 11: 1.0, 12: 1.6, 13: 1.5, 14: 0.8, 15: 0.8, 16: 1.1, 17: 1.7, 18: 1.5}
REQUEST_HOURS = {h: (1.6 if h in (12, 13) else 1.8 if h in (19, 20, 21) else 1.0) for h in range(7, 23)}


class _Shop:
    """The simulation's state: each barber's appointments by local date."""

    def __init__(self, model: ShopModel, rng: random.Random):
        self.model = model
        self.rng = rng
        self.zone = ZoneInfo(model.timezone)
        self.by_day: dict[tuple[int, date], list[dict]] = {}
        self.appointments: list[dict] = []
        self.attempts: list[Refused] = []

    def instant(self, day: date, minute: int) -> datetime:
        """Local `minute` (0-1439) of `day` as an instant (a DST day keeps 10:00 at 10:00)."""
        return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.zone).astimezone(UTC)

    def free(self, barber: int, day: date, minute: int, minutes: int, at: datetime) -> bool:
        if day.weekday() == 6 or minute < OPEN_MINUTES[0] or minute + minutes > OPEN_MINUTES[1]:
            return False
        start = self.instant(day, minute)
        end = start + timedelta(minutes=minutes)
        if start <= at:
            return False
        for a in self.by_day.get((barber, day), ()):
            if a["cancel_at"] is not None and a["cancel_at"] <= at:
                continue
            if a["start"] < end and start < a["end"]:
                return False
        return True

    def book(self, barber: int, day: date, minute: int, service: Service, at: datetime) -> None:
        start = self.instant(day, minute)
        a = {
            "barber": barber,
            "service": service,
            "start": start,
            "end": start + timedelta(minutes=service.minutes),
            "created": at,
            "cancel_at": None,
            "status": "scheduled",
        }
        if self.rng.random() < 0.08:
            a["cancel_at"] = at + (start - at) * self.rng.random()
            a["status"] = "cancelled"
        elif self.rng.random() < 0.04:
            a["status"] = "no_show"
            a["cancel_at"] = start + timedelta(minutes=15)
        self.by_day.setdefault((barber, day), []).append(a)
        self.appointments.append(a)

    def refuse(self, barber: int | None, day: date, minute: int, service: Service, at: datetime) -> None:
        self.attempts.append(
            Refused(barber, self.model.timezone, service.name, service.minutes, self.instant(day, minute), at)
        )


def _request(shop: _Shop, at: datetime, day: date, minute: int, service: Service, barber: int | None) -> None:
    model, rng = shop.model, shop.rng
    ids = [b.id for b in model.barbers]
    if barber is None:
        free = [b for b in ids if shop.free(b, day, minute, service.minutes, at)]
        if free:  # the engine's fair rule: fewest appointments that day, then lowest id
            load = {b: len(shop.by_day.get((b, day), ())) for b in free}
            shop.book(min(free, key=lambda b: (load[b], b)), day, minute, service, at)
            return
        if rng.random() < 0.35:
            shop.refuse(None, day, minute, service, at)
        return
    if shop.free(barber, day, minute, service.minutes, at):
        shop.book(barber, day, minute, service, at)
        return
    if rng.random() < 0.35:
        shop.refuse(barber, day, minute, service, at)
    r = rng.random()
    if r < 0.6:
        for delta in sorted(range(-90, 91, 15), key=abs)[1:]:
            if shop.free(barber, day, minute + delta, service.minutes, at):
                shop.book(barber, day, minute + delta, service, at)
                return
    elif r < 0.8:
        others = [b for b in ids if b != barber and shop.free(b, day, minute, service.minutes, at)]
        if others:
            shop.book(rng.choice(others), day, minute, service, at)


def _finish(shop: _Shop) -> None:
    """Actual start and finish of every appointment that took place, barber by barber and
    day by day (a barber who ran over starts the next client late)."""
    model, rng = shop.model, shop.rng
    extra = {b.id: b.extra_overrun for b in model.barbers}
    for (barber, _day), items in sorted(shop.by_day.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        previous_finish = None
        for a in sorted(items, key=lambda x: x["start"]):
            if a["status"] != "scheduled":
                continue
            service: Service = a["service"]
            u = rng.random()
            late = rng.uniform(0, 2) if u < 0.70 else rng.uniform(2, 10) if u < 0.95 else rng.uniform(10, 25)
            late = max(late, rng.gauss(service.preparation, 2.0)) if service.preparation else late
            started = a["start"] + timedelta(minutes=late)
            if previous_finish is not None and previous_finish > started:
                started = previous_finish
            overrun = rng.gauss(service.overrun_mean + extra[barber].get(service.name, 0.0), service.overrun_sd)
            if rng.random() < 0.02:
                overrun += rng.uniform(25, 60)
            actual = max(service.minutes * 0.4, service.minutes + overrun)
            finished = started + timedelta(minutes=actual)
            a["started"], a["finished"], a["status"] = started, finished, "completed"
            previous_finish = finished


def generate(model: ShopModel | None = None, *, days: int | None = None, seed: int | None = None) -> Trace:
    """The history of `days` days from model.start (and the warm-up's bookings before it)."""
    model = model or ShopModel()
    if days is not None or seed is not None:
        from dataclasses import replace

        model = replace(
            model, days=days if days is not None else model.days, seed=seed if seed is not None else model.seed
        )
    rng = random.Random(model.seed)
    shop = _Shop(model, rng)
    services = {s: s.share for s in model.services}
    popularity = {b.id: b.popularity for b in model.barbers}
    requests = []
    for offset in range(-model.warm_up_days, model.days):
        request_day = model.start + timedelta(days=offset)
        count = _poisson(rng, model.requests_per_day)
        for _ in range(count):
            hour = _weighted(rng, REQUEST_HOURS)
            at = shop.instant(request_day, hour * 60 + rng.randrange(60))
            # a day ahead: a quarter the same day, then geometric, weighted by the weekly cycle
            for _tries in range(20):
                lead = 0 if rng.random() < 0.25 else min(1 + int(rng.expovariate(1 / 3.5)), 20)
                wanted = request_day + timedelta(days=lead)
                if rng.random() < WEEKDAY_DEMAND[wanted.weekday()] / 1.6:
                    break
            else:
                continue
            minute = _weighted(rng, START_HOURS) * 60 + rng.choice((0, 15, 30, 45))
            service = _weighted(rng, services)
            barber = None if rng.random() < 0.15 else _weighted(rng, popularity)
            requests.append((at, wanted, minute, service, barber))
    requests.sort(key=lambda r: r[0])
    horizon = shop.instant(model.start + timedelta(days=model.days), 0)
    for at, wanted, minute, service, barber in requests:
        if wanted >= model.start + timedelta(days=model.days):
            continue
        _request(shop, at, wanted, minute, service, barber)
    _finish(shop)
    trace = Trace()
    for a in shop.appointments:
        if a["start"] >= horizon:
            continue
        trace.appointments.append(
            Booked(
                barber_id=a["barber"],
                timezone=model.timezone,
                service=a["service"].name,
                duration_minutes=a["service"].minutes,
                buffer_time_before=0,
                buffer_time_after=0,
                start_time=a["start"],
                created_at=a["created"],
                ended_at=a["cancel_at"],
                status=a["status"],
                started_at=a.get("started"),
                finished_at=a.get("finished"),
            )
        )
    trace.appointments.sort(key=lambda a: a.created_at)
    trace.attempts = sorted(shop.attempts, key=lambda r: r.created_at)
    return trace


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means; a normal approximation above 30."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
