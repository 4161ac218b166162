"""Model-based test: random sequences of bookings, reschedules, moves across barbers,
buffer and status changes and cancellations run against the real database and against an
in-memory model of the contract's rule; after every step they must agree on what
succeeded, why what failed failed, and what the appointments table holds.

The model knows nothing of the project's SQL: it recomputes the blocked interval
[start - before, start + duration + after) and the overlap rule itself.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

BARBER_ZONES = ["UTC", "Europe/Paris", "America/New_York"]
SERVICES = {"Haircut": 30, "Beard Trim": 15, "Long Cut": 60}
ADMIN = 500
ACTIVE = ("scheduled", "confirmed", "completed")
NEXT = {
    "scheduled": {"confirmed", "completed", "cancelled", "no_show"},
    "confirmed": {"completed", "cancelled", "no_show"},
}

BASE = (datetime.now(UTC) + timedelta(days=40)).replace(hour=8, minute=0, second=0, microsecond=0)
starts = st.integers(0, 40).map(lambda i: BASE + timedelta(minutes=15 * i))  # 08:00-18:00 UTC grid
buffers = st.sampled_from([0, 0, 5, 15])


@dataclass(frozen=True)
class Appt:
    id: int
    barber: int
    user: int
    start: datetime
    duration: int
    before: int
    after: int
    status: str = "scheduled"
    version: int = 1

    def blocked(self) -> tuple[datetime, datetime]:
        return (self.start - timedelta(minutes=self.before), self.start + timedelta(minutes=self.duration + self.after))


def conflicts(a: Appt, others) -> bool:
    if a.status not in ACTIVE:
        return False
    lo, hi = a.blocked()
    for b in others:
        if b.id != a.id and b.barber == a.barber and b.status in ACTIVE:
            blo, bhi = b.blocked()
            if lo < bhi and blo < hi:
                return True
    return False


class BookingMachine(RuleBasedStateMachine):
    appointments = Bundle("appointments")

    def __init__(self):
        super().__init__()
        self.conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        self.model: dict[int, Appt] = {}

    @initialize()
    def reset(self):
        self.conn.execute(
            "TRUNCATE booking.appointments, booking.idempotency_keys, booking.staff, "
            "booking.working_hours, booking.barbers, booking.services RESTART IDENTITY CASCADE"
        )
        for i, zone in enumerate(BARBER_ZONES, start=1):
            self.conn.execute(
                "INSERT INTO booking.barbers (id, name, timezone) VALUES (%s, %s, %s)", (i, f"Barber {i}", zone)
            )
        for name, minutes in SERVICES.items():
            self.conn.execute("INSERT INTO booking.services (name, duration_minutes) VALUES (%s, %s)", (name, minutes))
        self.conn.execute("INSERT INTO booking.staff (user_id, role) VALUES (%s, 'admin')", (ADMIN,))

    def teardown(self):
        self.conn.close()

    def call(self, sql: str, params) -> tuple[dict | None, str | None]:
        try:
            with self.conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
                cur.execute(sql, params)
                return cur.fetchone(), None
        except psycopg.Error as e:
            assert e.sqlstate is not None, e
            return None, e.sqlstate

    @rule(
        target=appointments,
        barber=st.integers(1, 3),
        user=st.integers(1, 5),
        service=st.sampled_from(sorted(SERVICES)),
        start=starts,
        before=buffers,
        after=buffers,
    )
    def book(self, barber, user, service, start, before, after):
        row, err = self.call(
            "SELECT * FROM booking.book_appointment(%s, %s, %s, %s, %s, %s)",
            (barber, user, service, start, before, after),
        )
        candidate = Appt(
            id=-1, barber=barber, user=user, start=start, duration=SERVICES[service], before=before, after=after
        )
        if conflicts(candidate, self.model.values()):
            assert err == "23P01", (err, row)
            return None
        assert err is None, err
        appt = replace(candidate, id=row["id"])
        self.model[appt.id] = appt
        return appt.id

    @rule(appt_id=appointments, start=starts, barber=st.none() | st.integers(1, 3))
    def reschedule(self, appt_id, start, barber):
        if appt_id is None:
            return
        old = self.model[appt_id]
        changes = {"start_time": start.isoformat()}
        if barber is not None:
            changes["barber_id"] = barber
        self.change(old, changes, replace(old, start=start, barber=barber or old.barber))

    @rule(appt_id=appointments, before=buffers, after=buffers)
    def change_buffers(self, appt_id, before, after):
        if appt_id is None:
            return
        old = self.model[appt_id]
        self.change(
            old, {"buffer_time_before": before, "buffer_time_after": after}, replace(old, before=before, after=after)
        )

    @rule(appt_id=appointments, status=st.sampled_from(["confirmed", "completed", "cancelled", "no_show"]))
    def set_status(self, appt_id, status):
        if appt_id is None:
            return
        old = self.model[appt_id]
        self.change(old, {"status": status}, replace(old, status=status), actor=ADMIN)

    @rule(appt_id=appointments, stale=st.booleans())
    def cancel(self, appt_id, stale):
        if appt_id is None:
            return
        old = self.model[appt_id]
        expected = old.version - 1 if stale else old.version
        row, err = self.call("SELECT * FROM booking.cancel_appointment(%s, %s, %s)", (old.id, old.user, expected))
        if stale:
            assert err == "BK001", err
        elif old.status == "cancelled":
            assert err is None and row["version"] == old.version
        elif old.status in ("completed", "no_show"):
            assert err == "BK010", err
        else:
            assert err is None, err
            self.model[old.id] = replace(old, status="cancelled", version=old.version + 1)

    def change(self, old: Appt, changes: dict, new: Appt, actor: int | None = None):
        row, err = self.call(
            "SELECT * FROM booking.update_appointment(%s, %s, %s::jsonb, %s)",
            (old.id, actor or old.user, json.dumps(changes), old.version),
        )
        if new == old:
            assert err is None and row["version"] == old.version, (err, row)
            return
        if old.status in ("completed", "cancelled", "no_show"):
            assert err == "BK010", err
            return
        if new.status != old.status and new.status not in NEXT[old.status]:
            assert err == "BK010", err
            return
        moved = (new.barber, new.start, new.before, new.after) != (old.barber, old.start, old.before, old.after)
        if moved and new.start != old.start and new.start < datetime.now(UTC):
            assert err == "BK005", err
            return
        if conflicts(new, self.model.values()):
            assert err == "23P01", (err, changes)
            return
        assert err is None, (err, changes)
        new = replace(new, version=old.version + 1)
        assert row["version"] == new.version
        self.model[old.id] = new

    @invariant()
    def database_matches_model(self):
        if not hasattr(self, "conn"):
            return
        rows = self.conn.execute(
            "SELECT id, barber_id, user_id, start_time, duration_minutes, buffer_time_before, "
            "buffer_time_after, status, version FROM booking.appointments ORDER BY id"
        ).fetchall()
        assert [Appt(*r) for r in rows] == [self.model[k] for k in sorted(self.model)]


TestBookingModel = BookingMachine.TestCase
TestBookingModel.settings = settings(
    max_examples=int(os.environ.get("MODEL_EXAMPLES", 25)),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(autouse=True)
def _needs_database(database_url):
    """Fails clearly (instead of a KeyError) when run outside make test."""
