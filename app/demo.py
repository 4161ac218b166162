"""`python -m app demo-data`: demo barbers, hours and services, loaded idempotently, and
fresh demo tokens (tokens are stored only as hashes, so each run prints new ones).

Barbers: Alice (Europe/London), Bob (America/New_York), Chen (UTC), each working
09:00-18:00 local time Monday to Saturday. Services: Haircut 30 min, Beard Trim 15,
Haircut & Beard 45, Kids Cut 20. Users: client 1001, barber 2001 (Alice), admin 3001.
It writes as DATABASE_URL's user, through the shop functions (contract section 6): the
same on one database and through a cluster's proxy (`PARTITIONS=N make run`).
"""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from app.migrate import libpq_url
from app.tokens import create_token

BARBERS = [("Alice", "Europe/London"), ("Bob", "America/New_York"), ("Chen", "UTC")]
SERVICES = [("Haircut", 30, 2500), ("Beard Trim", 15, 1200), ("Haircut & Beard", 45, 3500), ("Kids Cut", 20, 1500)]
CLIENT_USER, BARBER_USER, ADMIN_USER = 1001, 2001, 3001


def load_demo_data(database_url: str) -> dict[str, int]:
    """Create what is missing, in the default shop, through the shop functions (so that it
    works the same on one database and through a cluster's proxy); returns {barber name: id}.
    A barber made here gets the demo hours; one that exists keeps its own."""
    ids: dict[str, int] = {}
    with psycopg.connect(libpq_url(database_url)) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(booking.lock_namespace('demo_data'), 0)")  # one loader at a time
        services = {r[0] for r in conn.execute("SELECT name FROM booking.list_services(1)").fetchall()}
        for name, duration, price in SERVICES:
            if name not in services:
                conn.execute("SELECT booking.create_service(1, %s, %s, %s)", (name, duration, price))
        barbers: dict[str, int] = {}
        for barber_id, name in conn.execute("SELECT id, name FROM booking.list_barbers(1)").fetchall():
            barbers.setdefault(name, barber_id)
        for name, tz in BARBERS:
            if name not in barbers:
                barbers[name] = conn.execute("SELECT id FROM booking.create_barber(1, %s, %s)", (name, tz)).fetchone()[
                    0
                ]
                hours = [{"weekday": d, "opens_at": "09:00", "closes_at": "18:00"} for d in range(1, 7)]
                conn.execute("SELECT count(*) FROM booking.set_working_hours(%s, %s)", (barbers[name], Jsonb(hours)))
            ids[name] = barbers[name]
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
