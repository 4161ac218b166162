"""A replicated database with automatic failover on this machine: pg_auto_failover (Debian
`postgresql-15-auto-failover`, the `pg_autoctl` command) runs a monitor, a primary and a
synchronous standby, each its own PostgreSQL server under its own `pg_autoctl` keeper
(docs/RELIABILITY.md, "Losing the database server").

    python -m app ha up --dir DIR [--sync-fallback on|off] [--standbys N]
    python -m app ha status --dir DIR      which node is primary, the async windows, `url URL`
    python -m app ha down --dir DIR        stop every keeper and server

`up` creates the formation the first time (the monitor, node1, then node2 from node1's base
backup), or starts the keepers that are not running; waits until one node is `primary` and
the others `secondary`; migrates database `booking` through the multi-host URL (change feed
mode outbox: a logical slot lives on one server and does not survive a failover in
PostgreSQL 15); then prints the status lines. Clients use the multi-host URL

    postgresql://postgres@127.0.0.1:P1,127.0.0.1:P2/booking?target_session_attrs=read-write

with which libpq (psycopg, psycopg2) and asyncpg try each host in turn and keep the one that
takes writes: after a failover, a new connection finds the new primary by itself.

Synchronous replication is pg_auto_failover's: it sets `synchronous_standby_names` on the
primary (`ANY 1 (pgautofailover_standby_2)`, synchronous_commit on), so a commit is
acknowledged only once a standby has flushed it. `--sync-fallback` says what happens when no
standby is healthy: `on` (the default; the formation's number_sync_standbys = 0, one
standby) lets the monitor put the primary in state `wait_primary`, where
synchronous_standby_names is '' and commits are acknowledged by the primary alone (the
*async window*, reported by `status` from the monitor's events); `off` (number_sync_standbys
= 1, which pg_auto_failover accepts only with two standbys: `--standbys 2` is implied) never
falls back: with both standbys down, commits wait.

`--failover-timeout S` (at creation; default pg_auto_failover's) shortens how long the
monitor waits before it fails over a node that stopped answering: its
node_considered_unhealthy_timeout and primary_demote_timeout become S seconds (20 and 30 by
default: about 50 s from a lost machine to a new primary), and each keeper's
network_partition_timeout too (a primary cut off from the monitor and its standby demotes
itself after it, before the monitor would promote the standby at about 2 S).

Layout under DIR: `monitor/`, `node1/`, `node2/` (data directories), `logs/` (each keeper's
output; PostgreSQL's own log is in its data directory's log/), `run/` (each keeper's process
group), `xdg/` (pg_autoctl's configuration and state files), `ha.json` (the ports and
settings). As root, everything runs as the `postgres` OS user (runuser), like
scripts/pg.sh; DIR must be reachable by that user. Every server listens on 127.0.0.1 only, on
free ports chosen at the first `up`, with `trust` authentication (as scripts/pg.sh's local
clusters): a development and test set-up for one machine, not a production deployment.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

DBNAME = "booking"
FORMATION = "default"
HOST = "127.0.0.1"
MONITOR = "monitor"
# Our settings, in postgresql.auto.conf (read after pg_autoctl's postgresql-auto-failover.conf):
# pg_autoctl sizes shared_buffers to a quarter of the machine's memory, for each server.
NODE_SETTINGS = {
    "shared_buffers": "'256MB'",
    "max_connections": "200",
    "wal_keep_size": "'1GB'",
    # commit times, to tell which writes were acknowledged in an async window
    "track_commit_timestamp": "on",
}
MONITOR_SETTINGS = {"shared_buffers": "'128MB'"}
PRIMARY_STATES = ("single", "wait_primary", "primary", "join_primary", "apply_settings")
ASYNC_STATES = ("single", "wait_primary")  # synchronous_standby_names = '': the primary alone


class HAError(RuntimeError):
    """A step of the formation did not happen (the message says which, and where the logs are)."""


@dataclass(frozen=True)
class NodeState:
    name: str
    port: int
    reported: str
    goal: str
    health: int  # the monitor's health check: 1 good, 0 bad, -1 unknown

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"


@dataclass(frozen=True)
class Event:
    id: int
    time: datetime
    node: str
    reported: str
    goal: str
    description: str


@dataclass(frozen=True)
class AsyncWindow:
    """When `node` was a primary without a synchronous standby (state single or wait_primary,
    goal or reported): from the monitor's first event that says so to the first that no
    longer does (end None: still open). `since`: the formation's event before `start`. The
    commits that were waiting for a standby when the window opened (after a lost standby,
    or on a node being promoted) are acknowledged at its start, but committed locally
    before it: those since `since` count among the window's writes."""

    node: str
    start: datetime
    end: datetime | None
    since: datetime | None = None

    def seconds(self, now: datetime | None = None) -> float:
        end = self.end or now or datetime.now(self.start.tzinfo)
        return (end - self.start).total_seconds()


def async_windows(events: list[Event]) -> list[AsyncWindow]:
    """The async windows the events show, in order."""
    open_since: dict[str, tuple[datetime, datetime]] = {}  # node: (start, since)
    out: list[AsyncWindow] = []
    previous = None
    for e in events:
        is_async = e.goal in ASYNC_STATES or e.reported in ASYNC_STATES
        if is_async and e.node not in open_since:
            open_since[e.node] = (e.time, previous.time if previous else e.time)
        elif not is_async and e.node in open_since:
            start, since = open_since.pop(e.node)
            out.append(AsyncWindow(e.node, start, e.time, since))
        previous = e
    out += [AsyncWindow(node, start, None, since) for node, (start, since) in open_since.items()]
    return sorted(out, key=lambda w: w.start)


def _bindir() -> str:
    if os.environ.get("PG_BINDIR"):
        return os.environ["PG_BINDIR"]
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise HAError("no PostgreSQL server binaries (apt-get install postgresql)")
    return str(found[-1].parent)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _alive(pid: int, datadir: Path) -> bool:
    """A process that runs (a zombie does not) and is this node's: its command line names
    the data directory (a recorded pid may have been reused by another process since)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z" and str(datadir) in cmdline


class HACluster:
    """The formation under one directory (its ha.json says which ports and settings)."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory).resolve()
        self._procs: dict[str, subprocess.Popen] = {}  # keepers this process started (reaped)
        self._config: dict | None = None

    # --- layout -----------------------------------------------------------------------
    @property
    def config_file(self) -> Path:
        return self.dir / "ha.json"

    @property
    def config(self) -> dict:
        if self._config is None:
            if not self.config_file.exists():
                raise SystemExit(f"no HA formation in {self.dir} (run `python -m app ha up --dir {self.dir}` first)")
            self._config = json.loads(self.config_file.read_text())
        return self._config

    @property
    def nodes(self) -> list[str]:
        """The data nodes' names, node1 first."""
        return [n for n in self.config["ports"] if n != MONITOR]

    def port(self, name: str) -> int:
        return int(self.config["ports"][name])

    def datadir(self, name: str) -> Path:
        return self.dir / name

    def url(self, dbname: str = DBNAME, user: str = "postgres") -> str:
        """The multi-host URL: every data node, the one that takes writes is kept."""
        hosts = ",".join(f"{HOST}:{self.port(n)}" for n in self.nodes)
        return f"postgresql://{user}@{hosts}/{dbname}?target_session_attrs=read-write"

    def node_url(self, name: str, dbname: str = DBNAME) -> str:
        return f"postgresql://postgres@{HOST}:{self.port(name)}/{dbname}"

    def monitor_url(self) -> str:
        return f"postgresql://autoctl_node@{HOST}:{self.port(MONITOR)}/pg_auto_failover?sslmode=disable"

    # --- processes --------------------------------------------------------------------
    def _command(self, *args: str) -> list[str]:
        """`args` as the postgres OS user (as root), with pg_autoctl's files under DIR/xdg."""
        env = {
            "PATH": f"{_bindir()}:/usr/bin:/bin",
            "HOME": str(self.dir),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "XDG_CONFIG_HOME": str(self.dir / "xdg" / "config"),
            "XDG_DATA_HOME": str(self.dir / "xdg" / "data"),
            "XDG_RUNTIME_DIR": str(self.dir / "xdg" / "run"),
        }
        cmd = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *args]
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd

    def _run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            self._command(*args), capture_output=True, text=True, timeout=timeout, check=False, cwd="/"
        )
        if check and proc.returncode:
            raise HAError(f"{' '.join(args[:3])} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()}")
        return proc

    def _spawn(self, name: str, *args: str) -> None:
        """A keeper in a process group of its own (its server runs in it too), its output
        appended to logs/NAME.log; the group's id in run/NAME.pid."""
        log = open(self.dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        try:
            proc = subprocess.Popen(
                self._command(*args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd="/",
            )
        finally:
            log.close()
        self._procs[name] = proc
        (self.dir / "run" / f"{name}.pid").write_text(f"{proc.pid}\n")

    def _group(self, name: str) -> int | None:
        try:
            return int((self.dir / "run" / f"{name}.pid").read_text())
        except (OSError, ValueError):
            return None

    def _reap(self) -> None:
        for proc in self._procs.values():
            proc.poll()

    def running(self, name: str) -> bool:
        """Whether the node's keeper runs (`pg_autoctl status`)."""
        self._reap()
        return self._run("pg_autoctl", "status", "--pgdata", str(self.datadir(name)), check=False).returncode == 0

    def start(self, name: str) -> None:
        """Starts the keeper of an existing node (it starts its PostgreSQL) unless it runs."""
        if not self.running(name):
            self._spawn(name, "pg_autoctl", "run", "--pgdata", str(self.datadir(name)))

    def stop(self, name: str, timeout: float = 60) -> None:
        """`pg_autoctl stop` (its PostgreSQL stops too, fast), waited for; what is left of the
        process group after `timeout` is killed."""
        if self.running(name):
            self._run("pg_autoctl", "stop", "--pgdata", str(self.datadir(name)), check=False)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and (self.running(name) or self._postmaster_alive(name)):
                time.sleep(0.2)
        self.kill(name)

    def kill(self, name: str) -> None:
        """The machine is lost: SIGKILL to the node's keeper and server (its whole process
        group; PostgreSQL's backends exit as soon as they see their postmaster gone). The
        data directory stays, as a disk that survives."""
        group = self._group(name)
        if group is not None and _alive(group, self.datadir(name)):
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc = self._procs.pop(name, None)
        if proc is not None:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        postmaster = self.postmaster_pid(name)
        if postmaster is not None and _alive(postmaster, self.datadir(name)):  # started outside the group
            os.kill(postmaster, signal.SIGKILL)

    def postmaster_pid(self, name: str) -> int | None:
        try:
            return int((self.datadir(name) / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _postmaster_alive(self, name: str) -> bool:
        pid = self.postmaster_pid(name)
        return pid is not None and _alive(pid, self.datadir(name))

    def crash_postgres(self, name: str) -> bool:
        """The server process crashes: SIGKILL to the node's postmaster only (its keeper
        restarts it, unless the monitor has meanwhile failed over). False when none ran."""
        pid = self.postmaster_pid(name)
        if pid is None or not _alive(pid, self.datadir(name)):
            return False
        os.kill(pid, signal.SIGKILL)
        return True

    # --- the monitor --------------------------------------------------------------------
    def _monitor(self):
        return psycopg.connect(self.monitor_url(), autocommit=True, connect_timeout=3)

    def states(self) -> list[NodeState]:
        with self._monitor() as conn:
            rows = conn.execute(
                "SELECT nodename, nodeport, reportedstate::text, goalstate::text, health"
                " FROM pgautofailover.node WHERE formationid = %s ORDER BY nodeid",
                (FORMATION,),
            ).fetchall()
        return [NodeState(*row) for row in rows]

    def primary(self, states: list[NodeState] | None = None) -> NodeState | None:
        """The node the monitor has as primary, settled (reported = goal); None meanwhile."""
        for s in self.states() if states is None else states:
            if s.reported == s.goal and s.reported in PRIMARY_STATES:
                return s
        return None

    def stable(self, states: list[NodeState] | None = None) -> bool:
        """One node primary and every other secondary, all settled: synchronous replication
        is on, and the monitor can fail over."""
        states = self.states() if states is None else states
        return (
            bool(states)
            and sum(s.reported == s.goal == "primary" for s in states) == 1
            and all(s.reported == s.goal == "secondary" for s in states if s.goal != "primary")
        )

    def ready(self) -> NodeState | None:
        """The primary, when the formation is stable() as the monitor says AND the primary
        answers with every standby streaming to it (the monitor's states lag behind a stop:
        its health checks take seconds)."""
        states = self.states()
        if not self.stable(states):
            return None
        primary = self.primary(states)
        with psycopg.connect(self.node_url(primary.name), autocommit=True, connect_timeout=3) as conn:
            streaming = conn.execute(
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
                " AND sync_state IN ('sync', 'quorum')"
                " AND NOT pg_is_in_recovery()"
            ).fetchone()[0]
        return primary if streaming == len(self.nodes) - 1 else None

    def events(self, after: int = 0) -> list[Event]:
        with self._monitor() as conn:
            rows = conn.execute(
                "SELECT eventid, eventtime, nodename, reportedstate::text, goalstate::text, description"
                " FROM pgautofailover.event WHERE formationid = %s AND eventid > %s ORDER BY eventid",
                (FORMATION, after),
            ).fetchall()
        return [Event(*row) for row in rows]

    def wait(self, predicate, what: str, timeout: float = 120.0, interval: float = 0.3):
        """Polls predicate() (errors count as not yet) until it is truthy; HAError after timeout."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while True:
            try:
                value = predicate()
                if value:
                    return value
            except (psycopg.Error, OSError) as e:
                last = e
            if time.monotonic() > deadline:
                raise HAError(
                    f"{what}: not within {timeout:.0f} s"
                    + (f" (last error: {last})" if last else "")
                    + f"; logs in {self.dir / 'logs'}"
                )
            time.sleep(interval)

    def wait_stable(self, timeout: float = 120.0) -> NodeState:
        """The primary, once ready(): a primary and its standbys, replicating synchronously."""
        return self.wait(self.ready, "a primary with its standbys streaming synchronously", timeout)

    def sync_state(self, primary: NodeState) -> str:
        """The primary's synchronous_standby_names ('' : commits do not wait for a standby)."""
        with psycopg.connect(self.node_url(primary.name), autocommit=True, connect_timeout=3) as conn:
            return conn.execute("SHOW synchronous_standby_names").fetchone()[0]

    # --- commands ---------------------------------------------------------------------
    def up(
        self, *, standbys: int | None = None, sync_fallback: bool | None = None, failover_timeout: int | None = None
    ) -> None:
        """Creates the formation (first time) or starts what is not running; waits for a
        primary and its standbys; migrates. sync_fallback None: as created (default on).
        failover_timeout: at creation only (the module's docstring)."""
        if not self.config_file.exists():
            fallback = sync_fallback is None or sync_fallback
            self._create(standbys or (1 if fallback else 2), fallback, failover_timeout)
        else:
            if standbys is not None and standbys != len(self.nodes) - 1:
                raise SystemExit(f"{self.dir} holds a formation of {len(self.nodes) - 1} standby(s), not {standbys}")
            self._check_reachable()
            for name in [MONITOR, *self.nodes]:
                self.start(name)
            self.wait(lambda: self.states() is not None, "the monitor answers", 60)
            if sync_fallback is not None:
                self._set_sync_fallback(sync_fallback)
        self.wait_stable(180)
        self._migrate()

    def _check_reachable(self) -> None:
        if os.geteuid() == 0:
            probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(self.dir)], check=False)
            if probe.returncode:
                raise SystemExit(
                    f"{self.dir} is not writable by the postgres OS user (a parent directory is private?): "
                    "use a directory under /tmp or /var/tmp"
                )

    def _create(self, standbys: int, sync_fallback: bool, failover_timeout: int | None = None) -> None:
        if not sync_fallback and standbys < 2:
            raise SystemExit(
                "--sync-fallback off needs two standbys (pg_auto_failover's number_sync_standbys = 1 "
                "requires number_sync_standbys + 1 standbys): use --standbys 2"
            )
        if standbys < 1 or standbys > 4:
            raise SystemExit(f"--standbys must be 1 to 4, not {standbys}")
        if shutil.which("pg_autoctl") is None:
            raise SystemExit("pg_autoctl not found: apt-get install -y postgresql-15-auto-failover")
        self.dir.mkdir(parents=True, exist_ok=True)
        for sub in ("logs", "run", "xdg/config", "xdg/data", "xdg/run"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.dir.chmod(0o755)
            for sub in ("xdg", "xdg/config", "xdg/data", "xdg/run"):
                os.chown(self.dir / sub, _uid("postgres"), _gid("postgres"))
                (self.dir / sub).chmod(0o700)
            os.chown(self.dir, _uid("postgres"), _gid("postgres"))
            # pg_autoctl reaches its local server over the default socket directory
            sockets = Path("/var/run/postgresql")
            if not sockets.exists():
                sockets.mkdir(parents=True)
                os.chown(sockets, _uid("postgres"), _gid("postgres"))
                sockets.chmod(0o2775)
        self._check_reachable()
        names = [MONITOR] + [f"node{i + 1}" for i in range(standbys + 1)]
        ports = {name: _free_port() for name in names}
        self._config = {"ports": ports, "sync_fallback": sync_fallback, "failover_timeout": failover_timeout}

        monitor_settings = dict(MONITOR_SETTINGS)
        if failover_timeout:
            monitor_settings["pgautofailover.node_considered_unhealthy_timeout"] = f"'{failover_timeout}s'"
            monitor_settings["pgautofailover.primary_demote_timeout"] = f"'{failover_timeout}s'"
        self._initdb(MONITOR, monitor_settings)
        self._spawn(
            MONITOR,
            "pg_autoctl",
            "create",
            "monitor",
            "--pgdata",
            str(self.datadir(MONITOR)),
            "--pgport",
            str(ports[MONITOR]),
            "--hostname",
            HOST,
            "--listen",
            HOST,
            "--auth",
            "trust",
            "--no-ssl",
            "--run",
        )
        self.wait(lambda: self.states() is not None, "the monitor answers", 60)
        self._initdb("node1", NODE_SETTINGS)  # the standbys are base backups of it: same settings
        for i, name in enumerate(names[1:]):
            if i:
                # The base backup starts with a spread checkpoint: have little left for it.
                with psycopg.connect(self.node_url("node1", "postgres"), autocommit=True) as conn:
                    conn.execute("CHECKPOINT")
            self._spawn(
                name,
                "pg_autoctl",
                "create",
                "postgres",
                "--pgdata",
                str(self.datadir(name)),
                "--pgport",
                str(ports[name]),
                "--listen",
                HOST,
                "--hostname",
                HOST,
                "--auth",
                "trust",
                "--no-ssl",
                "--dbname",
                DBNAME,
                "--name",
                name,
                "--monitor",
                self.monitor_url(),
                "--run",
            )
            if i == 0:
                self.wait(
                    lambda: any(s.name == "node1" and s.reported == "single" for s in self.states()), "node1", 120
                )
            else:
                self.wait(
                    lambda name=name: any(s.name == name and s.reported == "secondary" for s in self.states()),
                    f"{name} a secondary",
                    300,
                )
            if failover_timeout:  # the running keeper reloads it at once
                self._run(
                    "pg_autoctl",
                    "config",
                    "set",
                    "--pgdata",
                    str(self.datadir(name)),
                    "timeout.network_partition_timeout",
                    str(failover_timeout),
                )
        self.wait_stable(180)
        self._set_sync_fallback(sync_fallback)
        self.config_file.write_text(json.dumps(self._config, indent=2) + "\n")

    def _initdb(self, name: str, settings: dict[str, str]) -> None:
        datadir = self.datadir(name)
        self._run(
            f"{_bindir()}/initdb",
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        with open(datadir / "postgresql.auto.conf", "a", encoding="utf-8") as f:  # initdb made it, as postgres
            f.write("".join(f"{k} = {v}\n" for k, v in settings.items()))

    def _set_sync_fallback(self, sync_fallback: bool) -> None:
        """number_sync_standbys 0 (fall back to async when no standby is healthy) or 1 (never)."""
        wanted = 0 if sync_fallback else 1
        with self._monitor() as conn:
            current = conn.execute(
                "SELECT number_sync_standbys FROM pgautofailover.formation WHERE formationid = %s", (FORMATION,)
            ).fetchone()[0]
            if current == wanted:
                return
            self.wait_stable(180)
            conn.execute("SELECT pgautofailover.set_formation_number_sync_standbys(%s, %s)", (FORMATION, wanted))
        self._config["sync_fallback"] = sync_fallback
        if self.config_file.exists():
            self.config_file.write_text(json.dumps(self._config, indent=2) + "\n")

    def _migrate(self) -> None:
        from app.migrate import migrate

        migrate(self.url(), change_feed="outbox")

    def down(self) -> None:
        """Every keeper stopped: the standbys, then the primary, then the monitor."""
        try:
            primary = self.primary()
        except (psycopg.Error, OSError):
            primary = None
        order = [n for n in self.nodes if primary is None or n != primary.name]
        order += [primary.name] if primary else []
        for name in [*order, MONITOR]:
            self.stop(name)

    def status_lines(self) -> list[str]:
        """monitor, one `node` line each, `primary NAME HOST:PORT`, `sync ...`, the async
        windows, and `url URL`."""
        out = [f"monitor {HOST}:{self.port(MONITOR)} {self.datadir(MONITOR)} {self._running_word(MONITOR)}"]
        try:
            states = self.states()
        except (psycopg.Error, OSError) as e:
            states = []
            out.append(f"monitor unreachable: {str(e).strip().splitlines()[0]}")
        by_name = {s.name: s for s in states}
        for name in self.nodes:
            s = by_name.get(name)
            state = f"{s.reported}/{s.goal}" if s else "unknown"
            out.append(f"node {name} {HOST}:{self.port(name)} {state} {self._running_word(name)}")
        primary = self.primary(states) if states else None
        if primary:
            out.append(f"primary {primary.name} {primary.address} {primary.reported}")
            try:
                names = self.sync_state(primary)
                out.append(f"sync {'async' if not names else 'on'} synchronous_standby_names='{names}'")
            except (psycopg.Error, OSError):
                out.append("sync unknown")
        else:
            out.append("primary none")
        out.append(f"sync-fallback {'on' if self.config.get('sync_fallback', True) else 'off'}")
        timeout = self.config.get("failover_timeout")
        out.append(f"failover-timeout {f'{timeout}s' if timeout else 'default (20s unhealthy + 30s demote)'}")
        if states:
            for w in async_windows(self.events()):
                end = w.end.isoformat(timespec="milliseconds") if w.end else "open"
                out.append(
                    f"async-window {w.node} {w.start.isoformat(timespec='milliseconds')} {end} {w.seconds():.1f}s"
                )
        out.append(f"url {self.url()}")
        return out

    def _running_word(self, name: str) -> str:
        return "running" if self.running(name) else "stopped"


def _uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid


def _gid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_gid


def main(args) -> None:
    cluster = HACluster(args.dir)
    try:
        if args.action == "up":
            fallback = None if args.sync_fallback is None else args.sync_fallback == "on"
            cluster.up(standbys=args.standbys, sync_fallback=fallback, failover_timeout=args.failover_timeout)
        elif args.action == "down":
            cluster.down()
        elif args.action != "status":  # pragma: no cover (argparse refuses)
            raise SystemExit(f"unknown action {args.action}")
    except HAError as e:
        raise SystemExit(f"python -m app ha {args.action}: {e}") from None
    for line in cluster.status_lines():
        print(line)
    if args.action == "up" and cluster.primary() is None:
        print("ha: no primary", file=sys.stderr)
