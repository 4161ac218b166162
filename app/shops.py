"""Shops, for operators: `python -m app shop create --name NAME [--timezone TZ]
[--admin-user-id N]` (booking.create_shop). A shop's barbers, services, hours and time off
are made with the SQL functions of contract section 6 (booking.create_barber, ...)."""

from __future__ import annotations

import psycopg

from app.migrate import libpq_url


def create_shop(database_url: str, *, name: str, timezone: str = "UTC", admin_user_id: int | None = None) -> int:
    """The new shop's id. Errors are the catalogue's (BK008 for a bad name or time zone)."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute("SELECT (booking.create_shop(%s, %s, %s)).id", (name, timezone, admin_user_id)).fetchone()
    return int(row[0])
