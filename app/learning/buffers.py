"""Buffer recommendations from actual durations (issue 18, part 2; docs/LEARNING.md).

For one barber and one service, from the finished appointments booking.service_durations
returns (the database extracts; this module only does the arithmetic):

* **late start** L: started_at minus the later of the booked start and the moment the
  barber's previous appointment finished (a start delayed by the previous appointment is
  that one's overrun, not this one's; negative: started early);
* **overrun** O: the actual duration minus the booked one;
* **end delay** E = L + O: how long after its booked end the appointment finished, had the
  barber been free at its start. With a buffer after of b minutes the next appointment,
  booked right after the blocked interval, finds the barber free iff E <= b.

The recommendation, with at least MIN_SAMPLES finished appointments (fewer: none, and the
answer says how many more are needed):

1. **Before**: when late starts are the pattern (the median L is 5 minutes or more and
   more than half start late, e.g. a service that needs preparation), a buffer before of
   the median L rounded up to 5 minutes lets it start on time; otherwise 0. The median, not
   a high quantile: it removes a systematic delay; a late client is not helped by it (the
   buffer after absorbs that).
2. **Outliers**: end delays further than 3.5 scaled median absolute deviations from the
   median (scipy.stats.median_abs_deviation, scale "normal", at least 2 minutes) are left
   out and counted: one client who stayed an hour longer must not set everyone's buffer.
3. **After**: the 90th percentile of the remaining end delays (numpy, linear
   interpolation; the late start that the buffer before removes is taken off first),
   rounded up to 5 minutes, at least 0: the buffer that would have kept 90% of the next
   appointments on time.
4. **Uncertainty**: a 90% bootstrap interval of that percentile (scipy.stats.bootstrap,
   percentile method, 2000 resamples, seeded so the answer is stable). With few samples
   the 90th percentile is nearly the largest value and the interval is wide: the answer
   says so in words (below 20 appointments).
5. **Cost**: the extra minutes the buffers keep free per working day (this service's
   appointments per day the barber works, times the change of before + after), and the
   same in appointments of this service.

On-time shares are in-sample (the same appointments the buffer was chosen from), so they
flatter the recommendation; `make evaluate` measures it on later appointments instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

MIN_SAMPLES = 8
TARGET = 0.9  # share of next appointments that should find the barber free
STEP = 5  # buffers are whole multiples of this many minutes
FEW = 20  # below this many, the interval is wide and the answer says so
OUTLIER_MADS = 3.5
MIN_SCALE = 2.0  # minutes: a history of identical values still tolerates small deviations
RESAMPLES = 2000
CONFIDENCE = 0.9


def up_to_step(minutes: float) -> int:
    """Rounded up to a multiple of STEP (a little tolerance for float noise), at least 0."""
    return max(0, int(math.ceil(minutes / STEP - 1e-9)) * STEP)


@dataclass(frozen=True)
class Recommendation:
    service: str
    duration_minutes: int
    samples: int  # finished appointments used (after outliers)
    status: str  # "ok" or "not_enough_history"
    current_before: int
    current_after: int
    needed: int = 0  # more finished appointments needed when status is not_enough_history
    excluded: int = 0  # left out as data errors (by the database) or as outliers (here)
    outliers: int = 0
    buffer_time_before: int | None = None
    buffer_time_after: int | None = None
    late_starts_are_the_pattern: bool = False
    median_late_start: float | None = None
    end_delay_p90: float | None = None  # minutes past the booked end, 90th percentile
    interval_minutes: tuple[float, float] | None = None  # its 90% bootstrap interval
    interval_buffer_after: tuple[int, int] | None = None  # the same as buffers
    on_time_now: float | None = None  # share of next appointments on time with the buffers they had
    on_time_recommended: float | None = None  # ... had they had the recommended ones (in-sample)
    appointments_per_day: float | None = None
    cost_minutes_per_day: float | None = None  # extra minutes kept free per working day (negative: freed)
    cost_appointments_per_day: float | None = None
    summary: str = ""

    def basis(self) -> dict:
        """What an applied default records (booking.barber_service_buffers.basis)."""
        return {
            "method": "p90 of end delay, MAD outliers out, bootstrap 90% interval",
            "samples": self.samples,
            "outliers": self.outliers,
            "end_delay_p90": None if self.end_delay_p90 is None else round(self.end_delay_p90, 1),
            "interval_minutes": None if self.interval_minutes is None else [round(x, 1) for x in self.interval_minutes],
            "late_starts_are_the_pattern": self.late_starts_are_the_pattern,
            "on_time_recommended": None if self.on_time_recommended is None else round(self.on_time_recommended, 3),
        }


def _interval(values: np.ndarray, seed: int, target: float = TARGET) -> tuple[float, float]:
    if np.ptp(values) == 0:
        return float(values[0]), float(values[0])

    def quantile(x: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.quantile(x, target, axis=axis)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DegenerateDataWarning on tiny samples: the interval says it
        result = stats.bootstrap(
            (values,),
            quantile,
            n_resamples=RESAMPLES,
            confidence_level=CONFIDENCE,
            method="percentile",
            vectorized=True,
            rng=np.random.default_rng(seed),
        )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _minutes(x: float) -> str:
    x = round(x)
    return f"{x} minute{'s' if abs(x) != 1 else ''}"


def recommend(
    service: str,
    duration_minutes: int,
    late_starts: Sequence[float],
    overruns: Sequence[float],
    buffers_after: Sequence[int] | None = None,
    *,
    current_before: int = 0,
    current_after: int = 0,
    appointments: int | None = None,
    work_days: int | None = None,
    excluded: int = 0,
    barber: str = "the barber",
    min_samples: int = MIN_SAMPLES,
    target: float = TARGET,
    seed: int = 18,
) -> Recommendation:
    """The recommendation for one barber and service (see the module's docstring)."""
    late = np.asarray(late_starts, dtype=float)
    over = np.asarray(overruns, dtype=float)
    if late.shape != over.shape:
        raise ValueError("late_starts and overruns must be parallel")
    had_after = (
        np.asarray(buffers_after, dtype=float) if buffers_after is not None else np.full(late.shape, current_after)
    )
    n = int(late.size)
    base = dict(
        service=service,
        duration_minutes=duration_minutes,
        current_before=current_before,
        current_after=current_after,
        excluded=excluded,
    )
    if n < min_samples:
        return Recommendation(
            samples=n,
            status="not_enough_history",
            needed=min_samples - n,
            summary=(
                f"Not enough history for {service} with {barber}: {n} finished appointment{'s' if n != 1 else ''}"
                f" (started and finished in the day view), {min_samples} are needed. No recommendation yet."
            ),
            **base,
        )

    median_late = float(np.median(late))
    pattern = median_late >= STEP and float(np.mean(late > 0)) > 0.5
    before = up_to_step(median_late) if pattern else 0
    residual_late = np.maximum(late - before, 0.0) if before else late
    delay = residual_late + over

    center = float(np.median(delay))
    scale = max(float(stats.median_abs_deviation(delay, scale="normal")), MIN_SCALE)
    kept_mask = np.abs(delay - center) <= OUTLIER_MADS * scale
    kept = delay[kept_mask]
    outliers = int(n - kept.size)
    p90 = float(np.quantile(kept, target))
    after = up_to_step(p90)
    low, high = _interval(kept, seed, target)
    on_now = float(np.mean((late + over) <= had_after))
    on_recommended = float(np.mean(delay <= after))

    per_day = cost_minutes = cost_appointments = None
    if appointments is not None and work_days:
        per_day = appointments / work_days
        change = (before + after) - (current_before + current_after)
        cost_minutes = per_day * change
        cost_appointments = cost_minutes / (duration_minutes + before + after)

    words = [
        f"{service} with {barber} finished at most {_minutes(p90)} after its booked end in {target:.0%} of cases"
        f" ({100 * target:.0f}th percentile; 90% interval {_minutes(low)} to {_minutes(high)}; {kept.size} appointments"
        + (f", {outliers} outlier{'s' if outliers != 1 else ''} left out" if outliers else "")
        + ")."
    ]
    if pattern:
        words.append(
            f"It usually starts late even with {barber} free (median {_minutes(median_late)}):"
            f" a buffer of {before} minutes before it lets it start on time."
        )
    words.append(
        f"A buffer of {after} minutes after it would have left {barber} free at the next booked start"
        f" in {on_recommended:.0%} of them (with the buffers they had: {on_now:.0%})."
    )
    if cost_minutes is not None:
        if cost_minutes >= 0.5:
            words.append(
                f"It keeps about {_minutes(cost_minutes)} a working day free,"
                f" about {cost_appointments:.1f} {service} appointments."
            )
        elif cost_minutes <= -0.5:
            words.append(f"It frees about {_minutes(-cost_minutes)} a working day.")
        else:
            words.append("It costs no bookable time compared with the buffers in force.")
    if kept.size < FEW:
        words.append(
            f"With fewer than {FEW} appointments the 90th percentile is close to the largest delay seen:"
            " treat it as a first estimate."
        )
    return Recommendation(
        samples=int(kept.size),
        status="ok",
        excluded=excluded + outliers,
        outliers=outliers,
        buffer_time_before=before,
        buffer_time_after=after,
        late_starts_are_the_pattern=pattern,
        median_late_start=median_late,
        end_delay_p90=p90,
        interval_minutes=(low, high),
        interval_buffer_after=(up_to_step(low), up_to_step(high)),
        on_time_now=on_now,
        on_time_recommended=on_recommended,
        appointments_per_day=per_day,
        cost_minutes_per_day=cost_minutes,
        cost_appointments_per_day=cost_appointments,
        summary=" ".join(words),
        **{k: v for k, v in base.items() if k != "excluded"},
    )


@dataclass
class History:
    """One barber's and service's history, as booking.service_durations answers it."""

    late_starts: list[float]
    overruns: list[float]
    buffers_after: list[int]
    appointments: int = 0
    excluded: int = 0


def histories_from_trace(trace, since=None, until=None) -> tuple[dict[tuple[int, str], History], dict[int, int]]:
    """booking.service_durations for every barber of a trace (the same rules, in Python):
    {(barber, service): History} of the appointments starting in [since, until), and
    {barber: working days} (local days with an appointment not cancelled)."""
    from zoneinfo import ZoneInfo

    out: dict[tuple[int, str], History] = {}
    days: dict[int, set] = {}
    for barber in trace.barbers:
        zone = ZoneInfo(trace.timezone_of(barber))
        rows = [
            a
            for a in trace.appointments
            if a.barber_id == barber
            and a.status not in ("cancelled", "expired", "held")
            and (since is None or a.start_time >= since)
            and (until is None or a.start_time < until)
        ]
        for a in rows:
            days.setdefault(barber, set()).add(a.start_time.astimezone(zone).date())
            out.setdefault((barber, a.service), History([], [], [])).appointments += 1
        finished = sorted(
            (a for a in rows if a.finished_at and a.started_at), key=lambda a: (a.started_at, a.start_time)
        )
        previous = None
        for a in finished:
            base = a.start_time
            if previous is not None:
                base = max(a.start_time, min(previous, a.started_at))
            late = (a.started_at - base).total_seconds() / 60
            actual = (a.finished_at - a.started_at).total_seconds() / 60
            offset = (a.started_at - a.start_time).total_seconds() / 60
            h = out[(barber, a.service)]
            if 1 <= actual <= 4 * a.duration_minutes + 60 and abs(offset) <= 240:
                h.late_starts.append(late)
                h.overruns.append(actual - a.duration_minutes)
                h.buffers_after.append(a.buffer_time_after)
            else:
                h.excluded += 1
            previous = a.finished_at
    return out, {b: len(d) for b, d in days.items()}
