"""The partitioned scenario's cluster: a PL/Proxy proxy and N partition servers on this
machine (`python -m app cluster up`, app/cluster.py), durable like the bench's own server,
in a temporary directory under /var/tmp that is stopped and removed afterwards.

The bench data is made through the proxy's own functions (booking.create_shop,
create_barber, create_service), as a client of a cluster would make it: shop 1 (partition 0)
and, with two partitions, shop 2 (placed by create_shop on the emptier partition, 1). A
partition numbers its barbers with its own stride (ids 1, 65, 129, ... on partition 0 of
64), and a shop's barbers other than shop 1's carry the shop in their id (S * 2^40 + n):
bench/sql/part_book.sql maps a booking number to a barber with each shop's first id and
stride, read back here (and checked to be evenly spaced).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure import log
from bench.scenarios import PY, relay
from harness import ROOT
from harness.cluster import psql

PG_SH = ROOT / "scripts" / "pg.sh"


@dataclass
class Shop:
    shop_id: int
    partition: int
    first: int  # the id of its first bench barber
    step: int  # the distance between its barbers' ids
    barbers: int


@dataclass
class BenchCluster:
    """A running cluster: the proxy's URL, each partition's, and the bench shops."""

    dir: Path
    proxy: str
    partitions: list[str]
    shops: list[Shop] = field(default_factory=list)
    started_in: float = 0.0


@contextlib.contextmanager
def cluster(partitions: int, shops: int, barbers: int):
    """A durable cluster of `partitions` partitions with `shops` bench shops of
    `barbers` / `shops` barbers each and the service 'Haircut' (30 min); the change feed's
    relay runs on every partition while the block runs. Stopped and removed on exit, also
    on failure."""
    workdir = Path(tempfile.mkdtemp(prefix="booking-bench-cluster.", dir="/var/tmp"))
    os.chmod(workdir, 0o755)  # the postgres OS user reaches the data directories
    try:
        t = time.time()
        proc = subprocess.run(
            [PY, "-m", "app", "cluster", "up", "--dir", str(workdir), "--partitions", str(partitions)]
            + ["--mode", "durable"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode:
            raise RuntimeError(f"cluster up failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        urls = {}
        for line in proc.stdout.splitlines():
            words = line.split()
            if words[:1] == ["proxy"]:
                urls[None] = words[1]
            elif words[:1] == ["partition"]:
                urls[int(words[1])] = words[2]
        c = BenchCluster(workdir, urls[None], [urls[k] for k in range(partitions)])
        for url in [c.proxy, *c.partitions]:
            # As the bench's own server (bench.server): fewer, later checkpoints so that one
            # does not land in a short run; fsync, synchronous_commit, full_page_writes stay on.
            psql(url, "ALTER SYSTEM SET max_wal_size = '8GB'")
            psql(url, "ALTER SYSTEM SET checkpoint_timeout = '30min'")
            psql(url, "SELECT pg_reload_conf()")
        per_shop = barbers // shops
        for s in range(shops):
            shop_id = 1 if s == 0 else int(psql(c.proxy, f"SELECT id FROM booking.create_shop('Bench shop {s + 1}')"))
            psql(
                c.proxy,
                f"SELECT count(*) FROM generate_series(1, {per_shop}) g, "
                f"booking.create_barber({shop_id}, 'Bench barber ' || g) b",
            )
            psql(c.proxy, f"SELECT id FROM booking.create_service({shop_id}, 'Haircut', 30)")
            partition = int(psql(c.proxy, f"SELECT booking_proxy.partition_of_shop({shop_id})"))
            ids = [int(x) for x in psql(c.proxy, f"SELECT id FROM booking.list_barbers({shop_id}) ORDER BY id").split()]
            step = ids[1] - ids[0] if len(ids) > 1 else 1
            if len(ids) != per_shop or ids != list(range(ids[0], ids[0] + step * per_shop, step)):
                raise RuntimeError(f"shop {shop_id}: barber ids are not evenly spaced: {ids[:5]}...")
            c.shops.append(Shop(shop_id, partition, ids[0], step, per_shop))
        for url in c.partitions:
            psql(url, "VACUUM ANALYZE")
        c.started_in = time.time() - t
        log(
            f"cluster of {partitions} partition(s) up and seeded in {c.started_in:.1f} s: "
            + ", ".join(f"shop {s.shop_id} on partition {s.partition}, barbers {s.first} + {s.step} k" for s in c.shops)
        )
        with contextlib.ExitStack() as relays:
            for url in c.partitions:
                relays.enter_context(relay(url))
            yield c
    finally:
        stop(workdir)
        shutil.rmtree(workdir, ignore_errors=True)


def server_cpu_seconds(url: str) -> float:
    """CPU seconds (user + system) the server of `url` has spent in its finished processes:
    the postmaster's reaped children (/proc/PID/stat cutime + cstime). A pgbench run's
    backends, and on a proxy the connections PL/Proxy opened from them, end with the run, so
    the difference over a run is what the run cost that server."""
    datadir = Path(psql(url, "SHOW data_directory"))
    pid = int((datadir / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[13]) + int(fields[14])) / ticks  # cutime, cstime (fields 16 and 17)


def stop(workdir: Path) -> None:
    """Stops every server under `workdir` (those a failed `cluster up` started too)."""
    for datadir in sorted(workdir.iterdir()):
        if (datadir / "PG_VERSION").exists():
            subprocess.run([str(PG_SH), "stop", str(datadir)], capture_output=True, check=False)


def defines(shops: list[Shop], clients: int, base: int) -> dict:
    """bench/sql/part_book.sql's variables: bookings spread round-robin over `shops`."""
    first, second = shops[0], shops[-1]
    return {
        "i": 0,
        "base": base,
        "clients": clients,
        "shops": len(shops),
        "per_shop": min(s.barbers for s in shops),
        "b0": first.first,
        "step0": first.step,
        "b1": second.first,
        "step1": second.step,
    }
