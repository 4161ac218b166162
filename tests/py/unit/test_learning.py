"""Learning from history without a database (issue 18; docs/LEARNING.md): the buffer
recommendation's arithmetic on small hand-made histories, the trace format, the seeded
generator, the conflict model's features, training, file and serving, and `make evaluate`
on a tiny history (seconds)."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from app.learning import buffers, features, generator, model, serving
from app.learning.trace import Booked, Refused, Trace, TraceError, from_rows, read_csv, write_csv
from app.records import Slot
from harness import ROOT

# --- buffers ---------------------------------------------------------------------------


def test_too_few_finished_appointments_give_no_recommendation_and_say_how_many_more():
    rec = buffers.recommend("Haircut", 30, [0, 2, 1], [5, 3, 4], barber="Ana")
    assert rec.status == "not_enough_history"
    assert (rec.samples, rec.needed) == (3, buffers.MIN_SAMPLES - 3)
    assert rec.buffer_time_after is None and rec.buffer_time_before is None
    assert "3 finished appointments" in rec.summary and f"{buffers.MIN_SAMPLES} are needed" in rec.summary
    empty = buffers.recommend("Haircut", 30, [], [])
    assert empty.status == "not_enough_history" and empty.needed == buffers.MIN_SAMPLES


def test_the_buffer_after_is_the_90th_percentile_of_the_end_delay_rounded_up_to_5_minutes():
    # On time, overruns of 0 to 9 minutes: the 90th percentile (linear) is 8.1 -> 10 minutes.
    rec = buffers.recommend("Haircut", 30, [0] * 10, list(range(10)), [0] * 10, appointments=40, work_days=20)
    assert rec.status == "ok" and rec.samples == 10 and rec.outliers == 0
    assert rec.end_delay_p90 == pytest.approx(8.1)
    assert (rec.buffer_time_before, rec.buffer_time_after) == (0, 10)
    assert rec.on_time_now == pytest.approx(0.1)  # only the one that did not overrun
    assert rec.on_time_recommended == 1.0
    # two Haircuts a working day, each keeping 10 more minutes: 20 minutes, half a Haircut with its buffer
    assert rec.appointments_per_day == 2.0
    assert rec.cost_minutes_per_day == pytest.approx(20.0)
    assert rec.cost_appointments_per_day == pytest.approx(20 / 40)
    low, high = rec.interval_minutes
    assert low <= rec.end_delay_p90 <= high <= 9
    assert rec.interval_buffer_after == (buffers.up_to_step(low), buffers.up_to_step(high))
    assert "10 minutes after it" in rec.summary and "9 of 10" not in rec.summary


def test_a_late_start_is_part_of_the_end_delay_and_an_early_one_shortens_it():
    rec = buffers.recommend("Fade", 45, [3] * 10, [0] * 10)  # always 3 minutes late, never over
    assert rec.buffer_time_after == 5 and rec.buffer_time_before == 0  # late, but not the pattern (< 5)
    early = buffers.recommend("Fade", 45, [-5] * 10, [3] * 10)  # started 5 early, 3 over: done 2 early
    assert early.buffer_time_after == 0


def test_one_outlier_does_not_set_everyones_buffer():
    usual = list(range(10))
    plain = buffers.recommend("Haircut", 30, [0] * 10, usual)
    with_outlier = buffers.recommend("Haircut", 30, [0] * 11, [*usual, 120])  # one client stayed two hours
    assert with_outlier.outliers == 1 and with_outlier.samples == 10
    assert with_outlier.buffer_time_after == plain.buffer_time_after == 10
    assert "1 outlier left out" in with_outlier.summary


def test_late_starts_as_the_pattern_get_a_buffer_before_and_the_after_buffer_the_rest():
    # A colour that starts 8 minutes late every time (preparation), then overruns 0-9 minutes.
    rec = buffers.recommend("Colour", 90, [8] * 12, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9])
    assert rec.late_starts_are_the_pattern
    assert rec.buffer_time_before == 10  # the median late start, rounded up
    assert rec.buffer_time_after == 10  # the preparation is absorbed before: only the overrun is left
    assert "starts late even with" in rec.summary
    occasional = buffers.recommend("Colour", 90, [0] * 7 + [20] * 5, [0] * 12)  # a few very late: not a pattern
    assert not occasional.late_starts_are_the_pattern and occasional.buffer_time_before == 0


def test_a_history_of_identical_durations_recommends_no_buffer_with_a_point_interval():
    rec = buffers.recommend("Beard Trim", 15, [0] * 8, [0] * 8)
    assert (rec.buffer_time_before, rec.buffer_time_after) == (0, 0)
    assert rec.interval_minutes == (0.0, 0.0)
    assert "first estimate" in rec.summary  # fewer than 20


def test_the_interval_is_seeded_and_wider_for_fewer_samples():
    rng = np.random.default_rng(1)
    many = rng.gamma(2.0, 3.0, size=200)
    few = many[:12]
    a = buffers.recommend("Haircut", 30, [0] * 200, many)
    b = buffers.recommend("Haircut", 30, [0] * 200, many)
    assert a.interval_minutes == b.interval_minutes  # the same answer twice
    c = buffers.recommend("Haircut", 30, [0] * 12, few)
    width = lambda r: r.interval_minutes[1] - r.interval_minutes[0]  # noqa: E731
    assert width(c) > width(a)


def test_cost_is_negative_when_the_recommendation_lowers_the_buffers_in_force():
    rec = buffers.recommend(
        "Haircut", 30, [0] * 10, [0] * 10, [15] * 10, current_after=15, appointments=30, work_days=10
    )
    assert rec.buffer_time_after == 0 and rec.cost_minutes_per_day == pytest.approx(-45.0)
    assert "frees about 45 minutes" in rec.summary


def test_the_recommendation_records_its_basis_as_json_ready_values():
    rec = buffers.recommend("Haircut", 30, [0] * 10, list(range(10)))
    basis = rec.basis()
    assert basis["samples"] == 10 and basis["end_delay_p90"] == 8.1 and len(basis["interval_minutes"]) == 2


def test_histories_from_a_trace_follow_booking_service_durations_rules():
    t0 = datetime(2030, 1, 7, 9, tzinfo=UTC)
    m = timedelta(minutes=1)

    def done(start, minutes, started, finished, service="Haircut"):
        return Booked(1, "UTC", service, minutes, 0, 0, start, t0 - timedelta(days=1), None, "completed",
                      started, finished)  # fmt: skip

    trace = Trace(
        [
            done(t0, 30, t0 + 5 * m, t0 + 45 * m),  # 5 late, 10 over
            done(t0 + 30 * m, 30, t0 + 45 * m, t0 + 75 * m),  # late only because of the one before: 0, 0
            done(t0 + 120 * m, 30, t0 + 120 * m, t0 + 120 * m + timedelta(seconds=20)),  # 20 s: a data error
            Booked(1, "UTC", "Haircut", 30, 0, 0, t0 + 200 * m, t0, t0 + m, "cancelled"),
        ]
    )
    histories, days = buffers.histories_from_trace(trace)
    h = histories[(1, "Haircut")]
    assert h.late_starts == [5, 0] and h.overruns == [10, 0] and h.excluded == 1
    assert h.appointments == 3 and days == {1: 1}


# --- the trace ----------------------------------------------------------------------------


def test_the_trace_csv_round_trips_and_refuses_what_is_not_a_trace(tmp_path):
    trace = generator.generate(days=10, seed=3)
    path = tmp_path / "trace.csv"
    rows = write_csv(trace, path)
    assert rows == len(trace.appointments) + len(trace.attempts)
    again = read_csv(path)
    assert again.appointments == trace.appointments
    assert [(r.barber_id, r.start_time, r.created_at) for r in again.attempts] == [
        (r.barber_id, r.start_time, r.created_at) for r in trace.attempts
    ]
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("kind,barber_id,timezone,service,duration_minutes")
    with pytest.raises(TraceError, match="kind"):
        from_rows([{"kind": "visit", "timezone": "UTC", "service": "x", "start_time": "2030-01-01T10:00:00Z",
                    "created_at": "2030-01-01T09:00:00Z"}])  # fmt: skip
    with pytest.raises(TraceError, match="offset"):
        from_rows([{"kind": "attempt", "timezone": "UTC", "service": "x", "start_time": "2030-01-01T10:00:00",
                    "created_at": "2030-01-01T09:00:00Z"}])  # fmt: skip


# --- the generator ------------------------------------------------------------------------


def test_the_generator_is_seeded_and_has_the_documented_patterns():
    a, b, c = (
        generator.generate(days=28, seed=7),
        generator.generate(days=28, seed=7),
        generator.generate(days=28, seed=8),
    )
    assert a.appointments == b.appointments and a.attempts == b.attempts
    assert a.appointments != c.appointments
    statuses = {x.status for x in a.appointments}
    assert {"completed", "cancelled", "no_show"} <= statuses
    zone = ZoneInfo("Europe/Paris")
    assert all(x.start_time.astimezone(zone).weekday() != 6 for x in a.appointments)  # closed on Sunday
    by_barber = {}
    for x in a.appointments:
        by_barber[x.barber_id] = by_barber.get(x.barber_id, 0) + 1
    assert by_barber[1] > by_barber[4]  # popular barbers
    over = {
        s: np.median(
            [
                (x.finished_at - x.started_at).total_seconds() / 60 - x.duration_minutes
                for x in a.appointments
                if x.service == s and x.finished_at
            ]  # fmt: skip
        )
        for s in ("Haircut", "Colour")
    }
    assert over["Colour"] > over["Haircut"] + 5  # a late-running service
    assert a.attempts  # refusals happen


# --- the conflict model --------------------------------------------------------------------


def test_the_features_of_one_start():
    zone = ZoneInfo("Europe/Paris")
    start = datetime(2030, 1, 8, 10, tzinfo=zone).timestamp()  # a Tuesday, 10:00 local
    at = start - 26 * 3600
    demand = features.Demand(
        at=at,
        busy=((start - 3600, start - 1800), (start + 7200, start + 9000)),  # 09:00-09:30, 12:00-12:30
        booked_24h=3,
        refused_24h=1,
        booked_28d=40,
        shop_booked_28d=100,
        shop_barbers=4,
    )
    row = dict(zip(features.FEATURES, features.row(start, 30, demand, zone, {1 * 24 + 10: 0.3}, 0.1), strict=True))
    assert row["hour"] == 10 and row["weekday"] == 1
    assert row["log_lead_hours"] == pytest.approx(math.log1p(26))
    assert row["duration_hours"] == 0.5 and row["day_booked_hours"] == 1.0
    assert row["adjacent"] == 1  # 09:00-09:30 ends within the hour before; 12:00 starts 1.5 h after 10:30
    assert row["log_booked_24h"] == pytest.approx(math.log(4)) and row["log_refused_24h"] == pytest.approx(math.log(2))
    assert row["popularity"] == pytest.approx(1.6) and row["how_rate"] == 0.3


@pytest.fixture(scope="module")
def small_rows():
    trace = generator.generate(days=35, seed=5)
    return trace, features.build(trace, per_moment=8, seed=5)


def test_training_rows_label_what_a_later_booking_took(small_rows):
    trace, rows = small_rows
    assert len(rows) > 1000 and rows.X.shape == (len(rows), len(features.FEATURES))
    assert 0.02 < rows.y.mean() < 0.5
    # no row's label window reaches past the end of the trace
    assert rows.at.max() + features.HORIZON_HOURS * 3600 <= trace.span()[1].timestamp()
    rates, base = features.how_rates(rows)
    assert base == pytest.approx(rows.y.mean()) and all(0 <= r <= 1 for r in rates.values())


def test_every_candidate_fits_predicts_probabilities_and_is_scored(small_rows):
    _, rows = small_rows
    early, late = model.split(rows, 0.7)
    assert early.at.max() + features.HORIZON_HOURS * 3600 <= late.at.min() + 1e-6  # no overlap of label windows
    for name in model.BASELINES + model.MODELS:
        fitted = model.fit(name, early)
        p = fitted.predict_rows(late)
        assert p.shape == late.y.shape and np.all((p >= 0) & (p <= 1))
        s = model.scores(late.y, p)
        assert 0 <= s["brier"] <= 1 and s["log_loss"] > 0
        assert sum(n for _, _, n in s["calibration"]) == len(late)
    selection = model.select(rows)
    assert selection.chosen in model.BASELINES + model.MODELS
    assert set(selection.validation) == set(model.BASELINES + model.MODELS)


def test_the_model_file_round_trips_and_marks_slots(small_rows, tmp_path):
    _, rows = small_rows
    selection = model.Selection("logistic", {"logistic": {"log_loss": 0.3}, "hour_of_week": {"log_loss": 0.35}})
    fitted = model.fit("logistic", rows)
    path = tmp_path / "m.joblib"
    model.save(path, fitted, selection=selection, rows=rows, threshold=0.2)
    payload, reason = serving.load(str(path))
    assert reason is None and payload["name"] == "logistic" and payload["beats_baseline"] is True
    described = serving.describe(payload)
    assert described.available and described.threshold == 0.2 and described.horizon_hours == features.HORIZON_HOURS
    start = datetime(2029, 2, 6, 10, tzinfo=UTC)
    slots = [Slot(start + timedelta(minutes=30 * k), start + timedelta(minutes=30 * k + 30)) for k in range(4)]
    demand = {
        "timezone": "Europe/Paris",
        "busy_from": [start - timedelta(hours=1)],
        "busy_until": [start - timedelta(minutes=30)],
        "booked_24h": 5,
        "refused_24h": 2,
        "booked_28d": 60,
        "shop_booked_28d": 200,
        "shop_barbers": 4,
        "read_at": start - timedelta(hours=3),
    }
    marked = serving.mark(payload, slots, demand)
    assert [(s.start, s.end) for s in marked] == [(s.start, s.end) for s in slots]
    assert all(0 <= s.taken_probability <= 1 for s in marked)
    assert all(s.likely_to_go_soon == (s.taken_probability >= 0.2) for s in marked)
    assert serving.mark(payload, [], demand) == []


def test_no_model_file_means_no_marks_and_says_why(tmp_path):
    assert serving.load(str(tmp_path / "absent.joblib")) == (
        None,
        "no model file yet: `python -m app learn train` writes one",
    )
    assert serving.load("")[0] is None
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a pickle")
    payload, reason = serving.load(str(broken))
    assert payload is None and "could not be read" in reason


# --- make evaluate -------------------------------------------------------------------------


def test_the_evaluation_command_runs_on_a_tiny_history_in_seconds(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "app.learning.evaluate", "--days", "35", "--per-moment", "6", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for needle in ("Brier", "log loss", "base rate (baseline)", "hour-of-week frequency (baseline)",
                   "logistic regression", "gradient boosting", "Next appointment late", "The trade-off"):  # fmt: skip
        assert needle in text, needle
    assert ("beats the hour-of-week baseline" in text) != ("No model beats the hour-of-week baseline" in text)
    svg = (tmp_path / "reliability.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert (tmp_path / "evaluation.txt").read_text(encoding="utf-8").strip() == text.strip()


def test_the_evaluation_reads_a_trace_file(tmp_path):
    path = tmp_path / "shop.csv"
    write_csv(generator.generate(days=30, seed=11), path)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.learning.evaluate",
            "--trace",
            str(path),
            "--per-moment",
            "4",
            "--out",
            str(tmp_path / "out"),
        ],  # fmt: skip
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert f"trace {path}" in out.stdout


def test_refused_attempts_are_part_of_a_trace():
    t = datetime(2030, 1, 7, 9, tzinfo=UTC)
    trace = Trace([], [Refused(None, "UTC", "Haircut", 30, t, t - timedelta(hours=1))])
    assert trace.attempts[0].barber_id is None and trace.barbers == []


def test_learn_train_writes_a_model_file_from_a_trace_and_says_what_it_chose(tmp_path):
    trace_file, model_file = tmp_path / "shop.csv", tmp_path / "model.joblib"
    write_csv(generator.generate(days=30, seed=12), trace_file)
    out = subprocess.run(
        [sys.executable, "-m", "app", "learn", "train", "--trace", str(trace_file), "--model", str(model_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "LOG_LEVEL": "WARNING"},
    )
    assert out.returncode == 0, out.stderr
    assert "chosen:" in out.stdout and "hour_of_week" in out.stdout and "log loss" in out.stdout
    payload, reason = serving.load(str(model_file))
    assert reason is None and payload["name"] in model.BASELINES + model.MODELS
    assert ("beats the hour-of-week baseline" in out.stdout) == payload["beats_baseline"]


def test_the_figures_docs_learning_quotes_are_the_ones_make_evaluate_wrote():
    """docs/LEARNING.md quotes docs/learning/evaluation.txt: every figure it quotes in a
    code block is a line of that file (rerun `make evaluate` and update the page together)."""
    written = {" ".join(line.split()) for line in (ROOT / "docs/learning/evaluation.txt").read_text().splitlines()}
    page = (ROOT / "docs/LEARNING.md").read_text(encoding="utf-8")
    blocks = page.split("### The figures")[1].split("```")[1::2]
    quoted = [" ".join(line.split()) for block in blocks for line in block.splitlines() if line.strip()]
    assert quoted
    text = " ".join(written)
    for line in quoted:
        assert line in written or line in text, line
