"""`python -m app serve`: the HTTP service under uvicorn on HOST:PORT (see app.config).
Ctrl-C (SIGINT) or SIGTERM stops it cleanly: open event streams get a few seconds, then
the app's shutdown closes the LISTEN connection and the pool."""

from __future__ import annotations

import logging

import uvicorn

from app.config import Settings
from app.http import create_app


def main() -> None:
    settings = Settings.from_env()
    app = create_app(settings)
    logging.getLogger("booking").info("serving on http://%s:%s/", settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                lifespan="on", timeout_graceful_shutdown=3, proxy_headers=False,
                log_config=None)      # uvicorn's lines go through app.logs like every other
