"""The torture runner's short version, and proof that its checker can fail."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.py.support import at, future_day
from torture.checker import check
from torture.runner import Record, health_trail

ROOT = Path(__file__).resolve().parents[3]


def test_short_torture_run_finds_no_violation():
    """25 s of load with kills, crash-restarts, lock timeouts and slow clients."""
    duration = os.environ.get("TORTURE_TEST_DURATION", "25")
    proc = subprocess.run(
        [sys.executable, "-m", "torture.runner", "--duration", duration, "--workers", "8", "-v"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(proc.stdout, proc.stderr)
    summary = [line for line in proc.stdout.splitlines() if line.startswith("torture: ") and " ops, " in line]
    assert summary, proc.stdout + proc.stderr
    assert proc.returncode == 0, summary[0]
    assert " 0 overlaps, 0 lost acks, 0 duplicate keys, 0 lost updates, 0 undocumented errors" in summary[0]
    assert "restarts" in summary[0] and not summary[0].startswith("torture: 0 ops")


def test_short_partitioned_torture_run_finds_no_violation():
    """`make torture PARTITIONS=N`, short: 2 partitions behind the proxy, a partition crashed and
    restarted several times (a different one each time) and a shop moved, under load."""
    duration = os.environ.get("TORTURE_TEST_DURATION", "25")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torture.runner",
            "--partitions",
            "2",
            "--duration",
            duration,
            "--workers",
            "6",
            "--http-workers",
            "2",
            "-v",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(proc.stdout, proc.stderr)
    summary = [line for line in proc.stdout.splitlines() if line.startswith("torture: ") and " ops, " in line]
    assert summary, proc.stdout + proc.stderr
    assert proc.returncode == 0, summary[0]
    assert (
        " 0 overlaps, 0 lost acks, 0 duplicate keys, 0 lost updates, 0 undocumented errors, 0 misplaced rows"
        in summary[0]
    )
    crashes = re.search(r"(\d+) partition crashes", summary[0])
    assert crashes and int(crashes.group(1)) >= 2, summary[0]  # during the load, and the last one
    # the move may fail when a small fault terminates its session: it is tried again
    assert re.search(r" 1 shop move( \(\d failed\))?,", summary[0]), summary[0]
    assert not summary[0].startswith("torture: 0 ops")
    cluster = re.search(r"cluster of 2 partitions in (\S+)", proc.stderr)
    assert cluster and not Path(cluster.group(1)).exists(), "the cluster's directory was not removed"


async def test_checker_reports_planted_violations(clean_db, make_barber, make_service):
    """With the trigger and the constraint removed (inside a rolled-back transaction), an
    overlap, a lost acknowledgement, a duplicate key and a version gap are all reported."""
    barber = await make_barber()
    await make_service()
    day = future_day()
    async with clean_db.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            await conn.execute("SELECT booking.open_outbox_change_feed()")  # the feed inside this transaction
            await conn.execute("ALTER TABLE booking.appointments DISABLE TRIGGER appointments_check_overlap")
            await conn.execute("ALTER TABLE booking.appointments DROP CONSTRAINT appointments_no_overlap")
            ids = [
                await conn.fetchval(
                    """INSERT INTO booking.appointments (barber_id, user_id, service_name, start_time, duration_minutes)
                       VALUES ($1, 1, 'Haircut', $2, 30) RETURNING id""",
                    barber,
                    at(day, 10, minute),
                )
                for minute in (0, 15)
            ]
            # a change whose event is missing: version 2 with no event for version 2
            await conn.execute("ALTER TABLE booking.appointments DISABLE TRIGGER appointments_stage_change")
            await conn.execute("UPDATE booking.appointments SET notes = 'x' WHERE id = $1", ids[0])
            record = Record()
            record.acked_books = {ids[0]: {}, ids[1]: {}, 999_999: {}}
            record.key_results = {"k": {ids[0], ids[1]}}
            record.errors = {"XX999": 1}
            result = await check(conn, record)
        finally:
            await tr.rollback()
    assert result.overlaps == 1
    assert result.lost_acks == 1
    assert result.duplicate_keys == 1
    assert result.lost_updates == 1
    assert result.undocumented_errors == 1
    assert not result.ok


def test_the_health_trail_folds_repeated_outages():
    assert health_trail([200, 503, 200, 503, 200, 503, 200]) == "200>(503>200)x3"
    assert health_trail([200, 503, 200]) == "200>503>200"
    assert health_trail([200, 503]) == "200>503"
    assert health_trail([]) == "never answered"
