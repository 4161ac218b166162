"""`python -m bench.layers`: the service, with some of its layers taken out, to measure what
each one costs (the "service layers" scenario of bench.scenarios: each variant against the
whole service, in the same run).

    BENCH_WITHOUT=latency,json_bodies python -m bench.layers

Layers (app/web/__init__.py assembles them; app/web/middleware.py says what each does):

  latency           the request-duration histogram
  admission         the body read under BODY_TIMEOUT, and the MAX_IN_FLIGHT places
  json_bodies       the strict JSON check before any handler
  security_headers  the security headers on every response
  token_cache       the token cache (TOKEN_CACHE_SECONDS=0: one query per request)

Nothing here is for production: a layer that is off is a defect the test suite would find.
The service's own code is unchanged; this module swaps the names app.web uses for
pass-throughs before the app is built.
"""

from __future__ import annotations

import os

import uvicorn

import app.web as web
from app.config import Settings
from app.serve import uvicorn_config

LAYERS = ("latency", "admission", "json_bodies", "security_headers", "token_cache")


def _passthrough(app):
    return app


async def _no_headers(message, scope) -> None:
    return None


def create(settings: Settings, without: set[str]):
    unknown = without - set(LAYERS)
    if unknown:
        raise SystemExit(f"BENCH_WITHOUT: unknown layer(s) {', '.join(sorted(unknown))}; known: {', '.join(LAYERS)}")
    if "latency" in without:
        web.latency = _passthrough
    if "json_bodies" in without:
        web.json_bodies = _passthrough
    if "admission" in without:
        web.admission = lambda **_kw: _passthrough
    if "security_headers" in without:
        web.security_headers = _no_headers
    return web.create_app(settings)


def main() -> None:
    without = {w.strip() for w in os.environ.get("BENCH_WITHOUT", "").split(",") if w.strip()}
    overrides = {"token_cache_seconds": 0.0} if "token_cache" in without else {}
    settings = Settings.from_env(**overrides)
    uvicorn.Server(uvicorn_config(create(settings, without), settings)).run()


if __name__ == "__main__":
    main()
