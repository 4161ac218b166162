"""The opaque cursor of GET /appointments: where the next page starts.

A page ends with an appointment; the next one starts after its key (start_time, id), the
order booking.list_appointments pages in. The cursor is that key, written
`<microseconds since 1970-01-01T00:00:00Z>.<id>` and encoded base64url without padding:
clients pass it back unchanged and never read it. Anything that does not decode to such a
key is a 422 validation_error naming `cursor`, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta

from app.errors import ValidationError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
INT64_MAX = 2**63 - 1
_KEY = re.compile(r"(-?\d{1,18})\.(\d{1,19})")
_ALPHABET = re.compile(r"[A-Za-z0-9_-]{1,64}")


def encode(start_time: datetime, appointment_id: int) -> str:
    """The cursor of the page after the appointment with this key."""
    micros = (start_time - EPOCH) // MICROSECOND
    return base64.urlsafe_b64encode(f"{micros}.{appointment_id}".encode("ascii")).rstrip(b"=").decode("ascii")


def decode(cursor: str) -> tuple[datetime, int]:
    """The key a cursor names, or ValidationError."""
    if _ALPHABET.fullmatch(cursor):
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        except (binascii.Error, ValueError):
            text = ""
        m = _KEY.fullmatch(text)
        if m and 1 <= int(m.group(2)) <= INT64_MAX:
            try:
                return EPOCH + int(m.group(1)) * MICROSECOND, int(m.group(2))
            except OverflowError:  # a time outside the years 1 to 9999
                pass
    raise ValidationError(
        f"cursor must be a next_cursor this API answered (got {cursor[:40]!r}).",
        field="cursor",
    )
