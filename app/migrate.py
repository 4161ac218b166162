"""Apply the schema: yoyo migrations, then the data files (error catalogue, status
transitions), every function file and the grants.

Migrations (sql/migrations/, numbered, each with a rollback) change the schema once.
Functions (sql/functions/, one object per file, CREATE OR REPLACE) and sql/grants.sql are
re-applied on every run, in one transaction, so the database always runs the code in the
checkout. Running it twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import logging
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
from yoyo import get_backend, read_migrations

from app import changefeed
from app.paths import ERRORS_FILE, FUNCTIONS_DIR, GRANTS_FILE, MIGRATIONS_DIR, PROXY_DIR, STATUS_TRANSITIONS_FILE

log = logging.getLogger("booking.migrate")

# Serialises concurrent `make migrate` runs on one database: the advisory lock
# (booking.lock_namespace('migrate'), 0), spelled out here because the first migrate runs
# before that function exists.
MIGRATE_LOCK = (0x424B0003, 0)


def yoyo_url(database_url: str) -> str:
    """yoyo cannot use asyncpg or a bare postgresql:// URL: give it psycopg 3."""
    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {parts.scheme}://")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    if "," in hosts:
        # A multi-host URL (app/ha.py): yoyo parses one host:port only, so the list goes to
        # libpq as its host= and port= parameters.
        pairs = [h.rsplit(":", 1) if ":" in h.rsplit("]", 1)[-1] else [h, ""] for h in hosts.split(",")]
        query = "&".join(
            q
            for q in (
                f"host={','.join(h for h, _ in pairs)}",
                f"port={','.join(p or '5432' for _, p in pairs)}",
                parts.query,
            )
            if q
        )
        parts = parts._replace(netloc=f"{userinfo}@" if userinfo else "", query=query)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))


def libpq_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def apply_migrations(database_url: str) -> list[str]:
    backend = get_backend(yoyo_url(database_url))
    try:
        migrations = read_migrations(str(MIGRATIONS_DIR))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        return [m.id for m in pending]
    finally:
        backend.connection.close()


# The data tables loaded from files on every migrate: (table, primary key, identity, file).
# Rows whose identity (the columns that make a row that row) is no longer in the file are
# deleted, the others upserted on the primary key, so a rename or a new code never collides
# with the row it replaces.
DATA_FILES = (
    ("booking.error_codes", ("name",), ("name", "sqlstate"), ERRORS_FILE),
    ("booking.status_transitions", ("from_status", "to_status"), ("from_status", "to_status"), STATUS_TRANSITIONS_FILE),
)


def read_csv(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _load(cur, table: str, primary_key: tuple[str, ...], identity: tuple[str, ...], path) -> None:
    rows = read_csv(path)
    columns = list(rows[0])
    cur.execute(
        f"DELETE FROM {table} WHERE ({', '.join(identity)}) NOT IN "
        f"(SELECT * FROM unnest({', '.join(['%s::text[]'] * len(identity))}))",
        [[r[k] for r in rows] for k in identity],
    )
    updates = [c for c in columns if c not in primary_key]
    cur.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(f'%({c})s' for c in columns)}) "
        f"ON CONFLICT ({', '.join(primary_key)}) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates),
        rows,
    )


def is_proxy(conn) -> bool:
    """Is this database a cluster's proxy (sql/proxy/, app/cluster.py)?"""
    return conn.execute("SELECT to_regnamespace('booking_proxy') IS NOT NULL").fetchone()[0]


def apply_proxy_code(conn) -> int:
    """A proxy's own code, after the functions and grants (in their transaction): the
    directory (sql/proxy/schema.sql), the proxy's functions, then every routed function of
    sql/proxy/routes.csv made from the real one (booking_proxy.install_route)."""
    conn.execute((PROXY_DIR / "schema.sql").read_text(encoding="utf-8"))
    files = sorted((PROXY_DIR / "functions").glob("*.sql"))
    for path in files:
        conn.execute(path.read_text(encoding="utf-8"))
    for route in read_csv(PROXY_DIR / "routes.csv"):
        conn.execute(
            "SELECT booking_proxy.install_route(%s::regprocedure, %s, %s)",
            (route["function"], route["shop"] or None, route.get("merge") or None),
        )
    conn.execute((PROXY_DIR / "grants.sql").read_text(encoding="utf-8"))
    return len(files)


def apply_code(database_url: str, *, proxy: bool = False) -> int:
    """Re-apply the data files, functions and grants in one transaction (and, on a
    cluster's proxy, or with proxy=True, the proxy's code after them)."""
    files = sorted(FUNCTIONS_DIR.glob("*.sql"))
    with psycopg.connect(libpq_url(database_url)) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", MIGRATE_LOCK)
            # Files are applied in name order; a SQL function may call one defined in a
            # later file, so bodies are checked when called, not now (as pg_restore does).
            conn.execute("SET LOCAL check_function_bodies = off")
            with conn.cursor() as cur:
                for table, primary_key, identity, path in DATA_FILES:
                    _load(cur, table, primary_key, identity, path)
            for path in files:
                conn.execute(path.read_text(encoding="utf-8"))
            conn.execute(GRANTS_FILE.read_text(encoding="utf-8"))
            conn.execute("SELECT booking.sync_time_zones()")  # zones a tzdata upgrade added
            if proxy or is_proxy(conn):
                apply_proxy_code(conn)
    return len(files)


def configure_change_feed(database_url: str, mode: str) -> str:
    """The change feed's mode (app.changefeed): after the code, outside a transaction."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        return changefeed.configure(conn, mode)


def migrate(database_url: str, change_feed: str | None = None, *, proxy: bool = False) -> None:
    """Migrations, code and grants, then the change feed's mode (CHANGE_FEED, default auto).
    A cluster's proxy (proxy=True the first time) gets its own code too, and the outbox
    mode: it has no appointments, and a replication slot nobody reads would keep WAL."""
    mode = change_feed or os.environ.get("CHANGE_FEED", "").strip() or "auto"
    if mode not in changefeed.MODES:
        raise SystemExit(f"CHANGE_FEED must be one of {', '.join(changefeed.MODES)}, not {mode!r}")
    applied = apply_migrations(database_url)
    count = apply_code(database_url, proxy=proxy)
    with psycopg.connect(libpq_url(database_url)) as conn:
        if is_proxy(conn):
            mode = "outbox"
    feed = configure_change_feed(database_url, mode)
    log.info("migrated", extra={"migrations_applied": applied, "function_files": count, "change_feed": feed})
    print(
        f"migrate: {len(applied)} migration(s) applied, {count} function file(s) and grants re-applied; "
        f"change feed: {feed}"
    )
