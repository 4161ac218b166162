"""A Jepsen-style workload with fault injection, and a checker of the product's promises.

    python -m torture.runner --duration 180 [--workers 12] [--seed 7]

Starts its own durable PostgreSQL (harness.cluster: it must be able to crash and restart it),
runs concurrent clients that book, reschedule, cancel and change statuses through the SQL
functions with idempotency keys and client-side retries (torture.workload), while a fault
injector (torture.faults) kills sessions, crashes and restarts the server, forces lock timeouts
and holds slots open from slow clients. Every request and its acknowledged outcome is recorded;
afterwards torture.checker verifies the database against them and this prints one summary line.
Exit status 1 on any violation. Only the server it started is ever contacted. It also draws the
run's timeline (torture.timeline: operations and errors per second by kind, the faults marked)
into test-output/torture-timeline.svg, or --timeline PATH, and prints its path.

    python -m torture.runner --partitions 4 --duration 120

does the same through a cluster (app.cluster.LocalCluster: a PL/Proxy proxy and N partition
servers, durable, in a temporary directory): shops spread over the partitions (two per
partition, shop 1 included), each with barbers and services, made through the proxy; SQL
clients call the functions through the proxy and the HTTP clients use a service whose
DATABASE_URL is the proxy. Faults: sessions killed on partitions and on the proxy, lock-timeout
windows, slow clients, one partition at a time crashed and restarted a few seconds later (a
different one each time) and one shop moved to another partition under the load. Clients
retry BK015 shop_moving and (with their idempotency key) BK016 partition_unavailable. The
checker reads every partition directly (torture.checker.check_cluster): also that every
shop's rows are on the one partition the directory names. The cluster is stopped and deleted
at the end, whatever happened.
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

from app.config import Settings
from app.webhooks import WebhookWorker
from harness import ROOT
from harness.cluster import Cluster, start_postgres
from harness.receiver import WebhookReceiver
from harness.service import ServiceProcess
from torture import webhooks
from torture.checker import check, check_cluster
from torture.faults import PartitionFaults, inject_faults
from torture.http_clients import HttpWorkload
from torture.timeline import DEFAULT as TIMELINE
from torture.timeline import Timeline
from torture.workload import BARBERS, CLIENT_USERS, STAFF_USER, Record, Workload

TIMEZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Tokyo"]
SERVICES = [("Haircut", 30), ("Beard Trim", 15), ("Long Cut", 60)]


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


def holds_line(record: Record) -> str:
    h = record.holds
    return (
        f"{h['taken']} holds ({h['confirmed']} confirmed, {h['abandoned']} abandoned, {h['expired']} expired "
        f"before confirm), {record.series} series of 3, {record.errors.get('BK023', 0)} policy refusals"
    )


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
        await conn.execute("SELECT booking.set_hold_minutes(1, 1)")  # abandoned holds expire within the run
        # A booking policy that refuses about half the clients' moves and cancellations (the
        # slots lie 2 to 4 days ahead): BK023 is a documented answer; staff changes pass.
        await conn.execute("SELECT booking.set_shop_policy(1, 0, NULL, 4320, 4320)")
    finally:
        await conn.close()


async def run(args, cluster: Cluster, url: str) -> int:
    """The load, the faults and the check on database `url` of `cluster`: 0 when no promise was broken."""
    rng = random.Random(args.seed)
    await seed(url)
    receiver = WebhookReceiver().start()  # shop 1's webhook receiver (torture/webhooks.py)
    await webhooks.subscribe(url, receiver)
    hooks = webhooks.WebhookResult()

    record = Record()
    service = ServiceProcess(url, users=CLIENT_USERS[:8], env=webhooks.SERVICE_ENV) if args.http_workers else None
    if service:
        await asyncio.to_thread(service.start)
    worker = None
    if not service:  # the service delivers webhooks; without one, a worker in this process
        worker = WebhookWorker(Settings.from_env(database_url=url, **webhooks.WORKER_SETTINGS))
        await worker.start()
    try:
        deadline = time.monotonic() + args.duration
        work = Workload(url, record, rng, deadline)
        tasks = [asyncio.create_task(work.client()) for _ in range(args.workers)]
        http = HttpWorkload(service, work, record, rng, deadline) if service else None
        timeline = Timeline.attach(
            record, work, http, servers={"server": cluster}, start=deadline - args.duration, duration=args.duration
        )
        if http:
            tasks += [asyncio.create_task(http.client()) for _ in range(args.http_workers)]
            tasks.append(asyncio.create_task(http.watch_health()))
        tasks.append(
            asyncio.create_task(inject_faults(cluster, url, work, rng, deadline, record, not args.no_restarts))
        )
        tasks.append(asyncio.create_task(webhooks.misbehave(receiver, rng, deadline, hooks)))
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
        await webhooks.check(url, record, receiver, hooks)
        result.details.extend(hooks.details)
    finally:
        if worker:
            await worker.stop()
        if service:
            service.stop()
        receiver.stop()
    f = record.faults
    print(
        f"torture: {record.ops} ops, {sum(f.values())} faults ({f['kills']} kills, {f['restarts']} restarts, "
        f"{f['lock_timeouts']} lock-timeout windows, {f['slow_clients']} slow clients), "
        f"{result.overlaps} overlaps, {result.lost_acks} lost acks, {result.duplicate_keys} duplicate keys, "
        f"{result.lost_updates} lost updates, {result.undocumented_errors} undocumented errors, "
        f"{holds_line(record)}, {hooks.line()}"
        + (
            f", health {health_trail(http.health)} then {'200' if not result.unrecovered else 'never 200'}"
            if http
            else ""
        )
    )
    if args.verbose or not result.ok or not hooks.ok:
        print(
            f"torture: errors seen {dict(sorted(record.errors.items()))}; "
            f"{record.unknown_outcomes} calls with unknown outcome; "
            f"{len(record.acked_books)} bookings and {len(record.acked_changes)} changes acknowledged"
        )
        for line in result.details[:20]:
            print(f"torture: {line}")
        if service and any(k.startswith("http_5") and k != "http_503" for k in record.errors):
            print("torture: the service's log ends with:\n" + service.log_tail())
    write_timeline(timeline, args)
    return 0 if result.ok and hooks.ok else 1


def write_timeline(timeline: Timeline, args) -> None:
    """The run's timeline figure (torture.timeline) at --timeline, and its path printed."""
    title = f"python -m torture.runner --duration {args.duration:g}" + (
        f" --partitions {args.partitions}" if args.partitions else ""
    )
    title += f" (seed {args.seed}, {args.workers} SQL + {args.http_workers} HTTP clients)"
    if path := timeline.write(args.timeline, title):
        print(f"torture: timeline {path}")


async def seed_cluster(proxy_url: str, partitions: int, barbers_per_shop: int = 2) -> tuple[list[int], list[int]]:
    """Through the proxy, as a client of the cluster would: 2 shops per partition (shop 1, the
    default, is one of partition 0's), each with barbers and the three services; STAFF_USER an
    admin of every shop (an admin token: its role is recorded on every partition). Returns
    (shops, barbers)."""
    conn = await asyncpg.connect(proxy_url)
    try:
        shops = [1]
        for i in range(2 * partitions - 1):
            shops.append(await conn.fetchval("SELECT id FROM booking.create_shop($1, 'UTC')", f"Torture shop {i + 2}"))
        barbers = []
        for n, shop in enumerate(shops):
            for b in range(barbers_per_shop):
                barbers.append(
                    await conn.fetchval(
                        "SELECT id FROM booking.create_barber($1, $2, $3)",
                        shop,
                        f"Barber {shop}.{b + 1}",
                        TIMEZONES[(n * barbers_per_shop + b) % len(TIMEZONES)],
                    )
                )
            for name, minutes in SERVICES:
                await conn.execute("SELECT id FROM booking.create_service($1, $2, $3, 2500)", shop, name, minutes)
            await conn.execute("SELECT booking.set_hold_minutes($1, 1)", shop)  # holds expire within the run
            await conn.execute("SELECT booking.set_shop_policy($1, 0, NULL, 4320, 4320)", shop)  # see seed()
        await conn.execute(
            "SELECT booking.create_api_token(sha256($1::bytea), $2, 'admin')", os.urandom(16), STAFF_USER
        )
        placed = await conn.fetch("SELECT partition, count(*) AS n FROM booking_proxy.shop_directory GROUP BY 1")
        if sorted(r["partition"] for r in placed) != list(range(partitions)):
            raise RuntimeError(f"the shops are not on every partition: {[tuple(r) for r in placed]}")
    finally:
        await conn.close()
    return shops, barbers


async def run_partitioned(args, cluster) -> int:
    """The load, the faults and the check through the proxy of `cluster` (app.cluster.LocalCluster)."""
    rng = random.Random(args.seed)
    proxy_url = cluster.url(None)
    partition_urls = {k: cluster.url(k) for k in range(args.partitions)}
    shops, barbers = await seed_cluster(proxy_url, args.partitions)

    record = Record()
    service = ServiceProcess(proxy_url, users=CLIENT_USERS[:8]) if args.http_workers else None
    if service:
        await asyncio.to_thread(service.start)
    try:
        started = time.monotonic()
        deadline = started + args.duration
        work = Workload(proxy_url, record, rng, deadline, barbers=barbers, proxied=True)
        faults = PartitionFaults(cluster, args.partitions, work, rng, deadline, record)
        tasks = [asyncio.create_task(work.client()) for _ in range(args.workers)]
        # /health stays 200 while a partition is down: its trail is the body's status
        # (ok, degraded) instead of the HTTP status.
        http = HttpWorkload(service, work, record, rng, deadline, health_status=True) if service else None
        servers = {f"partition {k}": server for k, server in faults.servers.items()}
        timeline = Timeline.attach(record, work, http, servers=servers, start=started, duration=args.duration)
        if http:
            tasks += [asyncio.create_task(http.client()) for _ in range(args.http_workers)]
            tasks.append(asyncio.create_task(http.watch_health()))
        tasks.append(
            asyncio.create_task(
                faults.run(
                    crashes=not args.no_restarts,
                    move_at=None if args.no_move or args.partitions < 2 else started + args.duration * 0.45,
                    shops=shops,
                )
            )
        )
        await asyncio.gather(*tasks)

        # After the last crash: the partition must come back with everything acknowledged,
        # and the service must find it again by itself.
        if not args.no_restarts:
            await faults.crash_one(1.0)
        result = await check_cluster(proxy_url, partition_urls, record)
        if http and not await http.healthy_again():
            result.unrecovered = 1
            result.details.append("the service did not answer /health with 200 after the last restart")
        if http:
            health = await http_health(service)
            if '"degraded"' in health:
                result.unrecovered = 1
                result.details.append(f"the service still reports a partition unavailable: {health}")
    finally:
        if service:
            service.stop()
    f = record.faults
    answers = record.partition_answers
    print(
        f"torture: {record.ops} ops, {args.partitions} partitions, {sum(f.values())} faults ({f['kills']} kills, "
        f"{f['partition_crashes']} partition crashes, {f['moves']} shop move{'' if f['moves'] == 1 else 's'}"
        + (f" ({f['move_failures']} failed)" if f.get("move_failures") else "")
        + f", {f['lock_timeouts']} lock-timeout windows, {f['slow_clients']} slow clients), "
        f"{result.overlaps} overlaps, {result.lost_acks} lost acks, {result.duplicate_keys} duplicate keys, "
        f"{result.lost_updates} lost updates, {result.undocumented_errors} undocumented errors, "
        f"{result.misplaced} misplaced rows, {answers['BK016']} BK016 partition_unavailable and "
        f"{answers['BK015']} BK015 shop_moving answers, {holds_line(record)}"
        + (
            f", health {health_trail(http.health)} then {'ok' if not result.unrecovered else 'never ok'}"
            if http
            else ""
        )
    )
    for note in record.notes:
        print(f"torture: {note}")
    if args.verbose or not result.ok:
        print(
            f"torture: errors seen {dict(sorted(record.errors.items()))}; "
            f"{record.unknown_outcomes} calls with unknown outcome; "
            f"{len(record.acked_books)} bookings and {len(record.acked_changes)} changes acknowledged; "
            f"{len(shops)} shops, {len(barbers)} barbers"
        )
        for line in result.details[:20]:
            print(f"torture: {line}")
        if service and any(k.startswith("http_5") and k != "http_503" for k in record.errors):
            print("torture: the service's log ends with:\n" + service.log_tail())
    write_timeline(timeline, args)
    return 0 if result.ok else 1


async def http_health(service: ServiceProcess) -> str:
    import httpx

    async with httpx.AsyncClient(base_url=service.base) as client:
        for _ in range(50):  # the service's LISTEN connection to the restarted partition: within 10 s
            try:
                text = (await client.get("/health", timeout=2)).text
            except httpx.HTTPError:
                text = ""
            if text and '"degraded"' not in text:
                return text
            await asyncio.sleep(0.2)
        return text


def main_partitioned(args) -> int:
    """A cluster of args.partitions in a temporary directory, the run, then the cluster stopped
    and deleted (also when starting it or the run failed)."""
    from app.cluster import LocalCluster
    from harness.cluster import LocalCluster as Server

    # Short and under /tmp: the postgres OS user must reach it, and Unix socket paths are short.
    workdir = Path(tempfile.mkdtemp(prefix="bktort-", dir="/tmp"))
    workdir.chmod(0o755)
    cluster = LocalCluster(workdir)
    try:
        # `python -m app cluster up`, its output kept for a failure (migrate prints a lot).
        proc = subprocess.run(
            [sys.executable, "-m", "app", "cluster", "up", "--dir", str(workdir), "--partitions", str(args.partitions)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        if proc.returncode:
            print(proc.stdout[-4000:] + proc.stderr[-4000:], file=sys.stderr)
            raise SystemExit(f"torture: `python -m app cluster up` failed with status {proc.returncode}")
        print(f"torture: cluster of {args.partitions} partitions in {workdir}", file=sys.stderr)
        return asyncio.run(run_partitioned(args, cluster))
    finally:
        for datadir in [cluster.datadir(None), *sorted(workdir.glob("partition-*"))]:
            if datadir.exists():
                try:
                    Server(datadir).stop()
                except subprocess.CalledProcessError as e:
                    print(f"torture: could not stop {datadir}: {e}", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)


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
    parser.add_argument(
        "--partitions",
        type=int,
        default=0,
        help="run through a cluster of N partitions (a power of two) behind a PL/Proxy proxy",
    )
    parser.add_argument("--no-move", action="store_true", help="with --partitions: no shop move during the load")
    parser.add_argument(
        "--ha",
        action="store_true",
        help="run over a replicated formation (app.ha: pg_auto_failover, a primary and a synchronous standby) "
        "whose primary is lost again and again (torture.ha)",
    )
    parser.add_argument(
        "--failover-timeout",
        type=int,
        default=10,
        help="with --ha: the formation's failover timeout in seconds (app.ha; 0: pg_auto_failover's defaults)",
    )
    parser.add_argument(
        "--min-failovers",
        type=int,
        help="with --ha: fewer failovers fail the run (default 5 for a run of 240 s or more, else 1)",
    )
    parser.add_argument(
        "--timeline",
        type=Path,
        default=TIMELINE,
        help="the SVG of operations and errors per second and the faults (torture.timeline; "
        "default test-output/torture-timeline.svg, its data next to it as .json)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if args.ha:
        from torture.ha import main_ha

        if args.min_failovers is None:
            args.min_failovers = 5 if args.duration >= 240 else 1
        sys.exit(main_ha(args))
    if args.partitions:
        if args.partitions < 1 or args.partitions & (args.partitions - 1):
            parser.error(f"--partitions must be a power of two, not {args.partitions}")
        sys.exit(main_partitioned(args))
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
