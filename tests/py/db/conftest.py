"""Database tier: the SQL engine and the Python API through real connections to the test
database: isolation levels, concurrency with many backends, the boundary corpus, migrations."""

import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from app.migrate import libpq_url
from harness.cluster import drop_database_sql


def on_database(url: str, dbname: str) -> str:
    return urlunsplit(urlsplit(libpq_url(url))._replace(path="/" + dbname))


@pytest.fixture
def scratch_database(database_url):
    name = f"booking_migrations_{uuid.uuid4().hex[:8]}"
    admin = on_database(database_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = on_database(database_url, name)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for statement in drop_database_sql(name).splitlines():
                conn.execute(statement)
