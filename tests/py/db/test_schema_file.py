"""sql/schema.sql is the schema the migrations build: a database made from the migrations
and one made from schema.sql, each with sql/functions/ and sql/grants.sql applied on top,
dump the same (`pg_dump --schema-only` of schema booking), as procrastinate checks its
schema.sql."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg

from app.migrate import apply_code, apply_migrations, libpq_url
from app.paths import SCHEMA_FILE
from harness.cluster import drop_database_sql
from tests.py.db.conftest import on_database


def pg_dump() -> str:
    found = shutil.which("pg_dump") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))), None)
    assert found, "pg_dump is not installed"
    return str(found)


def schema_dump(url: str) -> str:
    out = subprocess.run(
        [pg_dump(), "--schema-only", "--schema=booking", libpq_url(url)], check=True, capture_output=True, text=True
    ).stdout
    # pg_dump's comment lines and its per-run \restrict key differ between any two dumps.
    return "\n".join(
        line
        for line in out.splitlines()
        if line.strip() and not line.startswith("--") and not re.match(r"\\(un)?restrict ", line)
    )


def test_schema_sql_is_what_the_migrations_build(scratch_database, database_url):
    from_migrations = scratch_database
    apply_migrations(from_migrations)
    apply_code(from_migrations)
    name = f"booking_schema_{uuid.uuid4().hex[:8]}"
    admin = on_database(database_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    from_schema = on_database(database_url, name)
    try:
        with psycopg.connect(libpq_url(from_schema), autocommit=True) as conn:
            conn.execute(SCHEMA_FILE.read_text(encoding="utf-8"))
        apply_code(from_schema)
        a, b = schema_dump(from_migrations).splitlines(), schema_dump(from_schema).splitlines()
        if a != b:
            import difflib

            raise AssertionError(
                "sql/schema.sql differs from the migrations:\n"
                + "\n".join(difflib.unified_diff(a, b, "migrations", "schema.sql", lineterm="", n=2))
            )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for statement in drop_database_sql(name).splitlines():
                conn.execute(statement)
