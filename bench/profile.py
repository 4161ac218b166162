"""`python -m bench.profile` (`make bench-profile`): where a request's time goes, as py-spy
flame graphs and a table of shares by layer.

It starts its own durable PostgreSQL (as bench.run does; DATABASE_URL: a database on that
server), the service (`python -m app serve`) and the minimal ASGI app
(bench/asgi_baseline.py), puts each under the same wrk load as the service scenario of
`make bench` (POST /appointments, bench/wrk_book.lua), and samples it with py-spy (`record`,
100 Hz, `--gil`: only the thread holding the interpreter, which is what limits a
one-process server; a thread waiting on the database without it costs nothing there). It writes:

  docs/bench/service-flame.svg         the service
  docs/bench/asgi-baseline-flame.svg   the minimal app doing the same call
  docs/bench/service-profile.md        the share of samples by layer, both processes
  docs/bench/*-profile.collapsed.txt   py-spy's raw stacks (the table is computed from them)

A sample is given to the layer of the innermost frame that belongs to one (LAYERS, in
order): time in asyncpg under a handler is asyncpg's, time in Litestar's routing is
Litestar's. py-spy needs ptrace (root, or CAP_SYS_PTRACE).

    python -m bench.profile [--seconds 15] [--clients 8] [--out docs/bench]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from bench.scenarios import Bench
from bench.server import BenchServer
from harness import ROOT
from harness.service import ServiceProcess

# (layer, a substring of the frame's file path or function) in the order they are tried,
# innermost frame first: the first match owns the sample.
LAYERS = (
    ("asyncpg: the driver (protocol, pool, codecs)", ("asyncpg/",)),
    ("prometheus_client: metrics", ("prometheus_client/",)),
    ("logging", ("/logging/",)),
    ("msgspec / json: encoding and decoding", ("msgspec/", "/json/")),
    ("app: the token check and its cache (app/web/auth.py)", ("app/web/auth.py",)),
    ("app: admission (app/web/admission.py)", ("app/web/admission.py",)),
    ("app: middleware (latency, json_bodies, security headers, HEAD)", ("app/web/middleware.py",)),
    (
        "app: handlers, booking calls, records",
        (
            "app/web/",
            "app/booking.py",
            "app/reads.py",
            "app/records.py",
            "app/gateway.py",
            "app/ratelimit.py",
            "limits/",
        ),
    ),
    ("bench: the minimal app", ("bench/asgi_baseline.py",)),
    ("litestar: routing, DI, requests, responses", ("litestar/",)),
    ("uvicorn + httptools: HTTP parsing, the protocol", ("uvicorn/", "httptools/")),
    ("asyncio / uvloop: the event loop", ("asyncio/", "uvloop/")),
)
OTHER = "other (the interpreter, threading, unattributed)"


# Work in threads of its own, not on the request path, named first whatever it calls.
THREADS = (("the change feed's relay (its own thread, app/relay.py)", "app/relay.py"),)


def classify(stack: str) -> str:
    for layer, needle in THREADS:
        if needle in stack:
            return layer
    frames = stack.split(";")
    for frame in reversed(frames):
        for layer, needles in LAYERS:
            if any(n in frame for n in needles):
                return layer
    return OTHER


def shares(raw: Path) -> tuple[dict[str, int], int]:
    """{layer: samples} from py-spy's raw (collapsed) output."""
    counts: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        counts[classify(stack)] += int(n)
        total += int(n)
    return counts, total


def record(pid: int, seconds: float, out: Path, fmt: str, load) -> None:
    spy = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
    cmd = [
        spy,
        "record",
        "--pid",
        str(pid),
        "--rate",
        "100",
        "--duration",
        str(round(seconds)),
        "--format",
        fmt,
        "--output",
        str(out),
        "--nonblocking",
        "--gil",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)
    load()
    output, _ = proc.communicate(timeout=seconds + 60)
    if proc.returncode or not out.exists():
        raise SystemExit(f"py-spy failed ({proc.returncode}): {output[-800:]}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.profile", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--out", default=str(ROOT / "docs" / "bench"))
    args = p.parse_args(argv)
    for tool in ("wrk",):
        if not shutil.which(tool):
            sys.exit(f"bench.profile: {tool} is not on PATH (bench/install-tools.sh)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    bench = Bench(SimpleNamespace(mode="quick", rounds=1, seconds=args.seconds, clients=args.clients, no_docs=True))
    server = BenchServer()
    results = {}
    try:
        url = server.create_db("profile")
        pool = str(max(args.clients, 2))
        env = {"DB_POOL_MAX": pool, "DB_POOL_MIN": pool, "RATE_LIMIT_PER_MINUTE": "0", "LOG_LEVEL": "INFO"}
        with tempfile.TemporaryDirectory(prefix="bench-profile.") as log_dir:
            service = ServiceProcess(url, users=(1,), log_dir=log_dir, env=env)
            service.start()
            token = service.tokens[1]
            try:
                for name, command, svg in (
                    ("the service", ("-m", "app", "serve"), "service-flame.svg"),
                    ("the minimal ASGI app", ("-m", "bench.asgi_baseline"), "asgi-baseline-flame.svg"),
                ):
                    target = (
                        service
                        if command[1] == "app"
                        else ServiceProcess(url, log_dir=os.path.join(log_dir, "baseline"), env=env, command=command)
                    )
                    if target is not service:
                        target.start()
                    try:
                        pid = target.proc.pid
                        runs: list = []
                        wrk = bench.wrk(target.base, token)
                        record(pid, args.seconds, out / svg, "flamegraph", lambda w=wrk, r=runs: r.append(w()))
                        raw = out / svg.replace("-flame.svg", "-profile.collapsed.txt")
                        record(pid, args.seconds, raw, "raw", lambda w=wrk, r=runs: r.append(w()))
                        counts, total = shares(raw)
                        results[name] = (counts, total, runs, svg)
                    finally:
                        if target is not service:
                            target.stop()
            finally:
                service.stop()
    finally:
        server.close()
    lines = [
        "# Where a request's time goes",
        "",
        f"`python -m bench.profile --seconds {args.seconds:g} --clients {args.clients}` (`make bench-profile`), "
        f"taken {started} UTC on this 2-core machine: POST /appointments under wrk "
        f"(c={args.clients}), each process sampled by py-spy at 100 Hz, the thread holding the interpreter (`--gil`). Flame graphs: "
        + ", ".join(f"[{n}]({r[3]})" for n, r in results.items())
        + ".",
        "",
        "A sample belongs to the layer of its innermost frame that is in one (bench/profile.py, LAYERS).",
        "",
        "| layer | " + " | ".join(results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    layers = [name for name, _ in LAYERS] + [name for name, _ in THREADS] + [OTHER]
    for layer in layers:
        cells = []
        for counts, total, _, _ in results.values():
            cells.append(f"{100 * counts.get(layer, 0) / total:.1f}%" if total else "-")
        if any(c not in ("0.0%", "-") for c in cells):
            lines.append(f"| {layer} | " + " | ".join(cells) + " |")
    lines.append("| samples | " + " | ".join(str(r[1]) for r in results.values()) + " |")
    lines.append(
        "| requests/s while sampled (wrk, median of the two runs) | "
        + " | ".join(f"{sorted(x.tps for x in r[2])[len(r[2]) // 2]:.0f}" for r in results.values())
        + " |"
    )
    text = "\n".join(lines) + "\n"
    (out / "service-profile.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
