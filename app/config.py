"""Settings of the HTTP service, read from the environment.

| variable                  | default        | meaning                                                        |
|---------------------------|----------------|----------------------------------------------------------------|
| DATABASE_URL              | (required)     | postgresql:// URL the service connects with                    |
| HOST                      | 127.0.0.1      | address `python -m app serve` listens on                       |
| PORT                      | 8000           | port `python -m app serve` listens on                          |
| DB_ROLE                   | booking_app    | role every pooled connection runs as (SET ROLE at connect);    |
|                           |                | empty = the login role of DATABASE_URL                         |
| DB_POOL_MIN               | 2              | asyncpg pool: connections kept open                            |
| DB_POOL_MAX               | 20             | asyncpg pool of the booking calls: most connections at once    |
| DB_READ_POOL_MAX          | 10             | asyncpg pool of the reads (authentication, appointments, free  |
|                           |                | slots, listings, the change feed): most connections at once    |
| READ_STATEMENT_TIMEOUT    | 2.0            | seconds PostgreSQL lets one read of the service run, then      |
|                           |                | cancels it (statement_timeout of the read pool; -> 503)        |
| TEMP_FILE_LIMIT           | 256MB          | temp_file_limit of the service's sessions (set when the login  |
|                           |                | is a superuser; otherwise the role default of sql/grants.sql); |
|                           |                | empty = leave the server's setting                             |
| LOG_LEVEL                 | INFO           | logging level (DEBUG shows each layer's decision, logger       |
|                           |                | "booking")                                                     |
| LOG_FORMAT                | json           | json: one JSON object per line (ts, level, logger, message,    |
|                           |                | fields); text: plain lines for reading in a terminal           |
| HEALTH_TIMEOUT            | 1.5            | seconds `SELECT 1` may take before /health answers 503         |
| PURGE_INTERVAL            | 3600           | seconds between purges of expired idempotency keys and of      |
|                           |                | change-feed events past the operator's retention policy        |
|                           |                | (booking.retention_policy; 0 = never)                          |
| ENABLE_DOUBLE_BOOKING_PREVENTION | true    | false turns off the application-side layers (advisory lock,    |
|                           |                | retries); the database's trigger and constraint stay on        |
| ADVISORY_LOCK_TIMEOUT     | 5              | seconds a booking waits for its barber's slot lock (-> 503)    |
| MAX_RETRY_ATTEMPTS        | 3              | retries after the first attempt for transient failures         |
| INITIAL_RETRY_DELAY       | 0.1            | seconds before the first retry                                 |
| MAX_RETRY_DELAY           | 1.0            | cap of one retry delay, in seconds                             |
| BACKOFF_FACTOR            | 2.0            | each retry delay is this many times the previous one           |
| IDEMPOTENCY_KEY_TTL_HOURS | 24             | hours an idempotency key is kept (the database keeps >= 24)    |
| MAX_IN_FLIGHT             | 64             | requests that may use the database at once; more wait up to    |
|                           |                | QUEUE_TIMEOUT, then get 503 + Retry-After (no pile-up)         |
| QUEUE_TIMEOUT             | 1.0            | seconds a request over MAX_IN_FLIGHT waits for its turn        |
| RATE_LIMIT_PER_MINUTE     | 120            | booking requests (POST, PATCH) per token per minute, then 429  |
|                           |                | with Retry-After; 0 = no limit                                 |
| MAX_BODY_BYTES            | 16384          | largest request body; a larger one gets 413                    |
| BODY_TIMEOUT              | 10             | seconds to receive a whole request body, else 408; read before |
|                           |                | the request takes one of the MAX_IN_FLIGHT places              |
| HEADER_TIMEOUT            | 10             | seconds from a connection (or a next request's first byte) to  |
|                           |                | its complete headers, else 408 and close                       |
| KEEPALIVE_TIMEOUT         | 5              | seconds an idle kept-alive connection stays open               |
| MAX_HEADER_BYTES          | 16384          | request line and headers, else 431 (a URL over half: 414)      |
| MAX_HEADERS               | 100            | headers of one request, else 431                               |
| MAX_CONNECTIONS           | 1000           | open connections; one more gets 503 + Retry-After and is       |
|                           |                | closed                                                         |
| MAX_STREAMS               | 500            | open event streams of the process, then 503 + Retry-After      |
| MAX_STREAMS_PER_TOKEN     | 4              | open event streams of one token, then 429 + Retry-After        |
| TOKEN_CACHE_SECONDS       | 30             | how long the service may reuse a token's check; a revocation   |
|                           |                | empties the cache at once (NOTIFY booking_tokens); at worst    |
|                           |                | this long after (app.web.auth); 0 = ask the database each time |
| STREAM_RECHECK_SECONDS    | 15             | how often open event streams re-check their tokens (and send a |
|                           |                | keep-alive); a revoked token's stream ends within this         |
| WEBHOOK_DELIVERY          | true           | run the webhook delivery worker in this process (several       |
|                           |                | processes share the work: a delivery is claimed by one);       |
|                           |                | false = `python -m app deliver` runs it                        |
| WEBHOOK_TIMEOUT           | 10             | seconds a webhook POST may take (connect to last byte)         |
| WEBHOOK_RETRY_BASE_SECONDS| 5              | a failed delivery is tried again after base * 2^(attempts-1)   |
| WEBHOOK_RETRY_MAX_SECONDS | 3600           | seconds (at most this), times a random 0.5 to 1                |
| WEBHOOK_HORIZON_SECONDS   | 259200         | a delivery failing this long after its first attempt is dead,  |
|                           |                | and its subscription disabled (README, "Webhooks")             |
| WEBHOOK_POLL_INTERVAL     | 0.5            | seconds between looks for due deliveries when none were due    |
| WEBHOOK_CONCURRENCY       | 16             | webhook POSTs in flight at once per process                    |
| WEBHOOK_ALLOW_PRIVATE     | false          | allow webhook URLs whose host is loopback or a private address |
|                           |                | (refused otherwise, at creation and at each delivery)          |
| CHANGE_FEED_RELAY         | true           | run the change feed's relay in this process (one process of    |
|                           |                | those running leads, the others stand by); false = another     |
|                           |                | process runs it (`python -m app relay`)                        |
| CHANGE_FEED_STREAM        | true           | in mode logical, stream the slot over a replication connection |
|                           |                | (needs a login with REPLICATION); false, or when that is not   |
|                           |                | possible: poll it through the SQL interface                    |
| CHANGE_FEED_POLL_INTERVAL | 0.1            | seconds the relay waits after a poll that found little (mode   |
|                           |                | outbox, or not streaming)                                      |
| CHANGE_FEED_BATCH         | 10000          | changes one relay call reads at most (whole transactions)      |
| CHANGE_FEED_STANDBY_SECONDS | 1.0          | how often a standby process tries to take over the relay       |
| CORS_ALLOW_ORIGINS        | (empty)        | comma-separated origins allowed to call the API from a browser |
|                           |                | (e.g. https://shop.example); empty = CORS closed (no           |
|                           |                | Access-Control-Allow-Origin for any origin)                    |
| CONFLICT_MODEL            | var/conflict-  | the conflict model's file (`python -m app learn train` writes  |
|                           | model.joblib   | it; relative to the checkout): availability with               |
|                           |                | ?predict=true marks likely_to_go_soon from it; no file = no    |
|                           |                | marks; empty = never (docs/LEARNING.md)                        |

The tuning names are the contract's (section 4), in upper case.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

TUNING_DEFAULTS: dict[str, float | int] = {
    "advisory_lock_timeout": 5.0,
    "max_retry_attempts": 3,
    "initial_retry_delay": 0.1,
    "max_retry_delay": 1.0,
    "backoff_factor": 2.0,
    "idempotency_key_ttl_hours": 24,
}


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class Settings:
    """The service's settings (the table above)."""

    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    db_role: str | None = "booking_app"
    db_pool_min: int = 2
    db_pool_max: int = 20
    log_level: str = "INFO"
    health_timeout: float = 1.5
    purge_interval: float = 3600.0
    db_read_pool_max: int = 10
    read_statement_timeout: float = 2.0
    temp_file_limit: str = "256MB"
    enable_double_booking_prevention: bool = True
    rate_limit_per_minute: int = 120
    max_body_bytes: int = 16384
    cors_allow_origins: tuple[str, ...] = ()
    max_in_flight: int = 64
    queue_timeout: float = 1.0
    body_timeout: float = 10.0
    header_timeout: float = 10.0
    keepalive_timeout: float = 5.0
    max_header_bytes: int = 16384
    max_headers: int = 100
    max_connections: int = 1000
    max_streams: int = 500
    max_streams_per_token: int = 4
    stream_recheck_seconds: float = 15.0
    token_cache_seconds: float = 30.0
    change_feed_relay: bool = True
    change_feed_stream: bool = True
    change_feed_poll_interval: float = 0.1
    change_feed_batch: int = 10000
    change_feed_standby_seconds: float = 1.0
    webhook_delivery: bool = True
    webhook_timeout: float = 10.0
    webhook_retry_base_seconds: float = 5.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_horizon_seconds: float = 259200.0
    webhook_poll_interval: float = 0.5
    webhook_concurrency: int = 16
    webhook_allow_private: bool = False
    conflict_model: str = "var/conflict-model.joblib"
    tuning: Mapping[str, float | int] = field(default_factory=lambda: dict(TUNING_DEFAULTS))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if env is None else env
        url = overrides.pop("database_url", None) or env.get("DATABASE_URL")
        if not url:
            raise SystemExit("DATABASE_URL is not set")
        values: dict = {"database_url": url}
        simple = {
            "host": ("HOST", str),
            "port": ("PORT", int),
            "db_pool_min": ("DB_POOL_MIN", int),
            "db_pool_max": ("DB_POOL_MAX", int),
            "log_level": ("LOG_LEVEL", str),
            "health_timeout": ("HEALTH_TIMEOUT", float),
            "purge_interval": ("PURGE_INTERVAL", float),
            "db_read_pool_max": ("DB_READ_POOL_MAX", int),
            "read_statement_timeout": ("READ_STATEMENT_TIMEOUT", float),
            "enable_double_booking_prevention": ("ENABLE_DOUBLE_BOOKING_PREVENTION", _bool),
            "rate_limit_per_minute": ("RATE_LIMIT_PER_MINUTE", int),
            "max_body_bytes": ("MAX_BODY_BYTES", int),
            "max_in_flight": ("MAX_IN_FLIGHT", int),
            "queue_timeout": ("QUEUE_TIMEOUT", float),
            "body_timeout": ("BODY_TIMEOUT", float),
            "header_timeout": ("HEADER_TIMEOUT", float),
            "keepalive_timeout": ("KEEPALIVE_TIMEOUT", float),
            "max_header_bytes": ("MAX_HEADER_BYTES", int),
            "max_headers": ("MAX_HEADERS", int),
            "max_connections": ("MAX_CONNECTIONS", int),
            "max_streams": ("MAX_STREAMS", int),
            "max_streams_per_token": ("MAX_STREAMS_PER_TOKEN", int),
            "stream_recheck_seconds": ("STREAM_RECHECK_SECONDS", float),
            "token_cache_seconds": ("TOKEN_CACHE_SECONDS", float),
            "change_feed_relay": ("CHANGE_FEED_RELAY", _bool),
            "change_feed_stream": ("CHANGE_FEED_STREAM", _bool),
            "change_feed_poll_interval": ("CHANGE_FEED_POLL_INTERVAL", float),
            "change_feed_batch": ("CHANGE_FEED_BATCH", int),
            "change_feed_standby_seconds": ("CHANGE_FEED_STANDBY_SECONDS", float),
            "webhook_delivery": ("WEBHOOK_DELIVERY", _bool),
            "webhook_timeout": ("WEBHOOK_TIMEOUT", float),
            "webhook_retry_base_seconds": ("WEBHOOK_RETRY_BASE_SECONDS", float),
            "webhook_retry_max_seconds": ("WEBHOOK_RETRY_MAX_SECONDS", float),
            "webhook_horizon_seconds": ("WEBHOOK_HORIZON_SECONDS", float),
            "webhook_poll_interval": ("WEBHOOK_POLL_INTERVAL", float),
            "webhook_concurrency": ("WEBHOOK_CONCURRENCY", int),
            "webhook_allow_private": ("WEBHOOK_ALLOW_PRIVATE", _bool),
            "cors_allow_origins": ("CORS_ALLOW_ORIGINS", lambda v: tuple(o.strip() for o in v.split(",") if o.strip())),
        }
        if "CONFLICT_MODEL" in env:
            values["conflict_model"] = env["CONFLICT_MODEL"].strip()
        for name, (var, conv) in simple.items():
            if env.get(var, "") != "":
                try:
                    values[name] = conv(env[var])
                except ValueError as e:
                    raise SystemExit(f"{var}: {e}") from None
        if "TEMP_FILE_LIMIT" in env:
            values["temp_file_limit"] = env["TEMP_FILE_LIMIT"].strip()
        if "DB_ROLE" in env:
            values["db_role"] = env["DB_ROLE"] or None
        tuning = dict(TUNING_DEFAULTS)
        for name, default in TUNING_DEFAULTS.items():
            var = name.upper()
            if env.get(var, "") != "":
                try:
                    tuning[name] = type(default)(env[var])
                except ValueError:
                    raise SystemExit(f"{var} must be a number, not {env[var]!r}") from None
        values["tuning"] = tuning
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        values.update(overrides)
        for name in (
            "body_timeout",
            "header_timeout",
            "keepalive_timeout",
            "stream_recheck_seconds",
            "max_header_bytes",
            "max_headers",
            "max_connections",
            "max_streams",
            "max_streams_per_token",
            "change_feed_poll_interval",
            "change_feed_batch",
            "change_feed_standby_seconds",
            "webhook_timeout",
            "webhook_retry_base_seconds",
            "webhook_retry_max_seconds",
            "webhook_poll_interval",
            "webhook_concurrency",
        ):
            if name in values and not values[name] > 0:
                raise SystemExit(f"{name.upper()} must be a positive number")
        if not values.get("token_cache_seconds", 0) >= 0:
            raise SystemExit("TOKEN_CACHE_SECONDS must be 0 (off) or a positive number of seconds")
        if not 0 <= values.get("webhook_horizon_seconds", 0) <= 365 * 86400:
            raise SystemExit("WEBHOOK_HORIZON_SECONDS must be 0 to 31536000 (365 days)")
        if not 0 < values.get("webhook_timeout", 1) <= 600:
            raise SystemExit("WEBHOOK_TIMEOUT must be more than 0 and at most 600 seconds")
        if values.get("webhook_retry_base_seconds", 5) > values.get("webhook_retry_max_seconds", 3600):
            raise SystemExit("WEBHOOK_RETRY_BASE_SECONDS must not exceed WEBHOOK_RETRY_MAX_SECONDS")
        if not values.get("read_statement_timeout", 1) > 0:
            raise SystemExit("READ_STATEMENT_TIMEOUT must be a positive number of seconds")
        return cls(**values)
