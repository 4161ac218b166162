"""`PARTITIONS=2 make run`, as a user runs it (contract section 6): the make target creates
a cluster (a PL/Proxy proxy and two partitions, each its own PostgreSQL), loads the demo data
through the proxy, serves HTTP and prints demo tokens; the printed client token books; the
status command lists the nodes; Ctrl-C stops the service. The cluster lives in a temporary
CLUSTER_DIR and is stopped and removed afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from harness import ROOT
from harness.net import free_port


def test_partitions_make_run_serves_the_api_over_a_cluster():
    cluster_dir = Path(tempfile.mkdtemp(prefix="bkrun-", dir="/tmp"))
    cluster_dir.chmod(0o755)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PARTITIONS="2", CLUSTER_DIR=str(cluster_dir), PORT=str(port), LOG_FORMAT="json", LOG_LEVEL="WARNING")
    log = cluster_dir / "make-run.log"
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = httpx.get(f"{base}/health", timeout=2)
                if answer.status_code == 200 and answer.json().get("partitions"):
                    health = answer.json()
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        output = log.read_text(errors="replace")
        assert health is not None, output[-3000:]
        assert health["partitions"] == [{"partition": 0, "status": "ok"}, {"partition": 1, "status": "ok"}]

        lines = output.splitlines()
        token = lines[lines.index(next(line for line in lines if line.startswith("client token"))) + 1]
        barbers = httpx.get(f"{base}/barbers", headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
        alice = next(b for b in barbers["barbers"] if b["name"] == "Alice")
        day = datetime.now(UTC).date() + timedelta(days=30)
        while day.isoweekday() == 7:
            day += timedelta(days=1)
        made = httpx.post(
            f"{base}/appointments",
            json={
                "barber_id": alice["id"],
                "service": "Haircut",
                "booking_date": day.isoformat(),
                "booking_time": "10:00",
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert made.status_code == 201, made.text
        assert made.json()["shop_id"] == 1

        status = subprocess.run(
            [".venv/bin/python", "-m", "app", "cluster", "status", "--dir", str(cluster_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert [line.split(" ")[0] for line in status.stdout.splitlines()] == ["proxy", "partition", "partition"]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        subprocess.run(
            [".venv/bin/python", "-m", "app", "cluster", "down", "--dir", str(cluster_dir)],
            cwd=ROOT,
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(cluster_dir, ignore_errors=True)
