"""HTTP clients for the torture run: a real `python -m app serve` process on a loopback
port (harness.service), clients that book, reschedule and cancel through it with Idempotency-Key and
If-Match, retrying (with the same key) on 503 and lost connections as a careful client
would, and a watcher of /health (it must turn 503 during a crash and 200 again after).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid

import httpx

from harness.service import ServiceProcess


class HttpWorkload:
    def __init__(
        self, service: ServiceProcess, work, record, rng: random.Random, deadline: float, *, health_status=False
    ):
        """health_status: the /health trail records the body's status (ok, degraded: a cluster's
        partition down) when the answer is 200, instead of 200."""
        self.service = service
        self.health_status = health_status
        self.work = work  # the SQL workload: shares slots, barbers and acknowledged ids
        self.record = record
        self.rng = rng
        self.deadline = deadline
        self.health: list[int | str] = []

    def note(self, code: str) -> None:
        self.record.errors[code] = self.record.errors.get(code, 0) + 1

    async def send(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        user: int,
        *,
        json=None,
        headers=None,
        attempts: int = 6,
    ) -> httpx.Response | None:
        """A careful client: retries 503 and lost connections, with the same headers (key)."""
        headers = {"Authorization": f"Bearer {self.service.tokens[user]}", **(headers or {})}
        for attempt in range(attempts):
            try:
                response = await client.request(method, path, json=json, headers=headers, timeout=10)
            except httpx.HTTPError:
                self.note("http_connection_lost")
                await asyncio.sleep(0.05 * 2**attempt)
                continue
            if response.status_code == 503:
                self.count_partition_answer(response)
            if response.status_code == 503 and attempt < attempts - 1:
                self.note("http_503")
                await asyncio.sleep(min(float(response.headers.get("Retry-After", "1")), 0.5))
                continue
            return response
        return None

    def count_partition_answer(self, response: httpx.Response) -> None:
        """A 503 of a cluster's proxy: BK015 shop_moving or BK016 partition_unavailable, counted."""
        if not response.headers.get("content-type", "").startswith("application/problem+json"):
            return
        try:
            code = str(response.json().get("code"))
        except ValueError:
            return
        if code in self.record.partition_answers:
            self.record.partition_answers[code] += 1

    def record_problem(self, response: httpx.Response) -> None:
        if response.status_code >= 500 and response.status_code != 503:
            self.note(f"http_{response.status_code}")  # never documented
        elif response.headers.get("content-type", "").startswith("application/problem+json"):
            self.note(str(response.json().get("code")))
        else:
            self.note(f"http_{response.status_code}")

    async def client(self) -> None:
        async with httpx.AsyncClient(base_url=self.service.base) as client:
            while time.monotonic() < self.deadline:
                self.record.ops += 1
                roll = self.rng.random()
                if roll < 0.6:
                    await self.book(client)
                elif roll < 0.85:
                    await self.reschedule(client)
                else:
                    await self.cancel(client)

    async def book(self, client) -> None:
        user = self.rng.choice(list(self.service.tokens))
        start = self.work.slot()
        barber = self.work.pick_barber()
        body = {
            "barber_id": barber,
            "service": self.rng.choice(["Haircut", "Beard Trim"]),
            "booking_date": start.date().isoformat(),
            "booking_time": start.strftime("%H:%M"),
        }
        key = str(uuid.uuid4())
        response = await self.send(client, "POST", "/appointments", user, json=body, headers={"Idempotency-Key": key})
        if response is None:
            self.record.unknown_outcomes += 1
            return
        if response.status_code == 201:
            appt = response.json()
            self.record.key_results.setdefault(f"user:{user}:{key}", set()).add(appt["id"])
            if appt["id"] not in self.record.acked_books:
                self.record.acked_books[appt["id"]] = {
                    "id": appt["id"],
                    "barber_id": appt["barber_id"],
                    "user_id": user,
                    "version": appt["version"],
                    "http": True,
                }
                self.work.open_ids.append(appt["id"])
        else:
            self.record_problem(response)

    def own_appointment(self) -> dict | None:
        mine = [a for a in self.record.acked_books.values() if a.get("http") and a["id"] in self.work.open_ids]
        return self.rng.choice(mine) if mine else None

    async def reschedule(self, client) -> None:
        appt = self.own_appointment()
        if appt is None:
            return
        path = f"/appointments/{appt['id']}"
        current = await self.send(client, "GET", path, appt["user_id"])
        if current is None or current.status_code != 200:
            if current is not None:
                self.record_problem(current)
            return
        start = self.work.slot()
        response = await self.send(
            client,
            "PATCH",
            path,
            appt["user_id"],
            json={"booking_date": start.date().isoformat(), "booking_time": start.strftime("%H:%M")},
            headers={"If-Match": current.headers["ETag"]},
        )
        self.take_change(response)

    async def cancel(self, client) -> None:
        appt = self.own_appointment()
        if appt is None:
            return
        response = await self.send(client, "POST", f"/appointments/{appt['id']}/cancel", appt["user_id"])
        self.take_change(response)

    def take_change(self, response) -> None:
        if response is None:
            self.record.unknown_outcomes += 1
        elif response.status_code == 200:
            self.work.note_change(response.json())
        else:
            self.record_problem(response)

    async def watch_health(self) -> None:
        async with httpx.AsyncClient(base_url=self.service.base) as client:
            while time.monotonic() < self.deadline:
                try:
                    response = await client.get("/health", timeout=3)
                    status = response.status_code
                    if self.health_status and status == 200:
                        status = response.json().get("status", status)
                except (httpx.HTTPError, ValueError):
                    status = 0
                if not self.health or self.health[-1] != status:
                    self.health.append(status)
                await asyncio.sleep(0.2)

    async def healthy_again(self, within: float = 30) -> bool:
        async with httpx.AsyncClient(base_url=self.service.base) as client:
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                try:
                    if (await client.get("/health", timeout=2)).status_code == 200:
                        return True
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        return False
