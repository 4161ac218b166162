"""Connections: an asyncpg pool whose every connection runs as DB_ROLE (booking_app).

The role is set in the connection's startup packet (server_settings={'role': ...}), so
it is the session default, whatever a session does. A dedicated connection (not pooled) is
used for LISTEN.

A connection going back to the pool is only rolled back when a transaction was left open
(asyncpg always does that much). Its default reset also sends RESET ALL, CLOSE ALL,
UNLISTEN * and pg_advisory_unlock_all() on every release: one more round trip per request,
for state this service never leaves on a pooled connection (its settings are
transaction-local, its advisory locks transaction-scoped, it LISTENs on its own connection
and declares no cursors).
"""

from __future__ import annotations

import asyncpg

from app.config import Settings


def _server_settings(settings: Settings) -> dict[str, str]:
    out = {"application_name": "booking-service"}
    if settings.db_role:
        out["role"] = settings.db_role
    return out


async def _nothing_more_to_reset(conn: asyncpg.Connection) -> None:
    """asyncpg has already rolled back an open transaction (see the module's docstring)."""


async def create_pool(settings: Settings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max,
        server_settings=_server_settings(settings), timeout=10, command_timeout=60,
        reset=_nothing_more_to_reset,
    )


async def connect(settings: Settings, *, timeout: float = 10) -> asyncpg.Connection:
    return await asyncpg.connect(settings.database_url, server_settings=_server_settings(settings),
                                 timeout=timeout)
