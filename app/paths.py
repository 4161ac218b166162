"""Where the project's SQL lives."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = ROOT / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
FUNCTIONS_DIR = SQL_DIR / "functions"
GRANTS_FILE = SQL_DIR / "grants.sql"
ERRORS_FILE = SQL_DIR / "errors.csv"
STATUS_TRANSITIONS_FILE = SQL_DIR / "status_transitions.csv"
SCHEMA_FILE = SQL_DIR / "schema.sql"
QUERIES_FILE = SQL_DIR / "queries.sql"
PROXY_DIR = SQL_DIR / "proxy"  # a cluster's proxy database (app/cluster.py)
PG_SH = ROOT / "scripts" / "pg.sh"
