"""A Jepsen-style workload with fault injection, and a checker of the product's promises.

    python -m torture.runner --duration 180 [--workers 12] [--seed 7]

Starts its own durable PostgreSQL (harness.cluster: it must be able to crash and restart it),
runs concurrent clients that book, reschedule, cancel and change statuses through the SQL
functions with idempotency keys and client-side retries (torture.workload), while a fault
injector (torture.faults) kills sessions, crashes and restarts the server, forces lock timeouts
and holds slots open from slow clients. Every request and its acknowledged outcome is recorded;
afterwards torture.checker verifies the database against them and this prints one summary line.
Exit status 1 on any violation. Only the server it started is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

from harness import ROOT
from harness.cluster import Cluster, start_postgres
from harness.service import ServiceProcess
from torture.checker import check
from torture.faults import inject_faults
from torture.http_clients import HttpWorkload
from torture.workload import BARBERS, CLIENT_USERS, STAFF_USER, Record, Workload


def health_trail(statuses: list[int]) -> str:
    """The /health statuses seen, in order, repeats folded: 200>(503>200)x28."""
    if not statuses:
        return "never answered"
    head, rest = str(statuses[0]), [str(s) for s in statuses[1:]]
    pairs = [">".join(rest[i : i + 2]) for i in range(0, len(rest), 2)]
    out = [head]
    i = 0
    while i < len(pairs):
        j = i
        while j + 1 < len(pairs) and pairs[j + 1] == pairs[i]:
            j += 1
        n = j - i + 1
        out.append(f"({pairs[i]})x{n}" if n > 1 else pairs[i])
        i = j + 1
    return ">".join(out)


async def seed(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """INSERT INTO booking.barbers (name, timezone)
               SELECT 'Barber ' || g, (ARRAY['UTC', 'Europe/London', 'America/New_York', 'Asia/Tokyo'])[1 + g % 4]
               FROM generate_series(1, $1) g""",
            BARBERS,
        )
        await conn.execute(
            """INSERT INTO booking.services (name, duration_minutes) VALUES
               ('Haircut', 30), ('Beard Trim', 15), ('Long Cut', 60)"""
        )
        await conn.execute("INSERT INTO booking.staff (user_id, role) VALUES ($1, 'admin')", STAFF_USER)
    finally:
        await conn.close()


async def run(args, cluster: Cluster, url: str) -> int:
    """The load, the faults and the check on database `url` of `cluster`: 0 when no promise was broken."""
    rng = random.Random(args.seed)
    await seed(url)

    record = Record()
    service = ServiceProcess(url, users=CLIENT_USERS[:8]) if args.http_workers else None
    if service:
        await asyncio.to_thread(service.start)
    try:
        deadline = time.monotonic() + args.duration
        work = Workload(url, record, rng, deadline)
        tasks = [asyncio.create_task(work.client()) for _ in range(args.workers)]
        http = HttpWorkload(service, work, record, rng, deadline) if service else None
        if http:
            tasks += [asyncio.create_task(http.client()) for _ in range(args.http_workers)]
            tasks.append(asyncio.create_task(http.watch_health()))
        tasks.append(
            asyncio.create_task(inject_faults(cluster, url, work, rng, deadline, record, not args.no_restarts))
        )
        await asyncio.gather(*tasks)

        # After the last crash: the server must come back with everything acknowledged,
        # and the service must find it again by itself.
        cluster.crash()
        cluster.start()
        record.faults["restarts"] += 1
        result = await check(url, record)
        if http and not await http.healthy_again():
            result.unrecovered = 1
            result.details.append("the service did not answer /health with 200 after the last restart")
    finally:
        if service:
            service.stop()
    f = record.faults
    print(
        f"torture: {record.ops} ops, {sum(f.values())} faults ({f['kills']} kills, {f['restarts']} restarts, "
        f"{f['lock_timeouts']} lock-timeout windows, {f['slow_clients']} slow clients), "
        f"{result.overlaps} overlaps, {result.lost_acks} lost acks, {result.duplicate_keys} duplicate keys, "
        f"{result.lost_updates} lost updates, {result.undocumented_errors} undocumented errors"
        + (
            f", health {health_trail(http.health)} then {'200' if not result.unrecovered else 'never 200'}"
            if http
            else ""
        )
    )
    if args.verbose or not result.ok:
        print(
            f"torture: errors seen {dict(sorted(record.errors.items()))}; "
            f"{record.unknown_outcomes} calls with unknown outcome; "
            f"{len(record.acked_books)} bookings and {len(record.acked_changes)} changes acknowledged"
        )
        for line in result.details[:20]:
            print(f"torture: {line}")
        if service and any(k.startswith("http_5") and k != "http_503" for k in record.errors):
            print("torture: the service's log ends with:\n" + service.log_tail())
    return 0 if result.ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m torture.runner", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=float(os.environ.get("TORTURE_DURATION", "180")),
        help="seconds of load (default 180, or $TORTURE_DURATION)",
    )
    parser.add_argument("--workers", type=int, default=12, help="clients calling the SQL functions")
    parser.add_argument("--http-workers", type=int, default=4, help="clients of the HTTP service (0: none)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("TORTURE_SEED", "1")))
    parser.add_argument("--no-restarts", action="store_true", help="no crash-restarts during the load")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="booking-torture."))
    workdir.chmod(0o755)  # the postgres user must reach the data directory
    cluster = None
    try:
        cluster = start_postgres(workdir / "data", "durable")
        print(f"torture: PostgreSQL: {cluster.describe()}", file=sys.stderr)
        url = cluster.create_database("torture")
        subprocess.run(
            [sys.executable, "-m", "app", "migrate"],
            check=True,
            capture_output=True,
            env={**os.environ, "DATABASE_URL": url},
            cwd=ROOT,
        )
        status = asyncio.run(run(args, cluster, url))
    finally:
        if cluster:
            cluster.remove()
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
