"""The service, run the way the tools and tests need it.

ServiceProcess(database_url, users=...)  `python -m app serve` as a subprocess on a loopback port
running(app)                             a Litestar app's lifespan, in a task of its own
serving(app)                             the app under uvicorn on 127.0.0.1, in this event loop
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from harness import ROOT
from harness.net import free_port

DEFAULT_ENV = {
    "RATE_LIMIT_PER_MINUTE": "0",  # no per-token limit: a workload drives one token at full speed
    "LOG_LEVEL": "WARNING",
    "DB_POOL_MAX": "10",
    "ADVISORY_LOCK_TIMEOUT": "2",
}


class ServiceProcess:
    """`python -m app serve` (or `command`, an app answering GET /health) on 127.0.0.1 (a free
    port) against `database_url`, with one client token per user id in `users`. `env` goes over DEFAULT_ENV; the log goes to log_dir/service.log
    (default test-output/)."""

    def __init__(
        self,
        database_url: str,
        *,
        env: dict[str, str] | None = None,
        log_dir: str | Path | None = None,
        users: Iterable[int] = (),
        command: tuple[str, ...] = ("-m", "app", "serve"),
    ):
        self.database_url = database_url
        self.extra_env = env or {}
        self.log_dir = Path(log_dir or ROOT / "test-output")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.log_dir / "service.log"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.users = users
        self.command = command
        self.tokens: dict[int, str] = {}
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Creates the tokens (CalledProcessError on failure), starts the service and returns once
        GET /health answers 200 (RuntimeError when it exits first, or after 30 s)."""
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            **DEFAULT_ENV,
            **self.extra_env,
        }
        for user in self.users:
            out = subprocess.run(
                [sys.executable, "-m", "app", "token", "create", "--user-id", str(user), "--role", "client"],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            self.tokens[user] = out.stdout.strip().splitlines()[-1]
        # The log goes to a file: a pipe nobody reads would fill up and stall the service.
        self.log_file = open(self.log_path, "wb")  # noqa: SIM115 - open while the service runs; stop() closes it
        self.proc = subprocess.Popen(
            [sys.executable, *self.command], env=env, cwd=ROOT, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited with status {self.proc.returncode}")
            time.sleep(0.2)
        raise RuntimeError("the service did not become healthy")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; closes the log."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.proc:
            self.log_file.close()

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the service's log ("" when there is none)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


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
        except BaseException as e:  # noqa: BLE001 - surfaced to the caller below
            failure.append(e)
            started.set()

    task = asyncio.create_task(run())
    await started.wait()
    if failure:
        raise failure[0]
    hub = getattr(app.state, "events", None)
    if hub is not None:  # serving as it would in production: listening (the token cache on)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.listening.wait(), timeout=10)
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

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
    )
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
