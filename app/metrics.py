"""Prometheus metrics of the booking service (the default prometheus_client registry).

| metric                                       | type      | labels                    |
|----------------------------------------------|-----------|---------------------------|
| booking_attempts_total                       | counter   | operation                 |
| booking_outcomes_total                       | counter   | operation, outcome        |
| booking_retries_total                        | counter   | operation, reason         |
| booking_lock_wait_seconds                    | histogram | operation                 |
| booking_constraint_violations_total          | counter   | source (trigger/constraint)|
| booking_idempotency_total                    | counter   | result (replay/miss)      |
| http_request_duration_seconds                | histogram | method, route, status     |
| booking_event_subscribers                    | gauge     |                           |
| http_requests_shed_total                     | counter   |                           |
| http_connections_refused_total               | counter   | reason                    |
| booking_event_streams_refused_total          | counter   | reason (token, process)   |
| http_rate_limited_total                      | counter   |                           |
| booking_webhook_deliveries_total             | counter   | outcome (delivered, failed, dead) |
| booking_webhook_backlog                      | gauge     | (due deliveries not delivered yet) |
| booking_webhook_backlog_age_seconds          | gauge     | (age of the oldest of them) |
| booking_webhook_subscriptions_disabled       | gauge     | (subscriptions the failure rule disabled) |
| booking_database_up                          | gauge     | (1 when the last /health or pool check reached the database) |

operation is create, update or cancel; outcome is success, replayed, or the error's name
from the catalogue (slot_conflict, version_mismatch, lock_timeout, ...). The conflict rate
is rate(booking_outcomes_total{outcome="slot_conflict"}) / rate(booking_attempts_total).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

BOOKING_ATTEMPTS = Counter("booking_attempts", "Booking operations attempted (retries not counted)", ["operation"])
BOOKING_OUTCOMES = Counter("booking_outcomes", "Booking operations by outcome", ["operation", "outcome"])
BOOKING_RETRIES = Counter("booking_retries", "Retries after a transient failure", ["operation", "reason"])
LOCK_WAIT = Histogram(
    "booking_lock_wait_seconds",
    "Time waited for the barber's advisory slot lock",
    ["operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CONSTRAINT_VIOLATIONS = Counter(
    "booking_constraint_violations", "Overlaps refused by the database (23P01), by the layer that refused", ["source"]
)
IDEMPOTENCY = Counter("booking_idempotency", "Requests with an idempotency key: replayed or new", ["result"])
REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency by route", ["method", "route", "status"]
)
EVENT_SUBSCRIBERS = Gauge("booking_event_subscribers", "Open /barbers/{id}/events streams")
SHED = Counter("http_requests_shed", "Requests answered 503 at once because MAX_IN_FLIGHT were in progress")
CONNECTIONS_REFUSED = Counter(
    "http_connections_refused", "Connections closed by the server's limits (app/web/server.py), by reason", ["reason"]
)
STREAMS_REFUSED = Counter(
    "booking_event_streams_refused",
    "Event streams refused by MAX_STREAMS_PER_TOKEN (token) or MAX_STREAMS (process)",
    ["reason"],
)
RATE_LIMITED = Counter("http_rate_limited", "Booking requests answered 429 by RATE_LIMIT_PER_MINUTE")
FEED_EVENTS = Counter("booking_change_feed_events", "Change-feed events relayed by this process")
FEED_LAG_BYTES = Gauge(
    "booking_change_feed_lag_bytes", "WAL the change feed's replication slot keeps (mode logical; -1 without a slot)"
)
FEED_PENDING = Gauge("booking_change_feed_pending_changes", "Outbox rows not relayed yet (mode outbox)")
TOKEN_CACHE = Counter(
    "booking_token_cache", "Token checks answered from the cache (hit) or the database (miss)", ["result"]
)
PARTITION_UNAVAILABLE = Counter(
    "booking_partition_unavailable",
    "Calls a cluster's partition did not answer (BK016 partition_unavailable), by partition",
    ["partition"],
)
WEBHOOK_DELIVERIES = Counter(
    "booking_webhook_deliveries", "Webhook delivery attempts by this process, by outcome", ["outcome"]
)
WEBHOOK_BACKLOG = Gauge("booking_webhook_backlog", "Webhook deliveries due and not delivered yet (all partitions)")
WEBHOOK_BACKLOG_AGE = Gauge(
    "booking_webhook_backlog_age_seconds", "Age of the oldest webhook delivery not delivered yet (0: none)"
)
WEBHOOK_DISABLED = Gauge("booking_webhook_subscriptions_disabled", "Webhook subscriptions disabled by the failure rule")
DATABASE_UP = Gauge("booking_database_up", "1 when the service's last look at the database answered, else 0")
FEED_RELAY_LEADER = Gauge("booking_change_feed_relay_leader", "1 while this process runs the change feed's relay")

METRIC_NAMES = (
    "booking_attempts_total",
    "booking_outcomes_total",
    "booking_retries_total",
    "booking_lock_wait_seconds",
    "booking_constraint_violations_total",
    "booking_idempotency_total",
    "http_request_duration_seconds",
    "http_requests_shed_total",
    "http_connections_refused_total",
    "booking_event_streams_refused_total",
    "http_rate_limited_total",
    "booking_change_feed_events_total",
    "booking_change_feed_lag_bytes",
    "booking_change_feed_pending_changes",
    "booking_change_feed_relay_leader",
    "booking_token_cache_total",
    "booking_webhook_deliveries_total",
    "booking_webhook_backlog",
    "booking_webhook_backlog_age_seconds",
    "booking_webhook_subscriptions_disabled",
    "booking_database_up",
    "booking_event_subscribers",
    "booking_partition_unavailable_total",
)


def render() -> tuple[bytes, str]:
    """The metrics in Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def _touch_known_series() -> None:
    """Create the usual label sets at 0, so every metric name is scraped from the start."""
    for result in ("hit", "miss"):
        TOKEN_CACHE.labels(result)
    for op in ("create", "update", "cancel"):
        BOOKING_ATTEMPTS.labels(op)
        for outcome in ("success", "slot_conflict", "version_mismatch", "lock_timeout"):
            BOOKING_OUTCOMES.labels(op, outcome)
        for reason in ("serialization_failure", "deadlock_detected", "connection_lost"):
            BOOKING_RETRIES.labels(op, reason)
    BOOKING_OUTCOMES.labels("create", "replayed")
    for op in ("create", "update"):
        LOCK_WAIT.labels(op)
    for source in ("trigger", "constraint"):
        CONSTRAINT_VIOLATIONS.labels(source)
    for result in ("replay", "miss"):
        IDEMPOTENCY.labels(result)
    for reason in (
        "head_timeout",
        "body_timeout",
        "header_bytes",
        "header_count",
        "url_bytes",
        "max_connections",
        "malformed",
    ):
        CONNECTIONS_REFUSED.labels(reason)
    for reason in ("token", "process"):
        STREAMS_REFUSED.labels(reason)
    for outcome in ("delivered", "failed", "dead"):
        WEBHOOK_DELIVERIES.labels(outcome)


_touch_known_series()
