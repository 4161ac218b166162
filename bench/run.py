"""The benchmark harness: the engine and the service against the physical limit.

    python -m bench.run [--mode full|quick|tiny] [--rounds N] [--seconds T] [--clients C]
                        [--only NAME,...] [--no-docs] [--keep]

`make bench` runs the full mode, `make bench-quick` the quick one (under a minute).

Unless DATABASE_URL is set, it starts its own PostgreSQL cluster (scripts/pg.sh, durable:
fsync on, synchronous_commit on, full_page_writes on) in a temporary directory and removes
it afterwards; with DATABASE_URL it creates (and drops) its own databases on that server.

Every scenario runs next to its baseline in the same run, alternating them round by round
(the order flips every round), with pgbench custom scripts (bench/sql/*.sql, -c clients
-j 2 -T seconds) or wrk (bench/wrk_book.lua). The table reports medians over the rounds;
a ratio is the median of the per-round ratios (scenario / baseline, paired in time).
Results go to stdout, bench/results/<mode>.json and .md, and (full and quick) into
docs/BENCHMARKS.md between the markers of that mode; EXPLAIN output goes to docs/bench/
(full) or bench/results/ (other modes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
SQL = ROOT / "bench" / "sql"
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "BENCHMARKS.md"
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable

MODES = {
    #         rounds seconds clients  scale sizes (existing appointments)
    "full":  dict(rounds=5, seconds=6.0, clients=8, sizes=(10_000, 1_000_000)),
    "quick": dict(rounds=2, seconds=1.0, clients=8, sizes=(10_000, 50_000)),
    "tiny":  dict(rounds=1, seconds=0.5, clients=2, sizes=(1_000, 3_000)),
}
FLASH_PER_DAY = 200          # flash-sale attempts per barber-day before moving to the next day


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql", path="/" + dbname))


def psql(url: str, sql: str | None = None, file: Path | None = None, variables: dict | None = None,
         quiet: bool = True) -> str:
    cmd = ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", url]
    for k, v in (variables or {}).items():
        cmd += ["-v", f"{k}={v}"]
    if file:
        cmd += ["-f", str(file)]
    else:
        cmd += ["-c", sql]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"psql failed: {proc.stderr.strip()}\n{sql or file}")
    return proc.stdout.strip()


# --- the server ------------------------------------------------------------------------------

class Server:
    """Our own durable cluster (scripts/pg.sh), or the server of DATABASE_URL."""

    def __init__(self, keep: bool = False):
        self.keep = keep
        self.workdir = None
        self.external = bool(os.environ.get("DATABASE_URL"))
        if self.external:
            self.url = with_db(os.environ["DATABASE_URL"], "postgres")
        else:
            self.workdir = tempfile.mkdtemp(prefix="booking-bench.", dir="/var/tmp")
            os.chmod(self.workdir, 0o755)
            datadir = os.path.join(self.workdir, "data")
            subprocess.run([str(ROOT / "scripts" / "pg.sh"), "start", datadir, "durable"], check=True,
                           stdout=subprocess.DEVNULL)
            self.datadir = datadir
            self.url = subprocess.run([str(ROOT / "scripts" / "pg.sh"), "url", datadir, "postgres"],
                                      check=True, capture_output=True, text=True).stdout.strip()
            # Fewer, later checkpoints so one does not land in the middle of a short run;
            # durability is untouched (fsync, synchronous_commit and full_page_writes stay on).
            psql(self.url, "ALTER SYSTEM SET max_wal_size = '8GB'")
            psql(self.url, "ALTER SYSTEM SET checkpoint_timeout = '30min'")
            psql(self.url, "SELECT pg_reload_conf()")
        self.databases: list[str] = []

    def create_db(self, name: str) -> str:
        name = f"booking_bench_{name}"
        psql(self.url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        psql(self.url, f"CREATE DATABASE {name}")
        self.databases.append(name)
        url = with_db(self.url, name)
        env = dict(os.environ, DATABASE_URL=url)
        subprocess.run([PY, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        psql(url, file=SQL / "setup.sql")
        return url

    def settings(self) -> dict:
        names = ["server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method",
                 "shared_buffers", "max_wal_size", "checkpoint_timeout", "max_connections"]
        out = {}
        for n in names:
            out[n] = psql(self.url, f"SHOW {n}")
        return out

    def close(self) -> None:
        if self.keep:
            log(f"kept: {self.url} databases {self.databases}")
            return
        for name in self.databases:
            try:
                psql(self.url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except RuntimeError:
                pass
        if self.workdir:
            subprocess.run([str(ROOT / "scripts" / "pg.sh"), "stop", self.datadir], check=False)
            shutil.rmtree(self.workdir, ignore_errors=True)


# --- measurements ----------------------------------------------------------------------------

@dataclass
class Run:
    tps: float
    p50_ms: float
    p99_ms: float
    count: int
    failed: int = 0
    extra: dict = field(default_factory=dict)


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def pgbench(url: str, script: str, clients: int, seconds: float, defines: dict | None = None) -> Run:
    """One pgbench run of bench/sql/<script>.sql; latencies from its per-transaction log."""
    with tempfile.TemporaryDirectory(prefix="bench-log.") as tmp:
        cmd = ["pgbench", "-n", "-f", str(SQL / f"{script}.sql"), "-c", str(clients), "-j", str(min(2, clients)),
               "-l", "--log-prefix", os.path.join(tmp, "tx")]
        # tiny mode (the test suite's smoke run): a fixed number of transactions per client
        cmd += ["-T", str(max(1, round(seconds)))] if seconds >= 1 else ["-t", "20"]
        for k, v in (defines or {}).items():
            cmd += ["-D", f"{k}={v}"]
        cmd.append(url)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        out = proc.stdout + proc.stderr
        if proc.returncode or "aborted" in out and "transactions actually processed" not in out:
            raise RuntimeError(f"pgbench {script} failed:\n{out}")
        tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
        failed = int(m.group(1)) if (m := re.search(r"number of failed transactions: (\d+)", out)) else 0
        lat = []
        for path in glob.glob(os.path.join(tmp, "tx*")):
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3:
                        lat.append(int(parts[2]) / 1000.0)
        lat.sort()
        if "client" in out and "aborted" in out and re.search(r"client \d+ aborted", out):
            raise RuntimeError(f"pgbench {script}: a client aborted:\n{out}")
        return Run(tps=tps, p50_ms=percentile(lat, 50), p99_ms=percentile(lat, 99), count=len(lat), failed=failed)


def alternate(variants: dict, rounds: int) -> dict[str, list[Run]]:
    """Run every variant once per round, flipping the order each round."""
    names = list(variants)
    results: dict[str, list[Run]] = {n: [] for n in names}
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            results[name].append(variants[name]())
    return results


def med(values) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


@dataclass
class Row:
    scenario: str
    variant: str
    tps: float
    p50_ms: float
    p99_ms: float
    ratio: str = ""
    note: str = ""


def summarize(scenario: str, runs: dict[str, list[Run]], baseline: str, ratio_by: str = "tps",
              notes: dict | None = None) -> list[Row]:
    rows = []
    for name, rs in runs.items():
        ratio = ""
        if name != baseline and baseline in runs:
            base = runs[baseline]
            if ratio_by == "tps":
                pairs = [a.tps / b.tps for a, b in zip(rs, base) if b.tps]
                ratio = f"{med(pairs):.2f}x tps"
            else:   # latency: scenario p50 / baseline p50 (lower is better)
                pairs = [a.p50_ms / b.p50_ms for a, b in zip(rs, base) if b.p50_ms]
                ratio = f"{med(pairs):.2f}x p50"
        rows.append(Row(scenario, name, med(r.tps for r in rs), med(r.p50_ms for r in rs),
                        med(r.p99_ms for r in rs), ratio, (notes or {}).get(name, "")))
    return rows


# --- scenarios -------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.mode = MODES[args.mode]
        self.rounds = args.rounds or self.mode["rounds"]
        self.seconds = args.seconds or self.mode["seconds"]
        self.clients = args.clients or self.mode["clients"]
        self.rows: list[Row] = []
        self.raw: dict = {}
        self.explain_dir = (ROOT / "docs" / "bench") if args.mode == "full" and not args.no_docs else RESULTS
        self.service_status = "not run"

    def pg(self, url, script, clients=None, defines=None):
        return lambda: pgbench(url, script, clients or self.clients, self.seconds, defines)

    def keep(self, scenario, runs, baseline, **kw):
        self.raw[scenario] = {n: [r.__dict__ for r in rs] for n, rs in runs.items()}
        rows = summarize(scenario, runs, baseline, **kw)
        self.rows += rows
        for r in rows:
            log(f"{scenario:<28} {r.variant:<26} {r.tps:9.0f} tps  p50 {r.p50_ms:7.3f} ms  "
                f"p99 {r.p99_ms:7.3f} ms  {r.ratio} {r.note}")

    def uncontended(self, url):
        runs = alternate({"raw INSERT": self.pg(url, "unc_raw"),
                          "book_appointment": self.pg(url, "unc_book"),
                          "book_appointment + key": self.pg(url, "unc_book_key")}, self.rounds)
        self.keep(f"uncontended, 1,000 barbers, c={self.clients}", runs, "raw INSERT")

    def hot_days(self, url):
        runs = alternate({"raw INSERT": self.pg(url, "hot_days_raw"),
                          "book_appointment": self.pg(url, "hot_days_book")}, self.rounds)
        self.keep(f"hot barber, many days, c={self.clients}", runs, "raw INSERT")

    def flash(self, url):
        def counted(script):
            def run():
                before = psql(url, "SELECT (SELECT count(*) FROM booking.appointments WHERE barber_id = 1002), "
                                   "(SELECT deadlocks FROM pg_stat_database WHERE datname = current_database())")
                r = pgbench(url, script, self.clients, self.seconds, {"per_day": FLASH_PER_DAY})
                time.sleep(0.6)  # let the statistics collector see the deadlocks
                after = psql(url, "SELECT (SELECT count(*) FROM booking.appointments WHERE barber_id = 1002), "
                                  "(SELECT deadlocks FROM pg_stat_database WHERE datname = current_database())")
                (b_rows, b_dl), (a_rows, a_dl) = [map(int, s.split("|")) for s in (before, after)]
                booked = a_rows - b_rows
                r.extra = {"attempts": r.count, "booked": booked, "deadlocks": a_dl - b_dl,
                           "conflicts": r.count - booked - (a_dl - b_dl)}
                return r
            return run
        runs = alternate({"raw INSERT": counted("flash_raw"), "book_appointment": counted("flash_book")},
                         self.rounds)
        notes = {}
        for name, rs in runs.items():
            att = sum(r.extra["attempts"] for r in rs)
            booked = sum(r.extra["booked"] for r in rs)
            conf = sum(r.extra["conflicts"] for r in rs)
            dl = sum(r.extra["deadlocks"] for r in rs)
            notes[name] = (f"{att} attempts: {booked} booked, {conf} conflicts (23P01)"
                           + (f", {dl} deadlocks (40P01)" if dl else "")
                           + f"; booked/s {med(r.extra['booked'] / max(self.seconds, 0.5) for r in rs):.0f}")
        self.keep(f"flash sale, one barber-day, c={self.clients}", runs, "raw INSERT", notes=notes)

    def scale(self, urls: dict[int, str]):
        (small, small_url), (big, big_url) = sorted(urls.items())
        runs = alternate({f"book, {small:,} rows": self.pg(small_url, "unc_book"),
                          f"book, {big:,} rows": self.pg(big_url, "unc_book"),
                          f"raw INSERT, {big:,} rows": self.pg(big_url, "unc_raw")}, self.rounds)
        self.keep(f"scale, c={self.clients}", runs, f"book, {small:,} rows", ratio_by="p50")

    def read_path(self, url, rows: int):
        runs = alternate({"index scan of the day": self.pg(url, "read_day", clients=1),
                          "free_slots": self.pg(url, "read_free_slots", clients=1)}, self.rounds)
        self.keep(f"read path, {rows:,} rows, c=1", runs, "index scan of the day", ratio_by="p50")

    def service(self, url):
        if not shutil.which("wrk"):
            self.service_status = "skipped: wrk is not installed (apt-get install wrk)"
            log(self.service_status)
            return
        port = free_port()
        env = dict(os.environ, DATABASE_URL=url, HOST="127.0.0.1", PORT=str(port), LOG_LEVEL="WARNING",
                   DB_POOL_MAX=str(max(self.clients, 2)), DB_POOL_MIN=str(max(self.clients, 2)),
                   RATE_LIMIT_PER_MINUTE="100000000")   # the per-token limit would turn load into 429s
        token = subprocess.run([PY, "-m", "app", "token", "create", "--user-id", "1", "--role", "client"],
                               cwd=ROOT, env=env, capture_output=True, text=True)
        if token.returncode:
            self.service_status = f"skipped: token create failed: {token.stderr.strip()[-300:]}"
            log(self.service_status)
            return
        token = token.stdout.strip().splitlines()[-1]
        server = subprocess.Popen([PY, "-m", "app", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 30
            while True:
                try:
                    with urllib.request.urlopen(base + "/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except Exception:
                    pass
                if server.poll() is not None or time.time() > deadline:
                    self.service_status = "skipped: the service did not start: " + (
                        server.stderr.read()[-500:] if server.poll() is not None else "no /health")
                    log(self.service_status)
                    return
                time.sleep(0.2)
            offsets = iter(range(1, 10_000))
            threads = min(2, self.clients)

            def wrk_run():
                offset = next(offsets) * 10_000_000
                secs = max(1, round(self.seconds))
                cmd = ["wrk", "-t", str(threads), "-c", str(self.clients), "-d", f"{secs}s", "--timeout", "5s",
                       "-s", str(ROOT / "bench" / "wrk_book.lua"), base, "--", str(offset), token, str(threads)]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                out = proc.stdout
                if proc.returncode or "Requests/sec" not in out:
                    raise RuntimeError(f"wrk failed: {proc.stdout}\n{proc.stderr}")
                failures = int(re.search(r"bench-failures (\d+)", out).group(1))
                reqs = int(re.search(r"(\d+) requests in", out).group(1))
                if failures:
                    log(f"wrk: {failures} of {reqs} requests did not answer 201: {proc.stderr.strip()[:600]}")
                p = {k: int(v) / 1000 for k, v in re.findall(r"bench-latency-p(\d+)-us (\d+)", out)}
                return Run(tps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                           p50_ms=p["50"], p99_ms=p["99"], count=reqs, failed=failures)

            runs = alternate({"book_appointment (SQL)": self.pg(url, "svc_direct"),
                              "POST /appointments (wrk)": wrk_run}, self.rounds)
            failed = sum(r.failed for r in runs["POST /appointments (wrk)"])
            notes = {"POST /appointments (wrk)": f"{failed} non-201 answers" if failed else "all 201"}
            self.keep(f"service, c={self.clients}", runs, "book_appointment (SQL)", notes=notes)
            self.service_status = "ran"
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)

    def explain(self, url, rows: int):
        """The plans PostgreSQL runs inside the functions (auto_explain, nested statements)."""
        self.explain_dir.mkdir(parents=True, exist_ok=True)
        prelude = ("LOAD 'auto_explain';\n"
                   "SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;\n"
                   "SET auto_explain.log_buffers = on; SET auto_explain.log_nested_statements = on;\n"
                   "SET auto_explain.log_level = notice; SET client_min_messages = notice;\n")
        cases = {
            "explain-conflict-check.txt": (
                "-- book_appointment on barber 500 (an existing history of rows) at a free time, in a\n"
                "-- rolled-back transaction: the plans of every statement it runs, the trigger's\n"
                "-- conflict check and the exclusion constraint's index included.\n",
                "BEGIN;\nSELECT id FROM booking.book_appointment(500, 1, 'Haircut', timestamptz '2035-06-01 10:00Z');\n"
                "ROLLBACK;\n"
                "BEGIN;\nSET LOCAL auto_explain.log_min_duration = -1;\n"
                "EXPLAIN (ANALYZE, BUFFERS) SELECT a.id, a.blocked_during FROM booking.appointments a\n"
                " WHERE a.barber_id = 500 AND a.blocked_during && tstzrange('2025-01-05 10:00Z', '2025-01-05 10:30Z')\n"
                "   AND a.status NOT IN ('cancelled', 'no_show') AND a.id <> 0 LIMIT 1;\nROLLBACK;\n"),
            "explain-slot-search.txt": (
                "-- booking.free_slots for the read barber's busy day (30 appointments).\n",
                "SELECT count(*) FROM booking.free_slots(1001, date '2031-06-02', 'Haircut');\n"),
        }
        for fname, (comment, sql) in cases.items():
            proc = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", url], input=prelude + sql,
                                  capture_output=True, text=True)
            text = (f"-- {rows:,} existing appointments; {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC\n"
                    + comment + "\n" + sql + "\n" + proc.stderr.replace("NOTICE:  ", "") + proc.stdout)
            (self.explain_dir / fname).write_text(text)
        log(f"EXPLAIN output in {self.explain_dir.relative_to(ROOT)}/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    os_name = platform.platform()
    try:
        os_name = re.search(r'PRETTY_NAME="([^"]+)"', open("/etc/os-release").read()).group(1)
    except (OSError, AttributeError):
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "memory": mem, "os": os_name, "kernel": platform.release()}


def render(bench: Bench, settings: dict, mach: dict, command: str, started: str, elapsed: float) -> str:
    a = bench.args
    lines = [
        f"Run of {started} UTC, mode `{a.mode}`, {elapsed:.0f} s: `{command}`",
        "",
        f"- Machine: {mach['cores']} cores ({mach['cpu']}), {mach['memory']}, {mach['os']}, Linux {mach['kernel']}",
        f"- PostgreSQL {settings['server_version']}: fsync={settings['fsync']}, "
        f"synchronous_commit={settings['synchronous_commit']}, full_page_writes={settings['full_page_writes']}, "
        f"wal_sync_method={settings['wal_sync_method']}, shared_buffers={settings['shared_buffers']}, "
        f"max_wal_size={settings['max_wal_size']}, checkpoint_timeout={settings['checkpoint_timeout']}",
        f"- Each variant: {bench.rounds} rounds of {bench.seconds:g} s, alternating with its baseline "
        f"(order flipped every round); pgbench -c {bench.clients} -j 2 unless the scenario says c=1; "
        "medians over rounds; a ratio is the median of per-round paired ratios.",
        f"- Service scenario: {bench.service_status}.",
        "",
        "| scenario | variant | tps | p50 ms | p99 ms | ratio | note |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in bench.rows:
        lines.append(f"| {r.scenario} | {r.variant} | {r.tps:.0f} | {r.p50_ms:.3f} | {r.p99_ms:.3f} | "
                     f"{r.ratio} | {r.note} |")
    return "\n".join(lines) + "\n"


def write_docs(mode: str, text: str) -> None:
    begin, end = f"<!-- bench-{mode}:begin -->", f"<!-- bench-{mode}:end -->"
    doc = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    block = f"{begin}\n{text}{end}"
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip("\n") + f"\n\n## Latest `{mode}` run\n\n{block}\n"
    DOCS.write_text(doc)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=list(MODES), default="quick")
    p.add_argument("--rounds", type=int)
    p.add_argument("--seconds", type=float)
    p.add_argument("--clients", type=int)
    p.add_argument("--only", help="comma-separated: uncontended,hot,flash,scale,read,service,explain")
    p.add_argument("--no-docs", action="store_true", help="do not write docs/BENCHMARKS.md")
    p.add_argument("--keep", action="store_true", help="keep the cluster and databases (debugging)")
    args = p.parse_args(argv)
    if args.mode == "tiny":
        args.no_docs = True
    only = set(args.only.split(",")) if args.only else None
    want = lambda name: only is None or name in only   # noqa: E731
    for tool in ("pgbench", "psql"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is not on PATH (apt-get install postgresql-client)")

    command = os.environ.get("BENCH_COMMAND") or "python -m bench.run " + " ".join(
        argv if argv is not None else sys.argv[1:])
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    t0 = time.time()
    bench = Bench(args)
    server = Server(keep=args.keep)
    try:
        settings = server.settings()
        log(f"PostgreSQL {settings['server_version']}, fsync={settings['fsync']}, "
            f"synchronous_commit={settings['synchronous_commit']}; {bench.rounds} rounds x {bench.seconds:g} s, "
            f"c={bench.clients}")
        main_url = server.create_db("main") if (want("uncontended") or want("hot") or want("flash")
                                                or want("service")) else None
        if want("uncontended"):
            bench.uncontended(main_url)
        if want("hot"):
            bench.hot_days(main_url)
        if want("flash"):
            bench.flash(main_url)
        if want("scale") or want("read") or want("explain"):
            urls = {}
            for size in bench.mode["sizes"]:
                t = time.time()
                url = server.create_db(f"rows_{size}")
                psql(url, file=SQL / "load_existing.sql", variables={"rows": size})
                psql(url, "VACUUM ANALYZE")
                log(f"loaded {size:,} existing appointments in {time.time() - t:.0f} s")
                urls[size] = url
            big = max(urls)
            if want("scale"):
                bench.scale(urls)
            if want("read"):
                bench.read_path(urls[big], big)
            if want("explain"):
                bench.explain(urls[big], big)
        if want("service"):
            bench.service(main_url)
    finally:
        server.close()
    elapsed = time.time() - t0
    text = render(bench, settings, machine(), command, started, elapsed)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.mode}.md").write_text(text)
    (RESULTS / f"{args.mode}.json").write_text(json.dumps(
        {"settings": settings, "machine": machine(), "command": command, "started": started,
         "rows": [r.__dict__ for r in bench.rows], "runs": bench.raw, "service": bench.service_status},
        indent=1))
    if not args.no_docs:
        write_docs(args.mode, text)
        log(f"wrote {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
