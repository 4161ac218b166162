"""The conflict model (issue 18, part 3; docs/LEARNING.md): will a free start be taken
within HORIZON_HOURS? Trained offline on a shop's history (`python -m app learn train`,
`make evaluate`), kept in one file, served cheaply (app.learning.serving).

Candidates, all scikit-learn, all compared with two baselines on data they did not see:

| name               | what                                                                  |
|--------------------|-----------------------------------------------------------------------|
| base_rate          | baseline: the share of free starts that went, in training             |
| hour_of_week       | baseline: that share per local hour of the week (smoothed to the base) |
| logistic           | LogisticRegression over one-hot hour and weekday and the scaled        |
|                    | numeric features (its log loss keeps its probabilities calibrated)     |
| gradient_boosting  | HistGradientBoostingClassifier, calibrated by isotonic regression      |
|                    | on held-out folds (CalibratedClassifierCV, 3 folds)                    |

`select()` picks the one with the lowest log loss on the latest part of the training
period (validation), baselines included: when no model beats the hour-of-week frequency, the
file serves that frequency, and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.learning import features
from app.learning.features import CATEGORICAL, FEATURES, HORIZON_HOURS, Rows

FORMAT = 1
BASELINES = ("base_rate", "hour_of_week")
MODELS = ("logistic", "gradient_boosting")
THRESHOLD = 0.5  # likely_to_go_soon: more likely than not to be taken within the horizon
EPS = 1e-6


def _estimator(name: str, seed: int):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = [FEATURES.index(c) for c in CATEGORICAL]
    numeric = [i for i in range(len(FEATURES)) if i not in categorical]
    if name == "logistic":
        prepare = ColumnTransformer(
            [
                ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                ("numeric", StandardScaler(), numeric),
            ]
        )
        return Pipeline([("prepare", prepare), ("model", LogisticRegression(C=1.0, max_iter=2000))])
    if name == "gradient_boosting":
        boosted = HistGradientBoostingClassifier(
            max_iter=150,
            learning_rate=0.06,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            random_state=seed,
        )
        return CalibratedClassifierCV(boosted, method="isotonic", cv=3)
    raise ValueError(f"unknown model {name!r}")


@dataclass
class Fitted:
    """A candidate fitted on training rows: a baseline (no estimator) or a model."""

    name: str
    rates: dict[int, float]
    base: float
    estimator: object | None = None

    def predict(self, X: np.ndarray, how: np.ndarray) -> np.ndarray:
        if self.name == "base_rate":
            return np.full(len(X), self.base)
        if self.name == "hour_of_week":
            return np.array([self.rates.get(int(h), self.base) for h in how])
        return self.estimator.predict_proba(X)[:, 1]

    def predict_rows(self, rows: Rows) -> np.ndarray:
        return self.predict(features.with_how_rate(rows, self.rates, self.base), rows.how)


def fit(name: str, rows: Rows, *, seed: int = 18) -> Fitted:
    rates, base = features.how_rates(rows)
    if name in BASELINES:
        return Fitted(name, rates, base)
    estimator = _estimator(name, seed)
    estimator.fit(features.with_how_rate(rows, rates, base), rows.y.astype(int))
    return Fitted(name, rates, base, estimator)


def scores(y: np.ndarray, p: np.ndarray) -> dict:
    """Brier score, log loss (natural log), ROC AUC, and the calibration bins."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    p = np.clip(p, EPS, 1 - EPS)
    out = {
        "rows": int(y.size),
        "positives": int(y.sum()),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "auc": float(roc_auc_score(y, p)) if 0 < y.sum() < y.size else math.nan,
        "mean_predicted": float(p.mean()),
        "observed": float(y.mean()),
    }
    out["calibration"] = calibration(y, p)
    return out


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean predicted, observed share, rows) per bin of equal width."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append((float(p[mask].mean()), float(y[mask].mean()), int(mask.sum())))
    return out


def split(rows: Rows, fraction: float) -> tuple[Rows, Rows]:
    """Earlier and later rows by observation moment: the first `fraction` of the span of
    moments, then the rest. Rows whose label window (moment + horizon) crosses the cut are
    dropped from the earlier part, so it never sees what the later part is about."""
    if not len(rows):
        return rows, rows
    first, last = float(rows.at.min()), float(rows.at.max())
    cut = first + (last - first) * fraction
    early = rows.select(rows.at + HORIZON_HOURS * 3600 <= cut)
    late = rows.select(rows.at >= cut)
    return early, late


@dataclass
class Selection:
    chosen: str
    validation: dict[str, dict] = field(default_factory=dict)


def select(rows: Rows, *, seed: int = 18, validation_fraction: float = 0.25) -> Selection:
    """The candidate with the lowest log loss on the latest `validation_fraction` of the
    rows, fitted on the rows before (baselines included)."""
    early, late = split(rows, 1 - validation_fraction)
    results = {}
    for name in BASELINES + MODELS:
        if not len(early) or not len(late) or early.y.min() == early.y.max():
            break
        model = fit(name, early, seed=seed)
        results[name] = scores(late.y, model.predict_rows(late))
    if not results:
        return Selection("hour_of_week", {})
    chosen = min(results, key=lambda n: results[n]["log_loss"])
    return Selection(chosen, results)


def save(path: str | Path, model: Fitted, *, selection: Selection, rows: Rows, threshold: float = THRESHOLD) -> dict:
    """Write the model file (joblib): the fitted candidate and what it was chosen from."""
    import joblib
    import sklearn

    hour_of_week = selection.validation.get("hour_of_week", {}).get("log_loss")
    mine = selection.validation.get(model.name, {}).get("log_loss")
    payload = {
        "format": FORMAT,
        "name": model.name,
        "model": model,
        "features": FEATURES,
        "horizon_hours": HORIZON_HOURS,
        "threshold": threshold,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "trained_on": {"rows": len(rows), "positives": int(rows.y.sum())},
        "validation": {n: {k: v for k, v in s.items() if k != "calibration"} for n, s in selection.validation.items()},
        "beats_baseline": bool(
            model.name in MODELS and mine is not None and hour_of_week is not None and mine < hour_of_week
        ),
        "sklearn": sklearn.__version__,
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(payload, path)
    return payload


def load(path: str | Path) -> dict:
    import joblib

    payload = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not a conflict model file of format {FORMAT}")
    return payload
