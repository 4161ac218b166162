"""The scenarios: what each one runs, next to its baseline, and on which database.

The baseline of the engine is the physical limit: a bare INSERT of the same row into
bench.bare_appointments, a copy of booking.appointments with its columns, generated column,
constraints, indexes and barber foreign key but none of our triggers (bench/sql/setup.sql).
The ratios against a raw INSERT into booking.appointments (with our triggers), the baseline
of earlier reports, are kept in the notes so the history reads on. The change feed's relay
runs during every engine scenario (`python -m app relay`), so its cost is in the figures.

uncontended  bare INSERT vs raw INSERT vs book_appointment (with and without an idempotency
             key; and with the change feed in mode outbox), 1,000 barbers
hot          one barber, many days
sse          a booking's way to a connected Server-Sent Events subscriber, under the
             uncontended load: commit to receipt
flash        a flash sale: every client on one barber-day (conflicts and deadlocks counted)
scale        book_appointment on a small and a large table (latency ratio; load time and size)
growth       tps against clients (1..32); p99 of a booking and p50 of the slot search against
             the bookings on the barber's day
read         the day's index scan vs free_slots, c=1
service      POST /appointments through the service (wrk) vs the same call in SQL, and vs a
             minimal ASGI app doing the same call (bench/asgi_baseline.py)
layers       the service against itself without one layer (bench/layers.py: each
             middleware, the token cache), one layer at a time
explain      the plans PostgreSQL runs inside the functions (auto_explain)
partitioned  book_appointment through a cluster's PL/Proxy proxy vs the same call on the
             partition directly (one partition), and one shop vs two shops on two
             partitions through the proxy (bench/partitioned.py; issue 14)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
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
    "full": {"rounds": 5, "seconds": 6.0, "clients": 8, "sizes": (10_000, 10_000_000)},
    "quick": {"rounds": 2, "seconds": 1.0, "clients": 8, "sizes": (10_000, 50_000)},
    "tiny": {"rounds": 1, "seconds": 0.5, "clients": 2, "sizes": (1_000, 3_000)},
}
FLASH_PER_DAY = 200  # flash-sale attempts per barber-day before moving to the next day
GROWTH_CLIENTS = (1, 2, 4, 8, 16, 32)
DAY_BOOKINGS = (0, 16, 64, 256)  # bench/sql/setup.sql: barber 1100 + k has k bookings on its day
SSE_STREAMS = 50  # subscribers, one per barber 1..SSE_STREAMS
BARE = "bare INSERT"
RAW = "raw INSERT (with our triggers)"
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else "python3"


@contextlib.contextmanager
def relay(url: str, log_dir: str | None = None):
    """The change feed's relay (`python -m app relay`) on `url` while the block runs."""
    env = dict(os.environ, DATABASE_URL=url, LOG_LEVEL="WARNING")
    with open(os.path.join(log_dir or tempfile.gettempdir(), "bench-relay.log"), "ab") as out:
        proc = subprocess.Popen([PY, "-m", "app", "relay"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


class Bench:
    """One run's scenarios (the parsed command line decides their size), and what they measured:
    the table's rows, the raw runs, the targets and the service scenario's status."""

    def __init__(self, args):
        self.args = args
        self.mode = MODES[args.mode]
        self.rounds = args.rounds or self.mode["rounds"]
        self.seconds = args.seconds or self.mode["seconds"]
        self.clients = args.clients or self.mode["clients"]
        self.rows: list[Row] = []
        self.raw: dict = {}
        self.facts: list[str] = []  # load times, sizes: printed under the table
        self.explain_dir = (ROOT / "docs" / "bench") if args.mode == "full" and not args.no_docs else RESULTS
        self.service_status = "not run"
        self._wrk_offsets = iter(range(1, 1_000_000))
        self._part_bases = iter(range(0, 10**12, 2_000_000))  # bench/sql/part_book.sql's :base
        self.layers_wanted = True  # bench.run turns it off with --only service

    def pg(self, url, script, clients=None, defines=None):
        return lambda: pgbench(url, script, clients or self.clients, self.seconds, defines)

    def keep(self, scenario, runs, baseline, **kw):
        self.raw[scenario] = {n: [r.__dict__ for r in rs] for n, rs in runs.items()}
        rows = summarize(scenario, runs, baseline, **kw)
        self.rows += rows
        for r in rows:
            log(
                f"{scenario:<28} {r.variant:<34} {r.tps:9.0f} tps  p50 {r.p50_ms:7.3f} ms  "
                f"p99 {r.p99_ms:7.3f} ms  {r.ratio} {r.note}"
            )

    def row(self, scenario: str, variant: str) -> Row | None:
        return next((r for r in self.rows if r.scenario.startswith(scenario) and r.variant == variant), None)

    # --- the engine against the physical limit ---------------------------------------------
    def uncontended(self, url, outbox_url=None, no_trigger_url=None):
        variants = {
            BARE: self.pg(url, "unc_bare"),
            RAW: self.pg(url, "unc_raw"),
            "book_appointment": self.pg(url, "unc_book"),
            "book_appointment + key": self.pg(url, "unc_book_key"),
        }
        if outbox_url:
            variants["book_appointment, feed in mode outbox"] = self.pg(outbox_url, "unc_book")
        if no_trigger_url:  # what the overlap trigger's probe costs a booking (issue 13, item 2)
            variants["book_appointment, overlap trigger off"] = self.pg(no_trigger_url, "unc_book")
        runs = alternate(variants, self.rounds)
        self.keep(f"uncontended, 1,000 barbers, c={self.clients}", runs, BARE, also=(RAW,))

    def hot_days(self, url):
        runs = alternate(
            {
                BARE: self.pg(url, "hot_days_bare"),
                RAW: self.pg(url, "hot_days_raw"),
                "book_appointment": self.pg(url, "hot_days_book"),
            },
            self.rounds,
        )
        self.keep(f"hot barber, many days, c={self.clients}", runs, BARE, also=(RAW,))

    def feed_lag(self, url, after: str) -> None:
        """How far behind the change feed's relay is (a fact under the table)."""
        lag = psql(
            url,
            "SELECT coalesce(pg_size_pretty(lag_bytes), 'no slot') || ', ' || pending_changes FROM booking.change_feed_status()",
        )
        behind, pending = lag.rsplit(", ", 1)
        self.facts.append(f"Change feed after {after}: {behind} of WAL not yet relayed, {pending} outbox rows waiting")

    def catch_up(self, url) -> None:
        """Relay what is left (timed), so the next scenario starts with the feed caught up."""
        t = time.time()
        subprocess.run(
            [
                PY,
                "-c",
                "import sys, psycopg; from app.changefeed import drain; "
                "c = psycopg.connect(sys.argv[1], autocommit=True); drain(c, timeout=3600)",
                url,
            ],
            cwd=ROOT,
            check=True,
        )
        self.facts.append(f"Change feed caught up in {time.time() - t:.1f} s after the engine scenarios")

    def sse(self, url):
        """Commit to receipt, for SSE_STREAMS subscribers, under the uncontended load."""
        streams = min(SSE_STREAMS, 1000)
        seconds = max(2.0, self.seconds * self.rounds)
        with tempfile.TemporaryDirectory(prefix="bench-sse.") as log_dir:
            server = ServiceProcess(
                url,
                users=(1,),
                log_dir=log_dir,
                env={"MAX_STREAMS_PER_TOKEN": str(streams + 10), "MAX_STREAMS": str(streams + 10), "DB_POOL_MAX": "4"},
            )
            try:
                server.start()
            except (subprocess.CalledProcessError, RuntimeError) as e:
                server.stop()
                log(f"sse: skipped, the service did not start: {e}")
                return
            try:
                probe = subprocess.Popen(
                    [
                        PY,
                        "-m",
                        "bench.sse_probe",
                        server.base,
                        server.tokens[1],
                        str(seconds + 1.5),
                        *map(str, range(1, streams + 1)),
                    ],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                assert probe.stderr.readline().strip() == "ready"
                time.sleep(0.5)
                load = pgbench(url, "unc_book", self.clients, seconds)
                out, err = probe.communicate(timeout=seconds + 60)
                got = json.loads(out.strip().splitlines()[-1])
            finally:
                server.stop()
        row = Row(
            f"sse, {streams} subscribers, c={self.clients}",
            "booking committed -> subscriber",
            load.tps,
            got["p50_ms"] or float("nan"),
            got["p99_ms"] or float("nan"),
            "",
            f"{got['events']} events received, max {got['max_ms']} ms; tps is the booking load's",
        )
        self.rows.append(row)
        self.raw["sse"] = {"probe": got, "load": load.__dict__}
        log(f"sse: {got}")

    def flash(self, url):
        def counted(script):
            def run():
                before = psql(
                    url,
                    "SELECT (SELECT count(*) FROM booking.appointments WHERE barber_id = 1002), "
                    "(SELECT deadlocks FROM pg_stat_database WHERE datname = current_database())",
                )
                bucket = max(0.05, self.seconds / 24)  # the curve of bench.figures' flash-sale.svg
                r = pgbench(url, script, self.clients, self.seconds, {"per_day": FLASH_PER_DAY}, timeline=bucket)
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
                    **r.extra,
                }
                if curve := r.extra.get("timeline"):  # bookings per bucket, by their created_at
                    start, per = curve["start"], [0] * len(curve["done"])
                    counts = psql(
                        url,
                        f"SELECT floor((extract(epoch FROM created_at) - {start}) / {bucket})::int, count(*) "
                        f"FROM booking.appointments WHERE barber_id = 1002 AND created_at >= to_timestamp({start} - 0.5) "
                        "GROUP BY 1",
                    )
                    for line in filter(None, counts.splitlines()):
                        k, n = map(int, line.split("|"))
                        per[min(max(k, 0), len(per) - 1)] += n
                    curve["booked"] = per
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
                f"bare INSERT, {big:,} rows": self.pg(big_url, "unc_bare"),
            },
            self.rounds,
        )
        self.keep(f"scale, c={self.clients}", runs, f"book, {small:,} rows", ratio_by="p50")

    def growth(self, url):
        """Each point once (one round): tps against clients; a day's bookings against latency."""
        for c in GROWTH_CLIENTS:
            runs = alternate(
                {BARE: self.pg(url, "unc_bare", clients=c), "book_appointment": self.pg(url, "unc_book", clients=c)}, 1
            )
            self.keep(f"growth: clients, c={c}", runs, BARE)
        for k in DAY_BOOKINGS:
            runs = alternate(
                {
                    "book (rolled back)": self.pg(url, "day_book", clients=1, defines={"k": k}),
                    "free_slots": self.pg(url, "day_slots", clients=1, defines={"k": k}),
                },
                1,
            )
            self.keep(f"growth: {k} bookings on the day, c=1", runs, "book (rolled back)", ratio_by="p50")

    def read_path(self, url, rows: int):
        runs = alternate(
            {
                "index scan of the day": self.pg(url, "read_day", clients=1),
                "free_slots": self.pg(url, "read_free_slots", clients=1),
            },
            self.rounds,
        )
        self.keep(f"read path, {rows:,} rows, c=1", runs, "index scan of the day", ratio_by="p50")

    # --- a cluster: the PL/Proxy proxy against the partition it routes to ------------------
    def partitioned(self):
        """book_appointment, uncontended (1,000 barbers, bench/sql/part_book.sql), on a
        one-partition cluster: called on partition 0's database directly vs the same call
        through the proxy (its routed function: the shop's shared advisory lock, the
        directory, the session's settings, then PL/Proxy running the real function on the
        partition), alternated round by round; the ratio proxy/direct is issue 14's target.
        Then, on a two-partition cluster, the proxy with every booking in shop 1 (partition 0)
        vs the bookings spread over shop 1 and shop 2 (one per partition, 500 barbers each):
        how the total grows with a second partition. Every server of a cluster runs on this
        machine's cores, the proxy and pgbench with them, so it shows the cost of a hop and
        what a second partition adds on the same CPUs, not the scaling over machines."""
        from bench.partitioned import cluster, defines, server_cpu_seconds

        cpu: dict[str, list[float]] = {"proxy": [], "partition": [], "direct": []}  # us per booking

        def book(url, shops, measure=None):
            def run():
                d = defines(shops, self.clients, next(self._part_bases))
                before = {name: server_cpu_seconds(u) for name, u in (measure or {}).items()}
                result = pgbench(url, "part_book", self.clients, self.seconds, d)
                for name, u in (measure or {}).items():
                    if result.count:
                        cpu[name].append((server_cpu_seconds(u) - before[name]) / result.count * 1e6)
                return result

            return run

        direct, proxied = "direct on partition 0", "through the proxy"
        with cluster(partitions=1, shops=1, barbers=1000) as c:
            runs = alternate(
                {
                    direct: book(c.partitions[0], c.shops, {"direct": c.partitions[0]}),
                    proxied: book(c.proxy, c.shops, {"proxy": c.proxy, "partition": c.partitions[0]}),
                },
                self.rounds,
            )
            self.facts.append(
                f"Partitioned scenario: a durable cluster of 1 proxy and 1 partition (each its own server on "
                f"this machine), made and seeded through the proxy in {c.started_in:.0f} s"
            )
            if all(cpu.values()):
                self.facts.append(
                    "Partitioned scenario, CPU per booking (server processes' user + system time over a run, "
                    f"median of the rounds): direct, the partition {med(cpu['direct']):.0f} us; through the proxy, "
                    f"the proxy {med(cpu['proxy']):.0f} us and the partition {med(cpu['partition']):.0f} us "
                    "(docs/SCALING.md's c and the partition's share of B)"
                )
        self.keep(
            f"partitioned, 1 partition, c={self.clients}",
            runs,
            direct,
            notes={
                direct: "pgbench on partition 0's database",
                proxied: "pgbench on the proxy: its routed function, then PL/Proxy to partition 0",
            },
        )
        one, two = "proxy, shop 1 only (partition 0)", "proxy, shops 1 and 2 (partitions 0 and 1)"
        with cluster(partitions=2, shops=2, barbers=1000) as c:
            runs = alternate({one: book(c.proxy, c.shops[:1]), two: book(c.proxy, c.shops)}, self.rounds)
        self.keep(
            f"partitioned, 2 partitions, c={self.clients}",
            runs,
            one,
            notes={
                one: "500 barbers",
                two: f"1,000 barbers, half on each; {os.cpu_count()} cores for the 3 servers, their relays and pgbench",
            },
        )

    # --- the service against the same call in SQL and a minimal ASGI app --------------------
    def service(self, url):
        if not shutil.which("wrk"):
            self.service_status = "skipped: wrk is not installed (apt-get install wrk)"
            log(self.service_status)
            return
        pool = str(max(self.clients, 2))
        env = {"DB_POOL_MAX": pool, "DB_POOL_MIN": pool, "RATE_LIMIT_PER_MINUTE": "0"}
        with tempfile.TemporaryDirectory(prefix="bench-service.") as log_dir:
            server = ServiceProcess(url, users=(1,), log_dir=log_dir, env=env)
            bare_dir = os.path.join(log_dir, "baseline")
            baseline = ServiceProcess(url, log_dir=bare_dir, env=env, command=("-m", "bench.asgi_baseline"))
            try:
                server.start()
                baseline.start()
            except (subprocess.CalledProcessError, RuntimeError) as e:
                self.service_status = f"skipped: a server did not start: {e}: {server.log_tail()[-500:]}"
                log(self.service_status)
                server.stop()
                baseline.stop()
                return
            try:
                self.compare_service(url, server.base, baseline.base, server.tokens[1])
                baseline.stop()
                if self.layers_wanted:
                    self.service_layers(url, server, env, log_dir)
            finally:
                server.stop()
                baseline.stop()

    def service_layers(self, url, server, env, log_dir):
        """Each layer of the service on and off (bench/layers.py): the whole service against
        the same service without that one layer, alternated round by round."""
        from bench.layers import LAYERS

        whole = "the whole service"
        runs: dict[str, list[Run]] = {whole: []}
        for layer in LAYERS:
            variant = ServiceProcess(
                url,
                log_dir=os.path.join(log_dir, f"without-{layer}"),
                env={**env, "BENCH_WITHOUT": layer},
                command=("-m", "bench.layers"),
            )
            variant.start()
            try:
                pair = alternate(
                    {
                        whole: self.wrk(server.base, server.tokens[1]),
                        f"without {layer}": self.wrk(variant.base, server.tokens[1]),
                    },
                    self.rounds,
                )
            finally:
                variant.stop()
            runs[whole] += pair[whole]
            runs[f"without {layer}"] = pair[f"without {layer}"]
        # Each variant's ratio is paired with the rounds of the whole service run next to it.
        self.raw[f"service layers, c={self.clients}"] = {n: [r.__dict__ for r in rs] for n, rs in runs.items()}
        rows = []
        for layer in LAYERS:
            name = f"without {layer}"
            i = LAYERS.index(layer) * self.rounds
            paired = {whole: runs[whole][i : i + self.rounds], name: runs[name]}
            rows += [r for r in summarize(f"service layers, c={self.clients}", paired, whole) if r.variant == name]
        whole_row = summarize(f"service layers, c={self.clients}", {whole: runs[whole]}, whole)[0]
        whole_row.note = "POST /appointments (wrk), every layer on: the baseline of this block"
        for r in rows:
            r.note = "> 1.00x: what the layer costs; ~1.00x: nothing measurable"
        self.rows += [whole_row, *rows]
        for r in [whole_row, *rows]:
            log(
                f"{r.scenario:<28} {r.variant:<34} {r.tps:9.0f} tps  p50 {r.p50_ms:7.3f} ms  p99 {r.p99_ms:7.3f} ms  {r.ratio}"
            )

    def wrk(self, target: str, token: str):
        """A round of POST /appointments against `target` (wrk, bench/wrk_book.lua): a
        callable for alternate(). Each round books in a range of days of its own."""
        threads = min(2, self.clients)

        def run():
            offset = next(self._wrk_offsets) * 10_000_000
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
                target,
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

        return run

    def compare_service(self, url, base, baseline_base, token):
        """POST /appointments through the service and the minimal app (wrk), and the same call in SQL."""
        wrk_run = lambda target: self.wrk(target, token)  # noqa: E731
        direct = "book_appointment in SQL, with a key"
        minimal = "minimal ASGI app (wrk)"
        runs = alternate(
            {
                direct: self.pg(url, "svc_direct_key"),
                "book_appointment in SQL, no key": self.pg(url, "svc_direct"),
                "POST /appointments (wrk)": wrk_run(base),
                minimal: wrk_run(baseline_base),
            },
            self.rounds,
        )
        notes = {}
        for name in ("POST /appointments (wrk)", minimal):
            failed = sum(r.failed for r in runs[name])
            notes[name] = f"{failed} non-201 answers" if failed else "all 201"
        self.keep(f"service, c={self.clients}", runs, direct, notes=notes, also=(minimal,))
        self.service_status = "ran"

    # --- the targets of issue 13, read off the rows ----------------------------------------
    def targets(self) -> list[dict]:
        def ratio(scenario, variant, against=None):
            r = self.row(scenario, variant)
            if r is None:
                return None
            return r.also.get(against) if against else r.ratio_value

        def p(scenario, variant, which):
            r = self.row(scenario, variant)
            return None if r is None else getattr(r, which)

        out = []

        def target(name, value, ok, shown):
            out.append(
                {
                    "target": name,
                    "measured": shown if value is not None else "not measured",
                    "met": None if value is None else bool(ok(value)),
                }
            )

        v = ratio("uncontended", "book_appointment")
        target(
            "uncontended book_appointment >= 0.70x bare INSERT",
            v,
            lambda x: x >= 0.70,
            f"{v:.2f}x" if v is not None else "",
        )
        v = ratio("hot barber", "book_appointment")
        target(
            "hot barber (many days) >= 0.65x bare INSERT", v, lambda x: x >= 0.65, f"{v:.2f}x" if v is not None else ""
        )
        v = ratio("uncontended", "book_appointment + key")
        target(
            "with an idempotency key >= 0.60x bare INSERT", v, lambda x: x >= 0.60, f"{v:.2f}x" if v is not None else ""
        )
        v = p("sse", "booking committed -> subscriber", "p99_ms")
        target(
            "SSE: commit to subscriber p99 <= 1 s",
            v,
            lambda x: x <= 1000,
            f"p99 {v:.0f} ms (p50 {p('sse', 'booking committed -> subscriber', 'p50_ms'):.0f} ms)"
            if v is not None
            else "",
        )
        v = ratio("service", "POST /appointments (wrk)")
        sp50, sp99 = (
            p("service", "POST /appointments (wrk)", "p50_ms"),
            p("service", "POST /appointments (wrk)", "p99_ms"),
        )
        target(
            "service >= 0.5x direct SQL (the same call), p50 and p99 reported",
            v,
            lambda x: x >= 0.5,
            f"{v:.2f}x (p50 {sp50:.1f} ms, p99 {sp99:.1f} ms)" if v is not None else "",
        )
        v = ratio("service", "POST /appointments (wrk)", "minimal ASGI app (wrk)")
        target(
            "service >= 0.8x a minimal ASGI app doing the same call",
            v,
            lambda x: x >= 0.8,
            f"{v:.2f}x" if v is not None else "",
        )
        v = ratio("partitioned, 1 partition", "through the proxy")
        target(
            "partitioned: book_appointment through the proxy >= 0.60x direct, one partition (issue 14)",
            v,
            lambda x: x >= 0.60,
            f"{v:.2f}x" if v is not None else "",
        )
        scale = [
            r
            for r in self.rows
            if r.scenario.startswith("scale") and r.ratio_value is not None and r.variant.startswith("book")
        ]
        v = scale[0].ratio_value if scale else None
        target(
            f"p50 at the large table within 1.15x of 10 thousand ({scale[0].variant if scale else ''})",
            v,
            lambda x: x <= 1.15,
            f"{v:.2f}x" if v is not None else "",
        )
        return out

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
