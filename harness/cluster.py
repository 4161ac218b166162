"""A PostgreSQL server that the tools and tests start, crash and create databases on.

    start_postgres(datadir, mode)    a container when a Docker engine answers, else a local cluster
                                     (BOOKING_POSTGRES=local|container|auto forces the choice)
    LocalCluster(datadir, mode)      scripts/pg.sh's cluster in datadir (a Unix socket, no TCP port)
    ContainerCluster(datadir, mode)  testcontainers' PostgresContainer
    ExternalServer(url)              a server run by someone else (DATABASE_URL): its databases only

A mode is one of scripts/pg.sh's (`scripts/pg.sh settings MODE` prints it): `durable` keeps
PostgreSQL's durability (fsync, synchronous_commit, full_page_writes on), `throwaway` turns it
off for speed. Both servers have one interface: start(), stop(), crash() (immediate shutdown: no
checkpoint, the WAL is replayed at the next start), remove() (stop and delete the data), status(),
url(dbname), create_database(name), drop_database(name), describe().

The container's image is $BOOKING_PG_IMAGE (default postgres:15). It must carry btree_gist (a
contrib extension: the official images have it) and, for `make test`, pgTAP (the official images
do not: build one FROM postgres:15 that runs `apt-get install -y postgresql-15-pgtap`). Like any
testcontainers database it is published on a host port, with a fixed test password. Its data
lives in a Docker volume named after datadir, so that, as with a local cluster, the data outlives
the server (and `make run`'s embedded database is kept) until remove().
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from os import environ
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from harness import ROOT
from harness.net import free_port

PG_SH = str(ROOT / "scripts" / "pg.sh")
DEFAULT_IMAGE = "postgres:15"
USER = PASSWORD = "postgres"  # the container's superuser (a local cluster's is `postgres`, trusted)


def psql(url: str, sql: str | None = None, *, file: Path | None = None, variables: dict | None = None) -> str:
    """Runs `sql` (or `file`) with psql on `url`, stopping at the first error (RuntimeError);
    returns the output, unaligned and without headers."""
    cmd = ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", url]
    for name, value in (variables or {}).items():
        cmd += ["-v", f"{name}={value}"]
    cmd += ["-f", str(file)] if file else ["-c", sql]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"psql failed: {proc.stderr.strip()}\n{sql or file}")
    return proc.stdout.strip()


def database_url(url: str, dbname: str) -> str:
    """The libpq URL of database `dbname` on the server of `url`."""
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql", path="/" + dbname))


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def drop_database_sql(name: str) -> str:
    """Statements that drop database `name`: its sessions end, and its replication slots
    (the change feed's, mode logical) go first, since PostgreSQL refuses to drop a database
    that a slot still reads."""
    return (
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {_literal(name)} "
        f"AND pid <> pg_backend_pid();\n"
        f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
        f"WHERE database = {_literal(name)} AND NOT active;\n"
        f"DROP DATABASE IF EXISTS {_identifier(name)} WITH (FORCE);"
    )


class _Databases:
    """Creating and dropping databases, over the server's url(dbname)."""

    def url(self, dbname: str = "postgres") -> str:
        raise NotImplementedError

    def create_database(self, name: str) -> str:
        """Creates database `name` unless it exists; returns its URL."""
        admin = self.url("postgres")
        if not psql(admin, f"SELECT 1 FROM pg_database WHERE datname = {_literal(name)}"):
            psql(admin, f"CREATE DATABASE {_identifier(name)}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drops database `name` if it exists, ending its sessions."""
        for statement in drop_database_sql(name).splitlines():
            psql(self.url("postgres"), statement)


class LocalCluster(_Databases):
    """scripts/pg.sh's cluster in `datadir`; pg.sh's failures raise CalledProcessError (its message on stderr)."""

    def __init__(self, datadir: str | Path, mode: str = "throwaway", *, reason: str = ""):
        self.datadir = Path(datadir)
        self.mode = mode
        self.reason = reason  # why this kind of server, for describe()

    def _pg(self, *args: str) -> str:
        return subprocess.run([PG_SH, *args], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()

    def start(self) -> None:
        """Starts the server (initdb first when datadir is new); returns once it accepts connections."""
        self._pg("start", str(self.datadir), self.mode)

    def stop(self) -> None:
        """Fast shutdown; no error when it does not run."""
        self._pg("stop", str(self.datadir))

    def crash(self) -> None:
        """Immediate shutdown (no checkpoint: the next start replays the WAL); no error when it does not run."""
        self._pg("crash", str(self.datadir))

    def remove(self) -> None:
        """Stops the server and deletes datadir."""
        self.stop()
        shutil.rmtree(self.datadir, ignore_errors=True)

    def status(self) -> bool:
        """True when the server runs."""
        return subprocess.run([PG_SH, "status", str(self.datadir)], capture_output=True, check=False).returncode == 0

    def url(self, dbname: str = "postgres") -> str:
        return self._pg("url", str(self.datadir), dbname)

    def describe(self) -> str:
        return f"local cluster in {self.datadir}" + (f" ({self.reason})" if self.reason else "")


class ContainerCluster(_Databases):
    """PostgreSQL in a Docker container (testcontainers), with the mode's settings as -c flags."""

    def __init__(self, datadir: str | Path, mode: str = "throwaway", *, image: str = "", reason: str = ""):
        self.datadir = Path(datadir).resolve()
        self.mode = mode
        self.image = image or environ.get("BOOKING_PG_IMAGE") or DEFAULT_IMAGE
        self.volume = "booking-pgdata-" + hashlib.md5(str(self.datadir).encode()).hexdigest()[:12]
        self.reason = reason
        self._container = None  # testcontainers' PostgresContainer, once created
        self._address = ""  # host:port, fixed for the container's life (restarts included)

    def start(self) -> None:
        """Creates and starts the container, or restarts it after stop() or crash(); returns once
        PostgreSQL accepts connections."""
        if self._container is None:
            self._create()
            return
        container = self._container.get_wrapped_container()
        container.reload()
        if container.status != "running":
            container.start()
            self._wait_ready()

    def _create(self) -> None:
        try:
            from testcontainers.community.postgres import PostgresContainer
        except ImportError:  # testcontainers before the `community` package (pyproject allows >= 4.8)
            from testcontainers.postgres import PostgresContainer

        settings = subprocess.run([PG_SH, "settings", self.mode], check=True, capture_output=True, text=True).stdout
        flags = [arg for line in settings.splitlines() for arg in ("-c", line.replace(" = ", "=", 1))]
        container = (
            PostgresContainer(self.image, username=USER, password=PASSWORD, dbname="postgres", driver=None)
            .with_bind_ports(5432, free_port())  # a fixed host port: the URL survives restarts
            .with_volume_mapping(self.volume, "/var/lib/postgresql/data", "rw")
            .with_command(["postgres", *flags])
            .with_kwargs(shm_size="256m")
        )
        try:
            container.start()  # waits until PostgreSQL answers
            self._address = f"{container.get_container_host_ip()}:{container.get_exposed_port(5432)}"
        except BaseException:
            container.stop()
            raise
        self._container = container

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self._container.exec(["pg_isready", "-q", "-h", "127.0.0.1", "-U", USER]).exit_code != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.describe()}: PostgreSQL did not accept connections in {timeout:.0f} s")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stops the container (PostgreSQL's fast shutdown); its data stays."""
        if self._container is not None:
            self._container.get_wrapped_container().stop(timeout=30)

    def crash(self) -> None:
        """`docker kill`: PostgreSQL dies without a checkpoint; no error when it does not run."""
        import docker

        if self._container is not None:
            try:
                self._container.get_wrapped_container().kill()
            except docker.errors.APIError:
                pass

    def remove(self) -> None:
        """Removes the container and the volume of its data."""
        import docker

        if self._container is not None:
            self._container.stop()  # testcontainers' stop removes the container
            self._container = None
        client = docker.from_env()
        try:
            client.volumes.get(self.volume).remove(force=True)
        except docker.errors.NotFound:
            pass
        finally:
            client.close()

    def status(self) -> bool:
        if self._container is None:
            return False
        container = self._container.get_wrapped_container()
        container.reload()
        return container.status == "running"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}:{PASSWORD}@{self._address}/{dbname}"

    def describe(self) -> str:
        where = f" on {self._address}" if self._address else ""
        return f"testcontainers {self.image}{where}, volume {self.volume}" + (
            f" ({self.reason})" if self.reason else ""
        )


Cluster = LocalCluster | ContainerCluster
"""What start_postgres() returns: a server the caller starts, stops, crashes and removes."""


class ExternalServer(_Databases):
    """A server run by someone else (DATABASE_URL): databases are created and dropped on it; it is
    never started, stopped or crashed here."""

    def __init__(self, url: str):
        self._url = url

    def url(self, dbname: str = "postgres") -> str:
        return database_url(self._url, dbname)

    def describe(self) -> str:
        parts = urlsplit(self._url)
        host = parts.hostname or parse_qs(parts.query).get("host", ["the default host"])[-1]
        return f"the existing server on {host}"


def docker_available(timeout: float = 2.0) -> bool:
    """True when a Docker engine answers the docker SDK's ping within `timeout` seconds
    (DOCKER_HOST honoured); any failure, the SDK missing included, means no."""
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - no engine, no SDK, a bad DOCKER_HOST: all mean no
        return False


def select_postgres(datadir: str | Path, mode: str = "throwaway") -> Cluster:
    """The server start_postgres() starts, not started yet. BOOKING_POSTGRES chooses:
    `local` (a cluster in datadir, over scripts/pg.sh), `container` (testcontainers), or
    `auto`, the default: a container when docker_available(), else a local cluster."""
    choice = environ.get("BOOKING_POSTGRES", "auto").strip().lower() or "auto"
    if choice not in ("auto", "local", "container"):
        raise SystemExit(f"BOOKING_POSTGRES must be auto, local or container, not {choice!r}")
    if choice == "local":
        return LocalCluster(datadir, mode, reason="BOOKING_POSTGRES=local")
    if choice == "container":
        return ContainerCluster(datadir, mode, reason="BOOKING_POSTGRES=container")
    if docker_available():
        return ContainerCluster(datadir, mode, reason="Docker engine found")
    return LocalCluster(datadir, mode, reason="no Docker engine")


def start_postgres(datadir: str | Path, mode: str = "throwaway") -> Cluster:
    """A running PostgreSQL of `mode` (durable|throwaway) with its data in (or named after) datadir."""
    server = select_postgres(datadir, mode)
    server.start()
    return server
