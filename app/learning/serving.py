"""Serving the conflict model: GET /barbers/{id}/availability?predict=true.

Cheap and optional: the model file (CONFLICT_MODEL, written by `python -m app learn
train`) is loaded once, and again when it changes; no file, no marks (the answer says why).
One read per request (booking.slot_demand: the barber's day and demand counts), the features
of app.learning.features, one predict_proba over the day's free starts. Nothing here ever
reaches the booking path: a prediction is advice, the database still decides.

The file is a pickle (joblib): load only a file the operator wrote.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from app.learning import features
from app.records import Slot, SlotPrediction

log = logging.getLogger("booking.learning")
ROOT = Path(__file__).resolve().parents[2]

_lock = threading.Lock()
_cache: dict[str, tuple[float, dict | None]] = {}


def model_path(setting: str) -> Path | None:
    if not setting:
        return None
    path = Path(setting)
    return path if path.is_absolute() else ROOT / path


def load(setting: str) -> tuple[dict | None, str | None]:
    """(the model file's payload, None) or (None, why there is none)."""
    path = model_path(setting)
    if path is None:
        return None, "predictions are off (CONFLICT_MODEL is empty)"
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None, "no model file yet: `python -m app learn train` writes one"
    with _lock:
        cached = _cache.get(str(path))
        if cached is not None and cached[0] == mtime:
            payload = cached[1]
        else:
            from app.learning import model

            try:
                payload = model.load(path)
            except Exception as e:  # a broken or foreign file: no marks, and the log says why
                log.warning("conflict model %s not loaded: %r", path, e)
                payload = None
            _cache[str(path)] = (mtime, payload)
    if payload is None:
        return None, "the model file could not be read (see the service's log)"
    return payload, None


def describe(payload: dict) -> SlotPrediction:
    return SlotPrediction(
        available=True,
        model=payload["name"],
        horizon_hours=float(payload["horizon_hours"]),
        threshold=float(payload["threshold"]),
        trained_at=payload["trained_at"],
        beats_baseline=bool(payload["beats_baseline"]),
    )


def demand_of(row) -> features.Demand:
    """booking.slot_demand's row as the features' Demand."""
    return features.Demand(
        at=row["read_at"].timestamp(),
        busy=tuple((f.timestamp(), u.timestamp()) for f, u in zip(row["busy_from"], row["busy_until"], strict=True)),
        booked_24h=row["booked_24h"],
        refused_24h=row["refused_24h"],
        booked_28d=row["booked_28d"],
        shop_booked_28d=row["shop_booked_28d"],
        shop_barbers=row["shop_barbers"],
    )


def mark(payload: dict, slots: list[Slot], demand_row) -> list[Slot]:
    """The slots with taken_probability and likely_to_go_soon."""
    if not slots:
        return slots
    fitted = payload["model"]
    demand = demand_of(demand_row)
    zone = ZoneInfo(demand_row["timezone"])
    X = np.array(
        [
            features.row(
                s.start.timestamp(),
                round((s.end - s.start).total_seconds() / 60),
                demand,
                zone,
                fitted.rates,
                fitted.base,
            )
            for s in slots
        ]
    )
    how = X[:, features.FEATURES.index("weekday")].astype(int) * 24 + X[:, features.FEATURES.index("hour")].astype(int)
    p = fitted.predict(X, how)
    threshold = float(payload["threshold"])
    shown = [round(float(q), 3) for q in p]  # the mark follows the number shown
    return [
        Slot(s.start, s.end, taken_probability=q, likely_to_go_soon=q >= threshold)
        for s, q in zip(slots, shown, strict=True)
    ]
