"""A cluster on this machine: a PL/Proxy database and N partition databases, each its own
PostgreSQL server (scripts/pg.sh), so that one can be stopped or killed alone
(docs/SCALING.md; contract section 6).

    python -m app cluster up --dir DIR [--partitions N]   create (first time), start, migrate
    python -m app cluster status --dir DIR                 one line per node
    python -m app cluster down --dir DIR                   stop every node
    python -m app cluster move-shop --dir DIR --shop S --to K

Layout under DIR: `proxy/` and `partition-K/` (data directories), `cluster.json` (the
partition count). Every node serves database `booking` on its own Unix socket. The proxy
is migrated like any booking database and then gets sql/proxy/ (app.migrate); each
partition is migrated and joins the cluster as number K (booking.join_cluster). The
cluster definition is the proxy's foreign server `booking_cluster` with one connection
string per partition, and user mappings: booking_app connects to the partitions as
booking_app (so a partition sees the HTTP service's role, as one database does),
superusers as themselves, everyone else as booking_cluster (booking_client's rights).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from app.migrate import libpq_url, migrate
from app.paths import PG_SH

DBNAME = "booking"
MAX_PARTITIONS = 64


@dataclass(frozen=True)
class Node:
    name: str  # "proxy" or "partition K"
    datadir: Path
    url: str
    running: bool

    def line(self) -> str:
        return f"{self.name} {self.url} {self.datadir}"


def _pg(*args: str) -> str:
    proc = subprocess.run([str(PG_SH), *args], capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(proc.stderr.strip() or f"scripts/pg.sh {' '.join(args)} failed")
    return proc.stdout.strip()


def _running(datadir: Path) -> bool:
    return subprocess.run([str(PG_SH), "status", str(datadir)], capture_output=True, check=False).returncode == 0


class LocalCluster:
    """The nodes under one directory."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory).resolve()

    # --- layout -----------------------------------------------------------------------
    @property
    def config_file(self) -> Path:
        return self.dir / "cluster.json"

    def partitions(self) -> int:
        if not self.config_file.exists():
            raise SystemExit(f"no cluster in {self.dir} (run `python -m app cluster up --dir {self.dir}` first)")
        return int(json.loads(self.config_file.read_text())["partitions"])

    def datadir(self, partition: int | None) -> Path:
        return self.dir / ("proxy" if partition is None else f"partition-{partition}")

    def url(self, partition: int | None = None) -> str:
        return _pg("url", str(self.datadir(partition)), DBNAME)

    def nodes(self) -> list[Node]:
        out = [Node("proxy", self.datadir(None), self.url(None), _running(self.datadir(None)))]
        for k in range(self.partitions()):
            out.append(Node(f"partition {k}", self.datadir(k), self.url(k), _running(self.datadir(k))))
        return out

    # --- commands ---------------------------------------------------------------------
    def up(self, partitions: int | None, mode: str = "durable") -> list[Node]:
        if self.config_file.exists():
            count = self.partitions()
            if partitions is not None and partitions != count:
                raise SystemExit(f"{self.dir} holds a cluster of {count} partitions, not {partitions}")
        else:
            count = 1 if partitions is None else partitions
            if count < 1 or count > MAX_PARTITIONS or count & (count - 1):
                # PL/Proxy maps a partition number to a connection by masking with N - 1.
                raise SystemExit(f"--partitions must be a power of two from 1 to {MAX_PARTITIONS}, not {count}")
            self.dir.mkdir(parents=True, exist_ok=True)
            self.dir.chmod(0o755)  # the postgres OS user must reach the data directories
        for k in [*range(count), None]:
            self._start_node(k, mode)
        for k in range(count):
            self._migrate_partition(k)
        self._migrate_proxy(count)
        if not self.config_file.exists():
            self.config_file.write_text(json.dumps({"partitions": count}) + "\n")
        return self.nodes()

    def down(self) -> None:
        for k in [None, *range(self.partitions())]:
            _pg("stop", str(self.datadir(k)))

    def _start_node(self, partition: int | None, mode: str) -> None:
        datadir = self.datadir(partition)
        _pg("start", str(datadir), mode)
        with psycopg.connect(libpq_url(_pg("url", str(datadir), "postgres")), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DBNAME,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DBNAME)))

    def _migrate_partition(self, k: int) -> None:
        url = self.url(k)
        migrate(url)
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute("SELECT booking.join_cluster(%s)", (k,))
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'booking_cluster'").fetchone():
                conn.execute("CREATE ROLE booking_cluster LOGIN")
            conn.execute("GRANT booking_client TO booking_cluster")
            conn.execute(
                "GRANT EXECUTE ON FUNCTION booking.create_shop_at(bigint, text, text, bigint),"
                " booking.grant_staff_role(bigint, text, bigint, bigint, int) TO booking_cluster"
            )

    def _migrate_proxy(self, count: int) -> None:
        url = self.url(None)
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS plproxy")
            options = {"connection_lifetime": "1800"}
            for k in range(count):
                # libpq key/value form, from the partition's URL (host = its socket directory)
                options[f"p{k}"] = _conninfo(self.url(k))
            if conn.execute("SELECT 1 FROM pg_foreign_server WHERE srvname = 'booking_cluster'").fetchone():
                current = {
                    r[0].split("=", 1)[0]: r[0].split("=", 1)[1]
                    for r in conn.execute(
                        "SELECT unnest(srvoptions) FROM pg_foreign_server WHERE srvname = 'booking_cluster'"
                    ).fetchall()
                }
                changes = [
                    sql.SQL("{} {} {}").format(
                        sql.SQL("SET" if key in current else "ADD"), sql.Identifier(key), sql.Literal(value)
                    )
                    for key, value in options.items()
                    if current.get(key) != value
                ]
                if changes:
                    conn.execute(
                        sql.SQL("ALTER SERVER booking_cluster OPTIONS ({})").format(sql.SQL(", ").join(changes))
                    )
            else:
                conn.execute(
                    sql.SQL("CREATE SERVER booking_cluster FOREIGN DATA WRAPPER plproxy OPTIONS ({})").format(
                        sql.SQL(", ").join(
                            sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v)) for k, v in options.items()
                        )
                    )
                )
        migrate(url, proxy=True)
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            for role, login in (
                ("PUBLIC", "booking_cluster"),
                ("booking_app", "booking_app"),
                ("postgres", "postgres"),
            ):
                target = sql.SQL("PUBLIC") if role == "PUBLIC" else sql.Identifier(role)
                conn.execute(sql.SQL("DROP USER MAPPING IF EXISTS FOR {} SERVER booking_cluster").format(target))
                conn.execute(
                    sql.SQL("CREATE USER MAPPING FOR {} SERVER booking_cluster OPTIONS (user {})").format(
                        target, sql.Literal(login)
                    )
                )
            conn.execute("GRANT USAGE ON FOREIGN SERVER booking_cluster TO booking_app, booking_client, booking_owner")


def _conninfo(url: str) -> str:
    """A libpq key/value string for a URL (PL/Proxy takes that form)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    return " ".join(f"{k}={v}" for k, v in info.items() if k in ("dbname", "host", "port", "user"))


def main(args) -> None:
    cluster = LocalCluster(args.dir)
    if args.action == "up":
        nodes = cluster.up(args.partitions, mode=args.mode)
    elif args.action == "down":
        cluster.down()
        nodes = cluster.nodes()
    elif args.action == "status":
        nodes = cluster.nodes()
    elif args.action == "move-shop":
        from app.moves import MoveError, move_shop

        started = time.monotonic()
        try:
            moved = move_shop(
                cluster.url(None), args.shop, args.to, {k: cluster.url(k) for k in range(cluster.partitions())}
            )
        except MoveError as e:
            raise SystemExit(f"python -m app cluster move-shop: {e}") from None
        print(
            f"shop {args.shop}: partition {moved.source} -> {moved.target}, {moved.rows} rows, "
            f"{time.monotonic() - started:.2f}s"
        )
        return
    else:  # pragma: no cover (argparse refuses)
        raise SystemExit(f"unknown action {args.action}")
    for node in nodes:
        print(node.line())
        if not node.running:
            print(f"cluster: {node.name} is not running", file=sys.stderr)
