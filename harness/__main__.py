"""Runs a command with DATABASE_URL pointing at a `booking` database, starting PostgreSQL if needed.

    python -m harness with-db throwaway -- CMD ...   a new server (data in a fresh /tmp directory), removed afterwards
    python -m harness with-db embedded -- CMD ...    the project's server, data in .pgdata/ or $PGDATA_DIR (kept)

The server is harness.cluster's choice (a container when a Docker engine answers, else a local
cluster); one line on stderr says which. When DATABASE_URL is already set, CMD simply runs
against it. CMD's exit status is this command's (128+N when a signal N ended it). Ctrl-C reaches
CMD from the terminal; SIGTERM and SIGHUP are passed on to it. Once CMD has ended, the server is
stopped: always in throwaway mode, in embedded mode only when this run started it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ROOT
from harness.cluster import select_postgres


def log(message: str) -> None:
    print(f"harness: {message}", file=sys.stderr, flush=True)


def embedded_datadir() -> Path:
    """.pgdata/ (or $PGDATA_DIR); as root, a directory in /var/tmp when the postgres OS user
    cannot reach the project's folder."""
    datadir = Path(os.environ.get("PGDATA_DIR") or ROOT / ".pgdata")
    if os.geteuid() == 0:
        reachable = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(datadir.parent)], check=False)
        if reachable.returncode:
            datadir = Path("/var/tmp/booking-pgdata-" + hashlib.md5(str(ROOT).encode()).hexdigest()[:12])
            log(f"the postgres user cannot reach {ROOT}; keeping the database in {datadir}")
    return datadir


def cannot_run(cmd: list[str], error: OSError) -> int:
    """A shell's answer to a command that does not start: 127 when not found, else 126."""
    log(f"{cmd[0]}: {error.strerror}")
    return 127 if isinstance(error, FileNotFoundError) else 126


def run_command(cmd: list[str], env: dict[str, str]) -> int:
    """Runs CMD to its end; returns its exit status (128+N when signal N ended it)."""
    try:
        proc = subprocess.Popen(cmd, env=env)
    except OSError as e:
        return cannot_run(cmd, e)

    def pass_on(signum, frame):
        if signum != signal.SIGINT:  # Ctrl-C: the terminal sent it to CMD as well
            proc.send_signal(signum)

    # Python handlers, not SIG_IGN: an ignored signal would stay ignored in CMD's children.
    previous = {s: signal.signal(s, pass_on) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        status = proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 - status if status < 0 else status


def with_db(mode: str, cmd: list[str]) -> int:
    if os.environ.get("DATABASE_URL"):
        log("PostgreSQL: the server of DATABASE_URL (already set)")
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            return cannot_run(cmd, e)
    workdir = None
    if mode == "throwaway":
        workdir = Path(tempfile.mkdtemp(prefix="booking-test.", dir="/tmp"))
        workdir.chmod(0o755)  # the postgres user must reach the data directory
        server = select_postgres(workdir / "data", "throwaway")
        started = True
    else:
        server = select_postgres(embedded_datadir(), "durable")
        started = not server.status()
    try:
        server.start()
        url = server.create_database("booking")
        log(f"PostgreSQL: {server.describe()}")
        return run_command(cmd, {**os.environ, "DATABASE_URL": url})
    except subprocess.CalledProcessError as e:  # scripts/pg.sh, which said why on stderr
        return e.returncode
    except RuntimeError as e:  # psql
        log(str(e))
        return 1
    except KeyboardInterrupt:  # while the server was starting
        return 128 + signal.SIGINT
    finally:
        # A second Ctrl-C must not leave the server running: SIG_IGN, which pg.sh inherits.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if workdir:
                server.remove()
                shutil.rmtree(workdir, ignore_errors=True)
            elif started:
                server.stop()
        finally:
            signal.signal(signal.SIGINT, previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    with_db_parser = commands.add_parser("with-db", help="run CMD with DATABASE_URL set")
    with_db_parser.add_argument("mode", choices=["throwaway", "embedded"])
    with_db_parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ...")
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        with_db_parser.error("no command to run")
    return with_db(args.mode, cmd)


if __name__ == "__main__":
    sys.exit(main())
