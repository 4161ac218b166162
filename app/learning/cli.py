"""`python -m app learn export | train` (docs/LEARNING.md).

    python -m app learn export --shop 1 --out trace.csv       # the shop's history, as a trace
    python -m app learn train [--shop 1 | --trace trace.csv] [--model var/conflict-model.joblib]

`train` builds the conflict model's rows from the whole history (app.learning.features),
chooses among the baselines and the models by log loss on the latest quarter of it
(app.learning.model.select), fits the chosen one on all of it and writes the model file the
service reads (CONFLICT_MODEL). It says plainly when no model beats the hour-of-week
baseline: the file then serves that baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path


def register(sub) -> None:
    """The `learn` command's parsers, under `python -m app`."""
    learn = sub.add_parser(
        "learn", help="learn from a shop's history: export it, train the conflict model (docs/LEARNING.md)"
    ).add_subparsers(dest="learn_command", required=True)
    p = learn.add_parser("export", help="write a shop's history (booking.booking_history) as a trace CSV")
    p.add_argument("--shop", type=int, default=1, help="the shop (default 1)")
    p.add_argument("--since", help="RFC 3339 instant (default: 365 days ago)")
    p.add_argument("--out", required=True, help="the CSV file to write")
    p.set_defaults(func=cmd_export)
    p = learn.add_parser("train", help="train the conflict model and write its file (CONFLICT_MODEL)")
    p.add_argument("--shop", type=int, default=1, help="the shop whose history trains it (default 1)")
    p.add_argument("--trace", help="train from this trace CSV instead of the database")
    p.add_argument("--since", help="RFC 3339 instant (default: 365 days ago)")
    p.add_argument("--model", help="the file to write (default: CONFLICT_MODEL, var/conflict-model.joblib)")
    p.add_argument("--threshold", type=float, default=None, help="likely_to_go_soon from this chance (default 0.5)")
    p.add_argument("--seed", type=int, default=18)
    p.set_defaults(func=cmd_train)


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        sys.exit(f"--since must be an RFC 3339 instant, not {text!r}")
    if moment.tzinfo is None:
        sys.exit("--since needs its offset (e.g. 2030-01-01T00:00:00Z)")
    return moment


def history(database_url: str, shop: int, since: datetime | None):
    """The shop's trace, from booking.booking_history."""
    import asyncpg

    from app.learning.trace import from_rows
    from app.queries import QUERIES

    async def fetch():
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetch(QUERIES["booking_history"], shop, since)
        finally:
            await conn.close()

    return from_rows(dict(r) for r in asyncio.run(fetch()))


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is not set")
    return url


def cmd_export(args: argparse.Namespace) -> None:
    from app.learning.trace import write_csv

    trace = history(_database_url(), args.shop, _since(args.since))
    rows = write_csv(trace, args.out)
    print(f"{rows} rows ({len(trace.appointments)} appointments, {len(trace.attempts)} refused attempts) -> {args.out}")


def cmd_train(args: argparse.Namespace) -> None:
    from app.config import Settings
    from app.learning import features, model, serving
    from app.learning.trace import read_csv

    if args.trace:
        trace = read_csv(args.trace)
    else:
        trace = history(_database_url(), args.shop, _since(args.since))
    if not trace.appointments:
        sys.exit("the history holds no appointments: nothing to learn from")
    setting = args.model or (Settings.from_env().conflict_model if os.environ.get("DATABASE_URL") else "")
    path = serving.model_path(setting or "var/conflict-model.joblib")
    rows = features.build(trace, seed=args.seed)
    if not len(rows) or rows.y.min() == rows.y.max():
        sys.exit(f"too little history: {len(rows)} rows, {int(rows.y.sum())} taken")
    selection = model.select(rows, seed=args.seed)
    fitted = model.fit(selection.chosen, rows, seed=args.seed)
    payload = model.save(
        path,
        fitted,
        selection=selection,
        rows=rows,
        threshold=model.THRESHOLD if args.threshold is None else args.threshold,
    )
    print(f"{len(rows)} rows from {len(trace.appointments)} appointments; validation (the latest quarter):")
    for name, s in selection.validation.items():
        print(f"  {name:<18} Brier {s['brier']:.4f}  log loss {s['log_loss']:.4f}  AUC {s['auc']:.3f}")
    verdict = (
        "it beats the hour-of-week baseline"
        if payload["beats_baseline"]
        else "no model beats the hour-of-week baseline: the file serves that baseline"
        if selection.chosen in model.BASELINES
        else "it does not beat the hour-of-week baseline"
    )
    print(f"chosen: {selection.chosen} ({verdict}) -> {Path(path)}")
