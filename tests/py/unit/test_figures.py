"""The figures of make bench (bench.figures) and make torture (torture.timeline), drawn from
small hand-made data: valid SVG, the titles and series named, the same bytes twice."""

import asyncio
import json
import math
import xml.etree.ElementTree as ET

import pytest

from bench import figures, report
from torture import timeline

NAN = math.nan


def row(scenario, variant, tps, p50, p99, ratio_value=None, by="tps", p95=NAN):
    return {
        "scenario": scenario,
        "variant": variant,
        "tps": tps,
        "p50_ms": p50,
        "p99_ms": p99,
        "ratio": f"{ratio_value:.2f}x {by}" if ratio_value is not None else "",
        "note": "",
        "ratio_value": ratio_value,
        "also": {},
        "p95_ms": p95,
    }


def flash_round(done, booked, with_curve=True):
    extra = {"attempts": sum(done), "booked": sum(booked), "deadlocks": 1, "conflicts": sum(done) - sum(booked) - 1}
    if with_curve:
        extra["timeline"] = {"start": 1.7e9, "bucket_s": 0.25, "done": done, "booked": booked}
    return {"tps": 100.0, "p50_ms": 1.0, "p99_ms": 3.0, "count": sum(done), "failed": 0, "extra": extra}


def results(with_curve=True):
    unc, flash = "uncontended, 1,000 barbers, c=8", "flash sale, one barber-day, c=8"
    return {
        "mode": "quick",
        "command": "make bench-quick",
        "started": "2026-11-30 12:00",
        "rows": [
            row(unc, "bare INSERT", 3000, 2.0, 6.0, p95=4.0),
            row(unc, "book_appointment", 1400, 5.0, 12.0, 0.46, p95=9.0),
            row(flash, "raw INSERT", 2100, 1.1, 7.7),
            row(flash, "book_appointment", 1000, 6.9, 19.4, 0.49),
            row("growth: clients, c=1", "bare INSERT", 1400, 0.6, 2.1),
            row("growth: clients, c=1", "book_appointment", 540, 1.7, 3.9, 0.38),
            row("growth: clients, c=2", "bare INSERT", 1460, 1.2, 4.5),
            row("growth: clients, c=2", "book_appointment", 840, 2.2, 5.8, 0.57),
            row("scale, c=8", "book, 10,000 rows", 1477, 4.98, 12.1),
            row("scale, c=8", "book, 10,000,000 rows", 1242, 5.40, 13.0, 1.15, by="p50"),
            row("sse, 50 subscribers, c=8", "booking committed -> subscriber", 1226, 46.2, 92.9),
            row("service, c=8", "POST /appointments (wrk)", 546, 14.1, 35.6),
        ],
        "runs": {
            flash: {
                "raw INSERT": [
                    flash_round([5, 9, 8], [2, 3, 1], with_curve),
                    flash_round([6, 8, 9], [2, 2, 2], with_curve),
                ],
                "book_appointment": [flash_round([3, 4, 4], [1, 1, 1], with_curve)],
            }
        },
    }


def texts(path):
    """The SVG's texts (the figures keep text as text: svg.fonttype none)."""
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return ["".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_the_bench_figures_name_their_scenarios_and_series(tmp_path):
    record = results()
    drawn = figures.draw_all(record, tmp_path, figures.source_of(record))
    assert drawn == ["throughput.svg", "latency.svg", "flash-sale.svg"]

    throughput = texts(tmp_path / "throughput.svg")
    assert any(t.startswith("Throughput") for t in throughput)
    assert "uncontended, 1,000 barbers, c=8  (baseline: bare INSERT)" in throughput
    assert "1.0 = 3000 tps" in throughput and "0.46x, 1400 tps" in throughput
    assert "c=2: book_appointment" in throughput  # growth's points in one group
    assert not any("scale" in t for t in throughput)  # compared by p50: latency only
    assert any("make bench-quick of 2026-11-30 12:00 UTC (mode quick)" in t for t in throughput)

    latency = texts(tmp_path / "latency.svg")
    assert any(t.startswith("Latency: p50, p95 and p99") for t in latency)
    assert {"p50", "p95", "p99", "sse, 50 subscribers, c=8", "book, 10,000,000 rows"} <= set(latency)
    assert "p50 2, p95 4, p99 6" in latency and "p50 14.1, p99 35.6" in latency  # no p95 from wrk

    flash = texts(tmp_path / "flash-sale.svg")
    assert any(t.startswith("Flash sale (flash sale, one barber-day, c=8): booked vs attempted") for t in flash)
    assert {"raw INSERT: attempted", "raw INSERT: booked", "book_appointment: attempted"} <= set(flash)
    assert "book_appointment (27% booked)" in flash  # 3 of 11


def test_the_flash_figure_of_older_results_shows_the_totals(tmp_path):
    record = results(with_curve=False)
    assert figures.draw_flash(record, tmp_path / "flash-sale.svg", "x")
    flash = texts(tmp_path / "flash-sale.svg")
    assert any("totals per round" in t for t in flash)
    assert {"attempts", "booked", "conflicts", "deadlocks"} <= set(flash)


def test_a_figure_without_data_is_not_drawn_and_its_old_file_goes(tmp_path):
    record = results()
    record["runs"] = {}
    (tmp_path / "flash-sale.svg").write_text("<svg/>")
    assert figures.draw_all(record, tmp_path, "x") == ["throughput.svg", "latency.svg"]
    assert not (tmp_path / "flash-sale.svg").exists()


def test_drawing_twice_gives_the_same_bytes(tmp_path):
    record = results()
    figures.draw_all(record, tmp_path / "a", "x")
    figures.draw_all(json.loads(json.dumps(record)), tmp_path / "b", "x")
    for name in figures.FIGURES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_draw_docs_into_another_directory_leaves_the_docs_alone(tmp_path, monkeypatch):
    written = []
    monkeypatch.setattr(report, "write_figures_docs", lambda *a: written.append(a))
    path = tmp_path / "quick.json"
    path.write_text(json.dumps(results()))
    assert figures.draw_docs(path, tmp_path / "out") == ["throughput.svg", "latency.svg", "flash-sale.svg"]
    assert written == []


def test_the_benchmarks_page_block_embeds_the_figures(tmp_path, monkeypatch):
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(
        "# Benchmarks\n\n## Figures\n\n<!-- bench-figures:begin -->\nold\n<!-- bench-figures:end -->\n\nrest\n"
    )
    monkeypatch.setattr(report, "DOCS", doc)
    report.write_figures_docs("`make bench-quick` of 2026-11-30 12:00 UTC (mode quick)", "quick", ["latency.svg"])
    text = doc.read_text()
    assert "old" not in text and text.endswith("<!-- bench-figures:end -->\n\nrest\n")
    assert "![p50, p95 and p99 latency of every variant](bench/latency.svg)" in text
    assert "a `quick` run, not a full one" in text
    assert "throughput.svg" not in text


def timeline_data():
    return {
        "title": "python -m torture.runner --duration 4",
        "seconds": 5,
        "duration": 4,
        "ops": {"SQL book": [10, 12, 3, 11, 0], "HTTP book": [2, 2, 0, 2, 0]},
        "errors": {"23P01": [1, 2, 0, 1, 0], "57P01": [0, 0, 5, 0, 0]},
        "faults": [[0.8, "kills", 2], [1.9, "restarts", 1], [2.5, "lock_timeouts", 1], [4.3, "restarts", 1]],
        "down": [[1.5, 1.9, "server"], [4.1, 4.3, "server"]],
    }


def test_the_torture_timeline_names_its_series_and_faults(tmp_path):
    path = timeline.draw(timeline_data(), tmp_path / "t.svg")
    shown = texts(path)
    assert "python -m torture.runner --duration 4" in shown
    assert any(t.startswith("Operations per second by kind") for t in shown)
    assert any(t.startswith("Errors per second by kind") for t in shown)
    assert {"SQL book", "HTTP book", "23P01", "57P01", "faults"} <= set(shown)
    assert "sessions killed (pg_terminate_backend)" in shown and "crash-restart" in shown  # legend; a mark's label
    assert "server down (crash to restarted)" in shown
    again = timeline.draw(timeline_data(), tmp_path / "u.svg")
    assert path.read_bytes() == again.read_bytes()


def test_the_timeline_records_what_the_clients_and_the_injector_do(tmp_path):
    class Work:
        def __init__(self):
            self.errors = []

        def note_error(self, code):
            self.errors.append(code)

        async def book(self):
            self.note_error("23P01")

        async def cancel(self):
            raise RuntimeError("lost")

    for name in ("hold", "series", "reschedule", "set_status"):
        setattr(Work, name, Work.cancel)

    class Record:
        faults = {"kills": 0, "restarts": 0}

    class Server:
        def __init__(self):
            self.calls = []

        def crash(self):
            self.calls.append("crash")

        def start(self):
            self.calls.append("start")

    work, record, server = Work(), Record(), Server()
    t = timeline.Timeline.attach(record, work, None, servers={"server": server}, duration=1)

    async def load():
        await work.book()
        with pytest.raises(RuntimeError):
            await work.cancel()

    asyncio.run(load())
    record.faults["kills"] += 2
    record.faults["kills"] += 0  # nothing killed: no mark
    server.start()  # not after a crash: no span
    server.crash()
    server.start()
    record.faults["restarts"] += 1
    assert server.calls == ["start", "crash", "start"]
    assert work.errors == ["23P01"] and record.faults == {"kills": 2, "restarts": 1}
    data = t.to_dict("x")
    assert data["ops"] == {"SQL book": [1], "SQL cancel": [1]}
    assert data["errors"] == {"23P01": [1]}
    assert [(kind, n) for _, kind, n in data["faults"]] == [("kills", 2), ("restarts", 1)]
    assert [(name, up is not None) for _, up, name in data["down"]] == [("server", True)]
    path = t.write(tmp_path / "timeline.svg", "x")
    assert path.exists() and json.loads(path.with_suffix(".json").read_text())["ops"] == data["ops"]
