"""The form of app.booking's arguments: what can be sent to the engine at all (a whole number
that fits the SQL parameter, a string, a local date or time written as text, one of the
acting roles). Every rule about the values (a real date, a time before 24:00, buffers of 0
to 1440 minutes) is the engine's; a value of the wrong form is a ValidationError naming
the field, before any SQL runs."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

from app.errors import ValidationError

INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)
ACTING_ROLES = ("client", "barber", "admin")


def _show(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def whole_number(value: Any, field: str, bounds: tuple[int, int] = INT64) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be a whole number (got {_show(value)})", field=field)
    if not bounds[0] <= value <= bounds[1]:
        raise ValidationError(f"{field} must be from {bounds[0]} to {bounds[1]} (got {value})", field=field)
    return value


def text(value: Any, field: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string (got {_show(value)})", field=field)
    return value


def local_date(value: Any, field: str = "booking_date") -> str:
    """A local date as the engine reads it: text YYYY-MM-DD (a date is written so)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return text(value, field)


def local_time(value: Any, field: str = "booking_time") -> str:
    """A wall-clock time as the engine reads it: text HH:MM[:SS] (a time is written so)."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValidationError(f"{field} is a local time and must not carry a UTC offset", field=field)
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return text(value, field)


def role_setting(value: str | None) -> str:
    """booking.acting_role for a call: the credential's role, or '' (a trusted internal
    caller, acting with every right booking.staff gives the user)."""
    if value is None:
        return ""
    if value not in ACTING_ROLES:
        raise ValidationError(
            f"acting_role must be one of {', '.join(ACTING_ROLES)} or None (got {_show(value)})", field="acting_role"
        )
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, time):
        return local_time(value)
    raise TypeError(f"{type(value).__name__} cannot be sent as a change")


def json_changes(update_data: Any) -> str:
    """update_booking's changes as the JSON object update_appointment reads."""
    if not isinstance(update_data, dict):
        raise ValidationError("update_data must be a mapping of field names to new values", field="update_data")
    try:
        return json.dumps(update_data, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValidationError(f"update_data cannot be sent: {e}", field="update_data") from None
