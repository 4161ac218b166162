"""`make evaluate`: both learners measured on history they did not see.

    python -m app.learning.evaluate [--trace FILE.csv] [--days N] [--seed S] [--out DIR]

1. The history: the seeded generator's (app.learning.generator: daily and weekly demand
   cycles, popular barbers, late-running services, no-shows), or a shop's trace in the CSV
   format of app.learning.trace (docs/LEARNING.md).
2. Split by time: the first TRAIN_FRACTION of it trains, the rest tests.
3. Conflict prediction (app.learning.model): every candidate and both baselines (base rate,
   per-hour-of-week frequency) fitted on the training part, scored on the test part: Brier
   score, log loss, ROC AUC, calibration (a reliability plot, DIR/reliability.svg); the one
   `python -m app learn train` would serve (lowest log loss on the latest quarter of the
   training part), and plainly whether it beats the hour-of-week baseline.
4. Buffers (app.learning.buffers): recommended from the training part's finished
   appointments, judged on the test part's: the share of next appointments that would have
   found their barber still busy (a late start) with the buffers the appointments had and
   with the recommended ones, and the bookable minutes the buffers cost.

Prints the report and writes it to DIR/evaluation.txt (and the figures as JSON,
DIR/evaluation.json). Default DIR: docs/learning.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.learning import buffers, features, generator, model
from app.learning.trace import Trace, read_csv

TRAIN_FRACTION = 0.7
GRACE = 5.0  # minutes: a next appointment starting later than this after its booked start is late
TARGETS = (0.5, 0.8, 0.9, 0.95)  # the trade-off table of the buffers' section
MIN_BIN = 20  # calibration bins with fewer starts are not drawn (their share is noise)
ROOT = Path(__file__).resolve().parents[2]
LABELS = {
    "base_rate": "base rate (baseline)",
    "hour_of_week": "hour-of-week frequency (baseline)",
    "logistic": "logistic regression",
    "gradient_boosting": "gradient boosting, isotonic",
}


@dataclass
class Report:
    text: str
    figures: dict


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def conflicts(trace: Trace, cut, *, per_moment: int, seed: int) -> dict:
    rows_train = features.build(trace, until=cut, per_moment=per_moment, seed=seed)
    rows_test = features.build(trace, since=cut, per_moment=per_moment, seed=seed + 1)
    out = {"train_rows": len(rows_train), "test_rows": len(rows_test), "models": {}, "predictions": {}}
    if not len(rows_train) or not len(rows_test) or rows_train.y.min() == rows_train.y.max():
        out["error"] = "too little history for the conflict model"
        return out
    out["train_base_rate"] = float(rows_train.y.mean())
    out["test_base_rate"] = float(rows_test.y.mean())
    for name in model.BASELINES + model.MODELS:
        fitted = model.fit(name, rows_train, seed=seed)
        p = fitted.predict_rows(rows_test)
        out["models"][name] = model.scores(rows_test.y, p)
        out["predictions"][name] = p
        marked = p >= model.THRESHOLD
        out["models"][name]["marked"] = int(marked.sum())
        out["models"][name]["marked_taken"] = float(rows_test.y[marked].mean()) if marked.any() else math.nan
    out["selected"] = model.select(rows_train, seed=seed).chosen
    out["y_test"] = rows_test.y
    return out


def buffer_effect(trace: Trace, cut, target: float = buffers.TARGET) -> dict:
    """Recommendations from the appointments before `cut`, judged on those after: whether
    the next appointment, booked right after each one's blocked interval, would have found
    the barber still busy at its booked start (strictly, and by more than GRACE minutes)."""
    train, days = buffers.histories_from_trace(trace, until=cut)
    test, test_days = buffers.histories_from_trace(trace, since=cut)
    rows = []
    late_before = late_after = judged = 0
    grace_before = grace_after = 0
    cost_minutes = {}
    for (barber, service), history in sorted(train.items()):
        duration = next(a.duration_minutes for a in trace.appointments if a.service == service)
        rec = buffers.recommend(
            service,
            duration,
            history.late_starts,
            history.overruns,
            history.buffers_after,
            appointments=history.appointments,
            work_days=days.get(barber),
            excluded=history.excluded,
            barber=f"barber {barber}",
            target=target,
        )
        later = test.get((barber, service))
        if rec.status != "ok" or later is None or not later.late_starts:
            rows.append({"barber": barber, "service": service, "status": rec.status, "train": rec.samples})
            continue
        late = np.asarray(later.late_starts)
        over = np.asarray(later.overruns)
        had = np.asarray(later.buffers_after, dtype=float)
        before = rec.buffer_time_before
        residual = np.maximum(late - before, 0.0) if before else late
        busy_before = (late + over) > had  # the next appointment would have found the barber busy
        busy_after = (residual + over) > rec.buffer_time_after
        per_day = later.appointments / max(test_days.get(barber, 1), 1)
        added = (before + rec.buffer_time_after) - 0
        cost_minutes[barber] = cost_minutes.get(barber, 0.0) + per_day * added
        late_before += int(busy_before.sum())
        late_after += int(busy_after.sum())
        grace_before += int(((late + over) > had + GRACE).sum())
        grace_after += int(((residual + over) > rec.buffer_time_after + GRACE).sum())
        judged += int(late.size)
        rows.append(
            {
                "barber": barber,
                "service": service,
                "status": "ok",
                "train": rec.samples,
                "test": int(late.size),
                "before": before,
                "after": rec.buffer_time_after,
                "interval_after": rec.interval_buffer_after,
                "late_share_before": float(busy_before.mean()),
                "late_share_after": float(busy_after.mean()),
                "minutes_per_day": per_day * added,
            }
        )
    barbers_cost = list(cost_minutes.values())
    return {
        "rows": rows,
        "judged": judged,
        "late_share_before": late_before / judged if judged else math.nan,
        "late_share_after": late_after / judged if judged else math.nan,
        "late_by_grace_before": grace_before / judged if judged else math.nan,
        "late_by_grace_after": grace_after / judged if judged else math.nan,
        "minutes_per_barber_day": float(np.mean(barbers_cost)) if barbers_cost else math.nan,
    }


def reliability_svg(path: Path, result: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "booking-learning"  # the same figure, the same file

    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="perfectly calibrated")
    styles = {"base_rate": "s", "hour_of_week": "^", "logistic": "o", "gradient_boosting": "D"}
    for name, score in result["models"].items():
        pts = [pt for pt in score["calibration"] if pt[2] >= MIN_BIN]  # a bin of a few starts says nothing
        if not pts:
            continue
        xs, ys, ns = zip(*pts, strict=True)
        (line,) = ax.plot(
            xs, ys, linewidth=1.0, label=LABELS.get(name, name), marker=styles.get(name, "o"), markersize=3
        )
        ax.scatter(xs, ys, s=[8 + 60 * (n / max(ns)) for n in ns], alpha=0.35, color=line.get_color())  # area: rows
    ax.set_xlabel(f"predicted chance the start is taken within {features.HORIZON_HOURS:.0f} h")
    ax.set_ylabel("share of those starts that were taken")
    ax.set_title(f"Reliability of the conflict predictions (test period; bins of {MIN_BIN}+ starts)", fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(True, linewidth=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


def report(trace: Trace, *, source: str, out: Path | None, per_moment: int = 24, seed: int = 18) -> Report:
    first, last = trace.span()
    cut = first + (last - first) * TRAIN_FRACTION
    c = conflicts(trace, cut, per_moment=per_moment, seed=seed)
    b = buffer_effect(trace, cut)
    lines = [
        f"History: {source}: {len(trace.appointments)} appointments of {len(trace.barbers)} barbers,"
        f" {len(trace.attempts)} refused attempts, {first:%Y-%m-%d} to {last:%Y-%m-%d}.",
        f"Training on what happened before {cut:%Y-%m-%d %H:%M} UTC ({TRAIN_FRACTION:.0%} of it), testing on the rest.",
        "",
        f"1. Conflict prediction: is a free start taken within {features.HORIZON_HOURS:.0f} hours?",
    ]
    figures = {"source": source, "appointments": len(trace.appointments), "attempts": len(trace.attempts)}
    if "error" in c:
        lines.append(f"   {c['error']} ({c['train_rows']} training rows, {c['test_rows']} test rows).")
    else:
        lines.append(
            f"   {c['train_rows']} training rows (taken: {_pct(c['train_base_rate'])}),"
            f" {c['test_rows']} test rows (taken: {_pct(c['test_base_rate'])})."
        )
        lines.append(
            f"   {'model':<36} {'Brier':>7} {'log loss':>9} {'AUC':>6}   marked p>={model.THRESHOLD:.1f}: taken"
        )
        for name, s in c["models"].items():
            marked = f"{s['marked']:>5} rows: {_pct(s['marked_taken'])}" if s["marked"] else "    0 rows"
            lines.append(f"   {LABELS[name]:<36} {s['brier']:>7.4f} {s['log_loss']:>9.4f} {s['auc']:>6.3f}   {marked}")
        best = min(model.MODELS, key=lambda n: c["models"][n]["log_loss"])
        how = c["models"]["hour_of_week"]
        gain = 1 - c["models"][best]["log_loss"] / how["log_loss"]
        if c["models"][best]["log_loss"] < how["log_loss"] and c["models"][best]["brier"] < how["brier"]:
            verdict = (
                f"   The {LABELS[best]} beats the hour-of-week baseline on the test period: log loss"
                f" {c['models'][best]['log_loss']:.4f} against {how['log_loss']:.4f} ({gain:.1%} lower), Brier"
                f" {c['models'][best]['brier']:.4f} against {how['brier']:.4f}."
            )
        else:
            verdict = (
                f"   No model beats the hour-of-week baseline on the test period (best: {LABELS[best]}, log loss"
                f" {c['models'][best]['log_loss']:.4f} against {how['log_loss']:.4f}): the baseline is what to serve."
            )
        lines.append(verdict)
        lines.append(f"   `python -m app learn train` would serve: {LABELS[c['selected']]} (validation log loss).")
        figures["conflicts"] = {
            "train_rows": c["train_rows"],
            "test_rows": c["test_rows"],
            "test_base_rate": c["test_base_rate"],
            "selected": c["selected"],
            "models": {
                n: {k: v for k, v in s.items() if k != "calibration"} | {"calibration": s["calibration"]}
                for n, s in c["models"].items()
            },
        }
        if out is not None:
            reliability_svg(out / "reliability.svg", c)
            lines.append(f"   Reliability plot: {_shown(out / 'reliability.svg')}")
    lines += ["", "2. Buffers: recommended from the training part, judged on the test part's appointments."]
    lines.append(
        f"   {'barber':>6} {'service':<11} {'train':>5} {'test':>5}  {'buffers':>9}  {'next one late':>21}  {'min/day':>7}"
    )
    for r in b["rows"]:
        if r["status"] != "ok":
            lines.append(f"   {r['barber']:>6} {r['service']:<11} {r['train']:>5}  no recommendation ({r['status']})")
            continue
        lines.append(
            f"   {r['barber']:>6} {r['service']:<11} {r['train']:>5} {r['test']:>5}  {r['before']:>3} / {r['after']:>3}"
            f"  {_pct(r['late_share_before']):>8} -> {_pct(r['late_share_after']):>8}  {r['minutes_per_day']:>7.1f}"
        )
    if b["judged"]:
        lines.append(
            f"   Next appointment late (the barber still busy at its booked start): {_pct(b['late_share_before'])}"
            f" of {b['judged']} test appointments with the buffers they had (none), {_pct(b['late_share_after'])} with"
            f" the recommended ones; late by more than {GRACE:.0f} minutes: {_pct(b['late_by_grace_before'])} ->"
            f" {_pct(b['late_by_grace_after'])}. Cost: {b['minutes_per_barber_day']:.0f} bookable minutes per barber"
            f" per working day ({b['minutes_per_barber_day'] / 30:.1f} half-hour slots)."
        )
        lines.append("   The trade-off, by the share of next appointments the buffer is chosen to keep on time:")
        lines.append(f"   {'target':>8} {'late (test)':>12} {'late > 5 min':>13} {'min/barber/day':>15}")
        tradeoff = []
        for target in TARGETS:
            t = b if target == buffers.TARGET else buffer_effect(trace, cut, target)
            tradeoff.append((target, t["late_share_after"], t["late_by_grace_after"], t["minutes_per_barber_day"]))
            lines.append(
                f"   {target:>8.0%} {_pct(t['late_share_after']):>12} {_pct(t['late_by_grace_after']):>13}"
                f" {t['minutes_per_barber_day']:>15.0f}"
            )
        b["tradeoff"] = tradeoff
    figures["buffers"] = dict(b)
    text = "\n".join(lines)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "evaluation.txt").write_text(text + "\n", encoding="utf-8")
        (out / "evaluation.json").write_text(json.dumps(figures, indent=1, default=_json) + "\n", encoding="utf-8")
    return Report(text, figures)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _json(value):
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else round(float(value), 5)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.learning.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trace", help="a shop's history in the trace CSV format (default: the seeded generator)")
    parser.add_argument("--days", type=int, default=generator.ShopModel.days, help="generated days (default 140)")
    parser.add_argument("--seed", type=int, default=generator.ShopModel.seed, help="the generator's seed (default 18)")
    parser.add_argument("--per-moment", type=int, default=24, help="starts asked about per barber and moment")
    parser.add_argument("--out", default=str(ROOT / "docs" / "learning"), help="where the report and the SVG go")
    args = parser.parse_args(argv)
    if args.trace:
        trace, source = read_csv(args.trace), f"trace {args.trace}"
    else:
        trace = generator.generate(days=args.days, seed=args.seed)
        source = f"generated (seed {args.seed}, {args.days} days)"
    if not trace.appointments:
        print("The history holds no appointments.", file=sys.stderr)
        return 1
    result = report(trace, source=source, out=Path(args.out), per_moment=args.per_moment, seed=args.seed)
    print(result.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
