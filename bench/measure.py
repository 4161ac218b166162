"""Measuring: pgbench runs of bench/sql/*.sql, their percentiles, variants alternated round by
round, and the medians and paired ratios of a scenario's table rows.
"""

from __future__ import annotations

import glob
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

from harness import ROOT

SQL = ROOT / "bench" / "sql"


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


@dataclass
class Run:
    tps: float
    p50_ms: float
    p99_ms: float
    count: int
    failed: int = 0
    extra: dict = field(default_factory=dict)
    p95_ms: float = float("nan")  # pgbench's (bench.figures); wrk reports p50, p90 and p99


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def pgbench(
    url: str, script: str, clients: int, seconds: float, defines: dict | None = None, timeline: float | None = None
) -> Run:
    """One pgbench run of bench/sql/<script>.sql; latencies from its per-transaction log. With
    `timeline` (a bucket width in s): extra["timeline"] = {"start": epoch of the first
    transaction's start, "bucket_s", "done": transactions finished per bucket} (bench.figures)."""
    with tempfile.TemporaryDirectory(prefix="bench-log.") as tmp:
        cmd = [
            "pgbench",
            "-n",
            "-M",
            "prepared",  # like the service's driver (asyncpg prepares): parsing is no part of either side
            "-f",
            str(SQL / f"{script}.sql"),
            "-c",
            str(clients),
            "-j",
            str(min(2, clients)),
            "-l",
            "--log-prefix",
            os.path.join(tmp, "tx"),
        ]
        # tiny mode (the test suite's smoke run): a fixed number of transactions per client
        cmd += ["-T", str(max(1, round(seconds)))] if seconds >= 1 else ["-t", "20"]
        for k, v in (defines or {}).items():
            cmd += ["-D", f"{k}={v}"]
        cmd.append(url)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        out = proc.stdout + proc.stderr
        if proc.returncode or "aborted" in out and "transactions actually processed" not in out:
            raise RuntimeError(f"pgbench {script} failed:\n{out}")
        tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
        failed = int(m.group(1)) if (m := re.search(r"number of failed transactions: (\d+)", out)) else 0
        lat, ends = [], []  # ends: (epoch s of the end, latency s), for a timeline
        for path in glob.glob(os.path.join(tmp, "tx*")):
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3:
                        lat.append(int(parts[2]) / 1000.0)
                    if timeline and len(parts) >= 6:
                        ends.append((int(parts[4]) + int(parts[5]) / 1e6, int(parts[2]) / 1e6))
        lat.sort()
        if "client" in out and "aborted" in out and re.search(r"client \d+ aborted", out):
            raise RuntimeError(f"pgbench {script}: a client aborted:\n{out}")
        run = Run(tps, percentile(lat, 50), percentile(lat, 99), len(lat), failed, p95_ms=percentile(lat, 95))
        if timeline and ends:
            start = min(end - took for end, took in ends)
            done = [0] * (int((max(end for end, _ in ends) - start) / timeline) + 1)
            for end, _ in ends:
                done[int((end - start) / timeline)] += 1
            run.extra["timeline"] = {"start": start, "bucket_s": timeline, "done": done}
        return run


def alternate(variants: dict, rounds: int) -> dict[str, list[Run]]:
    """Run every variant once per round, flipping the order each round."""
    names = list(variants)
    results: dict[str, list[Run]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            results[name].append(variants[name]())
    return results


def med(values) -> float:
    values = [v for v in values if not math.isnan(v)]
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
    ratio_value: float | None = None  # the ratio against the scenario's baseline, as a number
    also: dict = field(default_factory=dict)  # ratios against further baselines, by name
    p95_ms: float = float("nan")  # bench.figures' latency figure (not in the table)


def paired_ratio(rs: list[Run], base: list[Run], by: str) -> float:
    """The median of per-round ratios: tps (higher is better) or p50 (lower is better)."""
    if by == "tps":
        return med([a.tps / b.tps for a, b in zip(rs, base, strict=True) if b.tps])
    return med([a.p50_ms / b.p50_ms for a, b in zip(rs, base, strict=True) if b.p50_ms])


def summarize(
    scenario: str,
    runs: dict[str, list[Run]],
    baseline: str,
    ratio_by: str = "tps",
    notes: dict | None = None,
    also: tuple[str, ...] = (),
) -> list[Row]:
    """One row per variant: medians, the paired ratio against `baseline`, and against each
    variant named in `also` (a second baseline: written into the note)."""
    rows = []
    for name, rs in runs.items():
        ratio, value, extra = "", None, {}
        if name != baseline and baseline in runs:
            value = paired_ratio(rs, runs[baseline], ratio_by)
            ratio = f"{value:.2f}x {ratio_by}"
        for other in also:
            if name not in (other, baseline) and other in runs:
                extra[other] = paired_ratio(rs, runs[other], ratio_by)
        note = "; ".join([*(f"{v:.2f}x {k}" for k, v in extra.items()), *filter(None, [(notes or {}).get(name, "")])])
        rows.append(
            Row(
                scenario,
                name,
                med(r.tps for r in rs),
                med(r.p50_ms for r in rs),
                med(r.p99_ms for r in rs),
                ratio,
                note,
                value,
                extra,
                med(r.p95_ms for r in rs),
            )
        )
    return rows
