"""The benchmark harness: the engine and the service against the physical limit.

    python -m bench.run [--mode full|quick|tiny] [--rounds N] [--seconds T] [--clients C]
                        [--only NAME,...] [--no-docs] [--keep]

`make bench` runs the full mode, `make bench-quick` the quick one (about 2 minutes).

Unless DATABASE_URL is set, it starts its own durable PostgreSQL (harness.cluster: fsync on,
synchronous_commit on, full_page_writes on) in a temporary directory and removes it
afterwards; with DATABASE_URL it creates (and drops) its own databases on that server.

Every scenario runs next to its baseline in the same run, alternating them round by round
(the order flips every round), with pgbench custom scripts (bench/sql/*.sql, -c clients
-j 2 -T seconds) or wrk (bench/wrk_book.lua). The table reports medians over the rounds;
a ratio is the median of the per-round ratios (scenario / baseline, paired in time).
Results go to stdout, bench/results/<mode>.json and .md, and (full and quick) into
docs/BENCHMARKS.md between the markers of that mode, with the run's figures (bench.figures:
docs/bench/*.svg); EXPLAIN output goes to docs/bench/ (full) or bench/results/ (other modes).

The code: bench.scenarios (what each scenario runs), bench.measure (pgbench, medians, ratios),
bench.report (the machine, the table, the files), bench.server (the server and its databases).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import sys
import time

from bench.measure import SQL, Row, log
from bench.report import DOCS, machine, render, write_docs, write_results
from bench.report import RESULTS as RESULTS_DIR
from bench.scenarios import MODES, Bench, relay
from bench.server import BenchServer
from harness import ROOT
from harness.cluster import psql


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--mode", choices=list(MODES), default="quick")
    p.add_argument("--rounds", type=int)
    p.add_argument("--seconds", type=float)
    p.add_argument("--clients", type=int)
    p.add_argument(
        "--only", help="comma-separated: uncontended,hot,sse,flash,growth,scale,read,service,layers,explain,partitioned"
    )
    p.add_argument("--no-docs", action="store_true", help="do not write docs/BENCHMARKS.md")
    p.add_argument("--keep", action="store_true", help="keep the cluster and databases (debugging)")
    p.add_argument(
        "--update",
        action="store_true",
        help="replace only the rows of the scenarios run now in bench/results/<mode>.json (a rerun of "
        "some scenarios after a fix); the report says which rows come from which run",
    )
    args = p.parse_args(argv)
    if args.mode == "tiny":
        args.no_docs = True
    only = set(args.only.split(",")) if args.only else None

    def want(name: str) -> bool:
        return only is None or name in only

    for tool in ("pgbench", "psql"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is not on PATH (apt-get install postgresql-client)")

    command = os.environ.get("BENCH_COMMAND") or "python -m bench.run " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    t0 = time.time()
    bench = Bench(args)
    server = BenchServer(keep=args.keep)
    try:
        settings = server.settings()
        log(
            f"PostgreSQL {settings['server_version']}, fsync={settings['fsync']}, "
            f"synchronous_commit={settings['synchronous_commit']}; {bench.rounds} rounds x {bench.seconds:g} s, "
            f"c={bench.clients}"
        )
        engine = want("uncontended") or want("hot") or want("flash") or want("growth") or want("sse")
        main_url = server.create_db("main") if (engine or want("service") or want("layers")) else None
        if main_url:  # not for a run of scenarios with databases of their own (scale, partitioned)
            feed = psql(main_url, "SELECT mode FROM booking.change_feed")
            bench.facts.append(
                f"Change feed of the main database: mode {feed}; its relay runs during every engine scenario"
            )
        if engine:
            outbox_url = server.create_db("outbox", change_feed="outbox") if want("uncontended") else None
            # A measurement only: the same engine without appointments_check_overlap (the
            # constraint alone refuses an overlap there, with a raw 23P01).
            no_trigger_url = server.create_db("notrigger") if want("uncontended") else None
            if no_trigger_url:
                psql(no_trigger_url, "ALTER TABLE booking.appointments DISABLE TRIGGER appointments_check_overlap")
            with contextlib.ExitStack() as relays:
                for u in filter(None, (main_url, outbox_url, no_trigger_url)):
                    relays.enter_context(relay(u))
                if want("uncontended"):
                    bench.uncontended(main_url, outbox_url, no_trigger_url)
                    bench.feed_lag(main_url, "the uncontended scenario")
                if want("hot"):
                    bench.hot_days(main_url)
                if want("flash"):
                    bench.flash(main_url)
                if want("growth"):
                    bench.growth(main_url)
                    bench.feed_lag(main_url, "the growth scenario (up to 32 clients)")
                bench.catch_up(main_url)
        if want("sse"):
            bench.sse(main_url)  # the service's own relay
        if want("scale") or want("read") or want("explain"):
            urls = {}
            for size in bench.mode["sizes"]:
                t = time.time()
                # Loaded with the feed in mode outbox and the triggers off (nothing announced),
                # then switched to logical: the slot starts after the load.
                url = server.create_db(f"rows_{size}", change_feed="outbox")
                psql(url, file=SQL / "load_existing.sql", variables={"rows": size})
                psql(url, "VACUUM ANALYZE")
                psql(url, "SELECT pg_create_logical_replication_slot(booking.change_feed_slot_name(), 'wal2json')")
                psql(url, "SELECT booking.open_logical_change_feed(true)")
                took = time.time() - t
                size_text = psql(url, "SELECT pg_size_pretty(pg_database_size(current_database()))")
                fact = f"{size:,} existing appointments: loaded in {took:.0f} s, database {size_text}"
                log(fact)
                bench.facts.append(fact)
                urls[size] = url
            big = max(urls)
            with contextlib.ExitStack() as relays:
                for url in urls.values():
                    relays.enter_context(relay(url))
                if want("scale"):
                    bench.scale(urls)
                if want("read"):
                    bench.read_path(urls[big], big)
            if want("explain"):
                bench.explain(urls[big], big)
        bench.layers_wanted = want("layers")
        if want("service") or want("layers"):
            bench.service(main_url)  # the service's own relay runs the feed
        if want("partitioned"):
            bench.partitioned()  # clusters of its own (bench/partitioned.py)
    finally:
        server.close()
    elapsed = time.time() - t0
    if args.update:
        command, started, elapsed = merge_earlier_run(bench, args.mode, command, started, elapsed)
    text = render(bench, settings, machine(), command, started, elapsed)
    print(text)
    write_results(
        args.mode,
        text,
        {
            "mode": args.mode,
            "settings": settings,
            "machine": machine(),
            "command": command,
            "started": started,
            "rows": [r.__dict__ for r in bench.rows],
            "runs": bench.raw,
            "service": bench.service_status,
            "targets": bench.targets(),
            "facts": bench.facts,
            "elapsed": elapsed if isinstance(elapsed, float) else None,
        },
    )
    if not args.no_docs:
        write_docs(args.mode, text)
        log(f"wrote {DOCS.relative_to(ROOT)}")
        try:
            from bench.figures import OUT, draw_docs
        except ImportError as e:  # matplotlib: a dev dependency (pip install -e '.[dev]')
            log(f"no figures: {e}")
        else:
            drawn = draw_docs(RESULTS_DIR / f"{args.mode}.json")
            log(f"drew {', '.join(drawn) or 'no figure'} in {OUT.relative_to(ROOT)}/")
    return 0


def merge_earlier_run(bench, mode: str, command: str, started: str, elapsed: float) -> tuple[str, str, float]:
    """Puts this run's rows in place of the same scenarios' rows of the last run of `mode`
    (bench/results/<mode>.json), keeps the others, and says so in the facts."""
    path = RESULTS_DIR / f"{mode}.json"
    if not path.exists():
        sys.exit(f"bench: --update needs an earlier run in {path}")
    earlier = json.loads(path.read_text())
    rerun = {r.scenario for r in bench.rows}
    new_rows = {scenario: [r for r in bench.rows if r.scenario == scenario] for scenario in rerun}
    rows, placed = [], set()
    for r in earlier["rows"]:
        if r["scenario"] in rerun:
            if r["scenario"] not in placed:
                rows += new_rows[r["scenario"]]
                placed.add(r["scenario"])
        else:
            rows.append(Row(**r))
    rows += [r for scenario in sorted(rerun - placed) for r in new_rows[scenario]]
    bench.rows = rows
    bench.raw = {**earlier.get("runs", {}), **bench.raw}
    bench.facts = [
        f"Rows of {', '.join(sorted(rerun))}: from `{command}` at {started} UTC; the others from "
        f"`{earlier['command']}` at {earlier['started']} UTC",
        *[f for f in earlier.get("facts", []) if not f.startswith("Rows of ")],
        *[f for f in bench.facts if f not in earlier.get("facts", [])],
    ]
    took = f"{earlier['elapsed']:.0f} s, and {elapsed:.0f} s for the rows rerun" if earlier.get("elapsed") else None
    return earlier["command"], earlier["started"], took or elapsed


if __name__ == "__main__":
    sys.exit(main())
