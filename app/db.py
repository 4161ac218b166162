"""Connections: two asyncpg pools whose every connection runs as DB_ROLE (booking_app).

- the **write pool** (DB_POOL_MIN..DB_POOL_MAX) carries the booking calls, whose waits
  are bounded by the lock timeout they carry themselves;
- the **read pool** (1..DB_READ_POOL_MAX) carries everything else (authentication,
  reading an appointment, free slots, listings, the change feed), with a server-side
  `statement_timeout` of READ_STATEMENT_TIMEOUT: a read that runs away is cancelled by
  PostgreSQL itself, whether or not the service is still waiting for it.

Every session also gets `temp_file_limit` = TEMP_FILE_LIMIT, so no statement of the
service can fill the disk with temporary files. Only a superuser may set it: when the
service logs in as a superuser and runs as DB_ROLE, it is set in the startup packet; when it
logs in as booking_app itself, the role's own default applies (sql/grants.sql sets it on
every migrate), and the startup packet must not ask for it.

The role is set in the connection's startup packet (server_settings={'role': ...}), so it
is the session default, whatever a session does. A dedicated connection (not pooled) is
used for LISTEN.

A connection going back to the pool is only rolled back when a transaction was left open
(asyncpg always does that much). Its default reset also sends RESET ALL, CLOSE ALL,
UNLISTEN * and pg_advisory_unlock_all() on every release: one more round trip per request,
for state this service never leaves on a pooled connection (its settings are
transaction-local, its advisory locks transaction-scoped, it LISTENs on its own connection
and declares no cursors).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from app.config import Settings

log = logging.getLogger("booking.db")


@dataclass
class Pools:
    write: asyncpg.Pool
    read: asyncpg.Pool

    async def close(self) -> None:
        await self.write.close()
        await self.read.close()


def _server_settings(settings: Settings, *, temp_file_limit: bool, read: bool = False) -> dict[str, str]:
    out = {"application_name": "booking-service"}
    if temp_file_limit and settings.temp_file_limit:
        out["temp_file_limit"] = settings.temp_file_limit
    if settings.db_role:
        out["role"] = settings.db_role
    if read:
        out["statement_timeout"] = f"{max(1, round(settings.read_statement_timeout * 1000))}ms"
    return out


async def _nothing_more_to_reset(conn: asyncpg.Connection) -> None:
    """asyncpg has already rolled back an open transaction (see the module's docstring)."""


class _Connector:
    """Opens the pools' connections: with temp_file_limit in the startup packet while the
    login may set it; after the first refusal (42501: the login is not a superuser, so its
    role default applies), without it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.own_limit = bool(settings.temp_file_limit)

    def factory(self, *, read: bool):
        async def connect(dsn=None, **kwargs) -> asyncpg.Connection:
            kwargs.pop("server_settings", None)
            if self.own_limit:
                try:
                    return await asyncpg.connect(
                        dsn, server_settings=_server_settings(self.settings, temp_file_limit=True, read=read), **kwargs
                    )
                except asyncpg.InsufficientPrivilegeError:
                    self.own_limit = False
                    log.info("temp_file_limit comes from the login role's default (ALTER ROLE ... SET temp_file_limit)")
            return await asyncpg.connect(
                dsn, server_settings=_server_settings(self.settings, temp_file_limit=False, read=read), **kwargs
            )

        return connect


async def create_pools(settings: Settings, *, min_size: int | None = None) -> Pools:
    """The write and read pools. min_size overrides DB_POOL_MIN (0: connect on demand)."""
    connector = _Connector(settings)
    common = dict(timeout=10, command_timeout=60, reset=_nothing_more_to_reset)
    write = await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.db_pool_min if min_size is None else min_size,
        max_size=settings.db_pool_max,
        connect=connector.factory(read=False),
        **common,
    )
    try:
        read = await asyncpg.create_pool(
            settings.database_url,
            min_size=min(1, settings.db_pool_min) if min_size is None else min_size,
            max_size=settings.db_read_pool_max,
            connect=connector.factory(read=True),
            **common,
        )
    except BaseException:
        await write.close()
        raise
    return Pools(write, read)


async def connect(settings: Settings, *, timeout: float = 10) -> asyncpg.Connection:
    return await asyncpg.connect(
        settings.database_url, timeout=timeout, server_settings=_server_settings(settings, temp_file_limit=False)
    )


async def cluster_partitions(pool: asyncpg.Pool) -> dict[int, str]:
    """{partition: URL} when DATABASE_URL is a cluster's proxy (docs/SCALING.md), else {}:
    read from booking_proxy.partitions() (the proxy's PL/Proxy cluster definition)."""
    from urllib.parse import quote, urlencode

    import psycopg

    try:
        async with pool.acquire() as conn:
            if not await conn.fetchval("SELECT to_regnamespace('booking_proxy') IS NOT NULL"):
                return {}
            rows = await conn.fetch("SELECT partition, connection FROM booking_proxy.partitions()")
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return {}  # no database yet: served as one database until a restart finds the cluster
    out = {}
    for row in rows:
        info = psycopg.conninfo.conninfo_to_dict(row["connection"])
        query = {k: info[k] for k in ("host", "port") if k in info}
        user = quote(info.get("user", ""), safe="")
        out[row["partition"]] = (
            f"postgresql://{user + '@' if user else ''}/{quote(info.get('dbname', ''), safe='')}?{urlencode(query)}"
        )
    return out
