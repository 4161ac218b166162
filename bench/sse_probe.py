"""Subscribes to barbers' Server-Sent Events streams and measures how late each event
arrives: the time it is read here minus its created_at (the booking's commit time, from the
WAL in mode logical; its transaction's start in mode outbox, which only adds to the figure).
Same machine, same clock.

    python -m bench.sse_probe BASE TOKEN SECONDS BARBER...   -> one JSON line on stdout:
    {"events": n, "p50_ms": .., "p99_ms": .., "max_ms": .., "streams": k}
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import datetime

import httpx


async def subscribe(client: httpx.AsyncClient, barber: int, token: str, lags: list[float], stop: asyncio.Event):
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with client.stream("GET", f"/barbers/{barber}/events", headers=headers) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            if stop.is_set():
                return
            if line.startswith("data: "):
                now = time.time()
                event = json.loads(line[6:])
                created = datetime.fromisoformat(event["created_at"].replace("Z", "+00:00")).timestamp()
                lags.append((now - created) * 1000.0)


async def main(base: str, token: str, seconds: float, barbers: list[int]) -> dict:
    lags: list[float] = []
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=len(barbers) + 2)
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10, read=None), limits=limits) as client:
        tasks = [asyncio.create_task(subscribe(client, b, token, lags, stop)) for b in barbers]
        print("ready", file=sys.stderr, flush=True)
        await asyncio.sleep(seconds)
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    lags.sort()

    def pct(p):
        return round(lags[min(len(lags) - 1, round(p / 100 * (len(lags) - 1)))], 1) if lags else None

    return {"events": len(lags), "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": pct(100), "streams": len(barbers)}


if __name__ == "__main__":
    base, token, seconds, *barbers = sys.argv[1:]
    print(json.dumps(asyncio.run(main(base, token, float(seconds), [int(b) for b in barbers]))))
