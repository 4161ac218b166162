"""Service logs are structured: one JSON object per line, with the call's extra fields."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from app.logs import JsonFormatter

ROOT = Path(__file__).resolve().parents[3]


def test_a_log_line_is_one_json_object_with_its_fields():
    record = logging.makeLogRecord(
        {
            "name": "booking",
            "levelno": logging.DEBUG,
            "levelname": "DEBUG",
            "msg": "layer %s decided %s",
            "args": ("lock", "wait"),
            "barber_id": 3,
            "waited_ms": 1.5,
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "DEBUG" and line["logger"] == "booking"
    assert line["message"] == "layer lock decided wait"
    assert line["barber_id"] == 3 and line["waited_ms"] == 1.5
    assert line["ts"].endswith("+00:00")


def test_the_command_line_logs_json_lines(database_url):
    proc = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "INFO", "LOG_FORMAT": "json"},
        check=True,
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert any(json.loads(line).get("message") == "migrated" for line in lines), proc.stderr
    for line in lines:
        assert isinstance(json.loads(line), dict), line


def test_the_service_logs_only_json_lines(database_url, tmp_path):
    """uvicorn's and Litestar's own lines included: nothing reformats the root logger."""
    import httpx

    from harness.service import ServiceProcess

    service = ServiceProcess(
        database_url, users=range(0), log_dir=tmp_path, env={"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}
    )
    service.start()  # returns once /health answers 200
    try:
        httpx.get(f"{service.base}/appointments/1", timeout=5)  # a 401, logged by uvicorn
    finally:
        service.stop()
    out = service.log_path.read_text()
    lines = [line for line in out.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert any(p["logger"] == "booking" and p["message"].startswith("serving on") for p in parsed), out
    assert any(p["logger"].startswith("uvicorn") for p in parsed), out


def test_an_unknown_log_format_or_level_is_refused_with_a_clear_message():
    for name, value in (("LOG_FORMAT", "yaml"), ("LOG_LEVEL", "LOUD")):
        proc = subprocess.run(
            [sys.executable, "-m", "app", "migrate"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, name: value},
        )
        assert proc.returncode != 0 and f"{name} must be" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
