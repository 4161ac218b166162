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
                conn = await asyncpg.connect(url, timeout=2)
                try:
                    killed = await conn.fetchval(
                        """SELECT count(*) FROM (
                               SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                               WHERE datname = current_database() AND pid <> pg_backend_pid()
                                 AND backend_type = 'client backend'
                               ORDER BY random() LIMIT 2) t"""
                    )
                finally:
                    await conn.close()
                record.faults["kills"] += killed
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
