"""Run a Litestar app's lifespan in a task of its own, or the app under a real uvicorn server
on a loopback port (imported by the HTTP tests as the top-level module `apprunner`:
tests/py/http is on sys.path, being a rootless test dir)."""

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


@asynccontextmanager
async def serving(app, *, wait: float = 10.0):
    """The app under uvicorn on 127.0.0.1 (a free port) in this event loop, once its LISTEN
    connection is up; yields the base URL. For what ASGITransport cannot do: an endless
    SSE stream, a real browser."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        await asyncio.wait_for(app.state.events.listening.wait(), wait)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
