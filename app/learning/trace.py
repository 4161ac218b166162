"""A shop's history as the learning code reads it: the trace, and its CSV form.

A trace is what happened in one shop: every appointment (when it was booked, for when, how
long, whether and when it stopped blocking its slot, when it really started and finished)
and every refused booking attempt (a 409). It comes from the database
(`python -m app learn export`, booking.booking_history), from the seeded generator
(app.learning.generator), or from a file a shop exports from another system in the same
CSV form. docs/LEARNING.md documents the format; in short, one row per appointment or
attempt, with these columns (instants in RFC 3339 with their offset, empty when absent):

| column             | appointment                                   | attempt               |
|--------------------|-----------------------------------------------|-----------------------|
| kind               | `appointment`                                 | `attempt`             |
| barber_id          | the barber (an integer)                       | the barber, or empty ("any barber") |
| timezone           | the barber's IANA zone                        | the barber's (or the shop's) |
| service            | the service's name                            | the service wanted    |
| duration_minutes   | its booked length                             | the service's length, or empty |
| buffer_time_before | minutes                                       | empty                 |
| buffer_time_after  | minutes                                       | empty                 |
| start_time         | its booked start                              | the start wanted      |
| created_at         | when it was booked                            | when it was refused   |
| ended_at           | when it stopped blocking (cancelled, no-show), or empty | empty       |
| status             | its status (`completed`, `cancelled`, ...)    | empty                 |
| started_at         | when its barber marked it started, or empty   | empty                 |
| finished_at        | when it was marked finished, or empty         | empty                 |

Extra columns (the database's export adds shop_id) are ignored.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

COLUMNS = (
    "kind",
    "barber_id",
    "timezone",
    "service",
    "duration_minutes",
    "buffer_time_before",
    "buffer_time_after",
    "start_time",
    "created_at",
    "ended_at",
    "status",
    "started_at",
    "finished_at",
)
REQUIRED = ("kind", "timezone", "service", "start_time", "created_at")


@dataclass(frozen=True)
class Booked:
    """One appointment of the trace. Instants are aware datetimes (UTC)."""

    barber_id: int
    timezone: str
    service: str
    duration_minutes: int
    buffer_time_before: int
    buffer_time_after: int
    start_time: datetime
    created_at: datetime
    ended_at: datetime | None = None
    status: str = "scheduled"
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def end_time(self) -> datetime:
        from datetime import timedelta

        return self.start_time + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class Refused:
    """One refused booking attempt (a 409)."""

    barber_id: int | None
    timezone: str
    service: str
    duration_minutes: int | None
    start_time: datetime
    created_at: datetime


@dataclass
class Trace:
    appointments: list[Booked] = field(default_factory=list)
    attempts: list[Refused] = field(default_factory=list)

    @property
    def barbers(self) -> list[int]:
        return sorted({a.barber_id for a in self.appointments})

    def timezone_of(self, barber_id: int) -> str:
        for a in self.appointments:
            if a.barber_id == barber_id:
                return a.timezone
        return "UTC"

    def span(self) -> tuple[datetime, datetime]:
        """The first and last instant the trace knows of (bookings made, starts)."""
        instants = [a.created_at for a in self.appointments] + [a.start_time for a in self.appointments]
        return min(instants), max(instants)


class TraceError(ValueError):
    pass


def _instant(value: Any, column: str, line: int) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise TraceError(f"line {line}: {column} is not an RFC 3339 instant: {str(value)[:40]!r}") from None
    if moment.tzinfo is None:
        raise TraceError(f"line {line}: {column} has no offset: {str(value)[:40]!r}")
    return moment.astimezone(UTC)


def _integer(value: Any, column: str, line: int) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TraceError(f"line {line}: {column} is not a whole number: {str(value)[:40]!r}") from None


def from_rows(rows: Iterable[Mapping[str, Any]]) -> Trace:
    """A trace from rows of the format above (a CSV's dicts, or booking.booking_history's rows)."""
    trace = Trace()
    for line, row in enumerate(rows, start=2):
        missing = [c for c in REQUIRED if row.get(c) in (None, "")]
        if missing:
            raise TraceError(f"line {line}: missing {', '.join(missing)}")
        kind = row["kind"]
        start = _instant(row["start_time"], "start_time", line)
        created = _instant(row["created_at"], "created_at", line)
        if kind == "appointment":
            barber = _integer(row.get("barber_id"), "barber_id", line)
            duration = _integer(row.get("duration_minutes"), "duration_minutes", line)
            if barber is None or duration is None or duration <= 0:
                raise TraceError(f"line {line}: an appointment needs a barber_id and a positive duration_minutes")
            trace.appointments.append(
                Booked(
                    barber_id=barber,
                    timezone=str(row["timezone"]),
                    service=str(row["service"]),
                    duration_minutes=duration,
                    buffer_time_before=_integer(row.get("buffer_time_before"), "buffer_time_before", line) or 0,
                    buffer_time_after=_integer(row.get("buffer_time_after"), "buffer_time_after", line) or 0,
                    start_time=start,
                    created_at=created,
                    ended_at=_instant(row.get("ended_at"), "ended_at", line),
                    status=str(row.get("status") or "scheduled"),
                    started_at=_instant(row.get("started_at"), "started_at", line),
                    finished_at=_instant(row.get("finished_at"), "finished_at", line),
                )
            )
        elif kind == "attempt":
            trace.attempts.append(
                Refused(
                    barber_id=_integer(row.get("barber_id"), "barber_id", line),
                    timezone=str(row["timezone"]),
                    service=str(row["service"]),
                    duration_minutes=_integer(row.get("duration_minutes"), "duration_minutes", line),
                    start_time=start,
                    created_at=created,
                )
            )
        else:
            raise TraceError(f"line {line}: kind must be appointment or attempt, not {str(kind)[:20]!r}")
    trace.appointments.sort(key=lambda a: a.created_at)
    trace.attempts.sort(key=lambda a: a.created_at)
    return trace


def read_csv(path: str | Path) -> Trace:
    with Path(path).open(newline="", encoding="utf-8") as f:
        return from_rows(csv.DictReader(f))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def write_csv(trace: Trace, path: str | Path) -> int:
    """Write the trace in the documented format; returns the number of rows."""
    rows = [
        {
            "kind": "appointment",
            "barber_id": a.barber_id,
            "timezone": a.timezone,
            "service": a.service,
            "duration_minutes": a.duration_minutes,
            "buffer_time_before": a.buffer_time_before,
            "buffer_time_after": a.buffer_time_after,
            "start_time": a.start_time,
            "created_at": a.created_at,
            "ended_at": a.ended_at,
            "status": a.status,
            "started_at": a.started_at,
            "finished_at": a.finished_at,
        }
        for a in trace.appointments
    ] + [
        {
            "kind": "attempt",
            "barber_id": r.barber_id,
            "timezone": r.timezone,
            "service": r.service,
            "duration_minutes": r.duration_minutes,
            "start_time": r.start_time,
            "created_at": r.created_at,
        }
        for r in trace.attempts
    ]
    rows.sort(key=lambda r: r["created_at"])
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _text(row.get(c)) for c in COLUMNS})
    return len(rows)
