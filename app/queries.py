"""The named statements of sql/queries.sql (the model of procrastinate's queries.sql).

    from app.queries import QUERIES
    await conn.fetchrow(QUERIES["create_booking"], ...)

A block starts with `-- name: <name>`; the comment lines after it are its documentation
and everything up to the next block is its SQL.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.paths import QUERIES_FILE

_NAME_RE = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse_queries(text: str) -> dict[str, str]:
    queries: dict[str, str] = {}
    matches = list(_NAME_RE.finditer(text))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[m.end() : end]
        sql = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--")).strip()
        sql = sql.rstrip(";").strip()
        if not sql:
            raise ValueError(f"query {m.group(1)} in queries.sql has no SQL")
        if m.group(1) in queries:
            raise ValueError(f"query {m.group(1)} appears twice in queries.sql")
        queries[m.group(1)] = sql
    return queries


def load_queries(path: Path = QUERIES_FILE) -> dict[str, str]:
    return parse_queries(path.read_text(encoding="utf-8"))


QUERIES: dict[str, str] = load_queries()
