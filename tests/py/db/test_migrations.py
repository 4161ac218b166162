"""Every migration has a working rollback: on a database of its own, apply them all, roll
them all back in reverse order, and apply them again; the functions and grants then load
on top (what `make migrate` does), and a booking works."""

from __future__ import annotations

import asyncpg
import psycopg
from yoyo import get_backend, read_migrations

from app.migrate import apply_code, libpq_url, yoyo_url
from app.paths import MIGRATIONS_DIR


def test_every_migration_rolls_back_and_applies_again(scratch_database):
    migrations = read_migrations(str(MIGRATIONS_DIR))
    assert len(migrations) >= 6
    backend = get_backend(yoyo_url(scratch_database))
    try:
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations))
        apply_code(scratch_database)  # functions and grants on the latest schema
        with backend.lock():
            backend.rollback_migrations(backend.to_rollback(migrations))
        with psycopg.connect(libpq_url(scratch_database)) as conn:
            assert conn.execute("SELECT to_regnamespace('booking')").fetchone()[0] is None
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations))
        assert len(backend.to_apply(migrations)) == 0
    finally:
        backend.connection.close()
    apply_code(scratch_database)


async def test_the_newest_migration_rolls_back_and_forward_on_a_live_schema(scratch_database):
    """Roll back only the newest migration (the usual undo of a deploy) and apply it again:
    the rollback leaves a schema the migration applies to, and the engine then books."""
    migrations = read_migrations(str(MIGRATIONS_DIR))
    backend = get_backend(yoyo_url(scratch_database))
    try:
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations))
        last = migrations[-1:]
        with backend.lock():
            backend.rollback_migrations(backend.to_rollback(last))
            backend.apply_migrations(backend.to_apply(migrations))
    finally:
        backend.connection.close()
    apply_code(scratch_database)
    conn = await asyncpg.connect(scratch_database)
    try:
        await conn.execute(
            "INSERT INTO booking.barbers (id, name) VALUES (1, 'A');"
            "INSERT INTO booking.services (name, duration_minutes) VALUES ('Haircut', 30)"
        )
        row = await conn.fetchrow(
            "SELECT * FROM booking.book_appointment(1, 7, 'Haircut', now() + interval '2 days',"
            " p_idempotency_key => 'k')"
        )
        assert row["version"] == 1
    finally:
        await conn.close()
