"""Who a request acts for: `Authorization: Bearer <token>`, checked by the database
(booking.authenticate_token: unknown, expired, revoked, or a staff token whose user lost
the role, is 401). A Litestar dependency: a handler that declares `caller: Caller` is
authenticated before it runs; one that does not (health, metrics, the page) is open.

The token is parsed once, as RFC 7235 reads it (the scheme in any case, any run of
spaces), and that parse is the identity of the per-token write limit too (app.ratelimit):
every spelling of one token is one token. A value that cannot be a token is refused
without asking the database.
"""

from __future__ import annotations

import hashlib
import re

from litestar import Request
from litestar.di import NamedDependency, Provide

from app import reads
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


async def provide_caller(request: Request) -> Caller:
    token_hash = hashlib.sha256(bearer_token(request.headers.get("authorization")).encode("ascii")).digest()
    caller = await reads.authenticate(request.app.state.read_pool, token_hash)
    if caller is None:
        raise _unauthorized("The token is unknown, expired or revoked, or its role was withdrawn.", "invalid_token")
    return caller


def count_write(request: Request, caller: Caller) -> None:
    """One booking write of this token against RATE_LIMIT_PER_MINUTE (app.ratelimit)."""
    request.app.state.write_limiter.hit(caller.token_hash.hex())


DEPENDENCIES = {"caller": Provide(provide_caller)}
# What a handler declares to be authenticated: `caller: Authenticated`.
Authenticated = NamedDependency[Caller]
