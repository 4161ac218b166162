"""The one error gateway between the database and the rest of the project (the model is
procrastinate's `wrap_exceptions`): every asyncpg call of the service, app.booking and the
tools goes through `translate()` (or the `database_errors()` context manager), which turns
what the database raised into the project's exception (app.errors), and `is_transient()`,
the one place that decides whether trying the same request again may succeed.

| the database raised                                 | becomes                          | transient |
|-----------------------------------------------------|----------------------------------|-----------|
| a SQLSTATE of the error catalogue (23P01, BK0xx...) | its class (BookingConflictError) | 40001 only|
| 40P01 deadlock                                      | DeadlockDetectedError (503)      | yes       |
| 57014 statement timeout, 53xxx resources            | ServiceUnavailableError (503)    | no        |
| class 08, 57P01-03, a lost or refused connection    | DatabaseUnavailableError (503)   | yes       |
| 25006 read-only transaction (a standby answered)    | DatabaseUnavailableError (503)   | yes       |
| class 22, class 23 outside the catalogue            | InvalidInputError (422)          | no        |
| a value asyncpg cannot send (an int over 64 bits,   | InvalidInputError (422, 22003,   | no        |
| a lone surrogate, a wrong type)                     | 22021, 22P02)                    |           |
| anything else                                       | itself: a real fault (500)       | no        |

A lost connection is transient, but a retry is safe only when the statement never reached
the server (`never_sent()`: no connection could be made, the pooled one was already closed,
a standby refused the write) or when the operation is safe to repeat (an idempotency key):
a connection lost during COMMIT leaves the outcome unknown (app.booking decides).

PostgreSQL's DETAIL of a constraint violation prints the whole failing row (notes
included): only the rule's name is passed on. PostgreSQL's own texts are cut to 200
characters (they may quote the input).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from app import metrics
from app.errors import (
    CATALOGUE,
    ERROR_CLASSES,
    BookingError,
    DatabaseUnavailableError,
    DeadlockDetectedError,
    InvalidInputError,
    ServiceUnavailableError,
)

MAX_ECHO = 200
_SERVER_LIMITS = {
    "57014": ("statement_timeout", "The database took too long to answer; retry shortly"),
    "53000": ("insufficient_resources", "The database is short of resources; retry shortly"),
    "53100": ("disk_full", "The database is short of disk space; retry later"),
    "53200": ("out_of_memory", "The database is short of memory; retry shortly"),
    "53300": ("too_many_connections", "The database has no connection free; retry shortly"),
    "53400": ("resource_limit", "The request needed more of the database than one request may use"),
}
_INPUT_MESSAGES = {
    "22021": "The input contains a character that is not allowed (such as a null byte) or is not valid UTF-8",
    "22P05": "The input contains a character that is not allowed (such as a null byte \\u0000)",
    "22P02": "A value has the wrong form",
    "22003": "A number is out of range",
    "22008": "A date or time is out of range (for example 2026-02-30 or 25:00)",
    "22007": "A date or time has the wrong format",
    "23514": "A value breaks a rule of the data (check constraint)",
    "23502": "A required value is missing",
}
_CONNECTION_STATES = ("57P01", "57P02", "57P03")
# Added (BaseException.add_note) to an error raised before a statement was sent: taking a
# connection from the pool failed (app.booking).
NOT_SENT = "booking: nothing was sent (no connection to the database could be had)"


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_ECHO:
        return text
    return text[:MAX_ECHO] + f"... ({len(text)} characters)"


def _is_connection_loss(exc: BaseException) -> bool:
    # InternalClientError: a connection that broke mid-statement and was then asked to roll
    # back ("another operation is in progress"), seen when the server is killed under load.
    return isinstance(
        exc,
        (
            asyncpg.PostgresConnectionError,
            asyncpg.ConnectionDoesNotExistError,
            asyncpg.exceptions.ConnectionFailureError,
            asyncpg.InternalClientError,
            asyncpg.CannotConnectNowError,
            ConnectionError,
            OSError,
            asyncio.TimeoutError,
        ),
    ) or (isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc))


def translate(exc: BaseException) -> BaseException:
    """The project's exception for what the database (or asyncpg) raised; `exc` itself when
    it is none of ours to name (a real fault)."""
    if isinstance(exc, BookingError):
        return exc
    if isinstance(exc, (OverflowError, UnicodeEncodeError)) or isinstance(
        exc.__cause__, (OverflowError, UnicodeEncodeError, TypeError, ValueError)
    ):
        return _unsendable(exc)  # asyncpg refused to send it: nothing reached the server
    sqlstate = getattr(exc, "sqlstate", None) or ""
    detail, hint = getattr(exc, "detail", None), getattr(exc, "hint", None)
    own = getattr(exc, "message", None)
    if sqlstate in ERROR_CLASSES:
        # The catalogue's message always; PostgreSQL's own wording (the exclusion
        # constraint's "conflicting key value ...", lock_timeout's "canceling statement
        # ...") goes to the detail when there is no other.
        if not detail and own and own != CATALOGUE[sqlstate]["message"]:
            detail = own
        return ERROR_CLASSES[sqlstate](detail=detail, hint=hint)  # the engine's DETAILs cap what they echo
    if sqlstate == "40P01":
        return DeadlockDetectedError(detail=_cut(own))
    if sqlstate in _SERVER_LIMITS:
        name, message = _SERVER_LIMITS[sqlstate]
        error = ServiceUnavailableError(message, detail=_cut(own), sqlstate=sqlstate)
        error.name = name
        return error
    if sqlstate.startswith("08") or sqlstate in _CONNECTION_STATES or (not sqlstate and _is_connection_loss(exc)):
        return DatabaseUnavailableError(detail="The booking database did not answer; try again shortly.")
    if sqlstate == "25006":  # a connection to a server that became a standby: nothing was written
        return DatabaseUnavailableError(detail="The database server that answered is read-only; try again shortly.")
    if sqlstate.startswith("23"):
        constraint = getattr(exc, "constraint_name", None)
        return InvalidInputError(
            _INPUT_MESSAGES.get(sqlstate, "A value breaks a rule of the data"),
            sqlstate=sqlstate,
            hint=hint,
            detail=f"The value breaks the rule {constraint}." if constraint else None,
        )
    if sqlstate.startswith("22"):
        return InvalidInputError(
            _INPUT_MESSAGES.get(sqlstate, "Invalid input"), sqlstate=sqlstate, hint=hint, detail=_cut(detail or own)
        )
    return exc


def _unsendable(exc: BaseException) -> InvalidInputError:
    if isinstance(exc, UnicodeEncodeError) or isinstance(exc.__cause__, UnicodeEncodeError):
        return InvalidInputError(
            _INPUT_MESSAGES["22021"], sqlstate="22021", detail="A text is not valid Unicode (a lone surrogate)."
        )
    state = "22003" if isinstance(exc, OverflowError) or isinstance(exc.__cause__, OverflowError) else "22P02"
    return InvalidInputError(_INPUT_MESSAGES[state], detail=_cut(str(exc)), sqlstate=state)


def is_transient(exc: BaseException) -> bool:
    """Whether the same request may succeed when tried again: a serialization failure, a
    deadlock, a lost connection. Never a conflict, a version mismatch or a lock timeout."""
    return getattr(translate(exc), "transient", False)


def never_sent(exc: BaseException) -> bool:
    """Whether the failure proves that the statement did not reach the server (or changed
    nothing there): no connection could be made (refused; every host of a multi-host URL a
    standby; the server starting up), the connection was closed before the call, or a
    standby refused the write (25006). A connection lost any later leaves the outcome unknown."""
    if NOT_SENT in getattr(exc, "__notes__", ()):
        return True
    if isinstance(
        exc,
        (ConnectionRefusedError, asyncpg.CannotConnectNowError, asyncpg.exceptions.TargetServerAttributeNotMatched),
    ):
        return True
    if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
        return True
    return getattr(exc, "sqlstate", None) == "25006"


def transient_reason(exc: BaseException) -> str | None:
    """A label for the metrics: serialization_failure, deadlock_detected, connection_lost."""
    error = translate(exc)
    if not getattr(error, "transient", False):
        return None
    return "connection_lost" if isinstance(error, DatabaseUnavailableError) else error.name


@contextmanager
def database_errors() -> Iterator[None]:
    """Raise the project's exception for whatever the database raises inside."""
    try:
        yield
    except BookingError:
        raise
    except Exception as exc:
        translated = translate(exc)
        if translated is exc:
            raise
        if translated.sqlstate == "BK016":  # a cluster's partition did not answer the proxy
            found = _PARTITION_RE.search(translated.detail or "")
            metrics.PARTITION_UNAVAILABLE.labels(found.group(1) if found else "unknown").inc()
        raise translated from exc


_PARTITION_RE = re.compile(r"^Partition (\d+) ")
