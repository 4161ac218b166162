"""The torture run's webhook receiver and its checks (issue 16).

A subscription of shop 1 points at a real receiver on loopback (harness/receiver.py,
verifying every signature with the standardwebhooks library); the service's delivery
worker sends to it while the run kills and restarts the database. The receiver misbehaves
too: bursts of 500s, answers slower than the worker's timeout, and short absences.

After the run (and the checker's drain of the change feed) the checker waits, bounded,
for the deliveries to finish, then reports:
  * missed: an acknowledged booking, change or cancellation (one the change feed announces
    to webhooks: booked, changed, cancelled) that never arrived, verified;
  * phantom: a message for a change that is not in the committed feed (a rolled-back
    booking that fired), or for a rolled-back booking's id;
  * disorder: a message of an appointment first accepted after a later version of the same
    appointment was accepted (duplicates of what was already accepted are allowed: at least once);
  * unverified: a request whose signature did not verify.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import asyncpg

from harness.receiver import WebhookReceiver

# The service's worker, set for a short run: fast retries, loopback allowed, a 1 s timeout.
SERVICE_ENV = {
    "WEBHOOK_ALLOW_PRIVATE": "1",
    "WEBHOOK_TIMEOUT": "1",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "WEBHOOK_RETRY_MAX_SECONDS": "2",
    "WEBHOOK_POLL_INTERVAL": "0.1",
}
# The same for a worker in the runner's process (a run without the service).
WORKER_SETTINGS = dict(
    webhook_allow_private=True,
    webhook_timeout=1.0,
    webhook_retry_base_seconds=0.2,
    webhook_retry_max_seconds=2.0,
    webhook_poll_interval=0.1,
)
KINDS = ("booked", "changed", "cancelled")
SETTLE_SECONDS = 90.0  # at most this long after the run for the backlog to drain


@dataclass
class WebhookResult:
    expected: int = 0
    received: int = 0
    missed: int = 0
    phantom: int = 0
    disorder: int = 0
    unverified: int = 0
    faults: dict[str, int] = field(default_factory=lambda: {"failures": 0, "slow": 0, "absences": 0})
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missed or self.phantom or self.disorder or self.unverified)

    def line(self) -> str:
        f = self.faults
        return (
            f"webhooks {self.received} received for {self.expected} acknowledged changes "
            f"({f['failures']} failure bursts, {f['slow']} slow spells, {f['absences']} absences): "
            f"{self.missed} missed, {self.phantom} phantom, {self.disorder} out of order, {self.unverified} unverified"
        )


async def subscribe(url: str, receiver: WebhookReceiver) -> None:
    conn = await asyncpg.connect(url)
    try:
        secret = await conn.fetchval("SELECT secret FROM booking.create_webhook(1, $1)", receiver.url)
        receiver.secrets.append(secret)
    finally:
        await conn.close()


async def misbehave(receiver: WebhookReceiver, rng: random.Random, deadline: float, result: WebhookResult) -> None:
    """Until the deadline: every few seconds a burst of 500s, a slow spell (past the
    worker's 1 s timeout), or an absence (connections refused), then back to normal."""
    while time.monotonic() < deadline - 3:
        await asyncio.sleep(rng.uniform(2.0, 5.0))
        kind = rng.choice(("failures", "slow", "absences"))
        result.faults[kind] += 1
        if kind == "failures":
            receiver.fail_next(rng.randint(1, 5))
        elif kind == "slow":
            receiver.delay(1.5)
            await asyncio.sleep(rng.uniform(1.0, 2.5))
            receiver.delay(0)
        else:
            await asyncio.to_thread(receiver.stop)
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            await asyncio.to_thread(receiver.start)
    receiver.fail_next(0)
    receiver.delay(0)


async def check(url: str, record, receiver: WebhookReceiver, result: WebhookResult) -> WebhookResult:
    """After the checker drained the feed: wait for the backlog, then compare."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + SETTLE_SECONDS
        while await conn.fetchval("SELECT count(*) FROM booking.webhook_deliveries WHERE status <> 'delivered'"):
            if time.monotonic() > deadline:
                result.details.append("webhooks: deliveries still pending after the settle time")
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(0.5)
        committed = {
            (r["appointment_id"], r["version"]): r["kind"]
            for r in await conn.fetch(
                "SELECT DISTINCT appointment_id, version, kind FROM booking.appointment_events WHERE kind = ANY($1)",
                list(KINDS),
            )
        }
    finally:
        await conn.close()

    accepted: dict[str, float] = {}  # message id -> first acceptance
    for r in receiver.received:
        result.received += 1
        if not r.verified:
            result.unverified += 1
            result.details.append(f"webhooks: {r.message_id} did not verify")
            continue
        if 200 <= r.status < 300:
            accepted.setdefault(r.message_id, r.at)

    acked = record.acked_books
    wanted = {key for key, kind in committed.items() if kind == "booked" and key[0] in acked}
    for change in record.acked_changes:
        key = (change["id"], change["version"])
        if key in committed:
            wanted.add(key)
    result.expected = len(wanted)
    for appt_id, version in sorted(wanted):
        if f"evt_{appt_id}_{version}" not in accepted:
            result.missed += 1
            result.details.append(f"webhooks: evt_{appt_id}_{version} ({committed[(appt_id, version)]}) never arrived")

    rolled_back = set(record.rolled_back)
    by_appointment: dict[int, list[tuple[float, int]]] = {}
    for message_id, at in accepted.items():
        _, appt, version = message_id.split("_")
        key = (int(appt), int(version))
        if key not in committed or key[0] in rolled_back and key[0] not in record.acked_books:
            result.phantom += 1
            result.details.append(f"webhooks: {message_id} announces a change that never committed")
        by_appointment.setdefault(key[0], []).append((at, key[1]))
    for appt, arrivals in by_appointment.items():
        versions = [v for _, v in sorted(arrivals)]
        if versions != sorted(versions):
            result.disorder += 1
            result.details.append(f"webhooks: appointment {appt}'s messages were first accepted in order {versions}")
    return result
