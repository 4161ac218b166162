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
