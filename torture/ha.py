"""`make torture HA=1` (`python -m torture.runner --ha`): the usual workload, through the
service and through SQL, over a replicated formation (app.ha: a pg_auto_failover monitor, a
primary and a synchronous standby, in a temporary directory) whose primary is lost again
and again.

Every client (the SQL clients, the HTTP service, the checker) connects with the multi-host
URL (`target_session_attrs=read-write`) and must find the new primary by itself. The
faults, one switch at a time, each once the formation is stable again (primary and
secondary, the standby streaming synchronously):

- **node loss** (a lost machine): SIGKILL to the primary's keeper and PostgreSQL (the
  node's whole process group); the monitor sees it silent, promotes the standby after its
  timeouts, and the runner then starts the node again (its disk survived), which rejoins
  as the standby (pg_rewind);
- **postmaster kill** (a process crash): SIGKILL to the primary's postmaster alone; its
  keeper restarts it in place within seconds, unless the monitor, told by the keeper that
  PostgreSQL is down, fails over first: either way is correct, both are counted.

Two node losses, then a postmaster kill, and again. Between switches the usual small
faults: sessions killed on the primary, lock-timeout windows, slow clients. A probe books
through the service every 0.1 s (a barber of its own, consecutive slots, one
Idempotency-Key per booking, retried with it): the time from a kill to the probe's first
201 afterwards is the switch's outage, and every failed attempt of any client between the
two (a 503, a lost connection) is counted for that switch.

After the load the checker reads the surviving primary (torture.checker.check, as usual),
then the standby, caught up, must hold the same appointments. The async windows (the
primary in wait_primary: synchronous_standby_names '') are read from the monitor's events,
and the appointments whose last write committed inside one are counted as each closes
(commit timestamps, from the formation's event before the window: a commit that waited for
a standby is acknowledged when the window opens): writes that, for that while, existed on
one server only.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx

from app.ha import HACluster, async_windows
from harness import ROOT
from harness.receiver import WebhookReceiver
from harness.service import ServiceProcess
from torture import webhooks
from torture.checker import check
from torture.faults import kill_sessions
from torture.http_clients import HttpWorkload
from torture.timeline import Timeline
from torture.workload import CLIENT_USERS, Record, Workload, day_base

DEFAULT_FAILOVER_TIMEOUT = 10  # seconds (app.ha --failover-timeout): a node loss fails over in about 20 s
PROBE_INTERVAL = 0.1
# What a client sees while the primary is away (every attempt counts, retried or not).
RETRYABLE = ("http_503", "http_connection_lost", "database_unavailable", "connection_lost", "57P01", "57P02", "57P03")


def retryable_errors(errors: dict[str, int]) -> int:
    return sum(n for code, n in errors.items() if code in RETRYABLE or code.startswith("08"))


class Node:
    """A data node as torture.timeline sees a server: crash() (it goes down) and start()."""

    def __init__(self, ha: HACluster, name: str):
        self.ha, self.name = ha, name

    def crash(self, *, machine: bool = True) -> None:
        if machine:
            self.ha.kill(self.name)
        else:
            self.ha.crash_postgres(self.name)

    def start(self) -> None:
        self.ha.start(self.name)


class HAFaults:
    def __init__(self, ha: HACluster, work: Workload, service: ServiceProcess, rng, deadline: float, record: Record):
        self.ha = ha
        self.url = ha.url()
        self.work = work
        self.service = service
        self.rng = rng
        self.deadline = deadline
        self.record = record
        self.nodes = {name: Node(ha, name) for name in ha.nodes}
        self.switching = False
        self.switches: list[dict] = []
        self.probe_oks: list[tuple[float, float]] = []  # the probe's 201s: (sent, answered), monotonic
        self.probe_barber: int | None = None
        self.async_writes = 0
        self.last_event = 0
        self.notes: list[str] = []
        record.faults.update({"node_losses": 0, "postmaster_kills": 0, "failovers": 0})

    async def run(self) -> None:
        await asyncio.gather(self.switches_loop(), self.small_faults(), self.probe())

    # --- the probe ------------------------------------------------------------------------
    async def probe(self) -> None:
        user = CLIENT_USERS[0]
        headers = {"Authorization": f"Bearer {self.service.tokens[user]}"}
        first = day_base() + timedelta(days=3)  # past the workload's two days
        k = 0
        async with httpx.AsyncClient(base_url=self.service.base, headers=headers) as client:
            while time.monotonic() < self.deadline:
                start = first + timedelta(minutes=15 * k)
                k += 1
                key = str(uuid.uuid4())
                body = {
                    "barber_id": self.probe_barber,
                    "service": "Beard Trim",
                    "booking_date": start.date().isoformat(),
                    "booking_time": start.strftime("%H:%M"),
                }
                while time.monotonic() < self.deadline + 30:
                    sent = time.monotonic()
                    try:
                        r = await client.post("/appointments", json=body, headers={"Idempotency-Key": key}, timeout=5)
                    except httpx.HTTPError:
                        self.note("http_connection_lost")
                        await asyncio.sleep(PROBE_INTERVAL)
                        continue
                    if r.status_code == 503:
                        self.note("http_503")
                        await asyncio.sleep(PROBE_INTERVAL)
                        continue
                    if r.status_code == 201:
                        appt = r.json()
                        self.probe_oks.append((sent, time.monotonic()))
                        self.record.key_results.setdefault(f"user:{user}:{key}", set()).add(appt["id"])
                        self.record.acked_books.setdefault(
                            appt["id"],
                            {"id": appt["id"], "barber_id": appt["barber_id"], "user_id": user, "version": 1},
                        )
                    else:  # never expected: a slot of its own
                        self.note(f"probe_{r.status_code}")
                        self.notes.append(f"probe booking answered {r.status_code}: {r.text[:200]}")
                    break
                await asyncio.sleep(PROBE_INTERVAL)

    def note(self, code: str) -> None:
        self.record.errors[code] = self.record.errors.get(code, 0) + 1

    # --- small faults ---------------------------------------------------------------------
    async def small_faults(self) -> None:
        slow = []
        while time.monotonic() < self.deadline - 2:
            await asyncio.sleep(self.rng.uniform(0.5, 2.0))
            if self.switching:
                continue
            fault = self.rng.choice(["kill", "kill", "lock_timeout", "slow_client"])
            if fault == "kill":
                try:
                    self.record.faults["kills"] += await kill_sessions(self.url)
                except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    continue  # the primary is changing just now
            elif fault == "lock_timeout":
                self.work.low_lock_timeout_until = time.monotonic() + 1.0
                self.record.faults["lock_timeouts"] += 1
            else:
                slow.append(asyncio.create_task(self.work.slow_client()))
                self.record.faults["slow_clients"] += 1
        await asyncio.gather(*slow, return_exceptions=True)

    # --- the switches -----------------------------------------------------------------------
    async def switches_loop(self) -> None:
        kinds = ["node_loss", "node_loss", "postmaster_kill"]
        n = 0
        while True:
            try:
                await asyncio.to_thread(self.ha.wait_stable, 120)
            except Exception as e:  # noqa: BLE001 - reported; the run goes on without switches
                self.notes.append(f"the formation did not settle: {e}")
                return
            await self.count_async_writes()
            await asyncio.sleep(self.rng.uniform(2.0, 5.0))
            kind = kinds[n % len(kinds)]
            # a node loss takes about 2 failover timeouts, and the node must be back before the end
            needed = 4 * (self.ha.config.get("failover_timeout") or 50) if kind == "node_loss" else 15
            if time.monotonic() + needed > self.deadline:
                return
            n += 1
            await self.switch(kind)

    async def switch(self, kind: str) -> None:
        old = await asyncio.to_thread(self.ha.primary)
        node = self.nodes[old.name]
        last_event = max((e.id for e in await asyncio.to_thread(self.ha.events)), default=0)
        errors_before = retryable_errors(self.record.errors)
        self.switching = True
        killed = time.monotonic()
        wall_killed = time.time()
        promoted = None
        try:
            await asyncio.to_thread(node.crash, machine=kind == "node_loss")
            self.record.faults["node_losses" if kind == "node_loss" else "postmaster_kills"] += 1
            if kind == "node_loss":
                promoted = await asyncio.to_thread(self.wait_promotion, old.name, killed)
            # the machine is back and rejoins as the standby (after a postmaster kill: a no-op)
            await asyncio.to_thread(node.start)
            first = await self.first_probe_ok(killed)
            errors = retryable_errors(self.record.errors) - errors_before
            try:
                new = (await asyncio.to_thread(self.ha.wait_stable, 180)).name
            except Exception as e:  # noqa: BLE001 - reported
                self.notes.append(f"after the {kind} of {old.name}: {e}")
                new = None
        finally:
            self.switching = False
        failover = new is not None and new != old.name
        if failover:
            self.record.faults["failovers"] += 1
        self.switches.append(
            {
                "kind": kind,
                "old": old.name,
                "new": new,
                "failover": failover,
                "promoted": promoted,
                "first_booking": None if first is None else first - killed,
                "retryable_errors": errors,
                "events": [
                    (round((e.time.timestamp() - wall_killed), 1), e.node, e.reported, e.goal)
                    for e in await asyncio.to_thread(self.ha.events, last_event)
                ],
            }
        )

    def wait_promotion(self, old: str, killed: float) -> float | None:
        """Seconds from the kill until the monitor has another node take writes
        (wait_primary or primary, settled); None when that did not happen within 180 s."""

        def found():
            p = self.ha.primary()
            return p is not None and p.name != old and p.reported in ("wait_primary", "primary")

        try:
            self.ha.wait(found, "another primary after the node loss", 180, interval=0.1)
        except Exception as e:  # noqa: BLE001 - reported
            self.notes.append(f"node loss of {old}: {e}")
            return None
        return time.monotonic() - killed

    async def first_probe_ok(self, killed: float, timeout: float = 120) -> float | None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            later = [answered for sent, answered in self.probe_oks if sent > killed]
            if later:
                return later[0]
            await asyncio.sleep(0.05)
        return None

    async def count_async_writes(self) -> None:
        """Appointments last written inside an async window that closed since the last look."""
        events = await asyncio.to_thread(self.ha.events)
        windows = [w for w in async_windows(events) if w.end is not None]
        fresh = [w for w in windows if events and self._seen(w, events)]
        self.last_event = events[-1].id if events else self.last_event
        if not fresh:
            return
        try:
            conn = await asyncpg.connect(self.url, timeout=5)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return
        try:
            for w in fresh:
                self.async_writes += await conn.fetchval(
                    "SELECT count(*) FROM booking.appointments WHERE pg_xact_commit_timestamp(xmin) BETWEEN $1 AND $2",
                    w.since or w.start,
                    w.end,
                )
        finally:
            await conn.close()

    def _seen(self, window, events) -> bool:
        """Whether the window closed after the last look (its closing event is new)."""
        closing = next((e for e in events if e.time == window.end and e.node == window.node), None)
        return closing is not None and closing.id > self.last_event

    # --- the report --------------------------------------------------------------------------
    def lines(self, started_event: int, verbose: bool = False) -> list[str]:
        out = []
        fails = [s for s in self.switches if s["failover"]]
        if fails:
            firsts = [s["first_booking"] for s in fails if s["first_booking"] is not None]
            promos = [s["promoted"] for s in fails if s["promoted"] is not None]
            errs = [s["retryable_errors"] for s in fails]
            out.append(
                f"{len(fails)} failovers: kill to first booking on the new primary median "
                f"{_median(firsts)}, max {_max(firsts)} (kill to promotion median {_median(promos)}); "
                f"retryable errors per failover median {statistics.median(errs):g}, max {max(errs)}"
            )
        in_place = [s for s in self.switches if not s["failover"]]
        if in_place:
            firsts = [s["first_booking"] for s in in_place if s["first_booking"] is not None]
            errs = [s["retryable_errors"] for s in in_place]
            out.append(
                f"{len(in_place)} postmaster kills restarted in place: kill to first booking median "
                f"{_median(firsts)}, max {_max(firsts)}; retryable errors per restart median "
                f"{statistics.median(errs):g}, max {max(errs)}"
            )
        for s in self.switches:
            first = "never" if s["first_booking"] is None else f"{s['first_booking']:.1f}s"
            promoted = "" if s["promoted"] is None else f"promoted after {s['promoted']:.1f}s, "
            out.append(
                f"  {s['kind']} of {s['old']}: {'failover to ' + str(s['new']) if s['failover'] else 'in place'}, "
                f"{promoted}first booking after {first}, {s['retryable_errors']} retryable errors"
            )
            if verbose:
                out.append(
                    "    monitor: " + "; ".join(f"+{t}s {node} {rep}/{goal}" for t, node, rep, goal in s["events"])
                )
        events = self.ha.events(started_event)
        windows = async_windows(events)
        if windows:
            seconds = [w.seconds() for w in windows]
            out.append(
                f"{len(windows)} async windows (primary in wait_primary), {sum(seconds):.1f} s in all, longest "
                f"{max(seconds):.1f} s; {self.async_writes} appointments last written inside one (commit time)"
            )
        return out + self.notes


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} s" if values else "n/a"


def _max(values: list[float]) -> str:
    return f"{max(values):.1f} s" if values else "n/a"


async def standby_agrees(ha: HACluster, timeout: float = 60) -> str | None:
    """None when every standby, once it replayed the primary's WAL, holds the same
    appointments (ids, versions, statuses); else what differs."""
    primary = await asyncio.to_thread(ha.primary)
    digest = (
        "SELECT count(*), coalesce(md5(string_agg(id || ':' || version || ':' || status, ',' ORDER BY id)), '')"
        " FROM booking.appointments"
    )
    conn = await asyncpg.connect(ha.node_url(primary.name))
    try:
        lsn = await conn.fetchval("SELECT pg_current_wal_lsn()")
        mine = tuple(await conn.fetchrow(digest))
    finally:
        await conn.close()
    for name in ha.nodes:
        if name == primary.name:
            continue
        conn = await asyncpg.connect(ha.node_url(name))
        try:
            end = time.monotonic() + timeout
            while await conn.fetchval("SELECT pg_last_wal_replay_lsn() < $1::pg_lsn", lsn):
                if time.monotonic() > end:
                    return f"standby {name} did not replay the primary's WAL within {timeout:.0f} s"
                await asyncio.sleep(0.1)
            theirs = tuple(await conn.fetchrow(digest))
        finally:
            await conn.close()
        if theirs != mine:
            return f"standby {name} holds {theirs[0]} appointments ({theirs[1]}), the primary {mine[0]} ({mine[1]})"
    return None


async def run_ha(args, ha: HACluster) -> int:
    from torture.runner import health_trail, holds_line, seed, write_timeline

    url = ha.url()
    rng = random.Random(args.seed)
    await seed(url)
    conn = await asyncpg.connect(url)
    try:
        probe_barber = await conn.fetchval(
            "INSERT INTO booking.barbers (name, timezone) VALUES ('Probe', 'UTC') RETURNING id"
        )
    finally:
        await conn.close()
    started_event = max((e.id for e in ha.events()), default=0)
    receiver = WebhookReceiver().start()
    await webhooks.subscribe(url, receiver)
    hooks = webhooks.WebhookResult()

    record = Record()
    service = ServiceProcess(url, users=CLIENT_USERS[:8], env=webhooks.SERVICE_ENV)
    await asyncio.to_thread(service.start)
    standby_diff = None
    try:
        started = time.monotonic()
        deadline = started + args.duration
        work = Workload(url, record, rng, deadline)
        http = HttpWorkload(service, work, record, rng, deadline)
        faults = HAFaults(ha, work, service, rng, deadline, record)
        faults.probe_barber = probe_barber
        timeline = Timeline.attach(record, work, http, servers=faults.nodes, start=started, duration=args.duration)
        tasks = [asyncio.create_task(work.client()) for _ in range(args.workers)]
        tasks += [asyncio.create_task(http.client()) for _ in range(args.http_workers)]
        tasks.append(asyncio.create_task(http.watch_health()))
        tasks.append(asyncio.create_task(faults.run()))
        tasks.append(asyncio.create_task(webhooks.misbehave(receiver, rng, deadline, hooks)))
        await asyncio.gather(*tasks)

        primary = await asyncio.to_thread(ha.wait_stable, 180)
        await faults.count_async_writes()
        result = await check(url, record)
        standby_diff = await standby_agrees(ha)
        if standby_diff:
            result.details.append(standby_diff)
        if not await http.healthy_again():
            result.unrecovered = 1
            result.details.append("the service did not answer /health with 200 after the last failover")
        async with httpx.AsyncClient(base_url=service.base) as client:
            health = (await client.get("/health", timeout=5)).json()
        if health.get("primary") != primary.address:
            result.unrecovered = 1
            result.details.append(f"/health names {health.get('primary')} as primary, the monitor {primary.address}")
        await webhooks.check(url, record, receiver, hooks)
        result.details.extend(hooks.details)
    finally:
        service.stop()
        receiver.stop()
    f = record.faults
    fallback = "on" if ha.config.get("sync_fallback", True) else "off"
    print(
        f"torture: {record.ops} ops, HA ({len(ha.nodes) - 1} synchronous standby, sync fallback {fallback}, "
        f"failover timeout {ha.config.get('failover_timeout') or 'default'}), {sum(f.values())} faults "
        f"({f['node_losses']} node losses, {f['postmaster_kills']} postmaster kills, {f['failovers']} failovers, "
        f"{f['kills']} kills, {f['lock_timeouts']} lock-timeout windows, {f['slow_clients']} slow clients), "
        f"{result.overlaps} overlaps, {result.lost_acks} lost acks, {result.duplicate_keys} duplicate keys, "
        f"{result.lost_updates} lost updates, {result.undocumented_errors} undocumented errors, "
        f"standby {'identical' if not standby_diff else 'DIFFERS'}, {len(faults.probe_oks)} probe bookings, "
        f"{holds_line(record)}, {hooks.line()}, health {health_trail(http.health)} then "
        f"{'200' if not result.unrecovered else 'never 200'}"
    )
    for line in faults.lines(started_event, args.verbose):
        print(f"torture: {line}")
    if args.verbose or not result.ok or not hooks.ok or standby_diff:
        print(
            f"torture: errors seen {dict(sorted(record.errors.items()))}; "
            f"{record.unknown_outcomes} calls with unknown outcome; "
            f"{len(record.acked_books)} bookings and {len(record.acked_changes)} changes acknowledged"
        )
        for line in result.details[:20]:
            print(f"torture: {line}")
        if any(k.startswith("http_5") and k != "http_503" for k in record.errors):
            print("torture: the service's log ends with:\n" + service.log_tail())
    write_timeline(timeline, args)
    ok = result.ok and hooks.ok and not standby_diff
    if f["failovers"] < args.min_failovers:
        print(f"torture: only {f['failovers']} failovers, fewer than {args.min_failovers}")
        ok = False
    return 0 if ok else 1


def main_ha(args) -> int:
    """A formation in a temporary directory (`python -m app ha up`), the run, then every
    keeper and server stopped and the directory deleted (also when starting or the run failed)."""
    # Short and under /tmp: the postgres OS user must reach it.
    workdir = Path(tempfile.mkdtemp(prefix="bkha-", dir="/tmp"))
    workdir.chmod(0o755)
    ha = HACluster(workdir)
    try:
        command = [sys.executable, "-m", "app", "ha", "up", "--dir", str(workdir)]
        command += ["--failover-timeout", str(args.failover_timeout)] if args.failover_timeout else []
        proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
        if proc.returncode:
            print(proc.stdout[-4000:] + proc.stderr[-4000:], file=sys.stderr)
            raise SystemExit(f"torture: `python -m app ha up` failed with status {proc.returncode}")
        print(f"torture: HA formation in {workdir}", file=sys.stderr)
        return asyncio.run(run_ha(args, ha))
    finally:
        if ha.config_file.exists():
            try:
                ha.down()
            except Exception as e:  # noqa: BLE001 - what is left is killed below
                print(f"torture: could not stop the formation: {e}", file=sys.stderr)
        for name in ("monitor", "node1", "node2", "node3"):
            ha.kill(name)
        shutil.rmtree(workdir, ignore_errors=True)
