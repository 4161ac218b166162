"""Rewrite the generated blocks of README.md from their sources, so the README never drifts:

    .venv/bin/python scripts/update-readme.py

  <!-- errors-table -->              sql/errors.csv
  <!-- config-table -->              the table in app/config.py's docstring
  <!-- status-transitions-table -->  sql/status_transitions.csv

tests/py/unit/test_docs.py fails when a block differs from what this script would write.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def errors_table() -> str:
    with (ROOT / "sql" / "errors.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    lines = ["| SQLSTATE | name | HTTP | message |", "|---|---|---|---|"]
    lines += [f"| {r['sqlstate']} | {r['name']} | {r['http_status']} | {r['message']} |" for r in rows]
    return "\n".join(lines)


def config_table() -> str:
    doc = (ROOT / "app" / "config.py").read_text(encoding="utf-8").split('"""')[1]
    return "\n".join(line for line in doc.splitlines() if line.startswith("|"))


def status_transitions_table() -> str:
    with (ROOT / "sql" / "status_transitions.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    who = {"client": "the client who booked it, its barber, an admin", "staff": "its barber or an admin"}
    lines = ["| from | to | who may |", "|---|---|---|"]
    lines += [f"| `{r['from_status']}` | `{r['to_status']}` | {who[r['allowed_to']]} |" for r in rows]
    finals = sorted({r["to_status"] for r in rows} - {r["from_status"] for r in rows})
    lines += [
        "",
        "Final (nothing about the appointment changes any more): " + ", ".join(f"`{s}`" for s in finals) + ".",
    ]
    return "\n".join(lines)


BLOCKS = {
    "errors-table": errors_table,
    "config-table": config_table,
    "status-transitions-table": status_transitions_table,
}


def rewrite(text: str) -> str:
    for name, make in BLOCKS.items():
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = f"{head}{begin}\n{make()}\n{end}{tail}"
    return text


if __name__ == "__main__":
    path = ROOT / "README.md"
    old = path.read_text(encoding="utf-8")
    new = rewrite(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
        print("README.md: generated blocks rewritten")
    sys.exit(0)
