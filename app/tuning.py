"""The tuning of the Python API (contract section 4): configure_booking_service() and the
configuration in force. Process-wide; the service sets it from its environment at start."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.config import TUNING_DEFAULTS

log = logging.getLogger("booking")


@dataclass(frozen=True)
class ServiceConfig:
    enable_double_booking_prevention: bool = True
    advisory_lock_timeout: float = TUNING_DEFAULTS["advisory_lock_timeout"]
    max_retry_attempts: int = TUNING_DEFAULTS["max_retry_attempts"]
    initial_retry_delay: float = TUNING_DEFAULTS["initial_retry_delay"]
    max_retry_delay: float = TUNING_DEFAULTS["max_retry_delay"]
    backoff_factor: float = TUNING_DEFAULTS["backoff_factor"]
    idempotency_key_ttl_hours: float = TUNING_DEFAULTS["idempotency_key_ttl_hours"]
    # Called as before_sleep(operation, attempt_number, delay_seconds, exception) before
    # each retry's sleep (tests and logs use it to see the delays).
    before_retry_sleep: Callable[[str, int, float, BaseException], None] | None = field(default=None, compare=False)


_config = ServiceConfig()


def configure_booking_service(enable_double_booking_prevention: bool = True, **tuning: Any) -> ServiceConfig:
    """Set the service's tuning for every later call; returns the configuration in force.

    Names and defaults: advisory_lock_timeout=5 (seconds), max_retry_attempts=3,
    initial_retry_delay=0.1, max_retry_delay=1.0, backoff_factor=2.0,
    idempotency_key_ttl_hours=24; also before_retry_sleep (a hook, see ServiceConfig).
    Unspecified names return to their defaults. An unknown name raises TypeError.
    """
    global _config
    allowed = set(TUNING_DEFAULTS) | {"before_retry_sleep"}
    unknown = set(tuning) - allowed
    if unknown:
        raise TypeError(
            f"configure_booking_service() got unknown tuning name(s): {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(allowed))}"
        )
    for name, value in tuning.items():
        if name == "before_retry_sleep":
            if value is not None and not callable(value):
                raise TypeError("before_retry_sleep must be callable or None")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number >= 0, not {value!r}")
    if "max_retry_attempts" in tuning and int(tuning["max_retry_attempts"]) != tuning["max_retry_attempts"]:
        raise ValueError("max_retry_attempts must be a whole number")
    if tuning.get("advisory_lock_timeout", 1) <= 0:
        raise ValueError("advisory_lock_timeout must be > 0 seconds")
    _config = ServiceConfig(enable_double_booking_prevention=bool(enable_double_booking_prevention), **tuning)
    log.debug("booking service configured: %s", _config)
    return _config


def current_config() -> ServiceConfig:
    return _config
