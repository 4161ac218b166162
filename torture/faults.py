"""The torture run's fault injector: it kills sessions, crashes and restarts the server, opens
windows of tiny lock timeouts and starts slow clients that hold a slot's locks open.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import time

import asyncpg

from harness.cluster import Cluster
from torture.workload import Record, Workload


async def kill_sessions(url: str) -> int:
    """Terminates two random client sessions of the database at `url` (the fault "kill" of
    every torture mode); how many it terminated. Connection and query errors are raised."""
    conn = await asyncpg.connect(url, timeout=2)
    try:
        return await conn.fetchval(
            """SELECT count(*) FROM (
                   SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND backend_type = 'client backend'
                   ORDER BY random() LIMIT 2) t"""
        )
    finally:
        conn.terminate()


async def inject_faults(
    cluster: Cluster,
    url: str,
    work: Workload,
    rng: random.Random,
    deadline: float,
    record: Record,
    restarts: bool,
) -> None:
    """Until 2 s before `deadline`, one random fault every 0.5 to 2 s, counted in record.faults
    (crash-restarts only when `restarts`); afterwards the server runs and the slow clients are done."""
    slow_tasks = []
    while time.monotonic() < deadline - 2:
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        fault = rng.choice(["kill", "kill", "lock_timeout", "slow_client"] + (["restart"] if restarts else []))
        try:
            if fault == "kill":
                record.faults["kills"] += await kill_sessions(url)
            elif fault == "restart":
                await asyncio.to_thread(cluster.crash)
                await asyncio.sleep(0.3)
                await asyncio.to_thread(cluster.start)
                record.faults["restarts"] += 1
            elif fault == "lock_timeout":
                work.low_lock_timeout_until = time.monotonic() + 1.0
                record.faults["lock_timeouts"] += 1
            else:
                slow_tasks.append(asyncio.create_task(work.slow_client()))
                record.faults["slow_clients"] += 1
        except (TimeoutError, OSError, asyncpg.PostgresError, subprocess.CalledProcessError):
            await asyncio.to_thread(cluster.start)  # whatever happened, make sure it runs again
    await asyncio.gather(*slow_tasks, return_exceptions=True)


class PartitionFaults:
    """The faults of a run through a cluster's proxy (app.cluster.LocalCluster `cluster`):
    sessions killed on a partition or on the proxy, lock-timeout windows and slow clients
    (run()), one partition crashed and restarted at a time, a different one each time
    (crashes()), and one shop moved to another partition under the load (move()). A crash
    and the move never overlap (a move interrupted in its last step leaves rows behind on
    purpose, docs/SCALING.md; that is not what this run tests)."""

    def __init__(self, cluster, partitions: int, work: Workload, rng: random.Random, deadline: float, record: Record):
        from harness.cluster import LocalCluster as Server

        self.cluster = cluster
        self.partitions = partitions
        self.servers = {k: Server(cluster.datadir(k), "durable") for k in range(partitions)}
        self.urls = {k: cluster.url(k) for k in range(partitions)}
        self.proxy_url = cluster.url(None)
        self.work = work
        self.rng = rng
        self.deadline = deadline
        self.record = record
        self.order = list(range(partitions))
        rng.shuffle(self.order)
        self.crashed = 0  # crashes so far: the next one takes order[crashed % partitions]
        self.exclusive = asyncio.Lock()  # a crash or the move, never both
        record.faults.update({"partition_crashes": 0, "moves": 0})

    async def run(self, *, crashes: bool = True, move_at: float | None = None, shops: list[int] = ()) -> None:
        tasks = [asyncio.create_task(self.small_faults())]
        if crashes:
            tasks.append(asyncio.create_task(self.crashes()))
        if move_at is not None and shops:
            tasks.append(asyncio.create_task(self.move(move_at, shops)))
        await asyncio.gather(*tasks)

    async def small_faults(self) -> None:
        """Until 2 s before the deadline, one fault every 0.5 to 2 s."""
        slow_tasks = []
        while time.monotonic() < self.deadline - 2:
            await asyncio.sleep(self.rng.uniform(0.5, 2.0))
            fault = self.rng.choice(["kill", "kill", "lock_timeout", "slow_client"])
            if fault == "kill":
                # A partition's sessions are the proxy's (PL/Proxy) and the service's
                # (relay, LISTEN); the proxy's are the clients'.
                where = self.rng.choice([*range(self.partitions), None])
                url = self.proxy_url if where is None else self.urls[where]
                try:
                    self.record.faults["kills"] += await kill_sessions(url)
                except (TimeoutError, OSError, asyncpg.PostgresError):
                    continue  # that partition is down just now
            elif fault == "lock_timeout":
                self.work.low_lock_timeout_until = time.monotonic() + 1.0
                self.record.faults["lock_timeouts"] += 1
            else:
                slow_tasks.append(asyncio.create_task(self.work.slow_client()))
                self.record.faults["slow_clients"] += 1
        await asyncio.gather(*slow_tasks, return_exceptions=True)

    async def crash_one(self, down_for: float) -> int:
        """Crashes the next partition (no checkpoint), waits `down_for` s, starts it again."""
        k = self.order[self.crashed % self.partitions]
        self.crashed += 1
        async with self.exclusive:
            await asyncio.to_thread(self.servers[k].crash)
            self.record.faults["partition_crashes"] += 1
            await asyncio.sleep(down_for)
            await self.restart(k)
        return k

    async def restart(self, k: int) -> None:
        for attempt in range(5):
            try:
                await asyncio.to_thread(self.servers[k].start)
                return
            except subprocess.CalledProcessError:
                if attempt == 4:
                    raise
                await asyncio.sleep(1)

    async def crashes(self) -> None:
        """A crash every 3 to 6 s, down for 1.5 to 3.5 s, until 4 s before the deadline."""
        while True:
            await asyncio.sleep(self.rng.uniform(3.0, 6.0))
            down_for = self.rng.uniform(1.5, 3.5)
            if time.monotonic() + down_for > self.deadline - 4:
                return
            await self.crash_one(down_for)

    async def move(self, at: float, shops: list[int]) -> None:
        """At `at` (monotonic), one shop of `shops` to another partition, under the load."""
        from app.moves import move_shop

        await asyncio.sleep(max(0.0, at - time.monotonic()))
        shop = self.rng.choice(shops)
        async with self.exclusive:
            conn = await asyncpg.connect(self.proxy_url, timeout=5)
            try:
                source = await conn.fetchval(
                    "SELECT partition FROM booking_proxy.shop_directory WHERE shop_id = $1", shop
                )
            finally:
                await conn.close()
            target = (source + 1 + self.rng.randrange(self.partitions - 1)) % self.partitions
            # A move whose session the small faults terminate (pg_terminate_backend) fails and
            # rolls back (the directory still names the source): it is tried again, as an
            # operator would; a move is re-runnable (leftovers on the target are cleared).
            for attempt in range(3):
                started = time.monotonic()
                try:
                    moved = await asyncio.to_thread(move_shop, self.proxy_url, shop, target, self.urls)
                    break
                except Exception as e:  # noqa: BLE001 - reported, the checker then judges the rows
                    self.record.notes.append(f"move of shop {shop} to partition {target} failed: {e!r}")
                    self.record.faults["move_failures"] = self.record.faults.get("move_failures", 0) + 1
                    conn = await asyncpg.connect(self.proxy_url, timeout=5)
                    try:
                        where = await conn.fetchval(
                            "SELECT partition FROM booking_proxy.shop_directory WHERE shop_id = $1", shop
                        )
                    finally:
                        await conn.close()
                    if attempt == 2 or where != source:  # tried enough, or failed after the directory moved
                        return
            self.record.faults["moves"] += 1
            self.record.notes.append(
                f"moved shop {shop}: partition {moved.source} -> {moved.target}, {moved.rows} rows, "
                f"{time.monotonic() - started:.2f}s under load"
            )
