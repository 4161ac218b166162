"""Run a Litestar app's lifespan in a task of its own (imported by the HTTP tests as the
top-level module `apprunner`: tests/py/http is on sys.path, being a rootless test dir)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager


@asynccontextmanager
async def running(app):
    """The app's lifespan, entered and left in one task of its own (its anyio cancel scope
    must be exited by the task that entered it; pytest fixtures may switch tasks)."""
    started, stop = asyncio.Event(), asyncio.Event()
    failure: list[BaseException] = []

    async def run():
        try:
            async with app.lifespan():
                started.set()
                await stop.wait()
        except BaseException as e:  # surfaced to the fixture
            failure.append(e)
            started.set()

    task = asyncio.create_task(run())
    await started.wait()
    if failure:
        raise failure[0]
    try:
        yield app
    finally:
        stop.set()
        await task
