"""Checks the database against what the torture clients were told.

Computed from the contract's rule and the raw columns, independently of the project's
functions, generated column and constraint:
  overlaps            two active appointments of one barber whose blocked intervals overlap
                      (a hold counts while its status is 'held', expired or not: a write that
                      meets an expired hold must have marked it 'expired' first)
  lost acks           an acknowledged booking missing, or an acknowledged change (version,
                      final status) not reflected after the crash-restart
  duplicate keys      one idempotency key answered with two appointment ids, or its stored
                      result naming another appointment than the one acknowledged
  lost updates        an appointment whose change history (appointment_events, written by
                      the change feed's relay after each change committed; the checker
                      first relays everything that committed) skips or repeats a version
  undocumented errors a SQLSTATE that is neither in sql/errors.csv nor a transient one

Over a cluster (check_cluster) the same on every partition, read directly (the proxy holds
no rows), against the proxy's directory (booking_proxy.shop_directory):
  lost acks           also: an acknowledged appointment not on the partition its shop's
                      directory entry names
  duplicate keys      also: one (user, key) stored on two partitions
  misplaced rows      a shop's rows (shops, barbers, services, appointments, idempotency
                      keys, staff roles, events) on a partition the directory does not name
                      for it, a shop of the directory missing on its partition, or a shop
                      still marked moving after the run
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
    "database_unavailable",  # the service's 503 when the database did not answer (a failover)
}  # what a client retries
FINAL = {"completed", "cancelled", "no_show"}

OVERLAPS = """
SELECT a.id, b.id AS other
FROM booking.appointments a
JOIN booking.appointments b ON a.barber_id = b.barber_id AND a.id < b.id
WHERE a.status NOT IN ('cancelled', 'no_show', 'expired') AND b.status NOT IN ('cancelled', 'no_show', 'expired')
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
    misplaced: int = 0  # cluster: rows of a shop on a partition its directory entry does not name
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
            or self.misplaced
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

    check_errors(record, result)
    return result


def check_errors(record, result: Result) -> None:
    allowed = documented_sqlstates() | TRANSIENT
    for state, count in record.errors.items():
        if state not in allowed and not state.startswith("08"):
            result.undocumented_errors += count
            result.details.append(f"undocumented error {state} x{count}")


# Which shop each row belongs to, from raw columns (an id carries its shop: shop * 2^40 + n,
# shop 1 plain ids), independently of booking.shop_of_id.
def _shop(column: str) -> str:
    return f"(CASE WHEN {column} >= 1099511627776 THEN {column} >> 40 ELSE 1 END)"


PLACEMENT = f"""
SELECT 'shops' AS rows, id AS shop, count(*) AS n FROM booking.shops GROUP BY id
UNION ALL SELECT 'barbers', shop_id, count(*) FROM booking.barbers GROUP BY shop_id
UNION ALL SELECT 'barbers (by id)', {_shop("id")}, count(*) FROM booking.barbers GROUP BY 2
UNION ALL SELECT 'services', shop_id, count(*) FROM booking.services GROUP BY shop_id
UNION ALL SELECT 'appointments', shop_id, count(*) FROM booking.appointments GROUP BY shop_id
UNION ALL SELECT 'appointments (by id)', {_shop("id")}, count(*) FROM booking.appointments GROUP BY 2
UNION ALL SELECT 'appointments (by barber)', {_shop("barber_id")}, count(*) FROM booking.appointments GROUP BY 2
UNION ALL SELECT 'idempotency keys', {_shop("appointment_id")}, count(*) FROM booking.idempotency_keys
          WHERE appointment_id IS NOT NULL GROUP BY 2
UNION ALL SELECT 'staff roles', coalesce(shop_id, {_shop("barber_id")}), count(*) FROM booking.staff
          WHERE shop_id IS NOT NULL OR barber_id IS NOT NULL GROUP BY 2
UNION ALL SELECT 'events', {_shop("barber_id")}, count(*) FROM booking.appointment_events GROUP BY 2
"""


async def check_cluster(proxy_url: str, partition_urls: dict[int, str], record) -> Result:
    """The checks of check() on every partition of a cluster, read directly, plus where each
    shop's rows are (against the proxy's directory)."""
    result = Result()
    proxy = await asyncpg.connect(proxy_url)
    try:
        directory = {
            r["shop_id"]: (r["partition"], r["moving"])
            for r in await proxy.fetch("SELECT shop_id, partition, moving FROM booking_proxy.shop_directory")
        }
    finally:
        await proxy.close()
    for shop, (_, moving) in sorted(directory.items()):
        if moving:
            result.misplaced += 1
            result.details.append(f"shop {shop} is still marked moving in the directory")

    current: dict[int, dict[int, asyncpg.Record]] = {}  # partition -> id -> row
    stored: dict[tuple[int, str], list[tuple[int, int]]] = {}  # (user, key) -> [(partition, appointment)]
    for k, url in sorted(partition_urls.items()):
        conn = await asyncpg.connect(url)
        try:
            await drain(conn)  # everything committed there becomes an event first
            for row in await conn.fetch(OVERLAPS):
                result.overlaps += 1
                result.details.append(f"overlap on partition {k}: appointments {row['id']} and {row['other']}")
            current[k] = {
                r["id"]: r for r in await conn.fetch("SELECT id, version, status, shop_id FROM booking.appointments")
            }
            for r in await conn.fetch("SELECT user_id, idempotency_key, appointment_id FROM booking.idempotency_keys"):
                stored.setdefault((r["user_id"], r["idempotency_key"]), []).append((k, r["appointment_id"]))
            for row in await conn.fetch(VERSION_GAPS):
                result.lost_updates += 1
                result.details.append(
                    f"version history of appointment {row['id']} on partition {k} (version {row['version']}): "
                    f"{row['seen']}"
                )
            placed = {}
            for row in await conn.fetch(PLACEMENT):
                placed.setdefault(row["shop"], set()).add(row["rows"])
                home = directory.get(row["shop"], (None, False))[0]
                if home != k:
                    result.misplaced += 1
                    result.details.append(
                        f"partition {k} holds {row['n']} {row['rows']} rows of shop {row['shop']}, "
                        f"whose directory entry names partition {home}"
                    )
            for shop, (home, _) in directory.items():
                if home == k and "shops" not in placed.get(shop, ()):
                    result.misplaced += 1
                    result.details.append(f"shop {shop}: no row on partition {k}, which its directory entry names")
        finally:
            await conn.close()

    def found(appt_id: int):
        home = directory.get(_shop_of(appt_id), (None, False))[0]
        row = current.get(home, {}).get(appt_id)
        elsewhere = [k for k, rows in current.items() if k != home and appt_id in rows]
        return home, row, elsewhere

    for appt_id in record.acked_books:
        home, row, elsewhere = found(appt_id)
        if row is None:
            result.lost_acks += 1
            result.details.append(
                f"lost booking: appointment {appt_id} was acknowledged, not on partition {home}"
                + (f" (found on {elsewhere})" if elsewhere else "")
            )
    for change in record.acked_changes:
        home, row, _ = found(change["id"])
        if row is None or row["version"] < change["version"]:
            result.lost_acks += 1
            result.details.append(
                f"lost change: appointment {change['id']} acknowledged at version "
                f"{change['version']}, now {row and row['version']} on partition {home}"
            )
        elif change["status"] in FINAL and row["status"] != change["status"]:
            result.lost_acks += 1
            result.details.append(
                f"lost change: appointment {change['id']} acknowledged {change['status']}, now {row['status']}"
            )

    by_key: dict[str, list[int]] = {}
    for (user, key), places in stored.items():
        by_key.setdefault(key, []).extend(appt for _, appt in places if appt is not None)
        if len(places) > 1:
            result.duplicate_keys += 1
            result.details.append(f"idempotency key {key} of user {user} stored on partitions {places}")
    for key, ids in record.key_results.items():
        if len(ids) > 1 or (key in by_key and not set(by_key[key]) <= ids):
            result.duplicate_keys += 1
            result.details.append(f"idempotency key {key}: answered {sorted(ids)}, stored {by_key.get(key)}")

    check_errors(record, result)
    return result


def _shop_of(entity_id: int) -> int:
    return entity_id >> 40 if entity_id >= 1 << 40 else 1
