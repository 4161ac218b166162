"""`python -m app demo-data`: demo barbers, hours and services, loaded idempotently, and
fresh demo tokens (tokens are stored only as hashes, so each run prints new ones).

Barbers: Alice (Europe/London), Bob (America/New_York), Chen (UTC), each working
09:00-18:00 local time Monday to Saturday. Services: Haircut 30 min, Beard Trim 15,
Haircut & Beard 45, Kids Cut 20. Users: client 1001, barber 2001 (Alice), admin 3001.
It writes as DATABASE_URL's user (the service's role cannot write tables).
"""

from __future__ import annotations

import psycopg

from app.migrate import libpq_url
from app.tokens import create_token

BARBERS = [("Alice", "Europe/London"), ("Bob", "America/New_York"), ("Chen", "UTC")]
SERVICES = [("Haircut", 30, 2500), ("Beard Trim", 15, 1200), ("Haircut & Beard", 45, 3500), ("Kids Cut", 20, 1500)]
CLIENT_USER, BARBER_USER, ADMIN_USER = 1001, 2001, 3001


def load_demo_data(database_url: str) -> dict[str, int]:
    """Create what is missing; returns {barber name: id}."""
    ids: dict[str, int] = {}
    with psycopg.connect(libpq_url(database_url)) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(booking.lock_namespace('demo_data'), 0)")  # one loader at a time
        for name, duration, price in SERVICES:
            conn.execute(
                "INSERT INTO booking.services (name, duration_minutes, price_cents) VALUES (%s, %s, %s)"
                " ON CONFLICT (shop_id, name) DO NOTHING",
                (name, duration, price),
            )
        for name, tz in BARBERS:
            row = conn.execute("SELECT id FROM booking.barbers WHERE name = %s ORDER BY id LIMIT 1", (name,)).fetchone()
            if row is None:
                row = conn.execute(
                    "INSERT INTO booking.barbers (name, timezone) VALUES (%s, %s) RETURNING id", (name, tz)
                ).fetchone()
            ids[name] = row[0]
            has_hours = conn.execute(
                "SELECT 1 FROM booking.working_hours WHERE barber_id = %s LIMIT 1", (row[0],)
            ).fetchone()
            if not has_hours:
                for weekday in range(1, 7):
                    conn.execute(
                        "INSERT INTO booking.working_hours (barber_id, weekday, opens_at, closes_at)"
                        " VALUES (%s, %s, '09:00', '18:00')",
                        (row[0], weekday),
                    )
    return ids


def main(database_url: str) -> None:
    ids = load_demo_data(database_url)
    print(
        "demo data: barbers "
        + ", ".join(f"{n} (id {i}, {tz})" for (n, tz), i in zip(BARBERS, ids.values(), strict=True))
    )
    print("demo data: services " + ", ".join(f"{n} ({d} min)" for n, d, _ in SERVICES))
    tokens = [
        (f"client token (user {CLIENT_USER}):", create_token(database_url, user_id=CLIENT_USER, role="client")),
        (
            f"barber token (user {BARBER_USER}, barber {ids['Alice']} Alice):",
            create_token(database_url, user_id=BARBER_USER, role="barber", barber_id=ids["Alice"]),
        ),
        (f"admin token (user {ADMIN_USER}):", create_token(database_url, user_id=ADMIN_USER, role="admin")),
    ]
    for label, token in tokens:
        print(label)
        print(token)
