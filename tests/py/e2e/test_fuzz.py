"""API fuzzing: schemathesis generates requests from the service's own OpenAPI schema (made
by Litestar from the handlers' types: app/web/bodies.py, app/records.py) and sends them,
authenticated as an admin, to a real `python -m app serve` on a loopback port. No response
may be a 5xx, and every response must match what the schema documents: status, content type
(problem documents are application/problem+json) and body. The event stream is left out:
its answer never ends (each request would wait for the timeout); its refusals are tested in
tests/py/http/test_http_events.py and tests/py/e2e/test_attacks.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.service import ServiceProcess

ROOT = Path(__file__).resolve().parents[3]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(database_url, clean_db):
    subprocess.run(
        [sys.executable, "-m", "app", "demo-data"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": database_url},
    )
    service = ServiceProcess(database_url, users=range(1, 2))
    service.start()
    try:
        admin = (
            subprocess.run(
                [sys.executable, "-m", "app", "token", "create", "--user-id", "900", "--role", "admin"],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "DATABASE_URL": database_url},
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        proc = subprocess.run(
            [
                str(Path(sys.executable).parent / "st"),
                "run",
                f"{service.base}/schema/openapi.json",
                "-H",
                f"Authorization: Bearer {admin}",
                "--checks",
                "not_a_server_error,content_type_conformance,response_schema_conformance",
                "--max-examples",
                os.environ.get("FUZZ_EXAMPLES", "60"),
                "--seed",
                "20261125",
                "--exclude-path-regex",
                "/events$",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        service.stop()
    tail = "\n".join(proc.stdout.splitlines()[-40:])
    assert proc.returncode == 0, tail
    assert "generated" in tail
