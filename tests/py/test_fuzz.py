"""API fuzzing: schemathesis generates requests from the service's own OpenAPI schema (its
paths, query and header parameters and JSON bodies: app/openapi.py) and sends them,
authenticated as an admin, to a real `python -m app serve` on a loopback port. No response
may be a 5xx, and every response must match what the schema documents: status, content type
(problem documents are application/problem+json) and body."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from torture.http_clients import Service

ROOT = Path(__file__).resolve().parents[2]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(database_url, clean_db):
    subprocess.run([sys.executable, "-m", "app", "demo-data"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "DATABASE_URL": database_url})
    service = Service(database_url, range(1, 2))
    service.start()
    try:
        admin = subprocess.run([sys.executable, "-m", "app", "token", "create", "--user-id", "900",
                                "--role", "admin"], cwd=ROOT, check=True, capture_output=True, text=True,
                               env={**os.environ, "DATABASE_URL": database_url}).stdout.strip().splitlines()[-1]
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "st"), "run", f"{service.base}/schema/openapi.json",
             "-H", f"Authorization: Bearer {admin}",
             "--checks", "not_a_server_error,content_type_conformance,response_schema_conformance",
             "--max-examples", os.environ.get("FUZZ_EXAMPLES", "60"), "--seed", "20261125"],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
        )
    finally:
        service.stop()
    tail = "\n".join(proc.stdout.splitlines()[-40:])
    assert proc.returncode == 0, tail
    assert "generated" in tail
