"""The server a benchmark runs on, and its databases.

Unless DATABASE_URL is set, a durable PostgreSQL of its own (harness.cluster: fsync,
synchronous_commit and full_page_writes on), its data in /var/tmp (a disk, where /tmp may be
memory), removed afterwards; with DATABASE_URL, that server, where it creates and drops its
own databases (booking_bench_*).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.measure import SQL, log
from harness import ROOT
from harness.cluster import ExternalServer, psql, start_postgres

PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
SETTINGS = [
    "server_version",
    "wal_level",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_sync_method",
    "shared_buffers",
    "max_wal_size",
    "checkpoint_timeout",
    "max_connections",
]


class BenchServer:
    """The benchmark's PostgreSQL; close() drops its databases and removes its own cluster
    (unless `keep`)."""

    def __init__(self, keep: bool = False):
        self.keep = keep
        self.workdir = None
        if os.environ.get("DATABASE_URL"):
            self.server = ExternalServer(os.environ["DATABASE_URL"])
        else:
            self.workdir = tempfile.mkdtemp(prefix="booking-bench.", dir="/var/tmp")
            os.chmod(self.workdir, 0o755)
            self.server = start_postgres(Path(self.workdir) / "data", "durable")
            # Fewer, later checkpoints so one does not land in the middle of a short run;
            # durability is untouched (fsync, synchronous_commit and full_page_writes stay on).
            psql(self.server.url(), "ALTER SYSTEM SET max_wal_size = '8GB'")
            psql(self.server.url(), "ALTER SYSTEM SET checkpoint_timeout = '30min'")
            psql(self.server.url(), "SELECT pg_reload_conf()")
        log(f"PostgreSQL: {self.server.describe()}")
        self.databases: list[str] = []

    def create_db(self, name: str, change_feed: str = "auto") -> str:
        """A fresh database booking_bench_<name>, migrated (the change feed in mode
        `change_feed`), with bench/sql/setup.sql's data; its URL."""
        name = f"booking_bench_{name}"
        self.server.drop_database(name)
        url = self.server.create_database(name)
        self.databases.append(name)
        env = dict(os.environ, DATABASE_URL=url, CHANGE_FEED=change_feed)
        subprocess.run(
            [PY, "-m", "app", "migrate"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        psql(url, file=SQL / "setup.sql")
        return url

    def settings(self) -> dict:
        """The server's version and the settings that decide its speed and durability."""
        return {name: psql(self.server.url(), f"SHOW {name}") for name in SETTINGS}

    def close(self) -> None:
        if self.keep:
            log(f"kept: {self.server.url()} databases {self.databases}")
            return
        for name in self.databases:
            try:
                self.server.drop_database(name)
            except RuntimeError:
                pass
        if self.workdir:
            self.server.remove()
            shutil.rmtree(self.workdir, ignore_errors=True)
