"""The benchmark harness works (tiny mode, a few seconds; no timing is asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_bench_harness_runs_in_tiny_mode(database_url):
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--mode", "tiny", "--only", "uncontended,flash"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**__import__("os").environ, "DATABASE_URL": database_url},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    table = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    variants = {line.split("|")[2].strip() for line in table[1:]}
    assert {"bare INSERT", "raw INSERT", "book_appointment", "book_appointment + key"} <= variants, proc.stdout
    assert "conflicts (23P01)" in proc.stdout, proc.stdout


def test_the_service_scenario_measures_only_answers_that_booked(database_url):
    """The service and the minimal ASGI app each answer every wrk request with 201: a
    baseline that fails fast (it once sent the wrong number of arguments and answered 500,
    while wrk's failure count was always 0) would otherwise look faster than the service."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--mode", "tiny", "--only", "service", "--rounds", "1", "--seconds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "DATABASE_URL": database_url},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Service scenario: ran." in proc.stdout, proc.stdout
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| service, ")]
    http = [r for r in rows if "(wrk)" in r.split("|")[2]]
    assert len(http) == 2 and all("all 201" in r for r in http), proc.stdout
