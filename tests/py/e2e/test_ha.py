"""`python -m app ha`: a pg_auto_failover formation (a monitor, a primary and a synchronous
standby, docs/RELIABILITY.md) served by a real `python -m app serve` over its multi-host URL.

One test, in the order an operator would meet it: bookings are acknowledged once the standby
has them; with the standby down the primary goes on alone (wait_primary) and `ha status`
reports the async window that covers a booking acknowledged meanwhile, exactly as the docs
say; the standby comes back and the window closes; then the primary's machine is lost (its
keeper and PostgreSQL SIGKILLed), the monitor promotes the standby, and the service, never
restarted, books on the new primary (503 with Retry-After meanwhile, never a 500) and says in
/health which node is primary; every acknowledged booking is there. Needs pg_auto_failover
(`make test` installs it: scripts/bootstrap.sh --with-pgtap); about a minute.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from app.ha import HACluster
from harness import ROOT
from harness.service import ServiceProcess

FAILOVER_TIMEOUT = 10  # seconds: a lost machine fails over in about 2 of them


def ha(*args: str, timeout: float = 300) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "app", "ha", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def field(status: str, key: str) -> list[list[str]]:
    return [line.split()[1:] for line in status.splitlines() if line.split() and line.split()[0] == key]


def test_synchronous_standby_async_window_and_failover():
    directory = Path(tempfile.mkdtemp(prefix="bkhat-", dir="/tmp"))
    directory.chmod(0o755)
    cluster = HACluster(directory)
    service = None
    try:
        status = ha("up", "--dir", str(directory), "--failover-timeout", str(FAILOVER_TIMEOUT))
        url = field(status, "url")[0][0]
        assert url == cluster.url() and "target_session_attrs=read-write" in url and url.count(",") == 1
        primary = cluster.primary()
        (standby,) = [n for n in cluster.nodes if n != primary.name]
        assert field(status, "primary")[0][:2] == [primary.name, primary.address]
        assert field(status, "sync")[0][0] == "on"  # synchronous_standby_names names the standby

        with psycopg.connect(url, autocommit=True) as conn:
            barber = conn.execute(
                "INSERT INTO booking.barbers (name, timezone) VALUES ('Ha', 'UTC') RETURNING id"
            ).fetchone()[0]
            conn.execute("INSERT INTO booking.services (name, duration_minutes) VALUES ('Haircut', 30)")
        service = ServiceProcess(url, users=[1], env={"LOG_LEVEL": "WARNING"})
        service.start()
        client = httpx.Client(base_url=service.base, headers={"Authorization": f"Bearer {service.tokens[1]}"})
        day = datetime.now(UTC).date() + timedelta(days=30)
        slots = iter(f"{h:02d}:{m:02d}" for h in range(6, 22) for m in (0, 30))

        def book(key: str | None = None) -> httpx.Response:
            body = {"barber_id": barber, "service": "Haircut", "booking_date": day.isoformat()}
            headers = {"Idempotency-Key": key} if key else {}
            return client.post("/appointments", json={**body, "booking_time": next(slots)}, headers=headers, timeout=30)

        acknowledged = []
        made = book()
        assert made.status_code == 201, made.text
        acknowledged.append(made.json()["id"])
        assert client.get("/health").json()["primary"] == primary.address

        # The standby stops: the monitor lets the primary go on alone (wait_primary), and a
        # booking acknowledged then is in an async window that `ha status` reports.
        cluster.stop(standby)
        cluster.wait(lambda: cluster.primary() and cluster.primary().reported == "wait_primary", "wait_primary", 90)
        alone = book()
        assert alone.status_code == 201, alone.text
        acknowledged.append(alone.json()["id"])
        status = ha("status", "--dir", str(directory))
        assert field(status, "sync")[0][0] == "async", status
        window = field(status, "async-window")[-1]
        assert window[0] == primary.name and window[2] == "open", status

        cluster.start(standby)
        cluster.wait_stable(120)
        status = ha("status", "--dir", str(directory))
        node, start, end, _ = field(status, "async-window")[-1]
        assert node == primary.name and end != "open", status
        with psycopg.connect(cluster.node_url(primary.name), autocommit=True) as conn:
            committed = conn.execute(
                "SELECT pg_xact_commit_timestamp(xmin) FROM booking.appointments WHERE id = %s", (alone.json()["id"],)
            ).fetchone()[0]
        assert datetime.fromisoformat(start) <= committed <= datetime.fromisoformat(end), (committed, status)

        # The primary's machine is lost: the standby is promoted, the service finds it.
        lost = primary.name
        killed = time.monotonic()
        cluster.kill(lost)
        answers = []
        key = "after-the-loss"
        while time.monotonic() - killed < 120:
            try:
                r = client.post(
                    "/appointments",
                    json={
                        "barber_id": barber,
                        "service": "Haircut",
                        "booking_date": day.isoformat(),
                        "booking_time": "23:00",
                    },
                    headers={"Idempotency-Key": key},
                    timeout=30,
                )
            except httpx.HTTPError as e:  # the service itself must not go away
                raise AssertionError(f"the service did not answer: {e!r}") from e
            answers.append(r.status_code)
            if r.status_code == 201:
                acknowledged.append(r.json()["id"])
                break
            assert r.status_code == 503 and r.headers["Retry-After"], r.text
            assert r.json()["code"] == "database_unavailable", r.text
            time.sleep(0.5)
        assert answers[-1] == 201, answers
        new = cluster.primary()
        assert new.name == standby, new
        assert client.get("/health").json()["primary"] == new.address
        print(f"failover: first booking {time.monotonic() - killed:.1f} s after the kill, answers {answers}")

        cluster.start(lost)  # the machine is back: it rejoins as the standby
        cluster.wait_stable(120)
        status = ha("status", "--dir", str(directory))
        assert field(status, "primary")[0][0] == standby and field(status, "sync")[0][0] == "on", status
        with psycopg.connect(url, autocommit=True) as conn:
            found = {r[0] for r in conn.execute("SELECT id FROM booking.appointments").fetchall()}
        assert set(acknowledged) <= found, (acknowledged, found)
    finally:
        if service:
            service.stop()
        if cluster.config_file.exists():
            subprocess.run(
                [sys.executable, "-m", "app", "ha", "down", "--dir", str(directory)],
                cwd=ROOT,
                capture_output=True,
                timeout=120,
                check=False,
            )
        for name in ("monitor", "node1", "node2"):
            cluster.kill(name)
        shutil.rmtree(directory, ignore_errors=True)
