"""The figures of a benchmark run, drawn with matplotlib as SVG into docs/bench/.

    python -m bench.figures [RESULTS.json] [--out DIR]

RESULTS.json is a run's bench/results/<mode>.json (default: full.json when present, else
quick.json). Into docs/bench/ (or DIR):

throughput.svg  every variant's tps as a ratio to its scenario's baseline, the baseline drawn
                as a bar of 1.0 (the bare INSERT for the engine scenarios); tps in the labels
latency.svg     p50, p95 and p99 of every variant (log scale; wrk reports no p95)
flash-sale.svg  the flash sale's attempts and bookings, cumulative over a round, and bookings
                against attempts (bench.scenarios records the curve); from older results, which
                hold only each round's totals, those totals

A figure without data in the run (no flash sale in an --only run) is not drawn, and an older
file of that name in the directory is removed, so the directory holds one run's figures.
Drawing into docs/bench/ also rewrites the block of docs/BENCHMARKS.md between
<!-- bench-figures:begin --> and :end --> (bench.report.write_figures_docs). bench.run calls
draw_docs() at the end of a run unless --no-docs. The same data always gives the same bytes
(a fixed svg.hashsalt, no date in the metadata).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from harness import ROOT  # noqa: E402

OUT = ROOT / "docs" / "bench"
RESULTS = ROOT / "bench" / "results"
FIGURES = ("throughput.svg", "latency.svg", "flash-sale.svg")
STYLE = {
    "svg.hashsalt": "barbershop-bench",  # the ids of clip paths: the same for the same data
    "svg.fonttype": "none",  # text stays text (searchable, smaller)
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
BASE_COLOR, BAR_COLOR, TEXT_COLOR = "#9e9e9e", "#3b75af", "#333333"
# Scenarios measured point by point, drawn as one group: (pattern, group, label of the point).
MERGED = (
    (re.compile(r"^growth: clients, c=(\d+)$"), "growth: clients (1..32 pgbench clients)", "c={}"),
    (
        re.compile(r"^growth: (\d+) bookings on the day, c=1$"),
        "growth: bookings on the barber's day, c=1",
        "{} on the day",
    ),
)


def group_of(scenario: str, variant: str) -> tuple[str, str]:
    """(group, label) of a row: growth's points gathered under one heading."""
    for pattern, group, point in MERGED:
        if m := pattern.match(scenario):
            return group, f"{point.format(m.group(1))}: {variant}"
    return scenario, variant


def number(value) -> float | None:
    """A finite float, or None (NaN, missing, null)."""
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def source_of(record: dict, path: Path | None = None) -> str:
    """`command` of STARTED UTC (mode M): the run a figure is drawn from."""
    mode = record.get("mode") or (path.stem if path else "?")
    return f"`{record.get('command', '?')}` of {record.get('started', '?')} UTC (mode {mode})"


def _plain(source: str) -> str:
    return source.replace("`", "")


def _save(fig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


def _grouped_axes(lines: int, title: str, source: str, width: float = 10.0):
    """A figure whose height fits `lines` rows of bars, with its title and source line."""
    height = 1.3 + 0.24 * lines
    fig, ax = plt.subplots(figsize=(width, height))
    fig.suptitle(title, x=0.01, y=1 - 0.1 / height, ha="left", va="top", fontsize=11, fontweight="bold")
    fig.text(0.01, 1 - 0.42 / height, f"From {_plain(source)}", ha="left", va="top", fontsize=8, color="#555555")
    fig.subplots_adjust(left=0.3, right=0.97, top=1 - 0.72 / height, bottom=0.45 / height)
    return fig, ax


def _place(ax, entries: list[tuple[str, str | None]]) -> dict[int, float]:
    """Y positions, top down, of the entries (text, None for a group's heading): the others'
    texts are the y ticks, a heading is bold text over its group, from the axes' left edge."""
    ys, labels, out = [], [], {}
    y = 0.0
    for i, (text, kind) in enumerate(entries):
        if kind is None:
            if i:
                y -= 0.4  # space above a heading
            ax.text(
                0.005,
                y,
                text,
                transform=ax.get_yaxis_transform(),
                fontweight="bold",
                va="center",
                color=TEXT_COLOR,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
            )
        else:
            ys.append(y)
            labels.append(text)
        out[i] = y
        y -= 1.0
    ax.set_yticks(ys, labels)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(y + 0.3, 0.7)
    return out


# --- throughput -------------------------------------------------------------------------
def throughput_groups(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """[(heading, bars)]: per scenario (growth's points together), its baseline (ratio 1.0)
    and every variant with a tps ratio to it; scenarios compared by p50 are left out."""
    groups: dict[str, list[dict]] = {}
    by_scenario: dict[str, list[dict]] = {}
    for r in rows:
        by_scenario.setdefault(r["scenario"], []).append(r)
    for scenario, rs in by_scenario.items():
        measured = [r for r in rs if str(r.get("ratio", "")).endswith("tps") and number(r.get("ratio_value"))]
        base = next((r for r in rs if not r.get("ratio")), None)
        if not measured or base is None:
            continue
        for r in [base, *measured]:
            group, label = group_of(scenario, r["variant"])
            ratio = 1.0 if r is base else number(r["ratio_value"])
            groups.setdefault(group, []).append(
                {"label": label, "ratio": ratio, "tps": number(r.get("tps")), "baseline": r is base}
            )
    return list(groups.items())


def draw_throughput(record: dict, path: Path, source: str) -> bool:
    groups = throughput_groups(record.get("rows", []))
    if not groups:
        return False
    entries: list[tuple[str, str | None]] = []
    bars: list[tuple[int, dict]] = []
    for heading, items in groups:
        base = next(i for i in items if i["baseline"])
        entries.append((f"{heading}  (baseline: {base['label'].split(': ')[-1]})", None))
        for item in items:
            bars.append((len(entries), item))
            entries.append((item["label"], "bar"))
    with plt.rc_context(STYLE):
        fig, ax = _grouped_axes(
            len(entries), "Throughput: each variant against its scenario's baseline (= 1.0)", source
        )
        ys = _place(ax, entries)
        top = max(1.0, *(b["ratio"] for _, b in bars))
        for i, item in bars:
            color = BASE_COLOR if item["baseline"] else BAR_COLOR
            ax.barh(ys[i], item["ratio"], height=0.7, color=color)
            tps = f"{item['tps']:.0f} tps" if item["tps"] is not None else "tps not measured"
            text = f"1.0 = {tps}" if item["baseline"] else f"{item['ratio']:.2f}x, {tps}"
            ax.text(item["ratio"] + top * 0.01, ys[i], text, va="center", fontsize=7.5, color=TEXT_COLOR)
        ax.axvline(1.0, color="#c0392b", linewidth=1, linestyle="--")
        ax.text(1.0, 0.75, " baseline 1.0", color="#c0392b", fontsize=8, va="bottom", ha="left")
        ax.set_xlim(0, top * 1.28)
        ax.set_xlabel("tps / baseline tps (median of the per-round paired ratios)")
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        _save(fig, path)
    return True


# --- latency ----------------------------------------------------------------------------
def latency_groups(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        p50, p99 = number(r.get("p50_ms")), number(r.get("p99_ms"))
        if p50 is None and p99 is None:
            continue
        group, label = group_of(r["scenario"], r["variant"])
        groups.setdefault(group, []).append({"label": label, "p50": p50, "p95": number(r.get("p95_ms")), "p99": p99})
    return list(groups.items())


def draw_latency(record: dict, path: Path, source: str) -> bool:
    groups = latency_groups(record.get("rows", []))
    if not groups:
        return False
    entries: list[tuple[str, str | None]] = []
    points: list[tuple[int, dict]] = []
    for heading, items in groups:
        entries.append((heading, None))
        for item in items:
            points.append((len(entries), item))
            entries.append((item["label"], "row"))
    markers = (("p50", "o", "#3b75af"), ("p95", "D", "#e69f00"), ("p99", ">", "#c0392b"))
    with plt.rc_context(STYLE):
        fig, ax = _grouped_axes(len(entries), "Latency: p50, p95 and p99 of every variant (ms, log scale)", source)
        ys = _place(ax, entries)
        values = [v for _, item in points for v in (item["p50"], item["p95"], item["p99"]) if v]
        low, high = min(values), max(values)
        for i, item in points:
            known = [v for v in (item["p50"], item["p95"], item["p99"]) if v]
            ax.plot([min(known), max(known)], [ys[i]] * 2, color="#bbbbbb", linewidth=2, zorder=1)
            for key, marker, color in markers:
                if item[key]:
                    ax.scatter(item[key], ys[i], marker=marker, color=color, s=18, zorder=2)
            shown = ", ".join(f"{k} {item[k]:.3g}" for k in ("p50", "p95", "p99") if item[k])
            ax.text(high * 1.5, ys[i], shown, va="center", fontsize=7, color=TEXT_COLOR)
        for key, marker, color in markers:  # the legend's entries
            ax.scatter([], [], marker=marker, color=color, s=18, label=key)
        ax.set_xscale("log")
        ax.set_xlim(low / 1.5, high * 9)
        ax.set_xlabel("ms per transaction or request (median over rounds of each round's percentile)")
        ax.grid(axis="x", which="major", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="upper right", ncols=3, frameon=False, fontsize=8, bbox_to_anchor=(1.0, 1.0 + 0.5 / len(entries)))
        _save(fig, path)
    return True


# --- the flash sale -----------------------------------------------------------------------
def flash_runs(record: dict) -> tuple[str, dict[str, list[dict]]] | None:
    """(scenario, {variant: [round's run]}) of the flash sale, or None."""
    for scenario, variants in (record.get("runs") or {}).items():
        if scenario.startswith("flash sale"):
            return scenario, variants
    return None


def mean_curve(rounds: list[dict]) -> tuple[list[float], list[float], list[float]] | None:
    """(seconds, attempts, booked): cumulative, the mean of the rounds, aligned at their start."""
    curves = [r.get("extra", {}).get("timeline") for r in rounds]
    curves = [c for c in curves if c and c.get("booked") is not None]
    if not curves:
        return None
    bucket = curves[0]["bucket_s"]
    n = max(len(c["done"]) for c in curves)
    done, booked = [0.0] * n, [0.0] * n
    for c in curves:
        for k, (d, b) in enumerate(zip(c["done"], c["booked"], strict=True)):
            done[k] += d / len(curves)
            booked[k] += b / len(curves)
    seconds, attempts, got = [0.0], [0.0], [0.0]
    for k in range(n):
        seconds.append((k + 1) * bucket)
        attempts.append(attempts[-1] + done[k])
        got.append(got[-1] + booked[k])
    return seconds, attempts, got


def draw_flash(record: dict, path: Path, source: str) -> bool:
    found = flash_runs(record)
    if not found:
        return False
    scenario, variants = found
    colors = dict(zip(variants, ("#c0392b", "#3b75af", "#2e8b57", "#e69f00"), strict=False))
    curves = {v: mean_curve(rs) for v, rs in variants.items()}
    with plt.rc_context(STYLE):
        if all(curves.values()):
            fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
            rounds = max(len(rs) for rs in variants.values())
            fig.suptitle(
                f"Flash sale ({scenario}): booked vs attempted, mean of {rounds} round{'s' * (rounds > 1)}",
                x=0.01,
                ha="left",
                fontsize=11,
                fontweight="bold",
            )
            fig.text(0.01, 0.9, f"From {_plain(source)}", ha="left", va="top", fontsize=8, color="#555555")
            for variant, (seconds, attempts, got) in curves.items():
                c = colors[variant]
                left.plot(seconds, attempts, color=c, label=f"{variant}: attempted")
                left.plot(seconds, got, color=c, linestyle="--", label=f"{variant}: booked")
                right.plot(attempts, got, color=c, label=f"{variant} ({got[-1] / max(attempts[-1], 1):.0%} booked)")
            left.set_xlabel("seconds since the round's first attempt")
            left.set_ylabel("cumulative count (per round)")
            left.set_title("Attempts and bookings over a round", fontsize=9)
            left.legend(frameon=False, fontsize=7.5)
            right.set_xlabel("attempts so far")
            right.set_ylabel("bookings so far")
            right.set_title("Bookings against attempts (the rest: 23P01 conflicts, 40P01 deadlocks)", fontsize=9)
            right.legend(frameon=False, fontsize=7.5)
            for ax in (left, right):
                ax.grid(color="#e5e5e5", linewidth=0.6)
                ax.set_xlim(left=0)
                ax.set_ylim(bottom=0)
            fig.subplots_adjust(left=0.07, right=0.98, top=0.78, bottom=0.13, wspace=0.25)
        else:  # results of before the curve was recorded: each round's totals
            fig, ax = plt.subplots(figsize=(10, 4.2))
            fig.suptitle(
                f"Flash sale ({scenario}): totals per round (these results hold no curve)",
                x=0.01,
                ha="left",
                fontsize=11,
                fontweight="bold",
            )
            fig.text(0.01, 0.9, f"From {_plain(source)}", ha="left", va="top", fontsize=8, color="#555555")
            kinds = ("attempts", "booked", "conflicts", "deadlocks")
            labels, x = [], 0
            for variant, rs in variants.items():
                for n, r in enumerate(rs):
                    extra = r.get("extra", {})
                    for k, kind in enumerate(kinds):
                        ax.bar(
                            x + k * 0.2, extra.get(kind, 0), width=0.2, color=f"C{k}", label=kind if x == 0 else None
                        )
                    labels.append((x + 0.3, f"{variant}\nround {n + 1}"))
                    x += 1
            ax.set_xticks([p for p, _ in labels], [t for _, t in labels], fontsize=7)
            ax.set_ylabel("count in the round")
            ax.legend(frameon=False, fontsize=8)
            fig.subplots_adjust(left=0.07, right=0.98, top=0.8, bottom=0.2)
        _save(fig, path)
    return True


DRAW = {"throughput.svg": draw_throughput, "latency.svg": draw_latency, "flash-sale.svg": draw_flash}


def draw_all(record: dict, out: Path, source: str) -> list[str]:
    """Draws every figure with data into `out`, removes the others' older files; the names drawn."""
    drawn = []
    for name, draw in DRAW.items():
        if draw(record, out / name, source):
            drawn.append(name)
        elif (out / name).exists():
            (out / name).unlink()
    return drawn


def latest_results() -> Path:
    """bench/results/full.json when present, else quick.json."""
    for mode in ("full", "quick"):
        if (RESULTS / f"{mode}.json").exists():
            return RESULTS / f"{mode}.json"
    raise SystemExit(f"bench.figures: no results in {RESULTS} (run make bench or make bench-quick)")


def draw_docs(results: Path, out: Path = OUT) -> list[str]:
    """The figures of `results` into `out`; into docs/bench/, also their block of docs/BENCHMARKS.md."""
    from bench.report import write_figures_docs

    record = json.loads(results.read_text())
    source = source_of(record, results)
    drawn = draw_all(record, out, source)
    if out.resolve() == OUT.resolve():
        write_figures_docs(source, record.get("mode") or results.stem, drawn)
    return drawn


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.figures", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("results", nargs="?", type=Path, help="a run's bench/results/<mode>.json (default: the latest)")
    p.add_argument("--out", type=Path, default=OUT, help="the directory of the SVG files (default docs/bench/)")
    args = p.parse_args(argv)
    results = args.results or latest_results()
    drawn = draw_docs(results, args.out)
    for name in drawn:
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
