"""Bearer tokens: 256 random bits, shown once, stored only as their SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import psycopg

from app.migrate import libpq_url


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def create_token(
    database_url: str,
    *,
    user_id: int,
    role: str,
    barber_id: int | None = None,
    expires_in_days: float | None = None,
    shop_id: int | None = None,
) -> str:
    """A new bearer token (printed once, stored as its hash). An admin token with `shop_id`
    acts in that shop only."""
    if expires_in_days is not None and not expires_in_days > 0:  # 0 must not mean "never"
        raise ValueError(f"expires_in_days must be a positive number of days, not {expires_in_days!r}")
    token = new_token()
    expires = (datetime.now(UTC) + timedelta(days=expires_in_days)) if expires_in_days is not None else None
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute(
            "SELECT booking.create_api_token(%s, %s, %s, %s, %s, %s)",
            (hash_token(token), user_id, role, barber_id, expires, shop_id),
        )
    return token


def revoke_token(database_url: str, token: str) -> bool:
    with psycopg.connect(libpq_url(database_url)) as conn:
        return bool(conn.execute("SELECT booking.revoke_api_token(%s)", (hash_token(token),)).fetchone()[0])
