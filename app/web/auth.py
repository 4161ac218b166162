"""Who a request acts for: `Authorization: Bearer <token>`, checked by the database
(booking.authenticate_token: unknown, expired, revoked, or a staff token whose user lost
the role, is 401). A Litestar dependency: a handler that declares `caller: Caller` is
authenticated before it runs; one that does not (health, metrics, the page) is open.

The token is parsed once, as RFC 7235 reads it (the scheme in any case, any run of
spaces), and that parse is the identity of the per-token write limit too (app.ratelimit):
every spelling of one token is one token. A value that cannot be a token is refused
without asking the database.

**The token cache** (TOKEN_CACHE_SECONDS, default 30; 0 = off) keeps the answer for a token
that was valid, so a request does not spend a round trip on it. It serves only while the
event hub's LISTEN connection is up, and empties on every `booking_tokens` notification
(sent at commit by any UPDATE/DELETE of booking.api_tokens or booking.staff:
booking.announce_token_change) and whenever that connection is lost or restored. An entry
lives at most TOKEN_CACHE_SECONDS and never past the token's expiry. A fill that started
before a notification is not stored (the cache's generation moved). So a revoked token, or
one whose user lost the staff role, is refused as soon as the notification reaches the
process (milliseconds after the commit; tests/py/http/test_token_cache.py); at worst (a
connection lost without a sign) TOKEN_CACHE_SECONDS after the change. Unknown and refused
tokens are never cached.
"""

from __future__ import annotations

import hashlib
import re
import time

from litestar import Request
from litestar.di import NamedDependency, Provide

from app import metrics, reads
from app.records import Caller
from app.web.problems import ProblemError

# RFC 7235: credentials = auth-scheme 1*SP token68; our tokens are 43 such characters.
_AUTHORIZATION_RE = re.compile(r"\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]+([A-Za-z0-9._~+/-]+=*)\s*")


def _unauthorized(detail: str, error: str | None = None) -> ProblemError:
    challenge = 'Bearer realm="booking"' + (f', error="{error}"' if error else "")
    return ProblemError(401, "unauthorized", "Unauthorized", detail, {"WWW-Authenticate": challenge})


def bearer_token(header: str | None) -> str:
    if not header:
        raise _unauthorized("Send Authorization: Bearer <token>.")
    m = _AUTHORIZATION_RE.fullmatch(header)
    if not m or m.group(1).lower() != "bearer":
        raise _unauthorized("The Authorization header must be: Bearer <token>.", "invalid_request")
    if len(m.group(2)) > 256:
        raise _unauthorized("The token is unknown, expired or revoked.", "invalid_token")
    return m.group(2)


class TokenCache:
    """Valid callers by token hash, for at most `seconds`, only while `active` (see above)."""

    CHANNEL = "booking_tokens"

    def __init__(self, seconds: float, max_entries: int = 10_000):
        self.seconds = seconds
        self.max_entries = max_entries
        self.active = False
        self.generation = 0
        self._entries: dict[bytes, tuple[float, Caller]] = {}

    def clear(self, _payload: str = "") -> None:
        self.generation += 1
        self._entries.clear()

    def listening(self, up: bool) -> None:
        """The LISTEN connection came up or went down: what was cached may have missed a
        notification either way."""
        self.active = up
        self.clear()

    def get(self, token_hash: bytes) -> Caller | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._entries.pop(token_hash, None)
            return None
        return entry[1]

    def put(self, caller: Caller, valid_until: float | None, generation: int) -> None:
        if not self.active or self.seconds <= 0 or generation != self.generation:
            return
        until = time.monotonic() + self.seconds
        if valid_until is not None:
            until = min(until, time.monotonic() + (valid_until - time.time()))
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))  # the oldest fill
        self._entries[caller.token_hash] = (until, caller)

    def __len__(self) -> int:
        return len(self._entries)


async def provide_caller(request: Request) -> Caller:
    token_hash = hashlib.sha256(bearer_token(request.headers.get("authorization")).encode("ascii")).digest()
    cache: TokenCache = request.app.state.token_cache
    caller = cache.get(token_hash)
    if caller is not None:
        metrics.TOKEN_CACHE.labels("hit").inc()
        return caller
    metrics.TOKEN_CACHE.labels("miss").inc()
    generation = cache.generation
    found = await reads.authenticate(request.app.state.read_pool, token_hash)
    if found is None:
        raise _unauthorized("The token is unknown, expired or revoked, or its role was withdrawn.", "invalid_token")
    caller, valid_until = found
    cache.put(caller, valid_until, generation)
    return caller


def count_write(request: Request, caller: Caller) -> None:
    """One booking write of this token against RATE_LIMIT_PER_MINUTE (app.ratelimit)."""
    request.app.state.write_limiter.hit(caller.token_hash.hex())


DEPENDENCIES = {"caller": Provide(provide_caller)}
# What a handler declares to be authenticated: `caller: Authenticated`.
Authenticated = NamedDependency[Caller]
