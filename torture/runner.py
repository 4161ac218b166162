"""A Jepsen-style workload with fault injection, and a checker of the product's promises.

    python -m torture.runner --duration 180 [--workers 12] [--seed 7]

Starts its own durable PostgreSQL cluster (it must be able to crash and restart it), runs
concurrent clients that book, reschedule, cancel and change statuses through the SQL
functions with idempotency keys and client-side retries, while a fault injector kills
sessions, crashes and restarts the server, forces lock timeouts and holds slots open from
slow clients. Every request and its acknowledged outcome is recorded; afterwards
torture.checker verifies the database against them and this prints one summary line.
Exit status 1 on any violation. Only the local cluster's Unix socket is ever contacted.
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
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg

from torture.checker import check
from torture.http_clients import HttpWorkload, Service

ROOT = Path(__file__).resolve().parent.parent
PG = str(ROOT / "scripts" / "pg.sh")
BARBERS = 4
STAFF_USER = 9_000          # an admin: may confirm, complete, mark no-show
CLIENT_USERS = range(1, 41)

# What a client may legitimately see: the catalogue, plus what a crash or a kill causes.
TRANSIENT = {"40001", "40P01", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001"}


@dataclass
class Record:
    """Everything the clients were told, for the checker."""

    acked_books: dict[int, dict] = field(default_factory=dict)        # id -> row as acknowledged
    acked_changes: list[dict] = field(default_factory=list)           # {id, version, status}
    key_results: dict[str, set[int]] = field(default_factory=dict)    # idempotency key -> ids returned
    errors: dict[str, int] = field(default_factory=dict)              # sqlstate -> count
    unknown_outcomes: int = 0                                         # connection lost mid-call
    ops: int = 0
    faults: dict[str, int] = field(default_factory=lambda: {"kills": 0, "restarts": 0, "lock_timeouts": 0,
                                                            "slow_clients": 0})


class Cluster:
    def __init__(self, datadir: Path):
        self.datadir = datadir

    def run(self, *args: str) -> str:
        return subprocess.run([PG, *args], check=True, capture_output=True, text=True).stdout.strip()

    def start(self) -> None:
        self.run("start", str(self.datadir), "durable")

    def crash(self) -> None:
        self.run("crash", str(self.datadir))

    def stop(self) -> None:
        self.run("stop", str(self.datadir))

    def url(self, db: str) -> str:
        return self.run("url", str(self.datadir), db)


def day_base() -> datetime:
    tomorrow = datetime.now(timezone.utc).date() + timedelta(days=2)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=timezone.utc)


class Workload:
    def __init__(self, url: str, record: Record, rng: random.Random, deadline: float):
        self.url = url
        self.record = record
        self.rng = rng
        self.deadline = deadline
        self.base = day_base()
        self.low_lock_timeout_until = 0.0
        self.pending_retries: list[tuple] = []   # keyed requests whose outcome is unknown
        self.open_ids: list[int] = []            # acknowledged, not known to be final

    # -- helpers ---------------------------------------------------------------
    def slot(self) -> datetime:
        # Two days, 08:00-20:00 UTC, a 15-minute grid: dense enough for many conflicts.
        return self.base + timedelta(days=self.rng.randrange(2), minutes=8 * 60 + 15 * self.rng.randrange(48))

    def note_error(self, sqlstate: str) -> None:
        self.record.errors[sqlstate] = self.record.errors.get(sqlstate, 0) + 1

    async def connect(self) -> asyncpg.Connection | None:
        while time.monotonic() < self.deadline + 30:
            try:
                return await asyncpg.connect(self.url, timeout=2)
            except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
                await asyncio.sleep(0.2)
        return None

    async def call(self, conn, query: str, *args, retries: int = 3):
        """One function call in its own transaction, retried on transient errors."""
        for attempt in range(retries + 1):
            try:
                async with conn.transaction():
                    if time.monotonic() < self.low_lock_timeout_until:
                        await conn.execute("SET LOCAL booking.lock_timeout = '5ms'")
                    return await conn.fetchrow(query, *args)
            except asyncpg.PostgresError as e:
                state = getattr(e, "sqlstate", None) or "XX000"
                if state in ("40001", "40P01") and attempt < retries:
                    self.note_error(state)
                    await asyncio.sleep(0.01 * 2 ** attempt * (1 + self.rng.random()))
                    continue
                raise

    # -- operations ------------------------------------------------------------
    async def book(self, conn, request: tuple | None = None) -> None:
        if request is None:
            key = f"k-{uuid.uuid4()}" if self.rng.random() < 0.5 else None
            request = (self.rng.randrange(1, BARBERS + 1), self.rng.choice(CLIENT_USERS),
                       self.rng.choice(["Haircut", "Beard Trim", "Long Cut"]), self.slot(),
                       self.rng.choice([0, 0, 5, 15]), self.rng.choice([0, 0, 5, 15]), key)
        barber, user, service, start, before, after, key = request
        try:
            row = await self.call(
                conn,
                "SELECT id, version, replayed FROM booking.book_appointment($1, $2, $3, $4, $5, $6, NULL, $7)",
                barber, user, service, start, before, after, key)
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.InternalClientError,
                OSError, asyncio.TimeoutError):
            self.record.unknown_outcomes += 1
            if key:
                self.pending_retries.append(request)   # a client would retry with its key
            raise
        if key:
            self.record.key_results.setdefault(key, set()).add(row["id"])
        if not row["replayed"]:
            self.record.acked_books[row["id"]] = {"id": row["id"], "barber_id": barber, "user_id": user,
                                                  "version": row["version"]}
            self.open_ids.append(row["id"])

    def pick_appointment(self) -> dict | None:
        # Mostly appointments still open to change; sometimes any (final ones must refuse).
        pool = self.open_ids if self.open_ids and self.rng.random() < 0.9 else list(self.record.acked_books)
        if not pool:
            return None
        return self.record.acked_books[self.rng.choice(pool)]

    def note_change(self, row) -> None:
        self.record.acked_changes.append({"id": row["id"], "version": row["version"], "status": row["status"]})
        if row["status"] in ("completed", "cancelled", "no_show") and row["id"] in self.open_ids:
            self.open_ids.remove(row["id"])

    async def reschedule(self, conn) -> None:
        appt = self.pick_appointment()
        if appt is None:
            return
        changes = {"start_time": self.slot().isoformat()}
        if self.rng.random() < 0.3:
            changes["barber_id"] = self.rng.randrange(1, BARBERS + 1)
        await self.change(conn, "SELECT id, version, status FROM booking.update_appointment($1, $2, $3::jsonb, $4)",
                          appt, changes_json(changes))

    async def cancel(self, conn) -> None:
        appt = self.pick_appointment()
        if appt is None:
            return
        await self.change(conn, "SELECT id, version, status FROM booking.cancel_appointment($1, $2, $3)", appt, None)

    async def set_status(self, conn) -> None:
        appt = self.pick_appointment()
        if appt is None:
            return
        status = self.rng.choice(["confirmed", "completed", "no_show"])
        row = await self.call(conn, "SELECT id, version, status FROM booking.update_appointment($1, $2, $3::jsonb)",
                              appt["id"], STAFF_USER, changes_json({"status": status}))
        self.note_change(row)

    async def change(self, conn, query: str, appt: dict, changes: str | None) -> None:
        # Half the changes are conditional on a version read just before (optimistic).
        expected = None
        if self.rng.random() < 0.5:
            expected = await conn.fetchval("SELECT version FROM booking.appointments WHERE id = $1", appt["id"])
        args = (appt["id"], appt["user_id"]) + ((changes,) if changes is not None else ()) + (expected,)
        row = await self.call(conn, query, *args)
        self.note_change(row)

    # -- clients -----------------------------------------------------------------
    async def client(self) -> None:
        conn = await self.connect()
        while conn is not None and time.monotonic() < self.deadline:
            self.record.ops += 1
            roll = self.rng.random()
            try:
                if self.pending_retries and roll < 0.1:
                    await self.book(conn, self.pending_retries.pop())
                elif roll < 0.55:
                    await self.book(conn)
                elif roll < 0.75:
                    await self.reschedule(conn)
                elif roll < 0.9:
                    await self.cancel(conn)
                else:
                    await self.set_status(conn)
            except asyncpg.PostgresError as e:
                state = getattr(e, "sqlstate", None) or "XX000"
                self.note_error(state)
                if state in TRANSIENT or state.startswith("08") or state.startswith("57"):
                    await self.reconnect(conn)
                    conn = await self.connect()
            except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.InternalClientError,
                    OSError, asyncio.TimeoutError):
                self.note_error("connection_lost")
                await self.reconnect(conn)
                conn = await self.connect()
        if conn is not None:
            await self.reconnect(conn)

    @staticmethod
    async def reconnect(conn) -> None:
        try:
            await asyncio.wait_for(conn.close(), 1)
        except Exception:
            conn.terminate()

    async def slow_client(self) -> None:
        """Holds a booking's locks open for a while, then commits or rolls back."""
        conn = await self.connect()
        if conn is None:
            return
        try:
            tr = conn.transaction()
            await tr.start()
            barber, user = self.rng.randrange(1, BARBERS + 1), self.rng.choice(CLIENT_USERS)
            row = await conn.fetchrow(
                "SELECT id, version FROM booking.book_appointment($1, $2, 'Haircut', $3)", barber, user, self.slot())
            await asyncio.sleep(self.rng.uniform(0.5, 1.5))
            if self.rng.random() < 0.5:
                await tr.commit()
                self.record.acked_books[row["id"]] = {"id": row["id"], "barber_id": barber,
                                                      "user_id": user, "version": row["version"]}
            else:
                await tr.rollback()
        except asyncpg.PostgresError as e:
            self.note_error(getattr(e, "sqlstate", None) or "XX000")
        except (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError, asyncio.TimeoutError):
            self.note_error("connection_lost")
        finally:
            await self.reconnect(conn)


def changes_json(changes: dict) -> str:
    import json

    return json.dumps(changes)



def health_trail(statuses: list[int]) -> str:
    """The /health statuses seen, in order, repeats folded: 200>(503>200)x28."""
    if not statuses:
        return "never answered"
    head, rest = str(statuses[0]), [str(s) for s in statuses[1:]]
    pairs = [">".join(rest[i:i + 2]) for i in range(0, len(rest), 2)]
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

async def inject_faults(cluster: Cluster, url: str, work: Workload, rng: random.Random, deadline: float,
                        record: Record, restarts: bool) -> None:
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
                               ORDER BY random() LIMIT 2) t""")
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
        except (OSError, asyncpg.PostgresError, asyncio.TimeoutError, subprocess.CalledProcessError):
            await asyncio.to_thread(cluster.start)   # whatever happened, make sure it runs again
    await asyncio.gather(*slow_tasks, return_exceptions=True)


async def seed(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """INSERT INTO booking.barbers (name, timezone)
               SELECT 'Barber ' || g, (ARRAY['UTC', 'Europe/London', 'America/New_York', 'Asia/Tokyo'])[1 + g % 4]
               FROM generate_series(1, $1) g""", BARBERS)
        await conn.execute(
            """INSERT INTO booking.services (name, duration_minutes) VALUES
               ('Haircut', 30), ('Beard Trim', 15), ('Long Cut', 60)""")
        await conn.execute("INSERT INTO booking.staff (user_id, role) VALUES ($1, 'admin')", STAFF_USER)
    finally:
        await conn.close()


async def run(args) -> int:
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="booking-torture."))
    os.chmod(workdir, 0o755)
    cluster = Cluster(workdir / "data")
    try:
        cluster.start()
        subprocess.run(["psql", "-qX", cluster.url("postgres"), "-c", "CREATE DATABASE torture"],
                       check=True, capture_output=True)
        url = cluster.url("torture")
        subprocess.run([sys.executable, "-m", "app", "migrate"], check=True, capture_output=True,
                       env={**os.environ, "DATABASE_URL": url}, cwd=ROOT)
        await seed(url)

        record = Record()
        service = Service(url, CLIENT_USERS[:8]) if args.http_workers else None
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
            tasks.append(asyncio.create_task(
                inject_faults(cluster, url, work, rng, deadline, record, not args.no_restarts)))
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
        print(f"torture: {record.ops} ops, {sum(f.values())} faults ({f['kills']} kills, {f['restarts']} restarts, "
              f"{f['lock_timeouts']} lock-timeout windows, {f['slow_clients']} slow clients), "
              f"{result.overlaps} overlaps, {result.lost_acks} lost acks, {result.duplicate_keys} duplicate keys, "
              f"{result.lost_updates} lost updates, {result.undocumented_errors} undocumented errors"
              + (f", health {health_trail(http.health)} then {'200' if not result.unrecovered else 'never 200'}"
                 if http else ""))
        if args.verbose or not result.ok:
            print(f"torture: errors seen {dict(sorted(record.errors.items()))}; "
                  f"{record.unknown_outcomes} calls with unknown outcome; "
                  f"{len(record.acked_books)} bookings and {len(record.acked_changes)} changes acknowledged")
            for line in result.details[:20]:
                print(f"torture: {line}")
            if service and any(k.startswith("http_5") and k != "http_503" for k in record.errors):
                print("torture: the service's log ends with:\n" + service.log_tail())
        return 0 if result.ok else 1
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m torture.runner", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=float(os.environ.get("TORTURE_DURATION", 180)),
                        help="seconds of load (default 180, or $TORTURE_DURATION)")
    parser.add_argument("--workers", type=int, default=12, help="clients calling the SQL functions")
    parser.add_argument("--http-workers", type=int, default=4, help="clients of the HTTP service (0: none)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("TORTURE_SEED", 1)))
    parser.add_argument("--no-restarts", action="store_true", help="no crash-restarts during the load")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
