"""`python -m app serve`: the HTTP service on HOST:PORT, under uvicorn with the connection
limits of app.server (HEADER_TIMEOUT, MAX_HEADER_BYTES, MAX_CONNECTIONS, ...; see
app/config.py). Ctrl-C (SIGINT) or SIGTERM stops it cleanly: open event streams get a few
seconds, then the app's shutdown closes the LISTEN connection and the pools."""

from __future__ import annotations

import logging

import uvicorn

from app.config import Settings
from app.http import create_app
from app.server import uvicorn_config


def main() -> None:
    settings = Settings.from_env()
    app = create_app(settings)
    logging.getLogger("booking").info("serving on http://%s:%s/", settings.host, settings.port)
    config = uvicorn_config(app, host=settings.host, port=settings.port, limits=settings.server_limits,
                            keepalive_timeout=settings.keepalive_timeout, log_level=settings.log_level.lower(),
                            timeout_graceful_shutdown=3)
    uvicorn.Server(config).run()
