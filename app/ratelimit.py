"""The per-token limit on booking writes (RATE_LIMIT_PER_MINUTE), keyed on the
authenticated identity: the SHA-256 of the bearer token as app.http.authenticate parsed it,
after the database accepted it. Every spelling of one token (`Bearer T`, `bearer T`,
`BEARER  T`) is one identity with one budget: the previous limiter keyed on the raw
Authorization header, and an attack (issue 11) got a fresh budget with each spelling,
720 writes in 2.5 s from one token.

A moving window of one minute, from the `limits` library, in memory: per process, so N
service processes allow N times the limit (docs/SECURITY.md says what the proxy adds).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute, storage, strategies

from app import metrics


class TooManyRequests(Exception):
    def __init__(self, limit: int, retry_after: int):
        super().__init__(f"More than {limit} booking requests a minute with this token; retry after {retry_after} s.")
        self.limit = limit
        self.retry_after = retry_after


class WriteLimiter:
    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._item = RateLimitItemPerMinute(per_minute) if per_minute > 0 else None
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def hit(self, identity: str) -> None:
        """Count one booking write of `identity`; TooManyRequests when over the limit."""
        if self._item is None:
            return
        if not self._limiter.hit(self._item, "booking-writes", identity):
            reset = self._limiter.get_window_stats(self._item, "booking-writes", identity).reset_time
            metrics.RATE_LIMITED.inc()
            raise TooManyRequests(self.per_minute, max(1, min(60, math.ceil(reset - time.time()))))
