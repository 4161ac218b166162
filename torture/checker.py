"""Checks the database against what the torture clients were told.

Computed from the contract's rule and the raw columns, independently of the project's
functions, generated column and constraint:
  overlaps            two active appointments of one barber whose blocked intervals overlap
  lost acks           an acknowledged booking missing, or an acknowledged change (version,
                      final status) not reflected after the crash-restart
  duplicate keys      one idempotency key answered with two appointment ids, or its stored
                      result naming another appointment than the one acknowledged
  lost updates        an appointment whose change history (appointment_events, written by
                      the change feed's relay after each change committed; the checker
                      first relays everything that committed) skips or repeats a version
  undocumented errors a SQLSTATE that is neither in sql/errors.csv nor a transient one
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from app.relay import drain

ROOT = Path(__file__).resolve().parent.parent
TRANSIENT = {
    "40001",
    "40P01",
    "57P01",
    "57P02",
    "57P03",
    "connection_lost",
    "http_503",
    "http_connection_lost",
}  # what a client retries
FINAL = {"completed", "cancelled", "no_show"}

OVERLAPS = """
SELECT a.id, b.id AS other
FROM booking.appointments a
JOIN booking.appointments b ON a.barber_id = b.barber_id AND a.id < b.id
WHERE a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')
  AND a.start_time - a.buffer_time_before * interval '1 minute'
      < b.start_time + (b.duration_minutes + b.buffer_time_after) * interval '1 minute'
  AND b.start_time - b.buffer_time_before * interval '1 minute'
      < a.start_time + (a.duration_minutes + a.buffer_time_after) * interval '1 minute'
"""

VERSION_GAPS = """
SELECT a.id, a.version, array_agg(DISTINCT e.version ORDER BY e.version) AS seen
FROM booking.appointments a
LEFT JOIN booking.appointment_events e ON e.appointment_id = a.id
GROUP BY a.id, a.version
HAVING array_agg(DISTINCT e.version ORDER BY e.version)
       IS DISTINCT FROM (SELECT array_agg(v ORDER BY v) FROM generate_series(1, a.version) v)
"""


@dataclass
class Result:
    overlaps: int = 0
    lost_acks: int = 0
    duplicate_keys: int = 0
    lost_updates: int = 0
    undocumented_errors: int = 0
    unrecovered: int = 0  # the service did not answer /health 200 after the last restart
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.overlaps
            or self.lost_acks
            or self.duplicate_keys
            or self.lost_updates
            or self.undocumented_errors
            or self.unrecovered
        )


def documented_sqlstates() -> set[str]:
    with (ROOT / "sql" / "errors.csv").open(newline="", encoding="utf-8") as f:
        return {row["sqlstate"] for row in csv.DictReader(f)}


async def check(db: str | asyncpg.Connection, record) -> Result:
    """db: a URL, or an open connection (used as is, e.g. inside a test's transaction)."""
    result = Result()
    conn = await asyncpg.connect(db) if isinstance(db, str) else db
    try:
        # Everything that committed becomes an event first (inside a caller's transaction:
        # what it staged itself, mode outbox).
        if conn.is_in_transaction():
            await conn.fetch("SELECT * FROM booking.relay_change_feed()")
        else:
            await drain(conn)
        for row in await conn.fetch(OVERLAPS):
            result.overlaps += 1
            result.details.append(f"overlap: appointments {row['id']} and {row['other']}")

        current = {r["id"]: r for r in await conn.fetch("SELECT id, version, status FROM booking.appointments")}
        for appt_id in record.acked_books:
            if appt_id not in current:
                result.lost_acks += 1
                result.details.append(f"lost booking: appointment {appt_id} was acknowledged")
        for change in record.acked_changes:
            row = current.get(change["id"])
            if row is None or row["version"] < change["version"]:
                result.lost_acks += 1
                result.details.append(
                    f"lost change: appointment {change['id']} acknowledged at version "
                    f"{change['version']}, now {row and row['version']}"
                )
            elif change["status"] in FINAL and row["status"] != change["status"]:
                result.lost_acks += 1
                result.details.append(
                    f"lost change: appointment {change['id']} acknowledged {change['status']}, now {row['status']}"
                )

        stored = {
            r["idempotency_key"]: r["appointment_id"]
            for r in await conn.fetch("SELECT idempotency_key, appointment_id FROM booking.idempotency_keys")
        }
        for key, ids in record.key_results.items():
            if len(ids) > 1 or (key in stored and stored[key] not in ids):
                result.duplicate_keys += 1
                result.details.append(f"idempotency key {key}: answered {sorted(ids)}, stored {stored.get(key)}")

        for row in await conn.fetch(VERSION_GAPS):
            result.lost_updates += 1
            result.details.append(
                f"version history of appointment {row['id']} (version {row['version']}): {row['seen']}"
            )
    finally:
        if isinstance(db, str):
            await conn.close()

    allowed = documented_sqlstates() | TRANSIENT
    for state, count in record.errors.items():
        if state not in allowed and not state.startswith("08"):
            result.undocumented_errors += count
            result.details.append(f"undocumented error {state} x{count}")
    return result
