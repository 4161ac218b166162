"""Connections: an asyncpg pool whose every connection runs as DB_ROLE (booking_app).

The role is set in the connection's startup packet (server_settings={'role': ...}), so
it is the session default: RESET ALL, which the pool runs when a connection is released,
keeps it. A dedicated connection (not pooled) is used for LISTEN.
"""

from __future__ import annotations

import asyncpg

from app.config import Settings


def _server_settings(settings: Settings) -> dict[str, str]:
    out = {"application_name": "booking-service"}
    if settings.db_role:
        out["role"] = settings.db_role
    return out


async def create_pool(settings: Settings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max,
        server_settings=_server_settings(settings), timeout=10, command_timeout=60,
    )


async def connect(settings: Settings, *, timeout: float = 10) -> asyncpg.Connection:
    return await asyncpg.connect(settings.database_url, server_settings=_server_settings(settings),
                                 timeout=timeout)
