"""Reporting: the machine's facts, the markdown table, bench/results/<mode>.md and .json, and
the generated blocks of docs/BENCHMARKS.md (between <!-- bench-MODE:begin --> and :end -->;
the figures of bench.figures between <!-- bench-figures:begin --> and :end -->).
"""

from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path
from typing import TYPE_CHECKING

from harness import ROOT

if TYPE_CHECKING:
    from bench.scenarios import Bench

RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "BENCHMARKS.md"


def machine() -> dict:
    """Cores, CPU model, memory, OS and kernel ("unknown" for what cannot be read)."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    os_name = platform.platform()
    try:
        os_name = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "memory": mem, "os": os_name, "kernel": platform.release()}


def render(bench: Bench, settings: dict, mach: dict, command: str, started: str, elapsed: float | str) -> str:
    """The run's markdown: its facts in a list, then one table row per variant."""
    a = bench.args
    lines = [
        f"Run of {started} UTC, mode `{a.mode}`, {elapsed if isinstance(elapsed, str) else f'{elapsed:.0f} s'}: `{command}`",
        "",
        f"- Machine: {mach['cores']} cores ({mach['cpu']}), {mach['memory']}, {mach['os']}, Linux {mach['kernel']}",
        (
            f"- PostgreSQL {settings['server_version']}: fsync={settings['fsync']}, "
            f"synchronous_commit={settings['synchronous_commit']}, full_page_writes={settings['full_page_writes']}, "
            f"wal_sync_method={settings['wal_sync_method']}, wal_level={settings['wal_level']}, "
            f"shared_buffers={settings['shared_buffers']}, "
            f"max_wal_size={settings['max_wal_size']}, checkpoint_timeout={settings['checkpoint_timeout']}"
        ),
        (
            f"- Each variant: {bench.rounds} rounds of {bench.seconds:g} s, alternating with its baseline "
            f"(order flipped every round); pgbench -c {bench.clients} -j 2 unless the scenario says c=1; "
            "medians over rounds; a ratio is the median of per-round paired ratios."
        ),
        f"- Service scenario: {bench.service_status}.",
        *(f"- {fact}." for fact in bench.facts),
        "",
        "| target | measured | |",
        "|---|---|---|",
        *(
            f"| {t['target']} | {t['measured']} | "
            f"{'met' if t['met'] else ('**missed**' if t['met'] is False else '')} |"
            for t in bench.targets()
        ),
    ]
    engine_rows = [r for r in bench.rows if not r.scenario.startswith(PARTITIONED)]
    if engine_rows or not bench.rows:
        lines += [
            "",
            "| scenario | variant | tps | p50 ms | p99 ms | ratio | note |",
            "|---|---|---:|---:|---:|---|---|",
        ]
    for r in engine_rows:
        lines.append(
            f"| {r.scenario} | {r.variant} | {r.tps:.0f} | {r.p50_ms:.3f} | {r.p99_ms:.3f} | {r.ratio} | {r.note} |"
        )
    lines += partitioned_table(bench.rows)
    return "\n".join(lines) + "\n"


PARTITIONED = "partitioned"
PROXY_GOAL = 0.60  # issue 14: through the proxy >= 0.6x the direct call, one partition


def partitioned_table(rows) -> list[str]:
    """The partitioned scenario's own table (issue 14): book_appointment through a cluster's
    PL/Proxy proxy against the same call on the partition, with the goal and met/missed, then
    one shop against two shops on two partitions through the proxy; no lines without it."""
    rows = [r for r in rows if r.scenario.startswith(PARTITIONED)]
    if not rows:
        return []
    out = [
        "",
        "Partitioned: book_appointment through the PL/Proxy proxy of a cluster on this machine "
        "(`python -m app cluster`), uncontended, 1,000 barbers; every server, the proxy and pgbench "
        "share the same cores.",
        "",
        "| cluster | variant | tps | p50 ms | p99 ms | ratio | goal | | note |",
        "|---|---|---:|---:|---:|---|---|---|---|",
    ]
    for r in rows:
        goal = met = ""
        if r.variant == "through the proxy":
            goal = f">= {PROXY_GOAL:.2f}x direct"
            met = "" if r.ratio_value is None else ("met" if r.ratio_value >= PROXY_GOAL else "**missed**")
        elif r.ratio_value is not None:
            goal = f"none: the growth on {os.cpu_count()} shared cores"
        cluster = r.scenario.removeprefix(PARTITIONED + ", ")
        out.append(
            f"| {cluster} | {r.variant} | {r.tps:.0f} | {r.p50_ms:.3f} | {r.p99_ms:.3f} | {r.ratio} | {goal} | {met} | {r.note} |"
        )
    return out


def write_docs(mode: str, text: str) -> None:
    """Puts `text` between docs/BENCHMARKS.md's markers of `mode` (a new section when missing)."""
    begin, end = f"<!-- bench-{mode}:begin -->", f"<!-- bench-{mode}:end -->"
    doc = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    block = f"{begin}\n{text}{end}"
    if begin in doc and end in doc:
        doc = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end) :]
    else:
        doc = doc.rstrip("\n") + f"\n\n## Latest `{mode}` run\n\n{block}\n"
    DOCS.write_text(doc)


def write_results(mode: str, text: str, record: dict) -> None:
    """bench/results/<mode>.md (the table) and <mode>.json (`record`: settings, rows, raw runs)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{mode}.md").write_text(text)
    (RESULTS / f"{mode}.json").write_text(json.dumps(record, indent=1))


FIGURE_TEXT = {  # bench.figures' files: alt text, and what to read in the figure
    "throughput.svg": (
        "Throughput of every variant against its scenario's baseline",
        "Each bar is a variant's tps as the median of its per-round ratios to its scenario's baseline, "
        "the grey bar of 1.0 (the bare INSERT for the engine scenarios), its median tps in the label: "
        "read how far each variant stays from the baseline, and which scenarios move the gap.",
    ),
    "latency.svg": (
        "p50, p95 and p99 latency of every variant",
        "Each line runs from a variant's p50 (circle) through its p95 (diamond; wrk reports none for the "
        "service's rows) to its p99 (triangle) on a log scale: read the tails, where a long line means some "
        "calls waited (locks, checkpoints, a saturated core) rather than that every call works longer.",
    ),
    "flash-sale.svg": (
        "Flash sale: bookings against attempts",
        "Attempts (solid) and bookings (dashed) of the flash sale accumulate over a round, and bookings are "
        "drawn against attempts on the right: read the gap between them as the refused attempts (23P01, and "
        "40P01 for the raw INSERT), and the slopes as who books more per second on one barber-day.",
    ),
}


def write_figures_docs(source: str, mode: str, drawn: list[str]) -> None:
    """Puts the figures drawn by bench.figures (in docs/bench/) between docs/BENCHMARKS.md's
    <!-- bench-figures:begin --> and :end --> markers (a new section at the end when missing)."""
    begin, end = "<!-- bench-figures:begin -->", "<!-- bench-figures:end -->"
    lines = [
        f"Drawn by `bench/figures.py` from {source}"
        + (
            ""
            if mode == "full"
            else f": a `{mode}` run, not a full one (rounds of {'1 s' if mode == 'quick' else 'under 1 s'}; "
            "its ratios scatter more than a full run's)"
        )
        + ". `python -m bench.figures [bench/results/MODE.json]` redraws them; `make bench` and "
        "`make bench-quick` redraw them at the end of the run.",
    ]
    if not drawn:
        lines += ["", "(That run drew no figure.)"]
    for name in drawn:
        alt, read = FIGURE_TEXT[name]
        lines += ["", f"![{alt}](bench/{name})", "", read]
    doc = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    block = f"{begin}\n" + "\n".join(lines) + f"\n{end}"
    if begin in doc and end in doc:
        doc = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end) :]
    else:
        doc = doc.rstrip("\n") + f"\n\n## Figures\n\n{block}\n"
    DOCS.write_text(doc)
