"""Logging: one JSON object per line (LOG_FORMAT=json, the default) or plain text.

Every line has ts, level, logger and message; whatever a call passes in `extra=` is added
as fields. Nothing here logs tokens, hashes or notes: callers never pass them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


FORMATS = ("json", "text")


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Raises ValueError, saying what is accepted, for an unknown format or level."""
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be json or text (got {fmt!r})")
    if not isinstance(logging.getLevelName(level.strip().upper()), int):
        raise ValueError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL (got {level!r})")
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.strip().upper())
    logging.getLogger("yoyo").setLevel(logging.WARNING)  # one line per migration step is noise
