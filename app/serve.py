"""`python -m app serve`: the HTTP service on HOST:PORT, under uvicorn with the connection
limits of app.web.server (HEADER_TIMEOUT, MAX_HEADER_BYTES, MAX_CONNECTIONS, ...; see
app/config.py). Ctrl-C (SIGINT) or SIGTERM stops it cleanly: open event streams get a few
seconds, then the app's shutdown closes the LISTEN connection and the pools."""

from __future__ import annotations

import logging

import uvicorn

from app.config import Settings
from app.web import create_app
from app.web.server import ServerLimits, guarded_protocol


def uvicorn_config(app, settings: Settings, **kw) -> uvicorn.Config:
    """uvicorn's configuration for the service: the guarded protocol with the settings'
    limits, no access log of its own (app.logs writes the lines), no proxy headers (the
    proxy in front says who the client is: docs/SECURITY.md)."""
    limits = ServerLimits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_header_bytes=settings.max_header_bytes,
        max_headers=settings.max_headers,
        max_connections=settings.max_connections,
        max_body_bytes=settings.max_body_bytes,
    )
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=guarded_protocol(limits),
        lifespan="on",
        timeout_keep_alive=settings.keepalive_timeout,
        proxy_headers=False,
        log_config=None,
        log_level=settings.log_level.lower(),
        **kw,
    )


def main() -> None:
    settings = Settings.from_env()
    app = create_app(settings)
    logging.getLogger("booking").info("serving on http://%s:%s/", settings.host, settings.port)
    try:
        uvicorn.Server(uvicorn_config(app, settings, timeout_graceful_shutdown=3)).run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down for (as uvicorn.run() ignores it)
        pass
