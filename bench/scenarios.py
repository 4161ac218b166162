"""The scenarios: what each one runs, next to its baseline, and on which database.

uncontended  raw INSERT vs book_appointment (with and without an idempotency key), 1,000 barbers
hot          one barber, many days
flash        a flash sale: every client on one barber-day (conflicts and deadlocks counted)
scale        book_appointment on a small and a large table (latency ratio)
read         the day's index scan vs free_slots, c=1
service      POST /appointments through the service (wrk) vs book_appointment in SQL
explain      the plans PostgreSQL runs inside the functions (auto_explain)
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
import time

from bench.measure import Row, Run, alternate, log, med, pgbench, summarize
from bench.report import RESULTS
from harness import ROOT
from harness.cluster import psql
from harness.service import ServiceProcess

MODES = {  # sizes: the scale scenario's tables (existing appointments)
    "full": {"rounds": 5, "seconds": 6.0, "clients": 8, "sizes": (10_000, 1_000_000)},
    "quick": {"rounds": 2, "seconds": 1.0, "clients": 8, "sizes": (10_000, 50_000)},
    "tiny": {"rounds": 1, "seconds": 0.5, "clients": 2, "sizes": (1_000, 3_000)},
}
FLASH_PER_DAY = 200  # flash-sale attempts per barber-day before moving to the next day


class Bench:
    """One run's scenarios (the parsed command line decides their size), and what they measured:
    the table's rows, the raw runs and the service scenario's status."""

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
            log(
                f"{scenario:<28} {r.variant:<26} {r.tps:9.0f} tps  p50 {r.p50_ms:7.3f} ms  "
                f"p99 {r.p99_ms:7.3f} ms  {r.ratio} {r.note}"
            )

    def uncontended(self, url):
        runs = alternate(
            {
                "raw INSERT": self.pg(url, "unc_raw"),
                "book_appointment": self.pg(url, "unc_book"),
                "book_appointment + key": self.pg(url, "unc_book_key"),
            },
            self.rounds,
        )
        self.keep(f"uncontended, 1,000 barbers, c={self.clients}", runs, "raw INSERT")

    def hot_days(self, url):
        runs = alternate(
            {"raw INSERT": self.pg(url, "hot_days_raw"), "book_appointment": self.pg(url, "hot_days_book")}, self.rounds
        )
        self.keep(f"hot barber, many days, c={self.clients}", runs, "raw INSERT")

    def flash(self, url):
        def counted(script):
            def run():
                before = psql(
                    url,
                    "SELECT (SELECT count(*) FROM booking.appointments WHERE barber_id = 1002), "
                    "(SELECT deadlocks FROM pg_stat_database WHERE datname = current_database())",
                )
                r = pgbench(url, script, self.clients, self.seconds, {"per_day": FLASH_PER_DAY})
                time.sleep(0.6)  # let the statistics collector see the deadlocks
                after = psql(
                    url,
                    "SELECT (SELECT count(*) FROM booking.appointments WHERE barber_id = 1002), "
                    "(SELECT deadlocks FROM pg_stat_database WHERE datname = current_database())",
                )
                (b_rows, b_dl), (a_rows, a_dl) = [map(int, s.split("|")) for s in (before, after)]
                booked = a_rows - b_rows
                r.extra = {
                    "attempts": r.count,
                    "booked": booked,
                    "deadlocks": a_dl - b_dl,
                    "conflicts": r.count - booked - (a_dl - b_dl),
                }
                return r

            return run

        runs = alternate({"raw INSERT": counted("flash_raw"), "book_appointment": counted("flash_book")}, self.rounds)
        notes = {}
        for name, rs in runs.items():
            att = sum(r.extra["attempts"] for r in rs)
            booked = sum(r.extra["booked"] for r in rs)
            conf = sum(r.extra["conflicts"] for r in rs)
            dl = sum(r.extra["deadlocks"] for r in rs)
            notes[name] = (
                f"{att} attempts: {booked} booked, {conf} conflicts (23P01)"
                + (f", {dl} deadlocks (40P01)" if dl else "")
                + f"; booked/s {med(r.extra['booked'] / max(self.seconds, 0.5) for r in rs):.0f}"
            )
        self.keep(f"flash sale, one barber-day, c={self.clients}", runs, "raw INSERT", notes=notes)

    def scale(self, urls: dict[int, str]):
        (small, small_url), (big, big_url) = sorted(urls.items())
        runs = alternate(
            {
                f"book, {small:,} rows": self.pg(small_url, "unc_book"),
                f"book, {big:,} rows": self.pg(big_url, "unc_book"),
                f"raw INSERT, {big:,} rows": self.pg(big_url, "unc_raw"),
            },
            self.rounds,
        )
        self.keep(f"scale, c={self.clients}", runs, f"book, {small:,} rows", ratio_by="p50")

    def read_path(self, url, rows: int):
        runs = alternate(
            {
                "index scan of the day": self.pg(url, "read_day", clients=1),
                "free_slots": self.pg(url, "read_free_slots", clients=1),
            },
            self.rounds,
        )
        self.keep(f"read path, {rows:,} rows, c=1", runs, "index scan of the day", ratio_by="p50")

    def service(self, url):
        if not shutil.which("wrk"):
            self.service_status = "skipped: wrk is not installed (apt-get install wrk)"
            log(self.service_status)
            return
        pool = str(max(self.clients, 2))
        with tempfile.TemporaryDirectory(prefix="bench-service.") as log_dir:
            server = ServiceProcess(
                url,
                users=(1,),
                log_dir=log_dir,
                # RATE_LIMIT_PER_MINUTE: the per-token limit would turn load into 429s
                env={"DB_POOL_MAX": pool, "DB_POOL_MIN": pool, "RATE_LIMIT_PER_MINUTE": "100000000"},
            )
            try:
                server.start()
            except (subprocess.CalledProcessError, RuntimeError) as e:
                server.stop()
                if isinstance(e, subprocess.CalledProcessError):
                    self.service_status = f"skipped: token create failed: {e.stderr.strip()[-300:]}"
                else:
                    self.service_status = f"skipped: the service did not start: {e}: {server.log_tail()[-500:]}"
                log(self.service_status)
                return
            try:
                self.compare_service(url, server.base, server.tokens[1])
            finally:
                server.stop()

    def compare_service(self, url, base, token):
        """book_appointment in SQL vs POST /appointments through the service at `base` (wrk)."""
        offsets = iter(range(1, 10_000))
        threads = min(2, self.clients)

        def wrk_run():
            offset = next(offsets) * 10_000_000
            secs = max(1, round(self.seconds))
            cmd = [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(self.clients),
                "-d",
                f"{secs}s",
                "--timeout",
                "5s",
                "-s",
                str(ROOT / "bench" / "wrk_book.lua"),
                base,
                "--",
                str(offset),
                token,
                str(threads),
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            out = proc.stdout
            if proc.returncode or "Requests/sec" not in out:
                raise RuntimeError(f"wrk failed: {proc.stdout}\n{proc.stderr}")
            failures = int(re.search(r"bench-failures (\d+)", out).group(1))
            reqs = int(re.search(r"(\d+) requests in", out).group(1))
            if failures:
                log(f"wrk: {failures} of {reqs} requests did not answer 201: {proc.stderr.strip()[:600]}")
            p = {k: int(v) / 1000 for k, v in re.findall(r"bench-latency-p(\d+)-us (\d+)", out)}
            return Run(
                tps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                p50_ms=p["50"],
                p99_ms=p["99"],
                count=reqs,
                failed=failures,
            )

        runs = alternate(
            {"book_appointment (SQL)": self.pg(url, "svc_direct"), "POST /appointments (wrk)": wrk_run}, self.rounds
        )
        failed = sum(r.failed for r in runs["POST /appointments (wrk)"])
        notes = {"POST /appointments (wrk)": f"{failed} non-201 answers" if failed else "all 201"}
        self.keep(f"service, c={self.clients}", runs, "book_appointment (SQL)", notes=notes)
        self.service_status = "ran"

    def explain(self, url, rows: int):
        """The plans PostgreSQL runs inside the functions (auto_explain, nested statements)."""
        self.explain_dir.mkdir(parents=True, exist_ok=True)
        prelude = (
            "LOAD 'auto_explain';\n"
            "SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;\n"
            "SET auto_explain.log_buffers = on; SET auto_explain.log_nested_statements = on;\n"
            "SET auto_explain.log_level = notice; SET client_min_messages = notice;\n"
        )
        cases = {
            "explain-conflict-check.txt": (
                (
                    "-- book_appointment on barber 500 (an existing history of rows) at a free time, in a\n"
                    "-- rolled-back transaction: the plans of every statement it runs, the trigger's\n"
                    "-- conflict check and the exclusion constraint's index included.\n"
                ),
                (
                    "BEGIN;\nSELECT id FROM booking.book_appointment(500, 1, 'Haircut', timestamptz '2035-06-01 10:00Z');\n"
                    "ROLLBACK;\n"
                    "BEGIN;\nSET LOCAL auto_explain.log_min_duration = -1;\n"
                    "EXPLAIN (ANALYZE, BUFFERS) SELECT a.id, a.blocked_during FROM booking.appointments a\n"
                    " WHERE a.barber_id = 500 AND a.blocked_during && tstzrange('2025-01-05 10:00Z', '2025-01-05 10:30Z')\n"
                    "   AND a.status NOT IN ('cancelled', 'no_show') AND a.id <> 0 LIMIT 1;\nROLLBACK;\n"
                ),
            ),
            "explain-slot-search.txt": (
                "-- booking.free_slots for the read barber's busy day (30 appointments).\n",
                "SELECT count(*) FROM booking.free_slots(1001, date '2031-06-02', 'Haircut');\n",
            ),
        }
        for fname, (comment, sql) in cases.items():
            proc = subprocess.run(
                ["psql", "-X", "-v", "ON_ERROR_STOP=1", url],
                input=prelude + sql,
                capture_output=True,
                text=True,
                check=False,
            )
            text = (
                f"-- {rows:,} existing appointments; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n"
                + comment
                + "\n"
                + sql
                + "\n"
                + proc.stderr.replace("NOTICE:  ", "")
                + proc.stdout
            )
            (self.explain_dir / fname).write_text(text)
        log(f"EXPLAIN output in {self.explain_dir.relative_to(ROOT)}/")
