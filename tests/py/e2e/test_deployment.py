"""The deployment docs/SECURITY.md describes, tested as it stands: deploy/nginx.conf in front
of a real service process, both on loopback (only the LISTEN and UPSTREAM addresses are
replaced). Bookings and event streams pass through; the proxy's own refusals are problems
like the service's; slow and idle clients are cut off by the proxy's deadlines.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from harness import ROOT
from harness.net import free_port
from harness.service import ServiceProcess

CONFIG = ROOT / "deploy" / "nginx.conf"


@pytest.fixture
async def deployment(database_url, shop, tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is not installed: scripts/bootstrap.sh --with-pgtap installs it"
    service = ServiceProcess(
        database_url, users=range(1, 3), log_dir=tmp_path, env={"RATE_LIMIT_PER_MINUTE": "0", "PURGE_INTERVAL": "0"}
    )
    await asyncio.to_thread(service.start)
    port = free_port()
    text = CONFIG.read_text()
    text = re.sub(r"server 127\.0\.0\.1:\d+;(\s*# UPSTREAM)", rf"server 127.0.0.1:{service.port};\1", text)
    text = re.sub(r"listen 127\.0\.0\.1:\d+;(\s*# LISTEN)", rf"listen 127.0.0.1:{port};\1", text)
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    (prefix / "nginx.conf").write_text(text)
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    proc = subprocess.Popen(
        [nginx, "-c", str(prefix / "nginx.conf"), "-p", str(prefix), "-g", directives],
        stdout=subprocess.DEVNULL,
        stderr=open(prefix / "stderr.log", "wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (prefix / "stderr.log").read_text()
            await asyncio.sleep(0.1)
        yield {"base": base, "port": port, "service": service, "nginx": proc}
    finally:
        proc.terminate()
        proc.wait(10)
        await asyncio.to_thread(service.stop)


def problem(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    assert r.json()["code"] == code


async def test_bookings_and_event_streams_pass_through_the_proxy(deployment, shop, day):
    token = {"Authorization": f"Bearer {deployment['service'].tokens[1]}"}
    async with httpx.AsyncClient(base_url=deployment["base"], timeout=10) as c:
        async with c.stream("GET", f"/barbers/{shop.other_barber}/events", headers=token) as stream:
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            assert (await anext(lines)).startswith(": connected")
            r = await c.post(
                "/appointments",
                headers=token,
                json={
                    "barber_id": shop.other_barber,
                    "service": "Haircut",
                    "booking_date": day.isoformat(),
                    "booking_time": "10:00",
                },
            )
            assert r.status_code == 201, r.text

            async def first_event():
                async for line in lines:
                    if line.startswith("data:"):
                        return line

            assert str(r.json()["id"]) in await asyncio.wait_for(first_event(), 3)  # unbuffered


async def test_the_proxys_refusals_are_problems(deployment, shop):
    async with httpx.AsyncClient(base_url=deployment["base"], timeout=10) as c:
        problem(
            await c.post("/appointments", content=b"x" * 20000, headers={"Content-Type": "application/json"}),
            413,
            "payload_too_large",
        )
        problem(await c.get("/health", headers={"X-Big": "a" * 9000}), 431, "request_header_fields_too_large")
        burst = await asyncio.gather(*(c.get("/health") for _ in range(120)))
        assert {r.status_code for r in burst} == {200, 429}
        problem(next(r for r in burst if r.status_code == 429), 429, "too_many_requests")


async def test_idle_and_slow_clients_are_cut_off_by_the_proxy(deployment):
    def idle_until_closed(payload: bytes) -> float:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", deployment["port"]), timeout=30) as s:
            if payload:
                s.sendall(payload)
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:  # reset_timedout_connection: closed with a RST
                pass
        return time.monotonic() - started

    # Nothing at all; a head never finished; a body that stops after one byte.
    waited = await asyncio.gather(
        asyncio.to_thread(idle_until_closed, b""),
        asyncio.to_thread(idle_until_closed, b"GET /health HTTP/1.1\r\nHost: t\r\n"),
        asyncio.to_thread(
            idle_until_closed,
            b"POST /appointments HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        ),
    )
    assert all(9 <= w < 20 for w in waited), waited  # client_header_timeout / client_body_timeout 10 s


async def test_the_proxy_answers_503_when_the_service_is_down(deployment):
    await asyncio.to_thread(deployment["service"].stop)
    async with httpx.AsyncClient(base_url=deployment["base"], timeout=10) as c:
        r = await c.get("/health")
        problem(r, 503, "service_unavailable")
        assert r.headers["retry-after"]
