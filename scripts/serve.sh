#!/usr/bin/env bash
# make run: migrate, load demo data (prints demo tokens), then serve HTTP on HOST:PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must be set}"
PY=.venv/bin/python
# A person reads these logs in a terminal; a deployment keeps the default, JSON lines.
export LOG_FORMAT="${LOG_FORMAT:-text}"
$PY -m app migrate
$PY -m app demo-data
exec $PY -m app serve
