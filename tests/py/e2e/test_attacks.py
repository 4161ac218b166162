"""An attacker's suite against a real `python -m app serve` process on loopback (issue 11).

Each test is one attack the review ran, bounded in time and size, and fails on the service
as it was: slow bodies that held every in-flight place, idle and trickling connections that
were never closed, unbounded headers, the limits of event streams, spellings of one token
that each had a fresh rate-limit budget, non-JSON bodies, requests refused below the app in
text/plain. The limits are set small (HEADER_TIMEOUT=1, BODY_TIMEOUT=1, MAX_IN_FLIGHT=4,
...) so that each attack shows its effect in a second or two.
"""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import date, timedelta

import httpx
import pytest

from harness.service import ServiceProcess

LIMITS = {
    "HEADER_TIMEOUT": "1",
    "BODY_TIMEOUT": "1",
    "MAX_IN_FLIGHT": "4",
    "QUEUE_TIMEOUT": "0.5",
    "MAX_CONNECTIONS": "40",
    "MAX_HEADER_BYTES": "8192",
    "MAX_HEADERS": "50",
    "MAX_STREAMS": "5",
    "MAX_STREAMS_PER_TOKEN": "2",
    "STREAM_RECHECK_SECONDS": "1",
    "RATE_LIMIT_PER_MINUTE": "6",
    "KEEPALIVE_TIMEOUT": "1",
    "PURGE_INTERVAL": "0",
}


@pytest.fixture
async def service(database_url, shop, tmp_path):
    """The service in a process of its own, with the limits above; tokens of users 1 and 2."""
    svc = ServiceProcess(database_url, users=range(1, 3), log_dir=tmp_path, env=LIMITS)
    await asyncio.to_thread(svc.start)
    try:
        yield svc
    finally:
        await asyncio.to_thread(svc.stop)


def auth(service, user: int = 1) -> dict:
    return {"Authorization": f"Bearer {service.tokens[user]}"}


def problem_of(raw: bytes) -> tuple[int, dict]:
    import json

    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/problem+json" in head.lower(), raw[:300]
    return status, json.loads(body)


async def read_all(reader: asyncio.StreamReader, timeout: float) -> bytes:
    try:
        return await asyncio.wait_for(reader.read(), timeout)  # to EOF: the server closed
    except TimeoutError:
        return b"<still open>"


def booking_json(shop, day: date, hhmm: str) -> dict:
    return {"barber_id": shop.other_barber, "service": "Haircut", "booking_date": day.isoformat(), "booking_time": hhmm}


async def test_slow_bodies_never_hold_the_in_flight_places(service, shop, day):
    """Twelve clients (three times MAX_IN_FLIGHT) declare a body and send it a byte at a time:
    everyone else is still served at once, and each slow one gets 408 after BODY_TIMEOUT."""
    slow = []
    for _ in range(12):
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        writer.write(
            b"POST /appointments HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Authorization: " + auth(service)["Authorization"].encode() + b"\r\nContent-Length: 200\r\n\r\n{"
        )
        await writer.drain()
        slow.append((reader, writer))

    async def trickle():
        for _ in range(10):
            for _, writer in slow:
                if not writer.is_closing():
                    writer.write(b" ")
            await asyncio.sleep(0.3)

    trickling = asyncio.create_task(trickle())
    try:
        async with httpx.AsyncClient(base_url=service.base, timeout=5) as client:
            started = time.monotonic()
            for i in range(6):
                r = await client.post(
                    "/appointments", json=booking_json(shop, day, f"1{i}:00"), headers=auth(service, 2)
                )
                assert r.status_code == 201, r.text
            assert time.monotonic() - started < 3.0
        for reader, _ in slow:
            status, problem = problem_of(await read_all(reader, 5))
            assert (status, problem["code"]) == (408, "request_timeout")
    finally:
        trickling.cancel()
        for _, writer in slow:
            writer.close()


async def test_idle_and_trickling_connections_are_closed(service):
    idle = [await asyncio.open_connection("127.0.0.1", service.port) for _ in range(10)]
    trickler_reader, trickler = await asyncio.open_connection("127.0.0.1", service.port)

    async def trickle():
        for byte in b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 40:
            if trickler.is_closing():
                return
            trickler.write(bytes([byte]))
            await asyncio.sleep(0.05)

    task = asyncio.create_task(trickle())
    started = time.monotonic()
    answers = await asyncio.gather(*(read_all(r, 4) for r, _ in idle), read_all(trickler_reader, 4))
    elapsed = time.monotonic() - started
    task.cancel()
    assert elapsed < 3.5
    for raw in answers:
        assert raw != b"<still open>"
        status, problem = problem_of(raw)
        assert (status, problem["code"]) == (408, "request_timeout")
    for _, w in idle:
        w.close()
    trickler.close()


async def test_connections_beyond_the_cap_are_refused_and_health_recovers(service):
    held = [await asyncio.open_connection("127.0.0.1", service.port) for _ in range(40)]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        status, problem = problem_of(await read_all(reader, 2))
        assert (status, problem["code"]) == (503, "too_many_connections")
        writer.close()
    finally:
        for _, w in held:
            w.close()
    await asyncio.sleep(0.3)
    async with httpx.AsyncClient(base_url=service.base, timeout=5) as client:
        assert (await client.get("/health")).status_code == 200


@pytest.mark.parametrize(
    "attack, status, code",
    [
        (
            b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n",
            431,
            "request_header_fields_too_large",
        ),
        (
            b"GET /health HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(20_000)) + b"\r\n",
            431,
            "request_header_fields_too_large",
        ),
        (b"GET /" + b"a" * 1_000_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, "uri_too_long"),
        (b"GARBAGE\r\n\r\n", 400, "bad_request"),
        (
            b"POST /appointments HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
            400,
            "bad_request",
        ),
        (
            b"POST /appointments HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
            "bad_request",
        ),
    ],
    ids=["1MB-header", "20k-headers", "1MB-url", "garbage", "two-content-lengths", "length-and-chunked"],
)
async def test_requests_refused_below_the_app_are_problems(service, attack, status, code):
    def send() -> bytes:
        with socket.create_connection(("127.0.0.1", service.port), timeout=5) as s:
            try:
                s.sendall(attack)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before we finished: read the answer
            chunks = []
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)

    got_status, problem = problem_of(await asyncio.to_thread(send))
    assert (got_status, problem["code"]) == (status, code)


async def test_unfinished_huge_headers_do_not_grow_the_service(service):
    """Four connections each start a 64 MiB header and never finish it: the review saw the
    service grow from 173 to 429 MiB; now each is cut at the head limit."""

    def rss_kib() -> int:
        for line in open(f"/proc/{service.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    before = rss_kib()

    def attack() -> None:
        with socket.create_connection(("127.0.0.1", service.port), timeout=5) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Huge: ")
            try:
                for _ in range(64 * 16):
                    s.sendall(b"a" * 65536)
            except (TimeoutError, BrokenPipeError, ConnectionResetError):
                return
            raise AssertionError("the server accepted 64 MiB of one header")

    await asyncio.gather(*(asyncio.to_thread(attack) for _ in range(4)))
    assert rss_kib() - before < 32 * 1024


async def test_every_spelling_of_one_token_shares_one_rate_limit(service, shop, day):
    token = service.tokens[1]
    spellings = [f"Bearer {token}", f"bearer {token}", f"BEARER {token}", f"Bearer  {token}", f"bEaReR\t{token}"]
    statuses = []
    async with httpx.AsyncClient(base_url=service.base, timeout=5) as client:
        for i in range(12):
            r = await client.post(
                "/appointments",
                json=booking_json(shop, day + timedelta(days=i), "10:00"),
                headers={"Authorization": spellings[i % len(spellings)]},
            )
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert r.json()["code"] == "too_many_requests" and int(r.headers["retry-after"]) >= 1
    assert statuses == [201] * 6 + [429] * 6, statuses


async def test_event_streams_are_capped_per_token_and_per_process(service, shop):
    async with httpx.AsyncClient(base_url=service.base, timeout=5) as client:

        async def open_stream(user):
            cm = client.stream("GET", f"/barbers/{shop.other_barber}/events", headers=auth(service, user))
            r = await cm.__aenter__()
            return cm, r

        opened = []
        try:
            for _ in range(2):
                opened.append(await open_stream(1))
            assert [r.status_code for _, r in opened] == [200, 200]
            cm, third = await open_stream(1)
            opened.append((cm, third))
            assert third.status_code == 429 and third.headers["retry-after"]
            assert (await third.aread()) and third.headers["content-type"].startswith("application/problem+json")
            for _ in range(3):
                opened.append(await open_stream(2))
            statuses = [r.status_code for _, r in opened[3:]]
            assert statuses == [200, 200, 429], statuses  # user 2 has its own two
        finally:
            for cm, _ in opened:
                await cm.__aexit__(None, None, None)


async def test_a_stream_ends_when_its_token_is_revoked(service, shop, database_url):
    import subprocess
    import sys

    from harness import ROOT

    token = service.tokens[2]
    async with httpx.AsyncClient(base_url=service.base, timeout=10) as client:
        async with client.stream(
            "GET", f"/barbers/{shop.other_barber}/events", headers={"Authorization": f"Bearer {token}"}
        ) as r:
            assert r.status_code == 200
            lines = r.aiter_lines()
            assert (await anext(lines)).startswith(": connected")
            await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "app", "token", "revoke", "-"],
                input=token + "\n",
                text=True,
                check=True,
                cwd=ROOT,
                capture_output=True,
                env={**__import__("os").environ, "DATABASE_URL": database_url},
            )
            started = time.monotonic()

            async def drain():
                async for _ in lines:
                    pass

            await asyncio.wait_for(drain(), timeout=5)  # the server ended the stream
            assert time.monotonic() - started < 3.5  # STREAM_RECHECK_SECONDS = 1
        assert (
            await client.get(f"/barbers/{shop.other_barber}/events", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 401
