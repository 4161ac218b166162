"""The token cache (app.web.auth.TokenCache, TOKEN_CACHE_SECONDS): a request does not spend a
round trip on its token's check, and a token change still takes effect at once.

The stated bound: a revoked token, or one whose user lost the staff role it carries, is
refused as soon as the `booking_tokens` notification reaches the process (here: within
2 s, against a cache that would otherwise keep it for an hour); an expiring token is
refused at its expiry; while the LISTEN connection is down nothing is served from the cache.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from app import metrics
from app.config import Settings
from app.records import Caller
from app.tokens import hash_token
from app.web import create_app
from app.web.auth import TokenCache
from harness.service import running
from tests.py.support import refused_within

HOUR = 3600.0


def hits() -> float:
    return metrics.TOKEN_CACHE.labels("hit")._value.get()


async def settled(app, db) -> None:
    """Every notification sent so far has reached the app (they arrive in commit order)."""
    generation = app.state.token_cache.generation
    await db.execute("NOTIFY booking_tokens, 'test'")
    for _ in range(250):
        if app.state.token_cache.generation > generation:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the app did not hear booking_tokens within 5 s")


@pytest.fixture
async def cached_client(database_url):
    """The app with a cache that would keep an answer for an hour: only the notification
    (or the token's expiry) can end a cached token early."""
    app = create_app(Settings.from_env(database_url=database_url, purge_interval=0, token_cache_seconds=HOUR))
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        assert app.state.events.listening.is_set()
        c.app = app
        yield c


async def test_a_known_token_is_checked_once(cached_client, shop, clean_db):
    c = cached_client
    await settled(c.app, clean_db)
    assert (await c.get("/barbers", headers=shop.client)).status_code == 200
    before = hits()
    for _ in range(5):
        assert (await c.get("/barbers", headers=shop.client)).status_code == 200
    assert hits() - before == 5


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE booking.api_tokens SET revoked_at = now() WHERE user_id = {user}",
        "DELETE FROM booking.api_tokens WHERE user_id = {user}",
        "SELECT booking.revoke_api_token(token_hash) FROM booking.api_tokens WHERE user_id = {user}",
        "DELETE FROM booking.staff WHERE user_id = {user}",
        "UPDATE booking.staff SET role = 'barber', barber_id = (SELECT min(id) FROM booking.barbers) WHERE user_id = {user}",
    ],
)
async def test_a_withdrawn_token_is_refused_when_the_notification_arrives(cached_client, shop, clean_db, change):
    c = cached_client
    await settled(c.app, clean_db)
    assert (await c.get("/barbers", headers=shop.admin)).status_code == 200
    before = hits()
    assert (await c.get("/barbers", headers=shop.admin)).status_code == 200
    assert hits() - before == 1  # it is cached
    changed = time.monotonic()
    await clean_db.execute(change.format(user=301))
    await refused_within(lambda: c.get("/barbers", headers=shop.admin), seconds=2.0)
    assert time.monotonic() - changed < 2.0
    # Other tokens are checked again, and still work.
    assert (await c.get("/barbers", headers=shop.client)).status_code == 200


async def test_a_change_that_rolls_back_is_not_announced(cached_client, shop, clean_db):
    c = cached_client
    await settled(c.app, clean_db)
    assert (await c.get("/barbers", headers=shop.client)).status_code == 200
    generation = c.app.state.token_cache.generation
    async with clean_db.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        await conn.execute("UPDATE booking.api_tokens SET revoked_at = now() WHERE user_id = 101")
        await tr.rollback()
    await asyncio.sleep(0.3)
    assert c.app.state.token_cache.generation == generation  # no notification
    assert (await c.get("/barbers", headers=shop.client)).status_code == 200


async def test_a_cached_token_is_refused_at_its_expiry(cached_client, shop, clean_db, make_token):
    c = cached_client
    headers = await make_token(150, "client")
    token_hash = hash_token(headers["Authorization"].split()[1])
    await clean_db.execute(
        "UPDATE booking.api_tokens SET expires_at = now() + interval '1.5 seconds' WHERE token_hash = $1", token_hash
    )
    await settled(c.app, clean_db)  # the UPDATE's notification has emptied the cache
    assert (await c.get("/barbers", headers=headers)).status_code == 200
    before = hits()
    assert (await c.get("/barbers", headers=headers)).status_code == 200
    assert hits() - before == 1  # served from the cache, an hour's TTL...
    await asyncio.sleep(1.6)
    r = await c.get("/barbers", headers=headers)  # ...but never past the token's expiry
    assert r.status_code == 401


def test_a_fill_that_raced_a_notification_is_not_kept():
    cache = TokenCache(HOUR)
    cache.listening(True)
    caller = Caller(1, "client", None, b"h" * 32)
    generation = cache.generation  # the request asks the database...
    cache.clear("api_tokens")  # ...a revocation's notification arrives meanwhile...
    cache.put(caller, None, generation)  # ...and the answer, read before it, is dropped
    assert cache.get(caller.token_hash) is None
    cache.put(caller, None, cache.generation)
    assert cache.get(caller.token_hash) == caller


def test_nothing_is_served_while_not_listening():
    cache = TokenCache(HOUR)
    caller = Caller(1, "client", None, b"h" * 32)
    cache.put(caller, None, cache.generation)
    assert cache.get(caller.token_hash) is None  # never listened: off
    cache.listening(True)
    cache.put(caller, None, cache.generation)
    assert cache.get(caller.token_hash) == caller
    cache.listening(False)  # the LISTEN connection dropped: it may miss a revocation
    assert cache.get(caller.token_hash) is None
    cache.put(caller, None, cache.generation)
    assert cache.get(caller.token_hash) is None


def test_zero_seconds_turns_it_off_and_the_size_is_bounded():
    off = TokenCache(0)
    off.listening(True)
    off.put(Caller(1, "client", None, b"a" * 32), None, off.generation)
    assert len(off) == 0
    small = TokenCache(HOUR, max_entries=3)
    small.listening(True)
    for i in range(10):
        small.put(Caller(i, "client", None, bytes([i]) * 32), None, small.generation)
    assert len(small) == 3 and small.get(bytes([9]) * 32) is not None and small.get(bytes([0]) * 32) is None


async def test_a_lost_listen_connection_empties_the_cache_and_it_comes_back(cached_client, shop, clean_db):
    """Notifications sent while the connection is down are lost: what was cached before
    may be stale, so it goes; served again once listening (tested above: nothing is served
    from the cache in between)."""
    c = cached_client
    await settled(c.app, clean_db)
    assert (await c.get("/barbers", headers=shop.client)).status_code == 200
    cache = c.app.state.token_cache
    assert len(cache) == 1
    transitions: list[bool] = []
    c.app.state.events.subscribe("booking_tokens_test", lambda _p: None, transitions.append)
    killed = await clean_db.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid() AND datname = current_database()"
    )
    assert killed >= 1
    for _ in range(500):
        if transitions[-2:] == [False, True]:
            break
        await asyncio.sleep(0.02)
    assert transitions[-2:] == [False, True] and len(cache) == 0
    await settled(c.app, clean_db)
    assert (await c.get("/barbers", headers=shop.client)).status_code == 200
    await clean_db.execute("UPDATE booking.api_tokens SET revoked_at = now() WHERE user_id = 101")
    await refused_within(lambda: c.get("/barbers", headers=shop.client))


@pytest.mark.parametrize("value", ["-1", "nan", "-inf", "soon", "1e400x"])
def test_token_cache_seconds_refuses_what_is_not_a_duration(value):
    with pytest.raises(SystemExit) as info:
        Settings.from_env({"DATABASE_URL": "postgresql:///x", "TOKEN_CACHE_SECONDS": value})
    assert "TOKEN_CACHE_SECONDS" in str(info.value)


@pytest.mark.parametrize("value, seconds", [("0", 0.0), ("30", 30.0), ("0.5", 0.5), ("", 30.0)])
def test_token_cache_seconds_takes_a_duration(value, seconds):
    assert (
        Settings.from_env({"DATABASE_URL": "postgresql:///x", "TOKEN_CACHE_SECONDS": value}).token_cache_seconds
        == seconds
    )
