"""The two engines the function API runs on, for tests parametrised over both: one database,
and a 2-partition cluster behind its PL/Proxy proxy (docs/SCALING.md), started once per
session with `app.cluster.LocalCluster` (each node its own PostgreSQL server).

A test asks for `engine` (tests/py/conftest.py) and gets:
    engine.url          where callers call the booking functions (the database, or the proxy)
    engine.direct_url   the database that holds the test's rows (the database, or partition 1)
    engine.rows         a pool on direct_url, for checks of the rows themselves
    engine.make_barber(name, timezone, hours), engine.make_service(name, minutes)
On the cluster the test's barbers and services belong to a new shop, which the proxy places
on partition 1 (partition 0 holds the default shop): every call is routed by an id that
carries the shop, as in production.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.py.support import TABLES


@dataclass
class Engine:
    name: str
    url: str
    direct_url: str
    rows: asyncpg.Pool
    make_barber: Callable[..., Awaitable[int]]
    make_service: Callable[..., Awaitable[str]]


class ClusterUnderTest:
    """A 2-partition cluster in a temporary directory, durable (fsync on: a crashed partition
    must come back with what it acknowledged, as in production)."""

    def __init__(self):
        from app.cluster import LocalCluster

        # Short and under /tmp: the postgres OS user must reach it, and socket paths are short.
        self.dir = Path(tempfile.mkdtemp(prefix="bkcl-", dir="/tmp"))
        self.dir.chmod(0o755)
        self.cluster = LocalCluster(self.dir)
        self.cluster.up(2, mode="durable")
        self.proxy_url = self.cluster.url(None)
        self.partition_urls = {k: self.cluster.url(k) for k in range(2)}

    def close(self) -> None:
        try:
            self.cluster.down()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    async def reset(self) -> None:
        """Every node back to a fresh cluster's state (ids keep counting: a partition's
        sequences keep their residue)."""
        for k, url in self.partition_urls.items():
            conn = await asyncpg.connect(url)
            try:
                await conn.execute("TRUNCATE " + ", ".join(f"booking.{t}" for t in TABLES) + " CASCADE")
                await conn.execute("DELETE FROM booking.shops WHERE id <> 1 OR $1 <> 0", k)
                await conn.execute(
                    "UPDATE booking.shops SET min_notice_minutes = 0, max_advance_days = NULL,"
                    " cancel_cutoff_minutes = 0, reschedule_cutoff_minutes = 0, hold_minutes = 5"
                )
            finally:
                await conn.close()
        conn = await asyncpg.connect(self.proxy_url)
        try:
            await conn.execute("TRUNCATE booking.staff, booking.api_tokens")
            await conn.execute("DELETE FROM booking_proxy.shop_directory WHERE shop_id <> 1")
            await conn.execute("UPDATE booking_proxy.shop_directory SET partition = 0, moving = false")
            await conn.execute("DELETE FROM booking.shops WHERE id <> 1")
        finally:
            await conn.close()


async def cluster_engine(cluster: ClusterUnderTest, rows: asyncpg.Pool) -> Engine:
    """A fresh shop on partition 1, made through the proxy."""
    proxy = await asyncpg.connect(cluster.proxy_url)
    try:
        shop_id = await proxy.fetchval("SELECT id FROM booking.create_shop('Test shop', 'UTC')")
        partition = await proxy.fetchval(
            "SELECT partition FROM booking_proxy.shop_directory WHERE shop_id = $1", shop_id
        )
    finally:
        await proxy.close()
    assert partition == 1, partition

    async def make_barber(name: str = "Barber", timezone_name: str = "UTC", hours: list[tuple] | None = None) -> int:
        conn = await asyncpg.connect(cluster.proxy_url)
        try:
            barber_id = await conn.fetchval(
                "SELECT id FROM booking.create_barber($1, $2, $3)", shop_id, name, timezone_name
            )
            if hours:
                await conn.execute(
                    "SELECT count(*) FROM booking.set_working_hours($1, $2::jsonb)",
                    barber_id,
                    json.dumps([{"weekday": d, "opens_at": str(o), "closes_at": str(c)} for d, o, c in hours]),
                )
        finally:
            await conn.close()
        return barber_id

    async def make_service(name: str = "Haircut", duration_minutes: int = 30, price_cents: int = 2500) -> str:
        conn = await asyncpg.connect(cluster.proxy_url)
        try:
            await conn.execute(
                "SELECT id FROM booking.create_service($1, $2, $3, $4)", shop_id, name, duration_minutes, price_cents
            )
        finally:
            await conn.close()
        return name

    return Engine("cluster", cluster.proxy_url, cluster.partition_urls[1], rows, make_barber, make_service)
